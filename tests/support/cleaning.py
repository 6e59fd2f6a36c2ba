"""Checking a cleaned document against its vector (tests/vectors/cleaning/vectors.json): the file
still opens with pikepdf or zipfile and lxml, and what must be gone is nowhere in it, not even
inside a compressed stream or zip entry."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pikepdf
from lxml import etree
from PIL import Image

from candor_reporter.metadata import sniff, strip

VECTORS_DIR = Path(__file__).resolve().parent.parent / "vectors" / "cleaning"
VECTORS: list[dict[str, Any]] = json.loads(
    (VECTORS_DIR / "vectors.json").read_text(encoding="ascii"))["vectors"]


def vector(name: str) -> dict[str, Any]:
    return next(v for v in VECTORS if v["file"] == name)


def planted(name: str) -> bytes:
    return (VECTORS_DIR / name).read_bytes()


def searchable(data: bytes) -> str:
    """Everything a reader of the file could find: its bytes, and for a PDF each object and
    decoded stream, for a zip each entry's name and expanded content. Opening it proves it
    still parses."""
    parts = [data.decode("latin-1")]
    if sniff(data[:8]) in ("jpeg", "png"):
        with Image.open(io.BytesIO(data)) as image:
            image.load()  # still decodes
    elif data.startswith(b"%PDF-"):
        with pikepdf.open(io.BytesIO(data)) as pdf:
            parts.append(repr(pdf.trailer))
            for obj in pdf.objects:
                parts.append(repr(obj))
                if isinstance(obj, pikepdf.Stream):
                    try:
                        parts.append(obj.read_bytes().decode("latin-1"))
                    except pikepdf.PdfError:  # an image's own compression (JPEG): as it is
                        parts.append(obj.read_raw_bytes().decode("latin-1"))
            for page in pdf.pages:
                parts.append(page.Contents.read_bytes().decode("latin-1"))
    else:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            assert archive.testzip() is None
            for info in archive.infolist():
                content = archive.read(info)
                parts += [info.filename, content.decode("latin-1")]
                if info.filename.endswith((".xml", ".rels")):
                    etree.fromstring(content)  # still well-formed
    return "\n".join(parts)


def check_cleaned(case: dict[str, Any], cleaned: bytes, removed: dict[str, int],
                  kept: list[str]) -> None:
    text = searchable(cleaned)
    assert [s for s in case["gone"] if s in text] == []
    assert [s for s in case["remain"] if s not in text] == []
    assert sorted(k for k, n in removed.items() if n) == sorted(case["removed"])
    assert sorted(kept) == sorted(case["kept"])


def python_clean(data: bytes) -> tuple[bytes, dict[str, int], list[str]]:
    """The Python cleaner on a vector: documents with their report; images with theirs, which
    says only whether anything was removed."""
    from candor_reporter.documents import clean_document

    if sniff(data[:8]) in ("jpeg", "png"):
        cleaned = strip(data)
        return cleaned, {"image-metadata": int(cleaned != data)}, []
    result = clean_document(io.BytesIO(data))
    assert result is not None
    out, report = result
    return out, dict(report.removed), report.kept
