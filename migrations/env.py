"""Alembic environment: the database and metadata come from the Candor app (`candor db ...`)."""

import logging
from collections import Counter

from alembic import context
from flask import current_app
from sqlalchemy import Connection

config = context.config
logger = logging.getLogger("alembic.env")
database = current_app.extensions["migrate"].db
target_metadata = database.metadata
config.set_main_option("sqlalchemy.url", database.engine.url.render_as_string(hide_password=False)
                       .replace("%", "%%"))


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"),
                      target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    def skip_empty_autogenerate(context, revision, directives):  # type: ignore[no-untyped-def]
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    options = dict(current_app.extensions["migrate"].configure_args)
    options.setdefault("process_revision_directives", skip_empty_autogenerate)
    with database.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        before = _foreign_keys_off(connection) if sqlite else Counter()
        context.configure(connection=connection, target_metadata=target_metadata, **options)
        try:
            with context.begin_transaction():
                context.run_migrations()
        except BaseException:
            if sqlite:
                connection.invalidate()  # never back to the pool with enforcement off
            raise
        if sqlite:
            _foreign_keys_on(connection, before)


# Candor's SQLite connections enforce foreign keys (app/extensions.py), but a batch migration
# rebuilds a table and drops the old one, and with enforcement on that drop would first delete
# its rows and cascade to every child row. So it is off for the migration and checked after.
def _foreign_keys_off(connection: Connection) -> Counter[tuple[str, str]]:
    """Turn enforcement off (a pragma that changes only outside a transaction; the commit ends
    the one SQLAlchemy began, which Alembic would otherwise take as the caller's and never
    commit); returns the rows already missing their parent."""
    connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    before = _foreign_key_problems(connection)
    connection.commit()
    return before


def _foreign_keys_on(connection: Connection, before: Counter[tuple[str, str]]) -> None:
    """Turn enforcement back on; warn about orphans from before it, fail on new ones."""
    after = _foreign_key_problems(connection)
    connection.exec_driver_sql("PRAGMA foreign_keys=ON")
    connection.commit()
    if before:
        logger.warning("rows whose parent row is missing, from before foreign keys were "
                       "enforced (PRAGMA foreign_key_check lists them): %s", dict(before))
    grown = {where: count for where, count in after.items() if count > before[where]}
    if grown:
        raise RuntimeError(
            "the migration was applied, but it left rows whose parent row is missing (by table "
            f"and parent table: {grown}); PRAGMA foreign_key_check lists them")


def _foreign_key_problems(connection: Connection) -> Counter[tuple[str, str]]:
    """How many rows of each table miss their parent row, by (table, parent table): counted,
    not listed, since rebuilding a table renumbers its constraints and may change rowids."""
    return Counter((row[0], row[2])
                   for row in connection.exec_driver_sql("PRAGMA foreign_key_check"))


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
