"""Staff roles and what each may do: the one table every permission check reads."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from candor_reporter import protocol
from candor_reporter.protocol import READER_ROLE_LABELS


class Role(StrEnum):
    RSO = "rso"
    EXECUTIVE = "executive"  # a recipient outside the RSO's reporting line
    BOARD = "board"
    GOVERNANCE = "governance"
    AUDITOR = "auditor"
    ADMIN = "admin"
    # The register of officers and directors (SB 53, Labor Code §1107.1(e)(2)): held alone or
    # beside a case-handling role; never a reason to read a report.
    OFFICER = "officer"


# What people read for a role. The roles a reporter meets in the key directory are named by the
# reporter's client (``candor_reporter.protocol.READER_ROLE_LABELS``, with ``describe_person``).
ROLE_LABELS: dict[Role, str] = {
    **{Role(role): label for role, label in READER_ROLE_LABELS.items()},
    Role.GOVERNANCE: "governance", Role.AUDITOR: "auditor", Role.ADMIN: "administrator",
}


class Permission(StrEnum):
    VIEW_OWN_ACCOUNT = "view_own_account"
    HANDLE_CASES = "handle_cases"  # inbox, case pages, replies: content sealed to them
    VIEW_DEADLINES = "view_deadlines"
    VIEW_STATISTICS = "view_statistics"  # aggregates only, never content
    VIEW_AUDIT_TRAIL = "view_audit_trail"
    MANAGE_STAFF = "manage_staff"
    READ_OFFICER_SHARES = "read_officer_shares"  # the SB 53 quarterly shares sealed to them


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.RSO: frozenset(
        {Permission.VIEW_OWN_ACCOUNT, Permission.HANDLE_CASES, Permission.VIEW_DEADLINES,
         Permission.VIEW_STATISTICS}
    ),
    Role.EXECUTIVE: frozenset(
        {Permission.VIEW_OWN_ACCOUNT, Permission.HANDLE_CASES, Permission.VIEW_DEADLINES}
    ),
    Role.BOARD: frozenset(
        {Permission.VIEW_OWN_ACCOUNT, Permission.HANDLE_CASES, Permission.VIEW_STATISTICS}
    ),
    Role.GOVERNANCE: frozenset({Permission.VIEW_OWN_ACCOUNT, Permission.VIEW_STATISTICS}),
    Role.AUDITOR: frozenset(
        {Permission.VIEW_OWN_ACCOUNT, Permission.VIEW_STATISTICS, Permission.VIEW_AUDIT_TRAIL}
    ),
    Role.ADMIN: frozenset({Permission.VIEW_OWN_ACCOUNT, Permission.MANAGE_STAFF}),
    Role.OFFICER: frozenset({Permission.VIEW_OWN_ACCOUNT, Permission.READ_OFFICER_SHARES}),
}

# Roles whose holders receive reports and therefore need a key pair in the directory.
RECIPIENT_ROLES = frozenset({Role.RSO, Role.EXECUTIVE, Role.BOARD})
# Roles whose holders are in the directory clients read: the recipients, and the officers and
# directors the quarterly SB 53 shares are sealed to (whom a reporter may name as concerned).
# Which of them read a report is decided by the recipient roles alone (app/services/routing.py).
DIRECTORY_ROLES = RECIPIENT_ROLES | {Role.OFFICER}


def permissions_for(roles: Iterable[Role]) -> frozenset[Permission]:
    granted: set[Permission] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS[role]
    return frozenset(granted)


def describe_person(username: str, roles: Iterable[str]) -> str:
    """A staff member as staff pages list them: their name and every role's label."""
    return protocol.describe_person(username, roles, {str(r): v for r, v in ROLE_LABELS.items()})
