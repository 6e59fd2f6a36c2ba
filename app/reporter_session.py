"""A reporter's session: which case this browser has open, and when it was last used.

The session cookie is sealed (``app/surfaces.py``): unreadable without the server's secret, so a
seized or shared device does not tell which case its owner opened. Once idle longer than
``CANDOR_REPORTER_IDLE_MINUTES`` it opens nothing, and the next answer replaces it with one
without the case. The server keeps nothing of a session while it lasts.

"Leave now" (:func:`end`) must also end any copy of the cookie taken before, which the cookie
alone cannot do: every session carries a random identifier, kept from the first case it opens
to its end (so ending it also ends cookies of cases opened earlier in it), and an ended one is
remembered by the server until every copy has gone idle (``app/services/reporter_sessions.py``).
"""

from __future__ import annotations

import base64
import binascii
import secrets
import time

from flask import g, session

from app.extensions import db
from app.models import today
from app.services import receipts, reporter_sessions
from app.state import candor

_FIELD = "reporter"
_RECEIPT = "receipt"


def _mark(case_id: int, session_id: str) -> None:
    session[_FIELD] = {"case": case_id, "seen": int(time.time()), "sid": session_id}


def _live() -> tuple[int, str] | None:
    """The open case and the session's identifier, if the session exists, has not gone idle
    and has not been ended."""
    data = session.get(_FIELD)
    if not isinstance(data, dict):
        return None
    case_id, seen, session_id = data.get("case"), data.get("seen"), data.get("sid")
    if not isinstance(case_id, int) or not isinstance(seen, int) \
            or not isinstance(session_id, str):
        return None
    if time.time() - seen > candor().config.reporter_idle_minutes * 60 \
            or reporter_sessions.is_ended(db.session, session_id):
        del session[_FIELD]  # the cookie sent back no longer holds the case id
        return None
    return case_id, session_id


def open_for(case_id: int) -> None:
    """Start a fresh session for this case: nothing from before carries over, not even the CSRF
    token this request may have handed out already (forms made after this get a new one), but
    the identifier of a session still live, so that leaving ends its earlier cookies too."""
    live = _live()
    session.clear()
    g.pop("csrf_token", None)
    _mark(case_id, live[1] if live else secrets.token_urlsafe(16))


def current_case_id() -> int | None:
    """The open case, if the session is live (and mark it active)."""
    live = _live()
    if live is None:
        return None
    _mark(*live)
    return live[0]


def close() -> None:
    """Forget the session in this cookie (a copy of it still works until it goes idle)."""
    session.clear()


def end() -> None:
    """"Leave now": close the session and end every cookie of it, copies included. The caller
    commits."""
    data = session.get(_FIELD)
    session_id = data.get("sid") if isinstance(data, dict) else None
    if isinstance(session_id, str):
        reporter_sessions.end(db.session, session_id, today(),
                              candor().config.reporter_idle_minutes)
    # A receipt still waiting to be shown goes too: a copy of a cookie taken after a report
    # was sent without JavaScript (which holds no session identifier) would otherwise still
    # show its codename.
    claim = session.get(_RECEIPT)
    if isinstance(claim, dict) and isinstance(claim.get("id"), str):
        receipts.discard(db.session, claim["id"])
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
    case = session.get(_FIELD)
    session_id = case.get("sid") if isinstance(case, dict) else None
    if isinstance(session_id, str) and reporter_sessions.is_ended(db.session, session_id):
        return None  # a copy of a cookie whose session was ended by "Leave now"
    try:
        return data["id"], base64.b64decode(str(data.get("key")), validate=True)
    except (binascii.Error, ValueError):
        return None
