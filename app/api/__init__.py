"""JSON API, version 1, used by the pages' scripts and the command-line client."""

# Importing these modules attaches their endpoints to ``bp``.
from app.api import (  # noqa: F401
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
from app.api.blueprint import bp

__all__ = ["bp"]
