"""Several nodes on one database decide as one (issue 19): two apps, each with its own instance
folder, on the test's one database, as two machines behind a load balancer would be. Nothing
in one node's memory decides whether a request is allowed."""

from __future__ import annotations

import base64
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask
from sqlalchemy import text

from app import create_app
from app.config import Config, ConfigError, database_url_with_hosts
from app.extensions import db
from app.models import Case
from app.roles import Role
from app.services.directory import pinned_fingerprint
from app.services.proof_of_work import SpentChallenges
from app.state import state_of
from crypto.proof_of_work import solve_proof_of_work
from tests.conftest import SECRET, free_port, make_config
from tests.support import databases
from tests.support.reporting import ReporterClient
from tests.support.staff import Account, StaffLogin, csrf_token

LIMIT = 60


@pytest.fixture
def nodes(make_app: Callable[..., Flask], app: Flask, staff: StaffLogin) -> tuple[Flask, Flask]:
    staff.create("rso1", Role.RSO)
    config = state_of(app).config
    shared = {"org_key_file": config.org_signing_key_path,
              "org_fingerprint": pinned_fingerprint(config), "submissions_per_minute": LIMIT}
    first, second = make_app(**shared), make_app(**shared)
    assert first.instance_path != second.instance_path
    return first, second


def case_count(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(db.select(db.func.count()).select_from(Case)) or 0)


def in_threads(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls at once, one thread each, released together; their results in order."""
    start = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        start.wait()
        results[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_a_solution_spent_on_one_node_is_refused_on_the_other(nodes: tuple[Flask, Flask]
                                                               ) -> None:
    first, second = nodes
    on_first, on_second = ReporterClient(first.test_client()), ReporterClient(second.test_client())
    body, _codename = on_first.build_default()
    assert on_first.post("/api/v1/reports", body).status_code == 201
    replay, _codename = on_second.build_default()
    replay["proof_of_work"] = body["proof_of_work"]  # a new report, the spent solution
    refused = on_second.post("/api/v1/reports", replay)
    assert refused.status_code == 400
    assert refused.get_json()["error"] == "proof_of_work_rejected"
    assert case_count(first) == 1


def test_racing_spends_of_one_solution_across_nodes_let_exactly_one_through(
        nodes: tuple[Flask, Flask]) -> None:
    reporters = [ReporterClient(node.test_client()) for node in nodes * 3]
    bodies = [reporter.build_default()[0] for reporter in reporters]
    for body in bodies[1:]:
        body["proof_of_work"] = bodies[0]["proof_of_work"]
    statuses = in_threads([
        lambda r=reporter, b=body: r.post("/api/v1/reports", b).status_code  # type: ignore[misc]
        for reporter, body in zip(reporters, bodies, strict=True)])
    assert sorted(statuses) == [201] + [400] * 5
    assert case_count(nodes[0]) == 1


def test_racing_claims_through_two_nodes_let_one_through(nodes: tuple[Flask, Flask]) -> None:
    def claim(node: Flask) -> bool:
        with node.app_context():
            won = SpentChallenges(db.session).claim(b"one challenge", expires=2**32)
            db.session.remove()
            return won

    results = in_threads([lambda n=node: claim(n) for node in nodes * 4])  # type: ignore[misc]
    assert sorted(results) == [False] * 7 + [True]


def test_a_burst_across_two_nodes_gets_no_more_than_the_global_limit(
        nodes: tuple[Flask, Flask]) -> None:
    # An outside review saw a burst of 75 reports get 60 through two workers whose limits were
    # counted apart. Counted together, the limit is the deployment's, wherever reports land.
    reporters = [ReporterClient(node.test_client()) for node in nodes * 2]
    bodies = [[reporter.build_default()[0] for _ in range(75 // 4 + (k < 75 % 4))]
              for k, reporter in enumerate(reporters)]  # 19 + 19 + 19 + 18, two per node

    def send(reporter: ReporterClient, batch: list[dict[str, Any]]) -> list[int]:
        return [reporter.post("/api/v1/reports", body).status_code for body in batch]

    sent = in_threads([lambda r=reporter, b=batch: send(r, b)  # type: ignore[misc]
                       for reporter, batch in zip(reporters, bodies, strict=True)])
    statuses = Counter(status for answers in sent for status in answers)
    assert sum(statuses.values()) == 75
    assert statuses == {201: LIMIT, 429: 75 - LIMIT}
    assert case_count(nodes[0]) == LIMIT


def _wrong_attempt(node: Flask, account: Account, proof: dict[str, str] | None = None) -> Any:
    client = node.test_client()
    secret = StaffLogin(node).login_secret(client, account.username, "a guessed password")
    return client.post("/auth/login", headers={"X-CSRFToken": csrf_token(client)}, json={
        "username": account.username, "login_secret": base64.b64encode(secret).decode(),
        "totp": "000000", **({"proof_of_work": proof} if proof else {})})


def test_a_sign_in_throttle_reached_through_one_node_holds_on_the_other(
        nodes: tuple[Flask, Flask], staff: StaffLogin) -> None:
    first, second = nodes
    owner = staff.create("rso2", Role.RSO)
    free = state_of(first).config.login_attempts_before_lockout
    assert [_wrong_attempt(first, owner).status_code for _ in range(free)] == [401] * free
    asked = _wrong_attempt(second, owner)
    assert asked.status_code == 429
    assert asked.get_json()["error"] == "proof_of_work_required"
    # The puzzle the second node set, solved and spent there, buys nothing on the first. (Solved
    # with bits to spare, so that the count the failure adds does not refuse it on its own.)
    offered = asked.get_json()["proof_of_work"]
    nonce = solve_proof_of_work(base64.b64decode(offered["challenge"]), offered["bits"] + 4)
    proof = {"challenge": offered["challenge"], "nonce": base64.b64encode(nonce).decode()}
    assert _wrong_attempt(second, owner, proof).status_code == 401  # judged: the puzzle passed
    replayed = _wrong_attempt(first, owner, proof)
    assert replayed.status_code == 429
    assert replayed.get_json()["error"] == "proof_of_work_required"


# --- the connection: several hosts, and no dead connection handed out -------------------------
def test_the_pool_and_several_hosts_are_configured(tmp_path: Path) -> None:
    env = {"CANDOR_SECRET_KEY": SECRET, "CANDOR_DATABASE_URL":
           "postgresql+psycopg://candor@db1:5432,db2:5432/candor?target_session_attrs=read-write"}
    config = Config.from_env(tmp_path, env)
    assert config.database_url == ("postgresql+psycopg://candor@/candor?host=db1:5432&"
                                   "host=db2:5432&target_session_attrs=read-write")
    assert config.flask_settings()["SQLALCHEMY_ENGINE_OPTIONS"] == {
        "pool_pre_ping": True, "pool_recycle": 300}
    recycled = Config.from_env(tmp_path, {**env, "CANDOR_DATABASE_POOL_RECYCLE_SECONDS": "60"})
    assert recycled.flask_settings()["SQLALCHEMY_ENGINE_OPTIONS"]["pool_recycle"] == 60
    with pytest.raises(ConfigError, match="CANDOR_DATABASE_POOL_RECYCLE_SECONDS"):
        Config.from_env(tmp_path, {**env, "CANDOR_DATABASE_POOL_RECYCLE_SECONDS": "0"})


postgresql_only = pytest.mark.skipif(databases.backend() != "postgresql",
                                     reason="several hosts and dropped connections: PostgreSQL")


@postgresql_only
def test_of_several_hosts_the_one_that_answers_is_used(tmp_path: Path, database_url: str
                                                       ) -> None:
    # The first host listed is down (nothing listens on its port), as a failed primary is.
    live = database_url.split("@", 1)[1].split("/", 1)[0]
    url = database_url.replace(f"@{live}/", f"@127.0.0.1:{free_port()},{live}/") \
        + "?target_session_attrs=read-write&connect_timeout=5"
    node = create_app(make_config(tmp_path, database_url_with_hosts(url)))
    with node.app_context():
        assert db.session.scalar(text("SELECT inet_server_port()")) == int(live.split(":")[1])
        assert db.session.scalar(text("SHOW transaction_read_only")) == "off"
        db.session.remove()
        db.engine.dispose()


@postgresql_only
def test_a_connection_the_server_dropped_is_replaced_before_use(app: Flask) -> None:
    with app.app_context():
        first = db.session.scalar(text("SELECT pg_backend_pid()"))
        db.session.remove()  # back to the pool, open
        with psycopg.connect(db.engine.url.render_as_string(hide_password=False)
                             .replace("postgresql+psycopg", "postgresql"),
                             autocommit=True) as other:
            other.execute("SELECT pg_terminate_backend(%s)", (first,))
        # As after a failover: the pooled connection is dead; the next request gets a live one.
        assert db.session.scalar(text("SELECT pg_backend_pid()")) not in (None, first)
