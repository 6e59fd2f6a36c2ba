// The SB 53 shares sealed to this officer or director, each opened with the private key
// unlocked in this tab (SPEC 8.11). Decrypted text reaches the page through textContent only.
import * as candor from "./candor-crypto.js";
import { explain, getJson, readShare } from "./staff-casework.js";
import { loadKeyPair } from "./staff-session.js";

const $ = (id) => document.getElementById(id);

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function shareItem(share, keyPair) {
  const item = element("li", undefined, "record");
  const text = readShare(share, keyPair);
  item.append(
    element("p", `${share.quarter} · case ${share.case_number} · written ${share.created_on}`,
            "record-meta"),
    text === null
      ? element("p", "This share could not be decrypted with your key: it may have been altered.",
                "error")
      : element("p", text, "record-text"));
  return item;
}

async function start() {
  const root = $("officer-shares-app");
  if (!root) return;
  try {
    await candor.ready();
    const keyPair = loadKeyPair(root.dataset.staffId);
    if (!keyPair) {
      $("key-locked").hidden = false;
      return;
    }
    const answer = await getJson(root.dataset.apiUrl);
    $("shares").replaceChildren(...(answer.shares.length
      ? answer.shares.map((share) => shareItem(share, keyPair))
      : [element("li", "No share has been sealed to you yet.")]));
  } catch (error) {
    $("shares-error").textContent = explain(error);
    $("shares-error").hidden = false;
  } finally {
    root.setAttribute("aria-busy", "false");
  }
}

start();
