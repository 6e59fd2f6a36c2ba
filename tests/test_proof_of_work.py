"""Proof of work on report submission: issued, solved, checked, used once; every failure a
clear 400 with nothing stored."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import expect
from werkzeug.serving import make_server

from app.api.reports import PROOF_OF_WORK_FAILED
from app.config import Config, ConfigError
from app.extensions import db
from app.models import Case, SpentChallenge
from app.roles import Role
from app.services import proof_of_work
from app.services.directory import pinned_fingerprint
from app.services.proof_of_work import ProofOfWorkRejected, SpentChallenges
from app.state import state_of
from candor_reporter import protocol
from crypto.proof_of_work import (
    has_leading_zero_bits,
    proof_of_work_hash,
    solve_proof_of_work,
)
from tests.conftest import SECRET, free_port
from tests.support.reporting import ReporterClient
from tests.support.staff import StaffLogin

NOW = 1_700_000_000.0


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def failing_nonce(challenge: bytes, bits: int, at_least: int = 0) -> bytes:
    """A nonce with at least ``at_least`` but fewer than ``bits`` leading zero bits."""
    for counter in range(1 << 24):
        nonce = counter.to_bytes(8, "big")
        digest = proof_of_work_hash(challenge, nonce)
        if (has_leading_zero_bits(digest, at_least)
                and not has_leading_zero_bits(digest, bits)):
            return nonce
    raise AssertionError("no such nonce")


def cases(app: Flask) -> list[Case]:
    with app.app_context():
        return list(db.session.scalars(db.select(Case)))


# --- the service ------------------------------------------------------------------------------
@pytest.fixture
def spent(app: Flask) -> Iterator[SpentChallenges]:
    with app.app_context():
        yield SpentChallenges(db.session)


def test_issue_solve_verify(spent: SpentChallenges) -> None:
    issued = proof_of_work.issue(SECRET, 10, NOW)
    assert (len(issued.challenge), issued.bits, issued.expires) == (40, 10, int(NOW) + 600)
    assert issued.challenge[:8] == issued.expires.to_bytes(8, "big")
    nonce = solve_proof_of_work(issued.challenge, 10)
    assert len(nonce) == 8
    assert has_leading_zero_bits(proof_of_work_hash(issued.challenge, nonce), 10)
    proof_of_work.verify(SECRET, 10, issued.challenge, nonce, NOW + 599, spent)
    assert len(spent) == 1
    assert proof_of_work.issue(SECRET, 10, NOW).challenge != issued.challenge


def test_the_hash_is_blake2b_256_of_context_challenge_and_nonce() -> None:
    import hashlib

    challenge, nonce = bytes(range(40)), bytes(8)
    expected = hashlib.blake2b(b"candor/v1/proof-of-work\x00" + challenge + nonce,
                               digest_size=32).digest()
    assert proof_of_work_hash(challenge, nonce) == expected
    assert has_leading_zero_bits(b"\x00\x1f" + bytes(30), 11)
    assert not has_leading_zero_bits(b"\x00\x1f" + bytes(30), 12)
    assert has_leading_zero_bits(b"\xff" * 32, 0)
    # The solver's shortcut (the prefix hashed once) gives the same hash.
    nonce = solve_proof_of_work(challenge, 8)
    assert proof_of_work_hash(challenge, nonce)[0] == 0


@pytest.mark.parametrize(("tamper", "reason"), [
    (lambda c, n: (c[:-1], n), "malformed"),
    (lambda c, n: (c, n + b"\x00"), "malformed"),
    (lambda c, n: (c[:-1] + bytes([c[-1] ^ 1]), n), "not issued by this server"),
    (lambda c, n: ((int(NOW) + 3600).to_bytes(8, "big") + c[8:], n), "not issued by this server"),
])
def test_malformed_and_forged_challenges_are_refused(
        tamper: Callable[[bytes, bytes], tuple[bytes, bytes]], reason: str,
        spent: SpentChallenges) -> None:
    issued = proof_of_work.issue(SECRET, 4, NOW)
    challenge, nonce = tamper(issued.challenge, solve_proof_of_work(issued.challenge, 4))
    with pytest.raises(ProofOfWorkRejected, match=reason):
        proof_of_work.verify(SECRET, 4, challenge, nonce, NOW, spent)
    assert len(spent) == 0


def test_another_servers_challenge_is_refused(spent: SpentChallenges) -> None:
    issued = proof_of_work.issue("another-secret-key-that-is-long-enough-too", 4, NOW)
    nonce = solve_proof_of_work(issued.challenge, 4)
    with pytest.raises(ProofOfWorkRejected, match="not issued"):
        proof_of_work.verify(SECRET, 4, issued.challenge, nonce, NOW, spent)


def test_expired_insufficient_and_reused_proofs_are_refused(spent: SpentChallenges) -> None:
    issued = proof_of_work.issue(SECRET, 8, NOW)
    nonce = solve_proof_of_work(issued.challenge, 8)
    with pytest.raises(ProofOfWorkRejected, match="expired"):
        proof_of_work.verify(SECRET, 8, issued.challenge, nonce, NOW + 600, spent)
    with pytest.raises(ProofOfWorkRejected, match="insufficient"):
        proof_of_work.verify(SECRET, 8, issued.challenge, failing_nonce(issued.challenge, 8),
                             NOW, spent)
    proof_of_work.verify(SECRET, 8, issued.challenge, nonce, NOW, spent)
    with pytest.raises(ProofOfWorkRejected, match="already used"):
        proof_of_work.verify(SECRET, 8, issued.challenge, nonce, NOW + 1, spent)


def test_spent_challenges_are_kept_to_the_end_of_their_day_then_forgotten(
        spent: SpentChallenges) -> None:
    expires = 1_700_000_100  # 2023-11-14 22:15 UTC: kept through that day, no time of day
    assert spent.claim(b"a", expires=expires)
    assert not spent.claim(b"a", expires=expires)
    assert spent.claim(b"b", expires=expires + 86_400)
    assert sorted(db.session.scalars(db.select(SpentChallenge.forget_after))) == [
        date(2023, 11, 14), date(2023, 11, 15)]
    assert proof_of_work.purge_spent(db.session, date(2023, 11, 14)) == 0
    assert proof_of_work.purge_spent(db.session, date(2023, 11, 15)) == 1
    db.session.commit()
    assert len(spent) == 1 and spent.claim(b"a", expires=expires)  # refused as expired by then


def test_racing_claims_of_one_challenge_let_one_through(app: Flask) -> None:
    start = threading.Barrier(8)
    results: list[bool] = []

    def claim() -> None:
        with app.app_context():
            start.wait()
            results.append(SpentChallenges(db.session).claim(b"challenge", expires=2**32))
            db.session.remove()

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 7 + [True]


def test_the_second_hash_is_sha_256_and_a_solution_counts_only_with_its_own(
        spent: SpentChallenges) -> None:
    import hashlib

    challenge, nonce = bytes(range(40)), bytes(8)
    assert proof_of_work_hash(challenge, nonce, "sha-256") == hashlib.sha256(
        b"candor/v1/proof-of-work\x00" + challenge + nonce).digest()
    issued = proof_of_work.issue(SECRET, 10, NOW)
    by_sha = solve_proof_of_work(issued.challenge, 10, "sha-256")
    proof_of_work.verify(SECRET, 10, issued.challenge, by_sha, NOW, spent, algorithm="sha-256")
    # The same work checked as the other hash does not pass (unless by a 1-in-1024 chance,
    # ruled out here by picking a challenge where it does not).
    for _ in range(20):
        other = proof_of_work.issue(SECRET, 10, NOW)
        nonce = solve_proof_of_work(other.challenge, 10, "sha-256")
        if not has_leading_zero_bits(
                proof_of_work_hash(other.challenge, nonce), 10):
            break
    with pytest.raises(ProofOfWorkRejected, match="insufficient"):
        proof_of_work.verify(SECRET, 10, other.challenge, nonce, NOW, spent)
    with pytest.raises(proof_of_work.UnknownPuzzleHash, match="sha-3"):
        proof_of_work.verify(SECRET, 10, other.challenge, nonce, NOW, spent,
                             algorithm="sha-3")
    assert proof_of_work.puzzle_hash(None) == "blake2b-256"
    with pytest.raises(ValueError, match="unknown"):
        proof_of_work_hash(challenge, nonce, "md5")


def test_a_client_refuses_more_work_than_any_server_may_ask() -> None:
    with pytest.raises(ValueError, match="at most 28"):
        solve_proof_of_work(bytes(40), 29)
    with pytest.raises(ValueError, match="bits"):
        protocol.with_proof_of_work({}, {"challenge": b64(bytes(40)), "bits": "6"})


def test_the_cost_is_configured_with_a_ceiling(tmp_path: Path) -> None:
    env = {"CANDOR_SECRET_KEY": SECRET}
    assert Config.from_env(tmp_path, env).proof_of_work_bits == 18
    assert Config.from_env(tmp_path, {**env, "CANDOR_PROOF_OF_WORK_BITS": "0"}
                           ).proof_of_work_bits == 0
    for bad, message in (("29", "at most 28"), ("-1", "at least 0"), ("many", "whole number")):
        with pytest.raises(ConfigError, match=message):
            Config.from_env(tmp_path, {**env, "CANDOR_PROOF_OF_WORK_BITS": bad})


# --- through the API --------------------------------------------------------------------------
@pytest.fixture
def rso(staff: StaffLogin) -> None:
    staff.create("rso1", Role.RSO)


def test_a_challenge_is_served(client: FlaskClient) -> None:
    answer = client.get("/api/v1/proof-of-work").get_json()
    assert answer["bits"] == 6
    assert len(base64.b64decode(answer["challenge"])) == 40
    assert 590 <= answer["expires"] - time.time() <= 600
    assert answer["hashes"] == ["blake2b-256", "sha-256"]


def test_a_report_may_name_either_hash_and_an_unknown_one_is_told_plainly(
        app: Flask, client: FlaskClient, rso: None) -> None:
    reporter = ReporterClient(client)
    body, _codename = reporter.build_default()
    assert body["proof_of_work"]["hash"] == "blake2b-256"  # the command-line client's choice
    challenge = base64.b64decode(reporter.client.get("/api/v1/proof-of-work")
                                 .get_json()["challenge"])
    unknown = {"challenge": b64(challenge), "hash": "sha3-256",
               "nonce": b64(solve_proof_of_work(challenge, 6))}
    answer = reporter.post("/api/v1/reports", {**body, "proof_of_work": unknown})
    assert answer.status_code == 400
    assert answer.get_json()["message"] == (
        "The anti-abuse check was solved with a hash this server does not take (sha3-256); it "
        "takes blake2b-256, sha-256. Nothing was stored.")
    for odd in (["sha-256"], "x" * 5000):
        answer = reporter.post("/api/v1/reports", {**body, "proof_of_work": {**unknown,
                                                                              "hash": odd}})
        assert answer.status_code == 400 and "(?)" in answer.get_json()["message"]
    assert cases(app) == []
    by_sha = {"challenge": b64(challenge), "hash": "sha-256",
              "nonce": b64(solve_proof_of_work(challenge, 6, "sha-256"))}
    assert reporter.post("/api/v1/reports", {**body, "proof_of_work": by_sha}).status_code == 201
    assert len(cases(app)) == 1


def solved(challenge: bytes) -> dict[str, str]:
    """A proof for ``challenge`` at the suite's 6 bits, whether or not the server issued it."""
    return {"challenge": b64(challenge), "nonce": b64(solve_proof_of_work(challenge, 6))}


def flipped(challenge: bytes) -> bytes:
    return challenge[:-1] + bytes([challenge[-1] ^ 1])


def expired() -> bytes:
    return proof_of_work.issue(SECRET, 6, time.time() - 601).challenge


@pytest.mark.parametrize("tamper", [
    pytest.param(lambda c: solved(flipped(c)), id="forged"),
    pytest.param(lambda c: solved(expired()), id="expired"),
    pytest.param(lambda c: {"challenge": b64(c), "nonce": b64(failing_nonce(c, 6))},
                 id="insufficient"),
    pytest.param(lambda c: {"challenge": b64(c), "nonce": "not base64!"}, id="bad-base64"),
    pytest.param(lambda c: {"challenge": b64(c), "nonce": "AAAAAAAAAAB="}, id="non-canonical"),
    pytest.param(lambda c: solved(c[:39]), id="short-challenge"),
    pytest.param(lambda c: {"challenge": b64(c), "nonce": b64(bytes(7))}, id="short-nonce"),
    pytest.param(lambda c: {"challenge": b64(c) * 2, "nonce": b64(bytes(8))}, id="too-long"),
    pytest.param(lambda c: {"challenge": b64(c)}, id="no-nonce"),
    pytest.param(lambda c: "solved", id="not-an-object"),
    pytest.param(lambda c: None, id="missing"),
])
def test_a_bad_proof_is_a_clear_400_and_nothing_is_stored(
        app: Flask, client: FlaskClient, rso: None, tamper: Callable[[bytes], Any]) -> None:
    reporter = ReporterClient(client)
    body, _codename = reporter.build_default()
    body["proof_of_work"] = tamper(base64.b64decode(body["proof_of_work"]["challenge"]))
    if body["proof_of_work"] is None:
        del body["proof_of_work"]
    answer = reporter.post("/api/v1/reports", body)
    assert answer.status_code == 400
    assert answer.get_json() == {"error": "proof_of_work_rejected",
                                 "message": PROOF_OF_WORK_FAILED}
    assert cases(app) == []


def test_a_proof_files_one_report_only(app: Flask, client: FlaskClient, rso: None) -> None:
    reporter = ReporterClient(client)
    body, _codename = reporter.build_default()
    assert reporter.post("/api/v1/reports", body).status_code == 201
    again, _codename = reporter.build_default()
    answer = reporter.post("/api/v1/reports", {**again, "proof_of_work": body["proof_of_work"]})
    assert answer.status_code == 400 and answer.get_json()["message"] == PROOF_OF_WORK_FAILED
    assert len(cases(app)) == 1


def test_a_refused_report_uses_up_its_proof(app: Flask, client: FlaskClient,
                                            rso: None) -> None:
    # Given back, one solution would buy an answer per refusal: "This codename is taken" to
    # one probe after another (issue 16, finding 9).
    reporter = ReporterClient(client)
    body, _codename = reporter.build_default()
    for bad in ({**body, "category": "gossip"}, {**body, "lookup_id": "not base64!"}):
        assert reporter.post("/api/v1/reports", bad).status_code == 400
    answer = reporter.post("/api/v1/reports", body)
    assert answer.status_code == 400 and answer.get_json()["message"] == PROOF_OF_WORK_FAILED
    assert cases(app) == []
    assert reporter.post("/api/v1/reports", reporter.with_proof_of_work(body)).status_code == 201


def _app_with_bits(make_app: Callable[..., Flask], app: Flask, bits: int) -> Flask:
    config = state_of(app).config
    return make_app(proof_of_work_bits=bits, org_key_file=config.org_signing_key_path,
                    org_fingerprint=pinned_fingerprint(config))


def test_zero_bits_switches_it_off(make_app: Callable[..., Flask], app: Flask,
                                   rso: None) -> None:
    reporter = ReporterClient(_app_with_bits(make_app, app, 0).test_client())
    assert reporter.client.get("/api/v1/proof-of-work").get_json()["bits"] == 0
    body, _codename = reporter.build_default()
    del body["proof_of_work"]
    assert reporter.post("/api/v1/reports", body).status_code == 201


def test_a_higher_cost_is_enforced(make_app: Callable[..., Flask], app: Flask,
                                   rso: None) -> None:
    reporter = ReporterClient(_app_with_bits(make_app, app, 16).test_client())
    body, _codename = reporter.build_default()
    challenge = base64.b64decode(body["proof_of_work"]["challenge"])
    cheap = {"challenge": b64(challenge), "nonce": b64(failing_nonce(challenge, 16, 6))}
    assert reporter.post("/api/v1/reports", {**body, "proof_of_work": cheap}).status_code == 400
    assert reporter.post("/api/v1/reports", body).status_code == 201


# --- in the browser ---------------------------------------------------------------------------
@pytest.fixture
def costly_server(make_app: Callable[..., Flask], app: Flask) -> Iterator[str]:
    """A live server asking for 14 bits: a page whose hash differed from the server's by a
    byte would pass by chance once in 16,384 runs."""
    server = make_server("127.0.0.1", free_port(), _app_with_bits(make_app, app, 14),
                         threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.mark.browser
def test_the_page_solves_the_puzzle_before_sending(page: Any, costly_server: str, app: Flask,
                                                   rso: None) -> None:
    page.goto(costly_server + "/report/new")
    expect(page.locator("#readers-now li")).to_have_text(["rso1, Responsible Scaling Officer"])
    page.select_option("#category", "other")
    page.fill("#report-text", "A report.")
    with page.expect_request("**/api/v1/reports") as filed:
        page.click("#report-submit")
    expect(page.locator("#receipt-codename")).to_be_visible()
    assert len(cases(app)) == 1
    # With WebAssembly, libsodium's BLAKE2b is the faster hash (bench/puzzle_hashes.py).
    assert filed.value.post_data_json["proof_of_work"]["hash"] == "blake2b-256"


@pytest.mark.browser
def test_a_page_without_webassembly_solves_it_with_sha_256(
        jitless_browser: Any, costly_server: str, app: Flask, rso: None) -> None:
    context = jitless_browser.new_context()
    context.set_default_timeout(240_000)
    try:
        page = context.new_page()
        page.goto(costly_server + "/report/new")
        expect(page.locator("#readers-now li")).to_have_text(
            ["rso1, Responsible Scaling Officer"])
        page.select_option("#category", "other")
        page.fill("#report-text", "A report.")
        with page.expect_request("**/api/v1/reports") as filed:
            page.click("#report-submit")
        expect(page.locator("#receipt-codename")).to_be_visible()
    finally:
        context.close()
    assert len(cases(app)) == 1
    assert filed.value.post_data_json["proof_of_work"]["hash"] == "sha-256"
