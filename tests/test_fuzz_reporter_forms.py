"""Property-based tests of the reporter's forms without JavaScript (``/report/plain/...``):
whatever is posted, the answer is never a 5xx, and a rejected post stores nothing."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st

from tests.support.fuzzing import SETTINGS, fuzz_app, row_counts

NEW, OPEN, REPLY = "/report/plain/new", "/report/plain/open", "/report/plain/reply"
_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
_CODENAME = re.compile(r'id="codename-copy" readonly[^>]*value="([^"]+)"')

# Text as people (and attackers) type it: any printable or control character, some very long.
short = st.text(max_size=300)
texts = st.one_of(short, short, short, st.sampled_from(["x" * 100_001, "\u00e9" * 2_001]))
flags = st.one_of(st.none(), st.sampled_from(["y", "on", "true", "", "0"]), st.text(max_size=10))


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return fuzz_app(make_app)


def token(client: FlaskClient, path: str) -> str:
    match = _TOKEN.search(client.get(path).get_data(as_text=True))
    assert match, f"no CSRF field on {path}"
    return match.group(1)


def form_data(fields: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if value is not None}


new_report_fields = st.fixed_dictionaries({
    "route": st.one_of(st.none(), st.sampled_from(["rso", "executive", "board"]),
                       st.text(max_size=20)),
    "category": st.one_of(st.none(), st.sampled_from(["capability-cbrn", "other", ""]),
                          st.text(max_size=60)),
    "text": st.one_of(st.none(), texts),
    "identity": st.one_of(st.none(), texts),
    "concerns_rso": flags,
    "material_risk": flags,
    "sb53_disclosure": flags,
    "concerned": st.one_of(st.none(), st.lists(st.one_of(
        st.integers(-2**70, 2**70).map(str), st.text(max_size=8)), max_size=5)),
    "send": st.sampled_from([None, "Encrypt and send"]),
    "preview": st.sampled_from([None, "Show who would read it"]),
}, optional={"extra": st.text(max_size=50)})


@SETTINGS
@given(fields=new_report_fields, with_token=st.booleans())
def test_new_report_form(app: Flask, fields: dict[str, Any], with_token: bool) -> None:
    client = app.test_client()
    data = form_data(fields)
    if with_token:
        data["csrf_token"] = token(client, NEW)
    before = row_counts(app)
    response = client.post(NEW, data=data, follow_redirects=True)
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    after = row_counts(app)
    filed = _CODENAME.search(response.get_data(as_text=True)) is not None
    if filed:
        assert response.status_code == 200 and data.get("send") and not data.get("preview")
        assert after["cases"] == before["cases"] + 1
    else:
        assert after == before, "a rejected report stored something"


@SETTINGS
@given(codename=st.one_of(texts, st.lists(st.sampled_from(
           ["abacus", "mutation", "skirt", "thimble", "graceful", "quench", "dropper", "zz"]),
           max_size=9).map(" ".join)),
       with_token=st.booleans())
def test_open_form(app: Flask, codename: str, with_token: bool) -> None:
    client = app.test_client()
    data = {"codename": codename}
    if with_token:
        data["csrf_token"] = token(client, OPEN)
    before = row_counts(app)
    response = client.post(OPEN, data=data)
    assert response.status_code in (200, 400, 404), response.status_code
    assert row_counts(app) == before


@pytest.fixture
def codename(app: Flask) -> str:
    client = app.test_client()
    response = client.post(NEW, data={"csrf_token": token(client, NEW), "route": "rso",
                                      "category": "capability-cbrn", "text": "A report.",
                                      "send": "Encrypt and send"}, follow_redirects=True)
    match = _CODENAME.search(response.get_data(as_text=True))
    assert response.status_code == 200 and match
    return match.group(1)


@SETTINGS
@given(use_real=st.booleans(), other=texts, text=st.one_of(st.none(), texts),
       with_token=st.booleans())
def test_reply_form(app: Flask, codename: str, use_real: bool, other: str, text: str | None,
                    with_token: bool) -> None:
    client = app.test_client()
    data = form_data({"codename": codename if use_real else other, "text": text})
    if with_token:
        data["csrf_token"] = token(client, OPEN)
    before = row_counts(app)
    response = client.post(REPLY, data=data)
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    after = row_counts(app)
    if response.status_code == 200:
        assert use_real and with_token and text and text.strip()
        assert after["case_records"] == before["case_records"] + 1
    else:
        assert after == before, "a rejected reply stored something"
