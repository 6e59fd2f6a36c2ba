// Staff sign-in, TOTP enrolment, password change and sign-out, in the browser.
// The password is used only here: the page derives a login secret (sent) and an unwrapping
// key (kept), and the unwrapped private key lives only in this tab's sessionStorage.
import * as candor from "./candor-crypto.js";
import { b64, unb64 } from "./bytes.js";
import { postJson } from "./http.js";
import { solveProofOfWork } from "./proof-of-work.js";

const KEY_PREFIX = "candor.staff.";
const IDLE_MS = 30 * 60 * 1000;

// The key pair is kept in sessionStorage as base64, written and read with bytes.js's helpers,
// which use the browser's own atob/btoa: the staff home reads it as soon as the page's module
// runs, which can be before libsodium's WebAssembly has finished loading.

export function clearKeys() {
  for (const name of Object.keys(sessionStorage)) {
    if (name.startsWith(KEY_PREFIX)) sessionStorage.removeItem(name);
  }
}

export function storeKeyPair(staffId, keyPair) {
  sessionStorage.setItem(KEY_PREFIX + "id", String(staffId));
  sessionStorage.setItem(KEY_PREFIX + "private", b64(keyPair.privateKey));
  sessionStorage.setItem(KEY_PREFIX + "public", b64(keyPair.publicKey));
}

export function loadKeyPair(staffId) {
  if (sessionStorage.getItem(KEY_PREFIX + "id") !== String(staffId)) return null;
  const privateKey = sessionStorage.getItem(KEY_PREFIX + "private");
  const publicKey = sessionStorage.getItem(KEY_PREFIX + "public");
  return privateKey && publicKey ? { privateKey: unb64(privateKey), publicKey: unb64(publicKey) } : null;
}

// After many failed attempts with one username, each attempt must bring a solved puzzle: the
// server answers 429 with one, this page solves it and sends again (a few times at most, in
// case more failures made it harder meanwhile). Nobody is locked out; see throttle.py.
const PUZZLE_ROUNDS = 4;

export async function postSolvingPuzzles(url, body, status) {
  for (let round = 1; ; round++) {
    try {
      return await postJson(url, body);
    } catch (error) {
      const offered = error.answer?.proof_of_work;
      if (error.answer?.error !== "proof_of_work_required" || !offered || round >= PUZZLE_ROUNDS) {
        throw error;
      }
      const show = (percent) => {
        if (!status) return;
        status.textContent = `${error.message} ${percent}%`;
      };
      show(0);
      const { nonce, hash } = await solveProofOfWork(unb64(offered.challenge), offered.bits,
                                                     show, offered.hashes);
      body = { ...body, proof_of_work: { challenge: offered.challenge, nonce: b64(nonce), hash } };
    }
  }
}

function showError(id, error) {
  const box = document.getElementById(id);
  box.textContent = error.message || String(error);
  box.hidden = false;
}

async function deriveFor(preloginUrl, username, password) {
  const answer = await postJson(preloginUrl, { username });
  const params = candor.kdfParams(answer.kdf.version, answer.kdf.opslimit, answer.kdf.memlimit);
  return candor.deriveStaffSecrets(password, unb64(answer.salt), params);
}

// `secondFactor`: `{passkey}` (an assertion, from staff-passkeys.js) instead of the TOTP code.
export async function signIn(form, secondFactor = null) {
  const username = form.username.value.trim().toLowerCase();
  const password = form.password.value;
  const progress = document.getElementById("login-progress");
  progress.hidden = false;
  try {
    const secrets = await deriveFor(form.dataset.preloginUrl, username, password);
    const answer = await postSolvingPuzzles(form.dataset.loginUrl, {
      username, login_secret: b64(secrets.loginSecret),
      totp: secondFactor ? "" : form.totp.value.trim(), ...secondFactor,
    }, progress);
    const keyPair = candor.unwrapPrivateKey(unb64(answer.wrapped_private_key), secrets.unwrapKey,
                                            answer.staff_id);
    storeKeyPair(answer.staff_id, keyPair);
    window.location.assign(answer.next);
  } finally {
    progress.hidden = true;
    form.password.value = "";
  }
}

async function enrol(form) {
  const staffId = form.dataset.staffId;
  const keyPair = loadKeyPair(staffId);
  if (!keyPair) throw new Error("Your private key is not in this tab any more. Sign in again.");
  const recoveryCode = candor.generateRecoveryCode();
  const salt = candor.generateSalt();
  const wrapped = candor.wrapPrivateKey(keyPair, candor.recoveryUnwrapKey(recoveryCode, salt), staffId);
  await postJson(form.dataset.enrolUrl, {
    totp: form.totp.value.trim(), recovery_salt: b64(salt), recovery_wrapped_private_key: b64(wrapped),
  });
  form.hidden = true;
  const section = document.getElementById("recovery");
  document.getElementById("recovery-code").textContent = recoveryCode;
  section.hidden = false;
  const saved = document.getElementById("recovery-saved");
  const next = document.getElementById("recovery-continue");
  saved.addEventListener("change", () => next.setAttribute("aria-disabled", String(!saved.checked)));
}

async function changePassword(form) {
  checkNewPassword(form);
  const staffId = form.dataset.staffId;
  const current = await deriveFor(form.dataset.preloginUrl, form.dataset.username,
                                  form.current_password.value);
  const keyPair = loadKeyPair(staffId);
  if (!keyPair) throw new Error("Your private key is not in this tab any more. Sign in again.");
  const params = candor.paramsByVersion(Number(form.dataset.kdfVersion));
  const answer = await postSolvingPuzzles(form.dataset.submitUrl, {
    current_login_secret: b64(current.loginSecret),
    ...passwordMaterial(form.new_password.value, params, keyPair, staffId),
  });
  form.reset();
  const done = document.getElementById("password-done");
  done.textContent = answer.message;
  done.hidden = false;
}

// The fields of every new-password request: made here, so the password itself is never sent.
function passwordMaterial(password, params, keyPair, staffId) {
  const salt = candor.generateSalt();
  const secrets = candor.deriveStaffSecrets(password, salt, params);
  return {
    login_secret: b64(secrets.loginSecret),
    salt: b64(salt),
    kdf_version: params.version,
    wrapped_private_key: b64(candor.wrapPrivateKey(keyPair, secrets.unwrapKey, staffId)),
  };
}

function checkNewPassword(form) {
  if (form.new_password.value !== form.repeat_password.value) {
    throw new Error("The two new passwords differ.");
  }
  if (form.new_password.value.length < 12) throw new Error("Use at least 12 characters.");
}

async function recover(form) {
  checkNewPassword(form);
  const begun = await postSolvingPuzzles(form.dataset.beginUrl, {
    username: form.username.value.trim().toLowerCase(), totp: form.totp.value.trim(),
  });
  const staffId = begun.staff_id;
  const keyPair = candor.unwrapPrivateKey(
    unb64(begun.recovery_wrapped_private_key),
    candor.recoveryUnwrapKey(form.recovery_code.value, unb64(begun.recovery_salt)), staffId);
  const challenge = candor.openRecoveryChallenge(unb64(begun.sealed_challenge), keyPair);
  const params = candor.paramsByVersion(begun.kdf_version);
  const answer = await postJson(form.dataset.completeUrl, {
    challenge: b64(challenge),
    remove_passkeys: Boolean(form.remove_passkeys?.checked),
    ...passwordMaterial(form.new_password.value, params, keyPair, staffId),
  });
  form.reset();
  const done = document.getElementById("recover-done");
  done.textContent = answer.message;
  done.hidden = false;
}

const invitationToken = () => decodeURIComponent(window.location.hash.slice(1));

async function openInvitation(form) {
  try {
    await candor.ready();
    const invitation = await postJson(form.dataset.openUrl, { token: invitationToken() });
    form.dataset.staffId = invitation.staff_id;
    form.dataset.kdfVersion = invitation.kdf_version;
    document.getElementById("activate-username").textContent = invitation.username;
    form.hidden = false;
  } catch (error) {
    showError("activate-error", error);
  }
}

async function activate(form) {
  checkNewPassword(form);
  const keyPair = candor.generateStaffKeyPair();
  const params = candor.paramsByVersion(Number(form.dataset.kdfVersion));
  const answer = await postJson(form.dataset.submitUrl, {
    token: invitationToken(),
    public_key: b64(keyPair.publicKey),
    ...passwordMaterial(form.new_password.value, params, keyPair, form.dataset.staffId),
  });
  form.hidden = true;
  document.getElementById("activate-message").textContent = answer.message;
  document.getElementById("activate-fingerprint").textContent = answer.fingerprint;
  document.getElementById("activate-done").hidden = false;
}

// Forms run by this script are served with their submit button disabled: until the handler
// is in place, pressing Enter or the button must not let the browser send the fields itself.
export function enableSubmit(form) {
  for (const button of form.querySelectorAll("button[type=submit]")) button.disabled = false;
}

/** Run `handler` on the form's submission, showing what went wrong in `errorId`. */
export function bind(formId, errorId, handler) {
  const form = document.getElementById(formId);
  if (!form) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    document.getElementById(errorId).hidden = true;
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await candor.ready();
      await handler(form);
    } catch (error) {
      showError(errorId, error);
    } finally {
      button.disabled = false;
    }
  });
  enableSubmit(form);
}

function watchIdle() {
  let timer;
  const reset = () => {
    clearTimeout(timer);
    timer = setTimeout(() => { clearKeys(); window.location.assign("/auth/login"); }, IDLE_MS);
  };
  for (const name of ["keydown", "pointerdown", "scroll"]) {
    window.addEventListener(name, reset, { passive: true });
  }
  reset();
}

function showKeyState() {
  const state = document.getElementById("key-state");
  if (!state) return;
  const unlocked = loadKeyPair(state.dataset.staffId) !== null;
  state.textContent = unlocked
    ? "Your private key is unlocked in this tab only. Signing out or closing the tab removes it."
    : "Your private key is not unlocked in this tab. Sign out and sign in again to read case content.";
  state.classList.add(unlocked ? "notice-success" : "notice-error");
}

/** A "Copy" button for the read-only field its data-copy names (the invitation link). */
function startCopyButton(button) {
  const field = document.getElementById(button.dataset.copy);
  const status = document.getElementById(`${button.id}-status`);
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(field.value);
      status.textContent = "Copied.";
    } catch {
      field.select();
      status.textContent = "Selected: copy it with your keyboard or menu.";
    }
  });
  button.hidden = false;
}

document.querySelectorAll("button[data-copy]").forEach(startCopyButton);
if (document.getElementById("login-form") || document.getElementById("logged-out")) clearKeys();
document.querySelectorAll("form[action$='/auth/logout']").forEach((form) =>
  form.addEventListener("submit", clearKeys));
bind("login-form", "login-error", signIn);
bind("enrol-form", "enrol-error", enrol);
bind("password-form", "password-error", changePassword);
bind("recover-form", "recover-error", recover);
bind("activate-form", "activate-error", activate);
const activateForm = document.getElementById("activate-form");
if (activateForm) openInvitation(activateForm);
showKeyState();
if (document.body.classList.contains("staff") && !document.getElementById("login-form")) watchIdle();
