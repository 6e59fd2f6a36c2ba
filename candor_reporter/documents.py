"""Cleaning documents before they are encrypted: PDF, Office Open XML and OpenDocument.

What a reporter attaches is mostly documents, and documents carry their author's name, the
company, edit times, the names of whoever commented or tracked a change, and earlier versions.
``clean_document`` takes a whole file and returns it cleaned, with a ``CleaningReport`` saying
what was removed and what could not be:

- PDF (pikepdf, i.e. qpdf): the document information dictionary, every XMP metadata stream,
  embedded files (the name tree, file-attachment annotations, associated files ``AF``, every
  file specification's ``EF``, a portfolio's ``Collection``), JavaScript and actions that run by
  themselves (``OpenAction``, ``AA``, JavaScript and launch actions, also at the end of a
  ``Next`` chain), application data (``PieceInfo``, ``LastModified``, XFA), markup annotations'
  authors and dates (``T``, ``M``, ``CreationDate``; a form field's ``T`` is its name and stays),
  signers' details, article threads' info, JPEG images' metadata (through the image cleaner)
  and the file identifier. The file is written anew from its latest revision, so the earlier
  revisions kept by incremental updates are gone.
- Office Open XML (docx, xlsx, pptx; zipfile and lxml): the properties in ``docProps/core.xml``,
  ``app.xml`` and ``custom.xml``; comment and tracked-change authors, initials and dates; the people
  lists (``word/people.xml``, ``xl/persons``, ``ppt/commentAuthors.xml``, ``ppt/authors.xml``),
  shared-workbook users, pivot refreshers and data connections' paths and user names; revision
  session ids (rsid) and document ids; Word's document variables; the template's path and the
  folder Excel saved to (both hold the user's name); thumbnails, printer settings and digital
  signatures. JPEG and PNG images inside, known by their bytes, go through the image cleaner
  (``candor_reporter.metadata``). Only Word, Excel and PowerPoint packages are cleaned (other
  Open Packaging files are not known part by part); links to other files are kept, said so.
- OpenDocument (odt, ods, odp): ``meta.xml``'s properties, ``Thumbnails/``, the stored earlier
  versions (``Versions/``), the printer and mail-merge database named in ``settings.xml``,
  comment and tracked-change authors, initials and dates, revision ids, digital signatures.
  ``mimetype`` stays the first entry, stored.

Every zip entry gets the same fixed date (its own is an edit time). What cannot be cleaned is
said, never hidden: the visible text may still name people, and macros and embedded objects are
kept as they are. A file that claims a format but cannot be read as one raises
``MetadataError``: it cannot be known to be clean; a zip that holds no office document (an
archive) is not cleaned and passes as it is. Limits on expanded sizes and XML, and never
decoding a PDF's streams, keep a hostile file (a bomb) from taking the memory of the server that
runs this on the no-JavaScript path. ``app/browser/documents.js`` (bundled into
``app/static/vendor/documents.js``) does the same in the browser; both run
``tests/vectors/cleaning/``.
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Literal, cast

import pikepdf
from lxml import etree

from candor_reporter.languages import N_
from candor_reporter.metadata import MetadataError, sniff, strip

DocumentKind = Literal["pdf", "ooxml", "odf"]
PDF_MAGIC = b"%PDF-"
ZIP_MAGIC = b"PK\x03\x04"

# Limits for hostile files. A real office document has hundreds of entries and expands to a few
# times its size; these leave room for large ones and stop bombs early.
MAX_ENTRIES = 10_000
MAX_EXPANDED_BYTES = 1024**3  # all entries together, uncompressed
MAX_XML_BYTES = 64 * 1024**2  # one XML part, parsed in memory
# Elements in one XML part: a parsed element costs lxml (or the browser) well over a hundred
# bytes, so 64 MiB of "<a/>" would take gigabytes. Counted before parsing: the "<" not followed
# by "/" are at least as many as the elements (start tags, comments and instructions are the
# rest), so the count never misses one. A sheet of a million filled cells stays well under.
MAX_XML_ELEMENTS = 3_000_000
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry can hold
COPY_PIECE = 1024 * 1024

# What the reporter is told, by key: the keys are shared with the browser's cleaner and the
# vector files; the labels are the only words of this module a reporter reads (in English here,
# marked for the catalogues and translated in ``summary``).
REMOVED_LABELS = {
    "properties": N_("author, company, dates and other document properties"),
    "xmp": N_("XMP metadata"),
    "embedded-files": N_("embedded files"),
    "scripts": N_("scripts and automatic actions"),
    "application-data": N_("application data"),
    "comment-authors": N_("comment authors and dates"),
    "change-authors": N_("tracked-change authors and dates"),
    "people": N_("lists of people who edited or commented"),
    "revision-ids": N_("editing session identifiers"),
    "thumbnails": N_("thumbnails"),
    "printer": N_("printer settings"),
    "template": N_("the template's path, which may name you"),
    "file-location": N_("the folder the file was saved in, which may name you"),
    "file-links": N_("paths to files on your computer in links"),
    "earlier-versions": N_("earlier versions"),
    "image-metadata": N_("image metadata"),
    "connections": N_("user names and file paths in data connections and pivot tables"),
    "signatures": N_("signers' names and signing details"),
}
KEPT_LABELS = {
    "visible-text": N_("the visible text, comments' text and file names inside may still name "
                       "people"),
    "macros": N_("macros are kept as they are and may hold names"),
    "embedded-objects": N_("embedded objects (other documents inside) are not cleaned"),
    "images": N_("an image inside could not be cleaned"),
    "links": N_("links to other files or web addresses (may name you, or tell the sender when "
                "the file is opened)"),
}


@dataclass
class CleaningReport:
    """What cleaning removed (a count per ``REMOVED_LABELS`` key) and what it could not
    (``KEPT_LABELS`` keys)."""

    kind: DocumentKind
    removed: Counter[str] = field(default_factory=Counter)
    kept: list[str] = field(default_factory=lambda: ["visible-text"])

    def keep(self, key: str) -> None:
        if key not in self.kept:
            self.kept.append(key)

    def summary(self, translate: Callable[[str], str] = str) -> str:
        """One line for the reporter, e.g. "removed: earlier versions (2), ...; kept: ...",
        in the language of ``translate``."""
        removed = ", ".join(f"{translate(label)} ({self.removed[key]})"
                            for key, label in REMOVED_LABELS.items() if self.removed[key])
        kept = "; ".join(translate(KEPT_LABELS[key]) for key in self.kept)
        return translate(N_("removed: %(removed)s; kept: %(kept)s")) % {
            "removed": removed or translate(N_("nothing was found")), "kept": kept}


def document_kind(head: bytes) -> Literal["pdf", "zip"] | None:
    """"pdf", "zip" (perhaps an office document) or None, from a file's first bytes."""
    if head.startswith(PDF_MAGIC):
        return "pdf"
    if head.startswith(ZIP_MAGIC):
        return "zip"
    return None


def clean_document(source: io.BytesIO) -> tuple[bytes, CleaningReport] | None:
    """The whole file in ``source`` cleaned, with its report; None for a zip that is no office
    document or a file of another format (it is sent as it is, with the warning for other
    formats). Raises ``MetadataError``. ``source`` is read in place, not copied."""
    out = io.BytesIO()
    report = clean_document_into(source, out.write)
    return None if report is None else (out.getvalue(), report)


def clean_document_into(source: io.BytesIO, write: Callable[[bytes], object]
                        ) -> CleaningReport | None:
    """As ``clean_document``, giving the cleaned file to ``write`` in pieces (of about a MiB)
    as it is written: a PDF's cleaned copy is never whole in memory beside the original. On
    ``MetadataError`` part of it may have been written already: discard what was."""
    source.seek(0)
    kind = document_kind(source.read(8))
    source.seek(0)
    try:
        if kind == "pdf":
            return clean_pdf(source, write)
        if kind == "zip":
            cleaned = clean_package(source)
            if cleaned is None:
                return None
            data, report = cleaned
            for at in range(0, len(data), COPY_PIECE):
                write(data[at:at + COPY_PIECE])
            return report
    except (ValueError, TypeError, KeyError, IndexError, RuntimeError, OSError, zlib.error,
            etree.LxmlError) as error:
        if isinstance(error, MetadataError):
            raise
        # A hostile file reaching a corner of a library: still a clear refusal, never a crash.
        raise MetadataError(f"the document could not be read ({type(error).__name__})"
                            ) from None
    return None


# --- PDF ----------------------------------------------------------------------------------------
_RUNNING_ACTIONS = frozenset({"/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/Rendition",
                              "/GoToE"})


def earlier_versions(source: io.BytesIO) -> int:
    """How many revisions before the last one a PDF keeps (each incremental update ends with
    its own ``%%EOF``; a linearized file has one more without being updated)."""
    with source.getbuffer() as data:
        ends = sum(1 for _ in re.finditer(rb"%%EOF", data))
        linearized = b"/Linearized" in data[:1024].tobytes()
    return max(0, ends - 1 - (1 if linearized else 0))


class _SharingStream(io.RawIOBase):
    """A BytesIO behind methods written in Python. qpdf holds the GIL while it works and calls
    back for each read and write; a call into BytesIO's C methods gives no other thread a turn,
    so a 200 MB PDF kept the server's process silent for 13 s, long enough for its supervisor
    to take it for hung and kill it. Python bytecode between the calls lets the GIL pass."""

    def __init__(self, inner: io.BytesIO) -> None:
        super().__init__()
        self._inner = inner

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._inner.readinto(buffer)

    def write(self, data: Any) -> int:
        return self._inner.write(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._inner.seek(offset, whence)

    def tell(self) -> int:
        return self._inner.tell()


class _Sink(io.RawIOBase):
    """Where qpdf writes the cleaned file: gathered into pieces of about a MiB for ``write``
    (Python methods, so the GIL passes between qpdf's calls as for ``_SharingStream``)."""

    def __init__(self, write: Callable[[bytes], object]) -> None:
        super().__init__()
        self._write = write
        self._piece = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._piece += data
        if len(self._piece) >= COPY_PIECE:
            self.flush_piece()
        return len(data)

    def flush_piece(self) -> None:
        if self._piece:
            piece, self._piece = bytes(self._piece), bytearray()
            self._write(piece)


def clean_pdf(source: io.BytesIO, write: Callable[[bytes], object]) -> CleaningReport:
    report = CleaningReport("pdf")
    report.removed["earlier-versions"] = earlier_versions(source)
    source.seek(0)
    try:
        with pikepdf.open(cast(BinaryIO, _SharingStream(source))) as pdf:
            _clean_pdf_objects(pdf, report)
            out = _Sink(write)
            # Written without encryption: a file that opened without a password had only
            # an owner's restrictions, which protect nothing once it is decrypted here.
            # Streams are copied as they are, never decoded: faster, and a stream that
            # expands to gigabytes (a bomb) costs nothing.
            # A damaged file's form fields may be out of reach of its form: pikepdf warns that
            # Acrobat may not show them, which says nothing to the reporter, and is not shown.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", pikepdf.PageCopyWarning)
                pdf.save(cast(BinaryIO, out), deterministic_id=True,
                         fix_metadata_version=False, encryption=False, compress_streams=False,
                         stream_decode_level=pikepdf.StreamDecodeLevel.none,
                         object_stream_mode=pikepdf.ObjectStreamMode.preserve)
    except pikepdf.PasswordError:
        raise MetadataError("the PDF is protected by a password, so it cannot be cleaned; "
                            "save a copy without the password") from None
    except (pikepdf.PdfError, pikepdf.DataDecodingError, ValueError, KeyError,
            TypeError, AttributeError, RuntimeError) as error:  # damaged: refused, never sent
        raise MetadataError(f"the PDF could not be read ({type(error).__name__})") from None
    out.flush_piece()
    return report


def _clean_pdf_objects(pdf: pikepdf.Pdf, report: CleaningReport) -> None:
    trailer = pdf.trailer
    if "/Info" in trailer:
        info = trailer.Info
        report.removed["properties"] += len(info.keys()) if isinstance(info, pikepdf.Dictionary) \
            else 1
        del trailer["/Info"]
    if "/ID" in trailer:
        del trailer["/ID"]  # its first half identifies the file as its author's machine made it
    root = pdf.Root
    for key in ("/OpenAction", "/AA"):
        if key in root:
            del root[key]
            report.removed["scripts"] += 1
    embedded = _Embedded()
    if "/Collection" in root:  # a portfolio's view of its embedded files
        del root["/Collection"]
        embedded.other += 1
    names = root.get("/Names")
    if isinstance(names, pikepdf.Dictionary):
        if "/EmbeddedFiles" in names:
            embedded.other += max(1, _name_count(names.EmbeddedFiles))
            del names["/EmbeddedFiles"]
        if "/JavaScript" in names:
            report.removed["scripts"] += max(1, _name_count(names.JavaScript))
            del names["/JavaScript"]
    form = root.get("/AcroForm")
    if isinstance(form, pikepdf.Dictionary) and "/XFA" in form:
        del form["/XFA"]  # the form as XML, which may hold its filler's details
        report.removed["application-data"] += 1
    for obj in pdf.objects:
        if isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)):
            _clean_pdf_dictionary(obj, report, embedded)
            annotations = obj.get("/Annots")
            if isinstance(annotations, pikepdf.Array):
                for annotation in annotations:  # written in the array, not as objects
                    if isinstance(annotation, pikepdf.Dictionary) and \
                            not annotation.is_indirect:
                        _clean_pdf_dictionary(annotation, report, embedded)
    # Each embedded file once, however many file specifications, name trees and associated
    # file lists reached it.
    report.removed["embedded-files"] += len(embedded.streams) or embedded.other


@dataclass
class _Embedded:
    streams: set[tuple[int, int]] = field(default_factory=set)
    other: int = 0


def _name_count(tree: pikepdf.Object) -> int:
    try:
        return len(pikepdf.NameTree(tree))
    except (TypeError, ValueError, pikepdf.PdfError):
        return 0


def _runs(action: pikepdf.Object | None, seen: set[tuple[int, int]] | None = None, depth: int = 0
          ) -> bool:
    """Whether an action, or one of the actions it chains to (``/Next``), runs something."""
    seen = set() if seen is None else seen
    if depth > 100:
        return True  # a chain longer than any real one: taken for what it may hide
    if isinstance(action, pikepdf.Array):
        return any(_runs(item, seen, depth + 1) for item in action)
    if not isinstance(action, pikepdf.Dictionary):
        return False
    if action.is_indirect:
        if action.objgen in seen:
            return False
        seen.add(action.objgen)
    return str(action.get("/S")) in _RUNNING_ACTIONS or (
        "/Next" in action and _runs(action.Next, seen, depth + 1))


# Annotations whose /T is no author: a form field's name, a pop-up's. Only markup annotations
# (notes, highlights...) are counted as authored.
_UNAUTHORED = frozenset({"/Widget", "/Popup", "/Link"})
_SIGNER_KEYS = ("/Name", "/M", "/ContactInfo", "/Location", "/Prop_Build")


def _clean_pdf_dictionary(obj: pikepdf.Dictionary | pikepdf.Stream, report: CleaningReport,
                          embedded: _Embedded) -> None:
    for key, what in (("/Metadata", "xmp"), ("/PieceInfo", "application-data"),
                      ("/LastModified", "application-data"), ("/AA", "scripts")):
        if key in obj:
            del obj[key]
            report.removed[what] += 1
    if "/AF" in obj:  # associated files (PDF/A-3, Factur-X): embedded files by another way
        del obj["/AF"]
        embedded.other += 1
    files = obj.get("/EF")
    if isinstance(files, pikepdf.Dictionary):
        for stream in files.values():
            if isinstance(stream, pikepdf.Object) and stream.is_indirect:
                embedded.streams.add(stream.objgen)
        del obj["/EF"]
        embedded.other += 1
    action = obj.get("/A")
    if _runs(action):
        del obj["/A"]
        report.removed["scripts"] += 1
    kind = str(obj.get("/Type"))
    if kind == "/Sig" or ("/ByteRange" in obj and "/Filter" in obj):
        signed = False
        for key in _SIGNER_KEYS:
            if key in obj:
                del obj[key]
                signed = True
        report.removed["signatures"] += signed
    if (kind == "/Thread" or "/F" in obj) and isinstance(obj.get("/I"), pikepdf.Dictionary):
        del obj["/I"]  # an article thread's title, author, dates
        report.removed["properties"] += 1
    if kind == "/Annot" or ("/Subtype" in obj and "/Rect" in obj):
        subtype = str(obj.get("/Subtype"))
        dated = False
        for key in ("/M", "/CreationDate") if subtype in _UNAUTHORED else \
                ("/T", "/M", "/CreationDate"):
            if key in obj:
                del obj[key]
                dated = True
        report.removed["comment-authors"] += dated and subtype not in _UNAUTHORED
        if subtype == "/FileAttachment" and "/FS" in obj:
            del obj["/FS"]
            embedded.other += 1
    if isinstance(obj, pikepdf.Stream) and str(obj.get("/Subtype")) == "/Image":
        _clean_pdf_jpeg(obj, report)


def _clean_pdf_jpeg(image: pikepdf.Stream, report: CleaningReport) -> None:
    """A JPEG image (DCTDecode, its only filter) through the image cleaner: its EXIF (GPS,
    camera), XMP and comments. Other images are kept as they are (their pixels are all a PDF
    reader uses of them; metadata in other formats is rare)."""
    filters = image.get("/Filter")
    if isinstance(filters, pikepdf.Array) and len(filters) == 1:
        filters = filters[0]
    if str(filters) != "/DCTDecode":
        return
    data = image.read_raw_bytes()
    if sniff(data[:8]) != "jpeg":
        return
    try:
        cleaned = strip(data)
    except MetadataError:
        report.keep("images")
        return
    if cleaned != data:
        parameters = image.get("/DecodeParms")
        image.write(cleaned, filter=pikepdf.Name.DCTDecode,
                    decode_parms=parameters if isinstance(
                        parameters, (pikepdf.Dictionary, pikepdf.Array)) else None)
        report.removed["image-metadata"] += 1


# --- Zip packages: Office Open XML and OpenDocument ---------------------------------------------
NS_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_DC = "http://purl.org/dc/elements/1.1/"
NS_META = "urn:oasis:names:tc:opendocument:xmlns:meta:1.0"
NS_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
NS_CONFIG = "urn:oasis:names:tc:opendocument:xmlns:config:1.0"
NS_MANIFEST = "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"
ODF_MIME = b"application/vnd.oasis.opendocument."

OOXML_PROPERTIES = ("docProps/core.xml", "docProps/app.xml", "docProps/custom.xml")
# A link's target that is a path on the user's computer or network (file:, \\server, C:\).
LOCAL_PATH = re.compile(r"\s*(file:|\\\\|[a-z]:[\\/])", re.IGNORECASE)
PROPERTIES_TYPES = ("/metadata/core-properties", "/extended-properties", "/custom-properties")
# Attributes that name a person on comments, tracked changes and people lists, by local name:
# they are emptied (some are required by the schema); dates are removed (all optional). They
# apply to Word's own attributes (w:author on a tracked change) and to the parts that list
# people (PEOPLE_PARTS, words in the part's name), never elsewhere: a table's displayName is
# the table's name, which Excel requires.
PERSON_ATTRIBUTES = frozenset({"author", "initials", "userId", "providerId", "userName",
                               "displayName", "refreshedBy"})
DATE_ATTRIBUTES = frozenset({"date", "dateUtc", "dT", "dt", "created", "refreshedDate",
                             "refreshedDateIso"})
FIXED_DATE = "1970-01-01T00:00:00"  # for a required date: one for all
PEOPLE_PARTS = ("comment", "people", "person", "author", "revision", "pivotcache")
# A data connection's file paths, and the credentials and paths in its connection string.
CONNECTION_PATHS = frozenset({"odcFile", "sourceFile"})
CONNECTION_SECRETS = re.compile(
    r"((?:^|;)\s*(?:user id|uid|user|password|pwd|data source|dbq|workstation id|wsid)\s*=)[^;]*",
    re.IGNORECASE)
CHANGE_ELEMENTS = frozenset({"ins", "del", "moveFrom", "moveTo", "rPrChange", "pPrChange",
                             "sectPrChange", "tblPrChange", "trPrChange", "tcPrChange",
                             "tblGridChange", "numberingChange", "cellIns", "cellDel",
                             "cellMerge", "customXmlInsRangeStart", "customXmlDelRangeStart",
                             "customXmlMoveFromRangeStart", "customXmlMoveToRangeStart"})


def _local(name: str | bytes) -> str:
    return str(name).rpartition("}")[2]


def _namespace(name: str | bytes) -> str:
    text = str(name)
    return text[1:].partition("}")[0] if text.startswith("{") else ""


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                          huge_tree=False, remove_blank_text=False)


_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)


def parse_xml(data: bytes, name: str) -> etree._ElementTree:
    """An XML part, refused if it declares a DTD (entities are the way XML bombs expand)."""
    if len(data) > MAX_XML_BYTES:
        raise MetadataError(f"{name} is too large to be cleaned")
    if data.count(b"<") - data.count(b"</") > MAX_XML_ELEMENTS:
        raise MetadataError(f"{name} has too many elements to be cleaned")
    try:
        tree = etree.parse(io.BytesIO(data), _PARSER)
    except etree.XMLSyntaxError:
        raise MetadataError(f"{name} is not well-formed XML") from None
    if _DOCTYPE.search(data) or tree.docinfo.internalDTD is not None:
        raise MetadataError(f"{name} declares a DTD, which office documents never do")
    return tree


def serialize_xml(tree: etree._ElementTree) -> bytes:
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8", standalone=True)


def declared_entries(source: io.BytesIO) -> int:
    """How many entries a zip's end record says it has (its last 64 KiB hold that record)."""
    with source.getbuffer() as view:
        tail = view[-(22 + 65535):].tobytes()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) < at + 22:
        raise MetadataError("the document's zip structure is damaged")
    count = int.from_bytes(tail[at + 10:at + 12], "little")
    if count == 0xFFFF:  # Zip64: the count is in the Zip64 end record, before this one
        at64 = tail.rfind(b"PK\x06\x06", 0, at)
        if at64 < 0 or at64 + 40 > at:
            raise MetadataError("the document's zip structure is damaged")
        count = int.from_bytes(tail[at64 + 32:at64 + 40], "little")
    return count


class _Package:
    """A zip read within the limits: entry names in order and their bytes on demand."""

    def __init__(self, source: io.BytesIO) -> None:
        """Raises ``MetadataError`` for a zip that cannot be read, ``TooManyEntries`` for one
        with more entries than an office document ever has (an archive)."""
        if declared_entries(source) > MAX_ENTRIES:  # before zipfile lists them all in memory
            raise TooManyEntries
        try:
            self.zip = zipfile.ZipFile(source)
            self.infos = self.zip.infolist()
        except (zipfile.BadZipFile, ValueError, EOFError):
            raise MetadataError("the document's zip structure is damaged") from None
        if len(self.infos) > MAX_ENTRIES:
            raise TooManyEntries
        self.names = [info.filename for info in self.infos]
        self._expanded = 0

    def check(self) -> None:
        """What an office document must be for its parts to be known: each named once, none
        encrypted."""
        if len(set(self.names)) != len(self.names):
            raise MetadataError("the document names one part twice")
        if any(info.flag_bits & 0x1 for info in self.infos):
            raise MetadataError("the document is encrypted, so it cannot be cleaned")

    def pieces(self, name: str, cap: int = MAX_EXPANDED_BYTES) -> Iterator[bytes]:
        """An entry's bytes in pieces, counted against the limits (not its declared size)."""
        read = 0
        try:
            with self.zip.open(name) as entry:
                while piece := entry.read(COPY_PIECE):
                    read += len(piece)
                    self._expanded += len(piece)
                    if read > cap:
                        raise MetadataError(f"{name} is too large to be cleaned")
                    if self._expanded > MAX_EXPANDED_BYTES:
                        raise MetadataError("the document expands to more than "
                                            f"{MAX_EXPANDED_BYTES // 1024**2:,} MiB")
                    yield piece
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError,
                NotImplementedError) as error:
            if isinstance(error, MetadataError):
                raise
            raise MetadataError(f"{name} could not be read from the document") from None

    def read(self, name: str) -> bytes:
        return b"".join(self.pieces(name, MAX_XML_BYTES))


# The main parts' content types of Word, Excel and PowerPoint documents, templates and shows
# (with macros too): the packages whose parts this module knows. Other Open Packaging files
# (Visio, XPS, 3MF, NuGet) are not cleaned and keep the warning for other formats.
OFFICE_MAIN = re.compile(
    rb"vnd\.(openxmlformats-officedocument\.(wordprocessingml|spreadsheetml|presentationml)|"
    rb"ms-(word|excel|powerpoint))\.[a-z.]*main\+xml", re.IGNORECASE)


def package_kind(package: _Package) -> Literal["ooxml", "odf"] | None:
    if "[Content_Types].xml" in package.names:
        return "ooxml" if OFFICE_MAIN.search(package.read("[Content_Types].xml")) else None
    if package.names[:1] == ["mimetype"] and package.read("mimetype").startswith(ODF_MIME):
        return "odf"
    return None


class TooManyEntries(Exception):
    """A zip with more entries than ``MAX_ENTRIES``: no office document, so an archive."""


def clean_package(source: io.BytesIO) -> tuple[bytes, CleaningReport] | None:
    """None for a zip that is no office document (an archive: sent as it is, with a warning,
    even if encrypted); an office document cleaned, or ``MetadataError``."""
    try:
        package = _Package(source)
    except TooManyEntries:
        return None
    kind = package_kind(package)
    if kind is None:
        return None
    package.check()
    cleaner = _OoxmlCleaner(package) if kind == "ooxml" else _OdfCleaner(package)
    return cleaner.run(), cleaner.report


class _PackageCleaner:
    kind: DocumentKind

    def __init__(self, package: _Package) -> None:
        self.package = package
        self.report = CleaningReport(self.kind)
        self.dropped: set[str] = set()
        self.prepared: dict[str, bytes] = {}  # parts cleaned ahead, by name

    def drops(self, name: str) -> str | None:
        """The report key under which an entry is left out, or None to keep it."""
        raise NotImplementedError

    def clean_xml(self, name: str, tree: etree._ElementTree) -> None:
        raise NotImplementedError

    def is_xml(self, name: str) -> bool:
        return name.endswith((".xml", ".rels"))

    def prepare(self) -> None:
        """Work that parts written earlier depend on (relationships, in a package)."""

    def run(self) -> bytes:
        for name in self.package.names:
            key = self.drops(name)
            if key is not None:
                self.dropped.add(name)
                self.report.removed[key] += 1
        self.prepare()
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as target:
            for name in self.package.names:
                if name not in self.dropped:
                    self._write(target, name)
        return out.getvalue()

    def _write(self, target: zipfile.ZipFile, name: str) -> None:
        stored = name == "mimetype"
        info = zipfile.ZipInfo(name, ZIP_DATE)
        info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        if name.endswith("/"):
            target.writestr(info, b"")
        elif name in self.prepared:
            target.writestr(info, self.prepared.pop(name))
        elif self.is_xml(name):
            tree = parse_xml(self.package.read(name), name)
            self.clean_xml(name, tree)
            target.writestr(info, serialize_xml(tree))
        else:
            # An image is known by its bytes, whatever its name says.
            pieces = self.package.pieces(name)
            first = next(pieces, b"")
            if sniff(first[:8]) in ("jpeg", "png"):
                image = first + b"".join(pieces)
                if len(image) > MAX_XML_BYTES:
                    raise MetadataError(f"{name} is too large to be cleaned")
                target.writestr(info, self._image(name, image))
                return
            if _other_image(name, first):
                self.report.keep("images")
            with target.open(info, "w") as entry:
                entry.write(first)
                for piece in pieces:
                    entry.write(piece)

    def _image(self, name: str, image: bytes) -> bytes:
        try:
            cleaned = strip(image)
        except MetadataError:
            self.report.keep("images")
            return image
        if cleaned != image:
            self.report.removed["image-metadata"] += 1
        return cleaned

    def remove_references(self, tree: etree._ElementTree, element_local: str,
                          attribute: str, prefix: str = "") -> int:
        """Remove the elements (e.g. Relationship, Override) that point at a dropped entry."""
        removed = 0
        for element in list(tree.iter(f"{{*}}{element_local}")):
            target = element.get(attribute, "")
            if prefix + target.lstrip("/") in self.dropped or target.lstrip("/") in self.dropped:
                parent = element.getparent()
                if parent is not None:
                    parent.remove(element)
                    removed += 1
        return removed


# Images of other formats (which may hold metadata of their own), by name or first bytes.
OTHER_IMAGES = (".gif", ".tif", ".tiff", ".bmp", ".webp", ".heic", ".heif", ".emf", ".wmf",
                ".emz", ".wmz", ".svg", ".jxr", ".wdp")


def _other_image(name: str, head: bytes) -> bool:
    return name.lower().endswith(OTHER_IMAGES) or head.startswith(
        (b"GIF8", b"II*\x00", b"MM\x00*", b"BM"))


def _ooxml_drop(name: str) -> str | None:
    lowered = name.lower()
    if lowered.startswith("docprops/thumbnail."):
        return "thumbnails"
    if "/printersettings/" in lowered:
        return "printer"
    if lowered.startswith("_xmlsignatures/"):
        return "signatures"
    return None  # people lists stay, emptied of names: comments refer to them


class _OoxmlCleaner(_PackageCleaner):
    kind = "ooxml"

    def drops(self, name: str) -> str | None:
        lowered = name.lower()
        if lowered.endswith("vbaproject.bin"):
            self.report.keep("macros")
        if "/embeddings/" in lowered:
            self.report.keep("embedded-objects")
        return _ooxml_drop(name)

    def prepare(self) -> None:
        # Relationships to a dropped part go, and so do the references to their ids in the
        # part that holds them (a worksheet's page setup names its printer settings by id),
        # whichever comes first in the zip: so every relationship part is cleaned first.
        self._removed_ids: dict[str, set[str]] = {}
        self.properties_parts = {part.lower() for part in OOXML_PROPERTIES}
        for name in self.package.names:
            if name.endswith(".rels") and name not in self.dropped:
                tree = parse_xml(self.package.read(name), name)
                self._clean_relationships(name, tree)
                self.prepared[name] = serialize_xml(tree)

    def clean_xml(self, name: str, tree: etree._ElementTree) -> None:
        root = tree.getroot()
        if name == "[Content_Types].xml":
            self.remove_references(tree, "Override", "PartName")
            return
        if name.lower() in self.properties_parts:
            for child in list(root):
                root.remove(child)
                self.report.removed["properties"] += 1
            return
        self._clean_people(name, tree)

    def is_xml(self, name: str) -> bool:
        return super().is_xml(name) or name.lower() in self.properties_parts

    def _clean_relationships(self, name: str, tree: etree._ElementTree) -> None:
        folder, _, rels = name.rpartition("_rels/")
        owner = folder + rels.removesuffix(".rels")
        removed: set[str] = set()
        for element in list(tree.iter(f"{{{NS_REL}}}Relationship")):
            kind = element.get("Type", "").lower()
            if name.lower() == "_rels/.rels" and kind.endswith(PROPERTIES_TYPES):
                # The properties may be stored under any name (.NET's packaging writes
                # package/services/metadata/core-properties/<id>.psmdcp): the type says.
                self.properties_parts.add(_resolve("", element.get("Target", "")).lower())
            # A document's template is named by its path, which holds the user's name
            # (C:\Users\<name>\AppData\...\Normal.dotm).
            template = kind.endswith("/attachedtemplate")
            if element.get("TargetMode") == "External" and not template:
                if LOCAL_PATH.match(element.get("Target", "")):
                    element.set("Target", "")  # a path on the user's computer: names them
                    self.report.removed["file-links"] += 1
                else:
                    self.report.keep("links")
                continue
            if template or _resolve(folder, element.get("Target", "")) in self.dropped:
                self.report.removed["template"] += template
                removed.add(element.get("Id", ""))
                parent = element.getparent()
                if parent is not None:
                    parent.remove(element)
        self._removed_ids[owner] = removed

    def _clean_people(self, name: str, tree: etree._ElementTree) -> None:
        removed_ids = self._removed_ids.get(name, set())
        rsids = False
        commented: set[int] = set()
        changes = 0
        lowered = name.lower()
        revisions = lowered.startswith("xl/revisions/")
        pivot = "pivotcache" in lowered
        people = (name == "word/people.xml" or name.startswith(("xl/persons/", "ppt/authors"))
                  or revisions)
        names_people = any(word in lowered for word in PEOPLE_PARTS)
        connections = 0
        anyone = False
        unreferenced: list[etree._Element] = []
        for element in tree.iter():
            if not isinstance(element.tag, str):
                continue
            local = _local(element.tag)
            named = False
            for attribute in list(element.attrib):
                attribute_local = _local(attribute)
                personal = names_people or _namespace(attribute) == NS_W
                if personal and attribute_local in PERSON_ATTRIBUTES and element.attrib[attribute]:
                    element.attrib[attribute] = ""
                    named = True
                elif personal and attribute_local in DATE_ATTRIBUTES:
                    del element.attrib[attribute]
                    named = True
                elif revisions and attribute_local == "dateTime":
                    element.attrib[attribute] = FIXED_DATE  # required
                    named = True
                elif lowered == "xl/connections.xml" and attribute_local in CONNECTION_PATHS:
                    del element.attrib[attribute]
                    connections += 1
                elif lowered == "xl/connections.xml" and attribute_local == "connection":
                    value = str(element.attrib[attribute])
                    scrubbed = CONNECTION_SECRETS.sub(r"\1", value)
                    if scrubbed != value:
                        element.attrib[attribute] = scrubbed
                        connections += 1
                elif attribute_local.startswith("rsid") and _namespace(attribute) == NS_W:
                    del element.attrib[attribute]
                    rsids = True
                elif _namespace(attribute) == NS_R and element.attrib[attribute] in removed_ids:
                    del element.attrib[attribute]
                    if local == "attachedTemplate":  # nothing left of it
                        unreferenced.append(element)
            if ((name == "ppt/commentAuthors.xml" and local == "cmAuthor")
                    or (name.startswith("ppt/authors") and local == "author")):
                element.set("name", "")
                element.set("initials", "")
                named = True
            if revisions and local == "userInfo":
                element.set("name", "")
                named = True
            if local == "presenceInfo":
                named = True
            anyone = anyone or named
            if named and local in CHANGE_ELEMENTS:
                changes += 1
            elif named and not people:
                commented.add(id(element))
        for element in [*tree.iter(f"{{{NS_W}}}rsids", "{*}presenceInfo"), *unreferenced]:
            parent = element.getparent()
            if parent is not None:
                parent.remove(element)
                rsids = rsids or _local(element.tag) == "rsids"
        if lowered == "word/settings.xml":
            # Word's document variables (set by macros and add-ins) and the document's ids.
            for element in list(tree.iter(f"{{{NS_W}}}docVars", "{*}docId")):
                parent = element.getparent()
                if parent is not None:
                    parent.remove(element)
                    if _local(element.tag) == "docId":
                        rsids = True
                    else:
                        self.report.removed["application-data"] += 1
        for path in list(tree.iter("{*}absPath")):
            self._remove_saved_location(path)
        if name.startswith("xl/comments"):
            for author in tree.iter("{*}author"):
                if author.text:
                    author.text = ""
                    commented.add(id(author))
        self.report.removed["change-authors"] += changes
        self.report.removed["connections"] += connections + (pivot and anyone)
        if people:
            self.report.removed["people"] += anyone
        elif not pivot:
            self.report.removed["comment-authors"] += len(commented)
        if rsids:  # counted once for the document: they are many and mean nothing apart
            self.report.removed["revision-ids"] = 1


    def _remove_saved_location(self, path: etree._Element) -> None:
        """Excel writes the folder it saved to (``x15ac:absPath url="C:\\Users\\<name>\\..."``),
        inside a markup-compatibility choice of its own: that choice goes whole."""
        choice = path.getparent()
        alternate = choice.getparent() if choice is not None else None
        if (choice is not None and alternate is not None and len(choice) == 1
                and _local(choice.tag) == "Choice" and _local(alternate.tag) == "AlternateContent"
                and len(alternate) == 1):
            holder = alternate.getparent()
            if holder is not None:
                holder.remove(alternate)
        elif choice is not None:
            choice.remove(path)
        self.report.removed["file-location"] += 1


def _resolve(folder: str, target: str) -> str:
    """A relationship target as an entry name (relative to the owner's folder)."""
    if target.startswith("/"):
        return target.lstrip("/")
    parts = [p for p in folder.rstrip("/").split("/") if p]
    for piece in target.split("/"):
        if piece == "..":
            if parts:
                parts.pop()
        elif piece not in ("", "."):
            parts.append(piece)
    return "/".join(parts)


ODF_DATE = "1970-01-01T00:00:00"
ODF_DROPPED = (("Thumbnails/", "thumbnails"), ("Versions/", "earlier-versions"),
               ("VersionList.xml", "earlier-versions"),
               ("META-INF/documentsignatures.xml", "signatures"),
               ("META-INF/macrosignatures.xml", "signatures"))
NS_XLINK = "http://www.w3.org/1999/xlink"
# settings.xml items that name a database (a path or a server) the document was merged with.
ODF_DATABASE_ITEMS = frozenset({"CurrentDatabaseDataSource", "CurrentDatabaseCommand",
                                "CurrentDatabaseCommandType"})
# settings.xml items that name the printer (and, in its setup blob, often the user).
ODF_PRINTER_ITEMS = frozenset({"PrinterName", "PrinterSetup", "PrinterPaperFromSetup"})


class _OdfCleaner(_PackageCleaner):
    kind = "odf"

    def drops(self, name: str) -> str | None:
        if name.startswith(("Basic/", "Scripts/")):
            self.report.keep("macros")
        if name.startswith("Object ") or name.startswith("ObjectReplacements/"):
            self.report.keep("embedded-objects")
        for prefix, key in ODF_DROPPED:
            if name.startswith(prefix):
                return key
        return None

    def is_xml(self, name: str) -> bool:
        return name.endswith(".xml") and not name.startswith(("Basic/", "Scripts/"))

    def clean_xml(self, name: str, tree: etree._ElementTree) -> None:
        root = tree.getroot()
        if name == "META-INF/manifest.xml":
            self.remove_references(tree, "file-entry", f"{{{NS_MANIFEST}}}full-path")
            return
        if name == "meta.xml":
            for meta in root.iter(f"{{{NS_OFFICE}}}meta"):
                for child in list(meta):
                    meta.remove(child)
                    self.report.removed["properties"] += 1
            return
        if name == "settings.xml":
            for item in list(root.iter(f"{{{NS_CONFIG}}}config-item")):
                item_name = item.get(f"{{{NS_CONFIG}}}name")
                if item_name in ODF_PRINTER_ITEMS or item_name in ODF_DATABASE_ITEMS:
                    parent = item.getparent()
                    if parent is not None:
                        parent.remove(item)
                        self.report.removed["printer" if item_name in ODF_PRINTER_ITEMS
                                            else "connections"] += 1
            return
        self._clean_content(tree)

    def _clean_content(self, tree: etree._ElementTree) -> None:
        rsids = False
        for element in tree.iter():
            if not isinstance(element.tag, str):
                continue
            for attribute in list(element.attrib):
                if "rsid" in _local(attribute):
                    del element.attrib[attribute]
                    rsids = True
                elif attribute == f"{{{NS_XLINK}}}href" and \
                        LOCAL_PATH.match(str(element.attrib[attribute])):
                    element.attrib[attribute] = ""  # a path on the user's computer
                    self.report.removed["file-links"] += 1
                elif attribute == f"{{{NS_XLINK}}}href" and ":" in element.attrib[attribute]:
                    self.report.keep("links")  # a web address; without one, inside the file
        for info in list(tree.iter("{*}change-info")):
            self._blank_people(info)
            self.report.removed["change-authors"] += 1
        # office:annotation; Impress writes officeooo:annotation on slides.
        for note in list(tree.iter("{*}annotation")):
            self._blank_people(note)
            self.report.removed["comment-authors"] += 1
        if rsids:  # counted once for the document: they are many and mean nothing apart
            self.report.removed["revision-ids"] = 1

    @staticmethod
    def _blank_people(element: etree._Element) -> None:
        for creator in element.iter(f"{{{NS_DC}}}creator"):
            creator.text = ""
        for date in element.iter(f"{{{NS_DC}}}date"):
            date.text = ODF_DATE  # required in a change's record: one date for all
        # LibreOffice writes the initials as meta:creator-initials, loext:sender-initials or
        # text:sender-initials.
        for initials in list(element.iter(f"{{{NS_META}}}creator-initials",
                                          "{*}sender-initials")):
            parent = initials.getparent()
            if parent is not None:
                parent.remove(initials)
        for inner in element.iter():
            for attribute in list(inner.attrib):
                if _local(attribute) == "sender-initials":
                    del inner.attrib[attribute]


