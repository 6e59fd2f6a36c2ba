"""Deadlines: which clocks run on a case, when each is due, whether it was met, and when the
case's escalation ladder next needs a look.

Clocks (defaults in app/services/deadline_policy.py, from ../DESIGN.md):

- ``acknowledge``: from receipt (EU Directive art. 9); met by acknowledgement.
- ``triage``: from acknowledgement; met by the triage. ``investigation_start``: from the triage;
  met when the investigation opens (prompt investigation, RSP v3 §4; ISO 37002). Each only when
  the case's policy version has it.
- ``status_update``: every 30 days while open (SB 53, Labor Code §1107.1(e)(1)); met only by a
  status update written to the reporter (the status of the investigation and the actions
  taken), by feedback or by the outcome at closure (``UPDATE_PURPOSES``), which start the next
  cycle. Steps of the case, identity-reveal notices and plain messages do not.
- ``feedback``: 3 months from acknowledgement (or from the 7-day mark if none came; EU
  Directive art. 9(1)(f)); met only by feedback written to the reporter (the action envisaged
  or taken and its grounds, art. 5(13)) or the outcome at closure, never by the findings. The
  date never moves: "waiting for the reporter" annotates it and nothing more. Reopening starts
  a new cycle from the reopening.
- ``board_notice``: 72 hours after a substantiated (or partly) material-risk finding (RSP v3);
  met when the Board is told (a staff action here, or the Board tier's escalation), at once
  when the Board already reads the case.
- ``checkin``: follow-up check-ins 3 and 6 months after closure (ISO 37002); met by the staff
  action that records one.
- ``sb53_share``: for a case flagged as an SB 53 disclosure, one cycle per calendar quarter
  from the quarter of receipt to the quarter of closure (or today's), due 30 days after the
  quarter ends (Labor Code §1107.1(e)(2)); met only by a share with the officers and directors
  (app/services/officer_shares.py), whose summary the reporter also receives as a message of
  purpose ``sb53_share``: the first written on or after the quarter's first day.
- ``critical_incident`` / ``incident_imminent``: 15 days, or 24 hours with imminent risk
  of death or serious injury, from the day a case is flagged as a critical safety incident
  (B&P §22757.13(c)); met by recording the notice made to the authority.

Cases opened by staff have no reporter: no acknowledgement, status update or check-in.
The quarterly pack is the organisation's clock, not a case's (app/services/escalation.py).

Every deadline is computed from the case's columns, events, records and pauses: nothing here
is stored except the two summaries the inbox sorts by (``next_due_on``/``next_due_clock``)
and the day the tick next needs to look (``next_escalation_on``).
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Integer, String, any_, bindparam, func, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import QueryableAttribute, object_session

from app.extensions import DbSession, db
from app.models import (
    Case,
    CaseEvent,
    CaseRecord,
    ClockPause,
    EscalationStep,
    StaffUser,
    today,
)
from app.services import audit
from app.services.deadline_policy import (
    DeadlinePolicy,
    Period,
    PolicySet,
    UnknownPolicyVersion,
)
from app.services.deadline_store import PolicySource, stored_policies
from candor_reporter.languages import N_

CLOCK_ORDER = ("incident_imminent", "critical_incident", "acknowledge", "board_notice",
               "triage", "investigation_start", "feedback", "status_update", "sb53_share",
               "checkin")
# How each clock is named in notifications and pages: never a category, never content. The
# check-ins are "follow-up" because the word retaliation would itself say too much in an inbox.
CLOCK_NEEDS = {
    "acknowledge": "acknowledgement",
    "triage": "triage",
    "investigation_start": "the start of the investigation",
    "critical_incident": "notice to the authority",
    "incident_imminent": "notice to the authority within 24 hours",
    "status_update": "a status update to the reporter",
    "feedback": "feedback to the reporter",
    "board_notice": "Board notice",
    "checkin": "a follow-up check-in",
    "sb53_share": "the quarterly SB 53 share with officers and directors",
    "quarterly_pack": "the quarterly pack",
}
FINDINGS_STATES = ("findings", "corrective_action", "closed")
SUBSTANTIATED = ("substantiated", "partly_substantiated")
# Which messages to the reporter meet which clock (CaseRecord.purpose; app/services/cases.py).
UPDATE_PURPOSES = ("update", "feedback", "outcome")
# Messages written before purposes existed (migration 0013): they met the status-update clock
# then and still do, so an upgrade invents no missed deadline.
LEGACY_PURPOSE = "legacy"
FEEDBACK_PURPOSES = ("feedback", "outcome")
# The message that carries a quarterly SB 53 share's summary to the reporter: written only with
# the share itself (app/services/officer_shares.py), so only a share meets that clock.
SB53_SHARE_PURPOSE = "sb53_share"
WAITING_FOR_REPORTER = "waiting_for_reporter"
PAUSE_SENTENCE = N_("We asked you something and are waiting for your reply. Your answer "
                    "helps; the date by which we owe you feedback stays the same.")
CHECKIN_SENTENCE = N_("The case team checked in after the closure of your case. If you have "
                      "been treated worse since you reported, tell us.")


class DeadlineActionRejected(Exception):
    """A staff action on a deadline is refused; ``str(error)`` is safe to show."""


log = logging.getLogger(__name__)


# --- the policy -------------------------------------------------------------------------------
def sync_policies(session: DbSession, source: PolicySource) -> bool:
    """Copy new versions of this installation's policy file to the database (see
    app/services/deadline_store.py); the app does it at each request, the tick at each run."""
    return source.sync(session.get_bind().engine)


def current_policies(session: DbSession) -> PolicySet:
    """The versions every process sees: the database's."""
    return stored_policies(session)


def policy_for(case: Case, policies: PolicySet) -> DeadlinePolicy:
    """The case's own version; UnknownPolicyVersion if this process does not know it."""
    return policies.for_version(case.deadline_policy_version)


def left_alone(number: str, version: str | None) -> None:
    log.warning("case %s left alone: its deadline policy version %r is unknown here; store "
                "the version (add it to the policy file) and its deadlines resume", number,
                version)


# --- what a case's clocks are computed from ---------------------------------------------------
@dataclass(frozen=True)
class RecordFact:
    id: int
    author: str
    kind: str
    visible_to_reporter: bool
    created_on: date
    purpose: str | None = None


@dataclass(frozen=True)
class EventFact:
    kind: str
    occurred_on: date
    visible_to_reporter: bool
    by_staff: bool


@dataclass(frozen=True)
class PauseFact:
    clock: str
    started_on: date
    after_record_id: int
    ended_on: date | None


@dataclass
class CaseFacts:
    records: list[RecordFact] = field(default_factory=list)
    events: list[EventFact] = field(default_factory=list)
    pauses: list[PauseFact] = field(default_factory=list)


def among(session: DbSession, column: ColumnElement[int] | QueryableAttribute[int],
          ids: Sequence[int]) -> ColumnElement[bool]:
    """``column IN ids`` with the ids as one parameter (an array on PostgreSQL, a JSON list
    on SQLite), not one each: a batch of a thousand cases would otherwise compile and send a
    thousand placeholders per query."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(ids), type_=postgresql.ARRAY(Integer)))
    listed = func.json_each(bindparam(None, json.dumps(list(ids)), type_=String)
                            ).table_valued("value")
    return column.in_(select(listed.c.value))


def load_facts(session: DbSession, case_ids: Sequence[int]) -> dict[int, CaseFacts]:
    """The facts of many cases in three queries (metadata columns only, never ciphertext)."""
    facts: dict[int, CaseFacts] = defaultdict(CaseFacts)
    if not case_ids:
        return facts
    for case_id, record_id, author, kind, visible, created_on, purpose in session.execute(
        select(CaseRecord.case_id, CaseRecord.id, CaseRecord.author, CaseRecord.kind,
               CaseRecord.visible_to_reporter, CaseRecord.created_on, CaseRecord.purpose)
        .where(among(session, CaseRecord.case_id, case_ids)).order_by(CaseRecord.id)
    ):
        facts[case_id].records.append(RecordFact(record_id, author, kind, visible, created_on,
                                                 purpose))
    for case_id, kind, occurred_on, visible, actor in session.execute(
        select(CaseEvent.case_id, CaseEvent.kind, CaseEvent.occurred_on,
               CaseEvent.visible_to_reporter, CaseEvent.actor_staff_id)
        .where(among(session, CaseEvent.case_id, case_ids))
    ):
        facts[case_id].events.append(EventFact(kind, occurred_on, visible, actor is not None))
    for pause in session.scalars(
        select(ClockPause).where(among(session, ClockPause.case_id, case_ids))
        .order_by(ClockPause.id)
    ):
        facts[pause.case_id].pauses.append(
            PauseFact(pause.clock, pause.started_on, pause.after_record_id, pause.ended_on))
    return facts


def _facts_in_memory(case: Case) -> CaseFacts:
    """A case not yet stored (a report being filed) has only what it carries."""
    return CaseFacts(
        records=[RecordFact(r.id or 0, r.author, r.kind, r.visible_to_reporter, r.created_on,
                            r.purpose) for r in case.records],
        events=[EventFact(e.kind, e.occurred_on, e.visible_to_reporter,
                          e.actor_staff_id is not None) for e in case.events],
    )


def facts_for(case: Case, session: DbSession | None = None) -> CaseFacts:
    session = session or object_session(case)
    if session is None or case.id is None:
        return _facts_in_memory(case)
    return load_facts(session, [case.id])[case.id]


# --- the clocks -------------------------------------------------------------------------------
class CaseDates(Protocol):
    """What the clocks read of a case: a ``Case``, or a row of these columns (the tick reads
    rows, not whole objects, for speed)."""

    @property
    def origin(self) -> str | None: ...
    @property
    def status(self) -> str: ...
    @property
    def route(self) -> str: ...
    @property
    def concerns_rso(self) -> bool | None: ...
    @property
    def received_on(self) -> date: ...
    @property
    def acknowledged_on(self) -> date | None: ...
    @property
    def triaged_on(self) -> date | None: ...
    @property
    def critical_incident(self) -> bool | None: ...
    @property
    def imminent_risk(self) -> bool | None: ...
    @property
    def critical_incident_on(self) -> date | None: ...
    @property
    def authority_notified_on(self) -> date | None: ...
    @property
    def findings_on(self) -> date | None: ...
    @property
    def closed_on(self) -> date | None: ...
    @property
    def outcome(self) -> str | None: ...
    @property
    def material_risk_found(self) -> bool | None: ...
    @property
    def reopened_count(self) -> int | None: ...
    @property
    def sb53_disclosure(self) -> bool | None: ...


# The columns behind CaseDates, and what the tick needs besides.
CASE_DATE_COLUMNS = (Case.id, Case.number, Case.origin, Case.status, Case.route,
                     Case.concerns_rso, Case.received_on, Case.acknowledged_on, Case.triaged_on,
                     Case.critical_incident, Case.imminent_risk, Case.critical_incident_on,
                     Case.authority_notified_on, Case.findings_on, Case.closed_on, Case.outcome,
                     Case.material_risk_found, Case.reopened_count, Case.sb53_disclosure,
                     Case.assignee_id, Case.key_epoch, Case.deadline_policy_version,
                     Case.next_escalation_on)


@dataclass(frozen=True)
class Deadline:
    clock: str
    cycle: int
    starts_on: date
    due_on: date  # never moved by waiting
    met_on: date | None = None
    # Since when the case waits for the reporter's answer: an annotation of the feedback
    # clock, which runs on regardless.
    waiting_since: date | None = None

    @property
    def is_open(self) -> bool:
        return self.met_on is None

    @property
    def waiting(self) -> bool:
        return self.is_open and self.waiting_since is not None

    def overdue(self, on: date) -> bool:
        return self.is_open and self.due_on < on

    def met_in_time(self) -> bool:
        return self.met_on is not None and self.met_on <= self.due_on

    @property
    def needs(self) -> str:
        return CLOCK_NEEDS[self.clock]


def _reopen_dates(facts: CaseFacts) -> list[date]:
    return [e.occurred_on for e in facts.events if e.kind == "reopen"]


def _first_on_or_after(dates: Iterable[date], start: date) -> date | None:
    return min((d for d in dates if d >= start), default=None)


def _waiting_since(facts: CaseFacts, clock: str, start: date, end: date | None) -> date | None:
    """The start of a wait for the reporter in [start, end) that their answer has not ended."""
    running = None
    for pause in facts.pauses:
        if pause.clock != clock or pause.started_on < start or (end and pause.started_on >= end):
            continue
        answered = pause.ended_on or next(
            (r.created_on for r in facts.records
             if r.author == "reporter" and r.id > pause.after_record_id), None)
        if answered is None:
            running = pause.started_on
    return running


def _written(facts: CaseFacts, purposes: tuple[str, ...]) -> list[date]:
    """The days staff wrote the reporter a message of one of ``purposes``."""
    return [r.created_on for r in facts.records if r.author == "staff" and r.visible_to_reporter
            and r.purpose in purposes]


def compute_deadlines(case: CaseDates, facts: CaseFacts, policy: DeadlinePolicy,
                      on: date | None = None) -> list[Deadline]:
    """Every deadline of the case, past (met or missed) and open, as of ``on``."""
    on = on or today()
    holidays = policy.holidays
    # A case being filed has no column defaults yet (they come with the INSERT).
    reporter = (case.origin or "reporter") == "reporter"
    reopened = case.reopened_count or 0
    found: list[Deadline] = []

    if reporter:
        met = case.acknowledged_on or (case.received_on if case.status != "received" else None)
        found.append(Deadline("acknowledge", 0, case.received_on,
                              policy.acknowledge.after(case.received_on, holidays), met))
    found.extend(_prompt_investigation(case, facts, policy))

    # Feedback: one cycle per opening of the case (the first, then each reopening).
    first_start = (case.acknowledged_on or policy.acknowledge.after(case.received_on, holidays)
                   if reporter else case.acknowledged_on or case.received_on)
    starts = [first_start, *_reopen_dates(facts)][: reopened + 1]
    # A case with a reporter owes them feedback; one opened by staff owes a decision (its
    # findings).
    given = (_written(facts, FEEDBACK_PURPOSES) if reporter
             else [e.occurred_on for e in facts.events if e.kind == "findings"])
    for cycle, start in enumerate(starts):
        end = starts[cycle + 1] if cycle + 1 < len(starts) else None
        met = _first_on_or_after(given, start)
        if met is not None and end is not None and met >= end:
            met = None
        if not reporter and end is None and met is None and case.status in FINDINGS_STATES:
            met = max(start, case.findings_on or case.closed_on or start)
        if end is None and met is None and case.status == "closed" and case.closed_on:
            # Closed before closing required the outcome (migration 0013): the cycle ended then.
            met = max(start, case.closed_on)
        if end is not None and met is None:
            met = end  # closed without it, then reopened: the cycle ended with it, late or not
        waiting = _waiting_since(facts, "feedback", start, end) if met is None else None
        found.append(Deadline("feedback", cycle, start, policy.feedback.after(start, holidays),
                              met, waiting))

    if reporter:
        found.extend(_status_updates(case, facts, policy))

    if case.outcome in SUBSTANTIATED and case.material_risk_found and case.findings_on:
        start = case.findings_on
        board_reads = case.route == "board" or case.concerns_rso
        met = start if board_reads else _first_on_or_after(
            (e.occurred_on for e in facts.events if e.kind in ("board_notified", "escalated")),
            start)
        found.append(Deadline("board_notice", reopened, start,
                              policy.board_notice.after(start, holidays), met))

    if case.critical_incident and case.critical_incident_on:
        clock, period = (("incident_imminent", policy.critical_incident_imminent)
                         if case.imminent_risk
                         else ("critical_incident", policy.critical_incident))
        start = case.critical_incident_on
        found.append(Deadline(clock, start.toordinal(), start, period.after(start, holidays),
                              case.authority_notified_on))

    if reporter and case.sb53_disclosure and policy.sb53_share:
        found.extend(_sb53_shares(case, facts, policy.sb53_share, on))

    if reporter and case.status == "closed" and case.closed_on:
        checkins = [e.occurred_on for e in facts.events if e.kind == "checkin"]
        for index, period in enumerate(policy.checkins, start=1):
            due = period.after(case.closed_on, holidays)
            window = max(case.closed_on, due - timedelta(days=policy.checkin_window_days))
            found.append(Deadline("checkin", reopened * 10 + index, case.closed_on,
                                  due, _first_on_or_after(checkins, window)))
    return found


def _prompt_investigation(case: CaseDates, facts: CaseFacts, policy: DeadlinePolicy
                          ) -> list[Deadline]:
    """Triage from acknowledgement, and the start of the investigation from the triage, for
    policy versions that have these clocks."""
    found = []
    if policy.triage and case.acknowledged_on:
        start = case.acknowledged_on
        met = case.triaged_on or (start if case.status not in ("received", "acknowledged")
                                  else None)
        found.append(Deadline("triage", 0, start, policy.triage.after(start, policy.holidays),
                              met))
    if policy.investigation_start and case.triaged_on:
        start = case.triaged_on
        met = _first_on_or_after((e.occurred_on for e in facts.events
                                  if e.kind == "investigate"), start)
        if met is None and case.status not in ("received", "acknowledged", "triaged"):
            met = start
        found.append(Deadline("investigation_start", 0, start,
                              policy.investigation_start.after(start, policy.holidays), met))
    return found


def _status_updates(case: CaseDates, facts: CaseFacts, policy: DeadlinePolicy
                    ) -> list[Deadline]:
    """One cycle per status update the reporter received; the last is open while the case is.
    Only a message written as an update (or feedback, or the outcome) counts."""
    # A reopening starts a new cycle: nothing was owed while the case was closed.
    anchors = sorted({case.received_on, *_written(facts, (*UPDATE_PURPOSES, LEGACY_PURPOSE)),
                      *_reopen_dates(facts)})
    found = []
    for index, anchor in enumerate(anchors):
        following = anchors[index + 1] if index + 1 < len(anchors) else None
        if following is None and case.status == "closed":
            break
        found.append(Deadline("status_update", anchor.toordinal(), anchor,
                              policy.status_update.after(anchor, policy.holidays), following))
    return found


def quarter_bounds(day: date) -> tuple[int, date, date]:
    """The quarter ``day`` falls in: its cycle number (year * 10 + quarter), first and last
    days."""
    quarter = (day.month - 1) // 3 + 1
    first = date(day.year, 3 * quarter - 2, 1)
    following = (date(day.year + 1, 1, 1) if quarter == 4
                 else date(day.year, 3 * quarter + 1, 1))
    return day.year * 10 + quarter, first, following - timedelta(days=1)


def _sb53_shares(case: CaseDates, facts: CaseFacts, period: Period, on: date
                 ) -> list[Deadline]:
    """One cycle per quarter from receipt to closure (or to today's quarter while open), each
    met by the first share written on or after its first day: a missed quarter is met, late,
    by the next share. Calendar days (the statute says "quarterly"), no holidays."""
    shared = _written(facts, (SB53_SHARE_PURPOSE,))
    last = case.closed_on if case.status == "closed" and case.closed_on else on
    found = []
    day = case.received_on
    while day <= last:
        cycle, first, end = quarter_bounds(day)
        found.append(Deadline("sb53_share", cycle, max(first, case.received_on),
                              period.after(end, frozenset()),
                              _first_on_or_after(shared, first)))
        day = end + timedelta(days=1)
    return found


# --- what the inbox sorts by, and when the tick looks again ----------------------------------
def schedule(deadlines: Sequence[Deadline], taken: set[tuple[str, int, str]],
             policy: DeadlinePolicy, on: date) -> tuple[Deadline | None, date | None]:
    """The earliest running deadline, and the first day a ladder step of an open deadline
    falls due that has not been taken (never later than the truth: a look too early finds
    nothing to do and moves the day on)."""
    running = [d for d in deadlines if d.is_open]
    earliest = min(running, key=lambda d: (d.due_on, CLOCK_ORDER.index(d.clock)), default=None)
    look: date | None = None
    for deadline in running:
        candidate = next((when for step, when in policy.ladder_for(deadline.clock)
                          .steps(deadline.due_on)
                          if (deadline.clock, deadline.cycle, step) not in taken), None)
        if candidate is not None and (look is None or candidate < look):
            look = candidate
    return earliest, look


def taken_steps(session: DbSession, case_ids: Sequence[int]
                ) -> dict[int, set[tuple[str, int, str]]]:
    taken: dict[int, set[tuple[str, int, str]]] = defaultdict(set)
    if case_ids:
        for case_id, clock, cycle, step in session.execute(
            select(EscalationStep.case_id, EscalationStep.clock, EscalationStep.cycle,
                   EscalationStep.step).where(among(session, EscalationStep.case_id, case_ids))
        ):
            taken[case_id].add((clock, cycle, step))
    return taken


def schedule_columns(deadlines: Sequence[Deadline], taken: set[tuple[str, int, str]],
                     policy: DeadlinePolicy, on: date) -> dict[str, Any]:
    """The case's summary columns as ``schedule`` sets them."""
    earliest, look = schedule(deadlines, taken, policy, on)
    return {"next_due_on": earliest.due_on if earliest else None,
            "next_due_clock": earliest.clock if earliest else None,
            "next_escalation_on": look}


def apply_schedule(case: Case, deadlines: Sequence[Deadline],
                   taken: set[tuple[str, int, str]], policy: DeadlinePolicy, on: date) -> None:
    for name, value in schedule_columns(deadlines, taken, policy, on).items():
        setattr(case, name, value)


def refresh_due(case: Case, session: DbSession | None = None,
                policies: PolicySet | None = None, on: date | None = None) -> None:
    """Recompute the case's earliest open deadline (``next_due_on``/``next_due_clock``) and the
    day its ladder next needs a look. Call after anything that changes the case's dates; a
    new case takes the current policy version here. A case whose version this process does not
    know is left as it is (and logged)."""
    session = session or object_session(case) or db.session
    policies = policies or current_policies(session)
    if case.deadline_policy_version is None:
        case.deadline_policy_version = policies.current.version
    if not policies.knows(case.deadline_policy_version):
        left_alone(case.number, case.deadline_policy_version)
        return
    policy = policies.for_version(case.deadline_policy_version)
    on = on or today()
    facts = facts_for(case, session)
    taken = taken_steps(session, [case.id])[case.id] if case.id is not None else set()
    apply_schedule(case, compute_deadlines(case, facts, policy, on), taken, policy, on)


def case_deadlines(session: DbSession, case: Case, on: date | None = None) -> list[Deadline]:
    """UnknownPolicyVersion if this process does not know the case's version."""
    return compute_deadlines(case, facts_for(case, session),
                             policy_for(case, current_policies(session)), on)


# --- the reporter's dates ---------------------------------------------------------------------
def reporter_dates(case: Case, session: DbSession | None = None,
                   on: date | None = None) -> dict[str, Any]:
    """What the reporter is owed, under the case's own policy: ``acknowledge_by``,
    ``feedback_by`` (which waiting never moves), ``feedback_waiting_since`` (the case waits for
    the reporter's answer), ``next_update_by``. All None for a case whose version this process
    does not know: better no date than a wrong one."""
    try:
        deadlines = case_deadlines(session or db.session, case, on)
    except UnknownPolicyVersion:
        left_alone(case.number, case.deadline_policy_version)
        return dict.fromkeys(("acknowledge_by", "feedback_by", "feedback_waiting_since",
                              "next_update_by"))

    def last(clock: str) -> Deadline | None:
        return next((d for d in reversed(deadlines) if d.clock == clock), None)

    acknowledge, feedback, update = last("acknowledge"), last("feedback"), last("status_update")
    return {
        "acknowledge_by": acknowledge.due_on.isoformat() if acknowledge else None,
        "feedback_by": feedback.due_on.isoformat() if feedback else None,
        "feedback_waiting_since": (feedback.waiting_since.isoformat()
                                   if feedback and feedback.waiting and feedback.waiting_since
                                   else None),
        "next_update_by": (update.due_on.isoformat()
                           if update and update.is_open else None),
    }


# --- staff actions on deadlines ---------------------------------------------------------------
def _running_pause(session: DbSession, case: Case) -> ClockPause | None:
    for pause in session.scalars(select(ClockPause).where(
            ClockPause.case_id == case.id, ClockPause.ended_on.is_(None))):
        replied = session.scalar(select(CaseRecord.created_on).where(
            CaseRecord.case_id == case.id, CaseRecord.author == "reporter",
            CaseRecord.id > pause.after_record_id).order_by(CaseRecord.id).limit(1))
        if replied is None:
            return pause
        pause.ended_on = replied  # settle it now that we know
    return None


def wait_for_reporter(session: DbSession, case: Case, staff: StaffUser,
                      on: date | None = None) -> ClockPause:
    """Mark the case as waiting for the reporter's next message. The feedback date stays
    where the law puts it: this annotates the clock (for the handler and the reporter) and
    never extends it."""
    on = on or today()
    if case.origin != "reporter":
        raise DeadlineActionRejected("This case has no reporter to wait for.")
    if case.status in ("received", "closed") or case.status in FINDINGS_STATES:
        raise DeadlineActionRejected(
            "A case waits for the reporter only between acknowledgement and the findings.")
    if _running_pause(session, case) is not None:
        raise DeadlineActionRejected("The case is already waiting for the reporter.")
    last_record = session.scalar(select(CaseRecord.id).where(CaseRecord.case_id == case.id)
                                 .order_by(CaseRecord.id.desc()).limit(1))
    pause = ClockPause(case_id=case.id, clock="feedback", reason=WAITING_FOR_REPORTER,
                       started_on=on, after_record_id=last_record or 0,
                       started_by_id=staff.id)
    session.add(pause)
    case.events.append(CaseEvent(kind="waiting_for_reporter", occurred_on=on,
                                 visible_to_reporter=True, detail=PAUSE_SENTENCE,
                                 actor_staff_id=staff.id))
    audit.record(session, "case.waiting_for_reporter", actor=audit.actor_for(staff),
                 case_number=case.number, detail={"clock": "feedback"})
    session.flush()
    refresh_due(case, session, on=on)
    return pause


def record_board_notice(session: DbSession, case: Case, staff: StaffUser,
                        on: date | None = None) -> None:
    """The Board was told of a substantiated material-risk finding (RSP v3 "promptly")."""
    on = on or today()
    if not (case.outcome in SUBSTANTIATED and case.material_risk_found):
        raise DeadlineActionRejected(
            "Board notice is owed only for a substantiated material-risk finding.")
    case.events.append(CaseEvent(kind="board_notified", occurred_on=on,
                                 visible_to_reporter=False, actor_staff_id=staff.id))
    audit.record(session, "case.board_notified", actor=audit.actor_for(staff),
                 case_number=case.number)
    session.flush()
    refresh_due(case, session, on=on)


def record_checkin(session: DbSession, case: Case, staff: StaffUser,
                   on: date | None = None) -> None:
    """A follow-up check-in after closure was made (ISO 37002 retaliation monitoring)."""
    on = on or today()
    if case.status != "closed" or case.origin != "reporter":
        raise DeadlineActionRejected("Check-ins follow the closure of a case with a reporter.")
    case.events.append(CaseEvent(kind="checkin", occurred_on=on, visible_to_reporter=True,
                                 detail=CHECKIN_SENTENCE, actor_staff_id=staff.id))
    audit.record(session, "case.checkin", actor=audit.actor_for(staff), case_number=case.number)
    session.flush()
    refresh_due(case, session, on=on)


# --- critical safety incidents (B&P §22757.13(c)) ---------------------------------------------
AUTHORITY_REFERENCE_MAX = 120


def flag_critical_incident(session: DbSession, case: Case, staff: StaffUser | None,
                           imminent_risk: bool, on: date | None = None) -> None:
    """Flag the case as a possible critical safety incident the lab must report: the clock
    runs from today, the day the lab learned of it (24 hours with imminent risk of death or
    serious injury, 15 days otherwise). Flagging again with imminent risk starts the shorter
    clock from today; anything else is refused."""
    on = on or today()
    if case.authority_notified_on is not None:
        raise DeadlineActionRejected("The authority was already notified of this incident.")
    if case.critical_incident and (case.imminent_risk or not imminent_risk):
        raise DeadlineActionRejected("The case is already flagged as a critical safety "
                                     "incident.")
    case.critical_incident, case.imminent_risk, case.critical_incident_on = \
        True, imminent_risk, on
    case.events.append(CaseEvent(kind="critical_incident_flagged", occurred_on=on,
                                 visible_to_reporter=False,
                                 detail="imminent risk" if imminent_risk else None,
                                 actor_staff_id=staff.id if staff else None))
    audit.record(session, "case.critical_incident_flagged", actor=audit.actor_for(staff),
                 case_number=case.number, detail={"imminent_risk": imminent_risk})
    session.flush()
    refresh_due(case, session, on=on)


def record_authority_notice(session: DbSession, case: Case, staff: StaffUser,
                            notified_on: date, reference: str,
                            on: date | None = None) -> None:
    """The notice of the critical safety incident made to the authority (its date and the
    authority's reference), which meets the incident's clock."""
    on = on or today()
    reference = reference.strip()
    if not case.critical_incident:
        raise DeadlineActionRejected("Flag the case as a critical safety incident first.")
    if case.authority_notified_on is not None:
        raise DeadlineActionRejected("The notice to the authority is already recorded.")
    if notified_on > on or notified_on < case.received_on:
        raise DeadlineActionRejected("The notice date is between the case's receipt and today.")
    if not reference or len(reference) > AUTHORITY_REFERENCE_MAX \
            or not reference.isprintable():
        raise DeadlineActionRejected("Give the authority's reference for the notice (up to "
                                     f"{AUTHORITY_REFERENCE_MAX} characters, one line).")
    case.authority_notified_on, case.authority_reference = notified_on, reference
    case.events.append(CaseEvent(kind="authority_notified", occurred_on=on,
                                 visible_to_reporter=False, actor_staff_id=staff.id))
    # The reference stays on the case, readable by its handlers; the trail keeps the date.
    audit.record(session, "case.authority_notified", actor=audit.actor_for(staff),
                 case_number=case.number, detail={"notified_on": notified_on.isoformat()})
    session.flush()
    refresh_due(case, session, on=on)
