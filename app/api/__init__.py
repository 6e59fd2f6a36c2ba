"""JSON API, version 1, used by the pages' scripts and the command-line client."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# The modules below attach their endpoints to ``bp``.
from app.api import (  # noqa: E402, F401
    attachments,
    cases,
    directory,
    disclosures,
    intake,
    legal_hold,
    officer_shares,
    openapi,
    reporter_data,
    reports,
)
