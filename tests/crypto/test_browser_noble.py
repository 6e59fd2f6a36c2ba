"""The pure-JavaScript backend (app/browser/noble-sodium.js on the noble libraries) passes every
test vector, in Chromium with and without its JIT (without JIT there is no WebAssembly: Tor
Browser's "Safer" level), and agrees byte for byte with libsodium.js on random inputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from crypto import codename, envelope, kdf, keys, stream
from crypto.envelope import CaseKey, GrantKind, RecordKind

pytestmark = pytest.mark.browser

HERE = Path(__file__).parent
MODULE_URL = "/static/js/candor-crypto.js"
NOBLE = "/static/vendor/noble-sodium.js"
LIBSODIUM = ("/static/vendor/libsodium-sumo.js", "/static/vendor/libsodium-wrappers.js")


def vectors() -> dict[str, Any]:
    return {p.stem: json.loads(p.read_text()) for p in sorted((HERE / "vectors").glob("*.json"))}


def run_vectors(page: Any, live_server: str) -> dict[str, str]:
    page.goto(live_server + "/")
    page.add_script_tag(url=live_server + NOBLE)
    runner = (HERE / "vectors_runner.js").read_text()
    every = vectors()
    results = page.evaluate(runner, {"moduleUrl": MODULE_URL, "vectors": every,
                                     "backend": "noble"})
    assert set(results) == set(every)
    return {name: r["detail"] for name, r in results.items() if not r["ok"]}


def test_every_vector_passes_with_the_noble_backend(page: Any, live_server: str) -> None:
    assert run_vectors(page, live_server) == {}


def test_every_vector_passes_in_jitless_chromium(jitless_browser: Any, live_server: str) -> None:
    # Includes STAFF_PASSWORD_V1 (128 MiB) and REPORTER_CODENAME_V1: minutes without JIT.
    context = jitless_browser.new_context()
    try:
        page = context.new_page()
        page.set_default_timeout(0)
        page.goto(live_server + "/")
        assert page.evaluate("typeof WebAssembly") == "undefined"
        assert run_vectors(page, live_server) == {}
    finally:
        context.close()


def test_noble_agrees_with_libsodium_on_random_inputs(page: Any, live_server: str) -> None:
    page.goto(live_server + "/")
    for path in (*LIBSODIUM, NOBLE):
        page.add_script_tag(url=live_server + path)
    assert page.evaluate((HERE / "noble_agreement.js").read_text(), 40) == []


MAKE_BLOBS = r"""
async ({ moduleUrl, publicKey, caseKey, fileKey, salt, content }) => {
  const c = await import(moduleUrl);
  await c.ready({ backend: "noble" });
  const h = c.fromHex, x = c.toHex;
  const frames = [];
  const source = new Blob([h(content)]);
  for await (const frame of c.encryptStream(h(fileKey), "case-1", "att-1", source)) {
    frames.push(x(frame));
  }
  const name = await c.generateCodename(7);
  const reporter = await c.deriveReporterKeyPair(name, h(salt), c.REPORTER_CODENAME_LIGHT_V1);
  return {
    backend: c.backendName(),
    grant: x(c.sealCaseKey(h(caseKey), h(publicKey), "case-1", c.GrantKind.RECIPIENT)),
    record: x(c.encryptTextRecord(h(caseKey), c.RecordKind.REPORT, "case-1", "rec-1", "Été")),
    stream: frames.join(""),
    codename: name,
    reporterPublic: x(reporter.publicKey),
  };
}
"""


def test_what_the_noble_backend_encrypts_opens_in_python(page: Any, live_server: str) -> None:
    page.goto(live_server + "/")
    page.add_script_tag(url=live_server + NOBLE)
    recipient = keys.StaffKeyPair.generate()
    case_key, file_key, salt = CaseKey.generate(), stream.FileKey.generate(), kdf.generate_salt()
    content = bytes(range(256)) * 300
    made = page.evaluate(MAKE_BLOBS, {
        "moduleUrl": MODULE_URL, "publicKey": recipient.public_key.hex(),
        "caseKey": bytes(case_key).hex(), "fileKey": bytes(file_key).hex(), "salt": salt.hex(),
        "content": content.hex()})
    h = bytes.fromhex
    assert made["backend"] == "noble"
    grant = h(made["grant"])
    assert envelope.open_grant(grant, recipient, "case-1", GrantKind.RECIPIENT) == case_key
    record = h(made["record"])
    assert envelope.decrypt_record(case_key, RecordKind.REPORT, "case-1", "rec-1",
                                   record).decode() == "Été"
    frames = [h(made["stream"])]
    assert b"".join(stream.decrypt_chunks(file_key, "case-1", "att-1", frames)) == content
    pair = codename.derive_reporter_keypair(made["codename"], salt, kdf.REPORTER_CODENAME_LIGHT_V1)
    assert pair.public_key == h(made["reporterPublic"])
