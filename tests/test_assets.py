"""Every script and stylesheet a page loads is our own file, pinned by Subresource Integrity."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from flask.testing import FlaskClient

TAG = re.compile(r'<(?:script|link)[^>]*(?:src|href)="(/static/[^"]+)"[^>]*>')


@pytest.mark.parametrize("path", ["/", "/auth/login", "/auth/recover"])
def test_every_asset_has_a_matching_integrity_hash(client: FlaskClient, path: str) -> None:
    html = client.get(path).get_data(as_text=True)
    tags = TAG.findall(html)
    assert tags
    for tag in re.finditer(TAG, html):
        url = tag.group(1)
        if url.endswith(".svg"):  # the favicon is an image, which SRI does not cover
            continue
        integrity = re.search(r'integrity="(sha384-[^"]+)"', tag.group(0))
        assert integrity, f"{url} has no integrity attribute"
        response = client.get(url)
        digest = base64.b64encode(hashlib.sha384(response.data).digest()).decode()
        response.close()
        assert integrity.group(1) == f"sha384-{digest}", url


def test_no_inline_script_or_style_in_any_page(client: FlaskClient) -> None:
    for path in ("/", "/auth/login", "/auth/recover", "/no-such-page"):
        html = client.get(path).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert "<style" not in html and " style=" not in html and " onclick=" not in html, path
