"""A report that concerns the RSO reaches the Board or nobody (RSP v3 §4): with no Board member
holding a signed key it is refused by the server (API and the page without JavaScript) and by
the clients, with the reason and a pointer to the outside channels."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from app.models import Case
from app.roles import Role
from app.services.directory import pinned_fingerprint
from app.state import state_of
from candor_reporter import protocol
from candor_reporter.cli import report_group
from tests.support.reporting import ReporterClient
from tests.support.staff import StaffLogin
from tests.test_reporter_plain import NEW, page, report_form

WHY = "must reach a member of the Board"


@pytest.fixture
def no_board(staff: StaffLogin) -> None:
    staff.create("rso1", Role.RSO)
    staff.create("exec1", Role.EXECUTIVE)


def stored_cases(app: Flask) -> list[Case]:
    with app.app_context():
        return list(db.session.scalars(db.select(Case)))


def test_the_api_refuses_it_even_from_a_client_that_does_not_check(
        app: Flask, client: FlaskClient, no_board: None) -> None:
    """A client that skips the rule (here: encrypted as an executive-route report, then marked as
    concerning the RSO) is refused by the server, and nothing is stored."""
    reporter = ReporterClient(client)
    body, _codename = reporter.build(protocol.NewReport("executive", "other", "About the RSO."))
    body["concerns_rso"] = True
    answer = reporter.post("/api/v1/reports", body)
    assert answer.status_code == 400
    message = answer.get_json()["message"]
    assert WHY in message and "outside channels" in message
    assert stored_cases(app) == []
    readers = reporter.post("/api/v1/readers", {"route": "executive", "concerns_rso": True,
                                                "concerned_staff_ids": []})
    assert readers.status_code == 409 and WHY in readers.get_json()["message"]


def test_a_board_member_named_as_concerned_cannot_be_the_way_round_it(
        app: Flask, client: FlaskClient, staff: StaffLogin) -> None:
    staff.create("rso1", Role.RSO)
    staff.create("exec1", Role.EXECUTIVE)
    board = staff.create("board1", Role.BOARD)
    reporter = ReporterClient(client)
    directory = protocol.verified_directory(client.get("/api/v1/directory").get_json(),
                                            reporter.options()["organisation_fingerprint"])
    with pytest.raises(protocol.NoReaders, match=WHY):
        protocol.expected_readers(directory, "executive", True, [board.id])
    # With the Board member among the readers, it goes through.
    answer, _codename = reporter.submit(route="executive", concerns_rso=True)
    assert answer.status_code == 201, answer.get_json()


def test_the_page_without_javascript_refuses_it_and_says_why(
        app: Flask, client: FlaskClient, no_board: None) -> None:
    response = client.post(NEW, data=report_form(client, route="executive", concerns_rso="y"))
    assert response.status_code == 400
    shown = page(response)
    assert "Nothing was sent" in shown and WHY in shown
    assert 'href="/#outside-channels"' in shown  # every reporter page links to them
    assert stored_cases(app) == []
    preview = client.post(NEW, data={**report_form(client, route="rso", concerns_rso="y"),
                                     "preview": "Show who would read it"})
    assert WHY in page(preview)


def test_the_command_line_client_refuses_it_before_sending(
        app: Flask, live_server: str, no_board: None, tmp_path: Path) -> None:
    text = tmp_path / "report.txt"
    text.write_text("The RSO signed off a skipped evaluation.")
    fingerprint = pinned_fingerprint(state_of(app).config)
    result = CliRunner().invoke(report_group, [
        "submit", "--server", live_server, "--fingerprint", fingerprint or "",
        "--category", "other", "--text-file", str(text), "--concerns-rso", "--yes"])
    assert result.exit_code != 0
    assert WHY in result.output and "Attorney General" in result.output
    assert stored_cases(app) == []
