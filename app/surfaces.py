"""The reporter and staff surfaces never share a session: each has its own cookie, sealed under
its own key, so one surface's cookie is never valid on the other.

A session cookie is sealed (encrypted and authenticated), not only signed: Flask's signed cookie
is readable by whoever holds it, and a reporter's cookie on a seized or shared device must not
say which case it opens, nor anything else. Flask still decides when to set, refresh or delete
the cookie and with which attributes; only how its content is made changes (``SealedCookie``).
"""

from __future__ import annotations

import base64
import binascii
import time
from typing import Any

import nacl.exceptions
import nacl.secret
from flask import Flask, Request, Response, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionInterface
from itsdangerous import BadSignature, SignatureExpired

from app.config import Config

REPORTER_COOKIE = "candor_reporter"
STAFF_COOKIE = "candor_staff"
STAFF_PATH_PREFIXES = ("/staff", "/auth", "/governance", "/api/v1/staff")
_ISSUED_SIZE = 8
_BLOCK = 128


def is_staff_path(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in STAFF_PATH_PREFIXES)


class SealedCookie:
    """A session's content as the cookie carries it: XSalsa20-Poly1305, with a random nonce
    per cookie, over the time it was made and Flask's JSON form of the session padded to a
    multiple of 128 bytes; base64url without padding. What Flask asks of its serializer:
    ``dumps``, and ``loads`` raising ``BadSignature`` for anything not made with this key, or
    made more than ``max_age`` seconds ago."""

    def __init__(self, key: bytes) -> None:
        self._box = nacl.secret.SecretBox(key)

    def dumps(self, data: dict[str, Any]) -> str:
        issued = int(time.time()).to_bytes(_ISSUED_SIZE, "big")
        text = SecureCookieSessionInterface.serializer.dumps(data)
        # Padded with spaces (JSON ignores them) to a whole block: a cookie's length would
        # otherwise say how many digits the case id it opens has.
        text += " " * (-len(text) % _BLOCK)
        payload = issued + text.encode()
        return base64.urlsafe_b64encode(self._box.encrypt(payload)).rstrip(b"=").decode("ascii")

    def loads(self, value: str, max_age: int | None = None) -> dict[str, Any]:
        try:
            sealed = base64.b64decode(value + "=" * (-len(value) % 4), altchars=b"-_",
                                      validate=True)
            payload = self._box.decrypt(sealed)
        except (ValueError, binascii.Error, nacl.exceptions.CryptoError):
            raise BadSignature("not a session cookie made with this key") from None
        issued = int.from_bytes(payload[:_ISSUED_SIZE], "big")
        if max_age is not None and time.time() - issued > max_age:
            raise SignatureExpired("session cookie expired")
        data: dict[str, Any] = SecureCookieSessionInterface.serializer.loads(
            payload[_ISSUED_SIZE:].decode())
        return data


class _SurfaceCookie(SecureCookieSessionInterface):
    def __init__(self, cookie_name: str, config: Config) -> None:
        self.cookie_name = cookie_name
        self._sealed = SealedCookie(config.derived_key("session-cookie/" + cookie_name))

    def get_cookie_name(self, app: Flask) -> str:
        return self.cookie_name

    def get_signing_serializer(self, app: Flask) -> SealedCookie:  # type: ignore[override]
        return self._sealed


class SurfaceSessionInterface(SessionInterface):
    """Hands each request to the cookie of the surface it belongs to. The two interfaces are
    fixed at start-up, so nothing is shared or changed between concurrent requests."""

    def __init__(self, config: Config) -> None:
        self.staff = _SurfaceCookie(STAFF_COOKIE, config)
        self.reporter = _SurfaceCookie(REPORTER_COOKIE, config)

    def _for(self, path: str) -> _SurfaceCookie:
        return self.staff if is_staff_path(path) else self.reporter

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        return self._for(request.path).open_session(app, request)

    def save_session(self, app: Flask, session: SecureCookieSession,  # type: ignore[override]
                     response: Response) -> None:
        self._for(request.path).save_session(app, session, response)
