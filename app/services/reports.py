"""Reports from the reporter's side: filing one, finding it again with the codename, replying.

Everything here sees only ciphertext and the metadata listed in DESIGN.md. It checks what a
server can check without keys: shapes, sizes, versions, and that the case key was sealed to
exactly the people the route says, before anything is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from app.config import Config
from app.extensions import DbSession, table_of
from app.models import (
    Case,
    CaseEvent,
    CaseExclusion,
    CaseGrant,
    CaseRecord,
    StaffRole,
    StaffUser,
    today,
)
from app.roles import Role
from app.services import deadlines
from app.services.refusals import Refused
from app.services.routing import Route, RoutingError, reader_ids_for
from app.taxonomy import Taxonomy
from candor_reporter.languages import N_
from crypto import kdf
from crypto.envelope import RecordKind, check_grant_shape, check_record_shape
from crypto.errors import CryptoError
from crypto.primitives import CROCKFORD, check_public_key

CASE_REF = re.compile(r"c-[0-9a-f]{32}")
RECORD_REF = re.compile(r"r-[0-9a-f]{32}")
LOOKUP_ID_SIZE = 32
MAX_RECORDS_PER_SUBMISSION = 4
GRANT_KINDS = ("recipient", "reporter", "escrow")
# What a reporter may send and see; staff notes are never among them.
REPORTER_RECORD_KINDS = {RecordKind.REPORT, RecordKind.IDENTITY, RecordKind.MESSAGE}


# The automatic acknowledgement of receipt the reporter sees at once.
RECEIVED = "received"
RECEIVED_DETAIL = "Your report was received and is waiting for its readers."


class SubmissionRejected(Refused):
    """The submission is refused; ``str(error)`` is safe to show the reporter."""


check = SubmissionRejected.unless


class CodenameTaken(SubmissionRejected):
    """The codename's lookup identifier opens a case already. The answer says whether an
    identifier is in use, as a look-up with the codename would: the caller counts it against
    the same limit (issue 16, finding 9)."""


@dataclass(frozen=True)
class GrantIn:
    kind: str
    staff_id: int | None
    grant: bytes


@dataclass(frozen=True)
class RecordIn:
    record_ref: str
    kind: RecordKind
    ciphertext: bytes


@dataclass(frozen=True)
class Submission:
    case_ref: str
    route: Route
    category: str
    lookup_id: bytes
    reporter_salt: bytes
    reporter_kdf_version: int
    reporter_public_key: bytes
    grants: list[GrantIn]
    records: list[RecordIn]
    concerns_rso: bool = False
    concerned_staff_ids: list[int] = field(default_factory=list)
    material_risk: bool = False
    sb53_disclosure: bool = False
    # The reporter flags a possible critical safety incident (B&P §22757.13(c)); the clock
    # for the lab's notice to the authority then runs from the day of filing.
    critical_incident: bool = False
    imminent_risk: bool = False


@dataclass(frozen=True)
class Inherited:
    """What a report filed as retaliation for a case keeps of that case, whatever its own
    form says: whether it concerns the RSO, and everyone the first report named as concerned.
    The reporter may name more people, never fewer: the people the first report kept out are
    the ones a report of retaliation for it is most likely about."""

    concerns_rso: bool
    staff_ids: frozenset[int]


@dataclass(frozen=True)
class FiledCase:
    """What a submission's answer needs of the case it stored."""

    id: int
    case_ref: str
    number: str


def reporter_kdf_params(config: Config) -> kdf.KdfParams:
    """The codename parameters a client uses where Argon2id is fast (WebAssembly, Python)."""
    return kdf.TEST_FAST if config.fast_kdf_for_tests else kdf.REPORTER_CODENAME_V1


def reporter_kdf_light_params(config: Config) -> kdf.KdfParams:
    """The codename parameters for a browser without WebAssembly (crypto/SPEC.md section 6).
    The same in tests: it is already cheap, and tests must show that cases keep it."""
    return kdf.REPORTER_CODENAME_LIGHT_V1


def accepted_reporter_kdf_versions(config: Config) -> frozenset[int]:
    """The parameter versions a new case may record; each case keeps its own."""
    return frozenset({reporter_kdf_params(config).version,
                      reporter_kdf_light_params(config).version})


def lookup_hash(lookup_id: bytes, config: Config) -> bytes:
    """What the database holds of a codename's lookup identifier: a keyed hash, so a copy of
    the database alone cannot test codename guesses (crypto/SPEC.md, limitation 8)."""
    return hmac.new(config.derived_key("codename-lookup"), lookup_id, hashlib.sha256).digest()


def draw_number() -> str:
    return "C-" + "".join(secrets.choice(CROCKFORD) for _ in range(5))


def new_number(session: DbSession) -> str:
    """A case number no case has yet (for a caller that cannot retry on a collision)."""
    while True:
        number = draw_number()
        if session.scalar(select(Case.id).where(Case.number == number)) is None:
            return number


# Numbers are short (32**5), so a new one can collide with an old one; each try draws afresh.
NUMBER_ATTEMPTS = 8


NOT_EXACT_READERS = ("The report was not encrypted to exactly the current readers of this "
                     "route; reload the page and submit again.")
INHERITED_READERS = N_(
    "The report was not encrypted to exactly the readers it may have: a report about "
    "retaliation leaves out everyone your first report left out, and concerns the RSO if that "
    "one did. Reload the page and send again.")


def inherited_by_retaliation(session: DbSession, first: Case) -> Inherited:
    """What a report of retaliation for ``first`` must keep (:class:`Inherited`). Exclusions
    the reporter made, not staff who recused themselves: that is staff's business."""
    staff_ids = session.scalars(select(CaseExclusion.staff_id).where(
        CaseExclusion.case_id == first.id, CaseExclusion.reason == "concerned"))
    return Inherited(first.concerns_rso, frozenset(staff_ids))



def submit_report(
    session: DbSession, submission: Submission, config: Config, taxonomy: Taxonomy,
    inherited: Inherited | None = None,
) -> Case:
    """``file_report``, then the stored case as an ORM object (one query more), for a caller
    that goes on to change it."""
    return session.get_one(Case, file_report(session, submission, config, taxonomy,
                                             inherited).id)


def file_report(
    session: DbSession, submission: Submission, config: Config, taxonomy: Taxonomy,
    inherited: Inherited | None = None,
) -> FiledCase:
    """Validate a submission completely, then write it as one new case (not committed).
    Raises SubmissionRejected, and then nothing of it was written.

    A report of retaliation passes what it ``inherited`` from the case it follows
    (:func:`inherited_by_retaliation`): those people are left out and the RSO flag is kept
    whatever the submission says, and its keys must have been sealed accordingly.

    It must be the first write of its transaction: the database's unique constraints check
    that the case identifier, the codename's lookup hash and the number are free, and a
    collision rolls the transaction back (a savepoint would not do: on SQLite, pysqlite
    opens no transaction before it, so releasing it would commit)."""
    s = submission
    check(bool(CASE_REF.fullmatch(s.case_ref)), "The case identifier is malformed.")
    check(taxonomy.get(s.category) is not None, "Choose one of the listed categories.")
    check(len(s.lookup_id) == LOOKUP_ID_SIZE, "The codename lookup identifier is malformed.")
    check(len(s.reporter_salt) == kdf.SALT_SIZE, "The reporter salt is malformed.")
    check(s.reporter_kdf_version in accepted_reporter_kdf_versions(config),
           "The codename key was derived with the wrong parameters.")
    try:
        check_public_key(s.reporter_public_key)
    except CryptoError:
        raise SubmissionRejected("The reporter public key is malformed.") from None
    concerned = set(s.concerned_staff_ids)
    if concerned:
        known = set(session.scalars(select(StaffUser.id).where(StaffUser.id.in_(concerned))))
        check(known == concerned, "Someone named as concerned is not a member of staff.")
    if inherited is not None:
        concerned |= inherited.staff_ids
        s = replace(s, concerns_rso=s.concerns_rso or inherited.concerns_rso)
    try:
        readers = reader_ids_for(session, s.route, s.concerns_rso, concerned)
    except RoutingError as error:
        raise SubmissionRejected(str(error)) from None
    try:
        check_grants(s.grants, set(readers.now), set(readers.on_escalation))
    except SubmissionRejected as error:
        if inherited is None or str(error) != NOT_EXACT_READERS:
            raise
        raise SubmissionRejected(INHERITED_READERS) from None
    _check_records(s.records)
    if s.concerns_rso:
        # Every RSO is concerned too: later checks (access, escalation) read the exclusions.
        concerned |= set(session.scalars(select(StaffRole.staff_id)
                                         .where(StaffRole.role == Role.RSO.value)))
    digest = lookup_hash(s.lookup_id, config)
    # Checked by the INSERT itself rather than by a query each before it; after a collision,
    # the look-ups say which one it was.
    for _attempt in range(NUMBER_ATTEMPTS):
        number = draw_number()
        try:
            return _write_case(session, s, number, digest, concerned, taxonomy)
        except IntegrityError:
            session.rollback()
            check(session.scalar(select(Case.id).where(Case.case_ref == s.case_ref)) is None,
                  "This case identifier is taken; submit again.")
            if session.scalar(select(Case.id).where(Case.lookup_hash == digest)) is not None:
                raise CodenameTaken("This codename is taken; submit again.") from None
            if session.scalar(select(Case.id).where(Case.number == number)) is None:
                raise  # not a collision (a member of staff deleted meanwhile, say)
            # The number was taken: draw another.
    raise RuntimeError(f"no free case number after {NUMBER_ATTEMPTS} attempts")


# Built once: constructing an INSERT (and its cache key) on every submission added 20-35 µs to
# each. Core inserts, not the ORM's: its unit of work (or even its bulk inserts) took
# about half of a submission's CPU for these few rows, and nothing here needs the objects.
_INSERT_CASE = insert(table_of(Case)).returning(table_of(Case).c.id)
_INSERT_GRANTS = insert(table_of(CaseGrant))
_INSERT_RECORDS = insert(table_of(CaseRecord))
_INSERT_EXCLUSIONS = insert(table_of(CaseExclusion))
_INSERT_EVENTS = insert(table_of(CaseEvent))


def _write_case(session: DbSession, s: Submission, number: str, digest: bytes,
                concerned: set[int], taxonomy: Taxonomy) -> FiledCase:
    """Insert the case and what it carries, one statement per table."""
    received = today()
    values: dict[str, Any] = dict(
        case_ref=s.case_ref, number=number,
        lookup_hash=digest, reporter_salt=s.reporter_salt,
        reporter_kdf_version=s.reporter_kdf_version, reporter_public_key=s.reporter_public_key,
        route=s.route.value, category=s.category, taxonomy_version=taxonomy.version,
        concerns_rso=s.concerns_rso, material_risk=s.material_risk,
        sb53_disclosure=s.sb53_disclosure,
        identity_given=any(r.kind == RecordKind.IDENTITY for r in s.records),
        status="received", received_on=received,
        critical_incident=s.critical_incident or s.imminent_risk,
        imminent_risk=s.imminent_risk,
        critical_incident_on=received if s.critical_incident or s.imminent_risk else None,
    )
    record_kinds = [r.kind.name.lower() for r in s.records]
    # An unsaved Case of these values is what the clocks read (deadlines.CaseDates).
    values.update(_first_schedule(session, Case(**values), record_kinds, received))
    # On the session's connection directly: the ORM's execution layer adds nothing to these.
    connection = session.connection()
    case_id: int = connection.execute(_INSERT_CASE, values).scalar_one()
    connection.execute(_INSERT_GRANTS, [
        {"case_id": case_id, "kind": g.kind, "staff_id": g.staff_id, "grant": g.grant}
        for g in s.grants])
    connection.execute(_INSERT_RECORDS, [
        {"case_id": case_id, "record_ref": r.record_ref, "kind": kind, "author": "reporter",
         "visible_to_reporter": True, "created_on": received, "ciphertext": r.ciphertext}
        for r, kind in zip(s.records, record_kinds, strict=True)])
    if concerned:
        connection.execute(_INSERT_EXCLUSIONS, [
            {"case_id": case_id, "staff_id": staff_id} for staff_id in sorted(concerned)])
    events: list[dict[str, Any]] = [
        {"case_id": case_id, "kind": RECEIVED, "occurred_on": received,
         "visible_to_reporter": True, "detail": RECEIVED_DETAIL}]
    if values["critical_incident"]:  # by the reporter: no staff actor, no audit entry (timed)
        events.append({"case_id": case_id, "kind": "critical_incident_flagged",
                       "occurred_on": received, "visible_to_reporter": False,
                       "detail": "by the reporter" + (", imminent risk" if s.imminent_risk
                                                      else "")})
    connection.execute(_INSERT_EVENTS, events)
    return FiledCase(case_id, s.case_ref, number)


def _first_schedule(session: DbSession, case: Case, record_kinds: list[str], on: date
                    ) -> dict[str, Any]:
    """The deadline columns of a case being filed (what ``deadlines.refresh_due`` sets), from
    what it carries: the reporter's records and the event of its receipt."""
    policy = deadlines.current_policies(session).current
    facts = deadlines.CaseFacts(
        records=[deadlines.RecordFact(0, "reporter", kind, True, on) for kind in record_kinds],
        events=[deadlines.EventFact(RECEIVED, on, True, False)])
    due = deadlines.compute_deadlines(case, facts, policy, on)
    return {"deadline_policy_version": policy.version,
            **deadlines.schedule_columns(due, set(), policy, on)}


def check_grants(grants: list[GrantIn], now: set[int], escalation: set[int],
                  reporter: bool = True) -> None:
    """The grants seal the case key to exactly the route's readers (and, for a report, once
    to the reporter): nobody missing, nobody extra."""
    try:
        for grant in grants:
            check_grant_shape(grant.grant)
    except CryptoError as error:
        raise SubmissionRejected(f"A sealed key is malformed: {error}.") from None
    by_kind: dict[str, list[int | None]] = {kind: [] for kind in GRANT_KINDS}
    for grant in grants:
        check(grant.kind in by_kind, f"Unknown grant kind {grant.kind!r}.")
        by_kind[grant.kind].append(grant.staff_id)
    check(by_kind["reporter"] == ([None] if reporter else []),
           "Exactly one copy of the key must be yours." if reporter
           else "A case opened by staff has no reporter's copy of the key.")
    for kind, expected in (("recipient", now), ("escrow", escalation)):
        ids = by_kind[kind]
        check(len(ids) == len(set(ids)) and set(ids) == expected, NOT_EXACT_READERS)


def _check_records(records: list[RecordIn]) -> None:
    check(0 < len(records) <= MAX_RECORDS_PER_SUBMISSION, "The submission has no report.")
    kinds = [r.kind for r in records]
    check(kinds.count(RecordKind.REPORT) == 1, "A submission holds exactly one report.")
    check(set(kinds) <= {RecordKind.REPORT, RecordKind.IDENTITY} and
           kinds.count(RecordKind.IDENTITY) <= 1, "A submission holds a report and an identity.")
    refs = [r.record_ref for r in records]
    check(len(set(refs)) == len(refs) and all(RECORD_REF.fullmatch(r) for r in refs),
           "A record identifier is malformed.")
    try:
        for record in records:
            check_record_shape(record.ciphertext)
    except CryptoError as error:
        raise SubmissionRejected(f"The encrypted report is malformed: {error}.") from None


def find_case(session: DbSession, lookup_id: bytes, config: Config) -> Case | None:
    """The case a codename's lookup identifier opens. Unknown and malformed identifiers cost
    the same keyed hash and the same indexed query, so the answer's timing reveals nothing."""
    digest = lookup_hash(lookup_id, config)
    return session.scalars(select(Case).where(Case.lookup_hash == digest)).first()


def add_reporter_message(session: DbSession, case: Case, record_ref: str,
                         ciphertext: bytes, key_epoch: int) -> CaseRecord:
    """A reporter's message, which must be under the case key's current epoch: after a
    revocation, the person removed must not be able to read what comes next."""
    check(key_epoch == case.key_epoch,
          "The case's key changed since this page was opened; open your report again and send.")
    check(bool(RECORD_REF.fullmatch(record_ref)), "The message identifier is malformed.")
    check(session.scalar(select(CaseRecord.id).where(
        CaseRecord.case_id == case.id, CaseRecord.record_ref == record_ref)) is None,
        "This message identifier is taken; send again.")
    try:
        check_record_shape(ciphertext)
    except CryptoError as error:
        raise SubmissionRejected(f"The encrypted message is malformed: {error}.") from None
    record = CaseRecord(record_ref=record_ref, kind="message", author="reporter",
                        visible_to_reporter=True, created_on=today(), key_epoch=key_epoch,
                        ciphertext=ciphertext)
    case.records.append(record)
    case.events.append(CaseEvent(kind="reporter_message", occurred_on=today(),
                                 visible_to_reporter=True, detail="You sent a message."))
    session.flush()
    deadlines.refresh_due(case, session)  # an answer ends a clock paused waiting for it
    return record


def link_retaliation(first: Case, report: Case) -> None:
    """File ``report`` as the reporter's account of retaliation for raising ``first``. The
    caller takes ``first`` from the reporter's own session, never from anything the client
    names, so nobody can attach a report to a case they did not open with its codename."""
    report.linked_case_id = first.id
    report.link_kind = "retaliation"
    report.events.append(CaseEvent(
        kind="linked", occurred_on=today(), visible_to_reporter=True,
        detail="This report is about retaliation and is linked to your earlier report."))
    first.events.append(CaseEvent(
        kind="retaliation_reported", occurred_on=today(), visible_to_reporter=True,
        detail="You reported retaliation in a new report linked to this one."))
