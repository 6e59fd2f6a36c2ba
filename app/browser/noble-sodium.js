// The part of libsodium.js that candor-crypto.js uses, on the audited pure-JavaScript noble
// libraries, for browsers without WebAssembly (Tor Browser at its "Safer" level, Chromium with
// --jitless). `make vendor` bundles this file with esbuild into app/static/vendor/noble-sodium.js,
// a classic script that sets `globalThis.candorNoble`; it is never served as it is here.
//
// Every function has libsodium.js's name, arguments and results, and produces libsodium's bytes:
// both backends pass every file in tests/crypto/vectors/ and agree on random inputs
// (tests/crypto/test_browser_vectors.py). Where noble has no such construction (crypto_box_seal,
// secretstream) it is built here from noble's primitives, step for step as libsodium 1.0.22's
// C source does it (crypto/SPEC.md section 13 names the steps).
import { argon2id, argon2idAsync } from "@noble/hashes/argon2.js";
import { blake2b } from "@noble/hashes/blake2.js";
import { chacha20, hchacha, xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { hsalsa, xsalsa20poly1305 } from "@noble/ciphers/salsa.js";
import { poly1305 } from "@noble/ciphers/_poly1305.js";
import { ed25519, x25519 } from "@noble/curves/ed25519.js";
import { joinBytes } from "../static/js/bytes.js";

const fail = (what) => {
  throw new Error(what);
};

const concat = (...parts) => joinBytes(parts);

function bytes(value, what) {
  if (value instanceof Uint8Array) return value;
  if (typeof value === "string") return new TextEncoder().encode(value);
  return fail(`${what} must be bytes`);
}

/** Constant-time comparison of two byte strings of the same length. */
function memcmp(a, b) {
  if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array) || a.length !== b.length) {
    return fail("memcmp needs two byte arrays of the same length");
  }
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

function randombytes_buf(n) {
  const out = new Uint8Array(n);
  for (let at = 0; at < n; at += 65536) crypto.getRandomValues(out.subarray(at, at + 65536));
  return out;
}

/** A uniform integer below `upper` (rejection sampling, as libsodium's randombytes_uniform). */
function randombytes_uniform(upper) {
  if (!Number.isInteger(upper) || upper < 1 || upper > 0xffffffff) fail("bad upper bound");
  const min = (2 ** 32 - upper) % upper; // 2**32 mod upper
  const word = new Uint32Array(1);
  for (;;) {
    crypto.getRandomValues(word);
    if (word[0] >= min) return word[0] % upper;
  }
}

function to_hex(data) {
  return Array.from(bytes(data, "data"), (b) => b.toString(16).padStart(2, "0")).join("");
}

function from_hex(text) {
  if (typeof text !== "string" || !/^(?:[0-9a-fA-F]{2})*$/.test(text)) fail("invalid hex");
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const base64_variants = Object.freeze({ ORIGINAL: 1 });

function to_base64(data, variant = base64_variants.ORIGINAL) {
  if (variant !== base64_variants.ORIGINAL) fail("only the ORIGINAL base64 variant is here");
  let text = "";
  const input = bytes(data, "data");
  for (let at = 0; at < input.length; at += 32768) {
    text += String.fromCharCode(...input.subarray(at, at + 32768));
  }
  return btoa(text);
}

function from_base64(text, variant = base64_variants.ORIGINAL) {
  if (variant !== base64_variants.ORIGINAL) fail("only the ORIGINAL base64 variant is here");
  if (typeof text !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4) {
    fail("invalid base64");
  }
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

const from_string = (text) => new TextEncoder().encode(text);

// --- BLAKE2b (crypto_generichash) ----------------------------------------------------------

function crypto_generichash(length, message, key) {
  const opts = { dkLen: length };
  if (key !== null && key !== undefined) opts.key = bytes(key, "key");
  if (opts.key && (opts.key.length < 16 || opts.key.length > 64)) fail("invalid key length");
  return blake2b(bytes(message, "message"), opts);
}

// --- Argon2id (crypto_pwhash) --------------------------------------------------------------

const crypto_pwhash_ALG_ARGON2ID13 = 2;

function argonOptions(length, opslimit, memlimit, alg) {
  if (alg !== crypto_pwhash_ALG_ARGON2ID13) fail("only Argon2id is here");
  if (memlimit % 1024 !== 0) fail("memlimit must be a whole number of KiB");
  return { t: opslimit, m: memlimit / 1024, p: 1, dkLen: length, maxmem: 2 ** 32 - 1 };
}

function crypto_pwhash(length, password, salt, opslimit, memlimit, alg) {
  return argon2id(bytes(password, "password"), bytes(salt, "salt"),
    argonOptions(length, opslimit, memlimit, alg));
}

/** Not in libsodium.js: Argon2id that yields to the page and reports `progress(0..1)`. */
function crypto_pwhash_async(length, password, salt, opslimit, memlimit, alg, progress) {
  return argon2idAsync(bytes(password, "password"), bytes(salt, "salt"), {
    ...argonOptions(length, opslimit, memlimit, alg), asyncTick: 50,
    onProgress: progress ?? undefined,
  });
}

// --- X25519 --------------------------------------------------------------------------------

function crypto_scalarmult(privateKey, publicKey) {
  return x25519.getSharedSecret(bytes(privateKey, "private key"), bytes(publicKey, "public key"));
}

function crypto_scalarmult_base(privateKey) {
  return x25519.getPublicKey(bytes(privateKey, "private key"));
}

// --- crypto_box_seal: X25519, HSalsa20, XSalsa20-Poly1305, nonce BLAKE2b(epk || pk) --------

const SIGMA = new Uint32Array([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]); // "expand 32-byte k"

function words(input) {
  const view = new DataView(input.buffer, input.byteOffset, input.length);
  return Uint32Array.from({ length: input.length / 4 }, (_, i) => view.getUint32(4 * i, true));
}

function wordBytes(input) {
  const out = new Uint8Array(4 * input.length);
  const view = new DataView(out.buffer);
  input.forEach((word, i) => view.setUint32(4 * i, word, true));
  return out;
}

/** crypto_box_beforenm: HSalsa20 of the X25519 shared secret with a zero nonce. */
function boxKey(privateKey, publicKey) {
  const shared = crypto_scalarmult(privateKey, publicKey);
  const out = new Uint32Array(8);
  hsalsa(SIGMA, words(shared), new Uint32Array(4), out);
  return wordBytes(out);
}

const sealNonce = (ephemeral, recipient) => blake2b(concat(ephemeral, recipient), { dkLen: 24 });

function crypto_box_seal(message, publicKey) {
  const recipient = bytes(publicKey, "public key");
  if (recipient.length !== 32) fail("invalid public key length");
  const ephemeralPrivate = randombytes_buf(32);
  const ephemeral = x25519.getPublicKey(ephemeralPrivate);
  const box = xsalsa20poly1305(boxKey(ephemeralPrivate, recipient), sealNonce(ephemeral, recipient));
  ephemeralPrivate.fill(0);
  return concat(ephemeral, box.encrypt(bytes(message, "message")));
}

function crypto_box_seal_open(sealed, publicKey, privateKey) {
  const input = bytes(sealed, "ciphertext");
  if (input.length < 48) fail("ciphertext is too short");
  const ephemeral = input.slice(0, 32);
  let box;
  try {
    box = xsalsa20poly1305(boxKey(privateKey, ephemeral), sealNonce(ephemeral, publicKey));
    return box.decrypt(input.slice(32));
  } catch {
    return fail("incorrect key pair for the given ciphertext");
  }
}

// --- XChaCha20-Poly1305 (IETF) AEAD --------------------------------------------------------

function crypto_aead_xchacha20poly1305_ietf_encrypt(message, ad, secretNonce, nonce, key) {
  return xchacha20poly1305(key, nonce, ad ?? undefined).encrypt(bytes(message, "message"));
}

function crypto_aead_xchacha20poly1305_ietf_decrypt(secretNonce, ciphertext, ad, nonce, key) {
  try {
    return xchacha20poly1305(key, nonce, ad ?? undefined).decrypt(bytes(ciphertext, "ciphertext"));
  } catch {
    return fail("ciphertext cannot be decrypted using that key");
  }
}

// --- secretstream_xchacha20poly1305 (libsodium's crypto_secretstream_xchacha20poly1305.c) ---
// State: a 32-byte key and a 12-byte ChaCha20 (IETF) nonce = counter (4 bytes, little-endian,
// starting at 1) || inonce (8 bytes). Each message: a Poly1305 key from block 0; the tag in the
// first byte of block 1; the message from block 2; the MAC over ad, the 64-byte tag block and
// the ciphertext (each padded to 16 bytes) and both lengths; then inonce ^= MAC[0:8], the counter
// goes up, and the key is renewed after a REKEY tag or when the counter wraps.

const TAG_MESSAGE = 0;
const TAG_PUSH = 1;
const TAG_REKEY = 2;
const TAG_FINAL = TAG_PUSH | TAG_REKEY;
const STREAM_ABYTES = 17;
const ZEROS = new Uint8Array(16);

function hchacha20(key, input16) {
  const out = new Uint32Array(8);
  hchacha(SIGMA, words(key), words(input16), out);
  return wordBytes(out);
}

function counterReset(state) {
  state.nonce.fill(0, 0, 4);
  state.nonce[0] = 1;
}

function streamInit(header, key) {
  const state = { key: hchacha20(bytes(key, "key"), header.subarray(0, 16)),
                  nonce: new Uint8Array(12) };
  counterReset(state);
  state.nonce.set(header.subarray(16, 24), 4);
  return state;
}

function rekey(state) {
  const fresh = chacha20(state.key, state.nonce, concat(state.key, state.nonce.subarray(4)));
  state.key = fresh.slice(0, 32);
  state.nonce.set(fresh.subarray(32, 40), 4);
  counterReset(state);
}

function le64(n) {
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  view.setUint32(0, n % 2 ** 32, true);
  view.setUint32(4, Math.floor(n / 2 ** 32), true);
  return out;
}

function streamMac(state, ad, block, ciphertext) {
  const mac = poly1305.create(chacha20(state.key, state.nonce, new Uint8Array(64)).subarray(0, 32));
  mac.update(ad);
  mac.update(ZEROS.subarray(0, (0x10 - ad.length) & 0xf));
  mac.update(block);
  mac.update(ciphertext);
  mac.update(ZEROS.subarray(0, (0x10 - 64 + ciphertext.length) & 0xf));
  mac.update(le64(ad.length));
  mac.update(le64(64 + ciphertext.length));
  return mac.digest();
}

function streamAdvance(state, mac, tag) {
  for (let i = 0; i < 8; i++) state.nonce[4 + i] ^= mac[i];
  let carry = 1; // sodium_increment of the 4-byte little-endian counter
  for (let i = 0; i < 4; i++) {
    carry += state.nonce[i];
    state.nonce[i] = carry & 0xff;
    carry >>= 8;
  }
  const wrapped = state.nonce[0] === 0 && state.nonce[1] === 0 && state.nonce[2] === 0 &&
    state.nonce[3] === 0;
  if ((tag & TAG_REKEY) !== 0 || wrapped) rekey(state);
}

function tagBlock(state, firstByte) {
  const block = new Uint8Array(64);
  block[0] = firstByte;
  return chacha20(state.key, state.nonce, block, undefined, 1);
}

function crypto_secretstream_xchacha20poly1305_init_push(key) {
  const header = randombytes_buf(24);
  return { state: streamInit(header, key), header };
}

function crypto_secretstream_xchacha20poly1305_init_pull(header, key) {
  if (!(header instanceof Uint8Array) || header.length !== 24) fail("invalid header length");
  return streamInit(header, key);
}

function crypto_secretstream_xchacha20poly1305_push(state, message, ad, tag) {
  const m = bytes(message, "message");
  const additional = ad ? bytes(ad, "ad") : new Uint8Array(0);
  const block = tagBlock(state, tag);
  const ciphertext = chacha20(state.key, state.nonce, m, undefined, 2);
  const mac = streamMac(state, additional, block, ciphertext);
  streamAdvance(state, mac, tag);
  return concat(block.subarray(0, 1), ciphertext, mac);
}

/** `{message, tag}`, or false if the frame does not authenticate (as libsodium.js). */
function crypto_secretstream_xchacha20poly1305_pull(state, frame, ad) {
  const input = bytes(frame, "ciphertext");
  if (input.length < STREAM_ABYTES) return false;
  const additional = ad ? bytes(ad, "ad") : new Uint8Array(0);
  const block = tagBlock(state, input[0]);
  const tag = block[0];
  block[0] = input[0];
  const ciphertext = input.subarray(1, input.length - 16);
  const mac = streamMac(state, additional, block, ciphertext);
  if (!memcmp(mac, input.subarray(input.length - 16))) return false;
  const message = chacha20(state.key, state.nonce, ciphertext, undefined, 2);
  streamAdvance(state, mac, tag);
  return { message, tag };
}

// --- Ed25519 -------------------------------------------------------------------------------

function crypto_sign_seed_keypair(seed) {
  const secret = bytes(seed, "seed");
  if (secret.length !== 32) fail("invalid seed length");
  const publicKey = ed25519.getPublicKey(secret);
  return { publicKey, privateKey: concat(secret, publicKey), keyType: "ed25519" };
}

function crypto_sign_detached(message, privateKey) {
  const secret = bytes(privateKey, "private key");
  if (secret.length !== 64) fail("invalid private key length");
  return ed25519.sign(bytes(message, "message"), secret.subarray(0, 32));
}

/**
 * As libsodium's crypto_sign_verify_detached: a canonical S, canonical encodings of R and the
 * public key, neither of small order (noble's RFC 8032 mode, zip215 off, plus those checks).
 */
function crypto_sign_verify_detached(signature, message, publicKey) {
  const sig = bytes(signature, "signature");
  const key = bytes(publicKey, "public key");
  if (sig.length !== 64 || key.length !== 32) fail("invalid signature or key length");
  try {
    const Point = ed25519.Point;
    if (Point.fromBytes(key).isSmallOrder() || Point.fromBytes(sig.subarray(0, 32)).isSmallOrder()) {
      return false;
    }
    return ed25519.verify(sig, bytes(message, "message"), key, { zip215: false });
  } catch {
    return false;
  }
}

globalThis.candorNoble = Object.freeze({
  backend: "noble",
  ready: Promise.resolve(),
  memcmp, randombytes_buf, randombytes_uniform, to_hex, from_hex, to_base64, from_base64,
  base64_variants, from_string, crypto_generichash, crypto_pwhash, crypto_pwhash_async,
  crypto_pwhash_ALG_ARGON2ID13, crypto_scalarmult, crypto_scalarmult_base, crypto_box_seal,
  crypto_box_seal_open, crypto_aead_xchacha20poly1305_ietf_encrypt,
  crypto_aead_xchacha20poly1305_ietf_decrypt,
  crypto_secretstream_xchacha20poly1305_TAG_MESSAGE: TAG_MESSAGE,
  crypto_secretstream_xchacha20poly1305_TAG_PUSH: TAG_PUSH,
  crypto_secretstream_xchacha20poly1305_TAG_REKEY: TAG_REKEY,
  crypto_secretstream_xchacha20poly1305_TAG_FINAL: TAG_FINAL,
  crypto_secretstream_xchacha20poly1305_init_push, crypto_secretstream_xchacha20poly1305_init_pull,
  crypto_secretstream_xchacha20poly1305_push, crypto_secretstream_xchacha20poly1305_pull,
  crypto_sign_seed_keypair, crypto_sign_detached, crypto_sign_verify_detached,
});
