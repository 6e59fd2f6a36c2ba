"""Sizes are written one way everywhere: ``candor_reporter/file_size.py`` (no-JavaScript pages, the
command-line client) and its twin ``app/static/js/rules.js`` (the reporter's and staff
pages) give the same text for the same examples."""

from __future__ import annotations

from typing import Any

import pytest

from candor_reporter import file_size

# (size or None, frames) -> what an attachment's size is shown as before it is decrypted.
SIZES = [0, 1, 1023, 1024, 4812, 65_536, 1024**2 - 1, 1024**2, 25_000_000, 1024**3, 5 * 1024**3]
BEFORE = [(4812, 1), (0, 1), (None, 1), (None, 0), (None, 3), (2 * 1024**3, 32_769)]
MISMATCH = [(None, 10), (10, 10), (100, 9200), (9200, 100)]


def test_examples_in_python() -> None:
    assert [file_size.format_bytes(n) for n in (0, 1023, 1024, 4812, 1024**2, 5 * 1024**3)] == [
        "0 bytes", "1023 bytes", "1.0 KB", "4.7 KB", "1.0 MB", "5.00 GB"]
    assert file_size.size_before_decrypting(1, 4812) == "4.7 KB"
    assert file_size.size_before_decrypting(3) == "up to 192.0 KB"
    assert file_size.size_mismatch(4812, 4812) is None
    assert file_size.size_mismatch(None, 4812) is None
    assert file_size.size_mismatch(100, 9200) == (
        "Its sender's program stated 100 bytes, but the file is 9.0 KB: the size shown before "
        "downloading was wrong.")


@pytest.mark.browser
def test_the_browser_writes_sizes_as_python_does(page: Any, live_server: str) -> None:
    page.goto(live_server + "/")
    found = page.evaluate("""async ({ sizes, before, mismatch }) => {
      const f = await import("/static/js/rules.js");
      return {
        sizes: sizes.map((n) => f.formatBytes(n)),
        before: before.map(([size, frames]) => f.sizeBeforeDecrypting(frames, size)),
        mismatch: mismatch.map(([stated, got]) => f.sizeMismatch(stated, got)),
      };
    }""", {"sizes": SIZES, "before": BEFORE, "mismatch": MISMATCH})
    assert found == {
        "sizes": [file_size.format_bytes(n) for n in SIZES],
        "before": [file_size.size_before_decrypting(frames, size) for size, frames in BEFORE],
        "mismatch": [file_size.size_mismatch(stated, got) for stated, got in MISMATCH],
    }
