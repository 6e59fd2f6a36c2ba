"""Beyond one machine: two app nodes and a scheduler on each, on a PostgreSQL primary with a
synchronous standby; the primary dies (kill -9) under load and the standby is promoted.

- The nodes connect with one multi-host URL (``host=...&host=...&target_session_attrs=
  read-write``) and a pool that checks each connection before use, so they find the promoted
  standby by themselves, with no restart: how long each took is printed and must be under 30 s.
- ``REPORTERS`` reporters file reports and upload attachments across both nodes throughout;
  afterwards every acknowledged submission and every completed upload is in the database and
  decrypts with a recipient's key (attachments are kept in the database,
  ``CANDOR_BLOB_STORE=database``, which both nodes share).
- ``candor audit verify`` passes; the escalation steps of a batch of overdue cases are the ones a
  reference database with the same cases takes in one undisturbed tick, each once; the two
  schedulers' ticks (from "tick starting" to "tick done" or "tick failed" in their logs) never
  overlap.
- One app node is killed during an upload; the client resumes it on the other node.

``SOAK_SECONDS`` shortens the load before and after the failover (CI sets it low).
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import itertools
import json
import os
import re
import shutil
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Case, EscalationStep
from candor_reporter import protocol
from crypto import kdf
from crypto.envelope import GrantKind, open_grant
from crypto.stream import decrypt_chunks, decrypt_file_key
from tests.soak.checks import Acknowledged, check_every_case
from tests.soak.conftest import SOAK_SECONDS
from tests.support import live_instance
from tests.support.case_metadata import generate
from tests.support.http_reporter import Answer, HttpReporter

pytestmark = pytest.mark.soak
REPORTERS = int(os.environ.get("SOAK_FAILOVER_REPORTERS", "32"))
FAILOVER_GOAL_SECONDS = 30
OVERDUE_CASES = 120
# Load before the kill and after the nodes are back: a quarter of the soak time each, at least
# a few seconds.
PHASE_SECONDS = max(5.0, SOAK_SECONDS / 4)
NETWORK_ERRORS = (OSError, http.client.HTTPException)


@dataclass
class Upload:
    case_ref: str
    codename: str
    attachment_ref: str
    digest: bytes


class Nodes:
    """The app nodes' addresses; a reporter moves to the next one when one fails it."""

    def __init__(self, servers: list[live_instance.Server]) -> None:
        self.servers = servers

    def other(self, url: str) -> str:
        urls = [s.url for s in self.servers]
        return urls[(urls.index(url) + 1) % len(urls)] if url in urls else urls[0]


class Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.statuses: Counter[str] = Counter()
        self.acknowledged: dict[str, Acknowledged] = {}
        self.uploads: list[Upload] = []
        # node url → (sent, answered) times (monotonic) of its successful submissions
        self.successes: dict[str, list[tuple[float, float]]] = {}

    def count(self, what: str) -> None:
        with self.lock:
            self.statuses[what] += 1


def send(reporter: HttpReporter, nodes: Nodes, deadline: float, method: str, path: str,
         body: bytes | dict[str, Any] | None = None, content_type: str = "application/json",
         attempts: list[float] | None = None) -> Answer:
    """One request, sent again (to the other node after a failure) until it gets an answer
    below 500 or ``deadline`` passes; ``attempts`` gets the time each attempt began. A
    submission sent twice is refused the second time (its case reference is taken), so a
    retried one is never filed twice."""
    while True:
        if attempts is not None:
            attempts.append(time.monotonic())
        try:
            if method == "GET":
                answer = reporter.request("GET", path)
            else:
                data = body if isinstance(body, bytes) or body is None else \
                    json.dumps(body).encode()
                if reporter.token is None:
                    reporter.start_session()
                answer = reporter.request(method, path, data, content_type)
            if answer.status < 500:
                return answer
        except (*NETWORK_ERRORS, RuntimeError):
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{method} {path} got no answer")
        reporter.base_url = nodes.other(reporter.base_url)
        time.sleep(0.2)


def upload(reporter: HttpReporter, nodes: Nodes, deadline: float, opened: protocol.OpenedCase,
           data: bytes, pause: float = 0.0) -> str | None:
    """Upload ``data`` in one-frame chunks; after a failure, ask the node it moved to which
    chunks arrived and send the rest (the resumable protocol). Returns the ref once complete."""
    outgoing = protocol.OutgoingAttachment.for_file("evidence.bin", len(data))
    base = f"/api/v1/reporter/attachments/{outgoing.attachment_ref}"
    started = send(reporter, nodes, deadline, "POST", "/api/v1/reporter/attachments",
                   outgoing.start_body(opened.key_epoch))
    if started.status not in (201, 409):
        return None
    chunks = list(outgoing.chunks(opened.case_ref, [data], frames_per_chunk=1))
    index = 0
    while index < len(chunks):
        node = reporter.base_url
        answer = send(reporter, nodes, deadline, "PUT", f"{base}/chunks/{index}",
                      chunks[index][0], "application/octet-stream")
        if answer.status == 200 and reporter.base_url == node:
            index += 1
        else:  # moved, or out of step: ask where the server is
            status = send(reporter, nodes, deadline, "GET", f"{base}/status")
            if status.status != 200:
                return None
            index = status.json()["received_chunks"]
        time.sleep(pause)
    done = send(reporter, nodes, deadline, "POST", f"{base}/complete",
                outgoing.completion_body(opened.case_key, opened.case_ref, len(chunks),
                                         len(data)))
    if done.status != 200:
        status = send(reporter, nodes, deadline, "GET", f"{base}/status")
        if status.status != 200 or status.json()["state"] != "complete":
            return None
    return outgoing.attachment_ref


def reporter_loop(nodes: Nodes, first: int, directory: dict[int, protocol.Reader],
                  stop: threading.Event, tally: Tally) -> None:
    try:
        journeys(nodes, first, directory, stop, tally)
    except Exception as error:  # counted, so the test fails with it rather than lose a thread
        tally.count(f"exception {type(error).__name__}: {error}")


def journeys(nodes: Nodes, first: int, directory: dict[int, protocol.Reader],
             stop: threading.Event, tally: Tally) -> None:
    node = nodes.servers[first % len(nodes.servers)].url
    while not stop.is_set():
        deadline = time.monotonic() + 120
        reporter = HttpReporter(node, timeout=30)
        text = f"Failover report {uuid.uuid4().hex}"
        body, codename = protocol.build_submission(
            protocol.NewReport("rso", "capability-cbrn", text), directory, kdf.TEST_FAST)
        attempts: list[float] = []
        answer = send(reporter, nodes, deadline, "POST", "/api/v1/reports", body,
                      attempts=attempts)
        tally.count(f"submit {answer.status}")
        if answer.status != 201:
            continue
        with tally.lock:
            tally.acknowledged[body["case_ref"]] = Acknowledged(body["case_ref"], codename,
                                                                [text])
            tally.successes.setdefault(reporter.base_url, []).append(
                (attempts[-1], time.monotonic()))
        opened = send(reporter, nodes, deadline, "POST", "/api/v1/reporter/open",
                      protocol.lookup_request(codename))
        tally.count(f"open {opened.status}" if opened.status == 200 else
                    f"open {opened.status} {opened.body[:120]!r}")
        if opened.status != 200:
            continue
        case = protocol.open_case(opened.json(), codename)
        data = os.urandom(150_000 + len(text))  # three frames: three chunks
        ref = upload(reporter, nodes, deadline, case, data)
        tally.count("upload complete" if ref else "upload refused")
        if ref:
            with tally.lock:
                tally.uploads.append(Upload(case.case_ref, codename, ref,
                                            hashlib.sha256(data).digest()))
        node = nodes.other(node)  # the next journey starts on the other node


# --- what is stored afterwards --------------------------------------------------------------
def check_uploads(instance: live_instance.Instance, uploads: list[Upload]) -> None:
    """Every completed upload is stored complete and decrypts to what was sent."""
    from app.services import attachments

    keys = instance.private_keys()
    app = instance.app()
    problems = []
    with app.app_context():
        store = attachments.store_for(instance.config(), db.session)
        for item in uploads:
            case = db.session.scalars(select(Case).where(Case.case_ref == item.case_ref)).one()
            stored = attachments.find(db.session, case, item.attachment_ref)
            if stored is None or stored.state != "complete" or stored.key_record is None:
                problems.append(f"{item.attachment_ref} is missing or incomplete")
                continue
            grant = next(g for g in case.grants if g.kind == "recipient")
            case_key = open_grant(grant.grant, keys[grant.staff_id], case.case_ref,
                                  GrantKind.RECIPIENT)
            file_key = decrypt_file_key(case_key, case.case_ref, stored.key_record.record_ref,
                                        stored.key_record.ciphertext)
            digest = hashlib.sha256()
            for piece in decrypt_chunks(file_key, case.case_ref, item.attachment_ref,
                                        store.read_pieces(stored.blob_id)):
                digest.update(piece)
            if digest.digest() != item.digest:
                problems.append(f"{item.attachment_ref} decrypts to something else")
        db.session.remove()
        db.engine.dispose()
    assert not problems, "\n".join(problems[:20])


def seed_overdue_cases(instance: live_instance.Instance) -> set[str]:
    """Cases received over the past year, many with deadlines passed: the schedulers'
    escalation work during the soak. Returns their numbers."""
    app = instance.app()
    with app.app_context():
        today = date.today()
        generate(db.session, OVERDUE_CASES, today - timedelta(days=365), today - timedelta(
            days=1), seed=19, start_id=500_000)
        db.session.commit()
        numbers = set(db.session.scalars(select(Case.number).where(Case.id >= 500_000)))
        db.session.remove()
        db.engine.dispose()
    return numbers


def escalation_steps(instance: live_instance.Instance, numbers: set[str]
                     ) -> list[tuple[str, str, int, str]]:
    app = instance.app()
    with app.app_context():
        rows = [(number, clock, cycle, step) for number, clock, cycle, step in db.session.execute(
            select(Case.number, EscalationStep.clock, EscalationStep.cycle, EscalationStep.step)
            .join(Case, Case.id == EscalationStep.case_id))
            if number in numbers]
        db.session.remove()
        db.engine.dispose()
    return sorted(rows)


def reference_steps(tmp_path: Path, numbers: set[str]) -> list[tuple[str, str, int, str]]:
    """The steps the same overdue cases get from one tick nobody disturbs (SQLite)."""
    reference = live_instance.prepare_instance(
        tmp_path / "reference", f"sqlite:///{tmp_path / 'reference.sqlite3'}")
    assert seed_overdue_cases(reference) == numbers
    run_cli(reference, ["tick"])
    run_cli(reference, ["tick"])  # as the schedulers tick again and again
    return escalation_steps(reference, numbers)


def run_cli(instance: live_instance.Instance, args: list[str], **env: str) -> str:
    done = subprocess.run([str(live_instance.BIN / "candor"), *args], capture_output=True,
                          text=True, env=instance.environment(**env), timeout=300,
                          check=False, cwd=live_instance.ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def tick_intervals(log: Path) -> list[tuple[datetime, datetime]]:
    """(start, end) of each tick a scheduler's log shows."""
    intervals, started = [], None
    for line in log.read_text().splitlines():
        moment = re.match(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) candor\.scheduler (.*)",
                          line)
        if not moment:
            continue
        when = datetime.strptime(moment.group(1), "%Y-%m-%d %H:%M:%S,%f")
        if moment.group(2).startswith("tick starting"):
            started = when
        elif moment.group(2).startswith(("tick done", "tick failed")) and started:
            intervals.append((started, when))
            started = None
    if started is not None:  # stopped in the middle of a tick
        intervals.append((started, datetime.max))
    return intervals


# --- the deployment ---------------------------------------------------------------------------
@pytest.fixture
def primary() -> Iterator[live_instance.PostgresCluster]:
    with live_instance.postgres_cluster() as running:
        yield running


@contextlib.contextmanager
def schedulers(instances: list[live_instance.Instance], logs: list[Path]
               ) -> Iterator[list[subprocess.Popen[bytes]]]:
    processes = []
    for instance, log in zip(instances, logs, strict=True):
        with log.open("ab") as out:
            processes.append(subprocess.Popen(
                [str(live_instance.BIN / "candor"), "scheduler"], cwd=live_instance.ROOT,
                env=instance.environment(CANDOR_SCHEDULER_INTERVAL_SECONDS="2",
                                         CANDOR_SCHEDULER_LEASE_SECONDS="10"),
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True))
    try:
        yield processes
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_primary_killed_standby_promoted_nodes_carry_on(
        primary: live_instance.PostgresCluster, tmp_path: Path) -> None:
    url = primary.create_database("candor_soak")
    prepared = live_instance.prepare_instance(tmp_path / "node1", url, blob_store="database")
    overdue = seed_overdue_cases(prepared)
    standby = live_instance.synchronous_standby(primary)
    try:
        run_failover(primary, standby, prepared, overdue, tmp_path)
    finally:
        standby.remove()


def run_failover(primary: live_instance.PostgresCluster, standby: live_instance.PostgresCluster,
                 prepared: live_instance.Instance, overdue: set[str], tmp_path: Path) -> None:
    both = (f"postgresql+psycopg://{live_instance.PG_SUPERUSER}@/candor_soak"
            f"?host=127.0.0.1:{primary.port}&host=127.0.0.1:{standby.port}"
            "&target_session_attrs=read-write")
    # Two nodes, each with its own instance folder (the same secret key and pinned fingerprint,
    # as every node of a deployment must have).
    shutil.copytree(prepared.path, tmp_path / "node2")
    nodes_instances = [
        live_instance.Instance(tmp_path / name, both, prepared.recipients, "database")
        for name in ("node1", "node2")]
    instance = nodes_instances[0]
    logs = [tmp_path / f"scheduler{i}.log" for i in (1, 2)]
    servers = [live_instance.Server(live_instance.CANDOR_TARGET, node.environment(),
                                    tmp_path / f"server{i}.log", workers=1)
               for i, node in enumerate(nodes_instances, 1)]
    for server in servers:
        server.start()
    try:
        with schedulers(nodes_instances, logs):
            tally, killed_at, promoted_at = load_through_failover(servers, primary, standby)
            resumed = upload_across_a_node_kill(servers, tally)
    finally:
        for server in servers:
            server.stop()

    print(dict(sorted(tally.statuses.items())))
    assert not [k for k in tally.statuses if k.startswith("exception")], tally.statuses
    back = {}
    for server in servers:
        # Sent after the kill: one sent before may have been committed by the old primary.
        after = [answered for sent, answered in tally.successes.get(server.url, [])
                 if sent > killed_at]
        assert after, f"{server.url} never served a report after the failover"
        back[server.url] = min(after) - killed_at
    print(f"promotion took {promoted_at - killed_at:.1f} s after the kill; nodes served "
          f"again after " + ", ".join(f"{seconds:.1f} s" for seconds in back.values()))
    assert max(back.values()) < FAILOVER_GOAL_SECONDS, back
    assert resumed

    stored = check_every_case(instance, tally.acknowledged, leave_out=overdue)
    assert stored >= len(tally.acknowledged)
    check_uploads(instance, tally.uploads)
    assert len(tally.uploads) >= REPORTERS // 2
    run_cli(instance, ["audit", "verify"])
    # pg_dump finds the promoted standby through the same two hosts (the first is dead).
    assert "blobs in the database" in run_cli(instance, ["backup", str(tmp_path / "b.tar.gz")])

    # Escalation: each step once, and exactly those an undisturbed tick takes.
    assert escalation_steps(instance, overdue) == reference_steps(tmp_path, overdue)
    intervals = sorted(tick_intervals(logs[0]) + tick_intervals(logs[1]))
    assert len(intervals) >= 2
    for (_, end), (start, _) in itertools.pairwise(intervals):
        assert end <= start, f"two ticks overlapped: one ended {end}, another began {start}"


def load_through_failover(servers: list[live_instance.Server],
                          primary: live_instance.PostgresCluster,
                          standby: live_instance.PostgresCluster) -> tuple[Tally, float, float]:
    setup = HttpReporter(servers[0].url)
    options = setup.get_json("/api/v1/report-options")
    directory = protocol.verified_directory(setup.get_json("/api/v1/directory"),
                                            options["organisation_fingerprint"])
    nodes = Nodes(servers)
    tally = Tally()
    stop = threading.Event()
    threads = [threading.Thread(target=reporter_loop, args=(nodes, i, directory, stop, tally))
               for i in range(REPORTERS)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(PHASE_SECONDS)
        killed_at = time.monotonic()
        primary.kill()
        standby.promote()
        promoted_at = time.monotonic()
        deadline = time.monotonic() + 120
        while any(not [sent for sent, _ in tally.successes.get(s.url, []) if sent > killed_at]
                  for s in servers) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(PHASE_SECONDS)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads)
    return tally, killed_at, promoted_at


def upload_across_a_node_kill(servers: list[live_instance.Server], tally: Tally) -> bool:
    """A reporter uploads through the first node, which is killed midway; the upload resumes
    on the second and completes. Returns whether it did."""
    setup = HttpReporter(servers[0].url)
    options = setup.get_json("/api/v1/report-options")
    directory = protocol.verified_directory(setup.get_json("/api/v1/directory"),
                                            options["organisation_fingerprint"])
    nodes = Nodes(servers)
    reporter = HttpReporter(servers[0].url, timeout=30)
    deadline = time.monotonic() + 120
    body, codename = protocol.build_submission(
        protocol.NewReport("rso", "capability-cbrn", "Before the node dies."), directory,
        kdf.TEST_FAST)
    assert send(reporter, nodes, deadline, "POST", "/api/v1/reports", body).status == 201
    tally.acknowledged[body["case_ref"]] = Acknowledged(body["case_ref"], codename,
                                                        ["Before the node dies."])
    opened = send(reporter, nodes, deadline, "POST", "/api/v1/reporter/open",
                  protocol.lookup_request(codename))
    case = protocol.open_case(opened.json(), codename)
    data = os.urandom(40 * 65536)  # 41 chunks
    result: list[str | None] = []
    worker = threading.Thread(target=lambda: result.append(
        upload(reporter, nodes, deadline, case, data, pause=0.1)))
    worker.start()
    time.sleep(1.5)  # some chunks in
    assert reporter.base_url == servers[0].url
    servers[0].kill()
    worker.join(timeout=150)
    assert result and result[0], "the upload did not complete on the other node"
    assert reporter.base_url == servers[1].url
    tally.uploads.append(Upload(case.case_ref, codename, result[0],
                                hashlib.sha256(data).digest()))
    return True

