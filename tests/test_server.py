"""Candor's server (app/server.py) on loopback: requests arrive whole before a thread takes them,
a few slow large uploads cannot take the threads, and the memory held for bodies is bounded.
(tests/soak/test_slow_clients.py runs 200 slow clients against two processes.)"""

from __future__ import annotations

import html
import os
import re
import socket
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import SECRET
from tests.support.live_instance import Server

MIB = 1024 * 1024


@pytest.fixture
def server(tmp_path: Path, database_url: str, request: pytest.FixtureRequest) -> Iterator[Server]:
    """One process with 4 threads (so one large upload at a time), bodies up to 1 MiB held in
    memory (16 MiB in all); a test may give more settings by indirect parametrisation."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CANDOR_")}
    env.update(CANDOR_ENV="production", CANDOR_SECRET_KEY=SECRET, CANDOR_DATABASE_URL=database_url,
               CANDOR_INSTANCE_PATH=str(tmp_path), CANDOR_HTTPS="false", CANDOR_THREADS="4",
               CANDOR_MAX_REQUEST_BYTES=str(MIB), **getattr(request, "param", {}))
    running = Server("app.wsgi:app", env, tmp_path / "server.log", workers=1)
    running.start(ready_path="/auth/login")
    yield running
    running.stop()


def open_request(server: Server, path: str, length: int, sent: bytes = b"") -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                 f"application/x-www-form-urlencoded\r\nContent-Length: {length}\r\n\r\n"
                 .encode() + sent)
    return sock


def status_of(sock: socket.socket) -> int:
    head = sock.recv(4096)
    return int(head.split(b" ", 2)[1])


def landing_page(server: Server) -> int:
    with urllib.request.urlopen(server.url + "/", timeout=10) as answer:
        return int(answer.status)


def test_slow_bodies_never_reach_a_thread(server: Server) -> None:
    """Far more unfinished requests than threads: the landing page still answers, and each
    of them is still waiting for its body, not failed."""
    waiting = [open_request(server, "/api/v1/readers", 1000, b"{") for _ in range(24)]
    try:
        time.sleep(0.5)
        assert landing_page(server) == 200
        for sock in waiting:
            sock.settimeout(0.05)
            with pytest.raises(TimeoutError):
                sock.recv(1)  # no answer yet: the server is still reading its body
    finally:
        for sock in waiting:
            sock.close()


def start_plain_upload(server: Server, size: int) -> socket.socket:
    """A no-JavaScript report with a file of ``size`` bytes (the one request that may be larger
    than the memory limit), as the form sends it, stalled after the file's first bytes."""
    with urllib.request.urlopen(server.url + "/report/plain/new", timeout=10) as answer:
        page = answer.read().decode()
        cookie = answer.headers["Set-Cookie"].split(";", 1)[0]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    action = re.search(r'<form method="post" action="([^"]+)"', page)
    assert token and action
    boundary = "candor-test-boundary"
    fields = {"csrf_token": token.group(1), "route": "rso", "category": "other",
              "text": "A report with a large file.", "send": "Encrypt and send"}
    head = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                    f"{value}\r\n".encode() for name, value in fields.items())
    head += (f'--{boundary}\r\nContent-Disposition: form-data; name="attachments"; '
             'filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n').encode()
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    sock.sendall(f"POST {html.unescape(action.group(1))} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 f"Cookie: {cookie}\r\nContent-Type: multipart/form-data; boundary={boundary}"
                 f"\r\nContent-Length: {len(head) + size}\r\n\r\n".encode() + head + b"x" * 1000)
    return sock


def test_large_uploads_share_their_own_few_threads(server: Server) -> None:
    """Bodies larger than the memory limit are streamed to a thread as they arrive: one at a
    time here. A second is refused at once, while the first is still being read; the rest of
    the site is unaffected."""
    first = start_plain_upload(server, 4 * MIB)
    try:
        time.sleep(0.5)
        second = start_plain_upload(server, 4 * MIB)
        with second:
            assert status_of(second) == 503
        assert landing_page(server) == 200
        first.settimeout(0.05)
        with pytest.raises(TimeoutError):
            first.recv(1)  # still being read
    finally:
        first.close()


@pytest.mark.parametrize("server", [{"CANDOR_BODY_SECONDS": "2"}], indirect=True)
def test_a_body_that_takes_too_long_is_refused(server: Server) -> None:
    with open_request(server, "/api/v1/readers", 1000, b"{") as slow:
        slow.settimeout(30)
        assert status_of(slow) == 408


@pytest.mark.parametrize("server", [{"CANDOR_BODY_SECONDS": "2"}], indirect=True)
def test_a_large_upload_that_stops_arriving_is_refused(server: Server) -> None:
    """A no-JavaScript upload streamed to the app that stops arriving: a 408, and the
    server's log holds no error (the app saw the body end, and its answer was replaced)."""
    with start_plain_upload(server, 4 * MIB) as stalled:
        stalled.settimeout(30)
        assert status_of(stalled) == 408
    assert landing_page(server) == 200
    log = server.log.read_text()
    assert "Traceback" not in log and "ERROR" not in log, log


def test_memory_held_for_bodies_is_bounded(server: Server) -> None:
    """16 bodies of almost 1 MiB each, all unfinished, fill what one process holds for large
    bodies; the next large one is refused at once, while a small body (a sign-in, a
    submission) has its own pool and is still answered, as is a request without a body."""
    nearly = MIB - 1
    held = [open_request(server, "/api/v1/readers", MIB, b"x" * nearly) for _ in range(16)]
    try:
        time.sleep(1.0)
        extra = open_request(server, "/api/v1/readers", MIB, b"x" * 4096)
        with extra:
            assert status_of(extra) == 503
        small = open_request(server, "/api/v1/readers", 1000, b"x" * 1000)
        with small:
            assert status_of(small) != 503
        assert landing_page(server) == 200
    finally:
        for sock in held:
            sock.close()
    time.sleep(0.5)
    again = open_request(server, "/api/v1/readers", 10, b"x" * 10)
    with again:
        assert status_of(again) != 503  # released when those clients went away


def test_the_app_never_sees_the_client_address(tmp_path: Path, database_url: str) -> None:
    """Not even from a proxy's X-Forwarded-For, which the server trusts for the scheme."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CANDOR_")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    running = Server("tests.support.echo_wsgi:app", env, tmp_path / "server.log", workers=1)
    running.start(ready_path="/")
    try:
        request = urllib.request.Request(running.url + "/", headers={
            "X-Forwarded-For": "203.0.113.9", "Forwarded": "for=203.0.113.9",
            "X-Real-IP": "203.0.113.9", "True-Client-IP": "203.0.113.9",
            "CF-Connecting-IP": "203.0.113.9"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.read() == b"REMOTE_ADDR=None named="
    finally:
        running.stop()


@pytest.fixture
def downloads(tmp_path: Path) -> Iterator[Server]:
    """tests/support/download_wsgi.py behind one process with one thread; a client that does
    not read for 1 s is cut off; a request head must arrive within 1 s; bodies over 1 KiB are
    streamed and must arrive within 1 s."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CANDOR_")}
    env.update(PYTHONPATH=str(Path(__file__).resolve().parents[1]), CANDOR_THREADS="1",
               CANDOR_SEND_STALL_SECONDS="1", CANDOR_HEADER_SECONDS="1",
               CANDOR_BODY_SECONDS="1", CANDOR_MAX_REQUEST_BYTES="1024")
    running = Server("tests.support.download_wsgi:app", env, tmp_path / "server.log", workers=1)
    running.start(ready_path="/status")
    yield running
    running.stop()


def get(server: Server, path: str) -> str:
    with urllib.request.urlopen(server.url + path, timeout=20) as answer:
        return str(answer.read().decode())


def wait_for_closed_download(server: Server) -> str:
    for _ in range(100):
        status = get(server, "/status")
        if "closed=True" in status:
            return status
        time.sleep(0.1)
    return status


def test_a_client_that_stops_reading_frees_the_thread(downloads: Server) -> None:
    """The one thread serves a download nobody reads: the client is cut off, the response's
    iterable closed, and the thread answers the next request."""
    with socket.create_connection(("127.0.0.1", downloads.port), timeout=10) as stalled:
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.sendall(b"GET /big HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        status = wait_for_closed_download(downloads)
        assert "closed=True" in status
        assert int(status.split()[0].split("=")[1]) < 2000


def test_a_download_stops_when_its_client_goes(downloads: Server) -> None:
    with socket.create_connection(("127.0.0.1", downloads.port), timeout=10) as leaving:
        leaving.sendall(b"GET /big HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert leaving.recv(4096).startswith(b"HTTP/1.1 200")
    status = wait_for_closed_download(downloads)
    assert "closed=True" in status
    assert int(status.split()[0].split("=")[1]) < 2000


def test_a_request_head_that_takes_too_long_ends_the_connection(downloads: Server) -> None:
    with socket.create_connection(("127.0.0.1", downloads.port), timeout=10) as slow:
        slow.sendall(b"GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never finished
        assert slow.recv(4096) == b""  # closed by the server, well before the socket's timeout


def test_the_body_deadline_does_not_cut_off_the_app_after_the_body(downloads: Server) -> None:
    """A streamed body (over 1 KiB here) that arrives in time, then the app works past the
    body deadline: its answer still arrives."""
    request = urllib.request.Request(downloads.url + "/upload", data=b"y" * 2000, method="POST")
    with urllib.request.urlopen(request, timeout=20) as answer:
        assert answer.read() == b"read 2000"


def test_content_length_with_transfer_encoding_is_refused(downloads: Server) -> None:
    with socket.create_connection(("127.0.0.1", downloads.port), timeout=10) as sock:
        sock.sendall(b"POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
        assert status_of(sock) == 400


def test_a_streamed_body_that_takes_too_long_gets_a_408(downloads: Server) -> None:
    """The deadline still cuts off a streamed body that stops arriving, with a 408, and the
    thread reading it is let go (the next request is answered by the one thread)."""
    with socket.create_connection(("127.0.0.1", downloads.port), timeout=10) as slow:
        slow.sendall(b"POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2000\r\n\r\n"
                     + b"y" * 100)
        assert status_of(slow) == 408
    assert get(downloads, "/status").startswith("sent=")
