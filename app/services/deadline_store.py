"""Where every process finds the deadline policy: the database.

The policy file (``instance/deadline_policy.json``, app/services/deadline_policy.py) is where an
operator writes versions; ``PolicySource.sync`` copies each version it has not seen yet into
``deadline_policy_versions`` and, when the file's ``current`` changed, makes that version the
current one. Web workers sync at the start of each request, the scheduler at each tick, so a
changed file applies without a restart. Every process then reads the versions from the
database, so a scheduler started before the file was written, or a machine whose instance
folder lacks the file, still computes each case under its own version.

A stored version is never changed: a file that redefines one is logged and the stored one
stays (name a new version instead). A file that has become malformed is logged and ignored
until it is fixed; at start-up it stops the start (app/staff/deadlines.py).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from app.extensions import DbSession, table_of
from app.models import DeadlinePolicyVersion, utcnow
from app.services.deadline_policy import (
    BUILT_IN,
    BUILT_INS,
    POLICY_FILE,
    DeadlinePolicy,
    PolicyError,
    PolicySet,
    load_policies,
    policy_from_settings,
    settings_of,
)

log = logging.getLogger(__name__)


class PolicySource:
    """One process's view of the policy file, and what it has copied to the database."""

    def __init__(self, instance_path: Path) -> None:
        self.instance_path = instance_path
        self._synced: str | None = None  # the digest of the file content last synced
        self._lock = threading.Lock()

    def _read(self) -> tuple[str, PolicySet | None]:
        path = self.instance_path / POLICY_FILE
        try:
            content = path.read_bytes()
        except FileNotFoundError:
            return "absent", None
        digest = hashlib.sha256(content).hexdigest()
        if digest == self._synced:
            return digest, None
        return digest, load_policies(self.instance_path)

    def reread(self) -> None:
        """Read the file again at the next sync even if it did not change (after a version was
        removed from the database by hand, say)."""
        with self._lock:
            self._synced = None

    def sync(self, engine: Engine) -> bool:
        """Copy the file's new versions to the database, in a transaction of their own, when the
        file changed since this process last did; True if anything was read. Never raises for
        a bad file or a database not migrated yet: it logs and tries again next time."""
        with self._lock:
            try:
                digest, policies = self._read()
            except PolicyError as error:
                log.error("deadline policy file refused, the stored versions stay: %s", error)
                return False
            if digest == self._synced or policies is None:
                self._synced = digest
                return False
            try:
                with engine.begin() as connection:
                    _register(connection, policies)
            except (IntegrityError, OperationalError, ProgrammingError) as error:
                log.warning("deadline policy versions not stored yet, will retry: %s",
                            getattr(error, "orig", error))
                return False
            self._synced = digest
            return True


def _register(connection: Connection, policies: PolicySet) -> None:
    table = table_of(DeadlinePolicyVersion)
    stored = {row.version: row for row in connection.execute(select(table))}
    now = utcnow()
    for name, policy in sorted(policies.versions.items()):
        settings = settings_of(policy)
        row = stored.get(name)
        if row is None:
            connection.execute(insert(table).values(version=name, settings=settings,
                                                    registered_at=now, current_since=None))
            log.info("deadline policy version %s stored", name)
        elif row.settings != settings and name not in BUILT_INS:
            log.error("deadline policy version %s in the file differs from the stored one, "
                      "which cases keep; to change a policy, add a version and make it current",
                      name)
    current = _current_name({n: r.current_since for n, r in stored.items()})
    if current != policies.current.version:
        connection.execute(update(table).where(table.c.version == policies.current.version)
                           .values(current_since=now))
        log.info("deadline policy version %s is now current", policies.current.version)


def _current_name(since: dict[str, datetime | None]) -> str:
    dated = [(when, name) for name, when in since.items() if when is not None]
    return max(dated)[1] if dated else BUILT_IN.version


def stored_policies(session: DbSession) -> PolicySet:
    """The built-in versions and every version in the database; the current one is the one
    most recently made current (the newest built-in one if none was)."""
    versions: dict[str, DeadlinePolicy] = dict(BUILT_INS)
    since: dict[str, datetime | None] = {}
    for row in session.execute(select(DeadlinePolicyVersion.version,
                                      DeadlinePolicyVersion.settings,
                                      DeadlinePolicyVersion.current_since)):
        since[row.version] = row.current_since
        if row.version in BUILT_INS:
            continue
        try:
            versions[row.version] = policy_from_settings(row.version, row.settings)
        except PolicyError as error:
            log.error("%s; its cases are left alone", error)
    current = versions.get(_current_name(since), BUILT_IN)
    return PolicySet(current, versions)
