// Two rules every client applies exactly as candor_reporter/protocol.py does, held to the same
// vectors (tests/vectors/rules/, run by Python and by Chromium): who reads a report, worked out
// from the roles the organisation signed, and the file name kept for an attachment. No DOM, no
// cryptography, no requests.
import { N_, t } from "./text.js";

/** No signed recipient can read a report on this route; `message` is meant for the reporter. */
export class NoReaders extends Error {
  constructor(message, reason) {
    super(message);
    this.name = "NoReaders";
    this.reason = reason; // "no_board_for_rso_report" or "no_readers"
  }
}

// As protocol.NO_BOARD_FOR_RSO_REPORT (RSP v3 §4): such a report reaches the Board or nobody.
// In English, as the server's; pages show them through t() (text.js).
export const NO_BOARD_FOR_RSO_REPORT = N_("A report that concerns the RSO must reach a member " +
  "of the Board, and no Board member can receive reports here yet (none has a key signed by " +
  "the organisation), so nothing was sent. Report it outside the lab instead, through one of " +
  "the outside channels listed on the start page.");
export const NO_READERS = N_("No one can receive a report on this route right now. Choose " +
  "another route, or report outside the lab (see the start page).");

/**
 * Who reads a report (SPEC.md section 14, as `protocol.expected_readers`): the route's role
 * holders now, with the Board and without any RSO when the report concerns the RSO; the Board
 * on escalation otherwise; nobody named as concerned, ever. `entries` are verified directory
 * entries ({staffId, roles, ...}); both lists come back ordered by staff id.
 */
export function expectedReaders(entries, route, concernsRso, concernedIds) {
  const leftOut = new Set(concernedIds.map(String));
  const eligible = entries.filter((entry) => !leftOut.has(String(entry.staffId)))
    .sort((a, b) => Number(a.staffId) - Number(b.staffId));
  const wanted = new Set(concernsRso ? [route, "board"] : [route]);
  const now = eligible.filter((entry) => entry.roles.some((role) => wanted.has(role)) &&
    !(concernsRso && entry.roles.includes("rso")));
  if (concernsRso && !now.some((entry) => entry.roles.includes("board"))) {
    throw new NoReaders(NO_BOARD_FOR_RSO_REPORT, "no_board_for_rso_report");
  }
  if (!now.length) throw new NoReaders(NO_READERS, "no_readers");
  const onEscalation = wanted.has("board") ? [] :
    eligible.filter((entry) => entry.roles.includes("board") && !now.includes(entry));
  return { now, onEscalation };
}

/**
 * Who an SB 53 disclosure's quarterly summary is sealed to (as `protocol.sb53_sharers` and the
 * server's `officer_shares.sharing_rule`): every officer or director in the verified entries,
 * minus anyone named as concerned, minus every RSO when the report concerns the RSO; ordered by
 * staff id. Never a reader of the report for it.
 */
export function sb53Sharers(entries, concernsRso, concernedIds) {
  const leftOut = new Set(concernedIds.map(String));
  return entries.filter((entry) => entry.roles.includes("officer") &&
    !leftOut.has(String(entry.staffId)) && !(concernsRso && entry.roles.includes("rso")))
    .sort((a, b) => Number(a.staffId) - Number(b.staffId));
}

export const MAX_FILE_NAME = 255;

/**
 * A file name as it is stored (encrypted) and offered back (as `protocol.safe_file_name`): the
 * last path component; control and format characters (bidirectional overrides can show
 * "report.exe" as "report.pdf") become "_"; no surrounding spaces or leading dots; at most 255
 * characters (code points); "attachment" if nothing is left.
 */
export function safeFileName(name) {
  const base = [...String(name).split(/[/\\]/).pop().replace(/[\p{Cc}\p{Cf}]/gu, "_")]
    .join("").trim().replace(/^\.+/, "");
  return [...base].slice(0, MAX_FILE_NAME).join("") || "attachment";
}

// --- sizes ---------------------------------------------------------------------------------
const CHUNK_SIZE = 64 * 1024; // as SPEC.md 8.9: the plaintext of one full frame

export function formatBytes(size) {
  if (size < 1024) return `${size} bytes`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KB`;
  if (size < 1024 ** 3) return `${(size / 1024 ** 2).toFixed(1)} MB`;
  return `${(size / 1024 ** 3).toFixed(2)} GB`;
}

/**
 * What can be said of an attachment's size before its stream is decrypted: the size its FILE_NAME
 * record states (SPEC.md 8.8.1), or, for an attachment sent before sizes were recorded (`size`
 * null), only "up to" the capacity of its frames, since the stream hides the exact length.
 */
export function sizeBeforeDecrypting(frames, size = null) {
  if (Number.isSafeInteger(size) && size >= 0) return formatBytes(size);
  return t("up to %(size)s", { size: formatBytes(Math.max(1, frames) * CHUNK_SIZE) });
}

/**
 * What to tell a recipient once a stream has decrypted to `decrypted` bytes: a sentence when the
 * size its sender stated differs (a faulty or dishonest sending program), else null.
 */
export function sizeMismatch(stated, decrypted) {
  if (stated === null || stated === undefined || stated === decrypted) return null;
  return t("Its sender's program stated %(stated)s, but the file is %(decrypted)s: the size " +
    "shown before downloading was wrong.",
  { stated: formatBytes(stated), decrypted: formatBytes(decrypted) });
}
