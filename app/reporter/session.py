"""A reporter's session: which case this browser has open, and when it was last used.

The session cookie is sealed (``app/surfaces.py``): unreadable without the server's secret, so a
seized or shared device does not tell which case its owner opened. Once idle longer than
``CANDOR_REPORTER_IDLE_MINUTES`` it opens nothing, and the next answer replaces it with one
without the case. Nothing is kept on the server.
"""

from __future__ import annotations

import base64
import binascii
import time

from flask import current_app, g, session

from app import get_config

_FIELD = "reporter"
_RECEIPT = "receipt"


def _mark(case_id: int) -> None:
    session[_FIELD] = {"case": case_id, "seen": int(time.time())}


def open_for(case_id: int) -> None:
    """Start a fresh session for this case: nothing from before carries over, not even the CSRF
    token this request may have handed out already (forms made after this get a new one)."""
    session.clear()
    g.pop("csrf_token", None)
    _mark(case_id)


def current_case_id() -> int | None:
    """The open case, if the session exists and has not gone idle (and mark it active)."""
    data = session.get(_FIELD)
    if not isinstance(data, dict):
        return None
    case_id, seen = data.get("case"), data.get("seen")
    if not isinstance(case_id, int) or not isinstance(seen, int):
        return None
    if time.time() - seen > get_config(current_app).reporter_idle_minutes * 60:
        del session[_FIELD]  # the cookie sent back no longer holds the case id
        return None
    _mark(case_id)
    return case_id


def close() -> None:
    session.clear()


def hold_receipt(receipt_id: str, key: bytes) -> None:
    """Keep the claim on a receipt waiting to be shown (app/services/receipts.py): its id and
    the key of its ciphertext, which lives only here, in the sealed cookie."""
    session[_RECEIPT] = {"id": receipt_id, "key": base64.b64encode(key).decode("ascii")}


def take_receipt() -> tuple[str, bytes] | None:
    """The claim on a waiting receipt, removed from the session as it is read: a receipt is
    shown once."""
    data = session.pop(_RECEIPT, None)
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        return None
    try:
        return data["id"], base64.b64decode(str(data.get("key")), validate=True)
    except (binascii.Error, ValueError):
        return None
