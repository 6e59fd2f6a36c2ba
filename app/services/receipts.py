"""Receipts of reports filed without JavaScript, shown once after a redirect.

A page without JavaScript files its report with a POST. Showing the codename in that POST's own
answer meant a reload sent the form again and filed a second case. So the POST redirects to a
page that shows the receipt once (post, redirect, get), and the codename must wait somewhere in
between without being stored readably: it is encrypted under a fresh random key; the database
keeps the ciphertext, the reporter's sealed session cookie keeps the key, and showing the
receipt deletes the row. A receipt nobody came for is deleted by the daily housekeeping.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from nacl.exceptions import CryptoError as NaclCryptoError
from nacl.secret import SecretBox
from nacl.utils import random as random_bytes
from sqlalchemy import delete

from app.extensions import DbSession
from app.models import Case, PendingReceipt, today

TOKEN_BYTES = 16


@dataclass(frozen=True)
class Receipt:
    case: Case
    codename: str
    files: list[str]
    uncleaned: list[str]
    cleaning: dict[str, str]  # by file name: what cleaning a document removed and kept


@dataclass(frozen=True)
class Claim:
    """What the reporter's session holds to collect a receipt: its id and its key."""

    receipt_id: str
    key: bytes


def hold(session: DbSession, case: Case, codename: str, files: list[str],
         uncleaned: list[str], cleaning: dict[str, str] | None = None) -> Claim:
    """Keep a receipt, encrypted, until it is shown (not committed)."""
    key = random_bytes(SecretBox.KEY_SIZE)
    payload = json.dumps({"codename": codename, "files": files, "uncleaned": uncleaned,
                          "cleaning": cleaning or {}})
    receipt_id = secrets.token_hex(TOKEN_BYTES)
    session.add(PendingReceipt(id=receipt_id, case_id=case.id, created_on=today(),
                               sealed=bytes(SecretBox(key).encrypt(payload.encode()))))
    return Claim(receipt_id, key)


def take(session: DbSession, claim: Claim) -> Receipt | None:
    """The receipt this claim opens, deleted as it is read (not committed); None if it was
    already shown, purged, or the claim does not open it."""
    row = session.get(PendingReceipt, claim.receipt_id)
    if row is None:
        return None
    try:
        data: dict[str, Any] = json.loads(SecretBox(claim.key).decrypt(row.sealed))
    except (NaclCryptoError, ValueError, TypeError):
        return None
    # Deleted by a statement that says whether it found the row: of two requests at once (a
    # double reload), only the one whose DELETE removed it shows the receipt.
    gone = session.execute(delete(PendingReceipt).where(PendingReceipt.id == row.id)
                           .execution_options(synchronize_session=False))
    if gone.rowcount != 1:  # type: ignore[attr-defined]
        return None
    case = session.get_one(Case, row.case_id)
    return Receipt(case, str(data["codename"]), list(data["files"]), list(data["uncleaned"]),
                   dict(data.get("cleaning", {})))


def discard(session: DbSession, receipt_id: str) -> None:
    """Delete a receipt nobody is to see any more ("Leave now" before it was shown), if it is
    still there (not committed)."""
    session.execute(delete(PendingReceipt).where(PendingReceipt.id == receipt_id)
                    .execution_options(synchronize_session=False))


def purge_uncollected(session: DbSession, on: date) -> int:
    """Delete receipts held since before yesterday: their reporter is not coming back for
    them. Returns how many went."""
    result = session.execute(delete(PendingReceipt).where(
        PendingReceipt.created_on < on - timedelta(days=1)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
