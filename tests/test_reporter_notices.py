"""What every reporter page tells: the notice of rights, the outside channels, "Leave now"; and
the receipt of a report made without JavaScript, shown once after a redirect."""

from __future__ import annotations

import html
import json
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.config import Config, ConfigError
from app.extensions import db
from app.models import Case, PendingReceipt
from app.outside_channels import OutsideChannelsError, load_outside_channels
from app.rights_notice import NoticeError, load_notice
from app.roles import Role
from app.services import receipts
from app.state import state_of
from tests.support.dump import database_dump
from tests.support.staff import StaffLogin
from tests.test_reporter_plain import _CODENAME, NEW, OPEN, open_case, page, report_form

REPORTER_PAGES = ["/", "/rights", "/report/new", "/report/case", NEW, OPEN]


@pytest.fixture
def recipients(staff: StaffLogin) -> None:
    staff.create("rso1", Role.RSO)
    staff.create("board1", Role.BOARD)


def cases(app: Flask) -> list[Case]:
    with app.app_context():
        return list(db.session.scalars(db.select(Case)))


# --- the receipt without JavaScript ------------------------------------------------------------
def test_reloading_the_receipt_files_nothing_and_shows_the_codename_once(
        app: Flask, client: FlaskClient, recipients: None) -> None:
    sent = client.post(NEW, data=report_form(client))
    assert sent.status_code == 303 and sent.location.endswith("/report/plain/receipt")
    assert "codename" not in sent.location
    receipt = client.get(sent.location)
    assert receipt.status_code == 200
    codename = html.unescape(_CODENAME.search(page(receipt)).group(1))
    assert len(codename.split()) == 7
    assert len(cases(app)) == 1

    again = client.get(sent.location)  # a reload
    assert again.status_code == 410
    assert codename not in page(again) and "shown once" in page(again)
    assert len(cases(app)) == 1
    with app.app_context():
        assert db.session.scalars(db.select(PendingReceipt)).all() == []
    assert open_case(client, codename).status_code == 200


def test_the_codename_waits_for_its_receipt_unreadable_on_either_side(
        app: Flask, client: FlaskClient, recipients: None) -> None:
    """Between the POST and the GET, neither the database nor the cookie holds the codename:
    the row holds it encrypted under a key only the sealed cookie has."""
    sent = client.post(NEW, data=report_form(client))
    cookie = client.get_cookie("candor_reporter")
    stored = database_dump(app)
    with app.app_context():
        assert len(db.session.scalars(db.select(PendingReceipt)).all()) == 1
    codename = html.unescape(_CODENAME.search(page(client.get(sent.location))).group(1))
    for form in (codename, codename.replace(" ", "")):
        assert form.encode() not in stored
        assert cookie is not None and form not in cookie.value
    # Another browser (no cookie) gets nothing.
    second = client.post(NEW, data=report_form(client))
    assert app.test_client().get(second.location).status_code == 410


def test_a_receipt_nobody_came_for_is_purged(app: Flask, client: FlaskClient,
                                            recipients: None) -> None:
    client.post(NEW, data=report_form(client))
    with app.app_context():
        today = date.today()
        assert receipts.purge_uncollected(db.session, today + timedelta(days=1)) == 0
        assert receipts.purge_uncollected(db.session, today + timedelta(days=2)) == 1
        db.session.commit()
    assert client.get("/report/plain/receipt").status_code == 410


def test_the_codename_is_kept_whole_and_offered_to_copy(client: FlaskClient,
                                                        recipients: None) -> None:
    receipt = page(client.post(NEW, data=report_form(client), follow_redirects=True))
    shown = re.search(r'<p class="codename" id="codename"[^>]*>(.*?)</p>', receipt)
    assert shown
    words = re.findall(r'<span class="codename-word">([^<]+)</span>', shown.group(1))
    codename = html.unescape(_CODENAME.search(receipt).group(1))
    assert words == codename.split()
    assert re.search(r'id="codename-copy" readonly', receipt)


# --- dates and labels a reporter reads ----------------------------------------------------------
def test_the_status_box_speaks_the_reporters_language(app: Flask, client: FlaskClient,
                                                      recipients: None) -> None:
    receipt = page(client.post(NEW, data=report_form(client), follow_redirects=True))
    due = date.today() + timedelta(days=7)
    assert f"{due.day} {due:%B %Y}" in receipt and "Acknowledgement due by" in receipt
    codename = html.unescape(_CODENAME.search(receipt).group(1))
    before = page(open_case(client, codename))
    assert "Received, waiting to be acknowledged" in before
    assert "Acknowledgement due by" in before and "Acknowledged by" not in before
    with app.app_context():
        case = db.session.scalars(db.select(Case)).one()
        case.status, case.acknowledged_on = "triaged", date.today()
        db.session.commit()
    after = page(open_case(client, codename))
    assert "Acknowledged on" in after and "Acknowledgement due by" not in after
    assert "Assessed, to be looked into" in after and "Triaged" not in after
    assert "triaged" not in after.split('id="case-status">')[1].split("<")[0]


def test_recipients_are_named_with_their_role_in_words(client: FlaskClient,
                                                       staff: StaffLogin) -> None:
    staff.create("rso", Role.RSO)
    shown = page(client.get(NEW))
    assert "rso (rso)" not in shown and "rso, Responsible Scaling Officer" in shown


# --- the notice of rights and the outside channels ----------------------------------------------
@pytest.mark.parametrize("path", REPORTER_PAGES)
def test_every_reporter_page_links_to_the_notice_and_has_leave_now(
        client: FlaskClient, path: str) -> None:
    shown = page(client.get(path))
    assert 'href="/rights"' in shown
    assert re.search(r'<a class="button button-danger leave-now" id="leave-now" '
                     r'href="/report/leave"', shown)


def test_the_notice_states_the_rights_and_prints_as_a_poster(client: FlaskClient) -> None:
    shown = page(client.get("/rights"))
    assert "Labor Code §1107.1" in shown and "Attorney General" in shown
    assert "may not retaliate" in shown
    assert 'class="reporter rights-page"' in shown and "California Attorney General" in shown
    css = (Path(__file__).resolve().parent.parent / "app/static/css/reporter.css").read_text()
    assert "@media print" in css and ".rights-page .site-header" in css


def test_the_lab_writes_its_own_notice(app: Flask, client: FlaskClient) -> None:
    instance: Path = state_of(app).config.instance_path
    (instance / "notice_of_rights.txt").write_text(
        "# Our notice\n\nYou may <b>report</b>.\n\n## Contacts\n- The ombudsperson, room 4\n",
        encoding="utf-8")
    shown = client.get("/rights").get_data(as_text=True)
    assert "<h1>Our notice</h1>" in shown and "<li>The ombudsperson, room 4</li>" in shown
    assert "You may &lt;b&gt;report&lt;/b&gt;." in shown  # text, never markup
    (instance / "notice_of_rights.txt").write_text("", encoding="utf-8")
    with pytest.raises(NoticeError):
        load_notice(instance)


def test_outside_channels_on_the_landing_page_and_in_the_options(client: FlaskClient) -> None:
    landing = page(client.get("/"))
    for authority in ("California Attorney General", "Federal authorities",
                      "European AI Office", "competent authority of your EU country"):
        assert authority in landing
    options = client.get("/api/v1/report-options").get_json()
    assert options["outside_channels"][0]["authority"] == "The California Attorney General"


def test_the_lab_configures_its_outside_channels(app: Flask, client: FlaskClient) -> None:
    instance: Path = state_of(app).config.instance_path
    channel: dict[str, Any] = {"authority": "Labour Inspectorate", "applies_when": "Always.",
                               "how": "By post.", "hotline": "+00 123", "address": "1 Main St"}
    (instance / "outside_channels.json").write_text(json.dumps({"channels": [channel]}))
    landing = page(client.get("/"))
    assert "Labour Inspectorate" in landing and "+00 123" in landing
    assert "California Attorney General" not in landing
    for bad in ({"channels": []}, {"channels": [{**channel, "how": ""}]},
                {"channels": [{**channel, "website": "javascript:alert(1)"}]},
                {"channels": [{**channel, "colour": "red"}]}, {"nothing": 1}):
        (instance / "outside_channels.json").write_text(json.dumps(bad))
        with pytest.raises(OutsideChannelsError):
            load_outside_channels(instance)


# --- where "Leave now" goes --------------------------------------------------------------------
def test_the_leave_destination_is_configurable(tmp_path: Path) -> None:
    def leave(value: str) -> str:
        return Config.from_env(tmp_path, {"CANDOR_LEAVE_URL": value}).leave_url

    assert Config.from_env(tmp_path, {}).leave_url == "about:blank"
    assert leave("https://news.example.org/") == "https://news.example.org/"
    assert leave("/intranet") == "/intranet"
    for bad in ("javascript:alert(1)", "//evil.example", "news.example.org",
                'https://x/"onmouseover=1'):
        with pytest.raises(ConfigError, match="CANDOR_LEAVE_URL"):
            leave(bad)


def test_reporter_pages_follow_the_configured_destination(make_app: Any) -> None:
    client = make_app(leave_url="https://weather.example.org/").test_client()
    for path in ("/", NEW, "/report/case"):
        shown = page(client.get(path))
        assert 'href="/report/leave"' in shown  # without scripts: ends the session, then goes
        assert 'data-home-url="https://weather.example.org/"' in shown  # with scripts
    left = client.get("/report/leave")
    assert (left.status_code, left.headers["Location"]) == (303, "https://weather.example.org/")



def test_a_receipt_taken_twice_at_once_is_shown_once(app: Flask, client: FlaskClient,
                                                     recipients: None) -> None:
    """Two requests with the same claim at once (a double reload), each in its own
    transaction, both reading the row before either deletes it: one shows the receipt, the
    other shows nothing, and neither fails."""
    client.post(NEW, data=report_form(client), follow_redirects=True)
    with app.app_context():
        case = db.session.scalars(db.select(Case)).one()
        claim = receipts.hold(db.session, case, "seven words of a made up codename", [], [])
        db.session.commit()
        with Session(db.engine) as first, Session(db.engine) as second:
            # Held, so each session keeps the row it read (its identity map holds it weakly).
            read = [first.get(PendingReceipt, claim.receipt_id),
                    second.get(PendingReceipt, claim.receipt_id)]
            assert None not in read
            shown = receipts.take(first, claim)
            first.commit()
            assert shown is not None and shown.codename == "seven words of a made up codename"
            assert receipts.take(second, claim) is None
            second.commit()


def test_at_closure_the_reporter_is_told_where_to_go_next(app: Flask, client: FlaskClient,
                                                          recipients: None) -> None:
    receipt = page(client.post(NEW, data=report_form(client), follow_redirects=True))
    assert 'id="outside-channels"' in receipt
    codename = html.unescape(_CODENAME.search(receipt).group(1))
    opened = page(open_case(client, codename))
    assert 'id="case-closed"' not in opened and 'id="outside-channels"' in opened
    with app.app_context():
        case = db.session.scalars(db.select(Case)).one()
        case.status = "closed"
        db.session.commit()
    closed = page(open_case(client, codename))
    assert 'id="case-closed"' in closed and "Your case is closed" in closed
    assert "California Attorney General" in closed
