// Cleaning documents in the browser before they are encrypted: the same rules, step for step, as
// candor_reporter/documents.py (which the command-line client and the no-JavaScript path use),
// on pdf-lib for PDF and fflate for zip packages, plain JavaScript both (no WebAssembly, so it runs
// where the cryptography's noble backend must). Bundled by esbuild into app/static/vendor/
// documents.js (`make vendor`) and loaded by app/static/js/metadata.js, which holds the words a
// reporter reads; this module returns only keys (those of the Python module and the vectors).
//
// `cleanDocument(bytes, stripImage)` resolves to `{ data, report: { kind, removed, kept } }`, or
// to null for a zip that is no office document; it throws DocumentError for a file that claims a
// format but cannot be read as one (it cannot be known to be clean).
import { PDFArray, PDFDict, PDFDocument, PDFName, PDFRawStream, PDFRef, PDFStream } from "pdf-lib";
import { unzipSync, zipSync } from "fflate";

export class DocumentError extends Error {
  get name() { return "DocumentError"; }
}

// As candor_reporter/documents.py.
export const MAX_ENTRIES = 10000;
export const MAX_EXPANDED_BYTES = 1024 ** 3;
export const MAX_XML_BYTES = 64 * 1024 ** 2;
export const MAX_XML_ELEMENTS = 3000000;

const bytesOf = (text) => Uint8Array.from(text, (c) => c.charCodeAt(0));
const PDF_MAGIC = bytesOf("%PDF-");
const ZIP_MAGIC = Uint8Array.of(0x50, 0x4b, 0x03, 0x04);
const startsWith = (bytes, prefix) => prefix.every((b, i) => bytes[i] === b);

export function documentKind(head) {
  if (startsWith(head, PDF_MAGIC)) return "pdf";
  if (startsWith(head, ZIP_MAGIC)) return "zip";
  return null;
}

class Report {
  constructor(kind) {
    this.kind = kind;
    this.removed = {};
    this.kept = ["visible-text"];
  }
  add(key, count = 1) {
    this.removed[key] = (this.removed[key] ?? 0) + Number(count);
  }
  keep(key) {
    if (!this.kept.includes(key)) this.kept.push(key);
  }
}

export async function cleanDocument(bytes, stripImage) {
  const kind = documentKind(bytes);
  if (kind === "pdf") return cleanPdf(bytes, stripImage);
  if (kind === "zip") return cleanPackage(bytes, stripImage);
  return null;
}

/** Whether `bytes` (a cleaned document) still opens with the same libraries. */
export async function reopens(bytes) {
  try {
    if (documentKind(bytes) === "pdf") {
      await PDFDocument.load(bytes, { updateMetadata: false });
      return true;
    }
    const entries = unzipSync(bytes);
    for (const [name, data] of Object.entries(entries)) {
      if (/\.(xml|rels)$/.test(name)) parseXml(data, name);
    }
    return true;
  } catch {
    return false;
  }
}

// --- PDF -------------------------------------------------------------------------------------
const RUNNING_ACTIONS = new Set(["/JavaScript", "/Launch", "/SubmitForm", "/ImportData",
                                 "/Rendition", "/GoToE"]);
const name = (text) => PDFName.of(text);

function countOf(bytes, pattern) {
  let count = 0;
  for (let at = 0; ; at += pattern.length) {
    at = indexOf(bytes, pattern, at);
    if (at < 0) return count;
    count += 1;
  }
}

function indexOf(bytes, pattern, from) {
  for (let at = bytes.indexOf(pattern[0], from); at >= 0 && at <= bytes.length - pattern.length;
    at = bytes.indexOf(pattern[0], at + 1)) {
    if (pattern.every((b, i) => bytes[at + i] === b)) return at;
  }
  return -1;
}

/** Revisions before the last one (as documents.earlier_versions). */
export function earlierVersions(bytes) {
  const ends = countOf(bytes, bytesOf("%%EOF"));
  const linearized = indexOf(bytes.subarray(0, 1024), bytesOf("/Linearized"), 0) >= 0;
  return Math.max(0, ends - 1 - (linearized ? 1 : 0));
}

function nameCount(tree, context, seen = new Set()) {
  const node = context.lookup(tree);
  if (!(node instanceof PDFDict) || seen.has(node)) return 0;
  seen.add(node);
  let count = 0;
  const names = node.lookup(name("Names"));
  if (names instanceof PDFArray) count += Math.floor(names.size() / 2);
  const kids = node.lookup(name("Kids"));
  if (kids instanceof PDFArray) {
    for (const kid of kids.asArray()) count += nameCount(kid, context, seen);
  }
  return count;
}

async function cleanPdf(bytes, stripImage) {
  const report = new Report("pdf");
  report.add("earlier-versions", earlierVersions(bytes));
  let doc;
  try {
    // Loaded even if encrypted, to tell that case apart (pdf-lib's own error for it is a plain
    // Error); an encrypted one is refused below, as its strings cannot be read.
    doc = await PDFDocument.load(bytes, { updateMetadata: false, throwOnInvalidObject: true,
                                          ignoreEncryption: true });
  } catch (error) {
    throw new DocumentError(`the PDF could not be read (${error?.name ?? "error"})`);
  }
  if (doc.isEncrypted) {
    throw new DocumentError("the PDF is protected by a password, so it cannot be cleaned; " +
                            "save a copy without the password");
  }
  const context = doc.context;
  const trailer = context.trailerInfo;
  if (trailer.Info) {
    const info = context.lookup(trailer.Info);
    report.add("properties", info instanceof PDFDict ? info.keys().length : 1);
    trailer.Info = undefined;
  }
  trailer.ID = undefined; // its first half identifies the file as its author's machine made it
  const root = context.lookup(trailer.Root);
  if (!(root instanceof PDFDict)) throw new DocumentError("the PDF could not be read (it has no catalog)");
  for (const key of ["OpenAction", "AA"]) {
    if (root.has(name(key))) {
      root.delete(name(key));
      report.add("scripts");
    }
  }
  const embedded = { streams: new Set(), other: 0 };
  if (root.has(name("Collection"))) { // a portfolio's view of its embedded files
    root.delete(name("Collection"));
    embedded.other += 1;
  }
  const names = root.lookup(name("Names"));
  if (names instanceof PDFDict) {
    const files = names.get(name("EmbeddedFiles"));
    if (files !== undefined) {
      embedded.other += Math.max(1, nameCount(files, context));
      names.delete(name("EmbeddedFiles"));
    }
    const scripts = names.get(name("JavaScript"));
    if (scripts !== undefined) {
      report.add("scripts", Math.max(1, nameCount(scripts, context)));
      names.delete(name("JavaScript"));
    }
  }
  const form = root.lookup(name("AcroForm"));
  if (form instanceof PDFDict && form.has(name("XFA"))) {
    form.delete(name("XFA")); // the form as XML, which may hold its filler's details
    report.add("application-data");
  }
  for (const [ref, object] of context.enumerateIndirectObjects()) {
    const dict = object instanceof PDFStream ? object.dict : object;
    if (!(dict instanceof PDFDict)) continue;
    cleanPdfDictionary(dict, report, embedded, context);
    const annotations = dict.get(name("Annots"));
    if (annotations instanceof PDFArray) {
      for (const annotation of annotations.asArray()) { // written in the array, not as objects
        if (annotation instanceof PDFDict) cleanPdfDictionary(annotation, report, embedded, context);
      }
    }
    if (object instanceof PDFRawStream && valueText(dict.get(name("Subtype"))) === "/Image") {
      cleanPdfJpeg(ref, object, report, context, stripImage);
    }
  }
  // Each embedded file once, however many file specifications, name trees and associated file
  // lists reached it.
  report.add("embedded-files", embedded.streams.size || embedded.other);
  dropUnreachable(context, trailer.Root);
  try {
    const data = await doc.save({ addDefaultPage: false, updateFieldAppearances: false,
                                  useObjectStreams: false });
    return { data, report: plain(report) };
  } catch (error) {
    throw new DocumentError(`the PDF could not be written anew (${error?.name ?? "error"})`);
  }
}

const valueText = (value) => (value === undefined ? "" : value.toString());

/** Whether an action, or one it chains to (/Next), runs something (as documents._runs). */
function runs(action, context, seen = new Set(), depth = 0) {
  if (depth > 100) return true; // a chain longer than any real one: taken for what it may hide
  if (action instanceof PDFRef) {
    if (seen.has(action.toString())) return false;
    seen.add(action.toString());
    return runs(context.lookup(action), context, seen, depth);
  }
  if (action instanceof PDFArray) {
    return action.asArray().some((item) => runs(item, context, seen, depth + 1));
  }
  if (!(action instanceof PDFDict)) return false;
  if (RUNNING_ACTIONS.has(valueText(action.get(name("S"))))) return true;
  const next = action.get(name("Next"));
  return next !== undefined && runs(next, context, seen, depth + 1);
}

// Annotations whose /T is no author: a form field's name, a pop-up's (as in documents.py).
const UNAUTHORED = new Set(["/Widget", "/Popup", "/Link"]);
const SIGNER_KEYS = ["Name", "M", "ContactInfo", "Location", "Prop_Build"];

function cleanPdfDictionary(dict, report, embedded, context) {
  for (const [key, what] of [["Metadata", "xmp"], ["PieceInfo", "application-data"],
                             ["LastModified", "application-data"], ["AA", "scripts"]]) {
    if (dict.has(name(key))) {
      dict.delete(name(key));
      report.add(what);
    }
  }
  if (dict.has(name("AF"))) { // associated files (PDF/A-3, Factur-X): embedded files too
    dict.delete(name("AF"));
    embedded.other += 1;
  }
  const files = dict.lookup(name("EF"));
  if (files instanceof PDFDict) {
    for (const [, stream] of files.entries()) {
      if (stream instanceof PDFRef) embedded.streams.add(stream.toString());
    }
    dict.delete(name("EF"));
    embedded.other += 1;
  }
  if (dict.has(name("A")) && runs(dict.get(name("A")), context)) {
    dict.delete(name("A"));
    report.add("scripts");
  }
  const kind = valueText(dict.get(name("Type")));
  if (kind === "/Sig" || (dict.has(name("ByteRange")) && dict.has(name("Filter")))) {
    let signed = false;
    for (const key of SIGNER_KEYS) {
      if (dict.has(name(key))) {
        dict.delete(name(key));
        signed = true;
      }
    }
    if (signed) report.add("signatures");
  }
  if ((kind === "/Thread" || dict.has(name("F"))) && dict.lookup(name("I")) instanceof PDFDict) {
    dict.delete(name("I")); // an article thread's title, author, dates
    report.add("properties");
  }
  const annotation = kind === "/Annot" || (dict.has(name("Subtype")) && dict.has(name("Rect")));
  if (annotation) {
    const subtype = valueText(dict.get(name("Subtype")));
    const unauthored = UNAUTHORED.has(subtype);
    let dated = false;
    for (const key of unauthored ? ["M", "CreationDate"] : ["T", "M", "CreationDate"]) {
      if (dict.has(name(key))) {
        dict.delete(name(key));
        dated = true;
      }
    }
    if (dated && !unauthored) report.add("comment-authors");
    if (subtype === "/FileAttachment" && dict.has(name("FS"))) {
      dict.delete(name("FS"));
      embedded.other += 1;
    }
  }
}

/** A JPEG image (DCTDecode, its only filter) through the image cleaner, as
 * documents._clean_pdf_jpeg. */
function cleanPdfJpeg(ref, stream, report, context, stripImage) {
  let filters = stream.dict.lookup(name("Filter"));
  if (filters instanceof PDFArray && filters.size() === 1) filters = context.lookup(filters.get(0));
  if (valueText(filters) !== "/DCTDecode") return;
  const data = stream.contents;
  if (!(data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff)) return;
  let cleaned;
  try {
    cleaned = stripImage(data);
  } catch {
    report.keep("images");
    return;
  }
  if (cleaned === null) return;
  if (cleaned.length !== data.length || cleaned.some((b, i) => b !== data[i])) {
    stream.dict.set(name("Filter"), name("DCTDecode"));
    context.assign(ref, PDFRawStream.of(stream.dict, cleaned));
    report.add("image-metadata");
  }
}

/** Delete every object the catalog does not reach: pdf-lib writes all it parsed, which would
 * keep what was removed above and the objects of earlier revisions. */
function dropUnreachable(context, rootRef) {
  const reached = new Set();
  const stack = [rootRef];
  while (stack.length) {
    const item = stack.pop();
    if (item instanceof PDFRef) {
      const key = item.toString();
      if (reached.has(key)) continue;
      reached.add(key);
      const target = context.lookup(item);
      if (target !== undefined) stack.push(target);
    } else if (item instanceof PDFStream) {
      stack.push(item.dict);
    } else if (item instanceof PDFDict) {
      for (const [, value] of item.entries()) stack.push(value);
    } else if (item instanceof PDFArray) {
      stack.push(...item.asArray());
    }
  }
  for (const [ref] of context.enumerateIndirectObjects()) {
    if (!reached.has(ref.toString())) context.delete(ref);
  }
}

const plain = (report) => ({ kind: report.kind, removed: report.removed, kept: report.kept });

// --- Zip packages ------------------------------------------------------------------------------
const NS_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";
const NS_REL = "http://schemas.openxmlformats.org/package/2006/relationships";
const NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const NS_DC = "http://purl.org/dc/elements/1.1/";
const NS_META = "urn:oasis:names:tc:opendocument:xmlns:meta:1.0";
const NS_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0";
const NS_CONFIG = "urn:oasis:names:tc:opendocument:xmlns:config:1.0";
const NS_MANIFEST = "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0";
const ODF_MIME = "application/vnd.oasis.opendocument.";
const ODF_DATE = "1970-01-01T00:00:00";
const OOXML_PROPERTIES = ["docProps/core.xml", "docProps/app.xml", "docProps/custom.xml"];
const PROPERTIES_TYPES = ["/metadata/core-properties", "/extended-properties",
                          "/custom-properties"];
// Word, Excel and PowerPoint main parts (as documents.OFFICE_MAIN): other Open Packaging files
// (Visio, XPS, 3MF) are not cleaned and keep the warning for other formats.
const OFFICE_MAIN = /vnd\.(openxmlformats-officedocument\.(wordprocessingml|spreadsheetml|presentationml)|ms-(word|excel|powerpoint))\.[a-z.]*main\+xml/i;
const OTHER_IMAGES = /\.(gif|tif|tiff|bmp|webp|heic|heif|emf|wmf|emz|wmz|svg|jxr|wdp)$/;
const OTHER_IMAGE_MAGIC = [bytesOf("GIF8"), Uint8Array.of(0x49, 0x49, 0x2a, 0), Uint8Array.of(0x4d, 0x4d, 0, 0x2a),
                           bytesOf("BM")];
const otherImage = (entry, data) => OTHER_IMAGES.test(entry.toLowerCase()) ||
  OTHER_IMAGE_MAGIC.some((magic) => startsWith(data, Array.from(magic)));
const NS_XLINK = "http://www.w3.org/1999/xlink";
// A link's target that is a path on the user's computer or network (as documents.LOCAL_PATH).
const LOCAL_PATH = /^\s*(file:|\\\\|[a-z]:[\\/])/i;
const ODF_DATABASE_ITEMS = new Set(["CurrentDatabaseDataSource", "CurrentDatabaseCommand",
                                    "CurrentDatabaseCommandType"]);
// Applied to Word's own attributes and to the parts that list people, never elsewhere (a
// table's displayName is its name), as in the Python module.
const PERSON_ATTRIBUTES = new Set(["author", "initials", "userId", "providerId", "userName",
                                   "displayName", "refreshedBy"]);
const DATE_ATTRIBUTES = new Set(["date", "dateUtc", "dT", "dt", "created", "refreshedDate",
                                 "refreshedDateIso"]);
const FIXED_DATE = "1970-01-01T00:00:00"; // for a required date: one for all
const PEOPLE_PARTS = ["comment", "people", "person", "author", "revision", "pivotcache"];
const CONNECTION_PATHS = new Set(["odcFile", "sourceFile"]);
const CONNECTION_SECRETS =
  /((?:^|;)\s*(?:user id|uid|user|password|pwd|data source|dbq|workstation id|wsid)\s*=)[^;]*/gi;
const CHANGE_ELEMENTS = new Set([
  "ins", "del", "moveFrom", "moveTo", "rPrChange", "pPrChange", "sectPrChange", "tblPrChange",
  "trPrChange", "tcPrChange", "tblGridChange", "numberingChange", "cellIns", "cellDel",
  "cellMerge", "customXmlInsRangeStart", "customXmlDelRangeStart",
  "customXmlMoveFromRangeStart", "customXmlMoveToRangeStart"]);
const ODF_DROPPED = [["Thumbnails/", "thumbnails"], ["Versions/", "earlier-versions"],
                     ["VersionList.xml", "earlier-versions"],
                     ["META-INF/documentsignatures.xml", "signatures"],
                     ["META-INF/macrosignatures.xml", "signatures"]];
const ODF_PRINTER_ITEMS = new Set(["PrinterName", "PrinterSetup", "PrinterPaperFromSetup"]);
const ZIP_DATE = new Date(1980, 0, 1); // the earliest date a zip entry can hold
const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';

function parseXml(data, entry) {
  if (data.length > MAX_XML_BYTES) throw new DocumentError(`${entry} is too large to be cleaned`);
  // Counted before parsing, as documents.parse_xml: each element has a "<" not followed by "/".
  let opened = 0;
  for (let at = data.indexOf(0x3c); at >= 0; at = data.indexOf(0x3c, at + 1)) {
    if (data[at + 1] !== 0x2f) opened += 1;
  }
  if (opened > MAX_XML_ELEMENTS) {
    throw new DocumentError(`${entry} has too many elements to be cleaned`);
  }
  let text;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(data);
  } catch {
    throw new DocumentError(`${entry} is not well-formed XML`);
  }
  if (/<!DOCTYPE/i.test(text)) {
    throw new DocumentError(`${entry} declares a DTD, which office documents never do`);
  }
  const doc = new DOMParser().parseFromString(text, "application/xml");
  if (doc.getElementsByTagName("parsererror").length) {
    throw new DocumentError(`${entry} is not well-formed XML`);
  }
  return doc;
}

// Chromium's serializer writes the declaration the document had, without "standalone".
const serializeXml = (doc) => new TextEncoder().encode(
  XML_DECLARATION + new XMLSerializer().serializeToString(doc).replace(/^<\?xml[^?]*\?>\s*/, ""));

const elements = (doc, namespace, local) =>
  Array.from(namespace === "*" ? doc.getElementsByTagNameNS("*", local)
                               : doc.getElementsByTagNameNS(namespace, local));
const remove = (node) => node.parentNode?.removeChild(node);

const DAMAGED = "the document's zip structure is damaged";

function lastIndexOf(bytes, pattern, before = bytes.length) {
  for (let at = before - pattern.length; at >= 0; at--) {
    if (pattern.every((b, i) => bytes[at + i] === b)) return at;
  }
  return -1;
}

/** How many entries a zip's end record says it has (as documents.declared_entries). */
export function declaredEntries(bytes) {
  const tail = bytes.subarray(Math.max(0, bytes.length - 22 - 65535));
  const at = lastIndexOf(tail, [0x50, 0x4b, 0x05, 0x06]);
  if (at < 0 || tail.length < at + 22) throw new DocumentError(DAMAGED);
  let count = tail[at + 10] | (tail[at + 11] << 8);
  if (count === 0xffff) { // Zip64: the count is in the Zip64 end record, before this one
    const at64 = lastIndexOf(tail, [0x50, 0x4b, 0x06, 0x06], at);
    if (at64 < 0 || at64 + 40 > at) throw new DocumentError(DAMAGED);
    count = Number(new DataView(tail.buffer, tail.byteOffset + at64 + 32, 8)
      .getBigUint64(0, true));
  }
  return count;
}

function unzip(bytes, filter) {
  try {
    return unzipSync(bytes, { filter });
  } catch (error) {
    if (error instanceof DocumentError) throw error;
    throw new DocumentError(DAMAGED);
  }
}

/** The entries' names in order, and "ooxml", "odf" or null (not an office document). */
function packageKind(bytes) {
  const names = [];
  // A first pass reads the directory only (and the "mimetype" entry): an archive is sent as
  // it is, so none of it is expanded.
  const head = unzip(bytes, (file) => {
    names.push(file.name);
    return (names.length === 1 && file.name === "mimetype" && file.originalSize < 100) ||
      (file.name === "[Content_Types].xml" && file.originalSize <= MAX_XML_BYTES);
  });
  if (names.includes("[Content_Types].xml")) {
    const types = head["[Content_Types].xml"];
    const office = types !== undefined && OFFICE_MAIN.test(new TextDecoder().decode(types));
    return { names, kind: office ? "ooxml" : null };
  }
  if (head.mimetype && new TextDecoder().decode(head.mimetype).startsWith(ODF_MIME)) {
    return { names, kind: "odf" };
  }
  return { names, kind: null };
}

function readPackage(bytes) {
  const seen = new Set();
  let declared = 0;
  const entries = unzip(bytes, (file) => {
    if (seen.has(file.name)) throw new DocumentError("the document names one part twice");
    seen.add(file.name);
    declared += file.originalSize; // each is expanded into a buffer of its declared size
    if (declared > MAX_EXPANDED_BYTES) {
      throw new DocumentError("the document expands to more than " +
        `${(MAX_EXPANDED_BYTES / 1024 ** 2).toLocaleString("en")} MiB`);
    }
    return true;
  });
  return entries;
}

async function cleanPackage(bytes, stripImage) {
  // More entries than an office document ever has: an archive, sent as it is.
  if (declaredEntries(bytes) > MAX_ENTRIES) return null;
  const { names, kind } = packageKind(bytes);
  if (kind === null) return null;
  const entries = readPackage(bytes);
  const cleaner = kind === "ooxml" ? new OoxmlCleaner(names, entries)
                                   : new OdfCleaner(names, entries);
  cleaner.stripImage = stripImage;
  return { data: cleaner.run(), report: plain(cleaner.report) };
}

class PackageCleaner {
  constructor(kind, names, entries) {
    this.names = names;
    this.entries = entries;
    this.report = new Report(kind);
    this.dropped = new Set();
    this.prepared = new Map(); // parts cleaned ahead, by name
  }
  isXml(entry) { return /\.(xml|rels)$/.test(entry); }
  prepare() {}
  run() {
    for (const entry of this.names) {
      const key = this.drops(entry);
      if (key !== null) {
        this.dropped.add(entry);
        this.report.add(key);
      }
    }
    this.prepare();
    const files = {};
    for (const entry of this.names) {
      if (this.dropped.has(entry)) continue;
      let data = this.entries[entry];
      if (entry.endsWith("/")) {
        data = new Uint8Array(0);
      } else if (this.prepared.has(entry)) {
        data = this.prepared.get(entry);
      } else if (this.isXml(entry)) {
        const doc = parseXml(data, entry);
        this.cleanXml(entry, doc);
        data = serializeXml(doc);
      } else { // an image is known by its bytes, whatever its name says
        data = this.image(entry, data);
      }
      files[entry] = [data, { level: entry === "mimetype" ? 0 : 6, mtime: ZIP_DATE }];
    }
    return zipSync(files, { mtime: ZIP_DATE });
  }
  image(entry, data) {
    let cleaned;
    try {
      cleaned = this.stripImage(data);
    } catch {
      this.report.keep("images");
      return data;
    }
    if (cleaned === null) { // not a JPEG or PNG
      if (otherImage(entry, data)) this.report.keep("images");
      return data;
    }
    if (cleaned.length !== data.length || cleaned.some((b, i) => b !== data[i])) {
      this.report.add("image-metadata");
    }
    return cleaned;
  }
  removeReferences(doc, local, attribute, namespace = null) {
    for (const element of elements(doc, "*", local)) {
      const target = (namespace ? element.getAttributeNS(namespace, attribute)
                                : element.getAttribute(attribute)) ?? "";
      if (this.dropped.has(target.replace(/^\/+/, ""))) remove(element);
    }
  }
}

function resolveTarget(folder, target) {
  if (target.startsWith("/")) return target.replace(/^\/+/, "");
  const parts = folder.split("/").filter(Boolean);
  for (const piece of target.split("/")) {
    if (piece === "..") parts.pop();
    else if (piece !== "" && piece !== ".") parts.push(piece);
  }
  return parts.join("/");
}

class OoxmlCleaner extends PackageCleaner {
  constructor(names, entries) {
    super("ooxml", names, entries);
    this.removedIds = new Map();
  }
  drops(entry) {
    const lowered = entry.toLowerCase();
    if (lowered.endsWith("vbaproject.bin")) this.report.keep("macros");
    if (lowered.includes("/embeddings/")) this.report.keep("embedded-objects");
    if (lowered.startsWith("docprops/thumbnail.")) return "thumbnails";
    if (lowered.includes("/printersettings/")) return "printer";
    if (lowered.startsWith("_xmlsignatures/")) return "signatures";
    return null;
  }
  // Relationships to a dropped part go, and so do the references to their ids in the part that
  // holds them, whichever comes first in the zip: so every relationship part is cleaned first.
  prepare() {
    this.propertiesParts = new Set(OOXML_PROPERTIES.map((part) => part.toLowerCase()));
    for (const entry of this.names) {
      if (entry.endsWith(".rels") && !this.dropped.has(entry)) {
        const doc = parseXml(this.entries[entry], entry);
        this.cleanRelationships(entry, doc);
        this.prepared.set(entry, serializeXml(doc));
      }
    }
  }
  cleanXml(entry, doc) {
    if (entry === "[Content_Types].xml") {
      this.removeReferences(doc, "Override", "PartName");
    } else if (this.propertiesParts.has(entry.toLowerCase())) {
      const root = doc.documentElement;
      for (const child of Array.from(root.childNodes)) {
        if (child.nodeType === 1) this.report.add("properties");
        root.removeChild(child);
      }
    } else {
      this.cleanPeople(entry, doc);
    }
  }
  isXml(entry) {
    return super.isXml(entry) || this.propertiesParts.has(entry.toLowerCase());
  }
  cleanRelationships(entry, doc) {
    const at = entry.lastIndexOf("_rels/");
    const folder = entry.slice(0, at);
    const owner = folder + entry.slice(at + 6).replace(/\.rels$/, "");
    const removed = new Set();
    for (const element of elements(doc, NS_REL, "Relationship")) {
      // A document's template is named by its path, which holds the user's name.
      const kind = (element.getAttribute("Type") ?? "").toLowerCase();
      if (entry.toLowerCase() === "_rels/.rels" && PROPERTIES_TYPES.some((t) => kind.endsWith(t))) {
        // The properties may be stored under any name (.NET's packaging writes
        // package/services/metadata/core-properties/<id>.psmdcp): the type says.
        this.propertiesParts.add(
          resolveTarget("", element.getAttribute("Target") ?? "").toLowerCase());
      }
      const template = kind.endsWith("/attachedtemplate");
      if (element.getAttribute("TargetMode") === "External" && !template) {
        if (LOCAL_PATH.test(element.getAttribute("Target") ?? "")) {
          element.setAttribute("Target", ""); // a path on the user's computer: names them
          this.report.add("file-links");
        } else {
          this.report.keep("links");
        }
        continue;
      }
      if (template) this.report.add("template");
      const target = resolveTarget(folder, element.getAttribute("Target") ?? "");
      if (template || this.dropped.has(target)) {
        removed.add(element.getAttribute("Id") ?? "");
        remove(element);
      }
    }
    this.removedIds.set(owner, removed);
  }
  cleanPeople(entry, doc) {
    const removedIds = this.removedIds.get(entry) ?? new Set();
    const lowered = entry.toLowerCase();
    const revisions = lowered.startsWith("xl/revisions/");
    const pivot = lowered.includes("pivotcache");
    const people = entry === "word/people.xml" || entry.startsWith("xl/persons/") ||
      entry.startsWith("ppt/authors") || revisions;
    const namesPeople = PEOPLE_PARTS.some((word) => lowered.includes(word));
    const connectionsPart = lowered === "xl/connections.xml";
    let connections = 0;
    let anyone = false;
    let rsids = false;
    let changes = 0;
    const commented = new Set();
    const unreferenced = [];
    for (const element of Array.from(doc.getElementsByTagName("*"))) {
      const local = element.localName;
      let named = false;
      for (const attribute of Array.from(element.attributes)) {
        const attributeLocal = attribute.localName;
        const personal = namesPeople || attribute.namespaceURI === NS_W;
        if (personal && PERSON_ATTRIBUTES.has(attributeLocal) && attribute.value) {
          attribute.value = "";
          named = true;
        } else if (personal && DATE_ATTRIBUTES.has(attributeLocal)) {
          element.removeAttributeNode(attribute);
          named = true;
        } else if (revisions && attributeLocal === "dateTime") {
          attribute.value = FIXED_DATE; // required
          named = true;
        } else if (connectionsPart && CONNECTION_PATHS.has(attributeLocal)) {
          element.removeAttributeNode(attribute);
          connections += 1;
        } else if (connectionsPart && attributeLocal === "connection") {
          const scrubbed = attribute.value.replace(CONNECTION_SECRETS, "$1");
          if (scrubbed !== attribute.value) {
            attribute.value = scrubbed;
            connections += 1;
          }
        } else if (attributeLocal.startsWith("rsid") && attribute.namespaceURI === NS_W) {
          element.removeAttributeNode(attribute);
          rsids = true;
        } else if (attribute.namespaceURI === NS_R && removedIds.has(attribute.value)) {
          element.removeAttributeNode(attribute);
          if (local === "attachedTemplate") unreferenced.push(element); // nothing left of it
        }
      }
      if ((entry === "ppt/commentAuthors.xml" && local === "cmAuthor") ||
          (entry.startsWith("ppt/authors") && local === "author")) {
        element.setAttribute("name", "");
        element.setAttribute("initials", "");
        named = true;
      }
      if (revisions && local === "userInfo") {
        element.setAttribute("name", "");
        named = true;
      }
      if (local === "presenceInfo") named = true;
      anyone = anyone || named;
      if (named && CHANGE_ELEMENTS.has(local)) changes += 1;
      else if (named && !people) commented.add(element);
    }
    for (const element of [...elements(doc, NS_W, "rsids"), ...elements(doc, "*", "presenceInfo"),
                           ...unreferenced]) {
      if (element.localName === "rsids") rsids = true;
      remove(element);
    }
    if (lowered === "word/settings.xml") {
      // Word's document variables (set by macros and add-ins) and the document's ids.
      for (const element of [...elements(doc, NS_W, "docVars"), ...elements(doc, "*", "docId")]) {
        remove(element);
        if (element.localName === "docId") rsids = true;
        else this.report.add("application-data");
      }
    }
    for (const path of elements(doc, "*", "absPath")) this.removeSavedLocation(path);
    if (entry.startsWith("xl/comments")) {
      for (const author of elements(doc, "*", "author")) {
        if (author.textContent) {
          author.textContent = "";
          commented.add(author);
        }
      }
    }
    if (changes) this.report.add("change-authors", changes);
    if (connections + (pivot && anyone)) {
      this.report.add("connections", connections + (pivot && anyone));
    }
    if (people) {
      if (anyone) this.report.add("people");
    } else if (!pivot && commented.size) {
      this.report.add("comment-authors", commented.size);
    }
    if (rsids && !this.report.removed["revision-ids"]) this.report.add("revision-ids");
  }
  /** Excel writes the folder it saved to (x15ac:absPath), inside a markup-compatibility choice
   * of its own: that choice goes whole. */
  removeSavedLocation(path) {
    const choice = path.parentNode;
    const alternate = choice?.parentNode;
    if (choice?.localName === "Choice" && alternate?.localName === "AlternateContent" &&
        choice.children.length === 1 && alternate.children.length === 1) {
      remove(alternate);
    } else {
      remove(path);
    }
    this.report.add("file-location");
  }
}

class OdfCleaner extends PackageCleaner {
  constructor(names, entries) {
    super("odf", names, entries);
  }
  drops(entry) {
    if (entry.startsWith("Basic/") || entry.startsWith("Scripts/")) this.report.keep("macros");
    if (entry.startsWith("Object ") || entry.startsWith("ObjectReplacements/")) {
      this.report.keep("embedded-objects");
    }
    for (const [prefix, key] of ODF_DROPPED) if (entry.startsWith(prefix)) return key;
    return null;
  }
  isXml(entry) {
    return entry.endsWith(".xml") && !entry.startsWith("Basic/") && !entry.startsWith("Scripts/");
  }
  cleanXml(entry, doc) {
    if (entry === "META-INF/manifest.xml") {
      this.removeReferences(doc, "file-entry", "full-path", NS_MANIFEST);
    } else if (entry === "meta.xml") {
      for (const meta of elements(doc, NS_OFFICE, "meta")) {
        for (const child of Array.from(meta.childNodes)) {
          if (child.nodeType === 1) this.report.add("properties");
          meta.removeChild(child);
        }
      }
    } else if (entry === "settings.xml") {
      for (const item of elements(doc, NS_CONFIG, "config-item")) {
        const itemName = item.getAttributeNS(NS_CONFIG, "name");
        if (ODF_PRINTER_ITEMS.has(itemName) || ODF_DATABASE_ITEMS.has(itemName)) {
          remove(item);
          this.report.add(ODF_PRINTER_ITEMS.has(itemName) ? "printer" : "connections");
        }
      }
    } else {
      this.cleanContent(doc);
    }
  }
  cleanContent(doc) {
    let rsids = false;
    for (const element of Array.from(doc.getElementsByTagName("*"))) {
      for (const attribute of Array.from(element.attributes)) {
        if (attribute.localName.includes("rsid")) {
          element.removeAttributeNode(attribute);
          rsids = true;
        } else if (attribute.namespaceURI === NS_XLINK && attribute.localName === "href" &&
                   LOCAL_PATH.test(attribute.value)) {
          attribute.value = ""; // a path on the user's computer
          this.report.add("file-links");
        } else if (attribute.namespaceURI === NS_XLINK && attribute.localName === "href" &&
                   attribute.value.includes(":")) {
          this.report.keep("links"); // a web address; without one, inside the file
        }
      }
    }
    for (const info of elements(doc, "*", "change-info")) {
      blankPeople(info);
      this.report.add("change-authors");
    }
    // office:annotation; Impress writes officeooo:annotation on slides.
    for (const note of elements(doc, "*", "annotation")) {
      blankPeople(note);
      this.report.add("comment-authors");
    }
    if (rsids && !this.report.removed["revision-ids"]) this.report.add("revision-ids");
  }
}

function blankPeople(element) {
  for (const creator of Array.from(element.getElementsByTagNameNS(NS_DC, "creator"))) {
    creator.textContent = "";
  }
  for (const date of Array.from(element.getElementsByTagNameNS(NS_DC, "date"))) {
    date.textContent = ODF_DATE; // required in a change's record: one date for all
  }
  // LibreOffice writes the initials as meta:creator-initials, loext:sender-initials or
  // text:sender-initials.
  for (const initials of [...element.getElementsByTagNameNS(NS_META, "creator-initials"),
                          ...element.getElementsByTagNameNS("*", "sender-initials")]) {
    remove(initials);
  }
  for (const inner of [element, ...element.getElementsByTagName("*")]) {
    for (const attribute of Array.from(inner.attributes)) {
      if (attribute.localName === "sender-initials") inner.removeAttributeNode(attribute);
    }
  }
}
