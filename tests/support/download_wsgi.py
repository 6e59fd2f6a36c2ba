"""A WSGI app for tests/test_server.py: ``/big`` answers with ``CHUNKS`` chunks of 64 KiB, one
every few milliseconds, and ``/status`` says how far the last one got and whether its iterable
was closed; ``/upload`` reads its body, works for ``WORK_SECONDS`` and answers with its length."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

CHUNKS = 2000
WORK_SECONDS = 2.0
state = {"sent": 0, "closed": False}
lock = threading.Lock()


def app(environ: dict[str, Any],
        start_response: Callable[..., Any]) -> _Big | list[bytes]:
    path = environ["PATH_INFO"]
    if path == "/big":
        with lock:
            state.update(sent=0, closed=False)
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return _Big()
    if path == "/upload":
        length = len(environ["wsgi.input"].read())
        time.sleep(WORK_SECONDS)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [f"read {length}".encode()]
    start_response("200 OK", [("Content-Type", "text/plain")])
    with lock:
        return [f"sent={state['sent']} closed={state['closed']}".encode()]


class _Big:
    """The download's iterable, with the ``close()`` a server must call (PEP 3333) even when
    the client left before the first chunk: a generator's ``finally`` would not run then, as
    closing a generator that never started runs none of its code."""

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        with lock:
            if int(state["sent"]) >= CHUNKS:
                raise StopIteration
        time.sleep(0.005)
        with lock:
            state["sent"] = int(state["sent"]) + 1
        return b"x" * 65536

    def close(self) -> None:
        with lock:
            state["closed"] = True
