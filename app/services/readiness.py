"""Whether every reporting route has someone to receive it: RSP v3 §4 requires the RSO, an
executive outside the RSO's line, and a Board member when the RSO is concerned."""

from __future__ import annotations

from dataclasses import dataclass

from app.extensions import DbSession
from app.roles import Role
from app.services.directory import active_entries

ROUTE_ROLES: tuple[tuple[Role, str], ...] = (
    (Role.RSO, "The Responsible Scaling Officer"),
    (Role.EXECUTIVE, "An executive outside the RSO's line"),
    (Role.BOARD, "The Board"),
)


@dataclass(frozen=True)
class RouteReadiness:
    role: Role
    label: str
    recipients: int

    @property
    def ready(self) -> bool:
        return self.recipients > 0


def route_readiness(session: DbSession) -> list[RouteReadiness]:
    """How many enabled recipients with a signed directory entry each route has."""
    entries = active_entries(session)
    return [
        RouteReadiness(role, label, sum(1 for staff in entries if role in staff.roles))
        for role, label in ROUTE_ROLES
    ]
