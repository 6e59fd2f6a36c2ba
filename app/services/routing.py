"""Who reads a report: the recipients of its route now, and the escalation tier later.

RSP v3 §4: the RSO by default; an executive outside the RSO's line as an alternative; a Board
member always among the recipients when the report concerns the RSO. Anyone the reporter names
as concerned is left out entirely.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from app.extensions import DbSession
from app.models import StaffUser
from app.roles import Role
from app.services.directory import active_entries


class Route(StrEnum):
    RSO = "rso"
    EXECUTIVE = "executive"
    BOARD = "board"


ROUTE_LABELS = {
    Route.RSO: "The Responsible Scaling Officer",
    Route.EXECUTIVE: "An executive outside the RSO's line",
    Route.BOARD: "The Board",
}


class RoutingError(Exception):
    """No one could read a report on this route; the message says what to choose instead."""


@dataclass(frozen=True)
class Readers:
    now: tuple[StaffUser, ...]
    on_escalation: tuple[StaffUser, ...]


def readers_for(
    session: DbSession, route: Route, concerns_rso: bool, concerned_ids: Iterable[int]
) -> Readers:
    """The recipients with a signed directory entry who read the report now, and those who get
    an escrow copy released only on escalation to the Board."""
    concerned = set(concerned_ids)
    eligible = [s for s in active_entries(session) if s.id not in concerned]
    wanted = {Role(route.value)}
    if concerns_rso:
        wanted.add(Role.BOARD)
    now = tuple(
        s for s in eligible
        if s.roles & wanted and not (concerns_rso and Role.RSO in s.roles)
    )
    if not now:
        raise RoutingError(
            "No one can receive a report on this route right now. Choose another route, or "
            "report outside the lab (see the start page)."
        )
    escalation: tuple[StaffUser, ...] = ()
    if Role.BOARD not in wanted:
        escalation = tuple(s for s in eligible if Role.BOARD in s.roles and s not in now)
    return Readers(now, escalation)
