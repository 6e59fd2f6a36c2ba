// The Candor protocol, version 1, in the browser. The specification is crypto/SPEC.md; the Python
// package crypto/ implements the same protocol and both pass tests/crypto/vectors/.
//
// Two backends give the same functions with the same bytes (SPEC.md section 13):
// - libsodium.js (WebAssembly), from two classic scripts loaded in this order:
//     <script src="/static/vendor/libsodium-sumo.js" integrity="..."></script>
//     <script src="/static/vendor/libsodium-wrappers.js" integrity="..."></script>
//   They are UMD builds. Run as classic scripts (not modules), the first sets `globalThis.libsodium`
//   (the WebAssembly module, instantiated from bytes embedded in the file, which is what needs
//   'wasm-unsafe-eval' in the page's CSP) and the second reads it and sets `globalThis.sodium`.
// - the noble libraries (pure JavaScript), from the classic script /static/vendor/noble-sodium.js,
//   which sets `globalThis.candorNoble`: for browsers without WebAssembly (Tor Browser "Safer").
// crypto-loader.js loads the one a browser can run. Call `await ready()` once before anything else.
//
// This module never touches the DOM. Decrypted text must reach the page only through
// `textContent` (never as markup).
//
// Bytes are Uint8Array. Identifiers (case, record, attachment and staff ids, usernames) are
// strings of 1-128 printable ASCII characters without spaces; a non-negative integer is accepted
// and used as its decimal string.

import { joinBytes } from "./bytes.js";

const concat = (...parts) => joinBytes(parts);

// ---------------------------------------------------------------------------------------------
// Errors (SPEC.md section 10): `name` equals the Python class name.

export class CryptoError extends Error {
  constructor(message) {
    super(message);
    this.name = new.target.name;
  }
}
export class DecryptionError extends CryptoError {}
export class UnsupportedVersion extends CryptoError {}
export class MalformedInput extends CryptoError {}
export class InvalidPadding extends MalformedInput {}
export class UnknownCodenameWord extends MalformedInput {}
export class KdfParametersRejected extends CryptoError {}
export class TruncatedStream extends CryptoError {}
export class SignatureInvalid extends CryptoError {}

// ---------------------------------------------------------------------------------------------
// Backends

/** No backend could run in this browser: neither WebAssembly nor the pure-JavaScript script. */
export class CryptoUnavailable extends Error {
  constructor(message) {
    super(message);
    this.name = "CryptoUnavailable";
  }
}

let sodiumLib = null;

/**
 * Wait until a backend is initialised: libsodium.js if its scripts loaded and WebAssembly runs,
 * otherwise the noble backend if its script loaded. `{backend: "libsodium" | "noble"}` insists on
 * one (tests compare them). Throws CryptoUnavailable if none can run.
 */
export async function ready({ backend = "auto" } = {}) {
  let lib = null;
  const wasm = globalThis.sodium;
  if (backend !== "noble" && wasm && typeof wasm.ready?.then === "function") {
    try {
      await wasm.ready;
      lib = wasm;
    } catch {
      lib = null; // WebAssembly refused (CSP or browser settings): try the other backend
    }
  }
  const pure = globalThis.candorNoble;
  if (lib === null && backend !== "libsodium" && pure?.backend === "noble") lib = pure;
  if (lib === null) throw new CryptoUnavailable(`no ${backend} cryptography backend is loaded`);
  sodiumLib = lib;
}

/** "libsodium" (WebAssembly) or "noble" (pure JavaScript, much slower at Argon2id). */
export function backendName() {
  return S().backend === "noble" ? "noble" : "libsodium";
}

function S() {
  if (sodiumLib === null) throw new Error("call and await ready() first");
  return sodiumLib;
}

// ---------------------------------------------------------------------------------------------
// Encoding (SPEC.md sections 1 and 5)

export const VERSION = 1;
const encoder = new TextEncoder();
const IDENTIFIER = /^[\x21-\x7e]{1,128}$/;
const ROLE = /^[a-z][a-z0-9_-]{0,31}$/;
const MAX_TIMESTAMP = Number.MAX_SAFE_INTEGER;
export const MAX_IDENTIFIER_LENGTH = 128;
export const BUCKETS = Object.freeze(Array.from({ length: 15 }, (_, k) => 256 * 2 ** k));
export const MAX_RECORD_PLAINTEXT = BUCKETS[BUCKETS.length - 1] - 1;

export function toHex(bytes) {
  return S().to_hex(bytes);
}

export function fromHex(text) {
  return S().from_hex(text);
}

/** Unkeyed BLAKE2b-256 (the anti-abuse puzzle's hash). */
export function blake2b256(bytes) {
  return S().crypto_generichash(32, bytes, null);
}

/** UTF-8 bytes of a string. */
export function utf8Encode(text) {
  return encoder.encode(text);
}

/** Strict UTF-8 decoding: MalformedInput for invalid bytes. */
export function utf8Decode(bytes) {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new MalformedInput("text is not valid UTF-8");
  }
}

const u8 = (n) => Uint8Array.of(n);

function u32(n) {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

function u64(n) {
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  view.setUint32(0, Math.floor(n / 2 ** 32));
  view.setUint32(4, n % 2 ** 32);
  return out;
}

const lp = (bytes) => concat(u32(bytes.length), bytes);
const ascii = (text) => encoder.encode(text);
const context = (name) => lp(ascii(name));

function isBytes(value) {
  return value instanceof Uint8Array;
}

function requireBytes(value, size, what) {
  if (!isBytes(value) || value.length !== size) {
    throw new MalformedInput(`${what} must be ${size} bytes`);
  }
  return value;
}

function identifierText(value, what = "identifier") {
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) value = String(value);
  if (typeof value !== "string" || !IDENTIFIER.test(value)) {
    throw new MalformedInput(`${what} must be 1-128 printable ASCII characters without spaces`);
  }
  return value;
}

const identifier = (value, what) => ascii(identifierText(value, what));

function roleName(value) {
  if (typeof value !== "string" || !ROLE.test(value)) {
    throw new MalformedInput("role names are 1-32 characters of a-z, 0-9, _ and -, from a letter");
  }
  return ascii(value);
}

function timestamp(value) {
  if (!Number.isSafeInteger(value) || value < 0 || value > MAX_TIMESTAMP) {
    throw new MalformedInput("timestamps are whole seconds from 0 to 2**53 - 1");
  }
  return u64(value);
}

/** A strict, forward-only parser (SPEC.md 5.2). */
class Reader {
  constructor(bytes) {
    this.bytes = bytes;
    this.pos = 0;
  }
  take(n) {
    if (n < 0 || this.pos + n > this.bytes.length) {
      throw new MalformedInput("encoded value ends early");
    }
    const out = this.bytes.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  u8() {
    return this.take(1)[0];
  }
  u32() {
    const b = this.take(4);
    return new DataView(b.buffer, b.byteOffset, 4).getUint32(0);
  }
  timestamp() {
    const b = this.take(8);
    const view = new DataView(b.buffer, b.byteOffset, 8);
    const high = view.getUint32(0);
    if (high >= 2 ** 21) throw new MalformedInput("timestamp is 2**53 or later");
    return high * 2 ** 32 + view.getUint32(4);
  }
  lp() {
    return this.take(this.u32());
  }
  ascii(what) {
    const raw = this.lp();
    if (raw.some((b) => b > 0x7f)) throw new MalformedInput(`${what} is not ASCII`);
    return new TextDecoder().decode(raw);
  }
  identifier(what = "identifier") {
    return identifierText(this.ascii(what), what);
  }
  finish() {
    if (this.pos !== this.bytes.length) {
      throw new MalformedInput("bytes left over after the encoded value");
    }
  }
}

export function bucketFor(length) {
  for (const bucket of BUCKETS) if (bucket >= length + 1) return bucket;
  throw new MalformedInput(`record content is longer than ${MAX_RECORD_PLAINTEXT} bytes`);
}

function padTo(content, size) {
  if (content.length >= size) throw new MalformedInput("content does not fit the padded size");
  const out = new Uint8Array(size);
  out.set(content);
  out[content.length] = 0x80;
  return out;
}

function stripPadding(padded) {
  let end = padded.length;
  while (end > 0 && padded[end - 1] === 0) end--;
  if (end === 0 || padded[end - 1] !== 0x80) throw new InvalidPadding("padding marker missing");
  return padded.slice(0, end - 1);
}

/** Pad record content to its bucket (SPEC.md 5.3). */
export function pad(content) {
  if (!isBytes(content)) throw new MalformedInput("content must be bytes");
  return padTo(content, bucketFor(content.length));
}

/** Reverse `pad`; reject padding that `pad` would not have produced. */
export function unpad(padded) {
  if (!isBytes(padded) || !BUCKETS.includes(padded.length)) {
    throw new InvalidPadding("padded length is not a bucket size");
  }
  const content = stripPadding(padded);
  if (bucketFor(content.length) !== padded.length) {
    throw new InvalidPadding("content padded into a larger bucket than needed");
  }
  return content;
}

// ---------------------------------------------------------------------------------------------
// Primitives (SPEC.md sections 3-4)

const AEAD_NONCE_SIZE = 24;
const AEAD_TAG_SIZE = 16;
const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** `n` bytes from the backend's CSPRNG. */
export const randomBytes = (n) => S().randombytes_buf(n);

const TEST_SCALAR = new Uint8Array(32);
TEST_SCALAR[0] = 9;

/** Throw MalformedInput unless `publicKey` is a 32-byte X25519 key of full order. */
export function checkPublicKey(publicKey) {
  requireBytes(publicKey, 32, "public key");
  try {
    S().crypto_scalarmult(TEST_SCALAR, publicKey);
  } catch {
    throw new MalformedInput("public key is of low order");
  }
  return publicKey;
}

/** Open an X25519 sealed box; DecryptionError naming `what` if it is not for this key pair. */
function sealOpen(sealed, keyPair, what) {
  try {
    return S().crypto_box_seal_open(sealed, keyPair.publicKey, keyPair.privateKey);
  } catch {
    throw new DecryptionError(`${what} does not open with this key pair`);
  }
}

function aeadEncrypt(key, nonce, plaintext, ad) {
  requireBytes(nonce, AEAD_NONCE_SIZE, "nonce");
  return S().crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, null, nonce, key);
}

function aeadDecrypt(key, nonce, ciphertext, ad) {
  requireBytes(nonce, AEAD_NONCE_SIZE, "nonce");
  if (ciphertext.length < AEAD_TAG_SIZE) {
    throw new MalformedInput("ciphertext shorter than its tag");
  }
  try {
    return S().crypto_aead_xchacha20poly1305_ietf_decrypt(null, ciphertext, ad, nonce, key);
  } catch {
    throw new DecryptionError("ciphertext does not authenticate");
  }
}

function contextKey(name) {
  const raw = ascii(name);
  if (raw.length < 16 || raw.length > 64) throw new Error("context strings are 16-64 ASCII bytes");
  return raw;
}

/** `Subkey`: BLAKE2b-256 keyed with 32 bytes of secret key material over the context string. */
function subkey(ikm, name) {
  requireBytes(ikm, 32, "key material");
  return S().crypto_generichash(32, contextKey(name), ikm);
}

/** `ContextHash`: BLAKE2b-256 keyed with the context string, over `data`. */
function contextHash(name, data) {
  return S().crypto_generichash(32, data, contextKey(name));
}

function base32Crockford(bytes) {
  let out = "";
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += CROCKFORD[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  return out;
}

function symmetricKey(value, what) {
  return requireBytes(value, 32, what);
}

// ---------------------------------------------------------------------------------------------
// Argon2id parameters and the staff password (SPEC.md sections 6 and 8.1)

export const SALT_SIZE = 16;
export const OPSLIMIT_MIN = 1;
export const MEMLIMIT_MIN = 8192;
export const OPSLIMIT_MAX = 8;
export const MEMLIMIT_MAX = 256 * 1024 * 1024;

/** A parameter set `{version, opslimit, memlimit}`; the numbers are authoritative. */
export function kdfParams(version, opslimit, memlimit) {
  return Object.freeze({ version, opslimit, memlimit });
}

/** Tests only: the libsodium minimum. Never use it for a real account or case. */
export const TEST_FAST = kdfParams(0, OPSLIMIT_MIN, MEMLIMIT_MIN);
export const STAFF_PASSWORD_V1 = kdfParams(1, 3, 128 * 1024 * 1024);
export const REPORTER_CODENAME_V1 = kdfParams(2, 3, 64 * 1024 * 1024);
/** For codenames of cases filed from a browser without WebAssembly (SPEC.md 6 and 8.10). */
export const REPORTER_CODENAME_LIGHT_V1 = kdfParams(3, 2, 8 * 1024 * 1024);
const PARAMS = [TEST_FAST, STAFF_PASSWORD_V1, REPORTER_CODENAME_V1, REPORTER_CODENAME_LIGHT_V1];

export function paramsByVersion(version) {
  const found = PARAMS.find((p) => p.version === version);
  if (!found) throw new UnsupportedVersion(`unknown Argon2id parameter set ${version}`);
  return found;
}

/** The parameter set a client uses for a new staff password. */
export function currentStaffParams() {
  return STAFF_PASSWORD_V1;
}

/** Throw KdfParametersRejected unless the numbers are within the floor and the ceiling. */
export function checkKdfParams(params) {
  const { version, opslimit, memlimit } = params ?? {};
  if (![version, opslimit, memlimit].every(Number.isSafeInteger)) {
    throw new KdfParametersRejected("parameters must be integers");
  }
  if (opslimit < OPSLIMIT_MIN || opslimit > OPSLIMIT_MAX) {
    throw new KdfParametersRejected(`opslimit must be ${OPSLIMIT_MIN}-${OPSLIMIT_MAX}`);
  }
  if (memlimit < MEMLIMIT_MIN || memlimit > MEMLIMIT_MAX) {
    throw new KdfParametersRejected(`memlimit must be ${MEMLIMIT_MIN}-${MEMLIMIT_MAX} bytes`);
  }
  if (memlimit % 1024 !== 0) {
    throw new KdfParametersRejected("memlimit must be a whole number of KiB");
  }
}

/** True if `params` cost at least as much as `other` in both dimensions. */
export function isAtLeast(params, other) {
  return params.opslimit >= other.opslimit && params.memlimit >= other.memlimit;
}

export function generateSalt() {
  return randomBytes(SALT_SIZE);
}

function argon2id(secret, salt, params) {
  checkKdfParams(params);
  requireBytes(salt, SALT_SIZE, "salt");
  const lib = S();
  return lib.crypto_pwhash(32, secret, salt, params.opslimit, params.memlimit,
    lib.crypto_pwhash_ALG_ARGON2ID13);
}

/** `argon2id` that lets the page paint while it runs and reports `onProgress(0..1)`. */
async function argon2idYielding(secret, salt, params, onProgress) {
  checkKdfParams(params);
  requireBytes(salt, SALT_SIZE, "salt");
  const lib = S();
  if (typeof lib.crypto_pwhash_async !== "function") { // libsodium: a fraction of a second
    const out = lib.crypto_pwhash(32, secret, salt, params.opslimit, params.memlimit,
      lib.crypto_pwhash_ALG_ARGON2ID13);
    onProgress?.(1);
    return out;
  }
  const out = await lib.crypto_pwhash_async(32, secret, salt, params.opslimit, params.memlimit,
    lib.crypto_pwhash_ALG_ARGON2ID13, onProgress ?? null);
  onProgress?.(1);
  return out;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function passwordBytes(password) {
  if (typeof password !== "string" || password.length === 0) {
    throw new MalformedInput("password must be a non-empty string");
  }
  if (LONE_SURROGATE.test(password)) throw new MalformedInput("password is not valid Unicode");
  return encoder.encode(password.normalize("NFC"));
}

/**
 * One Argon2id derivation over the password, split into `loginSecret` (send it to the server)
 * and `unwrapKey` (keep it in the page). Synchronous; takes about half a second with
 * STAFF_PASSWORD_V1.
 */
export function deriveStaffSecrets(password, salt, params) {
  const master = argon2id(passwordBytes(password), salt, params);
  return {
    loginSecret: subkey(master, "candor/v1/login-secret"),
    unwrapKey: subkey(master, "candor/v1/password-unwrap-key"),
  };
}

// ---------------------------------------------------------------------------------------------
// Key pairs, wrapped private keys and recovery codes (SPEC.md 8.2-8.3)

export const WRAPPED_KEY_SIZE = 1 + AEAD_NONCE_SIZE + 32 + AEAD_TAG_SIZE;
const RECOVERY_CODE_SYMBOLS = 28;

/** `{privateKey, publicKey}` for an X25519 private key. */
export function keyPairFromPrivateKey(privateKey) {
  requireBytes(privateKey, 32, "private key");
  return { privateKey, publicKey: S().crypto_scalarmult_base(privateKey) };
}

export function generateStaffKeyPair() {
  return keyPairFromPrivateKey(randomBytes(32));
}

function wrappedKeyAssociatedData(staffId) {
  return concat(context("candor/v1/wrapped-private-key"), u8(VERSION),
    lp(identifier(staffId, "staff id")));
}

/** Wrap a private key (or `{privateKey}`) under an unwrap key, bound to `staffId` (73 bytes). */
export function wrapPrivateKey(keyPairOrPrivateKey, unwrapKey, staffId) {
  const nonce = randomBytes(AEAD_NONCE_SIZE);
  return _wrapPrivateKeyWithNonce(keyPairOrPrivateKey, unwrapKey, staffId, nonce);
}

/** Test only: `wrapPrivateKey` with a chosen nonce. Reusing a nonce under a key breaks the AEAD. */
export function _wrapPrivateKeyWithNonce(keyPairOrPrivateKey, unwrapKey, staffId, nonce) {
  const privateKey = isBytes(keyPairOrPrivateKey)
    ? keyPairOrPrivateKey
    : keyPairOrPrivateKey?.privateKey;
  requireBytes(privateKey, 32, "private key");
  symmetricKey(unwrapKey, "unwrap key");
  const ad = wrappedKeyAssociatedData(staffId);
  return concat(u8(VERSION), nonce, aeadEncrypt(unwrapKey, nonce, privateKey, ad));
}

/** Unwrap a staff private key; DecryptionError for a wrong key or staff id. */
export function unwrapPrivateKey(blob, unwrapKey, staffId) {
  symmetricKey(unwrapKey, "unwrap key");
  const ad = wrappedKeyAssociatedData(staffId);
  if (!isBytes(blob) || blob.length === 0) throw new MalformedInput("wrapped key is empty");
  if (blob[0] !== VERSION) throw new UnsupportedVersion(`wrapped key version ${blob[0]}`);
  if (blob.length !== WRAPPED_KEY_SIZE) {
    throw new MalformedInput(`wrapped key must be ${WRAPPED_KEY_SIZE} bytes`);
  }
  const nonce = blob.slice(1, 1 + AEAD_NONCE_SIZE);
  return keyPairFromPrivateKey(aeadDecrypt(unwrapKey, nonce, blob.slice(1 + AEAD_NONCE_SIZE), ad));
}

/** A new recovery code: 28 Crockford base32 symbols (140 bits) in 7 groups of 4. */
export function generateRecoveryCode() {
  const symbols = Array.from(randomBytes(RECOVERY_CODE_SYMBOLS), (b) => CROCKFORD[b & 31]).join("");
  return symbols.match(/.{4}/g).join("-");
}

/** The canonical 28-symbol form of a typed recovery code (SPEC.md 8.3). */
export function normaliseRecoveryCode(code) {
  if (typeof code !== "string") throw new MalformedInput("recovery code must be text");
  const compact = code.replace(/[ \t\r\n-]/g, "");
  if (/[^\x00-\x7f]/.test(compact)) {
    throw new MalformedInput("recovery code has characters outside the alphabet");
  }
  const upper = compact.replace(/[a-z]/g, (c) => c.toUpperCase())
    .replace(/O/g, "0")
    .replace(/[IL]/g, "1");
  if (upper.length !== RECOVERY_CODE_SYMBOLS || [...upper].some((c) => !CROCKFORD.includes(c))) {
    throw new MalformedInput(`recovery code must be ${RECOVERY_CODE_SYMBOLS} symbols`);
  }
  return upper;
}

/** The unwrap key for the recovery copy of a staff private key. */
export function recoveryUnwrapKey(code, salt) {
  requireBytes(salt, SALT_SIZE, "salt");
  const normalised = ascii(normaliseRecoveryCode(code));
  return contextHash("candor/v1/recovery-unwrap-key", concat(salt, normalised));
}

// Unlocking with a passkey (SPEC.md 8.12): the PRF extension's output for one credential is
// turned into one more unwrap key; the copy it wraps is in the 8.2 format.
const PASSKEY_PRF_INPUT_CONTEXT = "candor/v1/passkey-prf-input";
export const PASSKEY_PRF_OUTPUT_SIZE = 32;
const MIN_CREDENTIAL_ID_SIZE = 16;
const MAX_CREDENTIAL_ID_SIZE = 1023;

/** What a client passes as the PRF extension's `eval.first`, for every credential. */
export function passkeyPrfInput() {
  return ascii(PASSKEY_PRF_INPUT_CONTEXT);
}

/** The unwrap key for the copy of a private key wrapped under one passkey's PRF output. */
export function passkeyUnwrapKey(credentialId, prfOutput) {
  if (!isBytes(credentialId) || credentialId.length < MIN_CREDENTIAL_ID_SIZE
      || credentialId.length > MAX_CREDENTIAL_ID_SIZE) {
    throw new MalformedInput(
      `credential id must be ${MIN_CREDENTIAL_ID_SIZE}-${MAX_CREDENTIAL_ID_SIZE} bytes`);
  }
  requireBytes(prfOutput, PASSKEY_PRF_OUTPUT_SIZE, "PRF output");
  return contextHash("candor/v1/passkey-unwrap-key", concat(lp(credentialId), prfOutput));
}

const RECOVERY_CHALLENGE_CONTEXT = "candor/v1/recovery-challenge";
const RECOVERY_CHALLENGE_SIZE = 32;
export const SEALED_CHALLENGE_SIZE =
  1 + 48 + context(RECOVERY_CHALLENGE_CONTEXT).length + RECOVERY_CHALLENGE_SIZE;

/** Open a recovery challenge sealed to `keyPair` (SPEC.md 8.3); return the 32-byte challenge. */
export function openRecoveryChallenge(sealed, keyPair) {
  if (!isBytes(sealed) || sealed.length === 0) throw new MalformedInput("sealed challenge is empty");
  if (sealed[0] !== VERSION) throw new UnsupportedVersion(`sealed challenge version ${sealed[0]}`);
  if (sealed.length !== SEALED_CHALLENGE_SIZE) {
    throw new MalformedInput(`sealed challenge must be ${SEALED_CHALLENGE_SIZE} bytes`);
  }
  requireBytes(keyPair?.privateKey, 32, "private key");
  requireBytes(keyPair?.publicKey, 32, "public key");
  const opened = sealOpen(sealed.slice(1), keyPair, "challenge");
  const prefix = context(RECOVERY_CHALLENGE_CONTEXT);
  if (!S().memcmp(opened.slice(0, prefix.length), prefix)) {
    throw new DecryptionError("sealed box is not a recovery challenge");
  }
  return opened.slice(prefix.length);
}

// ---------------------------------------------------------------------------------------------
// Organisation key, directory entries, fingerprints (SPEC.md 8.4-8.6)

const SIGNATURE_SIZE = 64;
const MAX_ROLES = 16;

/**
 * Load a stored organisation signing key (`0x01 || seed`). Browsers never need this: it exists
 * for tools and test vectors. Returns `{verifyKey, secretKey}`.
 */
export function loadOrganisationKey(stored) {
  if (!isBytes(stored) || stored.length === 0) throw new MalformedInput("signing key is empty");
  if (stored[0] !== VERSION) throw new UnsupportedVersion(`signing key version ${stored[0]}`);
  if (stored.length !== 33) throw new MalformedInput("signing key must be 33 bytes");
  const pair = S().crypto_sign_seed_keypair(stored.slice(1));
  return { verifyKey: pair.publicKey, secretKey: pair.privateKey };
}

function sortedRoles(roles) {
  if (!Array.isArray(roles) || !roles.every((r) => typeof r === "string")) {
    throw new MalformedInput("roles must be strings");
  }
  return [...new Set(roles)].sort();
}

/**
 * The canonical bytes of an entry `{staffId, username, roles, publicKey, created, notAfter,
 * revoked}` (times in whole seconds since the epoch).
 */
export function encodeEntry(entry) {
  const roles = sortedRoles(entry.roles ?? []);
  if (roles.length > MAX_ROLES) throw new MalformedInput(`at most ${MAX_ROLES} roles`);
  if (!(entry.notAfter > entry.created)) {
    throw new MalformedInput("notAfter must be later than created");
  }
  if (typeof entry.revoked !== "boolean") throw new MalformedInput("revoked must be a boolean");
  return concat(
    u8(VERSION),
    lp(identifier(entry.staffId, "staff id")),
    lp(identifier(entry.username, "username")),
    u8(roles.length),
    ...roles.map((r) => lp(roleName(r))),
    requireBytes(entry.publicKey, 32, "public key"),
    timestamp(entry.created),
    timestamp(entry.notAfter),
    u8(entry.revoked ? 1 : 0),
  );
}

const signedMessage = (encoded) => concat(context("candor/v1/directory-entry"), encoded);

/** Sign an entry with a stored organisation key (tools and test vectors only). */
export function signEntry(storedOrganisationKey, entry) {
  const { secretKey } = loadOrganisationKey(storedOrganisationKey);
  const encoded = encodeEntry(entry);
  return concat(encoded, S().crypto_sign_detached(signedMessage(encoded), secretKey));
}

/**
 * Verify a signed entry under the organisation verify key and return it. Does not look at the
 * clock: call `entryUsableAt(entry, now)` before sealing a case key to `entry.publicKey`.
 */
export function verifyEntry(orgVerifyKey, signed) {
  requireBytes(orgVerifyKey, 32, "organisation verify key");
  if (!isBytes(signed) || signed.length < 1 + SIGNATURE_SIZE) {
    throw new MalformedInput("signed entry is too short");
  }
  if (signed[0] !== VERSION) throw new UnsupportedVersion(`directory entry version ${signed[0]}`);
  const encoded = signed.slice(0, signed.length - SIGNATURE_SIZE);
  const signature = signed.slice(signed.length - SIGNATURE_SIZE);
  let valid = false;
  try {
    valid = S().crypto_sign_verify_detached(signature, signedMessage(encoded), orgVerifyKey);
  } catch {
    valid = false;
  }
  if (!valid) throw new SignatureInvalid("directory entry signature does not verify");
  return parseEntry(encoded);
}

function parseEntry(encoded) {
  const r = new Reader(encoded);
  r.u8();
  const staffId = r.identifier("staff id");
  const username = r.identifier("username");
  const count = r.u8();
  const roles = Array.from({ length: count }, () => r.ascii("role name"));
  roles.forEach(roleName);
  const canonical = [...new Set(roles)].sort();
  if (roles.length > MAX_ROLES || canonical.join("\n") !== roles.join("\n")) {
    throw new MalformedInput("roles must be at most 16, strictly ascending");
  }
  const publicKey = r.take(32);
  const created = r.timestamp();
  const notAfter = r.timestamp();
  const revoked = r.u8();
  r.finish();
  if (notAfter <= created) throw new MalformedInput("notAfter must be later than created");
  if (revoked !== 0 && revoked !== 1) throw new MalformedInput("revoked flag must be 0 or 1");
  return { staffId, username, roles, publicKey, created, notAfter, revoked: revoked === 1 };
}

/** True if a client may seal to this entry's key at `now` (seconds since the epoch). */
export function entryUsableAt(entry, now) {
  return !entry.revoked && entry.created <= now && now < entry.notAfter;
}

/** A short fingerprint of a 32-byte public key: 24 Crockford symbols in 6 groups of 4. */
export function fingerprint(publicKey) {
  const digest = contextHash("candor/v1/fingerprint", requireBytes(publicKey, 32, "public key"));
  return base32Crockford(digest.slice(0, 15)).match(/.{4}/g).join(" ");
}

// ---------------------------------------------------------------------------------------------
// Case keys, grants and content records (SPEC.md 8.7-8.8)

export const GrantKind = Object.freeze({ RECIPIENT: 1, REPORTER: 2, ESCROW: 3, SHARE: 4 });
export const RecordKind = Object.freeze({
  REPORT: 1, MESSAGE: 2, NOTE: 3, IDENTITY: 4, FILE_KEY: 5, FILE_NAME: 6, FINDINGS: 7, ACTION: 8,
  SHARE: 9,
});
const SEAL_OVERHEAD = 48;
const INNER_FIXED = 1 + 1 + 4 + 32;
export const GRANT_MIN_SIZE = 1 + SEAL_OVERHEAD + INNER_FIXED + 1;
export const GRANT_MAX_SIZE = 1 + SEAL_OVERHEAD + INNER_FIXED + MAX_IDENTIFIER_LENGTH;

function kindValue(value, kinds, what) {
  if (!Object.values(kinds).includes(value)) throw new MalformedInput(`unknown ${what} ${value}`);
  return value;
}

export function generateCaseKey() {
  return randomBytes(32);
}

/**
 * A grant: the case key sealed to `recipientPublicKey` for `caseRef` and `kind` (GrantKind).
 * Seal only to a key from a directory entry that verified and is usable now, or to the
 * reporter's own derived key.
 */
export function sealCaseKey(caseKey, recipientPublicKey, caseRef, kind) {
  symmetricKey(caseKey, "case key");
  checkPublicKey(recipientPublicKey);
  const inner = concat(u8(VERSION), u8(kindValue(kind, GrantKind, "grant kind")),
    lp(identifier(caseRef, "case reference")), caseKey);
  return concat(u8(VERSION), S().crypto_box_seal(inner, recipientPublicKey));
}

/** Open a grant with `{privateKey, publicKey}`; DecryptionError unless made for caseRef and kind. */
export function openGrant(grant, keyPair, caseRef, kind) {
  const expectedKind = kindValue(kind, GrantKind, "grant kind");
  const expectedCase = identifierText(caseRef, "case reference");
  if (!isBytes(grant) || grant.length === 0) throw new MalformedInput("grant is empty");
  if (grant[0] !== VERSION) throw new UnsupportedVersion(`grant version ${grant[0]}`);
  if (grant.length < GRANT_MIN_SIZE || grant.length > GRANT_MAX_SIZE) {
    throw new MalformedInput(`grant must be ${GRANT_MIN_SIZE}-${GRANT_MAX_SIZE} bytes`);
  }
  requireBytes(keyPair?.privateKey, 32, "private key");
  requireBytes(keyPair?.publicKey, 32, "public key");
  const inner = sealOpen(grant.slice(1), keyPair, "grant");
  const r = new Reader(inner);
  if (r.u8() !== VERSION) throw new UnsupportedVersion("grant content version");
  const sealedKind = r.u8();
  const sealedCase = r.identifier("case reference");
  const caseKey = r.take(32);
  r.finish();
  if (sealedKind !== expectedKind || sealedCase !== expectedCase) {
    throw new DecryptionError("grant was made for another case or kind");
  }
  return caseKey;
}

export function recordAssociatedData(kind, caseRef, recordRef) {
  return concat(
    context("candor/v1/record"),
    u8(VERSION),
    u8(kindValue(kind, RecordKind, "record kind")),
    lp(identifier(caseRef, "case reference")),
    lp(identifier(recordRef, "record reference")),
  );
}

/** Pad and encrypt one content record (bytes) under the case key. */
export function encryptRecord(caseKey, kind, caseRef, recordRef, content) {
  const nonce = randomBytes(AEAD_NONCE_SIZE);
  return _encryptRecordWithNonce(caseKey, kind, caseRef, recordRef, content, nonce);
}

/** Test only: `encryptRecord` with a chosen nonce. Reusing a nonce under a key breaks the AEAD. */
export function _encryptRecordWithNonce(caseKey, kind, caseRef, recordRef, content, nonce) {
  symmetricKey(caseKey, "case key");
  const ad = recordAssociatedData(kind, caseRef, recordRef);
  return concat(u8(VERSION), nonce, aeadEncrypt(caseKey, nonce, pad(content), ad));
}

/**
 * Decrypt one content record and remove its padding. DecryptionError if it was encrypted for
 * another case, record or kind, or changed; InvalidPadding if its padding is not canonical.
 */
export function decryptRecord(caseKey, kind, caseRef, recordRef, record) {
  symmetricKey(caseKey, "case key");
  const ad = recordAssociatedData(kind, caseRef, recordRef);
  if (!isBytes(record) || record.length === 0) throw new MalformedInput("record is empty");
  if (record[0] !== VERSION) throw new UnsupportedVersion(`record version ${record[0]}`);
  if (!BUCKETS.includes(record.length - 1 - AEAD_NONCE_SIZE - AEAD_TAG_SIZE)) {
    throw new MalformedInput("record length is not a padded bucket");
  }
  const nonce = record.slice(1, 1 + AEAD_NONCE_SIZE);
  return unpad(aeadDecrypt(caseKey, nonce, record.slice(1 + AEAD_NONCE_SIZE), ad));
}

/** `encryptRecord` of UTF-8 text. */
export function encryptTextRecord(caseKey, kind, caseRef, recordRef, text) {
  return encryptRecord(caseKey, kind, caseRef, recordRef, utf8Encode(text));
}

/** `decryptRecord` decoded as strict UTF-8. Put the result in the page with textContent only. */
export function decryptTextRecord(caseKey, kind, caseRef, recordRef, record) {
  return utf8Decode(decryptRecord(caseKey, kind, caseRef, recordRef, record));
}

// The content of a FILE_NAME record (SPEC.md 8.8.1): a sized name `0x00 ‖ u8(1) ‖ u64(size) ‖
// utf8(name)`, or, as made before sizes were recorded, the plain name (no size).
const FILE_NAME_SIZED_MARKER = 0x00;
const FILE_NAME_SIZED_VERSION = 1;
const FILE_NAME_SIZED_HEADER = 10;

/** A sized FILE_NAME content; `size` is the plaintext length of the attachment's stream. */
export function encodeFileName(name, size) {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new MalformedInput("an attachment size is a whole number of bytes below 2**53");
  }
  if (typeof name !== "string") throw new MalformedInput("a file name must be text");
  return concat(u8(FILE_NAME_SIZED_MARKER), u8(FILE_NAME_SIZED_VERSION), u64(size),
    utf8Encode(name));
}

/**
 * `{name, size}` of a FILE_NAME content, either layout; `size` is null for a plain name. The
 * size is the sender's claim: compare it with what the stream decrypts to before trusting it.
 */
export function decodeFileName(content) {
  if (!isBytes(content)) throw new MalformedInput("file name content must be bytes");
  let size = null;
  if (content.length > 0 && content[0] === FILE_NAME_SIZED_MARKER) {
    if (content.length < 2) throw new MalformedInput("sized file name ends early");
    if (content[1] !== FILE_NAME_SIZED_VERSION) {
      throw new UnsupportedVersion(`sized file name version ${content[1]}`);
    }
    const r = new Reader(content.slice(2, FILE_NAME_SIZED_HEADER));
    const b = r.take(8);
    r.finish();
    const view = new DataView(b.buffer, b.byteOffset, 8);
    const high = view.getUint32(0);
    if (high >= 2 ** 21) throw new MalformedInput("attachment size is 2**53 or more");
    size = high * 2 ** 32 + view.getUint32(4);
    content = content.slice(FILE_NAME_SIZED_HEADER);
  }
  let name;
  try {
    name = utf8Decode(content);
  } catch {
    throw new MalformedInput("file name is not valid UTF-8");
  }
  return { name, size };
}

// ---------------------------------------------------------------------------------------------
// Attachments (SPEC.md 8.9)

export const CHUNK_SIZE = 64 * 1024;
export const FRAME_SIZE = CHUNK_SIZE + 17;
export const HEADER_SIZE = 1 + 24;

function attachmentAssociatedData(caseRef, attachmentRef) {
  return concat(context("candor/v1/attachment"), u8(VERSION), lp(identifier(caseRef, "case reference")),
    lp(identifier(attachmentRef, "attachment reference")));
}

/** A queue of byte pieces from which exact lengths can be taken without copying everything. */
class ByteQueue {
  constructor() {
    this.pieces = [];
    this.length = 0;
  }
  push(bytes) {
    if (!isBytes(bytes)) throw new MalformedInput("stream data must be bytes");
    if (bytes.length) {
      this.pieces.push(bytes);
      this.length += bytes.length;
    }
  }
  peek() {
    return this.pieces[0][0];
  }
  take(n) {
    const out = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      const piece = this.pieces[0];
      const used = Math.min(piece.length, n - at);
      out.set(piece.subarray(0, used), at);
      at += used;
      if (used === piece.length) this.pieces.shift();
      else this.pieces[0] = piece.subarray(used);
    }
    this.length -= n;
    return out;
  }
  takeAll() {
    return this.take(this.length);
  }
}

export function generateFileKey() {
  return randomBytes(32);
}

/**
 * Encrypts one attachment: send `header`, then every frame `update` returns, then `finish()`.
 */
export class StreamEncryptor {
  constructor(fileKey, caseRef, attachmentRef) {
    symmetricKey(fileKey, "file key");
    this.ad = attachmentAssociatedData(caseRef, attachmentRef);
    const init = S().crypto_secretstream_xchacha20poly1305_init_push(fileKey);
    this.state = init.state;
    this.header = concat(u8(VERSION), init.header);
    this.queue = new ByteQueue();
    this.finished = false;
  }
  push(chunk, tag) {
    return S().crypto_secretstream_xchacha20poly1305_push(this.state, chunk, this.ad, tag);
  }
  /** Add file data; returns the frames now complete (possibly none). */
  update(data) {
    if (this.finished) throw new Error("stream already finished");
    this.queue.push(data);
    const frames = [];
    const tag = S().crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
    while (this.queue.length >= CHUNK_SIZE) {
      frames.push(this.push(this.queue.take(CHUNK_SIZE), tag));
    }
    return frames;
  }
  /** The final frame: remaining data padded to a whole chunk, tagged FINAL. */
  finish() {
    if (this.finished) throw new Error("stream already finished");
    this.finished = true;
    const last = padTo(this.queue.takeAll(), CHUNK_SIZE);
    return this.push(last, S().crypto_secretstream_xchacha20poly1305_TAG_FINAL);
  }
}

/**
 * Decrypts one attachment given in pieces of any size. Plaintext comes out before the end of the
 * stream is checked: treat it as untrusted until `finish()` returns without throwing.
 */
export class StreamDecryptor {
  constructor(fileKey, caseRef, attachmentRef) {
    this.key = symmetricKey(fileKey, "file key");
    this.ad = attachmentAssociatedData(caseRef, attachmentRef);
    this.queue = new ByteQueue();
    this.state = null;
    this.done = false;
  }
  /** Add stream bytes; returns the plaintext of every frame now complete. */
  update(data) {
    if (!isBytes(data)) throw new MalformedInput("stream data must be bytes");
    if (this.done && data.length) throw new MalformedInput("data after the final frame");
    this.queue.push(data);
    if (this.state === null) {
      if (this.queue.length && this.queue.peek() !== VERSION) {
        throw new UnsupportedVersion(`stream version ${this.queue.peek()}`);
      }
      if (this.queue.length < HEADER_SIZE) return [];
      const header = this.queue.take(HEADER_SIZE).slice(1);
      this.state = S().crypto_secretstream_xchacha20poly1305_init_pull(header, this.key);
    }
    const chunks = [];
    while (this.queue.length >= FRAME_SIZE) {
      if (this.done) throw new MalformedInput("data after the final frame");
      chunks.push(this.pull(this.queue.take(FRAME_SIZE)));
    }
    if (this.done && this.queue.length) throw new MalformedInput("data after the final frame");
    return chunks;
  }
  pull(frame) {
    const lib = S();
    const result = lib.crypto_secretstream_xchacha20poly1305_pull(this.state, frame, this.ad);
    if (!result) throw new DecryptionError("stream frame does not authenticate");
    if (result.tag === lib.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE) return result.message;
    if (result.tag === lib.crypto_secretstream_xchacha20poly1305_TAG_FINAL) {
      this.done = true;
      return stripPadding(result.message);
    }
    throw new MalformedInput(`unexpected stream tag ${result.tag}`);
  }
  /** Throw TruncatedStream unless the final frame has been decrypted. */
  finish() {
    if (!this.done) throw new TruncatedStream("stream ended before its final frame");
  }
}

async function* pieces(source) {
  if (typeof Blob !== "undefined" && source instanceof Blob) source = source.stream();
  if (typeof ReadableStream !== "undefined" && source instanceof ReadableStream) {
    const reader = source.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield value;
      }
    } finally {
      reader.releaseLock();
    }
  }
  yield* source;
}

/**
 * Encrypt a Blob/File, ReadableStream or (async) iterable of Uint8Array chunk by chunk; yields
 * the header and then frames.
 */
export async function* encryptStream(fileKey, caseRef, attachmentRef, source) {
  const encryptor = new StreamEncryptor(fileKey, caseRef, attachmentRef);
  yield encryptor.header;
  for await (const piece of pieces(source)) yield* encryptor.update(piece);
  yield encryptor.finish();
}

/** Decrypt a stream given like `encryptStream`'s source; throws at the end if truncated. */
export async function* decryptStream(fileKey, caseRef, attachmentRef, source) {
  const decryptor = new StreamDecryptor(fileKey, caseRef, attachmentRef);
  for await (const piece of pieces(source)) yield* decryptor.update(piece);
  decryptor.finish();
}

/** The FILE_KEY record that stores an attachment's file key. */
export function encryptFileKey(caseKey, caseRef, recordRef, fileKey) {
  symmetricKey(fileKey, "file key");
  return encryptRecord(caseKey, RecordKind.FILE_KEY, caseRef, recordRef, fileKey);
}

export function decryptFileKey(caseKey, caseRef, recordRef, record) {
  const content = decryptRecord(caseKey, RecordKind.FILE_KEY, caseRef, recordRef, record);
  if (content.length !== 32) throw new MalformedInput("file key record must hold 32 bytes");
  return content;
}

// ---------------------------------------------------------------------------------------------
// Codenames and the reporter key pair (SPEC.md 8.10)

export const WORD_COUNT = 7776;
export const MIN_WORDS = 7;
export const MAX_WORDS = 16;
const WORDLIST_BLAKE2B = "323606b363ebdedff9f562cb84c50df1a21cbd4b597ff4566df92bb9f2cefdfd";
const SEPARATORS = /[ \t\n\r\v\f\u00a0]+/;

let wordlistPromise = null;

/** Check the EFF long list file (pinned digest, 7776 distinct lines) and return its words. */
export function parseWordlist(bytes) {
  if (toHex(S().crypto_generichash(32, bytes, null)) !== WORDLIST_BLAKE2B) {
    throw new MalformedInput("word list is not the EFF long list");
  }
  const words = new TextDecoder().decode(bytes).split("\n");
  words.pop(); // the empty string after the last newline
  if (words.length !== WORD_COUNT || new Set(words).size !== WORD_COUNT) {
    throw new MalformedInput(`word list must hold ${WORD_COUNT} distinct words`);
  }
  return Object.freeze(words);
}

/** Fetch (once) and check the word list, served same-origin next to libsodium. */
export function loadWordlist(url = new URL("../vendor/eff-long.txt", import.meta.url)) {
  if (wordlistPromise === null) {
    wordlistPromise = (async () => {
      const response = await fetch(url, { credentials: "same-origin" });
      if (!response.ok) throw new Error(`could not load the word list (${response.status})`);
      const words = parseWordlist(new Uint8Array(await response.arrayBuffer()));
      return { words, known: new Set(words) };
    })();
    wordlistPromise.catch(() => { wordlistPromise = null; });
  }
  return wordlistPromise;
}

/** A new codename of `words` words (7-16), each drawn uniformly with libsodium's CSPRNG. */
export async function generateCodename(words = MIN_WORDS) {
  if (!Number.isInteger(words) || words < MIN_WORDS || words > MAX_WORDS) {
    throw new MalformedInput(`codenames have ${MIN_WORDS}-${MAX_WORDS} words`);
  }
  const list = (await loadWordlist()).words;
  return Array.from({ length: words }, () => list[S().randombytes_uniform(WORD_COUNT)]).join(" ");
}

/** The canonical form of a typed codename: ASCII lower case, single spaces, no ends. */
export async function normaliseCodename(typed) {
  if (typeof typed !== "string") throw new MalformedInput("codename must be text");
  const { known } = await loadWordlist();
  const lowered = typed.replace(/[A-Z]/g, (c) => c.toLowerCase());
  const words = lowered.split(SEPARATORS).filter((w) => w.length > 0);
  if (words.some((w) => !known.has(w))) {
    throw new UnknownCodenameWord("codename contains a word that is not in the word list");
  }
  if (words.length < MIN_WORDS || words.length > MAX_WORDS) {
    throw new MalformedInput(`codenames have ${MIN_WORDS}-${MAX_WORDS} words`);
  }
  return words.join(" ");
}

/** The 32-byte identifier that finds a reporter's case. */
export async function codenameLookupId(codename) {
  return contextHash("candor/v1/codename-lookup", ascii(await normaliseCodename(codename)));
}

/**
 * The reporter's `{privateKey, publicKey}` from the codename and the case's own salt.
 * `onProgress(fraction)` hears how far the derivation is (the noble backend takes seconds).
 */
export async function deriveReporterKeyPair(codename, salt, params = REPORTER_CODENAME_V1,
  { onProgress } = {}) {
  const normalised = ascii(await normaliseCodename(codename));
  const master = await argon2idYielding(normalised, salt, params, onProgress);
  return keyPairFromPrivateKey(subkey(master, "candor/v1/reporter-box-key"));
}
