// How every page script talks to the server: JSON requests that turn a refusal into an error
// carrying the server's message, with the page's CSRF token.

import { N_, t } from "./text.js";

/** A refusal whose message is meant for the person (from the server or from the page). */
export class Refusal extends Error {
  constructor(message, status = 0, answer = {}) {
    super(message);
    this.status = status;
    this.answer = answer; // the server's whole JSON answer, for refusals that carry more
  }
}

export const UNREACHABLE = N_("Candor could not be reached. Check your connection and try " +
  "again.");

const csrfMeta = () => document.querySelector('meta[name="csrf-token"]');
export const csrfToken = () => csrfMeta().content;

/**
 * `fetch` with the page's cookies; the JSON answer, or a Refusal with the server's message.
 * An answer carrying a new CSRF token (a reporter session opened or closed) replaces the page's.
 */
export async function request(url, options = {}) {
  let response;
  try {
    response = await fetch(url, { credentials: "same-origin", ...options });
  } catch {
    throw new Refusal(t(UNREACHABLE));
  }
  let data = {};
  try { data = await response.json(); } catch { /* an empty or non-JSON error body */ }
  if (typeof data.csrf_token === "string") csrfMeta().content = data.csrf_token;
  if (!response.ok) {
    throw new Refusal(data.message || t("The server answered %(status)s.", { status: response.status }),
                      response.status, data);
  }
  return data;
}

export const getJson = (url) => request(url);

export function postJson(url, body) {
  return request(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify(body ?? {}),
  });
}
