"""Global limits on anonymous traffic: clear 429s, nothing stored, nothing identifying kept."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from app.rate_limit import GlobalRateLimit, RateLimited
from app.roles import Role
from app.services.directory import pinned_fingerprint
from tests.support.reporting import ReporterClient
from tests.support.staff import StaffLogin


def test_the_window_slides() -> None:
    now = [0.0]
    limit = GlobalRateLimit(2, window=60, clock=lambda: now[0])
    limit.take()
    limit.take()
    with pytest.raises(RateLimited) as error:
        limit.take()
    assert 1 <= error.value.retry_after <= 61
    now[0] = 60.0
    limit.take()


def test_too_many_submissions_get_a_clear_429(make_app: Callable[..., Flask], app: Flask,
                                              staff: StaffLogin) -> None:
    staff.create("rso1", Role.RSO)
    config = app.extensions["candor_config"]
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
    config = app.extensions["candor_config"]
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
