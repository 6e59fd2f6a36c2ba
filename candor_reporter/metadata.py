"""Removing image metadata before a file is encrypted, as it streams past.

A photo can say where and when it was taken and with which device, and carry a thumbnail of the
uncropped picture; a screenshot's PNG text chunks can name the software and the user. So JPEG and
PNG files lose everything a decoder does not need to show them, before encryption:

- JPEG: every APPn segment except APP0 "JFIF" (rewritten without its thumbnail) and APP14
  "Adobe" (it says how to decode the colours of CMYK files); so EXIF (with its GPS block), XMP,
  IPTC/Photoshop (APP13), ICC profiles and maker notes all go, and every COM comment. Anything
  after the end-of-image marker goes too (some phones append data there).
- PNG: the ``tEXt``, ``zTXt``, ``iTXt``, ``eXIf`` and ``tIME`` chunks, and anything after IEND.

Documents (PDF, Office Open XML, OpenDocument) are cleaned by ``candor_reporter.documents``; they
are held whole (a zip or a PDF is read from its end) and cleaned once complete, and
``SniffingStripper.report`` then says what was removed. Other formats (video, archives...) cannot
be cleaned here and pass through unchanged; the pages warn about them before anything is sent.
``app/static/js/metadata.js`` does exactly the same in the browser; the no-JavaScript path and the
command-line client use this.

Both strippers are incremental: ``update`` takes bytes in pieces of any size and returns what is
ready, ``finish`` checks that the file ended where a file of its format must. Memory stays bounded
by one JPEG marker segment (at most 64 KiB) whatever the file's size.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from candor_reporter.documents import CleaningReport

Kind = Literal["jpeg", "png", "pdf", "zip", "other"]
JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SNIFF_BYTES = 8
# Ancillary chunks a PNG keeps: only those that change how it renders (and APNG animation).
# Every other ancillary chunk goes: text, EXIF, times, ICC profiles, C2PA credentials
# (caBX), editors' private chunks that may hold an uncropped original. Critical chunks
# (upper-case first letter) are kept: a decoder cannot do without them.
PNG_KEPT = frozenset({b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"sBIT", b"bKGD", b"pHYs", b"hIST",
                      b"cICP", b"mDCv", b"cLLi", b"acTL", b"fcTL", b"fdAT"})


def png_chunk_dropped(kind: bytes) -> bool:
    return kind[:1].islower() and kind not in PNG_KEPT


class MetadataError(ValueError):
    """The file claims to be a JPEG or PNG but is not a well-formed one, so it cannot be known
    to be clean. ``str(error)`` is safe to show."""


def sniff(head: bytes) -> Kind:
    """What a file is, from its first bytes (never from its name or declared type)."""
    if head.startswith(JPEG_MAGIC):
        return "jpeg"
    if head.startswith(PNG_MAGIC):
        return "png"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "zip"  # an office document, or another zip (sent as it is)
    return "other"


class Stripper(Protocol):
    def update(self, data: bytes) -> bytes: ...
    def finish(self) -> bytes: ...


class PassThrough:
    """For formats that cannot be cleaned."""

    def update(self, data: bytes) -> bytes:
        return bytes(data)

    def finish(self) -> bytes:
        return b""


class JpegStripper:
    # Markers without a length field: TEM, RSTn, SOI, EOI.
    _STANDALONE = frozenset({0x01, *range(0xD0, 0xD9)})

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._state = "start"  # start | marker | segment | copy | entropy | trailer
        self._remaining = 0  # bytes of SOS header still to copy (state "copy")
        self._out = bytearray()

    def update(self, data: bytes) -> bytes:
        self._buffer += data
        self._run()
        out, self._out = bytes(self._out), bytearray()
        return out

    def finish(self) -> bytes:
        self._run()
        if self._state != "trailer":
            raise MetadataError("the JPEG image ends before its end marker")
        out, self._out = bytes(self._out), bytearray()
        return out

    def _run(self) -> None:
        buf = self._buffer
        while True:
            if self._state == "start":
                if len(buf) < 2:
                    return
                if buf[:2] != b"\xff\xd8":
                    raise MetadataError("this is not a JPEG image")
                self._out += buf[:2]
                del buf[:2]
                self._state = "marker"
            elif self._state == "marker":
                # Fill bytes (0xFF) may precede a marker.
                while len(buf) >= 2 and buf[0] == 0xFF and buf[1] == 0xFF:
                    del buf[:1]
                if len(buf) < 2:
                    return
                if buf[0] != 0xFF:
                    raise MetadataError("the JPEG image has data where a marker should be")
                marker = buf[1]
                if marker == 0xD9:  # end of image: nothing after it is kept
                    self._out += buf[:2]
                    buf.clear()
                    self._state = "trailer"
                    return
                if marker in self._STANDALONE:
                    self._out += buf[:2]
                    del buf[:2]
                    continue
                self._state = "segment"
            elif self._state == "segment":
                if len(buf) < 4:
                    return
                marker, length = buf[1], int.from_bytes(buf[2:4], "big")
                if length < 2:
                    raise MetadataError("the JPEG image has a malformed segment")
                if marker == 0xDA:  # start of scan: its header, then entropy-coded data
                    self._out += buf[:2]
                    del buf[:2]
                    self._remaining = length
                    self._state = "copy"
                    continue
                if len(buf) < 2 + length:
                    return  # a whole segment (at most 64 KiB) is needed to decide
                segment = bytes(buf[:2 + length])
                del buf[:2 + length]
                self._out += self._kept(marker, segment)
                self._state = "marker"
            elif self._state == "copy":
                if not buf:
                    return
                taken = min(self._remaining, len(buf))
                self._out += buf[:taken]
                del buf[:taken]
                self._remaining -= taken
                if self._remaining == 0:
                    self._state = "entropy"
            elif self._state == "entropy":
                if not self._scan(buf):
                    return
                self._state = "marker"
            else:  # trailer
                buf.clear()
                return

    def _scan(self, buf: bytearray) -> bool:
        """Copy entropy-coded data up to the next marker; True once one is at ``buf[0]``."""
        at = 0
        while True:
            at = buf.find(b"\xff", at)
            if at < 0:
                self._out += buf
                buf.clear()
                return False
            if at + 1 >= len(buf):
                self._out += buf[:at]
                del buf[:at]
                return False
            following = buf[at + 1]
            # A stuffed zero, a restart marker or a fill byte belong to the scan.
            if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
                at += 1 if following == 0xFF else 2
                continue
            self._out += buf[:at]
            del buf[:at]
            return True

    @staticmethod
    def _kept(marker: int, segment: bytes) -> bytes:
        payload = segment[4:]
        if marker == 0xE0 and payload.startswith(b"JFIF\x00") and len(payload) >= 14:
            # JFIF header without the thumbnail: version, units, densities, 0x0 thumbnail.
            return b"\xff\xe0\x00\x10" + payload[:12] + b"\x00\x00"
        if marker == 0xEE and payload.startswith(b"Adobe") and len(payload) <= 16:
            return segment
        if 0xE0 <= marker <= 0xEF or marker == 0xFE:
            return b""  # other application segments and comments: metadata
        return segment


class PngStripper:
    def __init__(self) -> None:
        self._buffer = bytearray()
        self._state = "signature"  # signature | header | copy | skip | trailer
        self._remaining = 0
        self._first = True

    def update(self, data: bytes) -> bytes:
        self._buffer += data
        return self._run()

    def finish(self) -> bytes:
        out = self._run()
        if self._state != "trailer":
            raise MetadataError("the PNG image ends before its IEND chunk")
        return out

    def _run(self) -> bytes:
        buf, out = self._buffer, bytearray()
        while True:
            if self._state == "signature":
                if len(buf) < len(PNG_MAGIC):
                    break
                if buf[:8] != PNG_MAGIC:
                    raise MetadataError("this is not a PNG image")
                out += buf[:8]
                del buf[:8]
                self._state = "header"
            elif self._state == "header":
                if len(buf) < 8:
                    break
                length, kind = int.from_bytes(buf[:4], "big"), bytes(buf[4:8])
                if length > 2**31 - 1 or not kind.isalpha():
                    raise MetadataError("the PNG image has a malformed chunk")
                if self._first and kind != b"IHDR":
                    raise MetadataError("the PNG image does not start with its header chunk")
                self._first = False
                self._remaining = length + 4  # data and CRC
                if png_chunk_dropped(kind):
                    self._state = "skip"
                else:
                    out += buf[:8]
                    self._state = "copy" if kind != b"IEND" else "iend"
                del buf[:8]
            elif self._state in ("copy", "skip", "iend"):
                if not buf and self._remaining:
                    break
                taken = min(self._remaining, len(buf))
                if self._state != "skip":
                    out += buf[:taken]
                del buf[:taken]
                self._remaining -= taken
                if self._remaining == 0:
                    self._state = "trailer" if self._state == "iend" else "header"
            else:  # trailer: nothing after IEND is kept
                buf.clear()
                break
        return bytes(out)


class DocumentStripper:
    """PDF and zip packages: held whole, cleaned at ``finish`` (``candor_reporter.documents``).
    ``report`` is None until then, and stays None for a zip that is no office document (it
    passes through unchanged)."""

    def __init__(self) -> None:
        self._whole: io.BytesIO | None = io.BytesIO()
        self.report: CleaningReport | None = None

    def update(self, data: bytes) -> bytes:
        assert self._whole is not None, "update after finish"
        self._whole.write(data)
        return b""

    def finish(self) -> bytes:
        out = io.BytesIO()
        self.finish_into(out.write)
        return out.getvalue()

    def finish_into(self, write: Callable[[bytes], object]) -> None:
        """As ``finish``, giving the cleaned file to ``write`` in pieces as it is written."""
        from candor_reporter.documents import clean_document_into  # pikepdf loads when needed

        whole, self._whole = self._whole, None
        assert whole is not None, "finish twice"
        self.report = clean_document_into(whole, write)
        if self.report is None:  # not an office document: as it was
            for piece in pieces(whole.getvalue()):
                write(piece)


def stripper_for(kind: Kind) -> Stripper:
    if kind == "jpeg":
        return JpegStripper()
    if kind == "png":
        return PngStripper()
    if kind in ("pdf", "zip"):
        return DocumentStripper()
    return PassThrough()


class SniffingStripper:
    """Decides what to do from the first bytes, then strips or passes through. ``kind`` is
    None until enough bytes have arrived (or ``finish``)."""

    def __init__(self) -> None:
        self.kind: Kind | None = None
        self._head = bytearray()
        self._inner: Stripper | None = None

    def update(self, data: bytes) -> bytes:
        if self._inner is None:
            self._head += data
            if len(self._head) < SNIFF_BYTES:
                return b""
            data, self._head = bytes(self._head), bytearray()
            self.kind = sniff(data)
            self._inner = stripper_for(self.kind)
        return self._inner.update(data)

    def finish(self) -> bytes:
        if self._inner is None:
            head = bytes(self._head)
            self.kind = sniff(head)
            self._inner = stripper_for(self.kind)
            return self._inner.update(head) + self._inner.finish()
        return self._inner.finish()

    def finish_into(self, write: Callable[[bytes], object]) -> None:
        """As ``finish``, giving what is left to ``write`` in pieces: a document's cleaned copy
        is then never whole in memory beside the original."""
        if self._inner is None:
            head = bytes(self._head)
            self.kind = sniff(head)
            self._inner = stripper_for(self.kind)
            if ready := self._inner.update(head):
                write(ready)
        if isinstance(self._inner, DocumentStripper):
            self._inner.finish_into(write)
        else:
            for piece in pieces(self._inner.finish()):
                write(piece)

    @property
    def report(self) -> CleaningReport | None:
        """What cleaning a document removed and kept (after ``finish``); None otherwise."""
        return self._inner.report if isinstance(self._inner, DocumentStripper) else None

    @property
    def cleaned(self) -> bool:
        """Whether the file was cleaned (after ``finish``): an image, or a document with a
        report. False: it was sent as it was."""
        return self.kind in ("jpeg", "png") or self.report is not None


PIECE_BYTES = 1024 * 1024


def pieces(data: bytes, size: int = PIECE_BYTES) -> Iterator[bytes]:
    """``data`` in pieces of ``size``: a cleaned document arrives whole from ``finish``, and
    an encryptor given it whole would hold all of its ciphertext at once."""
    view = memoryview(data)
    for at in range(0, len(view), size):
        yield bytes(view[at:at + size])


def strip(data: bytes) -> bytes:
    """The whole of a small file, cleaned (for tests and callers that hold it anyway)."""
    stripper = SniffingStripper()
    return stripper.update(data) + stripper.finish()
