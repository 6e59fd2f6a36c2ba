"""A case's deadline policy never changes behind its back: versions are kept in the database for
every process; a process that does not know a case's version leaves the case alone and says
so; a changed policy file applies without a restart; malformed files are refused."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import delete, select

from app.extensions import db
from app.models import Case, DeadlinePolicyVersion
from app.services import deadlines
from app.services.deadline_policy import BUILT_IN_VERSION, PolicyError, load_policies
from app.services.periodic import run_tick
from app.state import state_of
from tests.support.deadline_world import D0, World, days

# Acknowledge within 3 working days: a case received on Monday D0 is due on Thursday.
POLICY = {"current": "2027-01",
          "versions": {"2027-01": {"acknowledge": {"working_days": 3}}}}


def write_file(app: Flask, data: object) -> Path:
    path = Path(app.instance_path) / "deadline_policy.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def tick_in(app: Flask, world: World, day: date) -> dict[str, int]:
    with app.app_context():
        return run_tick(db.session, state_of(app).config, world.clock.at(day),
                        state_of(app).policy_source)


def state(app: Flask, number: str) -> tuple[str | None, date | None, date | None,
                                            str | None]:
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.number == number))
        assert case is not None
        dates = deadlines.reporter_dates(case, db.session, on=D0)
        return (case.deadline_policy_version, case.next_due_on, case.next_escalation_on,
                dates["acknowledge_by"])


def test_a_process_without_the_policy_file_keeps_each_case_on_its_version(
        world: World, app: Flask, make_app: Callable[..., Flask]) -> None:
    write_file(app, POLICY)
    with app.app_context():
        assert deadlines.sync_policies(db.session, state_of(app).policy_source)
    number = world.new_case(D0)
    opened = state(app, number)
    assert opened == ("2027-01", days(3), days(1), str(days(3)))

    # A second machine (or a scheduler started before the file was written): no file.
    other = make_app()
    assert not (Path(other.instance_path) / "deadline_policy.json").exists()
    tick_in(other, world, days(1))
    assert world.steps(number) == [("acknowledge", "before")]
    assert state(other, number)[0] == "2027-01"
    assert state(other, number)[3] == str(days(3))  # what the reporter is shown, from there
    assert state(app, number)[:2] == ("2027-01", days(3))
    # New cases there take the version the database holds as current.
    with other.app_context():
        assert deadlines.current_policies(db.session).current.version == "2027-01"


def test_a_case_under_a_version_unknown_to_the_tick_is_left_unchanged(
        world: World, app: Flask, make_app: Callable[..., Flask],
        caplog: pytest.LogCaptureFixture) -> None:
    write_file(app, POLICY)
    with app.app_context():
        assert deadlines.sync_policies(db.session, state_of(app).policy_source)
    number = world.new_case(D0)
    opened = state(app, number)
    # The version is lost to the database (a case from before versions were stored there,
    # or a row removed by hand), and the ticking process has no file to learn it from.
    with app.app_context():
        db.session.execute(delete(DeadlinePolicyVersion).where(
            DeadlinePolicyVersion.version == "2027-01"))
        db.session.commit()
    other = make_app()
    caplog.set_level(logging.WARNING)
    for day in (days(1), days(3), days(9)):
        results = tick_in(other, world, day)
        assert results["cases_left_alone"] == 1
    assert world.steps(number) == []
    assert f"case {number} left alone" in caplog.text and "'2027-01'" in caplog.text
    with other.app_context():  # a staff action there leaves the schedule alone too
        case = db.session.scalar(select(Case).where(Case.number == number))
        assert case is not None
        deadlines.refresh_due(case, db.session, on=days(9))
        db.session.commit()
    version, due, look, shown = state(other, number)
    assert (version, due, look) == opened[:3]
    assert shown is None  # no date rather than a wrong one

    # The version is back (the first machine reads its file again): the same dates as ever.
    with app.app_context():
        state_of(app).policy_source.reread()
        assert deadlines.sync_policies(db.session, state_of(app).policy_source)
    assert state(other, number) == opened
    tick_in(other, world, days(9))
    assert world.steps(number)[-1] == ("acknowledge", "route")


def test_a_changed_policy_file_applies_without_a_restart(world: World, app: Flask) -> None:
    first = world.new_case(D0)
    write_file(app, POLICY)
    assert app.test_client().get("/").status_code == 200  # any request reads the file
    second = world.new_case(D0)
    assert state(app, first)[:2] == (BUILT_IN_VERSION, days(7))
    assert state(app, second)[:2] == ("2027-01", days(3))


def test_a_stored_version_is_never_redefined(world: World, app: Flask,
                                             caplog: pytest.LogCaptureFixture) -> None:
    write_file(app, POLICY)
    with app.app_context():
        assert deadlines.sync_policies(db.session, state_of(app).policy_source)
    number = world.new_case(D0)
    write_file(app, {"current": "2027-01", "holidays": ["2031-03-04"],
                     "versions": {"2027-01": {"acknowledge": {"days": 30}}}})
    caplog.set_level(logging.ERROR)
    with app.app_context():
        assert deadlines.sync_policies(db.session, state_of(app).policy_source)
    assert "differs from the stored one" in caplog.text
    assert state(app, number)[3] == str(days(3))
    # A malformed file later is refused and the stored versions stay.
    write_file(app, {"curent": "2027-01"})
    with app.app_context():
        assert not deadlines.sync_policies(db.session, state_of(app).policy_source)
    assert "unknown top-level keys 'curent'" in caplog.text
    assert state(app, number)[3] == str(days(3))


@pytest.mark.parametrize(("content", "message"), [
    ({"curent": "v", "versions": {"v": {}}}, "unknown top-level keys 'curent'"),
    ({"holiday": ["2031-01-01"]}, "unknown top-level keys 'holiday'"),
    ({"versions": {"v": {"ladder": {"route_after_days": 7, "board_after_days": 2}}}},
     "Board step"),
    ({"versions": {"v": {"incident_ladder": {"route_after_days": 3, "board_after_days": 1}}}},
     "Board step"),
    ({"versions": {"v": {"max_pause_days": 30}}}, "never moves the feedback date"),
    ({"versions": {"v": {"incident_notify": ["janitor"]}}}, "incident_notify"),
    ({"versions": {"v": {"triage": {"days": 0}}}}, "positive number"),
    ({"versions": {"builtin-2026": {}}}, "reserved"),
    ({"holidays": "2031-01-01"}, "list of dates"),
])
def test_malformed_policy_files_are_refused(tmp_path: Path, content: object,
                                            message: str) -> None:
    (tmp_path / "deadline_policy.json").write_text(json.dumps(content))
    with pytest.raises(PolicyError, match=message):
        load_policies(tmp_path)


def test_a_version_may_switch_the_prompt_investigation_clocks_off(tmp_path: Path) -> None:
    (tmp_path / "deadline_policy.json").write_text(json.dumps(
        {"current": "v", "versions": {"v": {"triage": None, "investigation_start": {
            "working_days": 10}}}}))
    policy = load_policies(tmp_path).current
    assert policy.triage is None and policy.investigation_start is not None
