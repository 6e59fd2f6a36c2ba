"""Cleaning documents before encryption (candor_reporter/documents.py): the shared vectors in
Python and in Chromium (app/browser/documents.js), and hostile files refused with a clear
message."""

from __future__ import annotations

import base64
import contextlib
import io
import subprocess
import sys
import zipfile
from typing import Any

import pikepdf
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from candor_reporter import metadata
from candor_reporter.documents import MAX_ENTRIES, MAX_XML_ELEMENTS
from candor_reporter.metadata import MetadataError
from tests.support.cleaning import VECTORS, check_cleaned, planted, python_clean, searchable

IDS = [v["file"] for v in VECTORS]
DOCUMENT_VECTORS = [v for v in VECTORS if v["removed"] != ["image-metadata"]]


@pytest.mark.parametrize("case", VECTORS, ids=IDS)
def test_each_vector_has_its_metadata_planted(case: dict[str, Any]) -> None:
    text = searchable(planted(case["file"]))
    assert [s for s in case["gone"] if s not in text] == []


@pytest.mark.parametrize("case", VECTORS, ids=IDS)
def test_the_python_cleaner_runs_the_vectors(case: dict[str, Any]) -> None:
    check_cleaned(case, *python_clean(planted(case["file"])))


@pytest.mark.parametrize("case", DOCUMENT_VECTORS, ids=[v["file"] for v in DOCUMENT_VECTORS])
def test_the_streaming_stripper_cleans_documents_given_in_pieces(case: dict[str, Any]) -> None:
    data = planted(case["file"])
    stripper = metadata.SniffingStripper()
    out = b"".join(stripper.update(data[i:i + 100]) for i in range(0, len(data), 100))
    out += stripper.finish()
    assert stripper.cleaned and stripper.report is not None
    check_cleaned(case, out, dict(stripper.report.removed), stripper.report.kept)


ARCHIVES = {
    "an archive": [("notes.txt", b"Written by Planted Person")],
    # Open Packaging files that are no Word, Excel or PowerPoint document (here a Visio
    # drawing): their parts are not known, so they are not called cleaned.
    "a Visio drawing": [("[Content_Types].xml",
                         b'<Types><Override PartName="/visio/document.xml" ContentType="'
                         b'application/vnd.ms-visio.drawing.main+xml"/></Types>'),
                        ("docProps/core.xml", b"<coreProperties>Planted Person</coreProperties>")],
    # More entries than an office document ever has: an archive, whatever it holds.
    "a large archive": [("[Content_Types].xml", b"<Types/>"),
                        *((f"log/{i}.txt", b"") for i in range(MAX_ENTRIES + 1))],
}


@pytest.mark.parametrize("name", list(ARCHIVES))
def test_a_zip_that_is_no_office_document_passes_through(name: str) -> None:
    archive = _zip(ARCHIVES[name])
    stripper = metadata.SniffingStripper()
    out = stripper.update(archive) + stripper.finish()
    assert out == archive and not stripper.cleaned and stripper.report is None


def _encrypted_archive() -> bytes:
    """zipfile cannot write one: the entry's encryption flag is set by hand (it is all a
    reader of the archive goes by)."""
    archive = bytearray(_zip([("evidence.txt", b"encrypted bytes, as far as we know")]))
    archive[6] |= 1  # the local header's flags
    archive[archive.rfind(b"PK\x01\x02") + 8] |= 1  # the central directory's
    return bytes(archive)


def test_an_encrypted_archive_passes_through() -> None:
    archive = _encrypted_archive()
    stripper = metadata.SniffingStripper()
    assert stripper.update(archive) + stripper.finish() == archive
    assert not stripper.cleaned


@pytest.mark.browser
def test_the_browser_passes_the_same_archives_through(page: Any, live_server: str) -> None:
    archives = {name: _zip(entries) for name, entries in ARCHIVES.items()}
    archives["an encrypted archive"] = _encrypted_archive()
    page.goto(live_server + "/")
    results = page.evaluate("""async (inputs) => {
      const metadata = await import("/static/js/metadata.js");
      const out = {};
      for (const [name, b64] of Object.entries(inputs)) {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        out[name] = await metadata.cleanDocument(bytes);
      }
      return out;
    }""", {name: base64.b64encode(data).decode() for name, data in archives.items()})
    assert results == {name: None for name in archives}


def _zip(entries: list[tuple[str, bytes]], zeros: int = 0) -> bytes:
    """A zip of ``entries``, and of ``zeros`` MiB of zeros written a MiB at a time."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(name, data)
        if zeros:
            with archive.open("word/media/huge.bin", "w", force_zip64=True) as huge:
                for _ in range(zeros):
                    huge.write(bytes(1024**2))
    return buffer.getvalue()


# What makes a package a Word document (only Word, Excel and PowerPoint packages are cleaned).
WORD_MAIN = (b'<Override PartName="/word/document.xml" ContentType="application/vnd.'
             b'openxmlformats-officedocument.wordprocessingml.document.main+xml"/>')
WORD_TYPES = b"<Types>" + WORD_MAIN + b"</Types>"
HOSTILE = {
    "a zip bomb": (_zip([("[Content_Types].xml", WORD_TYPES)], zeros=1100), "expands to more"),
    "an XML bomb": (_zip([("[Content_Types].xml",
                           b'<!DOCTYPE t [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
                           b"<t>&b;&b;&b;" + WORD_MAIN + b"</t>")]), "declares a DTD"),
    # Elements with no entity: 12 MiB of "<a/>" in a 12 KiB upload, which parsed would take
    # gigabytes; refused before parsing.
    "an XML node bomb": (_zip([("[Content_Types].xml", WORD_TYPES),
                               ("word/document.xml",
                                b"<d>" + b"<a/>" * (MAX_XML_ELEMENTS + 1) + b"</d>")]),
                         "too many elements"),
    "broken XML": (_zip([("[Content_Types].xml", b"<Types>" + WORD_MAIN)]), "not well-formed"),
    "a damaged zip": (b"PK\x03\x04" + bytes(100), "damaged"),
    "a damaged PDF": (b"%PDF-1.7\n" + b"garbage " * 20, "could not be read"),
}


def test_a_node_bomb_is_refused_in_bounded_memory(tmp_path: Any) -> None:
    """The bomb above in a process of its own, whose peak memory is its own: refused without
    parsing (its 12 MiB of XML expanded is most of what it costs)."""
    bomb = tmp_path / "bomb.docx"
    bomb.write_bytes(HOSTILE["an XML node bomb"][0])
    assert len(bomb.read_bytes()) < 100 * 1024
    script = ("import io, resource, sys\n"
              "from candor_reporter.documents import clean_document\n"
              "from candor_reporter.metadata import MetadataError\n"
              "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
              "try:\n"
              "    clean_document(io.BytesIO(open(sys.argv[1], 'rb').read()))\n"
              "except MetadataError as error:\n"
              "    print(error)\n"
              "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)\n")
    done = subprocess.run([sys.executable, "-c", script, str(bomb)], capture_output=True,
                          text=True, check=True, timeout=120)
    message, grown_kib = done.stdout.splitlines()
    assert "too many elements" in message
    assert int(grown_kib) < 100 * 1024, grown_kib  # parsed, it took over 500 MiB


def _password_pdf() -> bytes:
    with pikepdf.open(io.BytesIO(planted("planted.pdf"))) as pdf:
        out = io.BytesIO()
        pdf.save(out, encryption=pikepdf.Encryption(user="reader", owner="owner"))
    return out.getvalue()


HOSTILE["a PDF with a password"] = (_password_pdf(), "protected by a password")


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_documents_are_refused_with_a_clear_message(name: str) -> None:
    data, words = HOSTILE[name]
    with pytest.raises(MetadataError, match=words):
        metadata.strip(data)


@pytest.mark.browser
def test_the_browser_refuses_them_with_the_same_message(page: Any, live_server: str) -> None:
    page.goto(live_server + "/")
    refused = page.evaluate(REFUSE_IN_BROWSER, {
        name: base64.b64encode(data).decode() for name, (data, _words) in HOSTILE.items()})
    for name, (_data, words) in HOSTILE.items():
        assert refused[name]["error"] == "MetadataError", (name, refused[name])
        assert words in refused[name]["message"], (name, refused[name])


REFUSE_IN_BROWSER = r"""
async (inputs) => {
  const metadata = await import("/static/js/metadata.js");
  const out = {};
  for (const [name, b64] of Object.entries(inputs)) {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    try {
      await metadata.cleanDocument(bytes);
      out[name] = { error: null };
    } catch (error) {
      out[name] = { error: error.name, message: error.message };
    }
  }
  return out;
}
"""


def _run_in_browser(page: Any, base: str) -> None:
    page.goto(base + "/")
    inputs = [{"file": v["file"], "data": base64.b64encode(planted(v["file"])).decode()}
              for v in VECTORS]
    results = page.evaluate(RUN_IN_BROWSER, inputs)
    for case, result in zip(VECTORS, results, strict=True):
        assert result["reopened"], case["file"]
        check_cleaned(case, base64.b64decode(result["data"]), result["removed"], result["kept"])
        # The same counts as in Python: the reporter reads the same report either way.
        _, removed, kept = python_clean(planted(case["file"]))
        assert ({k: n for k, n in result["removed"].items() if n}, result["kept"]) == \
            ({k: n for k, n in removed.items() if n}, kept), case["file"]


@pytest.mark.browser
def test_the_browser_cleaner_runs_the_same_vectors(page: Any, live_server: str) -> None:
    _run_in_browser(page, live_server)


@pytest.mark.browser
def test_the_browser_cleaner_runs_them_without_jit_or_webassembly(
        jitless_browser: Any, live_server: str) -> None:
    """As Tor Browser at its safest level runs it: pdf-lib and fflate are plain JavaScript."""
    context = jitless_browser.new_context()
    context.set_default_timeout(120_000)
    try:
        page = context.new_page()
        page.goto(live_server + "/")
        assert page.evaluate("typeof WebAssembly") == "undefined"
        _run_in_browser(page, live_server)
    finally:
        context.close()


RUN_IN_BROWSER = r"""
async (inputs) => {
  const metadata = await import("/static/js/metadata.js");
  const fromB64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  const toB64 = (bytes) => {
    let text = "";
    for (let i = 0; i < bytes.length; i += 0x8000) {
      text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    }
    return btoa(text);
  };
  const out = [];
  for (const input of inputs) {
    const bytes = fromB64(input.data);
    if (metadata.sniff(bytes) !== "other") { // an image: decoded again by the browser
      const data = metadata.strip(bytes);
      const changed = data.length !== bytes.length || data.some((b, i) => b !== bytes[i]);
      const type = metadata.sniff(bytes) === "png" ? "image/png" : "image/jpeg";
      let reopened = true;
      try { await createImageBitmap(new Blob([data], { type })); } catch { reopened = false; }
      out.push({ data: toB64(data), removed: { "image-metadata": Number(changed) }, kept: [],
                 reopened });
      continue;
    }
    const { data, report } = await metadata.cleanDocument(bytes);
    const reopened = await metadata.reopens(data);
    out.push({ data: toB64(data), removed: report.removed, kept: report.kept, reopened });
  }
  return out;
}
"""


DOCUMENT_FILES = [v["file"] for v in DOCUMENT_VECTORS]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(DOCUMENT_FILES),
       cut=st.integers(min_value=8, max_value=5000),
       flips=st.lists(st.tuples(st.integers(min_value=0, max_value=5000),
                                st.integers(min_value=0, max_value=255)), max_size=8))
def test_damaged_documents_are_cleaned_or_refused_never_crash(
        name: str, cut: int, flips: list[tuple[int, int]]) -> None:
    """A vector truncated and with bytes changed: cleaned, or refused with MetadataError (the
    page shows its message); any other exception would be a 500 on the page without
    JavaScript."""
    data = bytearray(planted(name))
    for at, value in flips:
        if 8 <= at < len(data):
            data[at] = value
    del data[cut:]
    with contextlib.suppress(MetadataError):
        metadata.strip(bytes(data))
