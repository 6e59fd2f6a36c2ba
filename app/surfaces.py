"""The reporter and staff surfaces never share a session: each has its own cookie, signed
with its own salt, so one surface's cookie is never valid on the other."""

from __future__ import annotations

from flask import Flask, Request, Response, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionInterface

REPORTER_COOKIE = "candor_reporter"
STAFF_COOKIE = "candor_staff"
STAFF_PATH_PREFIXES = ("/staff", "/auth", "/governance", "/api/v1/staff")


def is_staff_path(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in STAFF_PATH_PREFIXES)


class _SurfaceCookie(SecureCookieSessionInterface):
    def __init__(self, cookie_name: str) -> None:
        self.cookie_name = cookie_name
        self.salt = "candor-" + cookie_name

    def get_cookie_name(self, app: Flask) -> str:
        return self.cookie_name


class SurfaceSessionInterface(SessionInterface):
    """Hands each request to the cookie of the surface it belongs to. The two interfaces are
    fixed at start-up, so nothing is shared or changed between concurrent requests."""

    def __init__(self) -> None:
        self.staff = _SurfaceCookie(STAFF_COOKIE)
        self.reporter = _SurfaceCookie(REPORTER_COOKIE)

    def _for(self, path: str) -> _SurfaceCookie:
        return self.staff if is_staff_path(path) else self.reporter

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        return self._for(request.path).open_session(app, request)

    def save_session(self, app: Flask, session: SecureCookieSession,  # type: ignore[override]
                     response: Response) -> None:
        self._for(request.path).save_session(app, session, response)
