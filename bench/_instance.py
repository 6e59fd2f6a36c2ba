"""A throwaway Candor instance for a benchmark: a fresh database on SQLite or on a throwaway
PostgreSQL cluster (as the tests make them), migrated, with an organisation key."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import flask_migrate
from _report import Report, arguments
from flask import Flask

from app import create_app
from app.config import Config
from app.extensions import db
from app.services.directory import init_organisation_key
from tests.support import databases


@contextlib.contextmanager
def candor_instance(backend: str, name: str) -> Iterator[tuple[Flask, Config]]:
    """``(app, config)`` on a new database called ``candor_bench_<name>``; removed afterwards."""
    os.environ["CANDOR_TEST_DATABASE"] = backend
    with tempfile.TemporaryDirectory(prefix=f"candor-bench-{name}-") as folder, \
            databases.start(Path(folder)) as server:
        url = server.create_database(f"candor_bench_{name}")
        config = Config(environment="testing", secret_key="bench-" + "x" * 40,
                        database_url=url, instance_path=Path(folder) / "instance",
                        fast_kdf_for_tests=True, proof_of_work_bits=0)
        app = create_app(config)
        with app.app_context():
            flask_migrate.upgrade()
            init_organisation_key(db.session, config.org_signing_key_path, config.instance_path)
            db.session.commit()
        try:
            yield app, config
        finally:
            with app.app_context():
                db.engine.dispose()


def on_each_backend(name: str, description: str, title: str,
                    measure: Callable[[str, int, Report], None]) -> tuple[Report, Path | None]:
    """Parse ``--cases``, ``--backends`` and ``--json``, then ``measure(backend, cases, report)``
    on each backend. Returns the report and where to write it; ``title`` may use ``{cases}``."""
    parser = arguments(description)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    options = parser.parse_args()
    report = Report(name, title.format(cases=f"{options.cases:,}"))
    for backend in options.backends.split(","):
        measure(backend, options.cases, report)
    return report, options.json
