"""The landing page in real Chromium: no console error, nothing fetched from another origin."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import PageLog

pytestmark = pytest.mark.browser


def test_landing_page_is_self_contained(page: Any, page_log: PageLog, live_server: str) -> None:
    response = page.goto(live_server + "/")
    assert response.status == 200
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text().startswith("Tell us")
    assert page.locator("#org-fingerprint").inner_text().strip()
    assert page_log.console_errors == []
    origins = {urlsplit(r.url).netloc for r in page_log.requests if not r.url.startswith("data:")}
    assert origins == {urlsplit(live_server).netloc}


def test_landing_page_works_without_javascript(make_page: Any, live_server: str) -> None:
    page = make_page(java_script_enabled=False)
    assert page.goto(live_server + "/").status == 200
    assert "What the server can and cannot see" in page.content()


def test_landing_page_on_a_phone(make_page: Any, live_server: str) -> None:
    page = make_page(viewport={"width": 375, "height": 740}, device_scale_factor=2)
    page.goto(live_server + "/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, "the page scrolls sideways on a phone"
