"""No log line, from the development server or from Candor's server, names a client address or
agent, or can be forged by a request."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import socket
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest
from flask import Flask

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


FORGED = "INFO candor.scheduler: tick done: {'emails_sent': 1}"


def test_server_logs(tmp_path: Path, database_url: str) -> None:
    """Candor's server (app/server.py): staff requests only, no address, agent or query, and
    paths that try to write lines of their own (%0A, %0D, %00, logged decoded) stay on one."""
    from tests.conftest import SECRET
    from tests.support.live_instance import Server

    env = {k: v for k, v in os.environ.items() if not k.startswith("CANDOR_")}
    env.update(CANDOR_ENV="production", CANDOR_SECRET_KEY=SECRET, CANDOR_DATABASE_URL=database_url,
               CANDOR_INSTANCE_PATH=str(tmp_path), CANDOR_HTTPS="false")
    log_path = tmp_path / "server.log"
    server = Server("app.wsgi:app", env, log_path, workers=1)
    server.start(ready_path="/auth/login")
    try:
        base = server.url
        fetch(base + "/")
        fetch(base + "/auth/login")
        fetch(base + "/staff/no-such-page?who=me")
        fetch(base + "/staff/x%0A" + quote(FORGED))
        fetch(base + "/staff/y%0D%0A" + quote(FORGED))
        fetch(base + "/staff/z%00%1B%5Cx0a%C2%85%E2%80%A8end")
        send_garbage(server.port)
        time.sleep(0.5)
    finally:
        server.stop()
    raw = log_path.read_bytes()
    lines = raw.decode()
    assert '"GET /auth/login" 200' in lines and '"GET /staff/no-such-page" 404' in lines, lines
    assert '"GET /"' not in lines, "a reporter request was logged"
    assert "who=me" not in lines
    assert_anonymous(lines)
    assert not any(line.startswith("INFO candor.scheduler") for line in lines.splitlines())
    assert b"\x00" not in raw and b"\r" not in raw and b"\x1b" not in raw
    assert '"GET /staff/x\\x0aINFO candor.scheduler: tick done' in lines
    assert '"GET /staff/y\\x0d\\x0aINFO' in lines
    assert '"GET /staff/z\\x00\\x1b\\x5cx0a\\x85\\u2028end" 404' in lines
    assert "server: " not in lines.lower()


def test_every_log_line_from_the_app_is_one_line(app: Flask) -> None:
    """Flask logs an error as ``Exception on <path>``; whatever the path holds, one line."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    app.logger.addHandler(handler)
    try:
        app.logger.error("Exception on %s [%s]", "/staff/x\n" + FORGED + "\x00", "GET")
    finally:
        app.logger.removeHandler(handler)
    written = stream.getvalue()
    assert written.count("\n") == 1 and "\x00" not in written
    assert "/staff/x\\x0aINFO candor.scheduler" in written


def test_no_server_header(tmp_path: Path, database_url: str) -> None:
    from tests.conftest import SECRET
    from tests.support.live_instance import Server

    env = {k: v for k, v in os.environ.items() if not k.startswith("CANDOR_")}
    env.update(CANDOR_ENV="production", CANDOR_SECRET_KEY=SECRET, CANDOR_DATABASE_URL=database_url,
               CANDOR_INSTANCE_PATH=str(tmp_path), CANDOR_HTTPS="false")
    server = Server("app.wsgi:app", env, tmp_path / "server.log", workers=1)
    server.start(ready_path="/auth/login")
    try:
        with urllib.request.urlopen(server.url + "/", timeout=10) as answer:
            assert answer.headers.get("Server") is None
    finally:
        server.stop()
