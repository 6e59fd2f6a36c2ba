"""Reports taken by phone or in person (EU Directive 2019/1937 Arts. 9(2), 18(2)-(4)).

A handler takes the report down on the reporter's behalf with the ordinary report form, in
their own browser: the form makes the codename there and shows it once, and the handler gives
it to the reporter, who leaves with it. The report record is the minutes. The handler then
marks the case as taken down (channel, who, when), which tells the reporter, on their case
page, to check the minutes, correct them by message and agree them; agreeing is the reporter's
own step, taken with the codename, and recorded with its day only.

Marking is limited to a fresh case (received today, not yet acknowledged, nothing yet from the
reporter) that the handler may read, so that no online report can later be passed off as one
taken down by a handler.
"""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import DbSession
from app.models import Case, CaseEvent, CaseIntake, StaffUser, today
from app.services import audit, cases
from app.services.cases import require
from candor_reporter.languages import N_

CHANNELS = {"phone": "By phone", "in_person": "In person"}


class MinutesRejected(Exception):
    """The reporter cannot agree the minutes now; ``str(error)`` is safe to show them."""


def intake_of(session: DbSession, case: Case) -> CaseIntake | None:
    return session.scalar(select(CaseIntake).where(CaseIntake.case_id == case.id))


def record_intake(session: DbSession, case: Case, staff: StaffUser, channel: str) -> CaseIntake:
    """Mark ``case`` as a report ``staff`` took down on the reporter's behalf."""
    require(channel in CHANNELS, "Say whether the report was taken by phone or in person.")
    require(intake_of(session, case) is None, "This report is already marked as taken down.")
    require(case.origin == "reporter" and case.reporter_public_key is not None,
            "Only a report made with the report form, with its codename, can be marked.")
    require(case.received_on == today() and case.status == "received"
            and not any(r.author == "reporter" and r.kind == "message" for r in case.records),
            "Only a report received today, not yet acknowledged, can be marked as taken down.")
    entry = CaseIntake(case_id=case.id, channel=channel, taken_on=today(), taken_by_id=staff.id)
    session.add(entry)
    cases.record_event(
        session, case, staff, "taken_on_behalf", {"channel": channel},
        reporter_sentence=N_("A recipient took down your report with you. Check the minutes "
                             "(the report above); correct them by message if needed, then "
                             "agree them."))
    return entry


def agree_minutes(session: DbSession, case: Case) -> CaseIntake:
    """The reporter, with their codename, agrees the minutes as they stand today."""
    entry = intake_of(session, case)
    if entry is None:
        raise MinutesRejected(N_("This report was not taken down by a recipient."))
    if entry.minutes_agreed_on is not None:
        raise MinutesRejected(N_("You already agreed the minutes."))
    entry.minutes_agreed_on = today()
    case.events.append(CaseEvent(kind="minutes_agreed", occurred_on=today(),
                                 visible_to_reporter=True, detail="You agreed the minutes."))
    audit.record(session, "case.minutes_agreed", actor="reporter", case_number=case.number)
    return entry
