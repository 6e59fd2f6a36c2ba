"""Deadline notices through the outbox to a real SMTP server on loopback: content-free, sent
once, kept through an outage and retried with back-off, digests, and what administrators see."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select

from app.config import Config
from app.extensions import db
from app.models import NotificationPreference, OutboxMessage, StaffUser
from app.roles import Role
from app.services import notifications
from app.state import state_of
from tests.support.deadline_world import D0, World, days
from tests.support.smtp import Mailbox, free_port
from tests.support.staff import StaffLogin, csrf_token


def smtp_config(app: Flask, port: int, **more: object) -> Config:
    config: Config = state_of(app).config
    return config.with_overrides(smtp_host="127.0.0.1", smtp_port=port,
                                 smtp_from="candor@lab.example", **more)


def rows(app: Flask) -> list[OutboxMessage]:
    with app.app_context():
        found = list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        db.session.expunge_all()
        return found


def test_a_reminder_is_emailed_once_and_says_nothing_of_the_case(
        world: World, app: Flask, mailbox: Mailbox) -> None:
    number = world.new_case(D0)
    config = smtp_config(app, mailbox.port)
    result = world.tick(days(5), config=config)
    assert result["emails_sent"] == 1
    world.tick(days(5), minute=5, config=config)
    world.tick(days(6), config=config)
    assert len(mailbox.messages) == 1
    recipients, message = mailbox.messages[0]
    assert recipients == ["rso1@example.org"]
    assert message["Subject"] == f"Case {number} needs acknowledgement by {days(7)}"
    assert message["From"] == "candor@lab.example"
    assert message["Message-ID"] == f"<candor-outbox-{rows(app)[0].id}@lab.example>"
    body = message.get_payload(decode=True).decode()
    assert f"/staff/cases/{number}" in body
    for word in ("other", "Something else", "rso1", "board1"):
        assert word not in body.replace("rso1@", "")
    assert [(r.status, r.attempts) for r in rows(app)] == [("sent", 1)]


def test_smtp_down_then_up_loses_nothing_and_backs_off(world: World, app: Flask) -> None:
    world.new_case(D0)
    box = Mailbox(free_port())  # nothing listens there yet
    config = smtp_config(app, box.port)
    start = datetime(2031, 3, 8, 9, 0)
    assert world.tick(days(5), config=config)["emails_retrying"] == 1
    [row] = rows(app)
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.next_attempt_at == start + timedelta(minutes=1)
    assert "Connection" in (row.last_error or "") or "refused" in (row.last_error or "")
    world.tick(days(5), minute=1, config=config)
    world.tick(days(5), minute=2, config=config)  # not yet: 1 + 2 minutes
    [row] = rows(app)
    assert row.attempts == 2 and row.next_attempt_at == start + timedelta(minutes=3)
    world.tick(days(5), minute=3, config=config)
    [row] = rows(app)
    assert row.attempts == 3 and row.next_attempt_at == start + timedelta(minutes=7)

    box.start()
    try:
        world.tick(days(5), minute=5, config=config)
        assert box.messages == []  # still backing off
        world.tick(days(5), minute=7, config=config)
        world.tick(days(5), minute=30, config=config)
        assert len(box.messages) == 1
    finally:
        box.stop()
    [row] = rows(app)
    assert (row.status, row.attempts, row.last_error) == ("sent", 4, None)


def test_without_an_smtp_host_notices_wait(world: World, app: Flask) -> None:
    world.new_case(D0)
    assert world.tick(days(5))["emails_sent"] == 0
    assert [(r.status, r.attempts) for r in rows(app)] == [("pending", 0)]


def admin_client(app: Flask, staff: StaffLogin) -> FlaskClient:
    client = app.test_client()
    staff.login(client, staff.create("admin1", Role.ADMIN))
    return client


def test_failed_deliveries_show_to_admins_and_can_be_sent_again(
        world: World, app: Flask, staff: StaffLogin, mailbox: Mailbox) -> None:
    number = world.new_case(D0)
    down = smtp_config(app, free_port(), smtp_max_attempts=2)
    world.tick(days(5), config=down)
    world.tick(days(5), minute=1, config=down)
    [row] = rows(app)
    assert (row.status, row.attempts) == ("failed", 2)

    client = admin_client(app, staff)
    page = client.get("/staff/admin/notifications")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert f"Case {number} needs acknowledgement" in text and "failed" in text

    rso = app.test_client()
    staff.login(rso, staff.create("rso2", Role.RSO))
    assert rso.get("/staff/admin/notifications").status_code == 403

    token = csrf_token(client, "/staff/admin/notifications")
    answer = client.post(f"/staff/admin/notifications/{row.id}/retry",
                         data={"csrf_token": token})
    assert answer.status_code == 302
    assert client.post(f"/staff/admin/notifications/{row.id}/retry").status_code == 400
    assert client.post("/staff/admin/notifications/999999/retry",
                       data={"csrf_token": token}).status_code == 404
    world.tick(days(5), minute=2, config=smtp_config(app, mailbox.port))
    assert len(mailbox.messages) == 1 and rows(app)[0].status == "sent"


def test_an_address_is_needed_and_admins_set_it(world: World, app: Flask, staff: StaffLogin,
                                                mailbox: Mailbox) -> None:
    with app.app_context():
        db.session.get(StaffUser, world.people.rso).email = None  # type: ignore[union-attr]
        db.session.commit()
    world.new_case(D0)
    config = smtp_config(app, mailbox.port)
    world.tick(days(5), config=config)
    [row] = rows(app)
    assert (row.status, row.last_error) == ("failed", "no email address is set for this person")

    client = admin_client(app, staff)
    token = csrf_token(client, "/staff/admin/notifications")
    bad = client.post(f"/staff/admin/staff/{world.people.rso}/email",
                      data={"csrf_token": token, "email": "not an address"})
    assert bad.status_code == 400
    assert "Enter an address like name@example.org" in bad.get_data(as_text=True)
    assert client.post("/staff/admin/staff/999999/email",
                       data={"csrf_token": token, "email": "a@b.org"}).status_code == 404
    good = client.post(f"/staff/admin/staff/{world.people.rso}/email",
                       data={"csrf_token": token, "email": "rso.new@example.org"})
    assert good.status_code == 302
    client.post(f"/staff/admin/notifications/{row.id}/retry", data={"csrf_token": token})
    world.tick(days(5), minute=1, config=config)
    assert [to for to, _m in mailbox.messages] == [["rso.new@example.org"]]


def test_daily_digest_gathers_reminders_but_not_escalations(
        world: World, app: Flask, staff: StaffLogin, mailbox: Mailbox) -> None:
    client = app.test_client()
    account = staff.create("digester", Role.RSO)
    staff.login(client, account)
    page = client.get("/staff/account/notifications")
    assert page.status_code == 200
    answer = client.post("/staff/account/notifications",
                         data={"csrf_token": csrf_token(client, "/staff/account/notifications"),
                               "daily_digest": "y"})
    assert answer.status_code == 302
    with app.app_context():
        preference = db.session.get(NotificationPreference, account.id)
        assert preference is not None and preference.daily_digest
        person = db.session.get(StaffUser, account.id)
        assert person is not None
        person.email = "digester@example.org"
        db.session.commit()

    first = world.new_case(D0, readers=(account.id,), assignee=False)
    second = world.new_case(days(1), readers=(account.id,), assignee=False)
    config = smtp_config(app, mailbox.port, digest_hour=7)
    world.tick(days(5), hour=6, config=config)
    world.tick(days(6), hour=6, config=config)
    assert mailbox.messages == []
    assert [r.status for r in rows(app)] == ["held", "held"]
    world.tick(days(6), hour=8, config=config)
    world.tick(days(6), hour=9, config=config)
    assert mailbox.subjects() == [f"Candor: 2 deadline notices for {days(6)}"]
    body = mailbox.messages[0][1].get_payload(decode=True).decode()
    assert f"Case {first} needs acknowledgement" in body
    assert f"Case {second} needs acknowledgement" in body

    world.tick(days(9), hour=6, config=config)  # overdue: sent at once, digest or not
    assert any(s.startswith(f"Case {first} is overdue") for s in mailbox.subjects())


def test_staff_create_takes_an_email(runner: FlaskCliRunner, app: Flask) -> None:
    result = runner.invoke(args=["staff", "create", "--username", "mailer", "--role", "rso",
                                 "--email", "mailer@example.org", "--password-stdin"],
                           input="a long enough password\n")
    assert result.exit_code == 0, result.output
    with app.app_context():
        person = db.session.scalar(select(StaffUser).where(StaffUser.username == "mailer"))
        assert person is not None and person.email == "mailer@example.org"
    bad = runner.invoke(args=["staff", "create", "--username", "mailer2", "--role", "rso",
                              "--email", "nope", "--password-stdin"],
                        input="a long enough password\n")
    assert bad.exit_code != 0 and "not an email address" in bad.output
    assert "Traceback" not in bad.output


def test_backoff_grows_and_is_capped() -> None:
    assert [notifications.backoff(n).total_seconds() / 60 for n in (1, 2, 3, 4)] == [
        1, 2, 4, 8]
    assert notifications.backoff(40) == timedelta(hours=6)


def _queue(app: Flask, staff_id: int, count: int, now: datetime) -> None:
    with app.app_context():
        for n in range(count):
            notifications.enqueue(db.session, [staff_id], f"test:{n}",
                                  notifications.Notice(f"Notice {n}", "/staff/deadlines"), now)
        db.session.commit()


def test_one_claim_takes_one_batch(world: World, app: Flask) -> None:
    now = datetime(2031, 3, 8, 9, 0)
    _queue(app, world.people.rso, 45, now)
    with app.app_context():
        claimed = notifications.claim(db.session, now)
        assert len(claimed) == notifications.CLAIM_BATCH
        statuses = db.session.scalars(select(OutboxMessage.status)).all()
        assert statuses.count("pending") == 45 - notifications.CLAIM_BATCH


def test_a_second_tick_beside_a_slow_one_sends_nothing_twice(
        world: World, app: Flask, mailbox: Mailbox) -> None:
    """Cron's tick starts while the scheduler's is still sending: 6 minutes pass between the
    first tick's first and second claim (longer than a lease). The second tick takes only what
    nobody holds; every notice goes exactly once."""
    from sqlalchemy.orm import Session

    start = datetime(2031, 3, 8, 9, 0)
    _queue(app, world.people.rso, 45, start)
    config = smtp_config(app, mailbox.port)
    moment = [start]
    claims: list[int] = []
    second: dict[str, object] = {}

    def second_tick() -> None:
        with app.app_context(), Session(db.engine) as session:
            later = moment[0]
            second["counts"] = notifications.deliver(session, config, later,
                                                     clock=lambda: later)

    def stall(point: str) -> None:
        if point == "smtp-accepted" and not claims[1:]:
            moment[0] = start + timedelta(minutes=6)  # the first batch went out slowly
        if point == "outbox-claimed":
            claims.append(1)
            if len(claims) == 2:  # the first tick holds its second batch: cron starts now
                thread = threading.Thread(target=second_tick)
                thread.start()
                thread.join()

    with app.app_context():
        first = notifications.deliver(db.session, config, start, stall, clock=lambda: moment[0])
    other = second["counts"]
    assert isinstance(other, notifications.DeliveryCounts)
    subjects = mailbox.subjects()
    assert sorted(subjects) == sorted(f"Notice {n}" for n in range(45))
    assert first.sent + other.sent == 45
    assert {r.status for r in rows(app)} == {"sent"}
