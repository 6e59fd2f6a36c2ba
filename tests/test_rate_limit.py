"""Global limits on anonymous traffic: clear 429s, counts only, nothing identifying kept."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from flask import Flask

from app import rate_limit
from app.extensions import db
from app.models import RateLimitCount
from app.rate_limit import GlobalRateLimit, RateLimited
from app.roles import Role
from app.services.directory import pinned_fingerprint
from app.state import state_of
from tests.support.reporting import ReporterClient
from tests.support.staff import StaffLogin


def test_the_window_slides_slot_by_slot(app: Flask) -> None:
    limit = GlobalRateLimit("test", 3, window=60)

    def take(now: float) -> int:
        """0 if counted, else the seconds to wait."""
        try:
            limit.take(db.session, now)
        except RateLimited as error:
            db.session.rollback()
            return error.retry_after
        db.session.commit()
        return 0

    with app.app_context():
        assert [take(1000.0), take(1015.0), take(1031.0)] == [0, 0, 0]  # slots 100, 101, 103
        # Full: the slot of the first event leaves the count when slot 107 begins (1070 s).
        assert take(1031.5) == 39
        assert take(1069.0) == 1
        assert take(1070.0) == 0
        assert take(1071.0) == 9  # now the slot of the second event must go (at 1080 s)
        # A node whose clock is behind counts in the newest slot, and is held to the limit.
        assert take(1000.0) > 0
        assert take(1200.0) == 0  # long after: a fresh window
        stored = db.session.get_one(RateLimitCount, "test")
        assert (stored.slot, stored.counts) == (120, "0,0,0,0,0,0,1")
        # The tick forgets counts whose window has passed: nothing is left to date anyone.
        assert rate_limit.purge_past(db.session, datetime.fromtimestamp(1260, UTC)) == 0
        assert rate_limit.purge_past(db.session, datetime.fromtimestamp(1280, UTC)) == 1


def test_too_many_submissions_get_a_clear_429(make_app: Callable[..., Flask], app: Flask,
                                              staff: StaffLogin) -> None:
    staff.create("rso1", Role.RSO)
    config = state_of(app).config
    limited = make_app(submissions_per_minute=1, org_key_file=config.org_signing_key_path,
                       org_fingerprint=pinned_fingerprint(config))
    reporter = ReporterClient(limited.test_client())
    first, _codename = reporter.submit()
    assert first.status_code == 201
    second, _codename = reporter.submit()
    assert second.status_code == 429
    assert "wait" in second.get_json()["message"] and int(second.headers["Retry-After"]) >= 1


def test_the_no_javascript_path_is_limited_too(make_app: Callable[..., Flask], app: Flask,
                                               staff: StaffLogin) -> None:
    from tests.test_reporter_plain import NEW, OPEN, report_form, token

    staff.create("rso1", Role.RSO)
    config = state_of(app).config
    limited = make_app(submissions_per_minute=1, codename_attempts_per_minute=1,
                       org_key_file=config.org_signing_key_path,
                       org_fingerprint=pinned_fingerprint(config))
    client = limited.test_client()
    assert client.post(NEW, data=report_form(client)).status_code == 303  # to its receipt
    assert client.post(NEW, data=report_form(client)).status_code == 429
    attempts = [client.post(OPEN, data={"csrf_token": token(client, OPEN),
                                        "codename": "abacus " * 7}).status_code
                for _ in range(2)]
    assert attempts == [404, 429]
