"""Hash rates for the anti-abuse puzzle: browsers with and without JIT against a native attacker.

Usage: ``.venv/bin/python bench/puzzle_hashes.py [--seconds S] [--json PATH]``

The puzzle (crypto/SPEC.md 4.1) costs about 2**bits hashes of a 72-byte input. What matters is
how fast an honest reporter's browser computes them, above all Chromium with
``--js-flags=--jitless`` (Tor Browser "Safer": no JIT, no WebAssembly), against how fast an
attacker's native code does (Python's ``hashlib``, OpenSSL underneath). Measured, each for about
``--seconds``:

- BLAKE2b-256 in Chromium: noble (pure JavaScript) without JIT, libsodium.js (WebAssembly) and
  noble with JIT;
- SHA-256 through WebCrypto (``crypto.subtle.digest``, native code even without JIT), in batches
  of digests awaited together with ``Promise.all``, at several batch sizes, without and with JIT;
- BLAKE2b-256 and SHA-256 in Python ``hashlib``, one core, the input's common prefix absorbed once
  (as a solver would).

Serves ``app/static`` on 127.0.0.1 with the app's script policy, as ``bench/kdf_chromium.py``.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import os
import threading
import time

from _report import Report, arguments, cpu_model
from kdf_chromium import ARGS, CHROMIUM, STATIC, Handler
from playwright.sync_api import sync_playwright

INPUT_SIZE = 24 + 40 + 8  # context with its NUL, challenge, nonce
PAGE = b"""<!doctype html><meta charset="utf-8"><title>puzzle bench</title>
<script src="/static/vendor/libsodium-sumo.js"></script>
<script src="/static/vendor/libsodium-wrappers.js"></script>
<script src="/static/vendor/noble-sodium.js"></script>
"""

MEASURE = """
async ({ seconds, batches, size }) => {
  const input = new Uint8Array(size);
  const view = new DataView(input.buffer);
  const out = {};
  async function rate(hashOnce) {
    let n = 0;
    const start = performance.now();
    while (performance.now() - start < seconds * 1000) {
      for (let i = 0; i < 256; i++, n++) {
        view.setUint32(size - 4, n);
        hashOnce();
      }
    }
    return n / ((performance.now() - start) / 1000);
  }
  out.noble_blake2b = await rate(() => candorNoble.crypto_generichash(32, input, null));
  if (typeof sodium === "object") {
    await sodium.ready;
    out.libsodium_blake2b = await rate(() => sodium.crypto_generichash(32, input, null));
  }
  for (const batch of batches) {
    let n = 0;
    const start = performance.now();
    while (performance.now() - start < seconds * 1000) {
      const pending = [];
      for (let i = 0; i < batch; i++, n++) {
        const copy = input.slice();
        new DataView(copy.buffer).setUint32(size - 4, n);
        pending.push(crypto.subtle.digest("SHA-256", copy));
      }
      const digests = await Promise.all(pending);
      for (const d of digests) if (new Uint8Array(d)[0] === 0 && n < 0) throw new Error();
    }
    out["webcrypto_sha256_batch_" + batch] = n / ((performance.now() - start) / 1000);
  }
  out.wasm = typeof WebAssembly === "object";
  return out;
}
"""


class PuzzlePage(Handler):
    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        if self.path != "/":
            super().do_GET()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(PAGE)


def python_rates(seconds: float) -> dict[str, float]:
    prefix = bytes(INPUT_SIZE - 8)
    rates = {}
    for name, make in (("blake2b", lambda: hashlib.blake2b(prefix, digest_size=32)),
                       ("sha256", lambda: hashlib.sha256(prefix))):
        base = make()
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            for _ in range(4096):
                attempt = base.copy()
                attempt.update(n.to_bytes(8, "big"))
                attempt.digest()
                n += 1
        rates[name] = n / (time.perf_counter() - start)
    return rates


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    options = parser.parse_args()
    report = Report("puzzle_hashes", "Puzzle hash rates: browsers without JIT against native")
    print(f"machine: {cpu_model()}, {os.cpu_count()} logical CPUs")
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(PuzzlePage, directory=str(STATIC)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    batches = [64, 256, 1024, 4096]
    results = {}
    try:
        with sync_playwright() as playwright:
            for label, extra in (("jitless", ["--js-flags=--jitless"]), ("JIT", [])):
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS + extra)
                page = browser.new_context().new_page()
                page.set_default_timeout(600_000)
                page.goto(f"http://127.0.0.1:{server.server_port}/")
                results[label] = page.evaluate(MEASURE, {
                    "seconds": options.seconds, "batches": batches, "size": INPUT_SIZE})
                report.note(f"Chromium {browser.version} ({label}: WebAssembly "
                            f"{'on' if results[label]['wasm'] else 'off'})")
                browser.close()
    finally:
        server.shutdown()
    native = python_rates(options.seconds)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average at the end: {load}")
    report.note(f"machine load average at the end: {load} on {os.cpu_count()} CPUs")

    def figure(name: str, per_second: float) -> None:
        seconds_18 = 2 ** 18 / per_second
        report.figure(name, per_second / 1000, "thousand hashes/s", fmt="{:,.1f}",
                      note=f"18 bits: {seconds_18:.2f} s expected")

    for label, found in results.items():
        figure(f"{label}: BLAKE2b-256, noble (JavaScript)", found["noble_blake2b"])
        if "libsodium_blake2b" in found:
            figure(f"{label}: BLAKE2b-256, libsodium.js (WebAssembly)", found["libsodium_blake2b"])
        for batch in batches:
            figure(f"{label}: SHA-256, WebCrypto, {batch} digests per Promise.all",
                   found[f"webcrypto_sha256_batch_{batch}"])
    figure("native: BLAKE2b-256, Python hashlib, one core", native["blake2b"])
    figure("native: SHA-256, Python hashlib, one core", native["sha256"])
    report.write(options.json)


if __name__ == "__main__":
    main()
