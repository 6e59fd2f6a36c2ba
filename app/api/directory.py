"""The key directory, served to every client."""

from __future__ import annotations

from flask import Response, jsonify

from app.api.blueprint import bp
from app.extensions import db
from app.json_input import b64
from app.services import directory


@bp.get("/directory")
def key_directory() -> Response:
    """Signed entries of every current recipient. Clients verify each against the organisation
    key whose fingerprint they already hold, and encrypt to no entry that fails."""
    key = directory.current_key(db.session)
    return jsonify(
        organisation_key=b64(key.verify_key) if key else None,
        entries=[b64(staff.directory_entry) for staff in directory.active_entries(db.session)
                 if staff.directory_entry is not None],
    )
