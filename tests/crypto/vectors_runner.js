// Runs the test vectors against app/static/js/candor-crypto.js. This file is one async function
// expression: tests/crypto/test_browser_vectors.py passes it to Playwright's page.evaluate with
// `{moduleUrl, vectors, backend}` where `vectors` maps file names to parsed JSON and `backend`
// is "libsodium" or "noble" (candor-crypto.js `ready`). It resolves to `{name: {ok, detail}}`,
// one entry per vector.
async ({ moduleUrl, vectors, backend }) => {
  const c = await import(moduleUrl);
  await c.ready({ backend });
  if (c.backendName() !== backend) throw new Error(`${backend} did not load`);
  const h = (hex) => c.fromHex(hex);
  const x = (bytes) => c.toHex(bytes);
  const params = (p) => c.kdfParams(p.version, p.opslimit, p.memlimit);
  const kind = (kinds, value) => (typeof value === "string" ? kinds[value] : value);
  const entryJson = (e) => ({
    staff_id: e.staffId, username: e.username, roles: e.roles, public_key: x(e.publicKey),
    created: e.created, not_after: e.notAfter, revoked: e.revoked,
  });
  const entryFromJson = (e) => ({
    staffId: e.staff_id, username: e.username, roles: e.roles, publicKey: h(e.public_key),
    created: e.created, notAfter: e.not_after, revoked: e.revoked,
  });
  const same = (a, b) => x(a) === x(b);
  const must = (condition, what) => {
    if (!condition) throw new Error(`round trip failed: ${what}`);
  };
  const blake2b = (bytes) => x(c.blake2b256(bytes));
  // The anti-abuse puzzle (SPEC.md 4.1) lives beside the protocol module.
  const pow = await import(new URL("./proof-of-work.js", new URL(moduleUrl, location.href)));

  const operations = {
    derive_staff_secrets(i) {
      const s = c.deriveStaffSecrets(i.password, h(i.salt), params(i.params));
      return {
        login_secret: x(s.loginSecret), unwrap_key: x(s.unwrapKey),
      };
    },
    wrap_private_key(i) {
      const key = h(i.unwrap_key);
      const wrapped = c._wrapPrivateKeyWithNonce(h(i.private_key), key, i.staff_id, h(i.nonce));
      const pair = c.unwrapPrivateKey(wrapped, key, i.staff_id);
      must(same(pair.privateKey, h(i.private_key)), "unwrap");
      return { wrapped: x(wrapped), public_key: x(pair.publicKey) };
    },
    unwrap_private_key(i) {
      const pair = c.unwrapPrivateKey(h(i.wrapped), h(i.unwrap_key), i.staff_id);
      return { private_key: x(pair.privateKey), public_key: x(pair.publicKey) };
    },
    recovery_unwrap_key(i) {
      const key = c.recoveryUnwrapKey(i.code, h(i.salt));
      return { normalised: c.normaliseRecoveryCode(i.code), unwrap_key: x(key) };
    },
    open_recovery_challenge(i) {
      const pair = c.keyPairFromPrivateKey(h(i.private_key));
      return { challenge: x(c.openRecoveryChallenge(h(i.sealed), pair)) };
    },
    passkey_unwrap_key(i) {
      const key = c.passkeyUnwrapKey(h(i.credential_id), h(i.prf_output));
      return { prf_input: x(c.passkeyPrfInput()), unwrap_key: x(key) };
    },
    passkey_unwrap_private_key(i) {
      const key = c.passkeyUnwrapKey(h(i.credential_id), h(i.prf_output));
      const pair = c.unwrapPrivateKey(h(i.wrapped), key, i.staff_id);
      return { private_key: x(pair.privateKey), public_key: x(pair.publicKey) };
    },
    open_grant(i) {
      const pair = c.keyPairFromPrivateKey(h(i.private_key));
      return { case_key: x(c.openGrant(h(i.grant), pair, i.case_ref, kind(c.GrantKind, i.kind))) };
    },
    encrypt_record(i) {
      const args = [h(i.case_key), kind(c.RecordKind, i.kind), i.case_ref, i.record_ref];
      const record = c._encryptRecordWithNonce(...args, h(i.content), h(i.nonce));
      must(same(c.decryptRecord(...args, record), h(i.content)), "decrypt");
      return { record: x(record) };
    },
    decrypt_record(i) {
      const args = [h(i.case_key), kind(c.RecordKind, i.kind), i.case_ref, i.record_ref];
      return { content: x(c.decryptRecord(...args, h(i.record))) };
    },
    encode_file_name(i) {
      const content = c.encodeFileName(i.name, i.size);
      const back = c.decodeFileName(content);
      must(back.name === i.name && back.size === i.size, "decode");
      return { content: x(content) };
    },
    decode_file_name: (i) => c.decodeFileName(h(i.content)),
    async solve_proof_of_work(i) {
      const nonce = await pow.solveProofOfWorkWith(i.hash, h(i.challenge), i.bits);
      return { nonce: x(nonce), digest: x(await pow.proofOfWorkDigest(i.hash, h(i.challenge),
                                                                      nonce)) };
    },
    async check_proof_of_work(i) {
      const digest = await pow.proofOfWorkDigest(i.hash, h(i.challenge), h(i.nonce));
      return { digest: x(digest), solves: pow.hasLeadingZeroBits(digest, i.bits) };
    },
    pad: (i) => ({ padded: x(c.pad(h(i.content))) }),
    unpad: (i) => ({ content: x(c.unpad(h(i.padded))) }),
    async decrypt_stream(i) {
      const data = h(i.stream);
      const pieces = [];
      for (let n = 0; n < data.length; n += 1000) pieces.push(data.subarray(n, n + 1000));
      const out = [];
      const chunks = c.decryptStream(h(i.file_key), i.case_ref, i.attachment_ref, pieces);
      for await (const chunk of chunks) out.push(chunk);
      const whole = new Uint8Array(out.reduce((n, p) => n + p.length, 0));
      out.reduce((at, p) => (whole.set(p, at), at + p.length), 0);
      if (whole.length > 256) {
        return { content_length: whole.length, content_blake2b: blake2b(whole) };
      }
      return { content: x(whole) };
    },
    sign_entry(i) {
      const entry = entryFromJson(i.entry);
      const signed = c.signEntry(h(i.org_key), entry);
      const verifyKey = c.loadOrganisationKey(h(i.org_key)).verifyKey;
      const back = entryJson(c.verifyEntry(verifyKey, signed));
      must(JSON.stringify(back) === JSON.stringify(i.entry), "verify");
      return { signed: x(signed), org_verify_key: x(verifyKey) };
    },
    verify_entry: (i) => ({ entry: entryJson(c.verifyEntry(h(i.org_verify_key), h(i.signed))) }),
    load_org_key(i) {
      const key = c.loadOrganisationKey(h(i.org_key));
      return { verify_key: x(key.verifyKey), fingerprint: c.fingerprint(key.verifyKey) };
    },
    fingerprint: (i) => ({ fingerprint: c.fingerprint(h(i.public_key)) }),
    async codename_lookup_id(i) {
      return {
        normalised: await c.normaliseCodename(i.codename),
        lookup_id: x(await c.codenameLookupId(i.codename)),
      };
    },
    async derive_reporter_keypair(i) {
      const pair = await c.deriveReporterKeyPair(i.codename, h(i.salt), params(i.params));
      return { private_key: x(pair.privateKey), public_key: x(pair.publicKey) };
    },
  };

  // Key order does not matter; JSON.stringify of a sorted copy compares structurally.
  const canonical = (value) =>
    JSON.stringify(value, (_, v) =>
      v && typeof v === "object" && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)))
        : v);

  const results = {};
  for (const [name, vector] of Object.entries(vectors)) {
    const operation = operations[vector.operation];
    if (!operation) {
      results[name] = { ok: false, detail: `no such operation ${vector.operation}` };
      continue;
    }
    try {
      const output = await operation(vector.input);
      if (vector.expect === "ok") {
        const ok = canonical(output) === canonical(vector.output);
        results[name] = { ok, detail: ok ? "" : `got ${canonical(output)}` };
      } else {
        results[name] = { ok: false, detail: `expected ${vector.expect.error}, got success` };
      }
    } catch (error) {
      if (vector.expect === "ok") {
        results[name] = { ok: false, detail: `${error.name}: ${error.message}` };
      } else {
        const ok = error.name === vector.expect.error && error instanceof c.CryptoError;
        const got = `${error.name}: ${error.message}`;
        results[name] = { ok, detail: ok ? "" : `expected ${vector.expect.error}, got ${got}` };
      }
    }
  }
  return results;
}
