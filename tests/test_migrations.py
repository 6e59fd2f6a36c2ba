"""The migrated schema is exactly the models' schema, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import PrimaryKeyConstraint, Table, UniqueConstraint, func, select

from app.extensions import db
from app.models import CaseGrant, CaseRecord
from app.roles import Role
from tests.support.case_metadata import seeded_case
from tests.support.staff import StaffLogin


def test_migrated_schema_matches_models(app: Flask) -> None:
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_upgrade_is_idempotent_and_downgrade_works(app: Flask, runner: FlaskCliRunner) -> None:
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    result = runner.invoke(args=["db", "downgrade", "base"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert set(db.inspect(db.engine).get_table_names()) <= {"alembic_version"}
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    with app.app_context():
        assert "staff_users" in db.inspect(db.engine).get_table_names()


def test_a_migration_keeps_the_rows_of_a_rebuilt_tables_children(
        app: Flask, runner: FlaskCliRunner, staff: StaffLogin) -> None:
    """On SQLite, Candor enforces foreign keys, and a batch migration rebuilds a table by
    dropping the old one: with enforcement on during the migration, dropping ``cases`` would
    cascade to every grant and record. Migrations run with it off (migrations/env.py)."""
    reader = staff.create("migration-reader", Role.RSO)
    with app.app_context():
        seeded_case(db.session, 1, [reader.id], date(2026, 5, 1))
        db.session.commit()

    def children() -> tuple[int, int]:
        with app.app_context():
            return (db.session.scalar(select(func.count()).select_from(CaseGrant)) or 0,
                    db.session.scalar(select(func.count()).select_from(CaseRecord)) or 0)

    assert children() == (2, 1)
    # 0005's downgrade and upgrade both rebuild ``cases`` on SQLite
    for target in ("0004", "head"):
        result = runner.invoke(args=["db", "downgrade" if target == "0004" else "upgrade",
                                     target])
        assert result.exit_code == 0, result.output
        assert children() == (2, 1), target
    with app.app_context(), db.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_rows_orphaned_before_enforcement_do_not_stop_an_upgrade(
        app: Flask, runner: FlaskCliRunner) -> None:
    """A SQLite database from before foreign keys were enforced may hold orphans: a migration
    warns about them and goes on, even through a rebuild of their table; it fails only on
    orphans it made itself."""
    with app.app_context(), db.engine.connect() as connection:
        if connection.dialect.name != "sqlite":
            pytest.skip("only SQLite ever ran without foreign keys")
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.exec_driver_sql(
            "INSERT INTO case_grants (case_id, kind, grant, key_epoch) "
            "VALUES (987654, 'recipient', x'00', 1)")
        connection.commit()
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
    # through 0005, which rebuilds case_grants (renumbering its constraints)
    for command in (["db", "downgrade", "0004"], ["db", "upgrade"]):
        result = runner.invoke(args=command)
        assert result.exit_code == 0, result.output


def _leading_columns(table: Table) -> list[str]:
    """The first column of each index on ``table``: its own, its unique constraints' and its
    primary key's."""
    return ([index.columns[0].name for index in table.indexes]
            + [constraint.columns[0].name for constraint in table.constraints
               if isinstance(constraint, UniqueConstraint | PrimaryKeyConstraint)])


def test_every_table_under_a_case_finds_its_rows_by_an_index() -> None:
    """Rows that belong to a case are read by case and deleted with it: each such table must
    have an index (its own or a unique constraint's) that begins with case_id, or reading one
    case, or deleting one, scans the whole table. The unique constraints' indexes serve several
    of them, so a second case_id index there would only slow every insert (migration 0010)."""
    cases = db.metadata.tables["cases"]
    for table in db.metadata.tables.values():
        for key in table.foreign_key_constraints:
            if key.referred_table is cases and key.column_keys == ["case_id"]:
                leading = _leading_columns(table)
                assert leading.count("case_id") == 1, (table.name, leading)


# Rows Candor never deletes: accounts are disabled (the audit trail names them), a case keeps its
# metadata after retention, and the notification outbox keeps what it sent.
NEVER_DELETED = {"staff_users", "cases", "notification_outbox"}


def test_every_reference_to_rows_that_get_deleted_is_indexed() -> None:
    """Deleting a row makes the database find every row that refers to it (to cascade or set
    null): without an index that begins with the referring column, each deletion scans the
    referring table (retention deletes a case's records one by one, for instance)."""
    for table in db.metadata.tables.values():
        for key in table.foreign_key_constraints:
            if key.referred_table.name not in NEVER_DELETED:
                assert key.column_keys[0] in _leading_columns(table), (table.name, key.column_keys)


def test_0023_adds_passkeys_and_keeps_signed_in_sessions(
        app: Flask, runner: FlaskCliRunner, staff: StaffLogin) -> None:
    """Staff passkeys, their challenges, the passkey-only roles and each session's last
    verification arrive in 0023; a session from before it stays signed in, with no
    verification yet (its first step-up action asks for one); going back drops them all."""
    from app.models import StaffPasskey, StaffSession

    account = staff.create("migration-passkey", Role.RSO)
    client = app.test_client()
    staff.login(client, account)
    with app.app_context():
        db.session.add(StaffPasskey(staff_id=account.id, credential_id=b"\x01" * 16,
                                    public_key=b"cose", name="laptop"))
        db.session.commit()
    result = runner.invoke(args=["db", "downgrade", "0022"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        inspector = db.inspect(db.engine)
        tables = set(inspector.get_table_names())
        assert not tables & {"staff_passkeys", "webauthn_challenges", "passkey_role_requirements"}
        assert "verified_at" not in {c["name"] for c in inspector.get_columns("staff_sessions")}
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        row = db.session.scalars(select(StaffSession)).one()
        assert row.verified_at is None
        assert db.session.scalar(select(func.count()).select_from(StaffPasskey)) == 0
    assert client.get("/staff/").status_code == 200
