// Every primitive the protocol uses, on random inputs of random lengths, through libsodium.js
// (`sodium`) and the noble backend (`candorNoble`) loaded side by side in one page; sealed boxes
// and secretstreams (random by design) are opened across. One async function expression for
// Playwright's page.evaluate (tests/crypto/test_browser_noble.py); resolves to what differed.
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
