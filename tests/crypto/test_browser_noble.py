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


# Every primitive the protocol uses, on random inputs of random lengths, through both libraries
# loaded side by side; sealed boxes and secretstreams (random by design) are opened across.
AGREE = r"""
async (rounds) => {
  const s = globalThis.sodium, n = globalThis.candorNoble;
  await s.ready;
  const x = (b) => s.to_hex(b);
  const rand = (max) => s.randombytes_uniform(max + 1);
  const bytes = (max) => s.randombytes_buf(rand(max));
  const differ = [];
  const same = (what, a, b) => { if (x(a) !== x(b)) differ.push(what); };
  for (let i = 0; i < rounds; i++) {
    const key = s.randombytes_buf(32), nonce = s.randombytes_buf(24);
    const m = bytes(3000), ad = bytes(300);
    same("aead", n.crypto_aead_xchacha20poly1305_ietf_encrypt(m, ad, null, nonce, key),
         s.crypto_aead_xchacha20poly1305_ietf_encrypt(m, ad, null, nonce, key));
    const sealedAead = s.crypto_aead_xchacha20poly1305_ietf_encrypt(m, ad, null, nonce, key);
    same("aead open", n.crypto_aead_xchacha20poly1305_ietf_decrypt(null, sealedAead, ad, nonce, key), m);
    const hashKey = s.randombytes_buf(16 + rand(48));
    same("blake2b keyed", n.crypto_generichash(32, m, hashKey), s.crypto_generichash(32, m, hashKey));
    same("blake2b", n.crypto_generichash(32, m, null), s.crypto_generichash(32, m, null));
    const pair = s.crypto_box_keypair(), other = s.crypto_box_keypair();
    same("x25519 base", n.crypto_scalarmult_base(pair.privateKey), pair.publicKey);
    same("x25519", n.crypto_scalarmult(pair.privateKey, other.publicKey),
         s.crypto_scalarmult(pair.privateKey, other.publicKey));
    same("seal noble -> libsodium",
         s.crypto_box_seal_open(n.crypto_box_seal(m, pair.publicKey), pair.publicKey, pair.privateKey), m);
    same("seal libsodium -> noble",
         n.crypto_box_seal_open(s.crypto_box_seal(m, pair.publicKey), pair.publicKey, pair.privateKey), m);
    const seed = s.randombytes_buf(32);
    const a = s.crypto_sign_seed_keypair(seed), b = n.crypto_sign_seed_keypair(seed);
    same("ed25519 public", b.publicKey, a.publicKey);
    same("ed25519 secret", b.privateKey, a.privateKey);
    const sig = s.crypto_sign_detached(m, a.privateKey);
    same("ed25519 sign", n.crypto_sign_detached(m, b.privateKey), sig);
    if (!n.crypto_sign_verify_detached(sig, m, a.publicKey)) differ.push("ed25519 verify");
    const bad = sig.slice(); bad[rand(63)] ^= 1 << rand(7);
    if (n.crypto_sign_verify_detached(bad, m, a.publicKey) !== s.crypto_sign_verify_detached(bad, m, a.publicKey)) {
      differ.push("ed25519 verify of a changed signature");
    }
    const salt = s.randombytes_buf(16), ops = 1 + rand(2), mem = 8192 + 1024 * rand(56);
    same("argon2id", n.crypto_pwhash(32, m, salt, ops, mem, 2),
         s.crypto_pwhash(32, m, salt, ops, mem, s.crypto_pwhash_ALG_ARGON2ID13));
    for (const [what, pusher, puller] of [["stream libsodium -> noble", s, n],
                                           ["stream noble -> libsodium", n, s]]) {
      const streamKey = s.randombytes_buf(32);
      const push = pusher.crypto_secretstream_xchacha20poly1305_init_push(streamKey);
      const pull = puller.crypto_secretstream_xchacha20poly1305_init_pull(push.header, streamKey);
      for (let frame = 0; frame < 4; frame++) {
        const tag = [0, 1, 2, 3][rand(3)], chunk = bytes(2000), frameAd = bytes(100);
        const c = pusher.crypto_secretstream_xchacha20poly1305_push(push.state, chunk, frameAd, tag);
        const r = puller.crypto_secretstream_xchacha20poly1305_pull(pull, c, frameAd);
        if (!r || r.tag !== tag) differ.push(what); else same(what, r.message, chunk);
      }
    }
  }
  return differ;
}
"""


def test_noble_agrees_with_libsodium_on_random_inputs(page: Any, live_server: str) -> None:
    page.goto(live_server + "/")
    for path in (*LIBSODIUM, NOBLE):
        page.add_script_tag(url=live_server + path)
    assert page.evaluate(AGREE, 40) == []


MAKE_BLOBS = r"""
async ({ moduleUrl, publicKey, caseKey, fileKey, salt, content }) => {
  const c = await import(moduleUrl);
  await c.ready({ backend: "noble" });
  const h = c.fromHex, x = c.toHex;
  const frames = [];
  for await (const frame of c.encryptStream(h(fileKey), "case-1", "att-1", new Blob([h(content)]))) {
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
    assert envelope.open_grant(h(made["grant"]), recipient, "case-1", GrantKind.RECIPIENT) == case_key
    record = envelope.decrypt_record(case_key, RecordKind.REPORT, "case-1", "rec-1", h(made["record"]))
    assert record.decode() == "Été"
    assert b"".join(stream.decrypt_chunks(file_key, "case-1", "att-1", [h(made["stream"])])) == content
    pair = codename.derive_reporter_keypair(made["codename"], salt, kdf.REPORTER_CODENAME_LIGHT_V1)
    assert pair.public_key == h(made["reporterPublic"])
