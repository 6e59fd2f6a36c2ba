// Staff passkeys in the browser, with its own WebAuthn API (navigator.credentials) and nothing
// else: adding, renaming and removing passkeys, signing in with one, the step-up before the
// actions that matter most, and unlocking the private key with a passkey's PRF output
// (crypto/SPEC.md 8.12). The PRF output stays in this page: it is never sent, and the
// extension results are left out of every answer posted to the server.
import * as candor from "./candor-crypto.js";
import { b64, unb64 } from "./bytes.js";
import { postJson as post, Refusal } from "./http.js";
import {
  bind, enableSubmit, loadKeyPair, postSolvingPuzzles, signIn, storeKeyPair,
} from "./staff-session.js";

const b64url = (buffer) =>
  b64(new Uint8Array(buffer)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const unb64url = (text) => unb64(text.replace(/-/g, "+").replace(/_/g, "/")
  + "===".slice((text.length + 3) % 4));

export const passkeysAvailable = () =>
  typeof window.PublicKeyCredential === "function" && !!navigator.credentials;

const descriptors = (list) => (list ?? []).map((item) => ({ ...item, id: unb64url(item.id) }));
const prfExtension = () => ({ prf: { eval: { first: candor.passkeyPrfInput() } } });

function creationOptions(options) {
  return {
    ...options,
    challenge: unb64url(options.challenge),
    user: { ...options.user, id: unb64url(options.user.id) },
    excludeCredentials: descriptors(options.excludeCredentials),
    extensions: prfExtension(),
  };
}

function requestOptions(options, onlyCredential = null) {
  let allowCredentials = descriptors(options.allowCredentials);
  if (onlyCredential) allowCredentials = [{ type: "public-key", id: onlyCredential }];
  return {
    ...options, challenge: unb64url(options.challenge), allowCredentials,
    extensions: prfExtension(),
  };
}

/** The credential as the server reads it (base64url fields), without extension results. */
function credentialJson(credential) {
  const r = credential.response;
  const response = { clientDataJSON: b64url(r.clientDataJSON) };
  if (r.attestationObject) {
    response.attestationObject = b64url(r.attestationObject);
    response.transports = r.getTransports ? r.getTransports() : [];
  } else {
    response.authenticatorData = b64url(r.authenticatorData);
    response.signature = b64url(r.signature);
    if (r.userHandle) response.userHandle = b64url(r.userHandle);
  }
  return {
    id: credential.id, rawId: b64url(credential.rawId), type: credential.type, response,
    clientExtensionResults: {},
  };
}

function prfOutput(credential) {
  const first = credential.getClientExtensionResults().prf?.results?.first;
  return first ? new Uint8Array(first) : null;
}

async function ask(kind, publicKey) {
  if (!passkeysAvailable()) throw new Refusal("This browser cannot use passkeys.");
  try {
    return await navigator.credentials[kind]({ publicKey });
  } catch (error) {
    if (error?.name === "NotAllowedError") {
      throw new Refusal("The passkey was not used (cancelled, timed out, or none of " +
                             "yours is on this device).");
    }
    throw new Refusal(`The passkey could not be used: ${error?.message || error}`);
  }
}

/** Sign in with password and passkey: the assertion to send with the login secret. */
export async function signInAssertion(optionsUrl, status = null) {
  const { options } = await postSolvingPuzzles(optionsUrl, {}, status);
  return credentialJson(await ask("get", requestOptions(options)));
}

function askForCode() {
  return new Promise((resolve, reject) => {
    const dialog = document.createElement("dialog");
    dialog.id = "step-up-dialog";
    const form = document.createElement("form");
    form.method = "dialog";
    const label = document.createElement("label");
    label.textContent = "Confirm it is you: six-digit code from your authenticator app";
    label.htmlFor = "step-up-code";
    const input = document.createElement("input");
    Object.assign(input, { id: "step-up-code", inputMode: "numeric", autocomplete: "one-time-code" });
    const ok = document.createElement("button");
    Object.assign(ok, { type: "submit", textContent: "Confirm", className: "button" });
    const cancel = document.createElement("button");
    Object.assign(cancel, { type: "button", textContent: "Cancel", className: "button button-quiet" });
    form.append(label, input, ok, cancel);
    dialog.append(form);
    document.body.append(dialog);
    const finish = (value) => { dialog.close(); dialog.remove(); value === null
      ? reject(new Refusal("Not confirmed: nothing was done.")) : resolve(value); };
    form.addEventListener("submit", () => finish(input.value.trim()));
    cancel.addEventListener("click", () => finish(null));
    dialog.showModal();
    input.focus();
  });
}

/** A fresh user verification for this session: with a passkey, or a TOTP code where the
 * person has none. The server records it in the audit trail. */
export async function stepUp({ code = null } = {}) {
  let options = null;
  try {
    ({ options } = await post("/auth/passkeys/options", { purpose: "step_up" }));
  } catch (error) {
    if (error.status !== 409 && error.status !== 404) throw error;
  }
  if (options) {
    const credential = await ask("get", requestOptions(options));
    return post("/auth/step-up", { credential: credentialJson(credential) });
  }
  return post("/auth/step-up", { totp: code ?? await askForCode() });
}

/** ``send()``, and if the server asks for a step-up first, step up and send once more. */
export async function withStepUp(send) {
  try {
    return await send();
  } catch (error) {
    if (!(error instanceof Refusal) || error.status !== 403
        || error.answer?.error !== "step_up_required") {
      throw error;
    }
    await stepUp();
    return send();
  }
}

async function addPasskey(form) {
  const staffId = form.dataset.staffId;
  const name = form.passkey_name.value.trim();
  if (!name) throw new Refusal("Name the passkey first.");
  const register = async () => {
    const { options } = await post("/auth/passkeys/options", { purpose: "register" });
    const credential = await ask("create", creationOptions(options));
    const keyPair = loadKeyPair(staffId);
    const output = prfOutput(credential);
    const rawId = new Uint8Array(credential.rawId);
    const body = { credential: credentialJson(credential), name };
    if (output && keyPair) {
      body.prf_wrapped_private_key = b64(candor.wrapPrivateKey(
        keyPair, candor.passkeyUnwrapKey(rawId, output), staffId));
    }
    const added = await post("/auth/passkeys", body);
    const prfEnabled = credential.getClientExtensionResults().prf?.enabled;
    if (!added.prf_unlock && keyPair && (prfEnabled || prfEnabled === undefined)) {
      await addUnlockCopy(added.id, rawId, keyPair, staffId);
    }
  };
  await withStepUp(register);
  window.location.reload();
}

// The authenticator gave no PRF output while making the credential (many give it only to an
// assertion): one more touch of the new passkey gives it, and the page wraps the key with it.
async function addUnlockCopy(passkeyId, rawId, keyPair, staffId) {
  const { options } = await post("/auth/passkeys/options", { purpose: "unlock" });
  const credential = await ask("get", requestOptions(options, rawId));
  const output = prfOutput(credential);
  if (!output) return;
  const wrapped = candor.wrapPrivateKey(keyPair, candor.passkeyUnwrapKey(rawId, output), staffId);
  await post(`/auth/passkeys/${passkeyId}/unlock-copy`, {
    credential: credentialJson(credential), prf_wrapped_private_key: b64(wrapped),
  });
}

/** Unlock the private key in this tab with a passkey instead of the password. */
export async function unlockWithPasskey(staffId) {
  await candor.ready();
  const { options } = await post("/auth/passkeys/options", { purpose: "unlock" });
  const credential = await ask("get", requestOptions(options));
  const output = prfOutput(credential);
  if (!output) {
    throw new Refusal("This passkey gave no PRF output, so it cannot unlock your key. " +
                           "Sign out and sign in with your password.");
  }
  const answer = await post("/auth/passkeys/unlock", { credential: credentialJson(credential) });
  const key = candor.passkeyUnwrapKey(new Uint8Array(credential.rawId), output);
  const keyPair = candor.unwrapPrivateKey(unb64(answer.wrapped_private_key), key, answer.staff_id);
  storeKeyPair(answer.staff_id, keyPair);
  return keyPair;
}

function showError(id, error) {
  const box = document.getElementById(id);
  if (!box) return;
  box.textContent = error?.message || String(error);
  box.hidden = false;
}

function startPasskeyList() {
  for (const row of document.querySelectorAll("tr[data-passkey-id]")) {
    const id = row.dataset.passkeyId;
    const rename = row.querySelector(".passkey-rename");
    const remove = row.querySelector(".passkey-remove");
    rename.addEventListener("click", async () => {
      try {
        await post(`/auth/passkeys/${id}/name`, { name: row.querySelector(".passkey-name").value });
        window.location.reload();
      } catch (error) { showError("passkeys-error", error); }
    });
    remove.addEventListener("click", async () => {
      try {
        await withStepUp(() => post(`/auth/passkeys/${id}/remove`, {}));
        window.location.reload();
      } catch (error) { showError("passkeys-error", error); }
    });
    rename.disabled = false;
    remove.disabled = false;
  }
}

async function stepUpPage(form) {
  const code = form.totp ? form.totp.value.trim() : null;
  await stepUp({ code });
  window.location.assign(form.dataset.next);
}

function startUnlockButton() {
  const button = document.getElementById("passkey-unlock");
  if (!button || loadKeyPair(button.dataset.staffId) || !passkeysAvailable()) return;
  button.hidden = false;
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await unlockWithPasskey(button.dataset.staffId);
      window.location.reload();
    } catch (error) {
      showError("passkey-unlock-error", error);
      button.disabled = false;
    }
  });
}

function startPasskeySignIn() {
  const button = document.getElementById("passkey-login-button");
  const form = document.getElementById("login-form");
  if (!button || !form || !passkeysAvailable()) return;
  button.addEventListener("click", async () => {
    document.getElementById("login-error").hidden = true;
    button.disabled = true;
    try {
      await candor.ready();
      if (!form.username.value.trim() || !form.password.value) {
        throw new Refusal("Enter your username and password, then use your passkey.");
      }
      await signIn(form, { passkey: await signInAssertion(form.dataset.passkeyOptionsUrl) });
    } catch (error) {
      showError("login-error", error);
    } finally {
      button.disabled = false;
    }
  });
  button.disabled = false;
}

startPasskeySignIn();
startPasskeyList();
bind("passkey-add-form", "passkeys-error", addPasskey);
bind("step-up-form", "step-up-error", stepUpPage);
startUnlockButton();
