"""64 concurrent reporters for two minutes (``SOAK_SECONDS``) against Candor's server (two
processes) and PostgreSQL, each filing a report, coming back with the codename and replying,
over and over. No answer is a 5xx, every acknowledged submission and message is stored and decrypts,
and the client's address and user agent appear in no log and nowhere in the database."""

from __future__ import annotations

import json
import subprocess
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest

from candor_reporter import protocol
from crypto import kdf
from tests.soak.checks import Acknowledged, check_every_case
from tests.soak.conftest import SOAK_SECONDS
from tests.support import live_instance
from tests.support.dump import encodings
from tests.support.http_reporter import HttpReporter

pytestmark = pytest.mark.soak
REPORTERS = 64
# Distinctive values to search for afterwards. 203.0.113.0/24 is reserved for documentation:
# it is only ever a header value here; every connection goes to 127.0.0.1.
USER_AGENT = f"CandorSoak/{uuid.uuid4().hex}"
FORWARDED_FOR = "203.0.113.77"


class Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.statuses: Counter[str] = Counter()
        self.acknowledged: dict[str, Acknowledged] = {}

    def count(self, what: str, status: int) -> None:
        with self.lock:
            self.statuses[f"{what} {status}"] += 1


def reporter_loop(base_url: str, directory: dict[int, protocol.Reader], deadline: float,
                  tally: Tally) -> None:
    try:
        reporter_journeys(base_url, directory, deadline, tally)
    except Exception as error:  # counted, so the test fails with it rather than lose a thread
        tally.count(f"exception {type(error).__name__}: {error}", 0)


def reporter_journeys(base_url: str, directory: dict[int, protocol.Reader], deadline: float,
                      tally: Tally) -> None:
    reporter = HttpReporter(base_url, headers={"User-Agent": USER_AGENT,
                                               "X-Forwarded-For": FORWARDED_FOR})
    while time.monotonic() < deadline:
        text = f"Soak report {uuid.uuid4().hex}"
        body, codename = protocol.build_submission(
            protocol.NewReport("rso", "capability-cbrn", text), directory, kdf.TEST_FAST)
        answer = reporter.post_json("/api/v1/reports", body)
        tally.count("submit", answer.status)
        if answer.status != 201:
            continue
        acknowledged = Acknowledged(body["case_ref"], codename, [text])
        with tally.lock:
            tally.acknowledged[body["case_ref"]] = acknowledged
        for _ in range(2):  # come back with the codename, read, reply
            opened = reporter.post_json("/api/v1/reporter/open",
                                        protocol.lookup_request(codename))
            tally.count("open", opened.status)
            if opened.status != 200:
                break
            view = opened.json()
            assert protocol.read_messages(view, protocol.open_case(view, codename))
            reply = f"Soak reply {uuid.uuid4().hex}"
            message = protocol.build_message(protocol.open_case(view, codename), reply)
            sent = reporter.post_json("/api/v1/reporter/messages", message)
            tally.count("reply", sent.status)
            if sent.status == 201:
                with tally.lock:
                    acknowledged.texts.append(reply)


def database_dump(cluster: live_instance.PostgresCluster, path: Path) -> bytes:
    subprocess.run(["pg_dump", f"--dbname=postgresql://candor@127.0.0.1:{cluster.port}/"
                    "candor_soak", f"--file={path}"], check=True)
    return path.read_bytes()


def test_64_reporters_for_two_minutes(server: live_instance.Server,
                                      instance: live_instance.Instance,
                                      cluster: live_instance.PostgresCluster,
                                      tmp_path: Path) -> None:
    setup = HttpReporter(server.url)
    options = setup.get_json("/api/v1/report-options")
    directory = protocol.verified_directory(setup.get_json("/api/v1/directory"),
                                            options["organisation_fingerprint"])
    tally = Tally()
    deadline = time.monotonic() + SOAK_SECONDS
    threads = [threading.Thread(target=reporter_loop,
                                args=(server.url, directory, deadline, tally))
               for _ in range(REPORTERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=SOAK_SECONDS + 300)
    assert not any(thread.is_alive() for thread in threads)
    print(json.dumps(dict(sorted(tally.statuses.items()))))

    failures = {k: v for k, v in tally.statuses.items() if not k.endswith((" 200", " 201"))}
    assert not failures, f"answers other than 200/201: {failures}"
    assert tally.statuses["submit 201"] >= REPORTERS  # every reporter got through at least once
    stored = check_every_case(instance, tally.acknowledged)
    assert stored == len(tally.acknowledged)

    # Nothing identifying the client anywhere: the database, the server's log, PostgreSQL's log.
    server.stop()
    places = {"database": database_dump(cluster, tmp_path / "dump.sql"),
              "server log": server.log.read_bytes(),
              "postgresql log": cluster.log.read_bytes()}
    for secret in (USER_AGENT.encode(), FORWARDED_FOR.encode()):
        for name, content in places.items():
            for form in encodings(secret):
                assert form not in content, f"{secret!r} found in the {name}"
