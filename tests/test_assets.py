"""Every script and stylesheet a page loads is our own file, pinned by Subresource Integrity."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path
from typing import Any

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


def test_the_cryptography_backends_named_for_the_loader_match_their_hashes(
        client: FlaskClient) -> None:
    import html
    import json

    page = client.get("/report/new").get_data(as_text=True)
    meta = re.search(r'<meta name="candor-crypto-scripts" content="([^"]+)">', page)
    assert meta
    backends = json.loads(html.unescape(meta.group(1)))
    assert [s["src"].rsplit("/", 1)[1] for s in backends["wasm"]] == [
        "libsodium-sumo.js", "libsodium-wrappers.js"]
    assert [s["src"].rsplit("/", 1)[1] for s in backends["pure"]] == ["noble-sodium.js"]
    for script in backends["wasm"] + backends["pure"]:
        response = client.get(script["src"])
        digest = base64.b64encode(hashlib.sha384(response.data).digest()).decode()
        response.close()
        assert script["integrity"] == f"sha384-{digest}"


def test_static_files_are_compressed_and_cached_for_good_under_their_version(
        client: FlaskClient) -> None:
    page = client.get("/report/new").get_data(as_text=True)
    url = re.search(r'src="(/static/[0-9a-f]{16}/js/reporter\.js)"', page)
    assert url
    versioned = client.get(url.group(1), headers={"Accept-Encoding": "gzip"})
    assert versioned.headers["Content-Encoding"] == "gzip"
    assert "immutable" in versioned.headers["Cache-Control"]
    assert versioned.headers["X-Content-Type-Options"] == "nosniff"
    versioned.close()
    plain = client.get("/static/js/reporter.js")
    assert plain.headers["Cache-Control"].startswith("max-age=0")
    assert "Content-Encoding" not in plain.headers
    plain.close()
    assert client.get("/static/0123456789abcdef/js/reporter.js").status_code == 404


def test_any_change_to_a_static_file_changes_the_version(tmp_path: Path) -> None:
    from app.static_files import build, version_of

    static = tmp_path / "static"
    (static / "js").mkdir(parents=True)
    (static / "js" / "a.js").write_text("export const a = 1;\n" * 50)
    first = build(static, tmp_path / "built")
    assert (first / "js" / "a.js.gz").exists()
    assert build(static, tmp_path / "built") == first  # built once per version
    (static / "js" / "a.js").write_text("export const a = 2;\n" * 50)
    assert version_of(static) != first.name
    second = build(static, tmp_path / "built")
    assert second != first and (second / "js" / "a.js").read_text().startswith("export const a = 2")


def test_where_the_copy_cannot_be_built_the_files_are_served_as_they_are(
        make_app: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from app import static_files

    blocker = tmp_path / "read-only"
    blocker.write_text("a file where the build directory would go")
    monkeypatch.setattr(static_files, "BUILD", blocker / "static-build")
    client = make_app().test_client()
    page = client.get("/report/new").get_data(as_text=True)
    url = re.search(r'src="(/static/[0-9a-f]{16}/js/reporter\.js)"', page)
    assert url
    served = client.get(url.group(1), headers={"Accept-Encoding": "gzip"})
    assert served.status_code == 200 and "Content-Encoding" not in served.headers
    assert served.data == (Path(static_files.STATIC) / "js" / "reporter.js").read_bytes()
    served.close()
