"""The browser module passes every test vector in Debian Chromium, under the app's real CSP, and
what it encrypts opens in Python."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from crypto import codename, directory, envelope, kdf, keys, stream
from crypto.envelope import CaseKey, GrantKind, RecordKind

pytestmark = pytest.mark.browser

HERE = Path(__file__).parent
MODULE_URL = "/static/js/candor-crypto.js"
LIBSODIUM = ("/static/vendor/libsodium-sumo.js", "/static/vendor/libsodium-wrappers.js")


def open_page_with_libsodium(page: Any, live_server: str) -> None:
    response = page.goto(live_server + "/")
    assert "'wasm-unsafe-eval'" in response.headers["content-security-policy"]
    if not page.evaluate("typeof globalThis.sodium === 'object'"):
        for path in LIBSODIUM:  # in this order: the wrappers read the global the first one sets
            page.add_script_tag(url=live_server + path)


def test_every_vector_passes_in_chromium(page: Any, live_server: str) -> None:
    open_page_with_libsodium(page, live_server)
    vectors = {p.stem: json.loads(p.read_text()) for p in sorted((HERE / "vectors").glob("*.json"))}
    runner = (HERE / "vectors_runner.js").read_text()
    results = page.evaluate(runner, {"moduleUrl": MODULE_URL, "vectors": vectors,
                                     "backend": "libsodium"})
    assert set(results) == set(vectors)
    failed = {name: r["detail"] for name, r in results.items() if not r["ok"]}
    assert failed == {}


MAKE_BLOBS = r"""
async ({ moduleUrl, publicKey, caseKey, fileKey, unwrapKey, salt, content }) => {
  const c = await import(moduleUrl);
  await c.ready();
  const h = c.fromHex, x = c.toHex;
  const staff = c.generateStaffKeyPair();
  const frames = [];
  const source = new Blob([h(content)]);
  for await (const frame of c.encryptStream(h(fileKey), "case-1", "att-1", source)) {
    frames.push(x(frame));
  }
  const code = c.generateRecoveryCode();
  const name = await c.generateCodename(8);
  const reporter = await c.deriveReporterKeyPair(name, h(salt), c.TEST_FAST);
  return {
    grant: x(c.sealCaseKey(h(caseKey), h(publicKey), "case-1", c.GrantKind.ESCROW)),
    record: x(c.encryptTextRecord(h(caseKey), c.RecordKind.MESSAGE, "case-1", "rec-1",
                                  "Bonjour \u{1f512}")),
    fileKeyRecord: x(c.encryptFileKey(h(caseKey), "case-1", "rec-2", h(fileKey))),
    stream: frames.join(""),
    staffPrivate: x(staff.privateKey),
    wrapped: x(c.wrapPrivateKey(staff, h(unwrapKey), 42)),
    recoveryCode: code,
    recoveryKey: x(c.recoveryUnwrapKey(code.toLowerCase(), h(salt))),
    codename: name,
    lookupId: x(await c.codenameLookupId(name.toUpperCase())),
    reporterPublic: x(reporter.publicKey),
    fingerprint: c.fingerprint(h(publicKey)),
  };
}
"""


def test_what_the_browser_encrypts_opens_in_python(page: Any, live_server: str) -> None:
    open_page_with_libsodium(page, live_server)
    recipient = keys.StaffKeyPair.generate()
    case_key, file_key = CaseKey.generate(), stream.FileKey.generate()
    unwrap_key, salt = kdf.UnwrapKey.generate(), kdf.generate_salt()
    content = hashlib.shake_256(b"attachment").digest(2 * stream.CHUNK_SIZE + 99)
    made = page.evaluate(
        MAKE_BLOBS,
        {
            "moduleUrl": MODULE_URL,
            "publicKey": recipient.public_key.hex(),
            "caseKey": bytes(case_key).hex(),
            "fileKey": bytes(file_key).hex(),
            "unwrapKey": bytes(unwrap_key).hex(),
            "salt": salt.hex(),
            "content": content.hex(),
        },
    )
    h = bytes.fromhex

    grant = h(made["grant"])
    assert envelope.open_grant(grant, recipient, "case-1", GrantKind.ESCROW) == case_key
    record = h(made["record"])
    message = envelope.decrypt_record(case_key, RecordKind.MESSAGE, "case-1", "rec-1", record)
    assert message.decode() == "Bonjour \U0001f512"
    assert (
        stream.decrypt_file_key(case_key, "case-1", "rec-2", h(made["fileKeyRecord"])) == file_key
    )
    plain = b"".join(stream.decrypt_chunks(file_key, "case-1", "att-1", [h(made["stream"])]))
    assert plain == content

    pair = keys.unwrap_private_key(h(made["wrapped"]), unwrap_key, "42")
    assert pair.private_key == h(made["staffPrivate"])
    assert bytes(keys.recovery_unwrap_key(made["recoveryCode"], salt)) == h(made["recoveryKey"])
    assert codename.codename_lookup_id(made["codename"]) == h(made["lookupId"])
    reporter = codename.derive_reporter_keypair(made["codename"], salt, kdf.TEST_FAST)
    assert reporter.public_key == h(made["reporterPublic"])
    assert made["fingerprint"] == directory.fingerprint(recipient.public_key)
