"""No log line, from the development server or from gunicorn, names a client address or agent."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from app.request_logging import scrub_addresses

AGENT = "CandorTestAgent/7.7 (identifying-browser-string)"


def fetch(url: str, body: bytes | None = None) -> None:
    headers = {"User-Agent": AGENT, "Referer": "http://x.test/",
               **({"Content-Type": "application/json"} if body is not None else {})}
    request = urllib.request.Request(url, data=body, headers=headers)
    with contextlib.suppress(urllib.error.HTTPError), urllib.request.urlopen(request, timeout=10):
        pass


def send_garbage(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"NOT-HTTP \x00\x01\r\n\r\n")
        with contextlib.suppress(OSError):
            sock.recv(1024)


def assert_anonymous(lines: str) -> None:
    assert lines.strip(), "expected some log output to check"
    assert "127.0.0.1" not in lines
    assert AGENT not in lines and "CandorTestAgent" not in lines
    assert "x.test" not in lines


def test_scrubber_removes_ipv4_and_ipv6() -> None:
    text = "Invalid request from ip=10.1.2.3: x; peer [2001:db8::1]:443, ::1, ::ffff:10.9.8.7"
    scrubbed = scrub_addresses(text)
    for address in ("10.1.2.3", "2001:db8::1", "::1", "10.9.8.7", "9.8.7"):
        assert address not in scrubbed, scrubbed
    assert "17:31:29" in scrub_addresses("at 17:31:29")


def test_development_server_log(live_server: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="werkzeug")
    fetch(live_server + "/")
    fetch(live_server + "/auth/login?who=me")
    fetch(live_server + "/staff/no-such-page")
    fetch(live_server + "/api/v1/reports", b"{}")  # a reporter's 400, which Werkzeug colours
    send_garbage(int(live_server.rsplit(":", 1)[1]))
    time.sleep(0.2)
    lines = "\n".join(record.getMessage() for record in caplog.records)
    assert '"GET /auth/login' in lines and "/staff/no-such-page" in lines
    assert '"GET / ' not in lines, "a reporter request was logged"
    assert "/api/v1/reports" not in lines, "a reporter's refused request was logged"
    assert_anonymous(lines)


def test_gunicorn_logs(tmp_path: Path, database_url: str) -> None:
    from tests.conftest import SECRET, free_port

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CANDOR_")}
    env.update(CANDOR_ENV="production", CANDOR_SECRET_KEY=SECRET, CANDOR_DATABASE_URL=database_url,
               CANDOR_INSTANCE_PATH=str(tmp_path), CANDOR_HTTPS="false", PORT=str(port),
               WEB_CONCURRENCY="1")
    log_path = tmp_path / "gunicorn.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "python:app.gunicorn_conf", "app.wsgi:app"],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        fetch(f"http://127.0.0.1:{port}/")
        fetch(f"http://127.0.0.1:{port}/auth/login")
        fetch(f"http://127.0.0.1:{port}/staff/no-such-page?who=me")
        send_garbage(port)
        time.sleep(0.5)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
    lines = log_path.read_text()
    assert '"GET /auth/login" 200' in lines and '"GET /staff/no-such-page" 404' in lines, lines
    assert '"GET /"' not in lines, "a reporter request was logged"
    assert "who=me" not in lines
    assert_anonymous(lines)
