"""Error pages that say what went wrong for the user and nothing about the server."""

from __future__ import annotations

from flask import Flask, Response, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from app.rate_limit import RateLimited

MESSAGES: dict[int, tuple[str, str]] = {
    400: ("Bad request", "The request could not be understood. Check what you entered and try "
          "again."),
    401: ("Sign-in required", "Sign in to continue."),
    403: ("Not allowed", "You do not have permission to do that."),
    404: ("Not found", "There is nothing at this address."),
    405: ("Not allowed", "This address does not accept that kind of request."),
    413: ("Too large", "What you sent is larger than this server accepts."),
    429: ("Too many requests", "Too many requests arrived in a short time. Wait a little and try "
          "again."),
    500: ("Something went wrong", "The server could not complete the request. Nothing you sent "
          "was kept in a half-finished state; please try again later."),
}
CSRF_MESSAGE = ("Form expired", "This form expired or was not sent from this site. Go back, reload "
                "the page and try again.")


def _respond(status: int, title: str, message: str) -> tuple[Response | str, int]:
    if request.path.startswith("/api/") or request.is_json:
        return jsonify(error=title, message=message), status
    return render_template("errors/error.html", status=status, title=title,
                           message=message), status


def init_app(app: Flask) -> None:
    @app.errorhandler(RateLimited)
    def rate_limited(error: RateLimited) -> tuple[Response | str, int, dict[str, str]]:
        body, status = _respond(429, "Too many requests", (
            "Many reports are arriving right now. Nothing you sent was stored; wait "
            f"{error.retry_after} seconds and try again."))
        return body, status, {"Retry-After": str(error.retry_after)}

    @app.errorhandler(CSRFError)
    def csrf_failed(error: CSRFError) -> tuple[Response | str, int]:
        return _respond(400, *CSRF_MESSAGE)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Response | str, int] | HTTPException:
        status = error.code or 500
        if status < 400:  # redirects raised as exceptions pass through untouched
            return error
        title, message = MESSAGES.get(status, (error.name, "The request could not be completed."))
        if error.description != type(error).description:
            message = str(error.description)  # a specific message our own code chose to show
        return _respond(status, title, message)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> tuple[Response | str, int]:
        # Logged with its traceback for the operator; the user sees only the generic page.
        app.logger.exception("unhandled error on %s %s", request.method, request.url_rule)
        return _respond(500, *MESSAGES[InternalServerError.code])
