"""The reporter and staff surfaces never share a session: each has its own cookie."""

from __future__ import annotations

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

REPORTER_COOKIE = "candor_reporter"
STAFF_COOKIE = "candor_staff"
STAFF_PATH_PREFIXES = ("/staff", "/auth", "/governance", "/api/v1/staff")


def is_staff_path(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in STAFF_PATH_PREFIXES)


class SurfaceSessionInterface(SecureCookieSessionInterface):
    """Chooses the cookie by the surface a request belongs to; a staff cookie is never read on
    the reporter side and the other way round."""

    def get_cookie_name(self, app: Flask) -> str:
        return STAFF_COOKIE if is_staff_path(request.path) else REPORTER_COOKIE

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        # A salt per surface: a reporter cookie's value is not a valid staff cookie, nor the
        # other way round, even though one secret key signs both.
        self.salt = "candor-" + self.get_cookie_name(app)
        return super().get_signing_serializer(app)
