"""Removing image metadata before encryption (candor_reporter/metadata.py)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from candor_reporter import metadata
from tests.support.images import (
    GPS_MARK,
    TEXT_MARK,
    decoded,
    handmade_jpeg,
    pillow_jpeg,
    pillow_png,
)


def in_pieces(data: bytes, size: int) -> bytes:
    stripper = metadata.SniffingStripper()
    out = b"".join(stripper.update(data[i:i + size]) for i in range(0, len(data), size))
    return out + stripper.finish()


def jpeg_markers(data: bytes) -> list[int]:
    """The markers of the segments before the first scan."""
    markers, at = [], 2
    while data[at + 1] != 0xDA:
        markers.append(data[at + 1])
        at += 2 + int.from_bytes(data[at + 2:at + 4], "big")
    return markers


def test_a_handmade_jpeg_loses_exif_gps_and_every_other_label() -> None:
    original = handmade_jpeg()
    assert GPS_MARK in original and TEXT_MARK in original
    cleaned = metadata.strip(original)
    assert GPS_MARK not in cleaned and TEXT_MARK not in cleaned
    for label in (b"Exif", b"http://ns.adobe.com", b"Photoshop", b"ICC_PROFILE", b"trailer"):
        assert label not in cleaned
    assert jpeg_markers(cleaned) == [0xE0, 0xDB, 0xC0, 0xC4, 0xC4]
    assert cleaned.endswith(b"\xff\xd9")
    # JFIF is kept for rendering, without its thumbnail.
    assert cleaned[2:20] == b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    assert decoded(cleaned) == decoded(original) == ("L", (8, 8), decoded(original)[2])


@pytest.mark.parametrize("progressive", [False, True])
def test_a_camera_style_jpeg_still_shows_the_same_picture(progressive: bool) -> None:
    original = pillow_jpeg(progressive)
    with Image.open(io.BytesIO(original)) as image:
        assert image.getexif().get_ifd(0x8825), "the test file has GPS data"
    cleaned = metadata.strip(original)
    assert GPS_MARK not in cleaned and TEXT_MARK not in cleaned and b"Exif" not in cleaned
    with Image.open(io.BytesIO(cleaned)) as image:
        assert not image.getexif() and "exif" not in image.info and "comment" not in image.info
    assert decoded(cleaned) == decoded(original)


def test_a_png_loses_its_text_time_and_exif_chunks() -> None:
    original = pillow_png()
    for chunk in (b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"tIME"):
        assert chunk in original
    cleaned = metadata.strip(original)
    for chunk in (b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"tIME"):
        assert chunk not in cleaned
    assert TEXT_MARK not in cleaned and GPS_MARK not in cleaned
    assert cleaned.endswith(b"IEND\xaeB`\x82")
    with Image.open(io.BytesIO(cleaned)) as image:
        assert not {k for k in image.info if k not in ("dpi",)}
    assert decoded(cleaned) == decoded(original)


@pytest.mark.parametrize("make", [handmade_jpeg, pillow_jpeg, pillow_png])
@pytest.mark.parametrize("size", [1, 2, 7, 1000, 65536])
def test_pieces_of_any_size_give_the_same_file(make: object, size: int) -> None:
    data = make()  # type: ignore[operator]
    assert in_pieces(data, size) == metadata.strip(data)


def test_other_formats_pass_through_unchanged() -> None:
    text = b"Notes\nAuthor: " + TEXT_MARK + b"\n"
    stripper = metadata.SniffingStripper()
    assert stripper.update(text) + stripper.finish() == text
    assert stripper.kind == "other" and not stripper.cleaned
    assert metadata.strip(b"") == b""
    assert metadata.sniff(b"\xff\xd8\xff\xe0") == "jpeg"
    assert metadata.sniff(metadata.PNG_MAGIC) == "png"
    # Documents are cleaned by candor_reporter.documents (tests/test_document_cleaning.py).
    assert metadata.sniff(b"%PDF-1.7") == "pdf"
    assert metadata.sniff(b"PK\x03\x04") == "zip"


@pytest.mark.parametrize("broken", [
    handmade_jpeg()[:200],  # ends inside a segment
    handmade_jpeg().split(b"\xff\xda")[0],  # no scan, no end
    b"\xff\xd8\xff\xe1\x00\x01",  # a length that cannot be
    b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"\0" * 9 + b"\x12\x34",  # data where a marker must be
    pillow_png()[:100],
    metadata.PNG_MAGIC + b"\0\0\0\x0dIDAT" + b"\0" * 17,  # no header chunk first
    metadata.PNG_MAGIC + b"\0\0\0\x0dIH!R" + b"\0" * 17,  # not a chunk name
])
def test_a_damaged_image_is_refused_rather_than_sent_half_cleaned(broken: bytes) -> None:
    with pytest.raises(metadata.MetadataError):
        metadata.strip(broken)


STRIP_IN_BROWSER = r"""
async ({ moduleUrl, files, pieceSize }) => {
  const m = await import(moduleUrl);
  const fromHex = (h) => Uint8Array.from(h.match(/../g) ?? [], (b) => parseInt(b, 16));
  const toHex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  const results = {};
  for (const [name, hex] of Object.entries(files)) {
    const data = fromHex(hex);
    const stripper = new m.SniffingStripper();
    const parts = [];
    try {
      for (let i = 0; i < data.length; i += pieceSize) {
        parts.push(stripper.update(data.subarray(i, i + pieceSize)));
      }
      parts.push(stripper.finish());
    } catch (error) {
      results[name] = { error: error.name };
      continue;
    }
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) { out.set(p, at); at += p.length; }
    let size = null;
    if (stripper.kind !== "other") {
      const bitmap = await createImageBitmap(new Blob([out]));
      size = [bitmap.width, bitmap.height];
    }
    results[name] = { hex: toHex(out), kind: stripper.kind, size };
  }
  return results;
}
"""


@pytest.mark.browser
@pytest.mark.parametrize("piece_size", [3, 65536])
def test_the_browser_strips_exactly_like_python(page: Any, live_server: str,
                                                piece_size: int) -> None:
    files = {"handmade": handmade_jpeg(), "camera": pillow_jpeg(),
             "progressive": pillow_jpeg(progressive=True), "png": pillow_png(),
             "text": b"Notes\nAuthor: " + TEXT_MARK + b"\n",
             "damaged": handmade_jpeg()[:200]}
    page.goto(live_server + "/")
    results = page.evaluate(STRIP_IN_BROWSER, {
        "moduleUrl": "/static/js/metadata.js", "pieceSize": piece_size,
        "files": {name: data.hex() for name, data in files.items()}})
    assert results.pop("damaged") == {"error": "MetadataError"}
    for name, result in results.items():
        assert bytes.fromhex(result["hex"]) == metadata.strip(files[name]), name
        assert result["kind"] == metadata.sniff(files[name])
    assert results["camera"]["size"] == [64, 48] and results["handmade"]["size"] == [8, 8]
    assert results["png"]["size"] == [64, 48]
