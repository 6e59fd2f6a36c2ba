// Removing image metadata in the browser before a file is encrypted, as it streams past: the
// same rules, step for step, as candor_reporter/metadata.py (which the no-JavaScript path and the
// command-line client use). JPEG keeps only what a decoder needs (APP0 "JFIF" without its
// thumbnail, APP14 "Adobe"), losing EXIF with its GPS block, XMP, IPTC, ICC profiles, comments
// and anything after the end marker; PNG keeps its critical chunks and the ancillary chunks
// that affect rendering, losing every other one and anything after IEND.
//
// Documents (PDF, Office Open XML, OpenDocument) are cleaned whole before they are encrypted, by
// app/browser/documents.js (pdf-lib and fflate, bundled into ../vendor/documents.js and loaded only
// when a document is chosen), as candor_reporter/documents.py does: `cleanedFile(file)` gives the
// file to encrypt and the report of what was removed and kept, `describe(file)` what the page says
// about it before anything is sent. Other formats cannot be cleaned and pass through unchanged,
// with a warning. What the reporter reads about cleaning is all here (NOTES and the labels).

import { joinBytes as join } from "./bytes.js";
import { N_, t } from "./text.js";

export const JPEG_MAGIC = Uint8Array.of(0xff, 0xd8, 0xff);
export const PNG_MAGIC = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
export const SNIFF_BYTES = 8;
// Ancillary chunks a PNG keeps: only those that change how it renders (and APNG animation).
// Every other ancillary chunk goes (text, EXIF, times, ICC profiles, C2PA credentials, editors'
// private chunks); critical chunks (upper-case first letter) stay.
const PNG_KEPT = new Set(["tRNS", "gAMA", "cHRM", "sRGB", "sBIT", "bKGD", "pHYs", "hIST",
                          "cICP", "mDCv", "cLLi", "acTL", "fcTL", "fdAT"]);
const pngChunkDropped = (kind) => /^[a-z]/.test(kind) && !PNG_KEPT.has(kind);

/** The file claims to be a JPEG or PNG but is not a well-formed one. */
export class MetadataError extends Error {
  get name() { return "MetadataError"; }
}

function startsWith(bytes, prefix) {
  return bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b);
}

/** "jpeg", "png" or "other", from a file's first bytes (never its name or declared type). */
export function sniff(head) {
  if (startsWith(head, JPEG_MAGIC)) return "jpeg";
  if (startsWith(head, PNG_MAGIC)) return "png";
  return "other";
}

/** A growable byte buffer with cheap removal from the front. */
class Buffer {
  constructor() {
    this.bytes = new Uint8Array(0);
  }
  get length() { return this.bytes.length; }
  push(data) {
    if (!this.bytes.length) {
      this.bytes = data.slice();
      return;
    }
    const joined = new Uint8Array(this.bytes.length + data.length);
    joined.set(this.bytes);
    joined.set(data, this.bytes.length);
    this.bytes = joined;
  }
  take(n) {
    const taken = this.bytes.slice(0, n);
    this.bytes = this.bytes.subarray(n);
    return taken;
  }
  drop(n) { this.bytes = this.bytes.subarray(n); }
  clear() { this.bytes = new Uint8Array(0); }
}

const ascii = (bytes) => String.fromCharCode(...bytes);

class PassThrough {
  update(data) { return data; }
  finish() { return new Uint8Array(0); }
}

class JpegStripper {
  constructor() {
    this.buf = new Buffer();
    this.state = "start"; // start | marker | segment | copy | entropy | trailer
    this.remaining = 0;
    this.out = [];
  }
  update(data) {
    this.buf.push(data);
    this.run();
    return this.flush();
  }
  finish() {
    this.run();
    if (this.state !== "trailer") throw new MetadataError("the JPEG image ends before its end marker");
    return this.flush();
  }
  flush() {
    const out = join(this.out);
    this.out = [];
    return out;
  }
  run() {
    const buf = this.buf;
    for (;;) {
      const b = buf.bytes;
      if (this.state === "start") {
        if (b.length < 2) return;
        if (b[0] !== 0xff || b[1] !== 0xd8) throw new MetadataError("this is not a JPEG image");
        this.out.push(buf.take(2));
        this.state = "marker";
      } else if (this.state === "marker") {
        while (buf.length >= 2 && buf.bytes[0] === 0xff && buf.bytes[1] === 0xff) buf.drop(1);
        if (buf.length < 2) return;
        if (buf.bytes[0] !== 0xff) {
          throw new MetadataError("the JPEG image has data where a marker should be");
        }
        const marker = buf.bytes[1];
        if (marker === 0xd9) { // end of image: nothing after it is kept
          this.out.push(buf.take(2));
          buf.clear();
          this.state = "trailer";
          return;
        }
        if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
          this.out.push(buf.take(2));
          continue;
        }
        this.state = "segment";
      } else if (this.state === "segment") {
        if (b.length < 4) return;
        const marker = b[1];
        const length = (b[2] << 8) | b[3];
        if (length < 2) throw new MetadataError("the JPEG image has a malformed segment");
        if (marker === 0xda) { // start of scan: its header, then entropy-coded data
          this.out.push(buf.take(2));
          this.remaining = length;
          this.state = "copy";
          continue;
        }
        if (b.length < 2 + length) return; // a whole segment (at most 64 KiB) is needed
        this.out.push(kept(marker, buf.take(2 + length)));
        this.state = "marker";
      } else if (this.state === "copy") {
        if (!b.length) return;
        const taken = Math.min(this.remaining, b.length);
        this.out.push(buf.take(taken));
        this.remaining -= taken;
        if (this.remaining === 0) this.state = "entropy";
      } else if (this.state === "entropy") {
        if (!this.scan()) return;
        this.state = "marker";
      } else { // trailer
        buf.clear();
        return;
      }
    }
  }
  /** Copy entropy-coded data up to the next marker; true once one is at the front. */
  scan() {
    const buf = this.buf;
    const b = buf.bytes;
    let at = 0;
    for (;;) {
      at = b.indexOf(0xff, at);
      if (at < 0) {
        this.out.push(buf.take(b.length));
        return false;
      }
      if (at + 1 >= b.length) {
        this.out.push(buf.take(at));
        return false;
      }
      const following = b[at + 1];
      // A stuffed zero, a restart marker or a fill byte belong to the scan.
      if (following === 0x00 || (following >= 0xd0 && following <= 0xd7) || following === 0xff) {
        at += following === 0xff ? 1 : 2;
        continue;
      }
      this.out.push(buf.take(at));
      return true;
    }
  }
}

function kept(marker, segment) {
  const payload = segment.subarray(4);
  if (marker === 0xe0 && ascii(payload.subarray(0, 5)) === "JFIF\0" && payload.length >= 14) {
    // JFIF header without the thumbnail: version, units, densities, 0x0 thumbnail.
    return join([Uint8Array.of(0xff, 0xe0, 0x00, 0x10), payload.subarray(0, 12),
                 Uint8Array.of(0, 0)]);
  }
  if (marker === 0xee && ascii(payload.subarray(0, 5)) === "Adobe" && payload.length <= 16) {
    return segment;
  }
  if ((marker >= 0xe0 && marker <= 0xef) || marker === 0xfe) return new Uint8Array(0);
  return segment;
}

class PngStripper {
  constructor() {
    this.buf = new Buffer();
    this.state = "signature"; // signature | header | copy | skip | iend | trailer
    this.remaining = 0;
    this.first = true;
  }
  update(data) {
    this.buf.push(data);
    return this.run();
  }
  finish() {
    const out = this.run();
    if (this.state !== "trailer") throw new MetadataError("the PNG image ends before its IEND chunk");
    return out;
  }
  run() {
    const buf = this.buf;
    const out = [];
    for (;;) {
      const b = buf.bytes;
      if (this.state === "signature") {
        if (b.length < PNG_MAGIC.length) break;
        if (!startsWith(b, PNG_MAGIC)) throw new MetadataError("this is not a PNG image");
        out.push(buf.take(8));
        this.state = "header";
      } else if (this.state === "header") {
        if (b.length < 8) break;
        const length = ((b[0] << 24) >>> 0) + (b[1] << 16) + (b[2] << 8) + b[3];
        const kind = ascii(b.subarray(4, 8));
        if (length > 2 ** 31 - 1 || !/^[A-Za-z]{4}$/.test(kind)) {
          throw new MetadataError("the PNG image has a malformed chunk");
        }
        if (this.first && kind !== "IHDR") {
          throw new MetadataError("the PNG image does not start with its header chunk");
        }
        this.first = false;
        this.remaining = length + 4; // data and CRC
        if (pngChunkDropped(kind)) {
          this.state = "skip";
          buf.drop(8);
        } else {
          out.push(buf.take(8));
          this.state = kind === "IEND" ? "iend" : "copy";
        }
      } else if (this.state === "copy" || this.state === "skip" || this.state === "iend") {
        if (!b.length && this.remaining) break;
        const taken = Math.min(this.remaining, b.length);
        if (this.state === "skip") buf.drop(taken);
        else out.push(buf.take(taken));
        this.remaining -= taken;
        if (this.remaining === 0) this.state = this.state === "iend" ? "trailer" : "header";
      } else { // trailer: nothing after IEND is kept
        buf.clear();
        break;
      }
    }
    return join(out);
  }
}

function stripperFor(kind) {
  if (kind === "jpeg") return new JpegStripper();
  if (kind === "png") return new PngStripper();
  return new PassThrough();
}

/**
 * Decides from the first bytes, then strips or passes through: `update(bytes)` returns what is
 * ready, `finish()` the rest (throwing MetadataError for a damaged JPEG or PNG).
 */
export class SniffingStripper {
  constructor() {
    this.kind = null;
    this.head = [];
    this.headLength = 0;
    this.inner = null;
  }
  update(data) {
    if (this.inner === null) {
      this.head.push(data);
      this.headLength += data.length;
      if (this.headLength < SNIFF_BYTES) return new Uint8Array(0);
      const head = join(this.head);
      this.head = [];
      this.kind = sniff(head);
      this.inner = stripperFor(this.kind);
      return this.inner.update(head);
    }
    return this.inner.update(data);
  }
  finish() {
    if (this.inner === null) {
      const head = join(this.head);
      this.kind = sniff(head);
      this.inner = stripperFor(this.kind);
      return join([this.inner.update(head), this.inner.finish()]);
    }
    return this.inner.finish();
  }
}

/** A whole small file, cleaned. */
export function strip(data) {
  const stripper = new SniffingStripper();
  return join([stripper.update(data), stripper.finish()]);
}

// --- Documents, and what the page says about each file -------------------------------------

export const NOTES = {
  jpeg: N_("JPEG photo: its location, camera details, dates and embedded text are removed " +
    "before it is encrypted."),
  png: N_("PNG image: its embedded text, dates and camera details are removed before it is " +
    "encrypted."),
  other: N_("This kind of file cannot be cleaned here. Documents in other formats, videos and " +
    "other files can hold your name, your device, dates, locations and earlier versions. Check " +
    "it, or save a copy without them, before sending."),
  document: N_("Cleaned before it is encrypted"),
  refused: N_("This file will not be sent: it looks like a document or an image but could not " +
    "be read as one, so its hidden details cannot be removed"),
  notSent: N_("Not sent: its hidden details could not be removed"),
  unavailable: N_("This document could not be checked yet (the cleaner did not load); it is " +
    "cleaned when you send, or not sent."),
};
// As REMOVED_LABELS and KEPT_LABELS in candor_reporter/documents.py (same keys, same words).
// All in English here, marked for the catalogues: the page shows them through t() (text.js).
export const REMOVED_LABELS = {
  properties: N_("author, company, dates and other document properties"),
  xmp: N_("XMP metadata"),
  "embedded-files": N_("embedded files"),
  scripts: N_("scripts and automatic actions"),
  "application-data": N_("application data"),
  "comment-authors": N_("comment authors and dates"),
  "change-authors": N_("tracked-change authors and dates"),
  people: N_("lists of people who edited or commented"),
  "revision-ids": N_("editing session identifiers"),
  thumbnails: N_("thumbnails"),
  printer: N_("printer settings"),
  template: N_("the template's path, which may name you"),
  "file-location": N_("the folder the file was saved in, which may name you"),
  "file-links": N_("paths to files on your computer in links"),
  "earlier-versions": N_("earlier versions"),
  "image-metadata": N_("image metadata"),
  connections: N_("user names and file paths in data connections and pivot tables"),
  signatures: N_("signers' names and signing details"),
};
export const KEPT_LABELS = {
  "visible-text": N_("the visible text, comments' text and file names inside may still name " +
    "people"),
  macros: N_("macros are kept as they are and may hold names"),
  "embedded-objects": N_("embedded objects (other documents inside) are not cleaned"),
  images: N_("an image inside could not be cleaned"),
  links: N_("links to other files or web addresses (may name you, or tell the sender when " +
    "the file is opened)"),
};

/** "removed: ...; kept: ..." for a document's cleaning report, in the labels' order. */
export function summary(report) {
  const removed = Object.keys(REMOVED_LABELS).filter((key) => report.removed[key] > 0)
    .map((key) => `${t(REMOVED_LABELS[key])} (${report.removed[key]})`).join(", ");
  const kept = report.kept.map((key) => t(KEPT_LABELS[key])).join("; ");
  return t("removed: %(removed)s; kept: %(kept)s",
           { removed: removed || t("nothing was found"), kept });
}

const PDF_MAGIC = Uint8Array.of(0x25, 0x50, 0x44, 0x46, 0x2d); // %PDF-
const ZIP_MAGIC = Uint8Array.of(0x50, 0x4b, 0x03, 0x04);
/** Whether a file's first bytes are a PDF's or a zip's (perhaps an office document). */
export const isDocument = (head) => startsWith(head, PDF_MAGIC) || startsWith(head, ZIP_MAGIC);

let documentsModule = null;
const documents = () => (documentsModule ??= import("../vendor/documents.js").catch((error) => {
  documentsModule = null; // a lost connection: the next file tries again
  throw error;
}));
const stripImage = (data) => (sniff(data) === "other" ? null : strip(data));

/** A whole document, cleaned: `{ data, report }`, or null for a zip that is no office
 * document. Throws MetadataError for a document that cannot be read as its format. */
export async function cleanDocument(bytes) {
  const { cleanDocument: clean, DocumentError } = await documents();
  try {
    return await clean(bytes, stripImage);
  } catch (error) {
    if (error instanceof DocumentError) throw new MetadataError(error.message);
    throw new MetadataError(`the document could not be read (${error?.name ?? "error"})`);
  }
}

/** Whether a cleaned document still opens with the libraries that cleaned it. */
export async function reopens(bytes) {
  return (await documents()).reopens(bytes);
}

const cleaning = new WeakMap();

/**
 * The file to encrypt for `file`, with its report: documents are cleaned whole (once per file,
 * whether the page asked to describe it first or not); other files are themselves (images are
 * cleaned as they stream, by SniffingStripper). Resolves to `{ file, report }` (report null when
 * no document was cleaned); rejects with MetadataError.
 */
export function cleanedFile(file) {
  if (!cleaning.has(file)) {
    const pending = (async () => {
      const head = new Uint8Array(await file.slice(0, SNIFF_BYTES).arrayBuffer());
      if (!isDocument(head)) return { file, report: null }; // no need of the cleaner's code
      const cleaned = await cleanDocument(new Uint8Array(await file.arrayBuffer()));
      if (cleaned === null) return { file, report: null };
      return { file: new File([cleaned.data], file.name, { type: file.type }),
               report: cleaned.report };
    })();
    cleaning.set(file, pending);
    pending.catch((error) => { // a damaged file stays refused; anything else may pass
      if (!(error instanceof MetadataError)) cleaning.delete(file);
    });
  }
  return cleaning.get(file);
}

/** What happens to `file` before it is sent: `{ cleaned, note }` for the page to show. */
export async function describe(file) {
  const kind = sniff(new Uint8Array(await file.slice(0, SNIFF_BYTES).arrayBuffer()));
  if (kind !== "other") return { cleaned: true, note: t(NOTES[kind]) };
  try {
    const { report } = await cleanedFile(file);
    if (report === null) return { cleaned: false, note: t(NOTES.other) };
    return { cleaned: true, note: `${t(NOTES.document)}: ${summary(report)}.` };
  } catch (error) {
    if (!(error instanceof MetadataError)) return { cleaned: false, note: t(NOTES.unavailable) };
    return { cleaned: false, note: `${t(NOTES.refused)} (${error.message}).` };
  }
}
