// How a size is written wherever a person reads one, in the reporter's and staff's pages alike;
// candor_reporter/file_size.py writes it the same way without JavaScript and in the CLI.
// Units of 1024, named KB, MB and GB as most file managers show them.

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
  return `up to ${formatBytes(Math.max(1, frames) * CHUNK_SIZE)}`;
}

/**
 * What to tell a recipient once a stream has decrypted to `decrypted` bytes: a sentence when the
 * size its sender stated differs (a faulty or dishonest sending program), else null.
 */
export function sizeMismatch(stated, decrypted) {
  if (stated === null || stated === undefined || stated === decrypted) return null;
  return `Its sender's program stated ${formatBytes(stated)}, but the file is ` +
    `${formatBytes(decrypted)}: the size shown before downloading was wrong.`;
}
