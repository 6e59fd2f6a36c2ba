"""The reporter's pages over a Tor-like link, and key derivation without WebAssembly.

Usage: ``.venv/bin/python bench/reporter_network.py [--json PATH] [--skip-standard-return]
[--skip-page-loads]``

A real Candor app (SQLite, the production codename parameters, the default anti-abuse puzzle) is
served on 127.0.0.1 to Debian Chromium. Each page gets Chromium's network emulation through the
DevTools protocol (``Network.emulateNetworkConditions``): 600 ms round trip, 1.5 Mbit/s down,
0.5 Mbit/s up, as over a Tor onion service. For Chromium as it is (Tor Browser "Standard") and with
``--js-flags=--jitless`` (no JIT, no WebAssembly: Tor Browser "Safer") it measures:

- when the report form is usable (shown, with its text field enabled) and when the cryptography is
  ready (the readers worked out from the verified directory, so "send" can encrypt), from the
  start of navigation;
- the bytes on the wire (``encodedDataLength``: compressed bodies and headers) of a first visit
  with an empty cache, and of a return visit with the cache of the first.

Then, without network emulation and without JIT: the anti-abuse puzzle's hash rate with the hash
the page chooses there (SHA-256 through WebCrypto), from "send" to the codename shown when filing
right after the page has loaded (the puzzle, started at page load, not yet solved; several runs,
since the puzzle's work is random), from "open" to the case shown when returning to a case made
that way (light parameters) and to a case made with the standard parameters by a browser with
WebAssembly, and the light derivation alone.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import flask_migrate
from _report import Report, arguments
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from app import create_app
from app.config import Config
from app.extensions import db
from app.roles import Role
from app.services.directory import init_organisation_key
from app.state import state_of
from tests.support.reporting import ReporterClient
from tests.support.staff import StaffLogin

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
JITLESS = ["--js-flags=--jitless"]
TOR_LINK = {"offline": False, "latency": 600, "downloadThroughput": 1_500_000 / 8,
            "uploadThroughput": 500_000 / 8}
REPORT = "The evaluation of the new model was cut short before the launch."
CODENAME = "abacus mutation skirt thimble graceful quench dropper"

# When the form is shown (noted by the page as it happens, even if the page is busy after) and
# its text field is enabled.
NOTE_SHOWN = """new MutationObserver(() => {
  const form = document.getElementById("report-form");
  const text = document.getElementById("report-text");
  if (form && !form.hidden && text && !text.disabled && !window.candorBenchShown) {
    window.candorBenchShown = performance.now();
  }
}).observe(document, { subtree: true, attributes: true, childList: true });"""
USABLE = """() => window.candorBenchShown || false"""
CRYPTO_READY = """() => document.querySelector("#readers-now li") ? performance.now() : false"""


@contextmanager
def candor_server() -> Iterator[tuple[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="candor-bench-network-") as folder:
        config = Config(environment="testing", secret_key="bench-" + "x" * 40,
                        database_url=f"sqlite:///{folder}/candor.db",
                        instance_path=Path(folder) / "instance", fast_kdf_for_tests=False)
        app = create_app(config)
        with app.app_context():
            flask_migrate.upgrade()
            init_organisation_key(db.session, config.org_signing_key_path, config.instance_path)
            db.session.commit()
        staff = StaffLogin(app)
        staff.create("rso", Role.RSO)
        staff.create("board", Role.BOARD)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}", app
        finally:
            server.shutdown()
            thread.join(timeout=10)


def visit(context: Any, url: str, emulate: bool = True) -> dict[str, float]:
    """Open the report page in a new page of ``context``; times in ms, bytes on the wire."""
    page = context.new_page()
    page.set_default_timeout(600_000)
    page.add_init_script(NOTE_SHOWN)
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    if emulate:
        cdp.send("Network.emulateNetworkConditions", TOR_LINK)
    received = {"bytes": 0}

    def count(event: dict[str, Any]) -> None:
        received["bytes"] += event["encodedDataLength"]

    cdp.on("Network.loadingFinished", count)
    page.goto(url + "/report/new", wait_until="commit")
    usable = page.wait_for_function(USABLE, polling=50).json_value()
    ready = page.wait_for_function(CRYPTO_READY, polling=50).json_value()
    page.wait_for_load_state("networkidle")
    time.sleep(1.5)  # the puzzle's challenge and anything else started after the readers
    figures = {"usable": usable, "ready": ready, "bytes": received["bytes"]}
    cdp.detach()
    page.close()
    return figures


def page_loads(browser: Any, url: str, label: str, report: Report) -> None:
    context = browser.new_context()
    try:
        first = visit(context, url)
        again = visit(context, url)
    finally:
        context.close()
    print(f"{label}: first visit usable {first['usable']:.0f} ms, crypto ready "
          f"{first['ready']:.0f} ms, {first['bytes'] / 1000:.0f} kB; return visit usable "
          f"{again['usable']:.0f} ms, ready {again['ready']:.0f} ms, "
          f"{again['bytes'] / 1000:.1f} kB")
    report.figure(f"{label}: form usable, first visit", first["usable"] / 1000, "s",
                  goal="<= 2", met=first["usable"] <= 2000, fmt="{:.2f}")
    report.figure(f"{label}: crypto ready, first visit", first["ready"] / 1000, "s",
                  goal="<= 5", met=first["ready"] <= 5000, fmt="{:.2f}")
    report.figure(f"{label}: first visit on the wire", first["bytes"] / 1000, "kB",
                  goal="<= 500", met=first["bytes"] <= 500_000, fmt="{:.0f}")
    report.figure(f"{label}: return visit on the wire", again["bytes"] / 1000, "kB",
                  goal="<= 60", met=again["bytes"] <= 60_000, fmt="{:.1f}")
    report.figure(f"{label}: crypto ready, return visit", again["ready"] / 1000, "s",
                  fmt="{:.2f}")


DERIVE = """
async (which) => {
  const c = await import(
    document.querySelector('link[rel="modulepreload"][href$="candor-crypto.js"]').href);
  const { loadCrypto } = await import(
    document.querySelector('link[rel="modulepreload"][href$="crypto-loader.js"]').href);
  await loadCrypto();
  const params = which === "light" ? c.REPORTER_CODENAME_LIGHT_V1 : c.REPORTER_CODENAME_V1;
  const start = performance.now();
  await c.deriveReporterKeyPair(
    "abacus mutation skirt thimble graceful quench dropper", new Uint8Array(16), params);
  return { ms: performance.now() - start, backend: c.backendName() };
}
"""
PUZZLE_RATE = """
async (bits) => {
  const pow = await import(
    document.querySelector('link[rel="modulepreload"][href$="proof-of-work.js"]').href);
  const c = await import(
    document.querySelector('link[rel="modulepreload"][href$="candor-crypto.js"]').href);
  const { loadCrypto } = await import(
    document.querySelector('link[rel="modulepreload"][href$="crypto-loader.js"]').href);
  await loadCrypto();
  const hash = pow.puzzleHash(["blake2b-256", "sha-256"]);
  let attempts = 0;
  const start = performance.now();
  for (let i = 0; i < 8; i++) {
    const nonce = await pow.solveProofOfWorkWith(hash, crypto.getRandomValues(new Uint8Array(40)),
                                                 bits);
    attempts += new DataView(nonce.buffer).getUint32(4) + 1;
  }
  return { hash, perSecond: attempts / ((performance.now() - start) / 1000),
           backend: c.backendName() };
}
"""
SEND_RUNS = 5


def jitless_journey(browser: Any, url: str, app: Any, report: Report, standard_return: bool
                    ) -> None:
    context = browser.new_context()
    context.set_default_timeout(600_000)
    try:
        page = context.new_page()
        page.goto(url + "/report/case")  # a page that solves no puzzle meanwhile
        derived = {which: page.evaluate(DERIVE, which) for which in ("light",)}
        assert derived["light"]["backend"] == "noble", derived
        bits = state_of(app).config.proof_of_work_bits
        rate = page.evaluate(PUZZLE_RATE, 14)
        puzzle_seconds = 2 ** bits / rate["perSecond"]
        print(f"jitless: light derivation {derived['light']['ms'] / 1000:.1f} s; puzzle with "
              f"{rate['hash']}: {rate['perSecond'] / 1000:.1f} thousand hashes/s, {bits} bits "
              f"expected {puzzle_seconds:.1f} s")
        report.figure("jitless: codename key derivation, light parameters",
                      derived["light"]["ms"] / 1000, "s", fmt="{:.1f}")
        report.figure(f"jitless: anti-abuse puzzle ({bits} bits, {rate['hash']}), expected",
                      puzzle_seconds, "s", fmt="{:.1f}",
                      note=f"{rate['perSecond'] / 1000:.1f} thousand hashes/s; solved in the "
                           "background from page load")

        # Filing as soon as the page is ready: the puzzle, started at page load, is not solved
        # yet, so "send" waits for it as well as for the key derivation and the upload.
        times = []
        codename = ""
        for _ in range(SEND_RUNS):
            page.goto(url + "/report/new")
            page.wait_for_function(CRYPTO_READY, polling=50)
            page.select_option("#category", "other")
            page.fill("#report-text", REPORT)
            start = time.monotonic()
            page.click("#report-submit")
            page.locator("#receipt-codename").wait_for(state="visible")
            times.append(time.monotonic() - start)
            codename = page.locator("#receipt-codename").inner_text().strip()
        times.sort()
        print("jitless: send -> codename shown, right after the page loaded: "
              + ", ".join(f"{t:.1f} s" for t in times))
        report.figure("jitless: filing right after page load, send to codename shown, median",
                      times[len(times) // 2], "s", goal="<= 20",
                      met=times[len(times) // 2] <= 20, fmt="{:.1f}",
                      note=f"{SEND_RUNS} runs: " + ", ".join(f"{t:.1f}" for t in times))
        report.figure("jitless: filing right after page load, send to codename shown, slowest",
                      times[-1], "s", goal="<= 20", met=times[-1] <= 20, fmt="{:.1f}")

        for label, name, goal in (("light", codename, 20.0), ("standard", None, None)):
            if name is None:
                if not standard_return:
                    continue
                _answer, name = ReporterClient(app.test_client()).submit(REPORT)
            page.goto(url + "/report/case")
            page.locator("#open-form").wait_for(state="visible")
            page.fill("#codename", name)
            start = time.monotonic()
            page.click("#open-submit")
            page.locator("#case-view").wait_for(state="visible")
            seconds = time.monotonic() - start
            print(f"jitless: return to a case with {label} parameters {seconds:.1f} s")
            report.figure(f"jitless: return to a {label}-parameter case, open to case shown",
                          seconds, "s", goal=f"<= {goal:.0f}" if goal else None,
                          met=seconds <= goal if goal else None, fmt="{:.1f}")
    finally:
        context.close()


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--skip-standard-return", action="store_true",
                        help="leave out returning to a standard case without JIT (~1.5 min)")
    parser.add_argument("--skip-page-loads", action="store_true",
                        help="leave out the page loads over the emulated link (~2 min)")
    options = parser.parse_args()
    report = Report("reporter_network", "Reporter pages over a Tor-like link; no WebAssembly")
    with candor_server() as (url, app), sync_playwright() as playwright:
        if not options.skip_page_loads:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page_loads(browser, url, "Standard (WebAssembly)", report)
            browser.close()
        jitless = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS + JITLESS)
        if not options.skip_page_loads:
            page_loads(jitless, url, "Safer (jitless)", report)
        jitless_journey(jitless, url, app, report, not options.skip_standard_return)
        jitless.close()
    report.note("Machine load average at the end: "
                + ", ".join(f"{x:.1f}" for x in os.getloadavg()) + f" on {os.cpu_count()} CPUs")
    report.note("Link: Chromium network emulation, 600 ms latency, 1.5 Mbit/s down, 0.5 up. "
                "Bytes: encodedDataLength of every response (compressed body and headers).")
    report.write(options.json)


if __name__ == "__main__":
    main()
