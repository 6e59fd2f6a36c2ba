"""Alembic environment: the database and metadata come from the Candor app (`candor db ...`)."""

import logging
from typing import Any

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
        if sqlite:
            # Candor's connections enforce foreign keys (app/extensions.py), but a batch
            # migration rebuilds a table and drops the old one, and with enforcement on that
            # drop would first delete its rows and cascade to every child row. Off for the
            # migration (it can only change outside a transaction), checked and on afterwards.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            before = _foreign_key_problems(connection)
            connection.commit()
        context.configure(connection=connection, target_metadata=target_metadata, **options)
        with context.begin_transaction():
            context.run_migrations()
        if sqlite:
            after = _foreign_key_problems(connection)
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
            if before:
                logger.warning("rows that break foreign keys, from before they were enforced: "
                               "%s", sorted(before)[:10])
            if after - before:
                raise RuntimeError("the migration left rows that break foreign keys: "
                                   f"{sorted(after - before)[:10]}")


def _foreign_key_problems(connection: Connection) -> set[tuple[Any, ...]]:
    """(table, rowid, parent table, constraint) of every row whose parent is missing."""
    return {tuple(row) for row in connection.exec_driver_sql("PRAGMA foreign_key_check")}


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
