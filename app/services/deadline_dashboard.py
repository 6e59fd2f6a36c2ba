"""What the deadlines dashboard shows one staff member: the clocks running out among the cases
they may see, escalations to the Board, this quarter's record of deadlines met, the SB 53
sharing clocks and the quarterly governance pack. The page (app/staff/deadlines.py) renders it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import or_, select

from app.extensions import DbSession
from app.models import Case, EscalationStep, OrgDeadlineStep, StaffUser
from app.quarters import Quarter
from app.services import cases, deadlines, escalation
from app.services.deadline_policy import DeadlinePolicy
from app.services.deadlines import Deadline

# What "this week" means on the dashboard: due within the next seven days.
SOON = timedelta(days=8)
# Cases closed this long before the quarter began can have no deadline in it (the last
# check-in is 6 months after closure under the built-in policy).
STATS_LOOKBACK = timedelta(days=400)
ESCALATIONS_SHOWN = 100


@dataclass(frozen=True)
class Row:
    case: Case
    deadline: Deadline


@dataclass(frozen=True)
class Dashboard:
    overdue: list[Row]
    this_week: list[Row]
    escalated: list[Any]  # (Case, EscalationStep) rows, the latest first
    on_time: int  # of ``counted``: deadlines due this quarter before today, met in time
    counted: int
    quarter: Quarter
    policy: DeadlinePolicy
    sb53_open: list[Row]
    pack_quarter: Quarter
    pack_due: date
    pack_met: OrgDeadlineStep | None


def open_rows(session: DbSession, visible: Sequence[Case], on: date) -> list[Row]:
    """Every deadline of ``visible`` cases under their own policy version; a case whose version
    this process does not know is left out (and logged)."""
    facts = deadlines.load_facts(session, [c.id for c in visible])
    policies = deadlines.current_policies(session)
    rows: list[Row] = []
    for case in visible:
        if not policies.knows(case.deadline_policy_version):
            deadlines.left_alone(case.number, case.deadline_policy_version)
            continue
        policy = policies.for_version(case.deadline_policy_version)
        rows.extend(Row(case, deadline)
                    for deadline in deadlines.compute_deadlines(case, facts[case.id], policy, on))
    return rows


def _by_due(row: Row) -> date:
    return row.deadline.due_on


def dashboard(session: DbSession, staff: StaffUser, on: date) -> Dashboard:
    visible = cases.visible_cases_query(staff)
    soon = session.scalars(visible.where(
        Case.next_due_on.is_not(None), Case.next_due_on < on + SOON)).all()
    running = [r for r in open_rows(session, soon, on)
               if r.deadline.is_open and r.deadline.due_on < on + SOON]
    escalated = session.execute(
        select(Case, EscalationStep).join(EscalationStep, EscalationStep.case_id == Case.id)
        .where(EscalationStep.step == "board", Case.id.in_(visible.with_only_columns(Case.id)))
        .order_by(EscalationStep.taken_on.desc()).limit(ESCALATIONS_SHOWN)).all()

    quarter = Quarter.of(on)
    recent = or_(Case.closed_on.is_(None), Case.closed_on >= quarter.first_day - STATS_LOOKBACK)
    # Deadlines that fell due this quarter before today: each was met in time or it was not.
    counted = [r.deadline for r in open_rows(session, session.scalars(visible.where(recent)).all(),
                                             on)
               if quarter.first_day <= r.deadline.due_on < on]
    sb53 = session.scalars(visible.where(Case.sb53_disclosure.is_(True), recent)).all()
    policy = deadlines.current_policies(session).current
    pack_quarter, pack_due = escalation.quarterly_pack_deadline(on, policy)
    return Dashboard(
        overdue=sorted((r for r in running if r.deadline.overdue(on)), key=_by_due),
        this_week=sorted((r for r in running if not r.deadline.overdue(on)), key=_by_due),
        escalated=list(escalated),
        on_time=sum(1 for d in counted if d.met_in_time()), counted=len(counted),
        quarter=quarter, policy=policy,
        sb53_open=sorted((r for r in open_rows(session, sb53, on)
                          if r.deadline.clock == "sb53_share" and r.deadline.is_open),
                         key=_by_due),
        pack_quarter=pack_quarter, pack_due=pack_due,
        pack_met=session.scalar(select(OrgDeadlineStep).where(
            OrgDeadlineStep.clock == "quarterly_pack", OrgDeadlineStep.cycle == pack_quarter.cycle,
            OrgDeadlineStep.step == "met")),
    )
