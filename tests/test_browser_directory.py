"""In Chromium, the directory client trusts only entries signed by the fingerprinted key."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from app.roles import Role
from tests.support.staff import StaffLogin

pytestmark = pytest.mark.browser

LOAD = """async (fingerprint) => {
  const { loadDirectory } = await import('/static/js/key-directory.js');
  try {
    const entries = await loadDirectory(fingerprint);
    return { usernames: entries.map((e) => e.username).sort() };
  } catch (error) {
    return { error: error.name, message: error.message };
  }
}"""


def open_landing(page: Any, live_server: str) -> str:
    page.goto(live_server + "/")
    for path in ("/static/vendor/libsodium-sumo.js", "/static/vendor/libsodium-wrappers.js"):
        page.add_script_tag(url=live_server + path)
    return str(page.locator("#org-fingerprint").inner_text())


def test_verified_entries_of_enabled_recipients(page: Any, live_server: str,
                                                staff: StaffLogin) -> None:
    staff.create("rso-d", Role.RSO)
    staff.create("board-d", Role.BOARD)
    staff.create("admin-d", Role.ADMIN)  # not a recipient: not in the directory
    fingerprint = open_landing(page, live_server)
    assert page.evaluate(LOAD, fingerprint) == {"usernames": ["board-d", "rso-d"]}


def test_a_forged_entry_or_another_organisation_key_is_refused(
        page: Any, live_server: str, staff: StaffLogin) -> None:
    staff.create("rso-e", Role.RSO)
    fingerprint = open_landing(page, live_server)
    other = page.evaluate(LOAD, "AAAA AAAA AAAA AAAA AAAA AAAA")
    assert other["error"] == "SignatureInvalid"

    def forge(route: Any) -> None:
        answer = json.loads(route.fetch().text())
        entry = bytearray(base64.b64decode(answer["entries"][0]))
        entry[-70] ^= 1  # inside the signed entry: the public key
        answer["entries"][0] = base64.b64encode(bytes(entry)).decode()
        route.fulfill(json=answer)

    page.route("**/api/v1/directory", forge)
    assert page.evaluate(LOAD, fingerprint)["error"] == "SignatureInvalid"
