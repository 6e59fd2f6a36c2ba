"""Staff passkeys (WebAuthn, through the ``webauthn`` package): registering, naming, removing,
signing in and stepping up with them, and the roles that must use them.

Every ceremony starts with a challenge stored in the database (``WebAuthnChallenge``) and ends
with one conditional ``DELETE`` of it: whichever request deletes the row uses the challenge, and
any other request with the same answer, at the same moment or later, on any app node, finds
nothing and is refused. Sign counters only go up, by a conditional ``UPDATE`` too.

The relying party id and origin come from configuration (``CANDOR_WEBAUTHN_RP_ID``,
``CANDOR_WEBAUTHN_ORIGIN``), never from the request: an assertion made for any other origin or
RP id (a phishing page's) is refused.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, parse_client_data_json
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from app.config import Config
from app.extensions import DbSession, savepoint
from app.models import (
    PasskeyRoleRequirement,
    StaffPasskey,
    StaffSession,
    StaffUser,
    WebAuthnChallenge,
    utcnow,
)
from app.roles import Role
from crypto import keys
from crypto.encoding import VERSION
from crypto.primitives import random_bytes

CHALLENGE_LIFETIME = timedelta(minutes=5)
CHALLENGE_SIZE = 32
SIGN_IN = "sign_in"
REGISTER = "register"
STEP_UP = "step_up"
UNLOCK = "unlock"
MAX_PASSKEYS = 20
MAX_NAME_LENGTH = 64

EXPIRED = ("This passkey request has expired or was already used. Try again: each request "
           "works once, for five minutes.")


class PasskeyRefused(Exception):
    """A passkey ceremony that failed; ``str(error)`` is safe to show."""


@dataclass(frozen=True)
class RelyingParty:
    """Who the passkeys are for, from configuration."""

    rp_id: str
    origin: str
    name: str
    user_handle_key: bytes

    @classmethod
    def from_config(cls, config: Config) -> RelyingParty | None:
        if not config.webauthn_rp_id or not config.webauthn_origin:
            return None
        return cls(config.webauthn_rp_id, config.webauthn_origin, config.webauthn_rp_name,
                   config.derived_key("webauthn-user-handle"))

    def user_handle(self, staff: StaffUser) -> bytes:
        """A stable handle for the account that names neither its id nor its username."""
        return hmac.new(self.user_handle_key, str(staff.id).encode(), hashlib.sha256).digest()


def session_hash(staff_session: StaffSession) -> bytes:
    return staff_session.token_hash


# --- challenges -------------------------------------------------------------------------------
def _issue_challenge(session: DbSession, purpose: str, bound_to: bytes | None) -> bytes:
    challenge = random_bytes(CHALLENGE_SIZE)
    session.add(WebAuthnChallenge(
        challenge_hash=hashlib.sha256(challenge).digest(), purpose=purpose,
        session_hash=bound_to, expires_at=utcnow() + CHALLENGE_LIFETIME,
    ))
    return challenge


def _claim_challenge(session: DbSession, client_data_json: bytes, purpose: str,
                     bound_to: bytes | None) -> bytes:
    """The challenge the browser answered, if it is this purpose's, for this session, unexpired
    and unused; deleting its row is what uses it."""
    try:
        challenge = parse_client_data_json(client_data_json).challenge
    except (WebAuthnException, ValueError, TypeError, KeyError):
        raise PasskeyRefused("The passkey's answer is malformed.") from None
    condition = [WebAuthnChallenge.challenge_hash == hashlib.sha256(challenge).digest(),
                 WebAuthnChallenge.purpose == purpose, WebAuthnChallenge.expires_at > utcnow()]
    condition.append(WebAuthnChallenge.session_hash.is_(None) if bound_to is None
                     else WebAuthnChallenge.session_hash == bound_to)
    claimed = session.execute(delete(WebAuthnChallenge).where(and_(*condition))
                              .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise PasskeyRefused(EXPIRED)
    return challenge


def spend_challenge(session: DbSession, credential: dict[str, Any], purpose: str) -> None:
    """Use up the challenge an answer was made for without checking the answer (a sign-in that
    failed before its passkey was looked at): it can then never be sent again."""
    with contextlib.suppress(PasskeyRefused):
        _claim_challenge(session, _client_data(credential), purpose, None)


def delete_expired_challenges(session: DbSession, now: datetime) -> int:
    result = session.execute(delete(WebAuthnChallenge).where(WebAuthnChallenge.expires_at <= now))
    return int(result.rowcount)  # type: ignore[attr-defined]


def _options_json(options: Any) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(options_to_json(options))
    return parsed


def _client_data(credential: dict[str, Any]) -> bytes:
    response = credential.get("response")
    if not isinstance(response, dict) or not isinstance(response.get("clientDataJSON"), str):
        raise PasskeyRefused("The passkey's answer is malformed.")
    try:
        return base64url_to_bytes(response["clientDataJSON"])
    except ValueError:
        raise PasskeyRefused("The passkey's answer is malformed.") from None


def _raw_id(credential: dict[str, Any]) -> bytes:
    raw = credential.get("rawId")
    if not isinstance(raw, str) or not raw or len(raw) > 2048:
        raise PasskeyRefused("The passkey's answer is malformed.")
    try:
        return base64url_to_bytes(raw)
    except ValueError:
        raise PasskeyRefused("The passkey's answer is malformed.") from None


# --- registering, naming, removing ------------------------------------------------------------
def list_passkeys(session: DbSession, staff: StaffUser) -> list[StaffPasskey]:
    return list(session.scalars(select(StaffPasskey).where(StaffPasskey.staff_id == staff.id)
                                .order_by(StaffPasskey.created_at, StaffPasskey.id)))


def passkey_counts(session: DbSession) -> dict[int, int]:
    """How many passkeys each staff member has (those with none are absent)."""
    rows = session.execute(select(StaffPasskey.staff_id, func.count())
                           .group_by(StaffPasskey.staff_id))
    return {int(staff_id): int(count) for staff_id, count in rows}


def has_passkey(session: DbSession, staff: StaffUser) -> bool:
    return session.scalar(select(StaffPasskey.id).where(StaffPasskey.staff_id == staff.id)
                          .limit(1)) is not None


def registration_options(session: DbSession, rp: RelyingParty, staff: StaffUser,
                         staff_session: StaffSession) -> dict[str, Any]:
    """Options for ``navigator.credentials.create``: a discoverable credential with user
    verification, none of the account's existing passkeys again."""
    existing = list_passkeys(session, staff)
    if len(existing) >= MAX_PASSKEYS:
        raise PasskeyRefused(f"An account holds at most {MAX_PASSKEYS} passkeys. Remove one "
                             "first.")
    options = generate_registration_options(
        rp_id=rp.rp_id, rp_name=rp.name, user_name=staff.username, user_id=rp.user_handle(staff),
        challenge=_issue_challenge(session, REGISTER, session_hash(staff_session)),
        timeout=int(CHALLENGE_LIFETIME.total_seconds() * 1000),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=p.credential_id)
                             for p in existing],
    )
    return _options_json(options)


def _check_name(name: str) -> str:
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME_LENGTH:
        raise PasskeyRefused(f"Name the passkey in 1 to {MAX_NAME_LENGTH} characters, for "
                             "example 'work laptop' or 'blue security key'.")
    return name


def _check_prf_wrap(wrapped: bytes | None) -> bytes | None:
    if wrapped is not None and (len(wrapped) != keys.WRAPPED_KEY_SIZE or wrapped[0] != VERSION):
        raise PasskeyRefused("The passkey's copy of your key is malformed.")
    return wrapped


def register(session: DbSession, rp: RelyingParty, staff: StaffUser, staff_session: StaffSession,
             credential: dict[str, Any], name: str, prf_wrapped: bytes | None = None
             ) -> StaffPasskey:
    """Verify a new credential against its challenge and keep it, with the copy of the private
    key wrapped under its PRF output if the page made one (SPEC 8.12). Nothing is added unless
    all of it is right."""
    name = _check_name(name)
    prf_wrapped = _check_prf_wrap(prf_wrapped)
    expected = _claim_challenge(session, _client_data(credential), REGISTER,
                                session_hash(staff_session))
    try:
        verified = verify_registration_response(
            credential=credential, expected_challenge=expected, expected_rp_id=rp.rp_id,
            expected_origin=rp.origin, require_user_verification=True)
    except (WebAuthnException, ValueError, TypeError, KeyError) as error:
        raise PasskeyRefused(f"The passkey was not accepted: {error}") from None
    if session.scalar(select(StaffPasskey.id).where(
            StaffPasskey.credential_id == verified.credential_id)) is not None:
        raise PasskeyRefused("This passkey is registered already.")
    passkey = StaffPasskey(staff_id=staff.id, credential_id=verified.credential_id,
                           public_key=verified.credential_public_key,
                           sign_count=verified.sign_count, name=name,
                           prf_wrapped_private_key=prf_wrapped)
    try:
        with savepoint(session):  # the same credential registered at the same moment elsewhere
            session.add(passkey)
    except IntegrityError:
        raise PasskeyRefused("This passkey is registered already.") from None
    return passkey


def find_own(session: DbSession, staff: StaffUser, passkey_id: int) -> StaffPasskey | None:
    passkey = session.get(StaffPasskey, passkey_id)
    return passkey if passkey is not None and passkey.staff_id == staff.id else None


def rename(passkey: StaffPasskey, name: str) -> None:
    passkey.name = _check_name(name)


def remove(session: DbSession, passkey: StaffPasskey) -> None:
    """Delete the passkey and, with its row, its wrapped copy of the private key."""
    session.delete(passkey)


# --- assertions -------------------------------------------------------------------------------
def assertion_options(session: DbSession, rp: RelyingParty, purpose: str,
                      staff: StaffUser | None, staff_session: StaffSession | None
                      ) -> dict[str, Any]:
    """Options for ``navigator.credentials.get``, with user verification required. Signing in
    names no credentials (the passkey is discoverable), so the answer says nothing about which
    accounts exist or have passkeys; a signed-in session's step-up or unlock names its own."""
    allowed = ([PublicKeyCredentialDescriptor(id=p.credential_id)
                for p in list_passkeys(session, staff)] if staff is not None else [])
    bound = session_hash(staff_session) if staff_session is not None else None
    options = generate_authentication_options(
        rp_id=rp.rp_id, challenge=_issue_challenge(session, purpose, bound),
        timeout=int(CHALLENGE_LIFETIME.total_seconds() * 1000), allow_credentials=allowed,
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return _options_json(options)


def verify_assertion(session: DbSession, rp: RelyingParty, staff: StaffUser,
                     credential: dict[str, Any], purpose: str,
                     staff_session: StaffSession | None) -> StaffPasskey:
    """Check an assertion by one of ``staff``'s passkeys, made with user verification for this
    purpose's challenge, origin and RP id, with a sign counter that went up (or stays 0, as
    synced passkeys report). Raises PasskeyRefused. The challenge is used up either way."""
    bound = session_hash(staff_session) if staff_session is not None else None
    expected = _claim_challenge(session, _client_data(credential), purpose, bound)
    passkey = session.scalar(select(StaffPasskey).where(
        StaffPasskey.credential_id == _raw_id(credential), StaffPasskey.staff_id == staff.id))
    if passkey is None:
        raise PasskeyRefused("This passkey is not registered to this account.")
    try:
        verified = verify_authentication_response(
            credential=credential, expected_challenge=expected, expected_rp_id=rp.rp_id,
            expected_origin=rp.origin, credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count, require_user_verification=True)
    except (WebAuthnException, ValueError, TypeError, KeyError) as error:
        raise PasskeyRefused(f"The passkey was not accepted: {error}") from None
    new_count = verified.new_sign_count
    # Another request may have used this passkey meanwhile: the counter moves only forwards.
    counted = session.execute(
        update(StaffPasskey)
        .where(StaffPasskey.id == passkey.id,
               StaffPasskey.sign_count < new_count if new_count
               else StaffPasskey.sign_count == 0)
        .values(sign_count=new_count, last_used_at=utcnow())
        .execution_options(synchronize_session=False))
    if counted.rowcount != 1:  # type: ignore[attr-defined]
        raise PasskeyRefused("The passkey's signature counter went backwards: it may have been "
                             "copied. Tell the operator.")
    session.refresh(passkey)
    return passkey


def can_unlock(session: DbSession, staff: StaffUser) -> bool:
    """Whether one of the person's passkeys holds a copy of their private key."""
    return session.scalar(select(StaffPasskey.id).where(
        StaffPasskey.staff_id == staff.id, StaffPasskey.prf_wrapped_private_key.is_not(None))
        .limit(1)) is not None


def remove_all(session: DbSession, staff: StaffUser) -> int:
    """Delete every passkey of ``staff`` (and their copies of the key): recovery after losing
    them all."""
    result = session.execute(delete(StaffPasskey).where(StaffPasskey.staff_id == staff.id))
    return int(result.rowcount)  # type: ignore[attr-defined]


def store_prf_wrap(passkey: StaffPasskey, wrapped: bytes) -> None:
    """Keep the copy of the private key wrapped under this passkey's PRF output (SPEC 8.12)."""
    passkey.prf_wrapped_private_key = _check_prf_wrap(wrapped)


# --- roles that must use passkeys -------------------------------------------------------------
def required_roles(session: DbSession) -> frozenset[Role]:
    return frozenset(Role(r) for r in session.scalars(select(PasskeyRoleRequirement.role))
                     if r in Role.__members__.values())


def set_role_requirement(session: DbSession, role: Role, required: bool,
                         by: StaffUser) -> bool:
    """Require passkeys of ``role``'s holders, or stop requiring them; True if it changed."""
    row = session.get(PasskeyRoleRequirement, role.value)
    if required and row is None:
        session.add(PasskeyRoleRequirement(role=role.value, required_by_id=by.id))
        return True
    if not required and row is not None:
        session.delete(row)
        return True
    return False


def passkey_required(session: DbSession, staff: StaffUser) -> bool:
    return bool(staff.roles & required_roles(session))


# --- step-up ----------------------------------------------------------------------------------
def mark_verified(staff_session: StaffSession) -> None:
    staff_session.verified_at = utcnow()


def freshly_verified(staff_session: StaffSession, window_seconds: int) -> bool:
    verified = staff_session.verified_at
    return verified is not None and utcnow() - verified <= timedelta(seconds=window_seconds)
