"""The dates a reporter is owed (EU Directive 2019/1937 art. 9): acknowledgement within 7 days
of receipt; feedback within 3 months of acknowledgement, or of the 7-day mark if none came."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.models import Case

ACKNOWLEDGE_WITHIN = timedelta(days=7)
FEEDBACK_WITHIN_MONTHS = 3


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day when it has no such day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def acknowledge_by(received_on: date) -> date:
    return received_on + ACKNOWLEDGE_WITHIN


def feedback_by(received_on: date, acknowledged_on: date | None) -> date:
    start = acknowledged_on or acknowledge_by(received_on)
    return add_months(start, FEEDBACK_WITHIN_MONTHS)


def refresh_due(case: Case) -> None:
    """Set the case's next deadline and its clock from its state: acknowledgement while it is
    received, feedback while it is open, none once closed."""
    if case.status == "received":
        case.next_due_on, case.next_due_clock = acknowledge_by(case.received_on), "acknowledge"
    elif case.status != "closed":
        case.next_due_on = feedback_by(case.received_on, case.acknowledged_on)
        case.next_due_clock = "feedback"
    else:
        case.next_due_on, case.next_due_clock = None, None
