// Bytes as every script handles them: standard base64 and joining. Nothing here needs the
// cryptography backend, so a page can use it before libsodium (or its fallback) has loaded, and
// noble-sodium.js bundles it too.

// btoa and atob work on strings of byte-sized characters; a large array is converted in slices
// (spreading it whole into String.fromCharCode overflows the stack).
const SLICE = 0x8000;

/** Standard base64 (with padding), as the API sends and expects. */
export function b64(bytes) {
  let binary = "";
  for (let at = 0; at < bytes.length; at += SLICE) {
    binary += String.fromCharCode(...bytes.subarray(at, at + SLICE));
  }
  return btoa(binary);
}

/** The bytes of standard base64 text; throws on anything else. */
export function unb64(text) {
  if (typeof text !== "string" || text.length % 4 !== 0 || /[^A-Za-z0-9+/=]/.test(text)) {
    throw new TypeError("not standard base64");
  }
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/** One array of the bytes of `parts` (an array of Uint8Array), in order. */
export function joinBytes(parts) {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
