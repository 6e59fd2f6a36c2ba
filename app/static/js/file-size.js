// How a size is written wherever a person reads one, in the reporter's and staff's pages alike;
// app/reporter/routes.py (the `file_size` filter) writes it the same way without JavaScript.
// Units of 1024, named KB, MB and GB as most file managers show them.

const CHUNK_SIZE = 64 * 1024; // as SPEC.md 8.9: the plaintext of one full frame

export function formatBytes(size) {
  if (size < 1024) return `${size} bytes`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KB`;
  if (size < 1024 ** 3) return `${(size / 1024 ** 2).toFixed(1)} MB`;
  return `${(size / 1024 ** 3).toFixed(2)} GB`;
}

/**
 * What can be said of an attachment's size before it is decrypted: its stream hides the exact
 * length, so only "up to" the capacity of its frames.
 */
export function sizeBeforeDecrypting(frames) {
  return `up to ${formatBytes(Math.max(1, frames) * CHUNK_SIZE)}`;
}
