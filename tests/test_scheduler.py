"""The scheduler's lease and the tick across processes: two schedulers, two ticks at once and a
tick killed with SIGKILL at chosen points, against a real SMTP server on loopback. Each ladder
step and each email happens once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import EscalationStep, OutboxMessage, SchedulerLease, utcnow
from app.roles import Role
from app.services import scheduler_lease
from app.state import state_of
from tests.conftest import SECRET
from tests.support.deadline_world import D0, World, days
from tests.support.smtp import Mailbox
from tests.support.staff import StaffLogin

pytestmark = pytest.mark.slow
PROJECT = Path(__file__).resolve().parent.parent


def environment(app: Flask, database_url: str, mailbox: Mailbox, **more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CANDOR_")}
    env.update(CANDOR_ENV="testing", CANDOR_SECRET_KEY=SECRET, CANDOR_DATABASE_URL=database_url,
               CANDOR_INSTANCE_PATH=app.instance_path, CANDOR_SMTP_HOST="127.0.0.1",
               CANDOR_SMTP_PORT=str(mailbox.port), CANDOR_SMTP_FROM="candor@lab.example",
               **more)
    return env


def candor(env: dict[str, str], *args: str, log: Path | None = None) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "app.cli", *args]
    if log is None:
        return subprocess.Popen(command, cwd=PROJECT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
    with log.open("wb") as handle:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(command, cwd=PROJECT, env=env, stdout=subprocess.DEVNULL,
                                stderr=handle)


def tick(env: dict[str, str], now: str) -> str:
    process = candor(env, "tick", "--now", now)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err.decode()
    return out.decode()


def stall_and_kill(env: dict[str, str], now: str, point: str) -> None:
    """Start a tick that stops at ``point``, wait until it says so, and SIGKILL it there."""
    process = candor({**env, "CANDOR_TEST_STALL_AT": point}, "tick", "--now", now)
    assert process.stderr is not None
    line = process.stderr.readline().decode()
    assert line.strip() == f"stalled at {point}", line
    process.kill()
    process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL


def steps(app: Flask) -> list[tuple[int, str, int, str]]:
    with app.app_context():
        found = [(s.case_id, s.clock, s.cycle, s.step)
                 for s in db.session.scalars(select(EscalationStep))]
        db.session.remove()
        return found


def outbox(app: Flask) -> list[tuple[str, str]]:
    with app.app_context():
        found = [(m.status, m.subject) for m in db.session.scalars(
            select(OutboxMessage).order_by(OutboxMessage.id))]
        db.session.remove()
        return found


def deliveries(box: Mailbox) -> Counter[tuple[str, str]]:
    return Counter((to[0], str(m["Subject"])) for to, m in box.messages)


def test_the_lease_admits_one_holder_until_it_expires(app: Flask) -> None:
    ttl, now = timedelta(seconds=30), utcnow()
    with app.app_context():
        session = db.session
        assert scheduler_lease.acquire(session, "a", now, ttl)
        assert not scheduler_lease.acquire(session, "b", now, ttl)
        assert scheduler_lease.acquire(session, "a", now + timedelta(seconds=20), ttl)  # renew
        assert not scheduler_lease.acquire(session, "b", now + timedelta(seconds=45), ttl)
        assert scheduler_lease.acquire(session, "b", now + timedelta(seconds=51), ttl)
        assert not scheduler_lease.acquire(session, "a", now + timedelta(seconds=52), ttl)
        scheduler_lease.release(session, "b", now + timedelta(seconds=53))
        assert scheduler_lease.acquire(session, "a", now + timedelta(seconds=54), ttl)


def test_killed_mid_escalation_then_restarted_each_step_and_email_once(
        world: World, app: Flask, database_url: str, mailbox: Mailbox) -> None:
    world.new_case(D0)
    env = environment(app, database_url, mailbox)
    stall_and_kill(env, f"{days(14)}T09:00:00", "escalation-step")
    # The killed transaction left nothing: no step, no notice, no released escrow.
    assert steps(app) == [] and outbox(app) == []
    assert "escalation_steps_taken: 4" in tick(env, f"{days(14)}T09:00:00")
    assert "escalation_steps_taken: 0" in tick(env, f"{days(14)}T09:05:00")
    assert [s[3] for s in steps(app)] == ["before", "due", "route", "board"]
    mailbox.wait_for(2)
    counts = deliveries(mailbox)
    assert set(counts.values()) == {1}
    assert sorted(to for to, _s in counts) == ["board1@example.org", "rso1@example.org"]


def test_killed_after_claiming_emails_they_go_once_after_the_claim_lapses(
        world: World, app: Flask, database_url: str, mailbox: Mailbox) -> None:
    world.new_case(D0)
    env = environment(app, database_url, mailbox)
    stall_and_kill(env, f"{days(5)}T09:00:00", "outbox-claimed")
    assert [s for s, _ in outbox(app)] == ["sending"]
    assert "emails_sent: 0" in tick(env, f"{days(5)}T09:01:00")  # the claim still holds
    assert "emails_sent: 1" in tick(env, f"{days(5)}T09:06:00")
    assert "emails_sent: 0" in tick(env, f"{days(5)}T09:20:00")
    mailbox.wait_for(1)
    assert len(mailbox.messages) == 1
    assert [s for s, _ in outbox(app)] == ["sent"]


def test_killed_between_smtp_acceptance_and_commit_repeats_with_the_same_message_id(
        world: World, app: Flask, database_url: str, mailbox: Mailbox) -> None:
    """The one window the outbox cannot close (see app/services/notifications.py): it errs
    towards sending again, and the repeat is recognisably the same email."""
    world.new_case(D0)
    env = environment(app, database_url, mailbox)
    stall_and_kill(env, f"{days(5)}T09:00:00", "smtp-accepted")
    tick(env, f"{days(5)}T09:06:00")
    mailbox.wait_for(2)
    ids = {str(m["Message-ID"]) for _to, m in mailbox.messages}
    assert len(mailbox.messages) == 2 and len(ids) == 1
    assert [s for s, _ in outbox(app)] == ["sent"]


def test_two_ticks_at_once_take_each_step_and_send_each_email_once(
        world: World, app: Flask, database_url: str, mailbox: Mailbox) -> None:
    for offset in range(12):
        world.new_case(D0 - timedelta(days=offset), readers=(world.people.rso,
                                                               world.people.executive))
    env = environment(app, database_url, mailbox)
    now = f"{days(9)}T09:00:00"
    first, second = candor(env, "tick", "--now", now), candor(env, "tick", "--now", now)
    for process in (first, second):
        _out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err.decode()
    taken = steps(app)
    assert len(taken) == len(set(taken)) > 12
    rows = outbox(app)
    assert all(status == "sent" for status, _ in rows)
    mailbox.wait_for(len(rows))
    time.sleep(0.5)
    assert len(mailbox.messages) == len(rows)
    assert set(deliveries(mailbox).values()) == {1}


def wait_until(condition, timeout: float = 30) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("timed out")


def lease_holder(app: Flask) -> str | None:
    with app.app_context():
        lease = db.session.get(SchedulerLease, scheduler_lease.SCHEDULER_LEASE)
        holder = lease.holder if lease else None
        db.session.remove()
        return holder


def test_two_schedulers_one_works_the_other_takes_over_when_it_dies(
        world: World, app: Flask, database_url: str, mailbox: Mailbox, tmp_path: Path) -> None:
    real_today = utcnow().date()
    world.new_case(real_today - timedelta(days=8))  # acknowledgement was due yesterday
    env = environment(app, database_url, mailbox, CANDOR_SCHEDULER_INTERVAL_SECONDS="1",
                      CANDOR_SCHEDULER_LEASE_SECONDS="3")
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    schedulers = [candor(env, "scheduler", log=logs[0])]
    try:
        wait_until(lambda: lease_holder(app) is not None)
        schedulers.append(candor(env, "scheduler", log=logs[1]))
        mailbox.wait_for(1)
        time.sleep(3)  # several runs of both
        assert len(mailbox.messages) == 1
        wait_until(lambda: "standing by" in logs[1].read_text())
        first_holder = lease_holder(app)
        assert first_holder is not None and f":{schedulers[0].pid}:" in first_holder

        schedulers[0].kill()  # no clean stop: the lease must expire
        schedulers[0].wait(timeout=30)
        world.new_case(real_today - timedelta(days=8))
        wait_until(lambda: f":{schedulers[1].pid}:" in (lease_holder(app) or ""))
        mailbox.wait_for(2)
        time.sleep(3)
        assert len(mailbox.messages) == 2
        assert set(deliveries(mailbox).values()) == {1}
    finally:
        for process in schedulers:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def test_a_second_sigterm_while_stopping_is_harmless() -> None:
    """make run's trap and a process-group kill both send SIGTERM: the second may arrive after
    the scheduler stopped, while its lease is being released."""
    from apscheduler.schedulers.background import BackgroundScheduler

    from app.scheduling import stopper

    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.start()
    stop = stopper(scheduler)
    stop(signal.SIGTERM, None)
    assert not scheduler.running
    stop(signal.SIGTERM, None)  # raised SchedulerNotRunningError before


def test_what_the_tick_logs_and_prints_does_not_move_with_a_report(
        app: Flask, staff: StaffLogin, caplog: pytest.LogCaptureFixture) -> None:
    """A report and its attachment filed between two ticks change nothing the scheduler logs
    or ``candor tick`` prints: whoever reads the log must not learn the minute of a report."""
    import logging

    from app.scheduling import scheduled_run
    from app.services.blobs import BlobStore
    from tests.support.reporting import ReporterClient

    for name, role in (("rso1", Role.RSO), ("exec1", Role.EXECUTIVE), ("board1", Role.BOARD)):
        staff.create(name, role)
    runner = app.test_cli_runner()
    caplog.set_level(logging.INFO, logger="candor.scheduler")

    def tick_twice() -> tuple[str, str]:
        caplog.clear()
        assert scheduled_run(app, "scheduler-a")
        logged = "\n".join(r.getMessage() for r in caplog.records)
        return logged, runner.invoke(args=["tick"]).output

    tick_twice()  # the day's first run counts the statistics; from here on, a steady state
    before = tick_twice()
    answer, _codename = ReporterClient(app.test_client()).submit("Filed between two ticks.")
    assert answer.status_code == 201
    store = BlobStore(state_of(app).config.blob_path)
    store.create(store.new_id())  # an attachment's ciphertext, as an upload writes it
    assert tick_twice() == before
