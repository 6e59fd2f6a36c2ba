"""The key directory: the organisation signing key and the signed entries of staff public keys.

The private half of the organisation key is a file outside the database (``candor keys init``
writes it with mode 0600); the README explains how to keep it offline between signings.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from app.config import Config
from app.extensions import DbSession, table_of
from app.models import OrganisationKey, StaffRole, StaffUser, utcnow
from app.roles import DIRECTORY_ROLES, RECIPIENT_ROLES, Role
from crypto.directory import (
    DirectoryEntry,
    OrganisationSigningKey,
    fingerprint,
    sign_entry,
    verify_entry,
)
from crypto.errors import CryptoError

ENTRY_LIFETIME = timedelta(days=365)


class DirectoryError(Exception):
    """The directory cannot do what was asked; the message says why and what to run."""


FINGERPRINT_FILE = "org-fingerprint"


def pinned_fingerprint(config: Config) -> str | None:
    """The organisation key fingerprint clients must check against: ``CANDOR_ORG_FINGERPRINT``,
    else the instance file ``candor keys init`` wrote. Never read from the database, so that
    whoever can write the database cannot put a key of their own in front of reporters."""
    if config.org_fingerprint:
        return config.org_fingerprint
    try:
        return (config.instance_path / FINGERPRINT_FILE).read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None


def init_organisation_key(session: DbSession, key_path: Path,
                          instance_path: Path) -> OrganisationKey:
    """Create the organisation signing key and pin its fingerprint in the instance folder;
    refuse to overwrite an existing key."""
    if key_path.exists():
        raise DirectoryError(f"{key_path} already exists; refusing to replace the organisation key")
    signing_key = OrganisationSigningKey.generate()
    key_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(signing_key.to_bytes())
    for old in session.scalars(select(OrganisationKey).where(OrganisationKey.retired_at.is_(None))):
        old.retired_at = utcnow()
    row = OrganisationKey(verify_key=signing_key.verify_key)
    session.add(row)
    pin_fingerprint(instance_path, signing_key)
    return row


def pin_fingerprint(instance_path: Path, signing_key: OrganisationSigningKey) -> str:
    """Pin the fingerprint of the key the operator holds (never of the database's copy)."""
    value = fingerprint(signing_key.verify_key)
    instance_path.mkdir(mode=0o700, parents=True, exist_ok=True)
    (instance_path / FINGERPRINT_FILE).write_text(value + "\n", encoding="ascii")
    return value


def load_signing_key(key_path: Path) -> OrganisationSigningKey:
    try:
        return OrganisationSigningKey.from_bytes(key_path.read_bytes())
    except FileNotFoundError:
        raise DirectoryError(
            f"the organisation signing key is not at {key_path}: run `candor keys init`, or "
            "bring the offline key back and set CANDOR_ORG_KEY_FILE"
        ) from None


def current_key(session: DbSession) -> OrganisationKey | None:
    return session.scalars(
        select(OrganisationKey).where(OrganisationKey.retired_at.is_(None))
    ).first()


def current_fingerprint(session: DbSession) -> str | None:
    key = current_key(session)
    return fingerprint(key.verify_key) if key else None



def sign_staff_entry(staff: StaffUser, signing_key: OrganisationSigningKey,
                     now: datetime | None = None) -> None:
    """(Re)sign the staff member's directory entry with their current public key and roles,
    valid for ``ENTRY_LIFETIME`` from now (``candor keys sign-directory`` renews them)."""
    created = int((now or datetime.now(UTC)).timestamp())
    entry = DirectoryEntry(
        staff_id=str(staff.id),
        username=staff.username,
        roles=tuple(sorted(role.value for role in staff.roles)),
        public_key=staff.public_key,
        created=created,
        not_after=created + int(ENTRY_LIFETIME.total_seconds()),
    )
    staff.directory_entry = sign_entry(signing_key, entry)


def entries_to_sign(
    session: DbSession, signing_key: OrganisationSigningKey
) -> list[tuple[StaffUser, bool]]:
    """Every enabled, activated account, each with whether its key or roles differ from what
    its current entry (if any) says: those are the ones an operator must check."""
    people = session.scalars(
        select(StaffUser)
        .where(StaffUser.disabled_at.is_(None), StaffUser.activated_at.is_not(None))
        .order_by(StaffUser.username)
    )
    result = []
    for staff in people:
        current = None
        if staff.directory_entry is not None:
            try:
                current = verify_entry(signing_key.verify_key, staff.directory_entry)
            except CryptoError:
                current = None  # signed by an older organisation key: treat as new
        unchanged = current is not None and current.public_key == staff.public_key and \
            set(current.roles) == {role.value for role in staff.roles}
        result.append((staff, not unchanged))
    return result


# An account whose key clients may encrypt to: enabled, with a signed entry.
_STAFF = table_of(StaffUser)
_ACTIVE_ENTRY = (_STAFF.c.disabled_at.is_(None), _STAFF.c.directory_entry.is_not(None))
# Built once, in Core: building and compiling an ORM query costs more than running it, and a
# submission asks this on every request.
_ROLES = table_of(StaffRole)
_ACTIVE_ENTRY_ROLES = (select(_ROLES.c.staff_id, _ROLES.c.role)
                       .join_from(_ROLES, _STAFF).where(*_ACTIVE_ENTRY))


def active_entries(session: DbSession) -> list[StaffUser]:
    """Enabled recipients, officers and directors with a signed entry: the only keys a client
    may encrypt to. Who among them reads a report is the routing rule's choice, by recipient
    role; an officer or director with no recipient role never does."""
    candidates = session.scalars(
        select(StaffUser).where(*_ACTIVE_ENTRY).order_by(StaffUser.id)
    )
    return [staff for staff in candidates if staff.roles & DIRECTORY_ROLES]


def active_entry_roles(session: DbSession) -> dict[int, frozenset[Role]]:
    """The recipient roles of each of ``active_entries``, by staff id, in one query of two
    columns: what a submission's check of its readers needs, without loading the accounts."""
    roles: dict[int, set[Role]] = {}
    for staff_id, role in session.execute(_ACTIVE_ENTRY_ROLES):
        if role in RECIPIENT_ROLES:
            roles.setdefault(staff_id, set()).add(Role(role))
    return {staff_id: frozenset(held) for staff_id, held in roles.items()}
