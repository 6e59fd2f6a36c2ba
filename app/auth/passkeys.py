"""Passkeys in staff sign-in: options and answers for registering one, signing in, stepping
up before the actions that matter most, and unlocking the private key with a passkey's PRF
output (crypto/SPEC.md 8.12). The browser side is app/static/js/staff-passkeys.js."""

from __future__ import annotations

import re
import time
from typing import Any

from flask import Response, abort, jsonify, render_template, request, session, url_for
from flask_login import logout_user

from app.auth import puzzles
from app.auth.blueprint import bp
from app.auth.guards import staff_required, step_up_required
from app.extensions import db
from app.json_input import b64, bytes_field, json_body, text_field
from app.models import SessionPrincipal, StaffPasskey
from app.rate_limit import RateLimited
from app.roles import Permission
from app.services import audit, passkeys, proof_of_work, staff_accounts, staff_sessions, throttle
from app.services.passkeys import PasskeyRefused, RelyingParty
from app.state import candor
from crypto.keys import PASSKEY_PRF_INPUT

MAX_CREDENTIAL_JSON = 16 * 1024
# "/x", never "//host" or "/\host", which browsers read as another site.
_LOCAL_PATH = re.compile(r"/(?![/\\])[^\s\\]{0,500}")


def relying_party() -> RelyingParty:
    rp = RelyingParty.from_config(candor().config)
    if rp is None:
        abort(404, description="Passkeys are not set up on this installation (the operator "
                               "sets CANDOR_WEBAUTHN_RP_ID and CANDOR_WEBAUTHN_ORIGIN).")
    return rp


def credential_field(data: dict[str, Any], name: str = "credential") -> dict[str, Any]:
    """A PublicKeyCredential as JSON (base64url fields), as the page sends it; nothing else
    is read from it than the library reads."""
    value = data.get(name)
    if not isinstance(value, dict) or len(str(value)) > MAX_CREDENTIAL_JSON:
        abort(400, description=f"The field {name!r} must be the passkey's answer.")
    return value


def refused(error: PasskeyRefused, status: int = 400) -> tuple[Response, int]:
    db.session.commit()  # the challenge stays used
    return jsonify(error="passkey_refused", message=str(error)), status


STEP_UP_CLOSED = ("Too many wrong codes: this session was closed. Sign in again; if you did not "
                  "make these attempts, tell an administrator.")


def passkey_counts(staff: Any) -> bool:
    """Whether only a passkey confirms it is this person: they have one, and passkeys are on
    (an operator who turns them off shuts nobody out of a step-up)."""
    return (RelyingParty.from_config(candor().config) is not None
            and passkeys.has_passkey(db.session, staff))


# Sign-in challenges are counted with every node's; past the limit (a flood), each must bring
# a solved puzzle instead, so a flood costs its sender work and never shuts staff out.
FLOOD_BINDING = b"passkey-sign-in"
FLOOD_MESSAGE = ("Many sign-ins are being started at the moment, so this page solves a small "
                 "puzzle first.")


@bp.post("/passkeys/sign-in/options")
def sign_in_options() -> tuple[Response, int] | Response:
    """Options for signing in with a passkey. They name no account, so the answer is the same
    for every visitor."""
    rp, state = relying_party(), candor()
    config = state.config
    bits = max(config.proof_of_work_bits, 1)
    solved = puzzles.solution(json_body())
    if solved is not None:
        try:
            proof_of_work.verify(config.secret_key, bits, solved.challenge,
                                 solved.nonce, time.time(), state.spent_challenges(db.session),
                                 binding=FLOOD_BINDING, algorithm=solved.algorithm)
        except proof_of_work.ProofOfWorkRejected:
            solved = None
    if solved is None:
        try:
            state.take_rate_limit(db.session, "passkey")
        except RateLimited:
            return puzzles.puzzle_for(proof_of_work.issue(
                config.secret_key, bits, time.time(), binding=FLOOD_BINDING), FLOOD_MESSAGE)
    options = passkeys.assertion_options(db.session, rp, passkeys.SIGN_IN, None, None)
    db.session.commit()
    return jsonify(options=options)


def sign_in_check(rp: RelyingParty, credential: dict[str, Any]) -> Any:
    """The sign-in's passkey check, for staff_accounts.authenticate."""
    def check(staff: Any) -> bool:
        try:
            passkeys.verify_assertion(db.session, rp, staff, credential, passkeys.SIGN_IN, None)
        except PasskeyRefused:
            return False
        return True
    return check


def totp_allowed(staff: Any) -> bool:
    """TOTP signs in unless the account's role requires passkeys and it has one (a person
    who has none yet signs in with TOTP and is then led to register one), and always where
    passkeys are not set up (any more)."""
    return not (passkey_counts(staff) and passkeys.passkey_required(db.session, staff))


@bp.post("/passkeys/options")
@staff_required(Permission.VIEW_OWN_ACCOUNT)
def ceremony_options(principal: SessionPrincipal) -> tuple[Response, int] | Response:
    purpose = text_field(json_body(), "purpose", 16)
    rp = relying_party()
    try:
        if purpose == passkeys.REGISTER:
            options = passkeys.registration_options(db.session, rp, principal.staff,
                                                    principal.session)
        elif purpose in (passkeys.STEP_UP, passkeys.UNLOCK):
            if not passkeys.has_passkey(db.session, principal.staff):
                abort(409, description="You have no passkey yet.")
            options = passkeys.assertion_options(db.session, rp, purpose, principal.staff,
                                                 principal.session)
        else:
            abort(400, description="The purpose is one of register, step_up or unlock.")
    except PasskeyRefused as error:
        return refused(error, 409)
    db.session.commit()
    return jsonify(options=options, prf_input=b64(PASSKEY_PRF_INPUT))


@bp.post("/passkeys")
@staff_required(Permission.VIEW_OWN_ACCOUNT)
@step_up_required  # a stolen session must not be able to add its own passkey
def register(principal: SessionPrincipal) -> tuple[Response, int] | Response:
    """Keep a new passkey."""
    data = json_body()
    wrapped = bytes_field(data, "prf_wrapped_private_key") if data.get(
        "prf_wrapped_private_key") else None
    try:
        passkey = passkeys.register(db.session, relying_party(), principal.staff,
                                    principal.session, credential_field(data),
                                    text_field(data, "name", 200), wrapped)
    except PasskeyRefused as error:
        audit.record(db.session, "auth.passkey_register_failed",
                     actor=audit.actor_for(principal.staff))
        return refused(error)  # a checked answer's challenge stays used
    audit.record(db.session, "auth.passkey_registered", actor=audit.actor_for(principal.staff),
                 detail={"passkey_id": passkey.id, "prf_unlock": wrapped is not None})
    db.session.commit()
    return jsonify(id=passkey.id, name=passkey.name, credential_id=b64(passkey.credential_id),
                   prf_unlock=wrapped is not None), 201


def _own_passkey(principal: SessionPrincipal, passkey_id: int) -> StaffPasskey:
    passkey = passkeys.find_own(db.session, principal.staff, passkey_id)
    if passkey is None:
        abort(404, description="You have no passkey with that number.")
    return passkey


@bp.post("/passkeys/<int:passkey_id>/unlock-copy")
@staff_required(Permission.VIEW_OWN_ACCOUNT)
def store_unlock_copy(principal: SessionPrincipal, passkey_id: int
                      ) -> tuple[Response, int] | Response:
    """Keep the copy of the private key wrapped under this passkey's PRF output, with an
    assertion by that passkey to show the page had it in hand."""
    passkey = _own_passkey(principal, passkey_id)
    data = json_body()
    # Everything is read before the answer is checked: a refusal after the check keeps its
    # challenge used.
    wrapped, credential = bytes_field(data, "prf_wrapped_private_key"), credential_field(data)
    try:
        used = passkeys.verify_assertion(db.session, relying_party(), principal.staff,
                                         credential, passkeys.UNLOCK, principal.session)
        if used.id != passkey.id:
            raise PasskeyRefused("Use the passkey you are setting up.")
        passkeys.store_prf_wrap(passkey, wrapped)
    except PasskeyRefused as error:
        audit.record(db.session, "auth.passkey_unlock_failed",
                     actor=audit.actor_for(principal.staff), detail={"passkey_id": passkey.id})
        return refused(error)
    audit.record(db.session, "auth.passkey_unlock_enabled", actor=audit.actor_for(principal.staff),
                 detail={"passkey_id": passkey.id})
    db.session.commit()
    return jsonify(prf_unlock=True)


@bp.post("/passkeys/<int:passkey_id>/name")
@staff_required(Permission.VIEW_OWN_ACCOUNT)
def rename(principal: SessionPrincipal, passkey_id: int) -> tuple[Response, int] | Response:
    passkey = _own_passkey(principal, passkey_id)
    try:
        passkeys.rename(passkey, text_field(json_body(), "name", 200))
    except PasskeyRefused as error:
        return refused(error)
    audit.record(db.session, "auth.passkey_renamed", actor=audit.actor_for(principal.staff),
                 detail={"passkey_id": passkey.id})
    db.session.commit()
    return jsonify(id=passkey.id, name=passkey.name)


@bp.post("/passkeys/<int:passkey_id>/remove")
@staff_required(Permission.VIEW_OWN_ACCOUNT)
@step_up_required
def remove(principal: SessionPrincipal, passkey_id: int) -> tuple[Response, int] | Response:
    """Remove a passkey and its copy of the private key (a step-up action)."""
    passkey = _own_passkey(principal, passkey_id)
    passkeys.remove(db.session, passkey)
    audit.record(db.session, "auth.passkey_removed", actor=audit.actor_for(principal.staff),
                 detail={"passkey_id": passkey_id})
    db.session.commit()
    return jsonify(removed=passkey_id)


@bp.get("/step-up")
@staff_required(Permission.VIEW_OWN_ACCOUNT)
def step_up(principal: SessionPrincipal) -> str:
    next_url = request.args.get("next", "")
    if not _LOCAL_PATH.fullmatch(next_url):  # only a path on this site: no open redirect
        next_url = url_for("staff.home")
    return render_template("auth/step_up.html", principal=principal, next_url=next_url,
                           has_passkey=passkey_counts(principal.staff),
                           passkeys_on=RelyingParty.from_config(candor().config)
                           is not None)


@bp.post("/step-up")
@staff_required(Permission.VIEW_OWN_ACCOUNT)
def step_up_submit(principal: SessionPrincipal) -> tuple[Response, int] | Response:
    """A fresh user verification: an assertion by one of the person's passkeys with user
    verification, or, only for someone who has no passkey, a TOTP code."""
    data = json_body()
    staff = principal.staff
    if "credential" in data:
        try:
            passkeys.verify_assertion(db.session, relying_party(), staff, credential_field(data),
                                      passkeys.STEP_UP, principal.session)
        except PasskeyRefused as error:
            audit.record(db.session, "auth.step_up_failed", actor=audit.actor_for(staff),
                         detail={"method": "passkey"})
            return refused(error, 401)
        method = "passkey"
    else:
        if passkey_counts(staff):
            return jsonify(error="passkey_required",
                           message="You have a passkey: confirm with it."), 400
        config = candor().config
        key = throttle.throttle_key(config, throttle.STEP_UP, staff.username)
        if not staff_accounts.claim_totp(db.session, staff, text_field(data, "totp", 16).strip()):
            audit.record(db.session, "auth.step_up_failed", actor=audit.actor_for(staff),
                         detail={"method": "totp"})
            throttle.record_failure(db.session, key, config)  # commits
            # Guessing codes with a stolen session ends it: the owner signs in again.
            if throttle.recent_failures(db.session, key.name, config) >= \
                    config.login_attempts_before_lockout:
                staff_sessions.close_session(db.session, principal)
                throttle.reset(db.session, key)  # that session is gone: the next one starts anew
                audit.record(db.session, "auth.step_up_session_closed",
                             actor=audit.actor_for(staff))
                db.session.commit()
                logout_user()
                session.clear()
                return jsonify(error="session_closed", message=STEP_UP_CLOSED), 401
            return jsonify(error="step_up_failed", message=staff_accounts.TOTP_REJECTED), 401
        throttle.reset(db.session, key)
        method = "totp"
    passkeys.mark_verified(principal.session)
    audit.record(db.session, "auth.step_up", actor=audit.actor_for(staff),
                 detail={"method": method})
    db.session.commit()
    return jsonify(verified=True, seconds=candor().config.step_up_seconds)


@bp.post("/passkeys/unlock")
@staff_required(Permission.VIEW_OWN_ACCOUNT)
def unlock(principal: SessionPrincipal) -> tuple[Response, int] | Response:
    """The copy of the private key wrapped for the passkey that just made this assertion; the
    page opens it with that passkey's PRF output, which never reaches the server."""
    try:
        used = passkeys.verify_assertion(db.session, relying_party(), principal.staff,
                                         credential_field(json_body()), passkeys.UNLOCK,
                                         principal.session)
    except PasskeyRefused as error:
        return refused(error, 401)
    if used.prf_wrapped_private_key is None:
        db.session.commit()
        return jsonify(error="no_unlock_copy",
                       message="This passkey cannot unlock your key (its authenticator gave no "
                               "PRF output when it was set up). Sign in again with your "
                               "password."), 409
    passkeys.mark_verified(principal.session)
    audit.record(db.session, "auth.passkey_unlock", actor=audit.actor_for(principal.staff),
                 detail={"passkey_id": used.id})
    db.session.commit()
    return jsonify(staff_id=str(principal.staff.id), credential_id=b64(used.credential_id),
                   wrapped_private_key=b64(used.prf_wrapped_private_key))

