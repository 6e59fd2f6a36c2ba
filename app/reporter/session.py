"""A reporter's session: which case this browser has open, sealed inside the cookie.

Flask's cookie is signed, not secret, and a case id in clear text on a seized or shared device
would tie its owner to a case. So the cookie carries the case id and the last-activity time
encrypted under a key derived from the server's secret: unreadable without the server, and
useless once idle longer than ``CANDOR_REPORTER_IDLE_MINUTES``. Nothing is kept on the server.
"""

from __future__ import annotations

import json
import time

import nacl.exceptions
import nacl.secret
from flask import current_app, g, session

from app import get_config

_FIELD = "reporter"


def _box() -> nacl.secret.SecretBox:
    return nacl.secret.SecretBox(get_config(current_app).derived_key("reporter-session"))


def _seal(case_id: int) -> str:
    payload = json.dumps({"case": case_id, "seen": int(time.time())}).encode()
    return _box().encrypt(payload).hex()


def open_for(case_id: int) -> None:
    """Start a fresh session for this case: nothing from before carries over, not even the CSRF
    token this request may have handed out already (forms made after this get a new one)."""
    session.clear()
    g.pop("csrf_token", None)
    session[_FIELD] = _seal(case_id)


def current_case_id() -> int | None:
    """The open case, if the session exists and has not gone idle (and mark it active)."""
    sealed = session.get(_FIELD)
    if not isinstance(sealed, str):
        return None
    try:
        data = json.loads(_box().decrypt(bytes.fromhex(sealed)))
        case_id, seen = int(data["case"]), int(data["seen"])
    except (ValueError, KeyError, TypeError, nacl.exceptions.CryptoError):
        return None
    if time.time() - seen > get_config(current_app).reporter_idle_minutes * 60:
        return None
    session[_FIELD] = _seal(case_id)
    return case_id


def close() -> None:
    session.clear()
