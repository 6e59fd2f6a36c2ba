"""Flask extensions, created unbound here and bound to the app in ``create_app``."""

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any, TypeAlias, cast

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import Engine, MetaData, Table, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session, SessionTransaction, scoped_session

# Stable constraint names, so migrations are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# What services accept as their database session: Flask-SQLAlchemy's scoped ``db.session`` or a
# plain SQLAlchemy session.
DbSession: TypeAlias = Session | scoped_session[Any]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def table_of(model: type[Base]) -> Table:
    """The model's table, for plain Core statements where a hot path skips the ORM's per-row
    bookkeeping (the tick's batches, a submission's inserts)."""
    return cast(Table, model.__table__)


def insert_or(session: DbSession, table: Table) -> Any:
    """An INSERT of the session's dialect, which has ``on_conflict_do_nothing`` and
    ``on_conflict_do_update`` (both SQLite and PostgreSQL speak ``ON CONFLICT``): an insert
    that refuses or updates in one statement, atomic however many nodes race."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()


def _create_private(path: str | None) -> None:
    """Create a missing SQLite database file readable by its owner only; SQLite gives its -wal
    and -shm files the same mode. (An empty file is an empty database.)"""
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    # already there; or no folder, which SQLite reports when it opens the database
    with suppress(FileExistsError, FileNotFoundError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def use_sqlite_settings(engine: Engine) -> None:
    """How every connection of ``engine`` uses a SQLite database (nothing for another engine).

    Write-ahead logging: a commit appends to the log and syncs it once, instead of writing a
    rollback journal and the database and syncing both; readers (the inbox, the scheduler's
    tick and daily statistics) no longer hold writers back, nor writers readers. With
    ``synchronous=FULL`` every commit is on disk before it returns, so an acknowledged report
    survives a power cut, not only a crash of the app. The mode is kept in the database file;
    like any SQLite database in WAL mode, it must be on a local file system. Foreign keys are
    enforced, as on PostgreSQL (SQLite does only when asked; migrations/env.py turns them off
    while a migration rebuilds tables). A database file this creates is readable by its owner
    only."""
    if engine.dialect.name != "sqlite":
        return
    _create_private(engine.url.database)

    @event.listens_for(engine, "connect")
    def _settings(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


@contextmanager
def savepoint(session: DbSession) -> Iterator[SessionTransaction]:
    """``session.begin_nested()`` that stays inside the session's transaction on SQLite too.

    pysqlite opens its transaction only before a write statement, so a SAVEPOINT issued before
    any write would open one itself, and releasing it would commit everything up to there on
    its own: a crash afterwards would leave half of the unit of work stored. Here the
    transaction is opened first (deferred, as pysqlite would before the write that follows)."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        raw = connection.connection.dbapi_connection
        if raw is not None and not raw.in_transaction:
            connection.exec_driver_sql("BEGIN")
    with session.begin_nested() as nested:
        yield nested
