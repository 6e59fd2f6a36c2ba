// The key directory as a client must use it: every entry checked against the organisation key
// whose fingerprint the client already holds, before anything is encrypted to it.
import * as candor from "./candor-crypto.js";
import { unb64 } from "./bytes.js";

const compact = (fingerprint) => String(fingerprint).replace(/\s+/g, "").toUpperCase();

/** The server's answer from `/api/v1/directory`, unchecked: give it to `loadDirectory`. */
export async function fetchDirectory() {
  const response = await fetch("/api/v1/directory", { credentials: "same-origin" });
  if (!response.ok) throw new Error(`The key directory is unavailable (${response.status}).`);
  return response.json();
}

/**
 * Fetch `/api/v1/directory` (or take an answer `fetchDirectory` started earlier) and return the
 * verified, currently usable recipient entries.
 *
 * Throws SignatureInvalid if the organisation key does not match `expectedFingerprint` or if
 * any entry's signature fails: a directory with one forged entry is not trusted at all.
 */
export async function loadDirectory(expectedFingerprint, now = Math.floor(Date.now() / 1000),
  fetched = null) {
  await candor.ready();
  const data = await (fetched ?? fetchDirectory());
  if (typeof data?.organisation_key !== "string" || !Array.isArray(data.entries)) {
    throw new candor.MalformedInput("the key directory answer is malformed");
  }
  const orgKey = unb64(data.organisation_key);
  if (compact(candor.fingerprint(orgKey)) !== compact(expectedFingerprint)) {
    throw new candor.SignatureInvalid("the organisation key does not match the fingerprint");
  }
  const entries = data.entries.map((signed) => candor.verifyEntry(orgKey, unb64(signed)));
  return entries.filter((entry) => candor.entryUsableAt(entry, now));
}
