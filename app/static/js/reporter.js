// The reporter's pages in the browser: making a report and coming back to it with the codename.
// What is sent and how it is encrypted is reporter-protocol.js's; this module is the page.
//
// The codename exists only in variables of this page: never in a URL, a cookie, storage or a
// request body. Decrypted text reaches the page only through textContent.
import * as candor from "./candor-crypto.js";
import { loadCrypto } from "./crypto-loader.js";
import { getJson, postJson, Refusal } from "./http.js";
import { fetchDirectory, loadDirectory } from "./key-directory.js";
import {
  buildSubmission, decryptView, downloadAttachment, keyFor, lookUpCase, messageBody, metadata,
  newCaseParams, newRef, normalisedCodename, openAttachment, openCase as openReporterCase,
  Puzzles, slowDerivation, uploadAttachment,
} from "./reporter-protocol.js";
import {
  expectedReaders, formatBytes, NoReaders, safeFileName, sb53Sharers, sizeBeforeDecrypting,
  sizeMismatch,
} from "./rules.js";
import { t, WORDS } from "./text.js";

const $ = (id) => document.getElementById(id);
const pause = () => new Promise((resolve) => setTimeout(resolve, 50)); // lets a status paint

const unreadable = () => t("This part of the case could not be decrypted: it may have been " +
  "altered. Nothing was changed. Tell the lab another way (see the start page).");
// How a reporter reads roles, records and purposes: from the server (app/vocabulary.py, in the
// page's <meta name="candor-words">, in the page's language), so no list of them lives here.
const ROLE_LABELS = WORDS.roles ?? {};
const RECORD_LABELS = WORDS.records ?? {};
const PURPOSE_LABELS = WORDS.purposes ?? {};

// What this page holds in memory only: the codename just made (until the reporter has saved
// it) and the case key of the case on screen. Leaving or reloading the page forgets both.
let newCodename = null;
let openedCase = null;
let uploading = false; // attachments of a new report are still being sent

/** A refusal about one field of the form: said next to that field, which gets the focus. */
class FieldError extends Refusal {
  constructor(field, message) {
    super(message);
    this.field = field;
  }
}

/** Show `error` next to its field (or in the box `fallbackId`) and move the focus there. */
function showFieldError(error, fallbackId) {
  if (!(error instanceof FieldError)) {
    showError(fallbackId, error);
    return;
  }
  const field = $(error.field);
  const box = $(`${error.field}-error`);
  box.textContent = error.message;
  box.hidden = false;
  field.setAttribute("aria-invalid", "true");
  field.setAttribute("aria-describedby",
                     `${field.getAttribute("aria-describedby") ?? ""} ${box.id}`.trim());
  field.focus();
}

function clearFieldErrors(form) {
  for (const box of form.querySelectorAll(".field-error")) {
    box.hidden = true;
    box.textContent = "";
    const field = $(box.id.replace(/-error$/, ""));
    field.removeAttribute("aria-invalid");
    const described = (field.getAttribute("aria-describedby") ?? "").split(" ")
      .filter((id) => id && id !== box.id);
    field.setAttribute("aria-describedby", described.join(" "));
  }
}

// Leaving the page forgets what it holds; the browser asks first while that would lose
// something: a codename not yet confirmed saved, or a report or reply being written.
function hasUnsavedWork() {
  if (newCodename && !$("codename-saved").checked) return true;
  return ["report-text", "identity", "reply-text"].some((id) =>
    $(id) && !$(id).closest("[hidden]") && $(id).value.trim() !== "");
}

window.addEventListener("beforeunload", (event) => {
  if (!hasUnsavedWork()) return;
  event.preventDefault();
  event.returnValue = ""; // what older browsers need to ask
});

function explain(error) {
  if (error instanceof Refusal) return error.message;
  if (error instanceof NoReaders) return t(error.message); // rules.js's English, as marked
  if (error instanceof candor.CryptoUnavailable) return noCrypto();
  if (error instanceof candor.SignatureInvalid) {
    return t("The recipients' keys could not be verified against the organisation key, so " +
      "nothing was encrypted or sent. Try again later, and tell the lab if it keeps happening.");
  }
  if (error instanceof candor.CryptoError) {
    return t("Something could not be encrypted or decrypted, so nothing is shown or sent " +
      "(%(error)s).", { error: error.message });
  }
  return t("Something in this page went wrong, so nothing was sent or shown. Reload the page " +
    "and try again; if it keeps happening, use the version without JavaScript (see the start " +
    "page).");
}

function showError(id, error) {
  const box = $(id);
  if (error instanceof candor.CryptoUnavailable) {
    box.replaceChildren(...noCryptoHelp());
  } else {
    box.textContent = explain(error);
  }
  box.hidden = false;
}

// ---------------------------------------------------------------------------------------------
// Loading the cryptography (crypto-loader.js) while the reporter reads and types

const noCrypto = () => t("This browser could not run the encryption this page needs (part of " +
  "the page did not load, or was blocked), so nothing was encrypted or sent.");

/** What to do when neither backend runs: the two other ways to report, and what each means. */
function noCryptoHelp() {
  const plain = element("a", t("the version without JavaScript"));
  plain.href = document.querySelector("[data-plain-url]").dataset.plainUrl; // in this language
  const first = element("p", noCrypto() + " " + t("You can still report, in one of two ways:"));
  const ways = element("ul");
  const one = element("li");
  one.append(...around(t("Use %(link)s. It works in any browser, with JavaScript off. The " +
    "server encrypts your report in memory for that one request and never writes or logs what " +
    "you wrote, but it does see it while it encrypts."), "%(link)s", plain));
  const two = element("li");
  two.append(...around(t("Or use the command-line client, %(command)s, on your own computer " +
    "(the version without JavaScript says more). It encrypts before anything leaves your " +
    "computer, so the server never sees what you wrote."), "%(command)s",
  element("code", "candor report")));
  ways.append(one, two);
  return [first, ways];
}

/** `sentence` with `node` where its `placeholder` is: the words around an element, translated
 * whole, so each language puts the element where its grammar wants it. */
function around(sentence, placeholder, node) {
  const [before, after = ""] = sentence.split(placeholder);
  return [before, node, after];
}

let cryptoLoading = null;

/** Start loading the backend this browser can run (once); resolves to its name. */
function cryptoReady() {
  if (cryptoLoading === null) {
    cryptoLoading = loadCrypto();
    cryptoLoading.catch(() => { cryptoLoading = null; });
  }
  return cryptoLoading;
}

/** "about 2 minutes" / "about 40 seconds": rounded, never falsely precise. */
function roughly(seconds) {
  if (seconds >= 90) return t("about %(count)s minutes", { count: Math.round(seconds / 60) });
  if (seconds >= 15) return t("about %(count)s seconds", { count: Math.round(seconds / 5) * 5 });
  return t("a few seconds");
}

/**
 * An `onProgress` for a slow key derivation that writes to `status` how far it is and how long
 * is left, estimated from the pace so far (nothing is promised before there is a pace).
 */
function derivationProgress(status, what) {
  const started = performance.now();
  let lastShown = 0;
  return (fraction) => {
    const now = performance.now();
    if (now - lastShown < 500 && fraction < 1) return;
    lastShown = now;
    const percent = Math.floor(100 * fraction);
    const elapsed = (now - started) / 1000;
    const left = fraction > 0.02 ? (elapsed / fraction) * (1 - fraction) : null;
    status.textContent = left === null
      ? t("%(what)s: %(percent)s%%. Keep this page open.", { what, percent })
      : t("%(what)s: %(percent)s%%, %(left)s left. Keep this page open.",
          { what, percent, left: roughly(left) });
  };
}

function hideError(id) {
  $(id).hidden = true;
  $(id).textContent = "";
}

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

/** A `<time>` for an ISO date (YYYY-MM-DD), written out in the reader's own locale. */
function dateElement(iso) {
  const [year, month, day] = iso.split("-").map(Number);
  // In the page's language; on English pages, the reader's own locale's way of writing dates.
  const lang = document.documentElement.lang;
  const shown = new Date(year, month - 1, day).toLocaleDateString(
    lang && lang !== "en" && lang !== "en-XB" ? lang : undefined,
    { year: "numeric", month: "long", day: "numeric" });
  const time = element("time", shown);
  time.dateTime = iso;
  return time;
}

function showDate(id, iso) {
  // No date: none is owed now (a closed case), or the server could not compute it.
  $(id).replaceChildren(iso ? dateElement(iso) : element("span", "—"));
}

// ---------------------------------------------------------------------------------------------
// Attachments: what will happen to each file, and each one's progress (reporter-protocol.js
// cleans, encrypts and sends them)

const sameFiles = (files, now) => files.length === now.length &&
  files.every((file, i) => file === now[i]);

/** Under a file input: what will happen to each chosen file, said before anything is sent. */
function startAttachmentChecks(input, list) {
  input.addEventListener("change", async () => {
    const files = Array.from(input.files);
    list.replaceChildren(...files.map((file) => element(
      "li", t("%(name)s: checking…", { name: safeFileName(file.name) }), "attachment-checking")));
    const items = await Promise.all(files.map(async (file) => {
      // Documents are cleaned here, whole, so the reporter reads what was removed before
      // sending; the upload takes the same cleaned copy (metadata.cleanedFile).
      const { cleaned, note } = await (await metadata()).describe(file);
      const item = element("li", undefined, cleaned ? "cleaned" : "uncleaned");
      item.append(element("span", safeFileName(file.name), "attachment-name"),
                  ` (${formatBytes(file.size)}) `, element(cleaned ? "span" : "strong", note));
      return item;
    }));
    if (!sameFiles(files, input.files)) return; // chosen again meanwhile
    list.replaceChildren(...items);
  });
}

/** A line with a progress bar for one file; the text under it is what screen readers hear. */
function progressItem(list, name, size, verb) {
  const item = element("li");
  const label = element("span", name, "attachment-name");
  label.id = newRef("progress-");
  const bar = element("progress");
  bar.max = Math.max(size, 1);
  bar.value = 0;
  bar.setAttribute("aria-labelledby", label.id);
  const text = element("span", t("%(verb)s: waiting", { verb }), "attachment-meta");
  text.setAttribute("role", "status");
  item.append(label, " ", bar, text);
  list.append(item);
  let lastTenth = -1;
  return {
    progress(done) {
      bar.value = done;
      const tenth = Math.floor((10 * done) / Math.max(size, 1));
      if (tenth !== lastTenth) { // a few updates, not one per chunk, for screen readers
        lastTenth = tenth;
        text.textContent = t("%(verb)s: %(done)s of %(size)s (%(percent)s%%)", {
          verb, done: formatBytes(done), size: formatBytes(size),
          percent: Math.min(100, tenth * 10) });
      }
    },
    finish(message) {
      bar.value = bar.max;
      text.textContent = message;
    },
    fail(message) {
      item.classList.add("error");
      text.textContent = message;
    },
  };
}

/** Upload every file in turn with its own progress line; returns how many failed. */
async function uploadAll(files, target, list) {
  let failed = 0;
  for (const file of files) {
    const name = safeFileName(file.name);
    const line = progressItem(list, name, file.size, t("Encrypting and sending"));
    try {
      const sent = await uploadAttachment(file, target, (done) => line.progress(done));
      line.finish(t("Sent, encrypted (%(size)s).", { size: formatBytes(sent) }));
    } catch (error) {
      failed += 1;
      const { MetadataError, NOTES } = await metadata();
      line.fail(error instanceof MetadataError
        ? t("%(problem)s (%(error)s).", { problem: t(NOTES.notSent), error: error.message })
        : t("Not sent: %(reason)s", { reason: explain(error) }));
      if (error.status === 401) throw error; // the session ended: nothing more can be sent
    }
  }
  return failed;
}

function peopleList(list, people, empty) {
  const names = people.map((person) => [person.username,
    ...person.roles.map((role) => ROLE_LABELS[role] ?? role).sort()].join(", "));
  list.replaceChildren(...(names.length ? names : [empty]).map((text) => element("li", text)));
}

function startReportPage(form) {
  const submit = $("report-submit");
  let options = null;
  let starting = null; // start(), which loads what sending needs
  let startError = null;

  // A report of retaliation keeps its first report's exclusions and RSO flag (the server
  // insists): they start ticked and cannot be unticked, and people no longer listed count too.
  const inherited = (form.dataset.inheritedConcerned || "").split(" ").filter(Boolean);
  const choices = () => ({
    route: form.querySelector('input[name="route"]:checked').value,
    concerns_rso: $("concerns-rso").checked || Boolean(form.dataset.inheritedConcernsRso),
    concerned_staff_ids: Array.from(new Set([
      ...Array.from(form.querySelectorAll('input[name="concerned"]:checked'), (box) => box.value),
      ...inherited]), Number),
  });

  let entries = [];
  const puzzles = new Puzzles(form.dataset.proofOfWorkUrl);

  // The readers shown are the ones the report will be encrypted to: both come from the
  // signed directory entries, so the server cannot show one list and receive for another.
  function showReaders() {
    const chosen = choices();
    peopleList($("sb53-officers"), sb53Sharers(entries, chosen.concerns_rso,
                                               chosen.concerned_staff_ids),
               t("No officer or director holds a signed key yet."));
    try {
      const readers = expectedReaders(entries, chosen.route, chosen.concerns_rso,
                                      chosen.concerned_staff_ids);
      hideError("readers-error");
      peopleList($("readers-now"), readers.now, t("No one"));
      peopleList($("readers-escalation"), readers.onEscalation, t("No one else"));
    } catch (error) {
      $("readers-now").replaceChildren();
      $("readers-escalation").replaceChildren();
      showError("readers-error", error);
    }
  }

  function listRecipients(entries) {
    const sorted = [...entries].sort((a, b) => a.username.localeCompare(b.username));
    $("concerned-list").replaceChildren(...sorted.map((entry) => {
      const box = element("input");
      box.type = "checkbox";
      box.name = "concerned";
      box.value = String(entry.staffId);
      box.checked = box.disabled = inherited.includes(box.value);
      const label = element("label", undefined, "checkbox");
      label.append(box, ` ${entry.username}`);
      const item = element("li");
      item.append(label);
      return item;
    }));
  }

  async function start() {
    // The form is served visible, so the reporter reads and types while all this loads.
    // The categories come at once; the cryptography (the largest download) meanwhile.
    const choicesLoaded = getJson(form.dataset.optionsUrl).then((answer) => {
      $("category").append(...answer.taxonomy.categories.map((c) => {
        const option = element("option", c.label);
        option.value = c.id;
        return option;
      }));
      if (form.dataset.retaliation) $("category").value = "retaliation";
      if (form.dataset.inheritedConcernsRso) {
        $("concerns-rso").checked = $("concerns-rso").disabled = true;
      }
      return answer;
    });
    const directoryFetched = fetchDirectory(); // checked once the cryptography is there
    directoryFetched.catch(() => {}); // its failure is reported where it is awaited
    try {
      const [answer] = await Promise.all([choicesLoaded, cryptoReady()]);
      if (!form.dataset.fingerprint) {
        throw new Refusal(t("This installation has no organisation key yet, so no report " +
          "can be encrypted. Use another channel, such as those on the start page."));
      }
      entries = await loadDirectory(form.dataset.fingerprint, undefined, directoryFetched);
      options = answer;
      listRecipients(entries);
      showReaders();
      puzzles.ahead();
      metadata();
    } catch (error) {
      startError = error;
      showError("page-error", error);
    }
  }

  async function send() {
    const files = Array.from($("attachments").files);
    const text = $("report-text").value;
    const identity = $("identity").value;
    if (!$("category").value) {
      throw new FieldError("category", t("Choose what the report is about."));
    }
    if (!text.trim()) {
      throw new FieldError("report-text", t("Write what happened before sending."));
    }
    if (options === null) {
      $("report-status").textContent = t("Still loading the encryption for this page…");
      await starting;
      if (options === null) throw startError;
    }
    $("report-status").textContent = t("Encrypting your report in this browser…");
    await pause();
    // Keys may have been revoked since the page loaded: check the directory again, and stop if
    // the readers are no longer the ones the reporter was shown.
    const chosen = choices();
    const ids = (list) => expectedReaders(list, chosen.route, chosen.concerns_rso,
      chosen.concerned_staff_ids).now.map((entry) => entry.staffId).join();
    const fresh = await loadDirectory(form.dataset.fingerprint);
    if (ids(fresh) !== ids(entries)) {
      entries = fresh;
      showReaders();
      throw new Refusal(t("The readers changed since this page was loaded. Check the list " +
        "again, then send."));
    }
    const { body, codename, caseKey, caseRef } = await buildSubmission({
      ...choices(), category: $("category").value, text,
      identity: identity.trim() ? identity : null,
      material_risk: $("material-risk").checked, sb53_disclosure: $("sb53").checked,
      critical_incident: $("critical-incident").checked, imminent_risk: $("imminent-risk").checked,
    }, entries, newCaseParams(options),
    derivationProgress($("report-status"), t("Making your codename's key in this browser")));
    // A retaliation report is linked to the case this session has open; the server takes that
    // case from the session, so nothing here names it.
    if (form.dataset.retaliation) body.retaliation_for_open_case = true;
    const proved = await puzzles.attach(body, (percent) => {
      $("report-status").textContent = t("Checking this is not an automated flood… " +
        "%(percent)s%%", { percent });
    });
    $("report-status").textContent = t("Sending…");
    const answer = await postJson(form.dataset.submitUrl, proved);
    newCodename = codename;
    await showReceipt(answer.number);
    if (files.length) {
      await sendReportFiles(files, { caseRef, caseKey, keyEpoch: 1,
                                     url: form.dataset.attachmentsUrl });
    }
  }

  // After the report is filed, in its new reporter session; the receipt is already showing.
  async function sendReportFiles(files, target) {
    const next = $("receipt-continue");
    $("receipt-uploads").hidden = false;
    uploading = true;
    next.disabled = true;
    try {
      const failed = await uploadAll(files, target, $("receipt-upload-list"));
      if (failed) {
        $("receipt-upload-list").append(element("li", t("Your report was filed. To send the " +
          "files that failed, open your report with your codename and attach them to a reply.")));
      }
    } catch (error) {
      $("receipt-upload-list").append(element("li", explain(error), "error"));
    } finally {
      uploading = false;
      next.disabled = !$("codename-saved").checked;
    }
  }

  // The report is filed: the codename is shown before anything else can go wrong.
  async function showReceipt(number) {
    form.reset(); // the plaintext need not stay in the page
    form.hidden = true;
    $("receipt-number").textContent = number;
    // One span per word, each kept whole on its line: a word broken across two lines gets
    // typed back wrong.
    $("receipt-codename").replaceChildren(...newCodename.split(" ").flatMap((word, index) =>
      [...(index ? [" "] : []), element("span", word, "codename-word")]));
    const receipt = $("receipt");
    receipt.hidden = false;
    receipt.focus();
    try {
      const view = await getJson(form.dataset.caseUrl);
      showDate("receipt-acknowledge-by", view.acknowledge_by);
      showDate("receipt-feedback-by", view.feedback_by);
    } catch {
      for (const id of ["receipt-acknowledge-by", "receipt-feedback-by"]) {
        $(id).textContent = t("Shown when you return to your report.");
      }
    }
  }

  for (const input of form.querySelectorAll('input[name="route"], #concerns-rso')) {
    input.addEventListener("change", showReaders);
  }
  $("concerned-list").addEventListener("change", showReaders);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    hideError("report-error");
    clearFieldErrors(form);
    submit.disabled = true;
    try {
      await send();
    } catch (error) {
      showFieldError(error, "report-error");
    } finally {
      submit.disabled = false;
      $("report-status").textContent = "";
    }
  });
  submit.disabled = false; // served disabled: nothing is sent before this handler
  startAttachmentChecks($("attachments"), $("attachment-checks"));
  startReceipt();
  starting = start();
}

function startReceipt() {
  const saved = $("codename-saved");
  const next = $("receipt-continue");
  saved.addEventListener("change", () => { next.disabled = !saved.checked || uploading; });
  $("copy-codename").addEventListener("click", async () => {
    const status = $("copy-status");
    try {
      await navigator.clipboard.writeText(newCodename);
      status.textContent = t("Copied. Paste it somewhere safe, then clear your clipboard.");
    } catch {
      const range = document.createRange();
      range.selectNodeContents($("receipt-codename"));
      window.getSelection().removeAllRanges();
      window.getSelection().addRange(range);
      status.textContent = t("This browser did not allow copying: the codename is selected, " +
        "so copy it with your keyboard or menu.");
    }
  });
  next.addEventListener("click", () => {
    newCodename = null;
    $("receipt-codename").textContent = "";
    window.location.assign(next.dataset.nextUrl);
  });
}

// ---------------------------------------------------------------------------------------------
// Coming back with the codename

function messageItem(message) {
  const mine = message.author === "reporter";
  const item = element("li", undefined, `message ${mine ? "message-you" : "message-them"}`);
  const meta = element("p", undefined, "message-meta");
  meta.append(element("strong", mine ? t("You") : t("The recipients")),
              ` · ${PURPOSE_LABELS[message.purpose] ?? RECORD_LABELS[message.kind] ?? message.kind} · `,
              dateElement(message.created_on));
  if (message.unreadable) {
    item.append(meta, element("p", unreadable(), "error"));
  } else {
    item.append(meta, element("p", message.text, "message-text"));
  }
  return item;
}

function renderCase(view, opened) {
  const messages = decryptView(view, opened); // everything decrypts before anything is shown
  $("case-number").textContent = view.number;
  $("case-status").textContent = view.status_label ?? view.status;
  $("case-category").textContent = view.category;
  showDate("case-received", view.received_on);
  // Before acknowledgement, the date it is due; after, the date it came.
  $("case-acknowledge-label").textContent = view.acknowledged_on ? t("Acknowledged on")
    : t("Acknowledgement due by");
  showDate("case-acknowledge-by", view.acknowledged_on ?? view.acknowledge_by);
  $("case-closed").hidden = view.status !== "closed";
  showDate("case-feedback-by", view.feedback_by);
  showDate("case-next-update-by", view.next_update_by);
  $("case-waiting").hidden = !view.feedback_waiting_since;
  $("case-timeline").replaceChildren(...view.timeline.map((event) => {
    const item = element("li");
    item.append(dateElement(event.on), element("span", event.detail || event.kind));
    return item;
  }));
  $("case-conversation").replaceChildren(...messages.map(messageItem));
  renderMinutes(view.minutes);
  const files = view.attachments.map((item) => attachmentItem(item, opened));
  $("case-attachments").replaceChildren(...(files.length ? files
    : [element("li", t("No attachments yet."), "attachment-meta")]));
}

/** A report a recipient took down with the reporter: its minutes, to agree once. */
function renderMinutes(minutes) {
  $("minutes-panel").hidden = !minutes;
  if (!minutes) return;
  $("minutes-form").hidden = Boolean(minutes.agreed_on);
  $("minutes-agreed").hidden = !minutes.agreed_on;
  if (minutes.agreed_on) $("minutes-agreed-on").textContent = minutes.agreed_on;
}

async function agreeMinutes(form) {
  renderCase(await postJson(form.dataset.agreeUrl, {}), openedCase);
}

function attachmentItem(item, opened) {
  const line = element("li");
  const mine = item.author === "reporter";
  let file;
  try {
    file = openAttachment(item, opened);
  } catch (error) {
    if (!(error instanceof candor.CryptoError)) throw error;
    line.append(element("p", unreadable(), "error"));
    return line;
  }
  const meta = element("p", undefined, "attachment-meta");
  meta.append((mine ? t("You") : t("The recipients")) + " · ", dateElement(item.created_on),
              ` · ${sizeBeforeDecrypting(item.frames, file.size)}`);
  const button = element("button", t("Download %(name)s", { name: file.name }),
                         "button button-quiet");
  button.type = "button";
  const status = element("span", "", "attachment-meta");
  status.setAttribute("role", "status");
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await saveAttachment(item, file, opened, status);
    } catch (error) {
      status.textContent = explain(error);
    } finally {
      button.disabled = false;
    }
  });
  line.append(element("span", file.name, "attachment-name"), meta, button, " ", status);
  return line;
}

/** Download, decrypt and check an attachment, then offer it for saving. */
async function saveAttachment(item, file, opened, status) {
  const url = `${$("reply-form").dataset.attachmentsUrl}/${item.attachment_ref}`;
  const parts = await downloadAttachment(url, item, file, opened, (percent) => {
    status.textContent = t("Decrypting: %(percent)s%%", { percent });
  });
  const size = parts.reduce((total, part) => total + part.length, 0);
  const link = element("a");
  link.href = URL.createObjectURL(new Blob(parts, { type: "application/octet-stream" }));
  link.download = file.name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
  status.textContent = t("Decrypted and checked (%(size)s); your browser saves it like any " +
    "download.", { size: formatBytes(size) });
  const mismatch = sizeMismatch(file.size, size);
  if (mismatch) {
    status.textContent += ` ${mismatch}`;
    status.classList.add("error");
  }
}

async function openCase(form) {
  const normalised = await normalisedCodename($("codename").value);
  const status = $("open-status");
  status.textContent = t("Working… finding your report and deriving its key from your " +
    "codename. This can take a few seconds.");
  let opened;
  try {
    await pause();
    const view = await lookUpCase(form.dataset.openUrl, normalised);
    if (slowDerivation(view)) {
      status.textContent = t("Your report was found. This browser runs without WebAssembly, " +
        "so deriving its key from your codename takes a minute or more here; the time left is " +
        "shown as soon as it can be estimated.");
    }
    opened = await openReporterCase(view, normalised,
                                    derivationProgress(status, t("Deriving your report's key")));
    renderCase(view, opened);
  } finally {
    status.textContent = "";
  }
  openedCase = opened;
  $("codename").value = "";
  $("open-panel").hidden = true;
  $("case-view").hidden = false;
  $("case-view").focus();
}

async function sendReply() {
  const text = $("reply-text").value;
  const files = Array.from($("reply-attachments").files);
  if (!text.trim() && !files.length) {
    throw new Refusal(t("Write your message or choose a file before sending."));
  }
  const form = $("reply-form");
  let view = null;
  if (files.length) {
    const list = $("reply-upload-list");
    list.replaceChildren();
    const failed = await uploadAll(files, {
      caseRef: openedCase.caseRef, caseKey: keyFor(openedCase, openedCase.keyEpoch),
      keyEpoch: openedCase.keyEpoch, url: form.dataset.attachmentsUrl }, list);
    $("reply-attachments").value = "";
    $("reply-attachment-checks").replaceChildren();
    if (failed) throw new Refusal(t("Some files were not sent; see above."));
    view = await getJson(form.dataset.caseUrl);
  }
  if (!text.trim()) {
    renderCase(view, openedCase);
    $("reply-status").textContent = t("Your files were sent.");
    return;
  }
  view = await postJson(form.dataset.messagesUrl, messageBody(openedCase, text));
  renderCase(view, openedCase);
  $("reply-text").value = "";
  $("reply-status").textContent = t("Your message was sent.");
}

function closeCase(error) {
  openedCase = null;
  $("case-view").hidden = true;
  $("case-conversation").replaceChildren();
  $("open-panel").hidden = false;
  showError("open-error", error);
}

function bind(form, button, errorId, statusId, handler) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    hideError(errorId);
    $(statusId).textContent = "";
    button.disabled = true;
    try {
      await cryptoReady();
      await handler(form);
    } catch (error) {
      if (error.status === 401 && openedCase) closeCase(error); // the session ended
      else showError(errorId, error);
    } finally {
      button.disabled = false;
    }
  });
  button.disabled = false; // served disabled: nothing is sent before this handler
}

function startCasePage(form) {
  cryptoReady().then(metadata, (error) => showError("open-error", error)); // while typing
  startAttachmentChecks($("reply-attachments"), $("reply-attachment-checks"));
  bind(form, $("open-submit"), "open-error", "open-status", openCase);
  bind($("reply-form"), $("reply-submit"), "reply-error", "reply-status", sendReply);
  bind($("minutes-form"), $("minutes-submit"), "minutes-error", "minutes-status", agreeMinutes);
}

// ---------------------------------------------------------------------------------------------
// Leaving in a hurry

function wipePage() {
  for (const field of document.querySelectorAll("input, textarea, select")) {
    field.value = "";
    field.checked = false;
  }
  document.title = "Candor";
  document.body.replaceChildren();
}

function startLeaveButton(button) {
  button.addEventListener("click", async (event) => {
    event.preventDefault(); // a plain link for pages without scripts; here the page goes first
    newCodename = null;
    openedCase = null;
    const leave = postJson(button.dataset.leaveUrl, {}); // reads the token before the wipe
    wipePage();
    try {
      await leave;
    } catch {
      // Leave anyway: an abandoned reporter session also ends by itself when idle.
    }
    window.location.replace(button.dataset.homeUrl);
  });
  button.hidden = false;
}

const leaveButton = $("leave-now");
if (leaveButton) startLeaveButton(leaveButton);
const reportForm = $("report-form");
if (reportForm) startReportPage(reportForm);
const openForm = $("open-form");
if (openForm) startCasePage(openForm);
