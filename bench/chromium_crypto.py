"""Crypto a reporter waits for in Chromium: the codename key derivation, and encrypting a 25 MB
attachment with ``StreamEncryptor`` from ``app/static/js/candor-crypto.js``.

Usage: ``.venv/bin/python bench/chromium_crypto.py [--runs N] [--megabytes M] [--json PATH]``

Serves ``app/static`` on 127.0.0.1 with the app's script policy, as ``bench/kdf_chromium.py``
does, and runs in one page of Debian Chromium: ``deriveReporterKeyPair`` with
REPORTER_CODENAME_V1 (the first in the page, then the median of the next), and the encryption
of ``--megabytes`` MB of random data fed in 1 MiB slices (as a File is read), frames kept in
memory as the upload would send them. The page's memory is not measured.
"""

from __future__ import annotations

import functools
import http.server
import statistics
import threading

from _report import Report, arguments
from kdf_chromium import ARGS, CHROMIUM, STATIC, Handler
from playwright.sync_api import sync_playwright

MEASURE = """
async ({ runs, megabytes }) => {
  const c = await import("/static/js/candor-crypto.js");
  await c.ready();
  const salt = new Uint8Array(16).fill(7);
  const kdf = [];
  for (let i = 0; i < runs + 1; i++) {
    const start = performance.now();
    await c.deriveReporterKeyPair("abacus mutation skirt thimble graceful quench dropper", salt,
                                  c.REPORTER_CODENAME_V1);
    kdf.push(performance.now() - start);
  }
  const size = megabytes * 1000 * 1000;
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) {
    crypto.getRandomValues(data.subarray(i, Math.min(size, i + 65536)));
  }
  const encrypt = [];
  let total = 0;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const encryptor = new c.StreamEncryptor(c.generateFileKey(), "c-" + "0".repeat(32),
                                            "a-" + "1".repeat(32));
    const frames = [encryptor.header];
    for (let at = 0; at < size; at += 1048576) {
      frames.push(...encryptor.update(data.subarray(at, Math.min(size, at + 1048576))));
    }
    frames.push(encryptor.finish());
    encrypt.push(performance.now() - start);
    total = frames.reduce((sum, f) => sum + f.length, 0);
  }
  return { kdf, encrypt, total };
}
"""


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--megabytes", type=int, default=25)
    options = parser.parse_args()
    report = Report("chromium_crypto", "Reporter crypto in Chromium")
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(STATIC)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            report.note(f"Chromium {browser.version}")
            page = browser.new_context().new_page()
            page.goto(f"http://127.0.0.1:{server.server_port}/")
            result = page.evaluate(MEASURE, {"runs": options.runs,
                                             "megabytes": options.megabytes})
            browser.close()
    finally:
        server.shutdown()
    first, *warm = result["kdf"]
    report.figure("codename key derivation (REPORTER_CODENAME_V1), first in a page", first,
                  "ms", fmt="{:.0f}")
    report.figure("codename key derivation, warm median", statistics.median(warm), "ms",
                  fmt="{:.0f}")
    seconds = statistics.median(result["encrypt"]) / 1000
    report.figure(f"encrypt a {options.megabytes} MB attachment (StreamEncryptor)", seconds, "s",
                  fmt="{:.2f}", note=f"{options.megabytes / seconds:.0f} MB/s, "
                                     f"{result['total']:,} bytes of frames")
    report.write(options.json)


if __name__ == "__main__":
    main()
