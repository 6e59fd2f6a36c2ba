"""SB 53 quarterly sharing (Labor Code §1107.1(e)(2)): the disclosures and the responses,
shared with officers and directors at least each quarter, leaving out any officer or director
the disclosure accuses.

The register of officers and directors is everyone holding ``Role.OFFICER`` (alone, or beside
a case-handling role). A share is a summary a handler writes in the browser (what was disclosed;
what the lab did or answered), encrypted under a random share key, which is sealed to each
officer or director in the register who holds a signed directory key and is not named as
concerned in the case (nor an RSO when the case concerns the RSO): crypto/SPEC.md 8.11. The
same words go to the reporter as a message of the case (purpose ``sb53_share``), so they can
read what was shared; that message and the share are written together or not at all, and they
are the only thing that meets the case's ``sb53_share`` clock (app/services/deadlines.py).

The server cannot read either ciphertext and cannot check that the two say the same thing; it
checks who the share is sealed to, exactly, as it checks a report's readers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from app.extensions import DbSession
from app.models import (
    Case,
    CaseEvent,
    CaseExclusion,
    OfficerShare,
    OfficerShareGrant,
    StaffRole,
    StaffUser,
    today,
)
from app.roles import Role
from app.services import audit, deadlines
from app.services.cases import CaseActionRejected, EncryptedRecord, require, store_record
from app.services.deadline_policy import UnknownPolicyVersion
from app.services.directory import active_entries
from crypto.envelope import RecordKind, check_grant_shape, check_record_shape
from crypto.errors import CryptoError

SHARE_REF = re.compile(r"s-[0-9a-f]{32}")
# Said to the reporter on their case's timeline when a share is written.
SHARED_SENTENCE = ("A summary of your disclosure and of the lab's response was shared with the "
                   "lab's officers and directors (SB 53), leaving out anyone you named as "
                   "concerned. You can read it in your messages.")


@dataclass(frozen=True)
class ShareGrantIn:
    staff_id: int
    grant: bytes


@dataclass(frozen=True)
class ShareIn:
    """What a handler's browser sends: the share's summary under the share key, the key sealed
    to each officer or director, and the same summary to the reporter under the case key."""

    share_ref: str
    summary: bytes
    grants: Sequence[ShareGrantIn]
    message: EncryptedRecord


def _accused(session: DbSession, case: Case) -> set[int]:
    """Everyone the case names as concerned, and every RSO when it concerns the RSO."""
    named = set(session.scalars(select(CaseExclusion.staff_id).where(
        CaseExclusion.case_id == case.id, CaseExclusion.reason == "concerned")))
    if case.concerns_rso:
        named |= set(session.scalars(select(StaffRole.staff_id)
                                     .where(StaffRole.role == Role.RSO.value)))
    return named


def sharing_rule(entries: Sequence[StaffUser], concerns_rso: bool,
                 concerned: set[int]) -> list[StaffUser]:
    """Who a share (or, at filing, the promise of one) goes to: every officer or director with
    a signed directory entry, minus those named as concerned, minus every RSO when the case
    concerns the RSO. The reporter's pages show this list (app/reporter/plain.py and the
    twin in app/static/js/reporter.js)."""
    return [staff for staff in entries
            if Role.OFFICER in staff.roles and staff.id not in concerned
            and not (concerns_rso and Role.RSO in staff.roles)]


def recipients(session: DbSession, case: Case) -> list[StaffUser]:
    """The officers and directors this case's share is sealed to, by id order."""
    return sharing_rule(active_entries(session), case.concerns_rso, _accused(session, case))


def write_share(session: DbSession, case: Case, staff: StaffUser, share: ShareIn,
                on: date | None = None) -> OfficerShare:
    """Store the quarter's share of an SB 53 disclosure and the reporter's copy; refuse a share
    sealed to anyone outside the case's recipients, or missing one of them."""
    on = on or today()
    require(case.sb53_disclosure, "Only a case flagged as an SB 53 disclosure is shared with "
            "officers and directors.")
    require(case.origin == "reporter", "This case has no reporter, so it is no SB 53 "
            "disclosure.")
    require(bool(SHARE_REF.fullmatch(share.share_ref)), "The share identifier is malformed.")
    require(session.scalar(select(OfficerShare.id).where(
        OfficerShare.share_ref == share.share_ref)) is None,
        "This share identifier is taken; send again.")
    expected = {s.id for s in recipients(session, case)}
    require(bool(expected), "No officer or director who may receive this case holds a signed "
            "key: ask the operator to register one and sign their key.")
    given = [g.staff_id for g in share.grants]
    require(len(given) == len(set(given)), "The share is sealed twice to the same person.")
    require(set(given) == expected,
            "The share is not sealed to exactly the officers and directors it must reach "
            "(nobody named in the case, nobody left out). Reload the page and write it again.")
    try:
        for grant in share.grants:
            check_grant_shape(grant.grant)
        check_record_shape(share.summary)
    except CryptoError as error:
        raise CaseActionRejected(f"The encrypted share is malformed: {error}.") from None
    before = _open_quarters(session, case, on)
    message = store_record(case, staff, RecordKind.MESSAGE, share.message,
                           visible_to_reporter=True, purpose=deadlines.SB53_SHARE_PURPOSE)
    cycle, _, _ = deadlines.quarter_bounds(on)
    quarter = f"{cycle // 10}-Q{cycle % 10}"
    row = OfficerShare(case_id=case.id, share_ref=share.share_ref, quarter=quarter,
                       created_on=on, author_staff_id=staff.id, summary=share.summary,
                       message_record_ref=message.record_ref,
                       grants=[OfficerShareGrant(staff_id=g.staff_id, grant=g.grant)
                               for g in sorted(share.grants, key=lambda g: g.staff_id)])
    session.add(row)
    case.events.append(CaseEvent(kind="sb53_shared", occurred_on=on, visible_to_reporter=True,
                                 detail=SHARED_SENTENCE, actor_staff_id=staff.id))
    audit.record(session, "case.sb53_shared", actor=audit.actor_for(staff),
                 case_number=case.number,
                 detail={"quarter": quarter})
    session.flush()
    deadlines.refresh_due(case, session, on=on)
    met = sorted(before - _open_quarters(session, case, on))
    if met:
        audit.record(session, "deadline.sb53_share_met", actor=audit.actor_for(staff),
                     case_number=case.number,
                     detail={"quarters": [f"{c // 10}-Q{c % 10}" for c in met]})
    return row


def _open_quarters(session: DbSession, case: Case, on: date) -> set[int]:
    try:
        found = deadlines.case_deadlines(session, case, on)
    except UnknownPolicyVersion:
        return set()
    return {d.cycle for d in found if d.clock == "sb53_share" and d.is_open}


@dataclass(frozen=True)
class ReceivedShare:
    share_ref: str
    case_number: str
    quarter: str
    created_on: date
    summary: bytes
    grant: bytes


def shares_for(session: DbSession, staff: StaffUser) -> list[ReceivedShare]:
    """The shares sealed to ``staff``, newest first: nothing of a case they were left out of
    exists for them here."""
    rows = session.execute(
        select(OfficerShare.share_ref, Case.number, OfficerShare.quarter,
               OfficerShare.created_on, OfficerShare.summary, OfficerShareGrant.grant)
        .join(OfficerShareGrant, OfficerShareGrant.share_id == OfficerShare.id)
        .join(Case, Case.id == OfficerShare.case_id)
        .where(OfficerShareGrant.staff_id == staff.id)
        .order_by(OfficerShare.created_on.desc(), OfficerShare.id.desc()))
    return [ReceivedShare(*row) for row in rows]


def shares_of_case(session: DbSession, case: Case) -> list[OfficerShare]:
    return list(session.scalars(select(OfficerShare).where(OfficerShare.case_id == case.id)
                                .order_by(OfficerShare.id)))
