"""Retention: a closed case's content is destroyed when its outcome's retention period ends.

EU Directive 2019/1937 art. 18 asks that records be kept no longer than needed. A case's
content is encrypted under its case key, and the only copies of that key are the sealed grants
(recipients, the reporter, escrow). Destruction deletes every grant, every ciphertext record
and every attachment blob of the case, so nothing of its content remains, not even in a form
someone holding an old private key could open. The case row itself stays, with its metadata
(route, category, dates, outcome), because the statistics and the Board's trends count it;
what else it held that names a person or could find the reporter again (the reporter's salt,
assignee, approver, who did each step) is cleared (``reporter_data.reduce_metadata``).

- The period runs from ``closed_on`` and depends on the outcome (``CANDOR_RETENTION_DAYS``);
  a reopened case is open again and is not destroyed.
- A case under legal hold is never destroyed, however old.
- Each destruction is one audit entry and one ``ContentDestruction`` row; the case's timeline
  gains a "content_destroyed" event. Running twice destroys nothing twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, false, func, or_, select, true

from app.config import DEFAULT_RETENTION_DAYS, Config
from app.extensions import DbSession
from app.models import (
    Attachment,
    Case,
    CaseEvent,
    CaseGrant,
    CaseRecord,
    ContentDestruction,
    StaffUser,
    today,
)
from app.services import attachments, audit, reporter_data

NO_OUTCOME = "none"
_BATCH = 200


@dataclass(frozen=True)
class RetentionRun:
    destroyed: list[str]  # case numbers
    held: int  # cases past their period but under legal hold


def periods_from(config: Config | None) -> dict[str, int]:
    return dict(config.retention_days if config else DEFAULT_RETENTION_DAYS)


def _expired(periods: Mapping[str, int], on: date) -> ColumnElement[bool]:
    """SQL condition: closed, and closed long enough ago for the case's outcome."""
    default = periods.get(NO_OUTCOME, max(periods.values()))
    clauses = [and_(Case.outcome == outcome, Case.closed_on <= on - timedelta(days=days))
               for outcome, days in periods.items() if outcome != NO_OUTCOME]
    named = [outcome for outcome in periods if outcome != NO_OUTCOME]
    clauses.append(and_(or_(Case.outcome.is_(None), Case.outcome.not_in(named)),
                        Case.closed_on <= on - timedelta(days=default)))
    return and_(Case.status == "closed", Case.closed_on.is_not(None), or_(*clauses),
                ~select(ContentDestruction.id)
                .where(ContentDestruction.case_id == Case.id).exists())


def expired_cases(session: DbSession, on: date, periods: Mapping[str, int]) -> list[Case]:
    """The next batch of cases due for destruction (legal hold excluded)."""
    return list(session.scalars(
        select(Case).where(_expired(periods, on), Case.legal_hold == false())
        .order_by(Case.id).limit(_BATCH)))


def _count(session: DbSession, model: type[CaseGrant] | type[CaseRecord], case: Case) -> int:
    return session.scalar(select(func.count()).select_from(model)
                          .where(model.case_id == case.id)) or 0


def destroy_content(session: DbSession, case: Case, on: date, config: Config | None,
                    staff: StaffUser | None = None) -> ContentDestruction:
    """Delete every sealed copy of the case key and every ciphertext of ``case`` (in the
    caller's transaction), keeping its metadata row, and record that it was done."""
    if case.legal_hold:
        raise ValueError(f"case {case.number} is under legal hold")
    rule = case.outcome or NO_OUTCOME
    grants = _count(session, CaseGrant, case)
    session.execute(delete(CaseGrant).where(CaseGrant.case_id == case.id))
    if config is not None:
        store = attachments.store_for(config, session)
        for attachment in session.scalars(select(Attachment)
                                          .where(Attachment.case_id == case.id)):
            attachments.discard(session, store, attachment)
    session.flush()
    records = _count(session, CaseRecord, case)
    session.execute(delete(CaseRecord).where(CaseRecord.case_id == case.id))
    # The codename no longer finds anything: there is nothing left for the reporter to read.
    case.lookup_hash = None
    case.reporter_public_key = None
    session.expire(case, ["grants", "records"])
    reporter_data.reduce_metadata(session, case)
    row = ContentDestruction(case_id=case.id, destroyed_on=on, rule=rule,
                             grants_deleted=grants, records_deleted=records)
    session.add(row)
    session.add(CaseEvent(case_id=case.id, kind="content_destroyed", occurred_on=on,
                          visible_to_reporter=False, detail="retention period ended",
                          actor_staff_id=staff.id if staff else None))
    audit.record(session, "retention.destroyed", actor=audit.actor_for(staff),
                 case_number=case.number,
                 detail={"rule": rule, "grants": grants, "records": records})
    return row


def apply(session: DbSession, now: datetime | date, config: Config | None) -> RetentionRun:
    """Destroy the content of every case whose retention period has ended and is not under
    legal hold (the tick calls this; so does ``candor retention run``). Commits per batch, so
    a long backlog never holds one huge transaction; safe to run twice and at any time."""
    on = now.date() if isinstance(now, datetime) else now
    periods = periods_from(config)
    destroyed: list[str] = []
    while batch := expired_cases(session, on, periods):
        for case in batch:
            destroy_content(session, case, on, config)
            destroyed.append(case.number)
        session.commit()
    held = session.scalar(select(func.count()).select_from(Case)
                          .where(_expired(periods, on), Case.legal_hold == true())) or 0
    return RetentionRun(destroyed=destroyed, held=held)


# Why a hold is set: a fixed list, so the trail never holds free text that could name anyone.
HOLD_REASONS = ("litigation", "regulator", "investigation", "other")


def set_legal_hold(session: DbSession, case: Case, held: bool, staff: StaffUser,
                   reason: str | None = None) -> bool:
    """Put the case under legal hold or lift it; audited. Returns whether anything changed."""
    if reason is not None and reason not in HOLD_REASONS:
        raise ValueError(f"reason must be one of {', '.join(HOLD_REASONS)}")
    if case.legal_hold == held:
        return False
    case.legal_hold = held
    session.add(CaseEvent(case_id=case.id, kind="legal_hold" if held else "legal_hold_lifted",
                          occurred_on=today(), visible_to_reporter=False,
                          detail=None, actor_staff_id=staff.id))
    audit.record(session, "case.legal_hold" if held else "case.legal_hold_lifted",
                 actor=audit.actor_for(staff), case_number=case.number,
                 detail={"reason": reason} if reason else None)
    return True
