"""The deadline pages: the dashboard over the cases the viewer may read, one case's clocks with
its actions, the quarterly pack, and a broken policy file stopping the start."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from app import create_app
from app.config import ConfigError
from tests.conftest import make_config
from tests.support.deadline_world import D0, Clock, World, days
from tests.support.staff import StaffLogin, csrf_token


def signed_in(world: World, staff: StaffLogin, name: str) -> FlaskClient:
    client = world.app.test_client()
    staff.login(client, world.accounts[name])
    return client


def text_of(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</', html, re.S)
    assert match, element_id
    return match.group(1).strip()


def test_dashboard_counts_only_what_the_viewer_may_read(world: World, staff: StaffLogin,
                                                        clock: Clock) -> None:
    people = world.people
    late = world.new_case(D0)                                   # due D0+7: 3 days late
    soon = world.new_case(days(5))                              # due D0+12
    escalated = world.new_case(days(-7))                        # due D0: escalated at D0+7
    in_time = world.new_case(days(-1))
    world.act(in_time, "acknowledge", D0)                       # due D0+6: met
    world.act(in_time, "triage", D0)                            # due D0+7: met
    world.act(in_time, "investigate", D0)
    hidden = world.new_case(D0, readers=(people.executive,))   # the RSO cannot read it
    world.tick(days(10))
    clock.day = days(10)

    client = signed_in(world, staff, "rso1")
    page = client.get("/staff/deadlines")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert text_of(html, "overdue-count") == "2"
    assert text_of(html, "due-week-count") == "1"
    assert text_of(html, "on-time-rate").startswith("50% (2 of 4")
    for number in (late, soon, escalated):
        assert number in html
    assert hidden not in html
    assert "Overdue by 3 days" in html
    escalated_section = html[html.index("escalated-heading"):html.index("pack-heading")]
    assert escalated in escalated_section and late not in escalated_section

    board = signed_in(world, staff, "board1")
    assert board.get("/staff/deadlines").status_code == 403


def test_a_case_page_shows_its_clocks_and_pauses(world: World, staff: StaffLogin,
                                                 clock: Clock) -> None:
    number = world.new_case(D0)
    hidden = world.new_case(D0, readers=(world.people.executive,))
    clock.day = days(2)
    client = signed_in(world, staff, "rso1")
    assert client.get(f"/staff/deadlines/cases/{hidden}").status_code == 404
    assert client.get("/staff/deadlines/cases/C-ZZZZZ").status_code == 404
    page = client.get(f"/staff/deadlines/cases/{number}").get_data(as_text=True)
    assert "acknowledgement" in page and str(days(7)) in page

    token = csrf_token(client, f"/staff/deadlines/cases/{number}")
    refused = client.post(f"/staff/deadlines/cases/{number}/wait-for-reporter",
                          data={"csrf_token": token})
    assert refused.status_code == 409
    assert "between acknowledgement and the findings" in refused.get_data(as_text=True)
    assert client.post(f"/staff/deadlines/cases/{number}/wait-for-reporter").status_code == 400
    assert client.post(f"/staff/deadlines/cases/{number}/explode",
                       data={"csrf_token": token}).status_code == 404

    world.open_to_investigating(number, days(2))
    clock.day = days(3)
    done = client.post(f"/staff/deadlines/cases/{number}/wait-for-reporter",
                       data={"csrf_token": token})
    assert done.status_code == 302
    page = client.get(f"/staff/deadlines/cases/{number}").get_data(as_text=True)
    assert f"Waiting for the reporter since {days(3)} (the date stays)" in page
    notice = client.post(f"/staff/deadlines/cases/{number}/board-notice",
                         data={"csrf_token": token})
    assert notice.status_code == 409
    assert "substantiated material-risk finding" in notice.get_data(as_text=True)


def test_the_quarterly_pack_is_recorded_once(world: World, staff: StaffLogin,
                                             clock: Clock) -> None:
    world.new_case(date(2031, 2, 1))
    clock.day = date(2031, 4, 10)
    client = signed_in(world, staff, "rso1")
    page = client.get("/staff/deadlines").get_data(as_text=True)
    assert "The pack for 2031-Q1 to the Board" in text_of(page, "pack-state")
    token = csrf_token(client, "/staff/deadlines")
    assert client.post("/staff/deadlines/quarterly-pack",
                       data={"csrf_token": token}).status_code == 302
    assert client.post("/staff/deadlines/quarterly-pack",
                       data={"csrf_token": token}).status_code == 302
    page = client.get("/staff/deadlines").get_data(as_text=True)
    assert text_of(page, "pack-state") == "The pack for 2031-Q1 was delivered (2031-04-10)."


def test_a_broken_policy_file_stops_the_start(tmp_path: Path, database_url: str) -> None:
    config = make_config(tmp_path, database_url)
    config.instance_path.mkdir(parents=True, exist_ok=True)
    (config.instance_path / "deadline_policy.json").write_text('{"current": "nope"}')
    with pytest.raises(ConfigError, match="current version 'nope'"):
        create_app(config)
