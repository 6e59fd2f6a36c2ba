"""The reporter surface: no account, no identifying state."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from babel.dates import format_date
from flask import Blueprint, Response, redirect, render_template, request
from flask_babel import gettext
from markupsafe import Markup

from app import reporter_session as case_session
from app.extensions import db
from app.languages import current_language
from app.models import Case
from app.outside_channels import load_outside_channels
from app.reporter import privacy as privacy_notice
from app.rights_notice import load_notice
from app.services import directory, reports
from app.services.routing import ROUTE_LABELS
from app.state import candor
from candor_reporter import file_size
from candor_reporter.protocol import READER_ROLE_LABELS, describe_person

bp = Blueprint("reporter", __name__)


def reporter_page_context() -> dict[str, Any]:
    """What every reporter page shows, with or without JavaScript: where "Leave now" goes and
    the outside channels."""
    config = candor().config
    return {"leave_url": config.leave_url,
            "outside_channels": load_outside_channels(config.instance_path)}


bp.context_processor(reporter_page_context)


def translated_person(username: str, roles: Iterable[str]) -> str:
    """``describe_person`` with the roles in the page's language."""
    return describe_person(username, roles,
                           {role: gettext(label) for role, label in READER_ROLE_LABELS.items()})


bp.add_app_template_global(translated_person, "describe_person")


bp.add_app_template_filter(file_size.format_bytes, "file_size")


@bp.app_template_filter("size_before_decrypting")
def size_before_decrypting(frames: int, size: int | None = None) -> str:
    """``file_size.size_before_decrypting`` in the page's language."""
    return file_size.size_before_decrypting(frames, size, gettext)


@bp.app_template_filter("long_date")
def long_date(value: date | str | None) -> Markup:
    """A day written out ("9 December 2026") in a ``<time>`` element: never read as a name, or
    in the wrong order, as "by 2026-12-09" or "09/12/2026" can be. Pages with JavaScript write
    dates in the reader's own locale. In another language than English, that language's long
    form ("9 décembre 2026", "2026年12月9日")."""
    if value is None:
        return Markup("")
    day = date.fromisoformat(value) if isinstance(value, str) else value
    language = current_language()
    written = (f"{day.day} {day.strftime('%B %Y')}" if language.locale == "en"
               else format_date(day, format="long", locale=language.locale))
    return Markup('<time datetime="{}">{}</time>').format(day.isoformat(), written)


@bp.get("/")
def index() -> str:
    pinned = directory.pinned_fingerprint(candor().config)
    return render_template(
        "reporter/index.html", org_fingerprint=pinned,
        key_mismatch=pinned is not None and directory.current_fingerprint(db.session) != pinned,
    )


def retaliation_case() -> tuple[bool, Case | None]:
    """Whether this page reports retaliation (``?retaliation=1``), and the case it follows: the
    one this reporter session has open (None if the session ended)."""
    if request.args.get("retaliation") != "1":
        return False, None
    case_id = case_session.current_case_id()
    return True, db.session.get(Case, case_id) if case_id is not None else None


@bp.get("/report/new")
def new_report() -> str:
    """The report form. Its script encrypts in the browser, and only to directory entries signed
    by the organisation key whose fingerprint this page carries."""
    retaliation, first = retaliation_case()
    return render_template(
        "reporter/new.html",
        org_fingerprint=directory.pinned_fingerprint(candor().config),
        routes=ROUTE_LABELS, retaliation=retaliation, first_case=first,
        inherited=reports.inherited_by_retaliation(db.session, first) if first else None,
    )


@bp.get("/report/case")
def case() -> str:
    """Coming back with the codename; the script derives everything from it in the browser."""
    # ?sent=1: the reporter comes from the receipt of the report they just made.
    return render_template("reporter/case.html", sent=request.args.get("sent") == "1")


@bp.get("/report/leave")
def leave() -> Response:
    """"Leave now" without scripts: end the session (every copy of its cookie, as the API's
    leave does), then go to the configured neutral page. A GET, so that a plain link does it;
    the reporter cookie is SameSite=Strict, so no other site can make a browser send it here.
    Browsers refuse a redirect to about:blank, so that default gets an empty page instead."""
    case_session.end()
    db.session.commit()
    leave_url = candor().config.leave_url
    if leave_url.lower() == "about:blank":
        response = Response("<!doctype html><title></title>", mimetype="text/html")
    else:
        response = redirect(leave_url, 303)  # type: ignore[assignment]
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/rights")
def rights() -> str:
    """The notice of rights (Labor Code §1107.1(d)), printable as a poster."""
    return render_template("reporter/rights.html",
                           notice=load_notice(candor().config.instance_path,
                                              current_language().code, gettext))


@bp.get("/privacy")
def privacy() -> str:
    """The privacy notice (GDPR Arts. 13-14): the lab's text, or Candor's default."""
    config = candor().config
    blocks, own = privacy_notice.load(config.instance_path, dict(config.retention_days),
                                      config.backup_keep_days, current_language().code, gettext)
    return render_template("reporter/privacy.html", blocks=blocks, own=own)
