"""Notification emails through an outbox: rows are written in the same transaction as what
they report, and the tick delivers them over SMTP.

Content-free by construction: a notice is a case number, what it needs, a date and a link
path; never a category, a name or anything written in the case.

Delivery, and what each crash point costs:

1. claim: a batch of due rows is marked ``sending`` with a random token and a lease
   (``claimed_until``), and the attempt is counted; committed. A crash after it loses nothing:
   the lease runs out and the next tick claims the row again.
2. renew the row's lease (only if the token is still ours; committed), then send over SMTP.
   A refused connection or a temporary error puts the row back to ``pending``
   with an exponential back-off; after ``CANDOR_SMTP_MAX_ATTEMPTS`` it is ``failed`` and shows
   on the administrators' page, where it can be sent again.
3. mark ``sent``, only if the token is still ours; committed.

The one window left is between the SMTP server's acceptance (step 2) and the commit (step 3):
a crash exactly there sends the email again after the lease. Leases are counted from the
moment of the claim and renewed just before each email, never from the start of the tick: a
tick that sends slowly keeps what it claimed, and a second tick beside it (cron next to the
scheduler) never sends a row the first is still sending. Every attempt carries the same
Message-ID, so mail systems that deduplicate will show it once. Losing a deadline notice would
be worse than repeating it, so the outbox errs on that side.
"""

from __future__ import annotations

import logging
import re
import secrets
import smtplib
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from app.config import Config
from app.extensions import DbSession, savepoint, table_of
from app.models import NotificationPreference, OutboxMessage, StaffUser

log = logging.getLogger(__name__)
CLAIM_LEASE = timedelta(minutes=5)
CLAIM_BATCH = 20
BACKOFF_FIRST = timedelta(minutes=1)
BACKOFF_LONGEST = timedelta(hours=6)
FOOTER = ("\n\nSign in to Candor to see it: {path}\n\n"
          "Notices never carry anything written in a case.\n")


EMAIL_PATTERN = r"[^@\s]+@[^@\s]+\.[^@\s]+"


def valid_email(address: str) -> bool:
    return len(address) <= 254 and re.fullmatch(EMAIL_PATTERN, address) is not None


@dataclass(frozen=True)
class Notice:
    subject: str
    link_path: str

    def body(self) -> str:
        return self.subject + "." + FOOTER.format(path=self.link_path)


@dataclass
class DeliveryCounts:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


def digest_choosers(session: DbSession) -> set[int]:
    """Everyone who chose the daily digest (a small table, read once per batch)."""
    return set(session.scalars(select(NotificationPreference.staff_id)
                               .where(NotificationPreference.daily_digest)))


def set_digest(session: DbSession, staff: StaffUser, daily_digest: bool) -> None:
    preference = session.get(NotificationPreference, staff.id)
    if preference is None:
        session.add(NotificationPreference(staff_id=staff.id, daily_digest=daily_digest))
    else:
        preference.daily_digest = daily_digest


def outbox_rows(staff_ids: Sequence[int], cause: str, notice: Notice, now: datetime,
                digest: set[int]) -> list[dict[str, object]]:
    """Rows for ``notice`` to each person, keyed by ``cause`` so that it is queued once; for
    those in ``digest`` they wait for the daily digest. For a bulk insert."""
    return [{"staff_id": staff_id, "dedupe_key": f"{cause}:{staff_id}"[:80],
             "subject": notice.subject, "body": notice.body(),
             "status": "held" if staff_id in digest else "pending", "attempts": 0,
             "next_attempt_at": now, "created_at": now} for staff_id in staff_ids]


def enqueue(session: DbSession, staff_ids: Sequence[int], cause: str, notice: Notice,
            now: datetime, digestible: bool = False) -> int:
    """Queue ``notice`` for each person, once per ``cause``; reminders (``digestible``) wait
    for the daily digest of those who chose one. Returns how many rows were queued."""
    rows = outbox_rows(staff_ids, cause, notice, now,
                       digest_choosers(session) if digestible else set())
    if rows:
        session.execute(insert(table_of(OutboxMessage)), rows)
    return len(rows)


# --- daily digests ----------------------------------------------------------------------------
def build_digests(session: DbSession, now: datetime, digest_hour: int) -> int:
    """From ``digest_hour`` (UTC) on, one digest per person of everything held for them; held
    rows that arrive after today's digest wait for tomorrow's."""
    if now.hour < digest_hour:
        return 0
    day = now.date().isoformat()
    people = list(session.scalars(select(OutboxMessage.staff_id)
                                  .where(OutboxMessage.status == "held").distinct()))
    session.commit()
    made = 0
    for staff_id in people:
        # A write first, so the rows read below cannot change before they are marked.
        claimed = session.execute(
            update(OutboxMessage).where(OutboxMessage.staff_id == staff_id,
                                        OutboxMessage.status == "held")
            .values(status="digesting"), execution_options={"synchronize_session": False})
        held = list(session.scalars(select(OutboxMessage).where(
            OutboxMessage.staff_id == staff_id, OutboxMessage.status == "digesting")
            .order_by(OutboxMessage.id)))
        if not claimed.rowcount or not held:  # type: ignore[attr-defined]
            session.rollback()
            continue
        digest = OutboxMessage(
            staff_id=staff_id, dedupe_key=f"digest:{staff_id}:{day}",
            subject=f"Candor: {len(held)} deadline notice{'s' if len(held) != 1 else ''} "
                    f"for {day}",
            body="\n".join(f"- {row.subject}" for row in held)
                 + FOOTER.format(path="/staff/deadlines"),
            status="pending", next_attempt_at=now, created_at=now)
        try:
            with savepoint(session):
                session.add(digest)
                session.flush()
        except IntegrityError:
            session.rollback()  # today's digest went out already: these wait for tomorrow
            continue
        for row in held:
            row.status, row.digest_id = "digested", digest.id
        session.commit()
        made += 1
    return made


# --- delivery ---------------------------------------------------------------------------------
def backoff(attempts: int) -> timedelta:
    delay: timedelta = BACKOFF_FIRST * 2 ** min(max(0, attempts - 1), 20)
    return min(delay, BACKOFF_LONGEST)


def _due(now: datetime):  # type: ignore[no-untyped-def]
    return or_(and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
               and_(OutboxMessage.status == "sending", OutboxMessage.claimed_until < now))


def claim(session: DbSession, now: datetime, limit: int = CLAIM_BATCH) -> list[OutboxMessage]:
    """Claim up to ``limit`` rows due at ``now`` for this process (committed), leased from
    ``now``, and return them."""
    token = secrets.token_hex(16)
    picked = select(OutboxMessage.id).where(_due(now)).order_by(OutboxMessage.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        # Locked here, in a statement of its own: as a subquery of the UPDATE, PostgreSQL may
        # run it again for each row and claim far more than one batch.
        picked = picked.with_for_update(skip_locked=True)
    ids = list(session.scalars(picked))
    if not ids:
        session.commit()
        return []
    # The condition again: on SQLite another claimer may have taken a row since it was read.
    session.execute(
        update(OutboxMessage).where(OutboxMessage.id.in_(ids), _due(now))
        .values(status="sending", claim_token=token, claimed_until=now + CLAIM_LEASE,
                attempts=OutboxMessage.attempts + 1),
        execution_options={"synchronize_session": False})
    session.commit()
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.claim_token == token)
                                .order_by(OutboxMessage.id)))


def _renew(session: DbSession, row: OutboxMessage, token: str | None, now: datetime) -> bool:
    """Extend ``row``'s lease from ``now`` if it is still ours (committed)."""
    result = session.execute(
        update(OutboxMessage).where(OutboxMessage.id == row.id,
                                    OutboxMessage.claim_token == token,
                                    OutboxMessage.status == "sending")
        .values(claimed_until=now + CLAIM_LEASE),
        execution_options={"synchronize_session": False})
    session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]


def tick_clock(now: datetime) -> Callable[[], datetime]:
    """The tick's own moment, moving on with real time from ``now`` (which a test or an
    operator may set to another moment): what leases are counted from."""
    started = time.monotonic()
    return lambda: now + timedelta(seconds=time.monotonic() - started)


def _finish(session: DbSession, row: OutboxMessage, token: str | None, **values: object) -> bool:
    result = session.execute(
        update(OutboxMessage).where(OutboxMessage.id == row.id,
                                    OutboxMessage.claim_token == token)
        .values(claim_token=None, claimed_until=None, **values),
        execution_options={"synchronize_session": False})
    session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _retry_or_fail(session: DbSession, row: OutboxMessage, token: str | None, error: str,
                   now: datetime, max_attempts: int, counts: DeliveryCounts) -> None:
    if row.attempts >= max_attempts:
        _finish(session, row, token, status="failed", last_error=error[:300])
        counts.failed += 1
    else:
        _finish(session, row, token, status="pending", last_error=error[:300],
                next_attempt_at=now + backoff(row.attempts))
        counts.retrying += 1


def email_for(config: Config, row: OutboxMessage, to: str, now: datetime) -> EmailMessage:
    domain = config.smtp_from.rpartition("@")[2] or "candor.invalid"
    message = EmailMessage()
    message["From"] = config.smtp_from
    message["To"] = to
    message["Subject"] = row.subject
    message["Date"] = format_datetime(now.replace(tzinfo=UTC), usegmt=True)
    # The same on every attempt, so a repeat after a crash can be recognised as one email.
    message["Message-ID"] = f"<candor-outbox-{row.id}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(row.body)
    return message


class SmtpConnection:
    """One SMTP session for a batch, opened when the first email needs it."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.smtp: smtplib.SMTP | None = None

    def send(self, message: EmailMessage) -> None:
        if self.smtp is None:
            assert self.config.smtp_host
            smtp = smtplib.SMTP(self.config.smtp_host, self.config.smtp_port,
                                timeout=self.config.smtp_timeout_seconds)
            try:
                if self.config.smtp_starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.config.smtp_username:
                    smtp.login(self.config.smtp_username, self.config.smtp_password or "")
            except BaseException:
                smtp.close()
                raise
            self.smtp = smtp
        self.smtp.send_message(message)

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (smtplib.SMTPException, OSError):
                self.smtp.close()
            self.smtp = None


def deliver(session: DbSession, config: Config, now: datetime,
            stall: Callable[[str], None] = lambda _: None,
            clock: Callable[[], datetime] | None = None) -> DeliveryCounts:
    """Send every due outbox row. Without an SMTP host nothing is sent and nothing is lost:
    rows wait until one is configured. ``clock`` gives the moment leases are counted from
    (by default ``now`` moving on with real time)."""
    counts = DeliveryCounts()
    if not config.smtp_host:
        return counts
    clock = clock or tick_clock(now)
    connection = SmtpConnection(config)
    try:
        while True:
            rows = claim(session, clock())
            if not rows:
                return counts
            stall("outbox-claimed")
            for index, row in enumerate(rows):
                token = row.claim_token
                if not _renew(session, row, token, clock()):
                    log.warning("outbox row %s: its claim lapsed before sending; another "
                                "tick has it", row.id)
                    continue
                staff = session.get(StaffUser, row.staff_id)
                if staff is None or staff.disabled_at is not None or not staff.email:
                    reason = ("the account is disabled" if staff and staff.disabled_at
                              else "no email address is set for this person")
                    _finish(session, row, token, status="failed", last_error=reason)
                    counts.failed += 1
                    continue
                try:
                    connection.send(email_for(config, row, staff.email, now))
                except smtplib.SMTPRecipientsRefused as error:
                    _retry_or_fail(session, row, token, f"recipient refused: {error.recipients}",
                                   now, config.smtp_max_attempts, counts)
                    continue
                except (smtplib.SMTPException, OSError) as error:
                    # The server is down or failing: this row and the rest of the claim go back
                    # with a back-off, and delivery stops until the next tick.
                    connection.close()
                    for rest in rows[index:]:
                        _retry_or_fail(session, rest, rest.claim_token,
                                       f"{type(error).__name__}: {error}", now,
                                       config.smtp_max_attempts, counts)
                    return counts
                stall("smtp-accepted")
                if _finish(session, row, token, status="sent", sent_at=now, last_error=None):
                    counts.sent += 1
                else:
                    log.warning("outbox row %s was sent after its claim had lapsed", row.id)
    finally:
        connection.close()


def retry_now(session: DbSession, row: OutboxMessage, now: datetime) -> None:
    """An administrator sends a failed row again (for example after setting an address)."""
    row.status, row.attempts, row.next_attempt_at = "pending", 0, now
    row.claim_token, row.claimed_until = None, None


def outbox_summary(session: DbSession) -> dict[str, int]:
    return {status: count for status, count in session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))}
