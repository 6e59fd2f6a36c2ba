"""The escalation ladder: for each open deadline, a reminder to the assignee before it and on
the day, a notice to every reader of the case two days late, and escalation to the Board tier a
week late (the escrow copies of the case key are released, the case says why).

Exactly once: each rung is a row of ``escalation_steps`` under a unique constraint on
(case, clock, cycle, step), inserted first in the transaction that then acts on it (outbox
rows, escrow release, event, audit entry). A crash rolls the whole batch back, to be redone by
the next tick; a second tick that races this one either waits for the write lock and then sees
the rows, or fails the insert on the unique constraint and skips the rung.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import (
    Table,
    bindparam,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError, OperationalError

from app.extensions import DbSession, savepoint, table_of
from app.models import (
    Case,
    CaseEvent,
    CaseExclusion,
    CaseGrant,
    EscalationStep,
    OrgDeadlineStep,
    OutboxMessage,
    StaffRole,
    StaffUser,
    grant_usable,
)
from app.quarters import Quarter
from app.roles import Permission, Role
from app.services import audit, notifications
from app.services.deadline_policy import INCIDENT_CLOCKS, DeadlinePolicy, PolicySet
from app.services.deadlines import (
    CASE_DATE_COLUMNS,
    CLOCK_NEEDS,
    Deadline,
    among,
    compute_deadlines,
    load_facts,
    schedule_columns,
    taken_steps,
)

log = logging.getLogger(__name__)
BATCH = 1000
# Any constant: PostgreSQL serialises ladder batches on this advisory lock.
_LADDER_LOCK = 0x43414E45
STEP_NAMES = ("before", "due", "route", "board")
Result = TypeVar("Result")


@dataclass
class LadderCounts:
    cases_looked_at: int = 0
    steps_taken: int = 0
    escalated_to_board: int = 0
    notices_queued: int = 0
    # Cases whose policy version this process does not know: not touched, logged by version.
    left_alone: dict[str, int] = field(default_factory=dict)
    stalls: list[str] = field(default_factory=list)


def _is_postgresql(session: DbSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def insert_rows(session: DbSession, table: Table, rows: list[dict[str, Any]]) -> None:
    """Many rows in one go. PostgreSQL gets one INSERT ... SELECT FROM unnest() with one array
    per column: one round trip and a statement that does not grow with the rows. SQLite runs
    in this process, where a prepared executemany is as fast."""
    if not rows:
        return
    if not _is_postgresql(session):
        session.execute(insert(table), rows)
        return
    names = list(rows[0])
    dialect = session.get_bind().dialect
    arrays = ", ".join(f"CAST(:{name} AS {table.c[name].type.compile(dialect)}[])"
                       for name in names)
    # Identifiers come from our own table metadata, values only through bound arrays.
    statement = (f"INSERT INTO {table.name} ({', '.join(names)}) "  # noqa: S608  # nosec B608
                 f"SELECT * FROM unnest({arrays})")
    session.execute(text(statement), {name: [row[name] for row in rows] for name in names})


def _update_summaries(session: DbSession, updates: list[dict[str, Any]]) -> None:
    """Write each case's policy version and deadline summary, the same way as insert_rows:
    one UPDATE ... FROM unnest() on PostgreSQL, an executemany on SQLite."""
    if not updates:
        return
    if _is_postgresql(session):
        session.execute(text(
            "UPDATE cases SET deadline_policy_version = given.policy, "
            "next_due_on = given.due, next_due_clock = given.clock, "
            "next_escalation_on = given.look "
            "FROM unnest(CAST(:ids AS INTEGER[]), CAST(:policies AS VARCHAR(32)[]), "
            "CAST(:dues AS DATE[]), CAST(:clocks AS VARCHAR(24)[]), CAST(:looks AS DATE[])) "
            "AS given(id, policy, due, clock, look) WHERE cases.id = given.id"), {
            "ids": [u["case_id"] for u in updates], "policies": [u["policy"] for u in updates],
            "dues": [u["next_due_on"] for u in updates],
            "clocks": [u["next_due_clock"] for u in updates],
            "looks": [u["next_escalation_on"] for u in updates]})
        return
    cases_table = table_of(Case)
    session.execute(
        update(cases_table).where(cases_table.c.id == bindparam("case_id"))
        .values(deadline_policy_version=bindparam("policy"),
                next_due_on=bindparam("next_due_on"), next_due_clock=bindparam("next_due_clock"),
                next_escalation_on=bindparam("next_escalation_on")), updates)


def lock_for_writing(session: DbSession) -> None:
    """Take the write lock before reading what a batch will change. On SQLite a write statement
    first takes the database's write lock at once (a read that later upgraded could deadlock
    with another writer); on PostgreSQL an advisory lock keeps two ticks' batches apart, so
    they never wait on each other's rows in opposite orders."""
    if _is_postgresql(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LADDER_LOCK})
    else:
        session.execute(text("UPDATE scheduler_leases SET name = name WHERE 1 = 0"))


def with_retries(session: DbSession, unit: Callable[[], Result], attempts: int = 5) -> Result:
    """Run one unit of work (which commits), again from scratch if the database was busy or
    chose it as a deadlock victim; a unit is all-or-nothing, so a retry is safe."""
    for attempt in range(attempts):
        try:
            return unit()
        except (OperationalError, IntegrityError) as error:
            session.rollback()
            if attempt == attempts - 1:
                raise
            log.warning("batch lost a race or the database was busy, retrying: %s", error.orig)
            time.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")


class BatchReaders:
    """Who may read each case of a batch (a recipient grant or a released escrow copy of its
    current key, not excluded, account active, allowed to handle cases), from one query per
    batch; escrow holders join when the batch escalates a case."""

    def __init__(self, session: DbSession, epochs: dict[int, int]) -> None:
        self.grants: dict[int, list[tuple[int, str, bool]]] = {case_id: [] for case_id in epochs}
        for case_id, staff_id, kind, epoch, released in session.execute(
            select(CaseGrant.case_id, CaseGrant.staff_id, CaseGrant.kind, CaseGrant.key_epoch,
                   CaseGrant.released_on).where(among(session, CaseGrant.case_id, list(epochs)),
                                                CaseGrant.staff_id.is_not(None))
        ):
            if staff_id is not None and epoch == epochs[case_id] \
                    and kind in ("recipient", "escrow"):
                self.grants[case_id].append((staff_id, kind, released is not None))
        self.excluded = {(case_id, staff_id) for case_id, staff_id in session.execute(
            select(CaseExclusion.case_id, CaseExclusion.staff_id)
            .where(among(session, CaseExclusion.case_id, list(epochs))))}
        people = {staff_id for grants in self.grants.values() for staff_id, _k, _r in grants}
        self.able = {person.id for person in session.scalars(
            select(StaffUser).where(StaffUser.id.in_(people), StaffUser.disabled_at.is_(None)))
            if person.can(Permission.HANDLE_CASES)}

    def of(self, case_id: int, escalated: bool = False) -> list[int]:
        return sorted({staff_id for staff_id, kind, released in self.grants[case_id]
                       if grant_usable(kind, released or escalated)
                       and staff_id in self.able and (case_id, staff_id) not in self.excluded})


def _step_notice(number: str, deadline: Deadline, step: str) -> notifications.Notice:
    needs, due = CLOCK_NEEDS[deadline.clock], deadline.due_on.isoformat()
    subject = {
        "before": f"Case {number} needs {needs} by {due}",
        "due": f"Case {number} needs {needs} by {due} (today)",
        "route": f"Case {number} is overdue: {needs} was due {due}",
        "board": f"Case {number} was escalated to the Board tier: {needs} was due {due}",
    }[step]
    return notifications.Notice(subject, f"/staff/cases/{number}")


def _release_escrow(case: Case, on: date) -> int:
    released = 0
    for grant in case.grants:
        if grant.kind == "escrow" and grant.released_on is None:
            grant.released_on = on
            released += 1
    return released


@dataclass(frozen=True)
class Rung:
    case: Any  # a row of the columns deadlines.CASE_DATE_COLUMNS
    deadline: Deadline
    step: str
    notify: bool


def _escalate(session: DbSession, rung: Rung, now: datetime, counts: LadderCounts) -> None:
    """The Board tier: release the escrow copies, say why on the timeline, audit it."""
    on, deadline = now.date(), rung.deadline
    case = session.get(Case, rung.case.id)
    assert case is not None
    released = _release_escrow(case, on)
    counts.escalated_to_board += 1
    reason = (f"Escalated to the Board tier: {CLOCK_NEEDS[deadline.clock]} was due "
              f"{deadline.due_on.isoformat()}.")
    if deadline.clock in INCIDENT_CLOCKS:
        # Whether the lab treats the report as a critical safety incident is its own
        # assessment: the reporter sees the escalation, not that (the audit entry names it).
        reason = "Escalated to the Board tier: a deadline was missed."
    # The reporter was told before reporting that escalation gives the Board tier access;
    # they see it happen, except for the Board-notice clock, whose name alone would tell them
    # the outcome of the findings.
    case.events.append(CaseEvent(kind="escalated", occurred_on=on,
                                 visible_to_reporter=deadline.clock != "board_notice",
                                 detail=reason))
    audit.record(session, "case.escalated", actor="system", case_number=case.number,
                 detail={"clock": deadline.clock, "cycle": deadline.cycle,
                         "due_on": deadline.due_on.isoformat(),
                         "released_escrow_grants": released}, at=now)


def _escalate_batch(session: DbSession, ids: list[int], now: datetime, policies: PolicySet,
                    counts: LadderCounts, stall: Callable[[str], None]) -> None:
    """One transaction: lock, read the batch's case columns, facts and taken rungs, insert the
    new rungs, act on them, queue their notices, move each case's look-again day, commit.

    Under the write lock no other tick can insert a rung of these cases, so the rungs go in
    as one multi-row insert; should one collide all the same (the unique constraint is the
    last word), the insert fails, the batch rolls back whole and is retried from the start."""
    on = now.date()
    lock_for_writing(session)
    query = select(*CASE_DATE_COLUMNS).where(among(session, Case.id, ids),
                                              Case.next_escalation_on <= on)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Case)  # staff transitions wait for this batch
    # Cases another tick moved on while this one waited for the lock drop out here. A case
    # under a version this process does not know is left exactly as it is: no rung, no new
    # summary, and above all no other version put in its place.
    cases = []
    for case in session.execute(query.order_by(Case.id)):
        if policies.knows(case.deadline_policy_version):
            cases.append(case)
        else:
            version = str(case.deadline_policy_version)
            counts.left_alone[version] = counts.left_alone.get(version, 0) + 1
            log.warning("case %s left alone: its deadline policy version %r is unknown here",
                        case.number, version)
    facts = load_facts(session, [case.id for case in cases])
    taken = taken_steps(session, [case.id for case in cases])
    rungs: list[Rung] = []
    computed: dict[int, list[Deadline]] = {}
    for case in cases:
        counts.cases_looked_at += 1
        policy = policies.for_version(case.deadline_policy_version)
        computed[case.id] = compute_deadlines(case, facts[case.id], policy, on)
        for deadline in computed[case.id]:
            if not deadline.is_open:
                continue
            due = [step for step, when in policy.ladder_for(deadline.clock).steps(deadline.due_on)
                   if when <= on and (deadline.clock, deadline.cycle, step) not in taken[case.id]]
            # After a gap (a tick missed for days) only the latest rung is sent.
            rungs.extend(Rung(case, deadline, step, step == due[-1]) for step in due)
            taken[case.id].update((deadline.clock, deadline.cycle, step) for step in due)
    escalated: set[int] = set()
    if rungs:
        insert_rows(session, table_of(EscalationStep), [
            {"case_id": r.case.id, "clock": r.deadline.clock, "cycle": r.deadline.cycle,
             "step": r.step, "due_on": r.deadline.due_on, "taken_on": on, "notified": r.notify}
            for r in rungs])
        counts.steps_taken += len(rungs)
        readers = BatchReaders(session, {case.id: case.key_epoch for case in cases})
        named = _incident_people(session, rungs, policies)
        digest = notifications.digest_choosers(session)
        notices: list[dict[str, object]] = []
        for rung in rungs:
            if rung.step == "route":
                audit.record(session, "case.deadline_missed", actor="system",
                             case_number=rung.case.number, at=now, detail={
                                 "clock": rung.deadline.clock, "cycle": rung.deadline.cycle,
                                 "due_on": rung.deadline.due_on.isoformat()})
            elif rung.step == "board":
                _escalate(session, rung, now, counts)
                escalated.add(rung.case.id)
            if not rung.notify:
                continue
            to = readers.of(rung.case.id, escalated=rung.step == "board")
            incident = rung.deadline.clock in INCIDENT_CLOCKS
            if incident:
                # Every step goes to the readers and to the people the policy names, except
                # anyone the case excludes (named as concerned, or recused).
                to = sorted(set(to) | {p for p in named.get(rung.case.deadline_policy_version,
                                                             ()) if (rung.case.id, p)
                                       not in readers.excluded})
            elif rung.step in ("before", "due") and rung.case.assignee_id in to:
                to = [rung.case.assignee_id]
            notices += notifications.outbox_rows(
                to, f"step:{rung.case.id}:{rung.deadline.clock}:{rung.deadline.cycle}:"
                    f"{rung.step}", _step_notice(rung.case.number, rung.deadline, rung.step),
                now, digest if rung.step in ("before", "due") and not incident else set())
        if notices:
            insert_rows(session, table_of(OutboxMessage), notices)
            counts.notices_queued += len(notices)
        stall("escalation-step")
    if escalated:
        # An escalation may just have met a Board-notice clock.
        session.flush()
        facts.update(load_facts(session, sorted(escalated)))
    updates = []
    for case in cases:
        policy = policies.for_version(case.deadline_policy_version)
        if case.id in escalated:
            computed[case.id] = compute_deadlines(case, facts[case.id], policy, on)
        updates.append({"case_id": case.id, "policy": policy.version,
                        **schedule_columns(computed[case.id], taken[case.id], policy, on)})
    _update_summaries(session, updates)
    session.commit()


def _incident_people(session: DbSession, rungs: list[Rung], policies: PolicySet
                     ) -> dict[str | None, list[int]]:
    """Per policy version among the batch's incident rungs, the holders of the roles it names."""
    versions = {r.case.deadline_policy_version for r in rungs
                if r.deadline.clock in INCIDENT_CLOCKS}
    return {version: _holders(session, tuple(Role(name) for name in policies.for_version(
        version).incident_notify)) for version in versions}


def run_case_ladders(session: DbSession, now: datetime, policies: PolicySet,
                     stall: Callable[[str], None] = lambda _: None) -> LadderCounts:
    """Take every rung that has fallen due on every case whose ladder needs a look today.
    Reads only those cases (``next_escalation_on``, indexed), in batches of ``BATCH``."""
    counts = LadderCounts()
    candidates = sorted(session.scalars(
        select(Case.id).where(Case.next_escalation_on <= now.date())))
    session.commit()
    for offset in range(0, len(candidates), BATCH):
        ids = candidates[offset:offset + BATCH]

        def batch(ids: list[int] = ids) -> None:
            _escalate_batch(session, ids, now, policies, counts, stall)

        with_retries(session, batch)
    return counts


# --- the organisation's clock: the quarterly pack ----------------------------------------------
def quarterly_pack_deadline(on: date, policy: DeadlinePolicy) -> tuple[Quarter, date]:
    """The last ended quarter and its pack's due date."""
    quarter = Quarter.last_ended(on)
    return quarter, policy.quarterly_pack.after(quarter.last_day, policy.holidays)


def _holders(session: DbSession, roles: tuple[Role, ...]) -> list[int]:
    return list(session.scalars(
        select(StaffUser.id).join(StaffRole, StaffRole.staff_id == StaffUser.id)
        .where(StaffRole.role.in_([r.value for r in roles]), StaffUser.disabled_at.is_(None))
        .distinct().order_by(StaffUser.id)))


def record_quarterly_pack(session: DbSession, quarter: Quarter, staff: StaffUser | None,
                          on: date) -> bool:
    """Record that the pack of ``quarter`` went to the Board and officers; False if it already
    was. For the governance pages to call when a pack is issued."""
    try:
        with savepoint(session):
            session.add(OrgDeadlineStep(clock="quarterly_pack", cycle=quarter.cycle, step="met",
                                        due_on=on, taken_on=on,
                                        actor_staff_id=staff.id if staff else None))
            session.flush()
    except IntegrityError:
        return False
    audit.record(session, "deadline.quarterly_pack_delivered", actor=audit.actor_for(staff),
                 detail={"quarter": quarter.label})
    return True


def run_quarterly_pack(session: DbSession, now: datetime, policy: DeadlinePolicy) -> int:
    """The ladder of the last ended quarter's pack: RSOs are reminded, then RSOs and
    executives, then the Board is told it is late. Only once a case exists to report on."""
    on = now.date()
    quarter, due = quarterly_pack_deadline(on, policy)
    cycle = quarter.cycle

    def unit() -> int:
        lock_for_writing(session)
        if session.scalar(select(Case.id).where(
                Case.received_on <= quarter.last_day).limit(1)) is None:
            session.commit()
            return 0
        done = set(session.scalars(select(OrgDeadlineStep.step).where(
            OrgDeadlineStep.clock == "quarterly_pack", OrgDeadlineStep.cycle == cycle)))
        if "met" in done:
            session.commit()
            return 0
        steps = [step for step, when in policy.ladder.steps(due) if when <= on
                 and step not in done]
        taken = 0
        for step in steps:
            try:
                with savepoint(session):
                    session.add(OrgDeadlineStep(clock="quarterly_pack", cycle=cycle, step=step,
                                                due_on=due, taken_on=on))
                    session.flush()
            except IntegrityError:
                continue
            taken += 1
            if step != steps[-1]:
                continue
            roles = {"before": (Role.RSO,), "due": (Role.RSO,),
                     "route": (Role.RSO, Role.EXECUTIVE), "board": (Role.BOARD, Role.RSO)}[step]
            label = quarter.label
            subject = {"before": f"The quarterly pack for {label} is due by {due}",
                       "due": f"The quarterly pack for {label} is due by {due} (today)",
                       "route": f"The quarterly pack for {label} is overdue: it was due {due}",
                       "board": f"The quarterly pack for {label} is a week overdue: it was "
                                f"due {due}"}[step]
            notifications.enqueue(session, _holders(session, roles),
                                  f"pack:{cycle}:{step}", notifications.Notice(
                                      subject, "/staff/deadlines"), now,
                                  digestible=step in ("before", "due"))
        session.commit()
        return taken

    return with_retries(session, unit)


__all__ = ["STEP_NAMES", "LadderCounts", "record_quarterly_pack", "run_case_ladders",
           "run_quarterly_pack"]
