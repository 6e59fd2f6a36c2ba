"""``candor tick`` (all due periodic work once, for cron and tests) and ``candor scheduler``
(the same every interval, in its own process, only while it holds the database lease)."""

from __future__ import annotations

import contextlib
import logging
import signal
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import FrameType

import click
from apscheduler.schedulers.base import BaseScheduler
from flask import Flask, current_app
from flask.cli import with_appcontext

from app.extensions import db
from app.request_logging import SafeLineFilter
from app.services import scheduler_lease
from app.services.periodic import for_the_log, refresh_statistics, run_tick
from app.state import candor, state_of

log = logging.getLogger("candor.scheduler")


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def parse_now(value: str | None) -> datetime:
    """``--now``: an ISO-8601 moment (naive means UTC), or the present."""
    if value is None:
        return utc_now()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO-8601 date and time") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment




@click.command("tick")
@click.option("--now", "now_text", metavar="ISO-8601", help="Run as if it were this moment.")
@with_appcontext
def tick(now_text: str | None) -> None:
    """Run all due periodic work once (for cron and tests); safe to run twice or at once."""
    config, now = candor().config, parse_now(now_text)
    results = {**run_tick(db.session, config, now, candor().policy_source),
               **refresh_statistics(db.session, config, now)}
    for name, count in for_the_log(results).items():
        click.echo(f"{name}: {count}")


def scheduled_run(app: Flask, holder: str) -> bool:
    """One scheduler run: renew (or take) the lease, and tick only while holding it."""

    config = state_of(app).config
    policy_source = state_of(app).policy_source
    ttl = timedelta(seconds=config.scheduler_lease_seconds)
    with app.app_context():
        try:
            if not scheduler_lease.acquire(db.session, holder, utc_now(), ttl):
                log.info("another scheduler holds the lease; standing by")
                return False
            # With "tick done" or "tick failed", this bounds the tick in the log, so that an
            # operator (and tests/soak/test_failover.py) can see that no two ever overlapped.
            log.info("tick starting")
            results = run_tick(db.session, config, utc_now(), policy_source)
            results.update(refresh_statistics(db.session, config, utc_now()))
            # Renewed after the work too, so a long tick does not let the lease lapse.
            scheduler_lease.acquire(db.session, holder, utc_now(), ttl)
        except Exception:
            db.session.rollback()
            log.exception("tick failed; the next run tries again")
            return True
        finally:
            db.session.remove()
    busy = {name: count for name, count in for_the_log(results).items() if count}
    log.info("tick done%s", f": {busy}" if busy else "")
    return True


def stopper(blocking: BaseScheduler) -> Callable[[int, FrameType | None], None]:
    """The SIGTERM handler: stop the scheduler once. A second SIGTERM (a shell's trap and a
    process-group kill both send one) may come while the lease is being released; it must
    not interrupt that with an error."""

    def stop(_signum: int, _frame: FrameType | None) -> None:
        if blocking.running:
            blocking.shutdown(wait=False)

    return stop


@click.command("scheduler")
@with_appcontext
def scheduler() -> None:
    """Run periodic work in this process until stopped (never inside web workers). A second
    scheduler anywhere stands by and takes over when this one's lease expires."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(SafeLineFilter())  # one line per record, no address
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # not a line per run
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    config = candor().config
    holder = scheduler_lease.holder_id()
    blocking = BlockingScheduler(timezone="UTC")
    blocking.add_job(scheduled_run, "interval", args=(app, holder),
                     seconds=config.scheduler_interval_seconds, id="tick", max_instances=1,
                     coalesce=True, next_run_time=datetime.now(UTC))

    signal.signal(signal.SIGTERM, stopper(blocking))
    click.echo(f"Scheduler {holder} running: tick every {config.scheduler_interval_seconds} s "
               f"while holding the lease ({config.scheduler_lease_seconds} s). Ctrl-C stops it.")
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        blocking.start()
    with app.app_context():
        scheduler_lease.release(db.session, holder, utc_now())
        db.session.remove()
