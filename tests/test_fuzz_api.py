"""Property-based tests of the reporter's JSON API: valid submissions with one part replaced by
anything JSON can hold, arbitrary bytes as bodies, and random look-ups and messages. The
answer is never a 5xx, and a request that is not accepted stores nothing."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st

from tests.support.fuzzing import SETTINGS, fuzz_app, row_counts
from tests.support.reporting import ReporterClient

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False)
    | st.text(max_size=40) | st.sampled_from(["", "AAAA", "=", "c-" + "0" * 32, "r-zz"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.text(max_size=12), children, max_size=4),
    max_leaves=12)


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return fuzz_app(make_app)


def replace_at(body: Any, path: list[Any], value: Any) -> Any:
    """``body`` with the part at ``path`` (keys and list indexes) replaced, or removed when
    ``value`` is the REMOVE marker."""
    if not path:
        return value
    head, *rest = path
    copy = dict(body) if isinstance(body, dict) else list(body)
    if rest:
        copy[head] = replace_at(copy[head], rest, value)
    elif value is REMOVE:
        del copy[head]
    else:
        copy[head] = value
    return copy


REMOVE = object()


def paths(body: Any, prefix: list[Any] | None = None) -> list[list[Any]]:
    """Every key and index path inside a JSON value."""
    prefix = prefix or []
    found = []
    items = body.items() if isinstance(body, dict) else (
        enumerate(body) if isinstance(body, list) else [])
    for key, value in items:
        found.append([*prefix, key])
        found += paths(value, [*prefix, key])
    return found


@SETTINGS
@given(data=st.data())
def test_submission_with_one_part_replaced(app: Flask, data: st.DataObject) -> None:
    reporter = ReporterClient(app.test_client())
    body, _ = reporter.build_default()
    path = data.draw(st.sampled_from(paths(body)), label="path")
    value = data.draw(st.one_of(st.just(REMOVE), JSON_VALUES), label="value")
    mutated = replace_at(body, path, value)
    before = row_counts(app)
    response = reporter.post("/api/v1/reports", mutated)
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    after = row_counts(app)
    if response.status_code == 201:
        assert after["cases"] == before["cases"] + 1
    else:
        assert after == before, "a rejected submission stored something"


@SETTINGS
@given(raw=st.one_of(st.binary(max_size=300), JSON_VALUES.map(lambda v: json.dumps(v).encode())),
       path=st.sampled_from(["/api/v1/reports", "/api/v1/reporter/open",
                             "/api/v1/reporter/messages", "/api/v1/readers",
                             "/api/v1/reporter/leave"]),
       content_type=st.sampled_from(["application/json", "text/plain",
                                     "application/x-www-form-urlencoded"]))
def test_arbitrary_bodies(app: Flask, raw: bytes, path: str, content_type: str) -> None:
    reporter = ReporterClient(app.test_client())
    before = row_counts(app)
    response = reporter.client.post(path, data=raw, content_type=content_type,
                                    headers={"X-CSRFToken": reporter.token})
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    assert row_counts(app) == before


@pytest.fixture
def opened(app: Flask) -> ReporterClient:
    """A reporter with a case open (their session cookie and token)."""
    reporter = ReporterClient(app.test_client())
    answer, codename = reporter.submit()
    assert answer.status_code == 201
    assert reporter.open(codename).status_code == 200
    return reporter


@SETTINGS
@given(body=st.one_of(JSON_VALUES, st.fixed_dictionaries(
    {"record_ref": st.one_of(st.just("r-" + "ab" * 16), JSON_VALUES),
     "ciphertext": st.one_of(st.just("AAAA"), st.binary(max_size=200).map(
         lambda b: base64.b64encode(b).decode()), JSON_VALUES)},
    optional={"key_epoch": st.one_of(st.integers(-5, 5), JSON_VALUES)})))
def test_reporter_message(app: Flask, opened: ReporterClient, body: Any) -> None:
    before = row_counts(app)
    response = opened.post("/api/v1/reporter/messages", body)
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    after = row_counts(app)
    if response.status_code == 201:
        assert after["case_records"] == before["case_records"] + 1
    else:
        assert after == before, "a rejected message stored something"


@SETTINGS
@given(body=st.one_of(JSON_VALUES, st.fixed_dictionaries(
    {"route": st.one_of(st.sampled_from(["rso", "executive", "board"]), JSON_VALUES)},
    optional={"concerns_rso": JSON_VALUES,
              "concerned_staff_ids": st.one_of(st.lists(st.integers(-2**40, 2**40)),
                                               JSON_VALUES)})))
def test_readers(app: Flask, body: Any) -> None:
    reporter = ReporterClient(app.test_client())
    before = row_counts(app)
    response = reporter.post("/api/v1/readers", body)
    assert response.status_code in (200, 400, 409), response.get_data(as_text=True)[:500]
    assert row_counts(app) == before
