"""How long one Argon2id derivation takes in Chromium with the production parameter sets.

Usage: ``.venv/bin/python bench/kdf_chromium.py [--runs N] [--json PATH]``

Serves ``app/static`` on 127.0.0.1 with the app's script policy
(``script-src 'self' 'wasm-unsafe-eval'``), opens a fresh page per parameter set in Debian
Chromium (``/usr/bin/chromium``), and times ``deriveStaffSecrets`` (STAFF_PASSWORD_V1) and
``deriveReporterKeyPair`` (REPORTER_CODENAME_V1) from ``app/static/js/candor-crypto.js``. The
first derivation in a page is reported separately: it includes growing the WebAssembly memory,
and it is the one a user waits for at sign-in.
"""

from __future__ import annotations

import functools
import http.server
import os
import platform
import statistics
import threading
from pathlib import Path

from _report import Report, arguments, cpu_model
from playwright.sync_api import sync_playwright

STATIC = Path(__file__).resolve().parents[1] / "app" / "static"
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAGE = b"""<!doctype html><meta charset="utf-8"><title>kdf bench</title>
<script src="/static/vendor/libsodium-sumo.js"></script>
<script src="/static/vendor/libsodium-wrappers.js"></script>
"""
MEASURE = """
async ({ which, runs }) => {
  const c = await import("/static/js/candor-crypto.js");
  await c.ready();
  const salt = new Uint8Array(16).fill(7);
  const derive = which === "staff"
    ? () => c.deriveStaffSecrets("correct horse battery staple", salt, c.STAFF_PASSWORD_V1)
    : () => c.deriveReporterKeyPair(
        "abacus mutation skirt thimble graceful quench dropper", salt, c.REPORTER_CODENAME_V1);
  const times = [];
  for (let i = 0; i < runs + 1; i++) {
    const start = performance.now();
    await derive();
    times.push(performance.now() - start);
  }
  return { times, params: which === "staff" ? c.STAFF_PASSWORD_V1 : c.REPORTER_CODENAME_V1,
           libsodium: sodium.sodium_version_string(), wasm: typeof WebAssembly === "object" };
}
"""


class Handler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/":
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(PAGE)
            return
        if not self.path.startswith("/static/"):
            self.send_error(404)
            return
        self.path = self.path.removeprefix("/static")
        super().do_GET()

    def end_headers(self) -> None:
        self.send_header("Content-Security-Policy", "script-src 'self' 'wasm-unsafe-eval'")
        super().end_headers()

    def log_message(self, *args: object) -> None:
        pass


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="warm derivations after the first")
    options = parser.parse_args()
    report = Report("kdf_chromium", "Argon2id in Chromium with the production parameters")

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(STATIC))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            print(f"machine: {cpu_model()}, {os.cpu_count()} logical CPUs, {platform.system()}")
            print(f"browser: Chromium {browser.version}")
            for which in ("staff", "reporter"):
                context = browser.new_context()
                page = context.new_page()
                page.goto(url)
                result = page.evaluate(MEASURE, {"which": which, "runs": options.runs})
                context.close()
                first, *warm = result["times"]
                p = result["params"]
                print(
                    f"{which:8} opslimit={p['opslimit']} memlimit={p['memlimit'] // 2**20} MiB "
                    f"(libsodium {result['libsodium']}, WebAssembly={result['wasm']}): "
                    f"first {first:.0f} ms, then median {statistics.median(warm):.0f} ms, "
                    f"max {max(warm):.0f} ms over {len(warm)} runs"
                )
                label = "staff password" if which == "staff" else "reporter codename"
                report.figure(f"{label} key derivation, first in a page", first, "ms",
                              fmt="{:.0f}")
                report.figure(f"{label} key derivation, warm median", statistics.median(warm),
                              "ms", fmt="{:.0f}")
            browser.close()
    finally:
        server.shutdown()
    report.write(options.json)


if __name__ == "__main__":
    main()
