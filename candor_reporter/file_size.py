"""How a size is written wherever a person reads one, without JavaScript and in the command-line
client: the Python twin of ``app/static/js/rules.js`` (tests/test_file_size.py holds both to
the same examples). Units of 1024, named KB, MB and GB as most file managers show them."""

from __future__ import annotations

from collections.abc import Callable

from candor_reporter.languages import N_
from crypto.stream import CHUNK_SIZE


def format_bytes(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024**2:
        return f"{size / 1024:.1f} KB"
    if size < 1024**3:
        return f"{size / 1024**2:.1f} MB"
    return f"{size / 1024**3:.2f} GB"


def size_before_decrypting(frames: int, size: int | None = None,
                           translate: Callable[[str], str] = str) -> str:
    """An attachment's size before its stream is decrypted: the size its FILE_NAME record states
    (SPEC.md 8.8.1), or for one sent before sizes were recorded (``size`` None) only "up to"
    the capacity of its frames, since the stream hides the exact length. Its words come
    through ``translate`` (the reader's language)."""
    if size is not None and size >= 0:
        return format_bytes(size)
    return translate(N_("up to %(size)s")) % {"size": format_bytes(max(1, frames) * CHUNK_SIZE)}


def size_mismatch(stated: int | None, decrypted: int,
                  translate: Callable[[str], str] = str) -> str | None:
    """A sentence for the recipient when the size the sender stated differs from what the
    stream decrypted to (a faulty or dishonest sending program); None when they agree."""
    if stated is None or stated == decrypted:
        return None
    return translate(N_("Its sender's program stated %(stated)s, but the file is %(decrypted)s: "
                        "the size shown before downloading was wrong.")) % {
        "stated": format_bytes(stated), "decrypted": format_bytes(decrypted)}
