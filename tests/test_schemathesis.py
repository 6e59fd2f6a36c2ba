"""schemathesis against ``/api/v1/openapi.json`` on a live server on loopback: whatever the
generated request, positive or negative, the answer is never a 5xx.

Requests carry a real reporter session (with a case open, so the reporter endpoints get past
401) or a real staff session, with the matching CSRF token, so that generated bodies reach the
views instead of stopping at the CSRF check. Proof of work is off and the anonymous rate
limits are lifted, so that submissions are judged on their content. Needs nothing but the
test database (SQLite or PostgreSQL); about a minute per database.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from werkzeug.serving import make_server

from app.extensions import db
from app.roles import Role
from app.state import state_of
from app.surfaces import REPORTER_COOKIE, STAFF_COOKIE
from tests.conftest import free_port
from tests.support.reporting import ReporterClient
from tests.support.staff import StaffLogin, csrf_token

pytestmark = pytest.mark.slow
EXAMPLES = 25  # per operation and mode


@dataclass
class Credentials:
    base_url: str
    reporter_cookie: str
    reporter_token: str
    staff_cookie: str
    staff_token: str

    def headers(self, path: str) -> dict[str, str]:
        cookies = f"{REPORTER_COOKIE}={self.reporter_cookie}; {STAFF_COOKIE}={self.staff_cookie}"
        staff_side = path.startswith(("/staff", "/auth"))
        return {"Cookie": cookies,
                "X-CSRFToken": self.staff_token if staff_side else self.reporter_token}


@pytest.fixture
def fuzz_app(make_app: Callable[..., Flask]) -> Flask:
    from app.services.directory import init_organisation_key

    app = make_app(proof_of_work_bits=0, submissions_per_minute=10**6,
                   codename_attempts_per_minute=10**6)
    with app.app_context():
        config = state_of(app).config
        init_organisation_key(db.session, config.org_signing_key_path, config.instance_path)
        db.session.commit()
    return app


@pytest.fixture
def credentials(fuzz_app: Flask) -> Iterator[Credentials]:
    staff = StaffLogin(fuzz_app)
    rso = staff.create("rso", Role.RSO)
    staff.create("exec", Role.EXECUTIVE)
    staff.create("board", Role.BOARD)
    staff_client = fuzz_app.test_client()
    staff.login(staff_client, rso)
    staff_token = csrf_token(staff_client, "/staff/")

    reporter_client = fuzz_app.test_client()
    reporter = ReporterClient(reporter_client)
    answer, codename = reporter.submit()
    assert answer.status_code == 201, answer.get_json()
    assert reporter.open(codename).status_code == 200

    def cookie(client: Any, name: str) -> str:
        found = client.get_cookie(name)
        assert found is not None, name
        return str(found.value)

    server = make_server("127.0.0.1", free_port(), fuzz_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Credentials(f"http://127.0.0.1:{server.server_port}",
                      cookie(reporter_client, REPORTER_COOKIE), reporter.token,
                      cookie(staff_client, STAFF_COOKIE), staff_token)
    server.shutdown()
    thread.join(timeout=10)


# schemathesis's own pytest integration (``from_fixture``) does not run under this pytest, so
# each operation gets its strategy and a Hypothesis test of its own, run here.
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                         ids=["positive", "negative"])
def test_api_never_answers_5xx(credentials: Credentials, mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_url(f"{credentials.base_url}/api/v1/openapi.json",
                                           config=schemathesis.Config())
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def call(case: Any) -> None:
            # The staff sign-in paths are at the site's root (their own servers entry).
            root = case.path.startswith("/auth/")
            response = case.call(base_url=credentials.base_url + ("" if root else "/api/v1"),
                                 headers=credentials.headers(case.path), timeout=30)
            assert response.status_code < 500, (
                f"{case.method} {case.formatted_path}: {response.status_code} "
                f"{response.text[:300]}")

        try:
            call()
        except AssertionError as error:
            failures.append(str(error))
        except Unsatisfiable:
            # Nothing about the operation can be made invalid (a GET without parameters).
            assert mode == GenerationMode.NEGATIVE, operation.label
    assert operations >= 10  # the document was read, not an empty one
    assert not failures, "\n".join(failures)
