"""Soak tests: load and faults against Candor's server (two processes) and a throwaway PostgreSQL
cluster (the kill test runs on a SQLite file too; the failover test makes its own primary and
synchronous standby). Collected only under ``make soak``
(``CANDOR_SOAK=1``), never by ``make test``.

``SOAK_SECONDS`` (default 120) is how long the load runs, ``SOAK_KILLS`` (default 200) how many
times the app is killed; CI may set both lower.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import live_instance

collect_ignore_glob = [] if os.environ.get("CANDOR_SOAK") else ["test_*.py"]

SOAK_SECONDS = float(os.environ.get("SOAK_SECONDS", "120"))
SOAK_KILLS = int(os.environ.get("SOAK_KILLS", "200"))


@pytest.fixture
def cluster() -> Iterator[live_instance.PostgresCluster]:
    with live_instance.postgres_cluster() as running:
        yield running


@pytest.fixture
def instance(request: pytest.FixtureRequest, tmp_path: Path) -> live_instance.Instance:
    """PostgreSQL's, unless a test asks for ``sqlite`` (``indirect`` parametrisation)."""
    if getattr(request, "param", "postgresql") == "sqlite":
        url = f"sqlite:///{tmp_path / 'candor_soak.sqlite3'}"
    else:
        cluster: live_instance.PostgresCluster = request.getfixturevalue("cluster")
        url = cluster.create_database("candor_soak")
    return live_instance.prepare_instance(tmp_path / "instance", url)


@pytest.fixture
def server(instance: live_instance.Instance, tmp_path: Path
           ) -> Iterator[live_instance.Server]:
    with live_instance.server(live_instance.CANDOR_TARGET, instance.environment(),
                                tmp_path / "server.log") as running:
        yield running
