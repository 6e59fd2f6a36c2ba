"""Case management: who may see a case, and everything staff do to one.

The lifecycle lives here and only here (DESIGN.md; RSP v3 §4, EU Directive 2019/1937, ISO 37002):

    received → acknowledged → triaged → investigating → findings → corrective_action → closed
    closed → (reopen) → investigating

Each step demands what makes it meaningful (triage: a confirmed category, a severity and a
retaliation-risk assessment; findings: an outcome, a material-safety-risk answer and an encrypted
summary; closure: an approver after a corrective-action record), and leaves a case event the
reporter sees, an audit entry and a fresh next deadline.

Content stays ciphertext here. The server checks shapes and who may act; the case key is only
ever sealed and opened in clients.

Access rule: a staff member sees a case if they hold HANDLE_CASES, are not excluded from it
(named as concerned, or recused), and hold a grant of its current key epoch: a recipient grant,
or an escrow grant the server has released on escalation. To everyone else the case does not
exist: 404 on its URLs and absent from every list, count and API answer.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, Select, and_, delete, exists, false, func, or_, select, text

from app.extensions import DbSession
from app.models import (
    AuditEntry,
    Case,
    CaseEvent,
    CaseExclusion,
    CaseGrant,
    CaseRecord,
    StaffUser,
    today,
)
from app.roles import Permission
from app.services import audit, deadlines
from app.services.directory import active_entries
from app.services.refusals import Refused
from app.services.reports import (
    CASE_REF,
    RECORD_REF,
    GrantIn,
    SubmissionRejected,
    check_grants,
    new_number,
)
from app.services.routing import Route, RoutingError, readers_for
from app.taxonomy import Taxonomy
from app.vocabulary import (
    LINK_KINDS,
    OUTCOMES,
    RETALIATION_RISKS,
    SEVERITIES,
    STATUSES,
    Purpose,
)
from candor_reporter.languages import N_
from crypto.envelope import RecordKind, check_grant_shape, check_record_shape
from crypto.errors import CryptoError

# Messages to the reporter a handler may declare a purpose for (the outcome is written by the
# closing step itself). The server cannot read a message: the staff page asks for each part, and
# the purpose is what the writer declared (README, "Handling cases").
MESSAGE_PURPOSES = (Purpose.UPDATE, Purpose.FEEDBACK)
PURPOSE_SENTENCES = {
    None: "You have a new message.",
    "update": "You have a status update on the investigation.",
    "feedback": "You have feedback: the action taken or planned on your report, and why.",
}
NUMBER = re.compile(r"C-[0-9A-Z]{5}")

# action → the statuses it may start from and the status it leads to.
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "acknowledge": (("received",), "acknowledged"),
    "triage": (("acknowledged",), "triaged"),
    "investigate": (("triaged",), "investigating"),
    "findings": (("investigating",), "findings"),
    "corrective_action": (("findings",), "corrective_action"),
    "close": (("corrective_action",), "closed"),
    "reopen": (("closed",), "investigating"),
}

# What the reporter reads on their case page for each step: never a name, never content.
REPORTER_SENTENCES = {
    "acknowledge": N_("Your report was acknowledged by its recipients."),
    "triage": N_("Your report was assessed and will be looked into."),
    "investigate": N_("Your report is being investigated."),
    "findings": N_("The investigation has recorded its findings. Feedback on what follows "
                   "from them will be written to you."),
    "corrective_action": N_("Action in response to the findings has been recorded."),
    "close": N_("Your case was closed. The recipients wrote to you about the outcome and "
                "where you can turn next."),
    "reopen": N_("Your case was reopened."),
}


# What the closing handler offers the reporter as "where you can turn next" (EU Directive art.
# 9(1)(g); Labor Code §1107.1): a default the lab replaces with instance/closure_next_steps.txt,
# and the handler can edit case by case.
CLOSURE_NEXT_STEPS_FILE = "closure_next_steps.txt"
CLOSURE_NEXT_STEPS = (
    "If you disagree with this outcome, or at any time, you may also report to an authority "
    "outside the lab: in California, the Attorney General, and in the European Union, the "
    "competent national authority or the EU AI Office. Retaliation for reporting is "
    "prohibited: if you are treated worse because of your report, tell us with the "
    "\"I am facing retaliation\" link on your case page, or tell one of those authorities.")


def closure_next_steps(instance_path: Path) -> str:
    """The lab's own text if it wrote one, else the default."""
    try:
        text = (instance_path / CLOSURE_NEXT_STEPS_FILE).read_text(encoding="utf-8").strip()
    except (FileNotFoundError, UnicodeDecodeError):
        return CLOSURE_NEXT_STEPS
    return text or CLOSURE_NEXT_STEPS


class CaseNotFound(Exception):
    """No such case, or not one this person may know about (the two look the same)."""


class CaseActionRejected(Refused):
    """The action is refused; ``str(error)`` is safe to show the staff member."""


_require = CaseActionRejected.unless



@dataclass(frozen=True)
class EncryptedRecord:
    """A content record a staff client encrypted under the case key of ``key_epoch``."""

    record_ref: str
    key_epoch: int
    ciphertext: bytes


# --- access -----------------------------------------------------------------------------------
def _access(staff_id: int) -> ColumnElement[bool]:
    """The SQL condition for "``staff_id`` may see this case" (see the module docstring).

    Written as correlated EXISTS so that list queries can walk an index of ``cases`` in their
    sort order and stop after one page."""
    return _may_read(Case.id, Case.key_epoch, staff_id)


def _may_read(case_id: Any, key_epoch: Any, staff_id: Any) -> ColumnElement[bool]:
    """A usable grant of the case's current epoch (a recipient grant, or an escrow grant the
    server released), and no exclusion. The arguments are columns or values, so the same rule
    serves "which cases may this person see" and "who may read this case"."""
    holds_key = exists().where(
        CaseGrant.case_id == case_id, CaseGrant.staff_id == staff_id,
        CaseGrant.key_epoch == key_epoch, CaseGrant.usable,
    )
    excluded = exists().where(CaseExclusion.case_id == case_id,
                              CaseExclusion.staff_id == staff_id)
    return and_(holds_key, ~excluded)


def _may_handle(staff: StaffUser) -> bool:
    return staff.can(Permission.HANDLE_CASES) and staff.disabled_at is None


def visible_cases_query(staff: StaffUser) -> Select[Case]:
    """Every case ``staff`` may see, as a query to filter, count or page further."""
    if not _may_handle(staff):
        return select(Case).where(false())
    return select(Case).where(_access(staff.id))


def visible_case(session: DbSession, staff: StaffUser, number: str) -> Case:
    """The case numbered ``number`` if ``staff`` may see it; CaseNotFound otherwise."""
    if not NUMBER.fullmatch(number):
        raise CaseNotFound(number)
    case = session.scalars(visible_cases_query(staff).where(Case.number == number)).first()
    if case is None:
        raise CaseNotFound(number)
    return case


def members(session: DbSession, case: Case) -> list[StaffUser]:
    """The staff who may read the case now (hold a usable grant of its current epoch)."""
    return list(session.scalars(
        select(StaffUser).where(StaffUser.disabled_at.is_(None),
                                _may_read(case.id, case.key_epoch, StaffUser.id))
        .order_by(StaffUser.username)))


def _excluded_ids(case: Case) -> set[int]:
    return {e.staff_id for e in case.exclusions}


def candidates(session: DbSession, case: Case) -> list[StaffUser]:
    """Recipients the case could be shared with: a signed key, case handling, not excluded,
    not already members. Holders of an escrow copy are not among them: they are brought in
    by escalation, which the case records with its reason."""
    escrow = {g.staff_id for g in case.grants if g.kind == "escrow"}
    taken = {s.id for s in members(session, case)} | _excluded_ids(case) | escrow
    return [s for s in active_entries(session)
            if s.id not in taken and s.can(Permission.HANDLE_CASES)]


def my_grants(case: Case, staff: StaffUser) -> list[CaseGrant]:
    """The grants ``staff`` may open, one per key epoch they were given."""
    return [g for g in case.grants if g.staff_id == staff.id and g.usable]


def identity_revealed_to(case: Case, staff: StaffUser) -> bool:
    return any(e.kind == "identity_revealed" and e.actor_staff_id == staff.id
               for e in case.events)


def allowed_actions(case: Case) -> list[str]:
    return [action for action, (sources, _) in TRANSITIONS.items() if case.status in sources]


# --- the inbox --------------------------------------------------------------------------------
@dataclass(frozen=True)
class InboxFilter:
    status: str = "open"  # a status, "open" (everything not closed) or "all"
    category: str | None = None
    route: str | None = None
    assignee: str | None = None  # "me", "none" or a staff id as text
    overdue: bool = False
    flag: str | None = None
    sort: str = "due"
    page: int = 1


STATUS_FILTERS = ("open", "all", *STATUSES)
FLAGS = ("material_risk", "sb53_disclosure", "identity_given", "concerns_rso",
         "critical_incident")
SORTS = {
    "due": (Case.next_due_on, Case.id),
    "received": (Case.received_on.desc(), Case.id.desc()),
    "number": (Case.number,),
}
# Written out, not bound, so that SQLite matches it to the partial index ix_cases_open_due.
OPEN = text("cases.status != 'closed'")


@dataclass(frozen=True)
class InboxPage:
    cases: list[Case]
    total: int
    page: int
    pages: int
    per_page: int
    counts: dict[str, Any]


T = TypeVar("T")


class CountsCache:
    """Inbox counts per person (and the totals of filtered views), kept until any case
    changes.

    Counting every case a person may see touches every one of them; listing one page does
    not. So counts are computed once and reused while the newest case event and the newest
    audit entry are unchanged (every change to a case leaves one or the other) and the day is
    the same (overdue depends on it). Entries also expire after ``ttl`` seconds, which bounds
    how long a transaction that committed out of id order could leave a count stale."""

    def __init__(self, ttl: float = 30.0, size: int = 512) -> None:
        self.ttl, self.size = ttl, size
        self._entries: dict[tuple[Any, ...], tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, session: DbSession, what: tuple[Any, ...], on: date,
            compute: Callable[[], T]) -> T:
        stamp = (session.scalar(select(func.max(CaseEvent.id))),
                 session.scalar(select(func.max(AuditEntry.id))))
        key = (*what, on, stamp)
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(key)
        if hit is not None and now - hit[0] < self.ttl:
            return cast(T, hit[1])
        counts = compute()
        with self._lock:
            if len(self._entries) >= self.size:
                self._entries.clear()
            self._entries[key] = (now, counts)
        return counts


def inbox(session: DbSession, staff: StaffUser, chosen: InboxFilter, on: date,
          cache: CountsCache | None = None, per_page: int = 25) -> InboxPage:
    """One page of the cases ``staff`` may see, filtered and sorted on the server, with the
    counts per filter over all of them. Plain column filters come before the access check
    so that the database evaluates the cheap ones first."""
    if not _may_handle(staff):
        return InboxPage([], 0, 1, 1, per_page, _no_counts())
    query = select(Case)
    if chosen.status == "open":
        query = query.where(OPEN)
    elif chosen.status != "all":
        query = query.where(Case.status == chosen.status)
    if chosen.category:
        query = query.where(Case.category == chosen.category)
    if chosen.route:
        query = query.where(Case.route == chosen.route)
    if chosen.assignee == "me":
        query = query.where(Case.assignee_id == staff.id)
    elif chosen.assignee == "none":
        query = query.where(Case.assignee_id.is_(None))
    elif chosen.assignee:
        query = query.where(Case.assignee_id == int(chosen.assignee))
    if chosen.overdue:
        query = query.where(Case.next_due_on < on)
    if chosen.flag:
        query = query.where(getattr(Case, chosen.flag).is_(True))
    query = query.where(_access(staff.id))

    def counted() -> dict[str, Any]:
        return _counts(session, staff, on)

    def total_of_query() -> int:
        return session.scalar(select(func.count()).select_from(query.subquery())) or 0

    counts = cache.get(session, (staff.id,), on, counted) if cache else counted()
    total = _total_from_counts(chosen, counts)
    if total is None:
        criteria = replace(chosen, page=1, sort="due")
        total = (cache.get(session, (staff.id, criteria), on, total_of_query) if cache
                 else total_of_query())
    pages = max(1, -(-total // per_page))
    page = min(max(chosen.page, 1), pages)
    rows = list(session.scalars(query.order_by(*SORTS[chosen.sort])
                                .limit(per_page).offset((page - 1) * per_page)))
    return InboxPage(rows, total, page, pages, per_page, counts)


def _total_from_counts(chosen: InboxFilter, counts: dict[str, Any]) -> int | None:
    """The number of matching cases when the counts already hold it (the common views), so
    they need not be counted again; None when they must be."""
    extra = (chosen.category, chosen.route, chosen.flag)
    if any(extra) or (chosen.status != "open" and (chosen.overdue or chosen.assignee)):
        return None
    if chosen.status == "all":
        return int(sum(counts["status"].values()))
    if chosen.status != "open":
        return int(counts["status"][chosen.status])
    if chosen.overdue and chosen.assignee:
        return None
    if chosen.overdue:
        return int(counts["overdue"])
    if chosen.assignee in ("me", "none"):
        return int(counts["mine" if chosen.assignee == "me" else "unassigned"])
    return None if chosen.assignee else int(counts["open"])


@dataclass(frozen=True)
class WaitingWork:
    """What waits for a handler across the cases they may read: the staff home lists it."""

    to_acknowledge: int
    overdue: int
    assigned_to_me: int
    unassigned: int
    open: int


def waiting_work(session: DbSession, staff: StaffUser, on: date) -> WaitingWork:
    counts = _counts(session, staff, on)
    return WaitingWork(to_acknowledge=int(counts["status"]["received"]),
                       overdue=int(counts["overdue"]), assigned_to_me=int(counts["mine"]),
                       unassigned=int(counts["unassigned"]), open=int(counts["open"]))


def _no_counts() -> dict[str, Any]:
    return {"status": dict.fromkeys(STATUSES, 0), "open": 0, "overdue": 0, "unassigned": 0,
            "mine": 0}


def _counts(session: DbSession, staff: StaffUser, on: date) -> dict[str, Any]:
    """Cases per status, and open cases overdue, unassigned and assigned to ``staff``."""
    counts = _no_counts()
    rows = session.execute(
        select(Case.status, func.count(),
               func.count().filter(Case.next_due_on < on),
               func.count().filter(Case.assignee_id.is_(None)),
               func.count().filter(Case.assignee_id == staff.id))
        .where(_access(staff.id)).group_by(Case.status))
    for status, count, overdue, unassigned, mine in rows:
        counts["status"][status] = count
        if status != "closed":
            counts["open"] += count
            counts["overdue"] += overdue
            counts["unassigned"] += unassigned
            counts["mine"] += mine
    return counts


# --- recording what happened ------------------------------------------------------------------
def _event(session: DbSession, case: Case, staff: StaffUser | None, action: str,
           detail: dict[str, Any] | None = None, reporter_sentence: str | None = None) -> None:
    """One step of the case: a timeline event (seen by the reporter when it has a sentence for
    them) and the audit entry, in the caller's transaction."""
    case.events.append(CaseEvent(
        kind=action, occurred_on=today(), visible_to_reporter=reporter_sentence is not None,
        detail=reporter_sentence, actor_staff_id=staff.id if staff else None))
    audit.record(session, f"case.{action}", actor=audit.actor_for(staff),
                 case_number=case.number, detail=detail)


def _store_record(case: Case, staff: StaffUser, kind: RecordKind, record: EncryptedRecord,
                  visible_to_reporter: bool, purpose: str | None = None) -> CaseRecord:
    _require(bool(RECORD_REF.fullmatch(record.record_ref)), "The record identifier is malformed.")
    _require(all(r.record_ref != record.record_ref for r in case.records),
             "This record identifier is taken; send again.")
    _require(record.key_epoch == case.key_epoch,
             "The case key has changed since this page was loaded; reload and try again.")
    try:
        check_record_shape(record.ciphertext)
    except CryptoError as error:
        raise CaseActionRejected(f"The encrypted record is malformed: {error}.") from None
    stored = CaseRecord(record_ref=record.record_ref, kind=kind.name.lower(), author="staff",
                        author_staff_id=staff.id, visible_to_reporter=visible_to_reporter,
                        purpose=purpose, created_on=today(), key_epoch=record.key_epoch,
                        ciphertext=record.ciphertext)
    case.records.append(stored)
    return stored


def add_record(session: DbSession, case: Case, staff: StaffUser, kind: str,
               record: EncryptedRecord, purpose: str | None = None) -> CaseRecord:
    """A message to the reporter (and the case's readers), plain or with a purpose (a status
    update or feedback, which meet the clocks of those names), or an internal note, which
    the reporter never sees."""
    _require(kind in ("note", "message"), "A record written here is a note or a message.")
    _require(purpose is None or (kind == "message" and purpose in MESSAGE_PURPOSES),
             "A message to the reporter is a plain message, a status update or feedback.")
    if kind == "message":
        _require(case.origin == "reporter", "This case has no reporter to write to.")
        _require(case.status != "closed", "Reopen the case before writing to the reporter.")
        _require(purpose != "feedback" or case.status != "received",
                 "Acknowledge the report before giving feedback.")
    stored = _store_record(case, staff, RecordKind[kind.upper()], record,
                           visible_to_reporter=kind == "message", purpose=purpose)
    _event(session, case, staff, f"{purpose or kind}_written",
           reporter_sentence=PURPOSE_SENTENCES[purpose] if kind == "message" else None)
    if purpose is not None:  # an update or feedback meets its clock
        session.flush()
        deadlines.refresh_due(case, session)
    return stored


# --- the lifecycle ----------------------------------------------------------------------------
def _transition(session: DbSession, case: Case, staff: StaffUser, action: str,
                detail: dict[str, Any] | None = None) -> None:
    sources, target = TRANSITIONS[action]
    _require(case.status in sources,
             f"A case that is {case.status.replace('_', ' ')} cannot be moved this way.")
    case.status = target
    _event(session, case, staff, action, detail, reporter_sentence=REPORTER_SENTENCES[action]
           if case.origin == "reporter" else None)
    deadlines.refresh_due(case)


def acknowledge(session: DbSession, case: Case, staff: StaffUser,
                message: EncryptedRecord | None = None) -> None:
    """Acknowledge receipt, optionally with a first message to the reporter."""
    case.acknowledged_on = today()
    _transition(session, case, staff, "acknowledge")
    if message is not None:
        add_record(session, case, staff, "message", message)


def triage(session: DbSession, case: Case, staff: StaffUser, *, category: str, severity: str,
           retaliation_risk: str, taxonomy: Taxonomy) -> None:
    """Confirm (or correct) the category, and assess severity and the risk of retaliation
    against the reporter (ISO 37002 asks for that assessment at every stage)."""
    _require(taxonomy.get(category) is not None or category == case.category,
             "Choose one of the listed categories.")
    _require(severity in SEVERITIES, "Choose a severity: low, medium, high or critical.")
    _require(retaliation_risk in RETALIATION_RISKS,
             "Assess the retaliation risk: low, medium or high.")
    if category != case.category:
        case.category, case.taxonomy_version = category, taxonomy.version
    case.severity, case.retaliation_risk, case.triaged_on = severity, retaliation_risk, today()
    _transition(session, case, staff, "triage", {
        "category": category, "severity": severity, "retaliation_risk": retaliation_risk})
    # Each assessment of the risk is kept on the timeline, the first one too.
    case.events.append(CaseEvent(kind="retaliation_risk_assessed", occurred_on=today(),
                                 visible_to_reporter=False, detail=retaliation_risk,
                                 actor_staff_id=staff.id))


def investigate(session: DbSession, case: Case, staff: StaffUser) -> None:
    _transition(session, case, staff, "investigate")


def record_findings(session: DbSession, case: Case, staff: StaffUser, *, outcome: str,
                    material_risk_found: bool, summary: EncryptedRecord) -> None:
    """The findings: an outcome, whether a material safety risk was found (which starts the
    Board-notice clock), and the encrypted summary that documents them (RSP v3 §4)."""
    _require(outcome in OUTCOMES, "Choose an outcome: substantiated, partly substantiated, "
             "not substantiated or out of scope.")
    _require(case.status in TRANSITIONS["findings"][0],
             "Findings are recorded while the case is being investigated.")
    _store_record(case, staff, RecordKind.FINDINGS, summary, visible_to_reporter=False)
    case.outcome, case.material_risk_found, case.findings_on = outcome, material_risk_found, today()
    _transition(session, case, staff, "findings",
                {"outcome": outcome, "material_risk_found": material_risk_found})


def record_corrective_action(session: DbSession, case: Case, staff: StaffUser,
                             action: EncryptedRecord) -> None:
    """What was done in response to the findings (or why nothing needed doing)."""
    _require(case.status in TRANSITIONS["corrective_action"][0],
             "Corrective action is recorded after the findings.")
    _store_record(case, staff, RecordKind.ACTION, action, visible_to_reporter=False)
    _transition(session, case, staff, "corrective_action")


def close(session: DbSession, case: Case, staff: StaffUser, approver_id: int,
          outcome: EncryptedRecord | None = None) -> None:
    """Close with the approver on record (ISO 37002 closure: date, approver, action). A case
    with a reporter closes only with the outcome written to them, and where they can turn
    next (EU Directive art. 9(1)(f)-(g)): it meets the feedback and status-update clocks."""
    approver = next((m for m in members(session, case) if m.id == approver_id), None)
    _require(approver is not None, "The approver must be someone who can read this case.")
    _require(case.status in TRANSITIONS["close"][0],
             f"A case that is {case.status.replace('_', ' ')} cannot be moved this way.")
    if case.origin == "reporter":
        _require(outcome is not None, "Write the reporter the outcome, and where they can "
                 "turn next, before closing the case.")
        assert outcome is not None
        _store_record(case, staff, RecordKind.MESSAGE, outcome, visible_to_reporter=True,
                      purpose="outcome")
    case.approver_id, case.closed_on = approver_id, today()
    session.flush()
    _transition(session, case, staff, "close", {"approver": approver_id})


def reopen(session: DbSession, case: Case, staff: StaffUser) -> None:
    case.reopened_count += 1
    case.closed_on = None
    _transition(session, case, staff, "reopen")


# --- people -----------------------------------------------------------------------------------
def assign(session: DbSession, case: Case, staff: StaffUser, assignee_id: int | None) -> None:
    """Assign (or hand over) the case to one of the people who can read it, or unassign it."""
    if assignee_id is not None:
        _require(any(m.id == assignee_id for m in members(session, case)),
                 "A case can be assigned only to someone who can read it.")
    case.assignee_id = assignee_id
    _event(session, case, staff, "assigned", {"assignee": assignee_id})


def _grant_bytes(grant: bytes) -> bytes:
    try:
        return check_grant_shape(grant)
    except CryptoError as error:
        raise CaseActionRejected(f"A sealed key is malformed: {error}.") from None


def share(session: DbSession, case: Case, staff: StaffUser, target_id: int,
          grants: Sequence[tuple[int, bytes]]) -> None:
    """Give ``target_id`` access: the case key of every epoch the sharer holds, sealed in the
    sharer's browser to the target's verified directory key."""
    target = next((c for c in candidates(session, case) if c.id == target_id), None)
    _require(target is not None, "The case can be shared only with a recipient who has a signed "
             "key, is not excluded from it and cannot read it yet.")
    held = sorted(g.key_epoch for g in my_grants(case, staff))
    _require(sorted(epoch for epoch, _ in grants) == held,
             "Seal one copy of the case key for each key epoch you hold.")
    for epoch, grant in grants:
        case.grants.append(CaseGrant(kind="recipient", staff_id=target_id, key_epoch=epoch,
                                     grant=_grant_bytes(grant), granted_by_id=staff.id))
    _event(session, case, staff, "shared", {"with": target_id})


def revoke(session: DbSession, case: Case, staff: StaffUser, target_id: int, new_epoch: int,
           grants: Sequence[GrantIn]) -> None:
    """Take ``target_id``'s access away: delete every copy of the key sealed to them and move
    the case to a new case key, sealed to everyone else who keeps access (members, the
    reporter, escrow holders). Content written afterwards is under the new key; what the
    revoked person already read, they may have kept (written down in the README)."""
    remaining = [m for m in members(session, case) if m.id != target_id]
    _require(target_id != staff.id, "To give up your own access, recuse yourself.")
    _require(len(remaining) < len(members(session, case)), "This person cannot read the case.")
    _require(new_epoch == case.key_epoch + 1, "The case key has changed since this page was "
             "loaded; reload and try again.")
    escrow = {g.staff_id for g in case.grants if g.kind == "escrow"
              and g.key_epoch == case.key_epoch and g.released_on is None
              and g.staff_id != target_id}
    try:
        check_grants(list(grants), {m.id for m in remaining}, {i for i in escrow if i},
                     reporter=case.reporter_public_key is not None)
    except SubmissionRejected as error:
        raise CaseActionRejected(str(error)) from None
    session.execute(delete(CaseGrant).where(CaseGrant.case_id == case.id,
                                            CaseGrant.staff_id == target_id))
    session.expire(case, ["grants"])
    case.key_epoch = new_epoch
    for grant in grants:
        case.grants.append(CaseGrant(kind=grant.kind, staff_id=grant.staff_id, key_epoch=new_epoch,
                                     grant=grant.grant, granted_by_id=staff.id))
    if case.assignee_id == target_id:
        case.assignee_id = None
    _event(session, case, staff, "access_revoked", {"from": target_id, "key_epoch": new_epoch})


def recuse(session: DbSession, case: Case, staff: StaffUser) -> None:
    """Step away from a case for a conflict of interest: from now on it does not exist for
    this person. Refused for the last person who can read it."""
    _require(len(members(session, case)) > 1, "You are the only person who can read this case: "
             "share it with someone before you recuse yourself.")
    session.execute(delete(CaseGrant).where(CaseGrant.case_id == case.id,
                                            CaseGrant.staff_id == staff.id))
    session.expire(case, ["grants"])
    case.exclusions.append(CaseExclusion(staff_id=staff.id, reason="recused"))
    if case.assignee_id == staff.id:
        case.assignee_id = None
    _event(session, case, staff, "recused")


def assess_retaliation_risk(session: DbSession, case: Case, staff: StaffUser,
                            retaliation_risk: str) -> None:
    """A new assessment of the risk of retaliation against the reporter, at any step and after
    closure (ISO 37002): each one is kept on the timeline and in the audit trail."""
    _require(retaliation_risk in RETALIATION_RISKS,
             "Assess the retaliation risk: low, medium or high.")
    case.retaliation_risk = retaliation_risk
    _event(session, case, staff, "retaliation_risk_assessed",
           {"retaliation_risk": retaliation_risk, "status": case.status})
    case.events[-1].detail = retaliation_risk


def reveal_identity(session: DbSession, case: Case, staff: StaffUser,
                    reason: str | None = None) -> CaseRecord:
    """Hand this staff member the reporter's encrypted identity, leaving an audited event the
    reporter sees too. The server withholds the record until then; the case key would open it,
    so this is an accountability control, not a cryptographic one (README, threat model).
    ``reason`` is the audited reason code (app/services/disclosures.py checks it)."""
    record = next((r for r in case.records if r.kind == "identity"), None)
    _require(record is not None, "The reporter gave no identity.")
    assert record is not None
    if not identity_revealed_to(case, staff):
        _event(session, case, staff, "identity_revealed",
               {"reason": reason} if reason else None,
               reporter_sentence="A recipient opened the identity details you gave.")
    return record


def link(session: DbSession, case: Case, staff: StaffUser, other: Case, kind: str) -> None:
    _require(kind in LINK_KINDS, "A link is to a duplicate, a related case, or the case a "
             "retaliation report follows.")
    _require(other.id != case.id, "A case cannot be linked to itself.")
    case.linked_case_id, case.link_kind = other.id, kind
    _event(session, case, staff, "linked", {"to": other.number, "kind": kind})


def linked_cases(session: DbSession, case: Case, staff: StaffUser) -> list[tuple[Case, str]]:
    """Cases linked to or from this one that ``staff`` may see, with the kind of link."""
    query = visible_cases_query(staff).where(
        or_(Case.id == case.linked_case_id, Case.linked_case_id == case.id))
    return [(other, (case.link_kind if other.id == case.linked_case_id else other.link_kind)
             or "related") for other in session.scalars(query)]


# --- cases opened by staff --------------------------------------------------------------------
@dataclass(frozen=True)
class StaffCase:
    case_ref: str
    route: Route
    category: str
    material_risk: bool
    grants: list[GrantIn]
    report: EncryptedRecord


def open_case(session: DbSession, staff: StaffUser, new: StaffCase, taxonomy: Taxonomy) -> Case:
    """A case with no reporter ("otherwise identified" noncompliance, RSP v2.2): encrypted in
    the opener's browser to the route's readers, of whom the opener must be one."""
    _require(bool(CASE_REF.fullmatch(new.case_ref)), "The case identifier is malformed.")
    _require(taxonomy.get(new.category) is not None, "Choose one of the listed categories.")
    _require(session.scalar(select(Case.id).where(Case.case_ref == new.case_ref)) is None,
             "This case identifier is taken; try again.")
    try:
        readers = readers_for(session, new.route, False, ())
    except RoutingError as error:
        raise CaseActionRejected(str(error)) from None
    _require(any(r.id == staff.id for r in readers.now),
             "You can open a case only on a route whose reports you receive.")
    try:
        check_grants(new.grants, {r.id for r in readers.now},
                     {r.id for r in readers.on_escalation}, reporter=False)
    except SubmissionRejected as error:
        raise CaseActionRejected(str(error)) from None
    case = Case(case_ref=new.case_ref, number=new_number(session), route=new.route.value,
                category=new.category, taxonomy_version=taxonomy.version,
                material_risk=new.material_risk, origin="staff", opened_by_id=staff.id, key_epoch=1,
                # Nobody to acknowledge: the case starts acknowledged, the feedback clock runs.
                status="acknowledged", received_on=today(), acknowledged_on=today())
    case.grants = [CaseGrant(kind=g.kind, staff_id=g.staff_id, grant=g.grant,
                             granted_by_id=staff.id) for g in new.grants]
    session.add(case)
    _store_record(case, staff, RecordKind.REPORT, new.report, visible_to_reporter=False)
    _event(session, case, staff, "opened_by_staff")
    deadlines.refresh_due(case)
    return case


# The step-recording helpers, for the services that extend casework (app/services/disclosures.py).
require = _require
record_event = _event
store_record = _store_record
