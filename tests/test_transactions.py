"""A unit of work that uses a savepoint is still one transaction, on SQLite as on PostgreSQL:
nothing of it is stored unless the whole commits."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from app import create_app
from app.config import _create_secret_file
from app.extensions import db, savepoint
from app.models import AuditEntry, CaseGrant, OrgDeadlineStep
from app.quarters import Quarter
from app.services import escalation
from app.state import state_of
from tests.conftest import make_config

PACK = Quarter(2026, 1)  # the quarter whose pack these tests record


def stored_steps() -> int:
    return int(db.session.scalar(select(func.count()).select_from(OrgDeadlineStep)) or 0)


def test_a_savepoint_commits_nothing_by_itself(app: Flask) -> None:
    with app.app_context():
        with savepoint(db.session):
            db.session.add(OrgDeadlineStep(clock="quarterly_pack", cycle=20261, step="met",
                                           due_on=date(2026, 4, 1), taken_on=date(2026, 4, 1)))
        db.session.rollback()
        assert stored_steps() == 0


def test_recording_a_pack_is_all_or_nothing(app: Flask) -> None:
    """The step and its audit entry go together (a crash before the commit keeps neither)."""
    with app.app_context():
        audit_entries = db.session.scalar(select(func.count()).select_from(AuditEntry))
        assert escalation.record_quarterly_pack(db.session, PACK, None, date(2026, 4, 2))
        db.session.rollback()
        assert stored_steps() == 0
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == audit_entries
        assert escalation.record_quarterly_pack(db.session, PACK, None, date(2026, 4, 2))
        db.session.commit()
        assert not escalation.record_quarterly_pack(db.session, PACK, None, date(2026, 4, 2))
        db.session.rollback()
        assert stored_steps() == 1


def test_sqlite_commits_through_a_synced_write_ahead_log(app: Flask) -> None:
    """Every connection to a SQLite database uses WAL with synchronous=FULL: a commit is on
    disk when it returns, and readers do not hold writers back (app/extensions.py)."""
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite's settings; PostgreSQL keeps its own write-ahead log")
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL


def test_a_new_sqlite_database_is_its_owners_only(tmp_path: Path) -> None:
    """The database holds every report's ciphertext and metadata: a file Candor creates, with
    its write-ahead log, is readable by its owner only, in an instance folder of the same."""
    path = tmp_path / "new.sqlite3"
    application = create_app(make_config(tmp_path, f"sqlite:///{path}"))
    with application.app_context():
        db.session.execute(text("CREATE TABLE probe (x INTEGER)"))
        db.session.commit()
        assert path.stat().st_mode & 0o777 == 0o600
        assert Path(f"{path}-wal").stat().st_mode & 0o777 == 0o600
        db.engine.dispose()
    instance = state_of(application).config.instance_path
    _create_secret_file(instance)  # the development secret's folder
    assert instance.stat().st_mode & 0o777 == 0o700


def test_a_row_pointing_at_no_case_is_refused(app: Flask) -> None:
    """Foreign keys hold on SQLite as on PostgreSQL (SQLite enforces them only when asked)."""
    with app.app_context():
        db.session.add(CaseGrant(case_id=987654, kind="recipient", staff_id=None,
                                 grant=b"g" * 100, key_epoch=1))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()
