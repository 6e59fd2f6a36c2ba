"""Who reads a report: the recipients of its route now, and the escalation tier later.

RSP v3 §4: the RSO by default; an executive outside the RSO's line as an alternative; a Board
member always among the recipients when the report concerns the RSO. Anyone the reporter names
as concerned is left out entirely.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from app.extensions import DbSession
from app.models import StaffUser
from app.roles import Role
from app.services.directory import active_entries, active_entry_roles
from candor_reporter.languages import N_
from candor_reporter.protocol import NO_BOARD_FOR_RSO_REPORT


class Route(StrEnum):
    RSO = "rso"
    EXECUTIVE = "executive"
    BOARD = "board"


ROUTE_LABELS = {
    Route.RSO: N_("The Responsible Scaling Officer"),
    Route.EXECUTIVE: N_("An executive outside the RSO's line"),
    Route.BOARD: N_("The Board"),
}


class RoutingError(Exception):
    """No one could read a report on this route; the message says what to choose instead."""


class NoBoardReader(RoutingError):
    """A report concerns the RSO and no Board member could read it (RSP v3 §4: such a report
    reaches the Board or is refused, never executives alone)."""


@dataclass(frozen=True)
class StaffReaders:
    now: tuple[StaffUser, ...]
    on_escalation: tuple[StaffUser, ...]


@dataclass(frozen=True)
class StaffReaderIds:
    """``StaffReaders`` by staff id only."""

    now: frozenset[int]
    on_escalation: frozenset[int]


def readers_for(
    session: DbSession, route: Route, concerns_rso: bool, concerned_ids: Iterable[int]
) -> StaffReaders:
    """The recipients with a signed directory entry who read the report now, and those who get
    an escrow copy released only on escalation to the Board."""
    entries = {staff.id: staff for staff in active_entries(session)}
    ids = _choose({i: staff.roles for i, staff in entries.items()}, route, concerns_rso,
                  concerned_ids)
    return StaffReaders(tuple(entries[i] for i in sorted(ids.now)),
                   tuple(entries[i] for i in sorted(ids.on_escalation)))


def reader_ids_for(
    session: DbSession, route: Route, concerns_rso: bool, concerned_ids: Iterable[int]
) -> StaffReaderIds:
    """``readers_for`` by staff id, from one query of ids and roles (a submission checks its
    grants against these on every request, and needs nothing else of the accounts)."""
    return _choose(active_entry_roles(session), route, concerns_rso, concerned_ids)


def _choose(roles: Mapping[int, frozenset[Role]], route: Route, concerns_rso: bool,
            concerned_ids: Iterable[int]) -> StaffReaderIds:
    """The rule itself, over the recipient roles of every active directory entry."""
    concerned = set(concerned_ids)
    eligible = {i: held for i, held in roles.items() if i not in concerned}
    wanted = {Role(route.value)}
    if concerns_rso:
        wanted.add(Role.BOARD)
    now = frozenset(
        i for i, held in eligible.items()
        if held & wanted and not (concerns_rso and Role.RSO in held)
    )
    if concerns_rso and not any(Role.BOARD in eligible[i] for i in now):
        raise NoBoardReader(NO_BOARD_FOR_RSO_REPORT)
    if not now:
        raise RoutingError(N_(
            "No one can receive a report on this route right now. Choose another route, or "
            "report outside the lab (see the start page)."
        ))
    escalation: frozenset[int] = frozenset()
    if Role.BOARD not in wanted:
        escalation = frozenset(i for i, held in eligible.items()
                               if Role.BOARD in held and i not in now)
    return StaffReaderIds(now, escalation)
