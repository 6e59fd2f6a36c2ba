// Casework in the staff member's browser, without the page: the staff case API, opening the
// case key of each epoch with the private key unlocked in this tab, decrypting records,
// encrypting what staff write, and sealing case keys to verified directory keys.
//
// Nothing here touches the DOM; staff-cases.js puts decrypted text in the page through
// textContent only.
import * as candor from "./candor-crypto.js";
import * as http from "./http.js";
import { b64, unb64 } from "./bytes.js";
import { Refusal } from "./http.js";
import { expectedReaders, NoReaders } from "./rules.js";
import { stepUp } from "./staff-passkeys.js";

export const newRef = (prefix) => prefix + candor.toHex(sodium.randombytes_buf(16));
const SESSION_ENDED = "Your session ended. Sign in again to continue.";

// The actions that matter most (sharing, revoking, revealing a reporter's identity) need a
// fresh confirmation: when the server asks for one (403 step_up_required), the person gives it
// and the request goes once more. A 401 says the staff session ended.
async function request(send) {
  try {
    return await send();
  } catch (error) {
    if (error instanceof Refusal && error.status === 401) throw new Refusal(SESSION_ENDED, 401);
    if (!(error instanceof Refusal) || error.status !== 403
        || error.answer?.error !== "step_up_required") {
      throw error;
    }
  }
  try {
    await stepUp();
  } catch (error) {
    throw new Refusal(error.message || String(error), 403);
  }
  return send();
}

export const getJson = (url) => request(() => http.getJson(url));
export const postJson = (url, body) => request(() => http.postJson(url, body));

/** What to tell the staff member about any failure. */
export function explain(error) {
  if (error instanceof Refusal) return error.message;
  if (error instanceof candor.SignatureInvalid) {
    return "A key in the directory could not be verified against the organisation key, so " +
      "nothing was encrypted or sent. Tell the operator.";
  }
  if (error instanceof candor.CryptoError) {
    return `Something could not be encrypted or decrypted, so nothing was shown or sent ` +
      `(${error.message}).`;
  }
  return error?.message || String(error);
}

const GRANT_KINDS = { recipient: candor.GrantKind.RECIPIENT, escrow: candor.GrantKind.ESCROW };

/**
 * The case keys `keyPair` can open, by epoch, from the grants a summary or case view lists as
 * this person's. A grant that does not open is left out: records under it show as unreadable.
 */
export function openCaseKeys(view, keyPair, onlyEpoch = null) {
  const keys = new Map();
  for (const grant of view.grants ?? []) {
    if (onlyEpoch !== null && grant.key_epoch !== onlyEpoch) continue;
    try {
      keys.set(grant.key_epoch, candor.openGrant(unb64(grant.grant), keyPair, view.case_ref,
                                                 GRANT_KINDS[grant.kind] ?? candor.GrantKind.RECIPIENT));
    } catch (error) {
      if (!(error instanceof candor.CryptoError)) throw error;
    }
  }
  return keys;
}

export function keyFor(keys, epoch) {
  const key = keys.get(epoch);
  if (!key) throw new candor.DecryptionError(`no copy of the case key of epoch ${epoch} opens for you`);
  return key;
}

/** One record's text, or null when it does not decrypt (altered, or under a key not held). */
export function readRecord(view, keys, record) {
  try {
    return candor.decryptTextRecord(keyFor(keys, record.key_epoch),
                                    candor.RecordKind[record.kind.toUpperCase()], view.case_ref,
                                    record.record_ref, unb64(record.ciphertext));
  } catch (error) {
    if (!(error instanceof candor.CryptoError)) throw error;
    return null;
  }
}

/** `text` as a record of `kind` (a RecordKind name) under the case's current key. */
export function encryptText(view, keys, kind, text) {
  const ref = newRef("r-");
  const epoch = view.key_epoch;
  const ciphertext = candor.encryptTextRecord(keyFor(keys, epoch), candor.RecordKind[kind],
                                              view.case_ref, ref, text);
  return { record_ref: ref, key_epoch: epoch, ciphertext: b64(ciphertext) };
}

/** The verified directory entry of `staffId`, or a refusal naming `who`. */
export function entryOf(entries, staffId, who) {
  const entry = entries.find((e) => String(e.staffId) === String(staffId));
  if (!entry) {
    throw new Refusal(`${who} has no verified, current key in the directory, so the case ` +
      "key cannot be sealed to them. Ask the operator to sign their key.");
  }
  return entry;
}

/** One grant per epoch this person holds, sealing that epoch's key to a verified entry. */
export function grantsForNewMember(view, keys, entry) {
  const epochs = [...new Set((view.grants ?? []).map((g) => g.key_epoch))].sort((a, b) => a - b);
  return epochs.map((epoch) => ({
    key_epoch: epoch,
    grant: b64(candor.sealCaseKey(keyFor(keys, epoch), entry.publicKey, view.case_ref,
                                  candor.GrantKind.RECIPIENT)),
  }));
}

/**
 * The body that revokes `targetId`: a new case key sealed to every member who stays (their
 * verified directory keys), to the reporter's own key, and to every holder of an escrow copy.
 */
export function revocation(view, entries, targetId) {
  const caseKey = candor.generateCaseKey();
  const seal = (publicKey, kind) => b64(candor.sealCaseKey(caseKey, publicKey, view.case_ref, kind));
  const grants = [];
  for (const member of view.members.filter((m) => String(m.id) !== String(targetId))) {
    const entry = entryOf(entries, member.id, member.username);
    grants.push({ kind: "recipient", staff_id: member.id,
                  grant: seal(entry.publicKey, candor.GrantKind.RECIPIENT) });
  }
  if (view.reporter_public_key) {
    grants.push({ kind: "reporter", staff_id: null,
                  grant: seal(candor.checkPublicKey(unb64(view.reporter_public_key)),
                              candor.GrantKind.REPORTER) });
  }
  for (const staffId of view.escrow_staff_ids ?? []) {
    const entry = entryOf(entries, staffId, `The escrow holder ${staffId}`);
    grants.push({ kind: "escrow", staff_id: staffId,
                  grant: seal(entry.publicKey, candor.GrantKind.ESCROW) });
  }
  return { key_epoch: view.key_epoch + 1, grants };
}

/**
 * Who reads a case opened by staff on `route`: the reporters' rule (rules.js), with nobody
 * concerned and the RSO not concerned, on the verified directory entries.
 */
export function readersFor(entries, route) {
  try {
    return expectedReaders(entries, route, false, []);
  } catch (error) {
    if (!(error instanceof NoReaders)) throw error;
    throw new Refusal("No one with a verified key receives this route.");
  }
}

/** The `POST /api/v1/staff/cases` body for a case with no reporter, and nothing else. */
export function newCaseBody(entries, fields) {
  const readers = readersFor(entries, fields.route);
  const caseRef = newRef("c-");
  const caseKey = candor.generateCaseKey();
  const grants = [];
  for (const [kind, grantKind, people] of [
    ["recipient", candor.GrantKind.RECIPIENT, readers.now],
    ["escrow", candor.GrantKind.ESCROW, readers.onEscalation],
  ]) {
    for (const entry of people) {
      grants.push({ kind, staff_id: Number(entry.staffId),
                    grant: b64(candor.sealCaseKey(caseKey, entry.publicKey, caseRef, grantKind)) });
    }
  }
  const ref = newRef("r-");
  const ciphertext = candor.encryptTextRecord(caseKey, candor.RecordKind.REPORT, caseRef, ref,
                                              fields.text);
  return {
    case_ref: caseRef, route: fields.route, category: fields.category,
    material_risk: fields.material_risk, grants,
    records: [{ record_ref: ref, kind: "report", ciphertext: b64(ciphertext) }],
  };
}

/**
 * The quarter's SB 53 share of a case (SPEC 8.11): `text` under a new random share key, that
 * key sealed to each officer or director the server names, each checked first against the
 * verified directory (a signed key, and the officer role signed into it), and the same text
 * to the reporter under the case key. The server then checks the recipients exactly.
 */
export function sb53ShareBody(view, keys, entries, recipients, text) {
  if (!recipients.length) {
    throw new Refusal("No officer or director who may receive this case holds a signed " +
      "key, so the summary cannot be shared. Ask the operator to register one.");
  }
  const shareKey = candor.generateCaseKey();
  const shareRef = newRef("s-");
  const grants = recipients.map((person) => {
    const entry = entryOf(entries, person.id, person.username);
    if (!entry.roles.includes("officer")) {
      throw new Refusal(`${person.username} is not an officer or director in the signed ` +
        "directory, so nothing was shared. Tell the operator.");
    }
    return { staff_id: person.id,
             grant: b64(candor.sealCaseKey(shareKey, entry.publicKey, shareRef,
                                           candor.GrantKind.SHARE)) };
  });
  const summary = candor.encryptTextRecord(shareKey, candor.RecordKind.SHARE, shareRef,
                                           SHARE_SUMMARY_ID, text);
  return { share_ref: shareRef, summary: b64(summary), grants,
           message: encryptText(view, keys, "MESSAGE", text) };
}

/** The text of a share sealed to `keyPair`, or null when it does not open. */
export function readShare(share, keyPair) {
  try {
    const shareKey = candor.openGrant(unb64(share.grant), keyPair, share.share_ref,
                                      candor.GrantKind.SHARE);
    return candor.decryptTextRecord(shareKey, candor.RecordKind.SHARE, share.share_ref,
                                    SHARE_SUMMARY_ID, unb64(share.summary));
  } catch (error) {
    if (!(error instanceof candor.CryptoError)) throw error;
    return null;
  }
}

// As crypto/envelope.py SHARE_SUMMARY_ID.
const SHARE_SUMMARY_ID = "summary";
