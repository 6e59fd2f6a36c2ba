"""Candor's web server: ``python -m app.server`` (``make run`` and every deployment).

uvicorn accepts connections on an event loop; each request is read in full there
(``BufferedRequests``) before one of the process's threads runs the Flask app on it (a2wsgi). A
slow client, one that announces a body and sends a byte a second, costs a coroutine and the
bytes it has sent, never a thread: the threads serve only requests that have arrived whole.
With gunicorn's sync workers, two such clients held both workers and nothing else was
answered.

- A request's head must arrive within ``CANDOR_HEADER_SECONDS`` (30) of the connection
  opening or the previous answer ending, or the connection is closed (``CandorH11Protocol``).
- A body is held in memory, never spooled to disk (a no-JavaScript report is plaintext), up to
  ``CANDOR_MAX_REQUEST_BYTES``. One announced as at most 64 KiB comes out of a pool with room
  for one on each of the process's ``CANDOR_MAX_CONNECTIONS`` (400), so it is always admitted;
  larger ones share 16 times ``CANDOR_MAX_REQUEST_BYTES``, past which a request gets a 503.
- A body announced as larger than ``CANDOR_MAX_REQUEST_BYTES`` (only a no-JavaScript upload
  may be accepted as such; every other route refuses it with a 413 without reading it) is
  streamed to the app as it arrives, so that a large file is never whole in memory. Such a
  request holds a thread while it arrives, so at most ``CANDOR_STREAMING_REQUESTS`` (default a
  quarter of the threads) run at once per process; more get a 503.
- A body that has not arrived within ``CANDOR_BODY_SECONDS`` (900) gets a 408; the app's work
  after it has arrived is not timed. A request with both ``Content-Length`` and
  ``Transfer-Encoding`` gets a 400.
- An answer the client leaves unread for ``CANDOR_SEND_STALL_SECONDS`` (60) ends the
  connection; once the client has gone (that way or by disconnecting), the app's thread gets
  ``ClientGone`` at its next piece of the answer, which closes the answer's iterable (a large
  download stops) and frees the thread (``WSGIThreads``).

The app never sees the client's address (``REMOTE_ADDR`` is not set, and headers that name one
are dropped). Logging never records who asked (``app/request_logging.py``): uvicorn's access
log (which names the client address) is off; ``candor.access`` logs staff requests only, with
method, path (control characters escaped), status and size; every line is scrubbed of
addresses.

Settings: ``HOST`` (127.0.0.1), ``PORT`` (5000), ``WEB_CONCURRENCY`` (processes, 2),
``CANDOR_THREADS`` (per process, 8), ``FORWARDED_ALLOW_IPS`` (127.0.0.1: the proxy whose
``X-Forwarded-Proto`` is trusted). ``python -m app.server MODULE:APP`` serves another WSGI app
(``MODULE:FACTORY()`` calls a factory), for tests and benchmarks.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import logging
import os
import sys
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import h11
from a2wsgi.wsgi import WSGIMiddleware, WSGIResponder
from uvicorn.protocols.http.h11_impl import H11Protocol

from app.config import ConfigError, env_int
from app.request_logging import escape_for_log
from app.surfaces import is_staff_path

Message = MutableMapping[str, Any]
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DEFAULT_MAX_REQUEST_BYTES = 16 * 1024 * 1024
DEFAULT_MAX_CONNECTIONS = 400  # per process
TARGET_VARIABLE = "CANDOR_WSGI_APP"
GONE = "candor.client_gone"  # scope key: a threading.Event set once the client has gone
access_log = logging.getLogger("candor.access")


class ClientGone(Exception):
    """Raised in the app's thread when it sends to a client that has gone: the response's
    iterable is closed and the thread is free again."""


class _Responder(WSGIResponder):
    def __init__(self, app: Any, executor: Any, send_queue_size: int,
                 gone: threading.Event) -> None:
        super().__init__(app, executor, send_queue_size)
        self.gone = gone

    def send(self, message: Any) -> None:  # runs in the app's thread
        # Only a body raises: raised from the start (inside start_response), it would leave the
        # app's response iterable unreturned, so nothing could close it (PEP 3333).
        body = message.get("type") == "http.response.body"
        if body and self.gone.is_set():
            raise ClientGone
        super().send(message)
        if body and self.gone.is_set():
            raise ClientGone


class WSGIThreads(WSGIMiddleware):
    """a2wsgi's WSGI-in-threads, except that once the client has gone (it disconnected, or
    stopped reading and was cut off by ``CandorH11Protocol``), the thread's next send raises
    ``ClientGone``: a large download stops instead of running to its end or waiting forever."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        gone = scope.get(GONE) or threading.Event()
        responder = _Responder(self.app, self.executor, self.send_queue_size, gone)
        try:
            await responder(scope, receive, send)
        except ClientGone:
            return


@functools.cache
def _connection_seconds() -> tuple[float, float]:
    return (_int("CANDOR_HEADER_SECONDS", 30), _int("CANDOR_SEND_STALL_SECONDS", 60))


class CandorH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with two deadlines it lacks: a request's head must arrive
    within ``CANDOR_HEADER_SECONDS`` (30) of the connection opening or the previous response
    ending, and a response the client does not read for ``CANDOR_SEND_STALL_SECONDS`` (60)
    (the socket's buffers full all that time) ends the connection."""

    head_timer: asyncio.TimerHandle | None = None
    stall_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_deadline()

    def on_response_complete(self) -> None:
        self._arm_head_deadline()
        super().on_response_complete()

    def handle_events(self) -> None:
        super().handle_events()
        if self.conn.their_state is not h11.IDLE and self.head_timer is not None:
            self.head_timer.cancel()  # the request's head has arrived
            self.head_timer = None

    def connection_lost(self, exc: Exception | None) -> None:
        for timer in (self.head_timer, self.stall_timer):
            if timer is not None:
                timer.cancel()
        super().connection_lost(exc)

    def pause_writing(self) -> None:
        super().pause_writing()
        if self.stall_timer is None:
            self.stall_timer = self.loop.call_later(_connection_seconds()[1], self._cut_off)

    def resume_writing(self) -> None:
        super().resume_writing()
        if self.stall_timer is not None:
            self.stall_timer.cancel()
            self.stall_timer = None

    def _arm_head_deadline(self) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
        self.head_timer = self.loop.call_later(_connection_seconds()[0], self._head_too_slow)

    def _head_too_slow(self) -> None:
        self.head_timer = None
        if self.conn.their_state is h11.IDLE:
            self._cut_off()

    def _cut_off(self) -> None:
        """Close at once, unsent data dropped (``close`` would wait to send it)."""
        self.stall_timer = None
        self.transport.abort()


class _Refused(Exception):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status, self.text = status, text


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _answer(send: Send, status: int, text: str) -> None:
    body = text.encode() + b"\n"
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close"), (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": body})


ADDRESS_HEADERS = frozenset({b"x-forwarded-for", b"forwarded", b"x-real-ip", b"true-client-ip",
                             b"cf-connecting-ip"})
SMALL_BODY = 64 * 1024  # bodies up to this size have their own pool (sign-ins, submissions)


class BufferedRequests:
    """ASGI middleware: the whole request body before the app (see the module's docstring)."""

    def __init__(self, app: ASGIApp, memory_limit: int, streaming_slots: int,
                 body_seconds: float, budget: int | None = None,
                 small_budget: int | None = None) -> None:
        self.app = app
        self.memory_limit = memory_limit
        self.streaming_slots = streaming_slots
        self.body_seconds = body_seconds
        self.budget = budget if budget is not None else 16 * memory_limit
        self.small_budget = small_budget if small_budget is not None else 256 * SMALL_BODY
        self.held = 0  # bytes of large bodies held in memory by this process right now
        self.held_small = 0  # and of bodies announced as at most SMALL_BODY
        self.streaming = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The app never learns who is asking: no client address reaches it (a2wsgi would pass
        # it on as REMOTE_ADDR, after uvicorn took it from X-Forwarded-For), nor any header
        # naming one.
        if scope["type"] != "http":
            await self.app({**scope, "client": None}, receive, send)
            return
        headers = scope.get("headers", [])
        scope = {**scope, "client": None, GONE: threading.Event(),
                 "headers": [(k, v) for k, v in headers if k not in ADDRESS_HEADERS]}
        send, log_unfinished = self._logging(scope, send)
        chunks: list[bytes] = []
        held = 0
        small = False
        watcher: asyncio.Task[None] | None = None
        try:
            if any(k == b"transfer-encoding" for k, _ in headers) and any(
                    k == b"content-length" for k, _ in headers):
                raise _Refused(400, "A request may not carry both Content-Length and "
                                    "Transfer-Encoding.")
            declared = _content_length(scope)
            small = declared is not None and declared <= SMALL_BODY
            more = True
            if declared is None or declared <= self.memory_limit:
                try:
                    async with asyncio.timeout(self.body_seconds):
                        while more and held <= self.memory_limit:
                            message = await receive()
                            if message["type"] == "http.disconnect":
                                return  # gone before its request was whole: nothing to do
                            chunk = message.get("body", b"")
                            if small:
                                if self.held_small + len(chunk) > self.small_budget:
                                    raise _Refused(503, "The server is busy; try again in a "
                                                        "minute.")
                                self.held_small += len(chunk)
                            elif self.held + len(chunk) > self.budget:
                                raise _Refused(503, "The server is busy; try again in a minute.")
                            else:
                                self.held += len(chunk)
                            chunks.append(chunk)
                            held += len(chunk)
                            more = message.get("more_body", False)
                except TimeoutError:
                    raise _Refused(408, "The request took too long to arrive.") from None
            if more:
                await self._stream(scope, receive, send, chunks)
            else:
                watcher = asyncio.ensure_future(self._watch(receive, scope[GONE]))
                await self.app(scope, self._replay(b"".join(chunks), receive), send)
        except _Refused as refused:
            await _answer(send, refused.status, refused.text)
        finally:
            log_unfinished()
            if watcher is not None:
                watcher.cancel()
            if small:
                self.held_small -= held
            else:
                self.held -= held

    @staticmethod
    async def _watch(receive: Receive, gone: threading.Event) -> None:
        """Once the whole body has been read, the next message is the client going away (or
        the response ending): tell the app's thread, so that it stops sending."""
        if (await receive())["type"] == "http.disconnect":
            gone.set()

    async def _stream(self, scope: Scope, receive: Receive, send: Send,
                      chunks: list[bytes]) -> None:
        """A body too large to hold, passed on as it arrives; what has not arrived within
        ``body_seconds`` is cut off (the app sees the body end, and the client gets a 408
        instead of the app's answer). The app's work after the body is not timed."""
        if self.streaming >= self.streaming_slots:
            raise _Refused(503, "Too many large uploads at once; try again in a few minutes.")
        self.streaming += 1
        pending = list(chunks)
        deadline = asyncio.get_running_loop().time() + self.body_seconds
        late = False
        whole = False
        watcher: asyncio.Task[None] | None = None

        async def replay_then_stream() -> Message:
            nonlocal late, whole, watcher
            if pending:
                return {"type": "http.request", "body": pending.pop(0), "more_body": True}
            if whole or late:
                return {"type": "http.disconnect"}
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                late = True
                return {"type": "http.disconnect"}
            if message["type"] == "http.disconnect":
                scope[GONE].set()
            elif not message.get("more_body", False):
                whole = True
                watcher = asyncio.ensure_future(self._watch(receive, scope[GONE]))
            return message

        replaced = False

        async def answer_or_408(message: Message) -> None:
            nonlocal replaced
            if late and message["type"] == "http.response.start":
                replaced = True
                await _answer(send, 408, "The request took too long to arrive.")
            if not replaced:
                await send(message)

        try:
            await self.app(scope, replay_then_stream, answer_or_408)
        finally:
            self.streaming -= 1
            if watcher is not None:
                watcher.cancel()

    @staticmethod
    def _replay(body: bytes, receive: Receive) -> Receive:
        given = False

        async def replay() -> Message:
            nonlocal given
            if not given:
                given = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return replay

    @staticmethod
    def _logging(scope: Scope, send: Send) -> tuple[Send, Callable[[], None]]:
        """Staff requests only: method, path, status, size (never the query, the client's
        address, its agent, or a reporter's request at all); the second function, called when
        the request is over, logs a response cut short (the client went away) as unfinished."""
        path = scope.get("path", "")
        if not is_staff_path(path):
            return send, lambda: None
        status = 0
        size = 0
        logged_already = False

        def log(suffix: str = "") -> None:
            nonlocal logged_already
            if not logged_already and status:
                logged_already = True
                access_log.info('"%s %s" %s %s%s', escape_for_log(scope["method"]),
                                escape_for_log(path), status, size, suffix)

        async def logged(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
                if not message.get("more_body", False):
                    log()
            await send(message)

        return logged, lambda: log(" unfinished")


def load_wsgi(target: str) -> Any:
    """``module:name`` or ``module:factory()``."""
    module_name, _, attribute = target.partition(":")
    module = importlib.import_module(module_name)
    if attribute.endswith("()"):
        return getattr(module, attribute[:-2])()
    return getattr(module, attribute or "app")


def _int(name: str, default: int, minimum: int = 1) -> int:
    """A setting read as the configuration reads its numbers; a bad one stops the server."""
    try:
        return env_int(os.environ, name, default, minimum=minimum)
    except ConfigError as error:
        raise SystemExit(str(error)) from None


def application() -> ASGIApp:
    """The app each server process runs (uvicorn's factory)."""
    threads = _int("CANDOR_THREADS", 8)
    wsgi = load_wsgi(os.environ.get(TARGET_VARIABLE, "app.wsgi:app"))
    return BufferedRequests(
        WSGIThreads(wsgi, workers=threads),
        # Room for a small body on every connection the process accepts: they never run out.
        small_budget=_int("CANDOR_MAX_CONNECTIONS", DEFAULT_MAX_CONNECTIONS) * SMALL_BODY,
        memory_limit=_int("CANDOR_MAX_REQUEST_BYTES", DEFAULT_MAX_REQUEST_BYTES, 1024),
        streaming_slots=_int("CANDOR_STREAMING_REQUESTS", max(1, threads // 4)),
        body_seconds=_int("CANDOR_BODY_SECONDS", 900),
    )


def logging_config() -> dict[str, Any]:
    """One handler on stderr, every line through the anonymising filter; uvicorn's access log
    off (it names the client's address)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"anonymous": {"()": "app.request_logging.SafeLineFilter"}},
        "formatters": {"plain": {"format": "%(levelname)s %(name)s: %(message)s"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr",
                                "formatter": "plain", "filters": ["anonymous"]}},
        "root": {"level": "INFO", "handlers": ["stderr"]},
        "loggers": {
            "uvicorn": {"level": "INFO", "handlers": [], "propagate": True},
            "uvicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
            "uvicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
            "alembic": {"level": "WARNING"},
        },
    }


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    arguments = sys.argv[1:] if argv is None else argv
    if len(arguments) > 1 or (arguments and arguments[0].startswith("-")):
        raise SystemExit("usage: python -m app.server [MODULE:APP | MODULE:FACTORY()]")
    os.environ[TARGET_VARIABLE] = arguments[0] if arguments else "app.wsgi:app"
    _connection_seconds()  # a bad setting stops the server here, not at its first connection
    uvicorn.run(
        "app.server:application", factory=True,
        host=os.environ.get("HOST", "127.0.0.1"), port=_int("PORT", 5000),
        workers=_int("WEB_CONCURRENCY", 2),
        proxy_headers=True, forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS",
                                                               "127.0.0.1"),
        server_header=False, access_log=False, log_config=logging_config(),
        timeout_keep_alive=5, timeout_graceful_shutdown=30, http=CandorH11Protocol,
        limit_concurrency=_int("CANDOR_MAX_CONNECTIONS", DEFAULT_MAX_CONNECTIONS),
    )


if __name__ == "__main__":
    main()
