"""Slow clients against Candor's server (two processes) and PostgreSQL: 200 connections each
announce a 200 KB body to ``POST /api/v1/readers`` and send it a byte a second. Meanwhile the
landing page and a whole submission (session, then the report) must each answer within 2 s,
again and again for ``SOAK_SLOW_SECONDS`` (30). Under gunicorn's sync workers two such clients
were enough to leave ``GET /`` unanswered."""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest

from tests.support import live_instance
from tests.support.http_reporter import HttpReporter, prebuild_submissions

pytestmark = pytest.mark.soak
SLOW_CLIENTS = 200
SLOW_SECONDS = float(os.environ.get("SOAK_SLOW_SECONDS", "30"))
ANNOUNCED = 200_000
LIMIT = 2.0  # seconds


class SlowClients:
    """``count`` connections that announce a body and send it a byte a second."""

    def __init__(self, port: int, count: int) -> None:
        self.sockets: list[socket.socket] = []
        self.failures = 0
        self.stop = threading.Event()
        head = (f"POST /api/v1/readers HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {ANNOUNCED}\r\n\r\n{{")
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            sock.sendall(head.encode())
            self.sockets.append(sock)
        self.thread = threading.Thread(target=self._drip, daemon=True)
        self.thread.start()

    def _drip(self) -> None:
        while not self.stop.wait(1.0):
            for sock in self.sockets:
                try:
                    sock.sendall(b" ")
                except OSError:
                    self.failures += 1

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=10)
        for sock in self.sockets:
            sock.close()


def timed(action: str, call: object) -> float:
    started = time.monotonic()
    assert callable(call)
    call()
    took = time.monotonic() - started
    assert took < LIMIT, f"{action} took {took:.2f} s with slow clients connected"
    return took


def test_slow_clients_leave_the_reporting_surface_up(server: live_instance.Server) -> None:
    rounds = max(3, int(SLOW_SECONDS / 3))
    prebuilt = prebuild_submissions(HttpReporter(server.url), rounds)
    slow = SlowClients(server.port, SLOW_CLIENTS)
    took: list[float] = []
    try:
        time.sleep(3)  # every slow request is in and dripping
        deadline = time.monotonic() + SLOW_SECONDS
        for submission in prebuilt:
            reporter = HttpReporter(server.url, timeout=LIMIT)

            def landing(reporter: HttpReporter = reporter) -> None:
                answer = reporter.request("GET", "/")
                assert answer.status == 200 and b"<html" in answer.body.lower()

            def submit(reporter: HttpReporter = reporter, body: bytes = submission.body) -> None:
                answer = reporter.post_json("/api/v1/reports", body)
                assert answer.status == 201, answer.body[:300]

            took.append(timed("GET /", landing))
            took.append(timed("a submission", submit))
            if time.monotonic() >= deadline:
                break
            time.sleep(max(0.0, min(3.0, deadline - time.monotonic())))
        # The slow clients were held open all along (a server that dropped them would make
        # this test pass for the wrong reason).
        assert slow.failures == 0
    finally:
        slow.close()
    print(f"\n{len(took)} answers beside {SLOW_CLIENTS} slow clients; slowest {max(took):.3f} s")
