"""What the property-based tests share: an app whose anonymous limits do not cut the run
short, real recipients to encrypt to, and a count of every table's rows to prove that a
rejected request stored nothing."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from hypothesis import HealthCheck, Phase, settings
from sqlalchemy import MetaData, func, select

from app.extensions import db
from app.roles import Role
from app.state import state_of
from tests.support.staff import StaffLogin

# Enough examples to find what a careless parser misses, few enough for every `make test`.
# One app serves every example of a test (its database is what each example checks), and a
# failure is reported as found: shrinking a request through a database can take many minutes.
EXAMPLES = 40
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None,
                    phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


def fuzz_app(make_app: Callable[..., Flask]) -> Flask:
    """An app on the test database with proof of work off and the global limits lifted, an
    organisation key, and one recipient on each route (two on the Board)."""
    from app.services.directory import init_organisation_key

    app = make_app(proof_of_work_bits=0, submissions_per_minute=10**6,
                   codename_attempts_per_minute=10**6)
    with app.app_context():
        config = state_of(app).config
        init_organisation_key(db.session, config.org_signing_key_path, config.instance_path)
        db.session.commit()
    staff = StaffLogin(app)
    for name, role in (("rso1", Role.RSO), ("exec1", Role.EXECUTIVE), ("board1", Role.BOARD),
                       ("board2", Role.BOARD)):
        staff.create(name, role)
    return app


_TABLES: dict[str, MetaData] = {}


# What any request may add, refused or not: the puzzle it spent and the count of a global limit
# (app/services/proof_of_work.py, app/rate_limit.py).
SHARED_LIMITS = frozenset({"spent_challenges", "rate_limit_counts"})


def row_counts(app: Flask) -> dict[str, int]:
    """Rows in every table of the database but the shared limits', by table name."""
    with app.app_context():
        url = str(db.engine.url)
        if url not in _TABLES:  # reflected once per database
            _TABLES[url] = MetaData()
            _TABLES[url].reflect(bind=db.engine)
        with db.engine.connect() as connection:
            return {table.name: int(connection.execute(
                        select(func.count()).select_from(table)).scalar_one())
                    for table in _TABLES[url].sorted_tables if table.name not in SHARED_LIMITS}
