// Shared by reporter.js (report submissions) and staff-session.js (signing in after many
// failed attempts with one name, app/services/throttle.py). The puzzle is SPEC.md 4.1.

import * as candor from "./candor-crypto.js";

// The anti-abuse puzzle, as protocol.solve_proof_of_work: an 8-byte nonce (a big-endian counter)
// such that a hash of the context string (with its trailing NUL), the server's challenge and the
// nonce starts with `bits` zero bits. About 2^bits attempts. Two hashes are taken by the server,
// which the solution names:
// - "blake2b-256", from candor-crypto.js: fast with libsodium (WebAssembly), slow in the noble
//   backend without JIT (about 2,000 a second in jitless Chromium: over two minutes at 18 bits);
// - "sha-256", from WebCrypto (`crypto.subtle.digest`), native code even without JIT (about
//   65,000 a second there, in batches awaited together), but slower than libsodium's BLAKE2b.
// Each browser uses the faster one it has (bench/puzzle_hashes.py has the figures).

const PROOF_OF_WORK_CONTEXT = "candor/v1/proof-of-work\0";
const PROOF_OF_WORK_MAX_BITS = 28; // as protocol.PROOF_OF_WORK_MAX_BITS
export const PROOF_OF_WORK_HASHES = Object.freeze(["blake2b-256", "sha-256"]);
const DEFAULT_HASH = PROOF_OF_WORK_HASHES[0]; // what a server that lists none takes
const ATTEMPTS_PER_CLOCK_CHECK = 1024;
const MILLISECONDS_BETWEEN_PAUSES = 50;
// Digests requested together from WebCrypto: each is a round trip to another thread, so many
// are in flight at once; beyond about a thousand the rate no longer grows.
const SHA256_BATCH = 1024;

/** Whether the first `bits` bits of `digest`, most significant first, are all zero. */
export function hasLeadingZeroBits(digest, bits) {
  const whole = Math.floor(bits / 8);
  for (let i = 0; i < whole; i++) if (digest[i] !== 0) return false;
  return bits % 8 === 0 || (digest[whole] >> (8 - (bits % 8))) === 0;
}

function puzzleInput(challenge) {
  const context = new TextEncoder().encode(PROOF_OF_WORK_CONTEXT);
  const input = new Uint8Array(context.length + challenge.length + 8);
  input.set(context);
  input.set(challenge, context.length);
  return input;
}

// The nonce's 8 bytes at the end of the puzzle input, as a view made once per puzzle: without
// JIT every allocation in the loop costs.
const nonceView = (input) => new DataView(input.buffer, input.length - 8);

function setCounter(nonce, counter) {
  nonce.setUint32(0, Math.floor(counter / 2 ** 32));
  nonce.setUint32(4, counter >>> 0);
}

const webCryptoDigest = () => globalThis.crypto?.subtle?.digest !== undefined;

/** The hash this browser solves fastest, of those the server takes (`offered`, if it says). */
export function puzzleHash(offered) {
  const taken = Array.isArray(offered) ? offered : [DEFAULT_HASH];
  if (candor.backendName() !== "noble" && taken.includes("blake2b-256")) return "blake2b-256";
  if (webCryptoDigest() && taken.includes("sha-256")) return "sha-256";
  if (taken.includes("blake2b-256")) return "blake2b-256";
  throw new Error("The server asked for an anti-abuse check this page cannot do, so " +
    "nothing was sent.");
}

/** The puzzle's digest of `challenge` and an 8-byte `nonce` with `hash` (SPEC.md 4.1). */
export async function proofOfWorkDigest(hash, challenge, nonce) {
  await candor.ready();
  const input = puzzleInput(challenge);
  input.set(nonce, input.length - 8);
  if (hash === "sha-256") return new Uint8Array(await crypto.subtle.digest("SHA-256", input));
  if (hash === "blake2b-256") return candor.blake2b256(input);
  throw new Error(`unknown anti-abuse hash ${hash}`);
}

async function solveBlake2b(input, bits, progress) {
  const expected = 2 ** bits;
  const nonce = nonceView(input);
  let lastPause = performance.now();
  for (let counter = 0; ; counter++) {
    setCounter(nonce, counter);
    if (hasLeadingZeroBits(candor.blake2b256(input), bits)) return;
    // The page stays responsive by pausing every 50 ms; pausing after a fixed count instead
    // roughly doubled the time, since each pause takes a few milliseconds of its own.
    if ((counter + 1) % ATTEMPTS_PER_CLOCK_CHECK === 0 &&
        performance.now() - lastPause >= MILLISECONDS_BETWEEN_PAUSES) {
      progress(Math.min(99, Math.floor((100 * counter) / expected)));
      await new Promise((resolve) => setTimeout(resolve));
      lastPause = performance.now();
    }
  }
}

async function solveSha256(input, bits, progress) {
  const expected = 2 ** bits;
  const nonce = nonceView(input);
  const pending = new Array(SHA256_BATCH);
  for (let base = 0; ; base += SHA256_BATCH) {
    // digest() copies its input when called, so one buffer serves the whole batch.
    for (let i = 0; i < SHA256_BATCH; i++) {
      setCounter(nonce, base + i);
      pending[i] = crypto.subtle.digest("SHA-256", input);
    }
    const digests = await Promise.all(pending); // the page runs its own tasks meanwhile
    for (let i = 0; i < SHA256_BATCH; i++) {
      if (hasLeadingZeroBits(new Uint8Array(digests[i]), bits)) {
        setCounter(nonce, base + i);
        return;
      }
    }
    progress(Math.min(99, Math.floor((100 * (base + SHA256_BATCH)) / expected)));
  }
}

/**
 * The first nonce (counting from 0) solving `challenge` with `hash`; `progress(percent)` hears
 * roughly how far along it is.
 */
export async function solveProofOfWorkWith(hash, challenge, bits, progress = () => {}) {
  if (!Number.isInteger(bits) || bits < 0 || bits > PROOF_OF_WORK_MAX_BITS) {
    throw new Error("The server asked for an anti-abuse check this page cannot do, so " +
      "nothing was sent.");
  }
  await candor.ready();
  const input = puzzleInput(challenge);
  if (hash === "sha-256") await solveSha256(input, bits, progress);
  else if (hash === "blake2b-256") await solveBlake2b(input, bits, progress);
  else throw new Error(`unknown anti-abuse hash ${hash}`);
  return input.slice(input.length - 8);
}

/**
 * Solve a puzzle the server offered (`{challenge, bits, hashes}` with the challenge as bytes)
 * with the fastest hash this browser has: `{nonce, hash}`, both to send back.
 */
export async function solveProofOfWork(challenge, bits, progress, offeredHashes) {
  await candor.ready();
  const hash = puzzleHash(offeredHashes);
  return { nonce: await solveProofOfWorkWith(hash, challenge, bits, progress), hash };
}
