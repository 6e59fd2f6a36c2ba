"""A WSGI app that answers with the client address it was given and every header that could
name one (tests/test_server.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

ADDRESS_KEYS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP",
                "HTTP_TRUE_CLIENT_IP", "HTTP_CF_CONNECTING_IP")


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    named = [key for key in ADDRESS_KEYS if key in environ]
    named += [key for key in ("REMOTE_ADDR", "REMOTE_PORT") if environ.get(key)]
    scope = environ.get("asgi.scope", {})
    if scope.get("client") or any(name.decode() in ("x-forwarded-for", "forwarded")
                                  for name, _ in scope.get("headers", [])):
        named.append("asgi.scope")
    return [f"REMOTE_ADDR={environ.get('REMOTE_ADDR')} named={','.join(named)}".encode()]
