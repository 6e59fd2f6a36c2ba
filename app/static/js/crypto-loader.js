// Loads the cryptography backend this browser can run, while the reporter is already typing:
// libsodium.js (WebAssembly) where WebAssembly runs, otherwise the pure-JavaScript noble backend
// (Tor Browser at its "Safer" level has no WebAssembly). Only one of them is downloaded.
//
// The page names the scripts and their Subresource Integrity hashes in
// `<meta name="candor-crypto-scripts" content="...">` (app/assets.py, `crypto_scripts()`), as
// JSON `{"wasm": [{src, integrity}, ...], "pure": [{src, integrity}]}`, in load order.
import * as candor from "./candor-crypto.js";

let loading = null;

function addScript({ src, integrity }) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.integrity = integrity;
    script.crossOrigin = "anonymous";
    script.async = false; // run in the order added
    script.addEventListener("load", resolve);
    script.addEventListener("error", () => reject(new candor.CryptoUnavailable(`${src} did not load`)));
    document.head.append(script);
  });
}

export const hasWebAssembly = () =>
  typeof WebAssembly === "object" && typeof WebAssembly.instantiate === "function";

async function load() {
  const listed = document.querySelector('meta[name="candor-crypto-scripts"]');
  if (!listed) throw new candor.CryptoUnavailable("this page names no cryptography scripts");
  const scripts = JSON.parse(listed.content);
  if (hasWebAssembly()) {
    try {
      await Promise.all(scripts.wasm.map(addScript));
      await candor.ready({ backend: "libsodium" });
      return candor.backendName();
    } catch {
      // WebAssembly is there but refused to run (a CSP, a setting): use the other backend.
    }
  }
  await Promise.all(scripts.pure.map(addScript));
  await candor.ready({ backend: "noble" });
  return candor.backendName();
}

/** Load (once) and initialise a backend; resolves to its name. Throws CryptoUnavailable. */
export function loadCrypto() {
  if (loading === null) {
    loading = load();
    loading.catch(() => { loading = null; }); // a later attempt may succeed (a lost connection)
  }
  return loading;
}
