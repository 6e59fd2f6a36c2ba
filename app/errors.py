"""Error pages that say what went wrong for the user and nothing about the server."""

from __future__ import annotations

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from app.rate_limit import RateLimited
from candor_reporter.languages import N_

MESSAGES: dict[int, tuple[str, str]] = {
    400: (N_("Bad request"), N_("The request could not be understood. Check what you entered "
                                  "and try again.")),
    401: (N_("Sign-in required"), N_("Sign in to continue.")),
    403: (N_("Not allowed"), N_("You do not have permission to do that.")),
    404: (N_("Not found"), N_("There is nothing at this address.")),
    405: (N_("Not allowed"), N_("This address does not accept that kind of request.")),
    413: (N_("Too large"), N_("What you sent is larger than this server accepts.")),
    429: (N_("Too many requests"), N_("Too many requests arrived in a short time. Wait a little "
                                        "and try again.")),
    500: (N_("Something went wrong"), N_(
        "The server could not complete the request. Nothing you sent was kept in a "
        "half-finished state; please try again later.")),
}
CSRF_MESSAGE = (N_("Form expired"), N_("This form expired or was not sent from this site. Go "
                                     "back, reload the page and try again."))


def _respond(status: int, title: str, message: str) -> tuple[Response | str, int]:
    """The error in the page's language (English on staff pages and where no catalogue has it:
    a message our own code chose is looked up as it is). An API answer's ``error`` stays the
    English title, which clients may compare; its ``message`` is for people."""
    if request.path.startswith("/api/") or request.is_json:
        return jsonify(error=title, message=gettext(message)), status
    return render_template("errors/error.html", status=status, title=gettext(title),
                           message=gettext(message)), status


def init_app(app: Flask) -> None:
    @app.errorhandler(RateLimited)
    def rate_limited(error: RateLimited) -> tuple[Response | str, int, dict[str, str]]:
        body, status = _respond(429, "Too many requests", gettext(
            "Many reports are arriving right now. Nothing you sent was stored; wait "
            "%(seconds)s seconds and try again.", seconds=error.retry_after))
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
