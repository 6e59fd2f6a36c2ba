"""Candor's web server: ``python -m app.server`` (``make run`` and every deployment).

uvicorn accepts connections on an event loop; each request is read in full there
(``BufferedRequests``) before one of the process's threads runs the Flask app on it (a2wsgi). A
slow client, one that announces a body and sends a byte a second, costs a coroutine and the
bytes it has sent, never a thread: the threads serve only requests that have arrived whole.
With gunicorn's sync workers, two such clients held both workers and nothing else was
answered.

- A body is held in memory, never spooled to disk (a no-JavaScript report is plaintext), up to
  ``CANDOR_MAX_REQUEST_BYTES``, and all bodies being held in one process up to 16 times that; a
  request past the total gets a 503 at once.
- A body announced as larger than ``CANDOR_MAX_REQUEST_BYTES`` (only a no-JavaScript upload
  may be accepted as such; every other route refuses it with a 413 without reading it) is
  streamed to the app as it arrives, so that a large file is never whole in memory. Such a
  request holds a thread while it arrives, so at most ``CANDOR_STREAMING_REQUESTS`` (default a
  quarter of the threads) run at once per process; more get a 503.
- A body that has not arrived within ``CANDOR_BODY_SECONDS`` (900) gets a 408.

The app never sees the client's address (``REMOTE_ADDR`` is not set). Logging never records
who asked (``app/request_logging.py``): uvicorn's access log (which names
the client address) is off; ``candor.access`` logs staff requests only, with method, path
(control characters escaped), status and size; every line is scrubbed of addresses.

Settings: ``HOST`` (127.0.0.1), ``PORT`` (5000), ``WEB_CONCURRENCY`` (processes, 2),
``CANDOR_THREADS`` (per process, 8), ``FORWARDED_ALLOW_IPS`` (127.0.0.1: the proxy whose
``X-Forwarded-Proto`` is trusted). ``python -m app.server MODULE:APP`` serves another WSGI app
(``MODULE:FACTORY()`` calls a factory), for tests and benchmarks.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from app.request_logging import escape_for_log
from app.surfaces import is_staff_path

Message = MutableMapping[str, Any]
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DEFAULT_MAX_REQUEST_BYTES = 16 * 1024 * 1024
TARGET_VARIABLE = "CANDOR_WSGI_APP"
access_log = logging.getLogger("candor.access")


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


class BufferedRequests:
    """ASGI middleware: the whole request body before the app (see the module's docstring)."""

    def __init__(self, app: ASGIApp, memory_limit: int, streaming_slots: int,
                 body_seconds: float, budget: int | None = None) -> None:
        self.app = app
        self.memory_limit = memory_limit
        self.streaming_slots = streaming_slots
        self.body_seconds = body_seconds
        self.budget = budget if budget is not None else 16 * memory_limit
        self.held = 0  # bytes of bodies held in memory by this process right now
        self.streaming = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The app never learns who is asking: no client address reaches it (a2wsgi would pass
        # it on as REMOTE_ADDR, after uvicorn took it from X-Forwarded-For).
        scope = {**scope, "client": None}
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = self._logging(scope, send)
        chunks: list[bytes] = []
        held = 0
        try:
            declared = _content_length(scope)
            more = True
            if declared is None or declared <= self.memory_limit:
                try:
                    async with asyncio.timeout(self.body_seconds):
                        while more and held <= self.memory_limit:
                            message = await receive()
                            if message["type"] == "http.disconnect":
                                return  # gone before its request was whole: nothing to do
                            chunk = message.get("body", b"")
                            if self.held + len(chunk) > self.budget:
                                raise _Refused(503, "The server is busy; try again in a minute.")
                            chunks.append(chunk)
                            held += len(chunk)
                            self.held += len(chunk)
                            more = message.get("more_body", False)
                except TimeoutError:
                    raise _Refused(408, "The request took too long to arrive.") from None
            if more:
                await self._stream(scope, receive, send, chunks)
            else:
                await self.app(scope, self._replay(b"".join(chunks), receive), send)
        except _Refused as refused:
            await _answer(send, refused.status, refused.text)
        finally:
            self.held -= held

    async def _stream(self, scope: Scope, receive: Receive, send: Send,
                      chunks: list[bytes]) -> None:
        """A body too large to hold, passed on as it arrives; the app may take
        ``body_seconds`` for it, after which it is cut off."""
        if self.streaming >= self.streaming_slots:
            raise _Refused(503, "Too many large uploads at once; try again in a few minutes.")
        self.streaming += 1
        try:
            pending = list(chunks)

            async def replay_then_stream() -> Message:
                if pending:
                    return {"type": "http.request", "body": pending.pop(0), "more_body": True}
                return await receive()

            async with asyncio.timeout(self.body_seconds):
                await self.app(scope, replay_then_stream, send)
        except TimeoutError:
            return  # the connection is closed with the answer unfinished
        finally:
            self.streaming -= 1

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
    def _logging(scope: Scope, send: Send) -> Send:
        """Staff requests only: method, path, status, size (never the query, the client's
        address, its agent, or a reporter's request at all)."""
        path = scope.get("path", "")
        if not is_staff_path(path):
            return send
        status = 0
        size = 0

        async def logged(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
                if not message.get("more_body", False):
                    access_log.info('"%s %s" %s %s', escape_for_log(scope["method"]),
                                    escape_for_log(path), status, size)
            await send(message)

        return logged


def load_wsgi(target: str) -> Any:
    """``module:name`` or ``module:factory()``."""
    module_name, _, attribute = target.partition(":")
    module = importlib.import_module(module_name)
    if attribute.endswith("()"):
        return getattr(module, attribute[:-2])()
    return getattr(module, attribute or "app")


def _int(name: str, default: int, minimum: int = 1) -> int:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, not {value!r}") from None
    if number < minimum:
        raise SystemExit(f"{name} must be at least {minimum}")
    return number


def application() -> ASGIApp:
    """The app each server process runs (uvicorn's factory)."""
    from a2wsgi import WSGIMiddleware

    threads = _int("CANDOR_THREADS", 8)
    wsgi = load_wsgi(os.environ.get(TARGET_VARIABLE, "app.wsgi:app"))
    return BufferedRequests(
        WSGIMiddleware(wsgi, workers=threads),  # type: ignore[arg-type]
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
    uvicorn.run(
        "app.server:application", factory=True,
        host=os.environ.get("HOST", "127.0.0.1"), port=_int("PORT", 5000),
        workers=_int("WEB_CONCURRENCY", 2),
        proxy_headers=True, forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS",
                                                               "127.0.0.1"),
        server_header=False, access_log=False, log_config=logging_config(),
        timeout_keep_alive=5, timeout_graceful_shutdown=30,
    )


if __name__ == "__main__":
    main()
