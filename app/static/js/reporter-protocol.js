// The reporter's side of the protocol in the browser, without the page: building an encrypted
// report, the anti-abuse puzzle, sending files, and opening a case with its codename. It does,
// step for step, what candor_reporter/protocol.py does: the server receives ciphertext, the
// choices it needs for routing, and the codename's lookup identifier.
//
// Nothing here touches the DOM; reporter.js is the page, and puts decrypted text in it through
// textContent only.
import * as candor from "./candor-crypto.js";
import { b64, joinBytes, unb64 } from "./bytes.js";
import { csrfToken, getJson, postJson, Refusal, UNREACHABLE } from "./http.js";
import { solveProofOfWork } from "./proof-of-work.js";
import { t } from "./text.js";
import { expectedReaders, safeFileName } from "./rules.js";

export const newRef = (prefix) => prefix + candor.toHex(candor.randomBytes(16));

// Needed only for files: fetched after the page is ready, so the first round trips on a slow
// link carry only what the form needs (browsers open six connections to a server at most).
let metadataModule = null;
export const metadata = () => (metadataModule ??= import("./metadata.js"));

// ---------------------------------------------------------------------------------------------
// Making a report

/**
 * The codename parameters for a new case: the standard set where Argon2id runs as WebAssembly,
 * the light one (SPEC.md section 6) where it runs as plain JavaScript, about 200 times slower.
 */
export function newCaseParams(options) {
  const pure = candor.backendName() === "noble" && options.reporter_kdf_light;
  return reporterParams(pure ? options.reporter_kdf_light : options.reporter_kdf);
}

/** The Argon2id parameters the server names for codenames, if this script knows them exactly. */
function reporterParams(offered) {
  const params = candor.paramsByVersion(offered.version);
  if (params.opslimit !== offered.opslimit || params.memlimit !== offered.memlimit) {
    throw new candor.KdfParametersRejected("the codename parameters do not match their version");
  }
  return params;
}

function textRecord(caseKey, caseRef, kind, text) {
  const ref = newRef("r-");
  const kindValue = candor.RecordKind[kind.toUpperCase()];
  return { record_ref: ref, kind,
           ciphertext: b64(candor.encryptTextRecord(caseKey, kindValue, caseRef, ref, text)) };
}

/**
 * The `/api/v1/reports` body for `report`, encrypted to the readers the verified `entries`
 * give for its route; and the new codename. As `protocol.build_submission`.
 */
export async function buildSubmission(report, entries, params, onProgress) {
  const readers = expectedReaders(entries, report.route, report.concerns_rso,
                                  report.concerned_staff_ids);
  const codename = await candor.generateCodename();
  const salt = candor.generateSalt();
  const reporter = await candor.deriveReporterKeyPair(codename, salt, params, { onProgress });
  const caseRef = newRef("c-");
  const caseKey = candor.generateCaseKey();
  const grants = [{ kind: "reporter", staff_id: null,
    grant: b64(candor.sealCaseKey(caseKey, reporter.publicKey, caseRef,
                                  candor.GrantKind.REPORTER)) }];
  for (const [kind, grantKind, people] of [
    ["recipient", candor.GrantKind.RECIPIENT, readers.now],
    ["escrow", candor.GrantKind.ESCROW, readers.onEscalation],
  ]) {
    for (const entry of people) {
      grants.push({ kind, staff_id: Number(entry.staffId),
                    grant: b64(candor.sealCaseKey(caseKey, entry.publicKey, caseRef, grantKind)) });
    }
  }
  const records = [textRecord(caseKey, caseRef, "report", report.text)];
  if (report.identity) records.push(textRecord(caseKey, caseRef, "identity", report.identity));
  const body = {
    case_ref: caseRef, route: report.route, category: report.category,
    concerns_rso: report.concerns_rso, concerned_staff_ids: report.concerned_staff_ids,
    material_risk: report.material_risk, sb53_disclosure: report.sb53_disclosure,
    critical_incident: report.critical_incident, imminent_risk: report.imminent_risk,
    lookup_id: b64(await candor.codenameLookupId(codename)),
    reporter_salt: b64(salt), reporter_kdf_version: params.version,
    reporter_public_key: b64(reporter.publicKey),
    grants, records,
  };
  return { body, codename, caseKey, caseRef };
}

// ---------------------------------------------------------------------------------------------
// The anti-abuse puzzle, solved by proof-of-work.js (shared with the staff sign-in).

// A puzzle is solved ahead, while the reporter writes (a few seconds at most, in a browser
// without WebAssembly too), and again whenever its challenge is used or close to expiring.
const PUZZLE_MARGIN_SECONDS = 60;

export class Puzzles {
  constructor(url) {
    this.url = url;
    this.current = null; // {solved: Promise<{challenge, nonce, hash, expires}>, percent}
  }

  /** Start solving a fresh puzzle now. */
  ahead() {
    const current = { percent: 0 };
    current.solved = (async () => {
      const offered = await getJson(this.url);
      const challenge = unb64(offered.challenge);
      const { nonce, hash } = await solveProofOfWork(
        challenge, offered.bits, (p) => { current.percent = p; }, offered.hashes);
      current.percent = 100;
      return { challenge, nonce, hash, expires: offered.expires };
    })();
    current.solved.catch(() => { if (this.current === current) this.current = null; });
    this.current = current;
    return current;
  }

  /**
   * `body` with a solved challenge attached (as `protocol.with_proof_of_work`); each is used
   * once. `onProgress(percent)` hears how far the solving is while it is awaited.
   */
  async attach(body, onProgress) {
    let current = this.current ?? this.ahead();
    let solved = null;
    for (let attempt = 0; attempt < 2 && solved === null; attempt++) {
      const timer = setInterval(() => onProgress(current.percent), 250);
      try {
        solved = await current.solved;
      } finally {
        clearInterval(timer);
      }
      if (solved.expires - Date.now() / 1000 < PUZZLE_MARGIN_SECONDS) {
        solved = null;
        current = this.ahead();
      }
    }
    if (solved === null) throw new Refusal(t("The anti-abuse check took too long; send again."));
    this.current = null; // spent: the next report solves a new one
    return { ...body, proof_of_work: { challenge: b64(solved.challenge), nonce: b64(solved.nonce),
                                        hash: solved.hash } };
  }
}

// ---------------------------------------------------------------------------------------------
// Attachments: each file is read in slices, cleaned of its metadata (metadata.js), encrypted
// with its own key as a secretstream (SPEC.md 8.9) and sent in chunks of whole frames to the
// resumable upload API, so no file is ever held whole. Its key and name follow as FILE_KEY and
// FILE_NAME records under the case key. As protocol.OutgoingAttachment.

const READ_BYTES = 1024 * 1024;
const MAX_CHUNK_FRAMES = 16; // as app/services/attachments.MAX_CHUNK_FRAMES
const CHUNK_ATTEMPTS = 4;

/** PUT one chunk; after a failed attempt, ask the server which chunks it has and go on. */
async function putChunk(base, index, body) {
  for (let attempt = 1; ; attempt++) {
    let response = null;
    try {
      response = await fetch(`${base}/chunks/${index}`, {
        method: "PUT", credentials: "same-origin", body,
        headers: { "Content-Type": "application/octet-stream", "X-CSRFToken": csrfToken() },
      });
    } catch {
      // The connection failed: the chunk may or may not have arrived.
    }
    if (response && response.ok) return;
    let data = {};
    if (response) {
      try { data = await response.json(); } catch { /* not JSON */ }
      if (response.status < 500 && response.status !== 409) {
        throw new Refusal(data.message || t("The server answered %(status)s.",
                                            { status: response.status }), response.status);
      }
    }
    try {
      const status = await getJson(`${base}/status`);
      if (status.received_chunks > index) return; // it did arrive
      if (status.received_chunks < index) {
        throw new Refusal(t("The server lost part of this file; send it again."));
      }
    } catch (error) {
      if (error instanceof Refusal && error.status) throw error;
    }
    if (attempt >= CHUNK_ATTEMPTS) {
      throw new Refusal(data.message || t("The connection kept failing while this file " +
        "was being sent."));
    }
    await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
  }
}

/**
 * Clean, encrypt and upload `file` to the case `target` ({caseRef, caseKey, keyEpoch, url});
 * `progress(bytesRead)` follows it. Returns the size sent: the file's own, less any metadata
 * removed.
 */
export async function uploadAttachment(file, target, progress) {
  // A document is cleaned whole first (its size may change, so frames are counted after);
  // images are cleaned as they stream, below.
  ({ file } = await (await metadata()).cleanedFile(file));
  const ref = newRef("a-");
  const fileKey = candor.generateFileKey();
  await postJson(target.url, { attachment_ref: ref, key_epoch: target.keyEpoch,
                               max_frames: Math.floor(file.size / candor.CHUNK_SIZE) + 1 });
  const base = `${target.url}/${ref}`;
  const encryptor = new candor.StreamEncryptor(fileKey, target.caseRef, ref);
  const stripper = new (await metadata()).SniffingStripper();
  let pending = [encryptor.header];
  let pendingFrames = 0;
  let index = 0;
  let frames = 0;
  let size = 0;
  const clean = (bytes) => {
    size += bytes.length;
    return bytes;
  };
  const send = async () => {
    await putChunk(base, index, joinBytes(pending));
    index += 1;
    frames += pendingFrames;
    pending = [];
    pendingFrames = 0;
  };
  const add = async (frameList) => {
    for (const frame of frameList) {
      pending.push(frame);
      pendingFrames += 1;
      if (pendingFrames === MAX_CHUNK_FRAMES) await send();
    }
  };
  for (let offset = 0; offset < file.size; offset += READ_BYTES) {
    const piece = new Uint8Array(await file.slice(offset, offset + READ_BYTES).arrayBuffer());
    await add(encryptor.update(clean(stripper.update(piece))));
    progress(Math.min(file.size, offset + READ_BYTES));
  }
  await add(encryptor.update(clean(stripper.finish())));
  pending.push(encryptor.finish());
  pendingFrames += 1;
  await send();
  const keyRef = newRef("r-");
  const nameRef = newRef("r-");
  await postJson(`${base}/complete`, {
    frames,
    key_record: { record_ref: keyRef, ciphertext: b64(
      candor.encryptFileKey(target.caseKey, target.caseRef, keyRef, fileKey)) },
    name_record: { record_ref: nameRef, ciphertext: b64(candor.encryptRecord(
      target.caseKey, candor.RecordKind.FILE_NAME, target.caseRef, nameRef,
      candor.encodeFileName(safeFileName(file.name), size))) },
  });
  return size;
}

// ---------------------------------------------------------------------------------------------
// Coming back with the codename

/** The codename as typed, normalised (SPEC.md 5); a Refusal saying what is wrong with it. */
export async function normalisedCodename(typed) {
  try {
    return await candor.normaliseCodename(typed);
  } catch (error) {
    if (!(error instanceof candor.MalformedInput)) throw error;
    throw new Refusal(error instanceof candor.UnknownCodenameWord
      ? t("One of the words is not in the codename word list. Check the spelling of each word.")
      : t("A codename has %(min)s to %(max)s words. Check that you typed all of them.",
          { min: candor.MIN_WORDS, max: candor.MAX_WORDS }));
  }
}

/** Find the case the codename opens: its view, from the server (as `protocol.lookup_request`). */
export async function lookUpCase(url, codename) {
  return postJson(url, { lookup_id: b64(await candor.codenameLookupId(codename)) });
}

/** Whether deriving this case's key will be slow here (the standard set, without WebAssembly). */
export function slowDerivation(view) {
  return candor.backendName() === "noble" &&
    view.reporter_kdf_version === candor.REPORTER_CODENAME_V1.version;
}

/**
 * The case the codename opens, as `protocol.open_case`: the reporter's key pair, derived again,
 * and no case key yet (`decryptView` opens those from the view's grants).
 */
export async function openCase(view, codename, onProgress) {
  const params = candor.paramsByVersion(view.reporter_kdf_version);
  const reporter = await candor.deriveReporterKeyPair(codename, unb64(view.reporter_salt),
                                                      params, { onProgress });
  return { caseRef: view.case_ref, reporter, keys: new Map(), keyEpoch: null };
}

/**
 * Open every copy of the case key sealed to the reporter that `opened` does not hold yet: one per
 * key epoch (content written after an access revocation is under the next epoch's key).
 */
function openGrants(view, opened) {
  for (const { key_epoch: epoch, grant } of view.reporter_grants) {
    if (!opened.keys.has(epoch)) {
      opened.keys.set(epoch, candor.openGrant(unb64(grant), opened.reporter, opened.caseRef,
                                              candor.GrantKind.REPORTER));
    }
  }
  if (!opened.keys.has(view.key_epoch)) {
    throw new candor.DecryptionError("no copy of the current case key was sealed to you");
  }
  opened.keyEpoch = view.key_epoch;
}

export function keyFor(opened, epoch) {
  const key = opened.keys.get(epoch);
  if (!key) throw new candor.DecryptionError(`no key for epoch ${epoch} of this case`);
  return key;
}

/** The view's records, decrypted; one that fails is marked unreadable and the rest still shown. */
export function decryptView(view, opened) {
  if (view.case_ref !== opened.caseRef) throw new candor.DecryptionError("another case came back");
  openGrants(view, opened);
  return view.records.map((record) => {
    try {
      return { ...record, text: candor.decryptTextRecord(
        keyFor(opened, record.key_epoch), candor.RecordKind[record.kind.toUpperCase()],
        opened.caseRef, record.record_ref, unb64(record.ciphertext)) };
    } catch (error) {
      if (!(error instanceof candor.CryptoError)) throw error;
      return { ...record, unreadable: true };
    }
  });
}

/** The `/messages` body for a reply, encrypted under the current epoch's key. */
export function messageBody(opened, text) {
  const ref = newRef("r-");
  const epoch = opened.keyEpoch;
  const ciphertext = candor.encryptTextRecord(keyFor(opened, epoch), candor.RecordKind.MESSAGE,
                                              opened.caseRef, ref, text);
  return { record_ref: ref, key_epoch: epoch, ciphertext: b64(ciphertext) };
}

/**
 * An attachment's key, name and stated size (null if sent before sizes were recorded),
 * decrypted under the case key of its epoch.
 */
export function openAttachment(item, opened) {
  const key = keyFor(opened, item.key_epoch);
  const fileKey = candor.decryptFileKey(key, opened.caseRef, item.key_record.record_ref,
                                        unb64(item.key_record.ciphertext));
  const { name, size } = candor.decodeFileName(candor.decryptRecord(
    key, candor.RecordKind.FILE_NAME, opened.caseRef, item.name_record.record_ref,
    unb64(item.name_record.ciphertext)));
  return { fileKey, name: safeFileName(name), size };
}

/**
 * Fetch an attachment's stream from `url` and decrypt it as it arrives; the plaintext parts are
 * returned only once the whole stream has checked out (SPEC.md 8.9: no partial, unauthenticated
 * file). `onProgress(percent)` follows the download.
 */
export async function downloadAttachment(url, item, file, opened, onProgress) {
  let response;
  try {
    response = await fetch(url, { credentials: "same-origin" });
  } catch {
    throw new Refusal(t(UNREACHABLE));
  }
  if (!response.ok) {
    throw new Refusal(t("The file could not be fetched (%(status)s).", { status: response.status }),
                      response.status);
  }
  const decryptor = new candor.StreamDecryptor(file.fileKey, opened.caseRef,
                                               item.attachment_ref);
  const parts = [];
  const reader = response.body.getReader();
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    received += value.length;
    parts.push(...decryptor.update(value));
    onProgress(Math.floor((100 * received) / item.size));
  }
  decryptor.finish();
  return parts;
}
