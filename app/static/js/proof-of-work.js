// Shared by reporter.js (report submissions) and staff-session.js (signing in after many
// failed attempts with one name, app/services/throttle.py). The hash comes from candor-crypto.js,
// so the puzzle is solved with whichever backend this browser runs (libsodium or noble).

import * as candor from "./candor-crypto.js";

// The anti-abuse puzzle, as protocol.solve_proof_of_work: an 8-byte nonce (a big-endian counter)
// such that BLAKE2b-256 of the context string (with its trailing NUL), the server's challenge
// and the nonce starts with `bits` zero bits. About 2^bits attempts. The page stays responsive
// by pausing every 50 ms; pausing after a fixed count instead roughly doubled the time, since
// each pause takes a few milliseconds of its own.

const PROOF_OF_WORK_CONTEXT = "candor/v1/proof-of-work\0";
const PROOF_OF_WORK_MAX_BITS = 28; // as protocol.PROOF_OF_WORK_MAX_BITS
const ATTEMPTS_PER_CLOCK_CHECK = 1024;
const MILLISECONDS_BETWEEN_PAUSES = 50;

function hasLeadingZeroBits(digest, bits) {
  const whole = Math.floor(bits / 8);
  for (let i = 0; i < whole; i++) if (digest[i] !== 0) return false;
  return bits % 8 === 0 || (digest[whole] >> (8 - (bits % 8))) === 0;
}

/** A nonce solving `challenge`; `progress(percent)` hears roughly how far along it is. */
export async function solveProofOfWork(challenge, bits, progress) {
  if (!Number.isInteger(bits) || bits < 0 || bits > PROOF_OF_WORK_MAX_BITS) {
    throw new Error("The server asked for an anti-abuse check this page cannot do, so " +
      "nothing was sent.");
  }
  await candor.ready();
  const context = new TextEncoder().encode(PROOF_OF_WORK_CONTEXT);
  const input = new Uint8Array(context.length + challenge.length + 8);
  input.set(context);
  input.set(challenge, context.length);
  const nonce = new DataView(input.buffer, input.length - 8);
  const expected = 2 ** bits;
  let lastPause = performance.now();
  for (let counter = 0; ; counter++) {
    nonce.setUint32(0, Math.floor(counter / 2 ** 32));
    nonce.setUint32(4, counter >>> 0);
    if (hasLeadingZeroBits(candor.blake2b256(input), bits)) {
      return input.slice(input.length - 8);
    }
    if ((counter + 1) % ATTEMPTS_PER_CLOCK_CHECK === 0 &&
        performance.now() - lastPause >= MILLISECONDS_BETWEEN_PAUSES) {
      progress(Math.min(99, Math.floor((100 * counter) / expected)));
      await new Promise((resolve) => setTimeout(resolve));
      lastPause = performance.now();
    }
  }
}
