"""Faults under load against Candor's server (two processes) and PostgreSQL.

- The app is killed with SIGKILL at random points during submissions, ``SOAK_KILLS`` times (a
  worker, and every 25th time the whole server): no case is half-written and every
  acknowledged submission is stored and decrypts. On PostgreSQL, and on SQLite in its
  write-ahead-log mode, where a killed writer leaves its lock and log behind.
- PostgreSQL is restarted under load (``pg_ctl restart``): the same workers carry on, and
  every request that starts once the database is back succeeds (the pool checks each
  connection before use, ``pool_pre_ping`` in ``app/config.py``).
"""

from __future__ import annotations

import contextlib
import http.client
import os
import random
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator

import pytest

from candor_reporter import protocol
from crypto import kdf
from tests.soak.checks import Acknowledged, check_every_case
from tests.soak.conftest import SOAK_KILLS
from tests.support import live_instance
from tests.support.http_reporter import HttpReporter

pytestmark = pytest.mark.soak
CLIENTS = 8


class Load:
    """Client threads filing reports until stopped; what each request got, and when."""

    def __init__(self, server: live_instance.Server) -> None:
        setup = HttpReporter(server.url)
        options = setup.get_json("/api/v1/report-options")
        self.directory = protocol.verified_directory(setup.get_json("/api/v1/directory"),
                                                     options["organisation_fingerprint"])
        self.server = server
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.acknowledged: dict[str, Acknowledged] = {}
        self.outcomes: list[tuple[float, str]] = []  # (start time, status or error)
        self.threads = [threading.Thread(target=self.run) for _ in range(CLIENTS)]

    def run(self) -> None:
        while not self.stop.is_set():
            reporter = HttpReporter(self.server.url, timeout=30)
            text = f"Fault report {uuid.uuid4().hex}"
            body, codename = protocol.build_submission(
                protocol.NewReport("rso", "capability-cbrn", text), self.directory,
                kdf.TEST_FAST)
            started = time.monotonic()
            try:
                answer = reporter.post_json("/api/v1/reports", body)
                outcome = str(answer.status)
            except (OSError, http.client.HTTPException, RuntimeError) as error:
                # The worker died under us, the server is down, or (RuntimeError) the session
                # could not be started while the database was.
                outcome = type(error).__name__
                time.sleep(0.05)
            with self.lock:
                self.outcomes.append((started, outcome))
                if outcome == "201":
                    self.acknowledged[body["case_ref"]] = Acknowledged(body["case_ref"],
                                                                       codename, [text])

    def acknowledged_count(self) -> int:
        with self.lock:
            return len(self.acknowledged)

    @contextlib.contextmanager
    def running(self) -> Iterator[Load]:
        for thread in self.threads:
            thread.start()
        try:
            yield self
        finally:
            self.stop.set()
            for thread in self.threads:
                thread.join(timeout=120)


def wait_for_acknowledgement(load: Load, after: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while load.acknowledged_count() <= after:
        assert time.monotonic() < deadline, "no submission got through after a kill"
        time.sleep(0.02)


@pytest.mark.parametrize("instance", ["postgresql", "sqlite"], indirect=True)
def test_kill_9_during_submissions(server: live_instance.Server,
                                   instance: live_instance.Instance) -> None:
    chance = random.Random(os.environ.get("SOAK_SEED"))
    load = Load(server)
    with load.running():
        for kill in range(1, SOAK_KILLS + 1):
            # Only once submissions are flowing again, so every kill lands among them.
            wait_for_acknowledgement(load, load.acknowledged_count())
            time.sleep(chance.uniform(0, 0.3))
            if kill % 25 == 0:
                server.kill()  # the master and both workers at once
                server.start()
                continue
            workers = server.worker_pids()
            if workers:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(chance.choice(workers), signal.SIGKILL)
    outcomes = Counter(outcome for _, outcome in load.outcomes)
    print(dict(outcomes))
    assert not [o for o in outcomes if o.startswith("5")], outcomes
    assert check_every_case(instance, load.acknowledged) >= len(load.acknowledged)


def test_database_restart_under_load(server: live_instance.Server,
                                     instance: live_instance.Instance,
                                     cluster: live_instance.PostgresCluster) -> None:
    load = Load(server)
    workers = set(server.worker_pids())
    with load.running():
        wait_for_acknowledgement(load, 20)
        cluster.restart()
        back = time.monotonic()
        wait_for_acknowledgement(load, load.acknowledged_count() + 50)
    after = [outcome for started, outcome in load.outcomes if started > back]
    print(dict(Counter(outcome for _, outcome in load.outcomes)))
    assert len(after) >= 50
    assert all(outcome == "201" for outcome in after), Counter(after)
    assert set(server.worker_pids()) == workers  # recovered without restarting the app
    check_every_case(instance, load.acknowledged)
