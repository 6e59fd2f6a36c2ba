"""A WSGI app that answers with the client address it was given (tests/test_server.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [f"REMOTE_ADDR={environ.get('REMOTE_ADDR')}".encode()]
