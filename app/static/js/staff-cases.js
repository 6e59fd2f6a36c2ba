// The staff case pages: inbox, case page and a case opened with no reporter. The server sends
// ciphertext; this page opens the case key with the private key unlocked in this tab
// (staff-session.js) and decrypts here. Decrypted text reaches the page through textContent
// only; an export is built here and handed to the browser as a file, never sent anywhere.
import * as candor from "./candor-crypto.js";
import { unb64 } from "./bytes.js";
import { Refusal, UNREACHABLE } from "./http.js";
import { loadDirectory } from "./key-directory.js";
import { safeFileName, sizeBeforeDecrypting, sizeMismatch } from "./rules.js";
import { enableSubmit, loadKeyPair } from "./staff-session.js";
import {
  encryptText, entryOf, explain, getJson, grantsForNewMember, newCaseBody, openCaseKeys,
  postJson, readersFor, readRecord, revocation, sb53ShareBody,
} from "./staff-casework.js";

const $ = (id) => document.getElementById(id);
const PREVIEW_CHARACTERS = 200;
const UNREADABLE = "This record could not be decrypted with your key: it may have been " +
  "altered, or sealed under a key you do not hold.";

// The labels of statuses, events, clocks, flags and routes come from the server
// (app/vocabulary.py, rendered into the page as JSON), so no list of them lives here.
const WORDS = JSON.parse(document.querySelector('meta[name="candor-words"]').content);
const STATUS_LABELS = WORDS.statuses;
const EVENT_LABELS = WORDS.events;
const CLOCK_LABELS = WORDS.clocks;
const PURPOSE_LABELS = WORDS.purposes;
const FLAG_LABELS = WORDS.flags;
const ACTION_LABELS = WORDS.actions;
const ROUTE_LABELS = WORDS.routes;
const label = (table, key) => table[key] ?? String(key).replaceAll("_", " ");

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function option(value, text, selected = false) {
  const node = element("option", text);
  node.value = value;
  node.selected = selected;
  return node;
}

/** A `<time>` for an ISO date (YYYY-MM-DD), written out in the reader's locale. */
function dateElement(iso) {
  if (!iso) return element("span", "—");
  const [year, month, day] = iso.split("-").map(Number);
  const time = element("time", new Date(year, month - 1, day).toLocaleDateString(undefined,
    { year: "numeric", month: "short", day: "numeric" }));
  time.dateTime = iso;
  return time;
}

function showError(box, error) {
  box.textContent = explain(error);
  box.hidden = false;
}

function hideError(box) {
  box.hidden = true;
  box.textContent = "";
}

/** The key pair unlocked in this tab, or null with the "locked" notice shown. */
function unlockedKey(root) {
  const keyPair = loadKeyPair(root.dataset.staffId);
  if (!keyPair) $("key-locked").hidden = false;
  return keyPair;
}

// ---------------------------------------------------------------------------------------------
// Inbox

const FILTERS = ["status", "category", "route", "assignee", "overdue", "flag", "sort", "page"];

function inboxQuery() {
  const shown = new URLSearchParams(window.location.search);
  const query = new URLSearchParams();
  for (const name of FILTERS) {
    const value = shown.get(name);
    if (value) query.set(name, value);
  }
  return query;
}

function pageLink(query, page) {
  const next = new URLSearchParams(query);
  next.set("page", String(page));
  return `?${next}`;
}

function fillFilterForm(form, query) {
  for (const name of ["status", "category", "route", "flag", "sort"]) {
    if (query.get(name)) form.elements[name].value = query.get(name);
  }
  form.elements.overdue.checked = query.get("overdue") === "1";
}

async function fillAssigneeChoices(root, select, query) {
  const wanted = query.get("assignee") ?? "";
  if (root.dataset.fingerprint) {
    try {
      const entries = await loadDirectory(root.dataset.fingerprint);
      const people = entries.filter((e) => String(e.staffId) !== root.dataset.staffId)
        .sort((a, b) => a.username.localeCompare(b.username));
      select.append(...people.map((e) => option(String(e.staffId), e.username)));
    } catch {
      // Without the directory, "me" and "nobody" still work.
    }
  }
  select.value = wanted;
  if (select.value !== wanted) select.append(option(wanted, `Staff member ${wanted}`, true));
}

function showCounts(form, counts, query) {
  const status = form.elements.status;
  for (const item of status.options) {
    if (item.value) item.textContent = `${label(STATUS_LABELS, item.value)} (${counts.status[item.value] ?? 0})`;
  }
  const links = [
    ["overdue", "1", `Overdue: ${counts.overdue}`],
    ["assignee", "none", `Unassigned: ${counts.unassigned}`],
    ["assignee", "me", `Assigned to me: ${counts.mine}`],
  ];
  $("inbox-counts").replaceChildren(...links.map(([name, value, text]) => {
    const next = new URLSearchParams();
    next.set(name, value);
    const link = element("a", text, "count-link");
    link.href = `?${next}`;
    if (query.get(name) === value) link.setAttribute("aria-current", "true");
    const item = element("li");
    item.append(link);
    return item;
  }));
}

function previewText(summary, keyPair) {
  if (!summary.preview) return { text: "The report is long: open the case to read it.", quiet: true };
  if (!keyPair) return { text: "Locked: unlock your key to read the preview.", quiet: true };
  const keys = openCaseKeys(summary, keyPair, summary.preview.key_epoch);
  const text = readRecord(summary, keys, summary.preview);
  if (text === null) return { text: UNREADABLE, quiet: true };
  const compact = text.replace(/\s+/g, " ").trim();
  return { text: compact.length > PREVIEW_CHARACTERS
    ? `${compact.slice(0, PREVIEW_CHARACTERS)}…` : compact, quiet: false };
}

function caseItem(root, summary, keyPair) {
  const item = element("li", undefined, summary.overdue ? "case-card overdue" : "case-card");
  const head = element("p", undefined, "case-card-head");
  const link = element("a", summary.number);
  link.href = `${root.dataset.pagesUrl}/${encodeURIComponent(summary.number)}`;
  head.append(link, element("span", label(STATUS_LABELS, summary.status), `badge status-${summary.status}`));
  if (summary.overdue) head.append(element("span", "Overdue", "badge badge-overdue"));
  for (const [flag, on] of Object.entries(summary.flags)) {
    if (on) head.append(element("span", label(FLAG_LABELS, flag), "badge badge-flag"));
  }
  const meta = element("dl", undefined, "meta meta-compact");
  const due = element("span");
  if (summary.next_due_on) {
    due.append(dateElement(summary.next_due_on),
               ` (${label(CLOCK_LABELS, summary.next_due_clock)})`);
  } else {
    due.textContent = "Nothing due";
  }
  for (const [term, value] of [
    ["Category", summary.category_label], ["Route", label(ROUTE_LABELS, summary.route)],
    ["Received", dateElement(summary.received_on)], ["Next due", due],
    ["Assignee", summary.assignee ? summary.assignee.username : "Nobody"],
  ]) {
    const dd = element("dd");
    dd.append(value);
    meta.append(element("dt", term), dd);
  }
  const preview = previewText(summary, keyPair);
  item.append(head, meta, element("p", preview.text, preview.quiet ? "preview hint" : "preview"));
  return item;
}

function showPager(query, answer) {
  const pager = $("inbox-pager");
  const parts = [];
  if (answer.page > 1) {
    const back = element("a", "Previous page");
    back.href = pageLink(query, answer.page - 1);
    back.rel = "prev";
    parts.push(back);
  }
  parts.push(element("span", `Page ${answer.page} of ${answer.pages}`));
  if (answer.page < answer.pages) {
    const next = element("a", "Next page");
    next.href = pageLink(query, answer.page + 1);
    next.rel = "next";
    parts.push(next);
  }
  pager.replaceChildren(...parts);
}

/** Filters stay folded on a narrow screen; the summary says how many are on. */
function foldFilters(query) {
  const active = ["status", "category", "route", "assignee", "overdue", "flag"]
    .filter((name) => query.get(name)).length;
  $("inbox-filter-summary").textContent = active
    ? `Filter and sort (${active} ${active === 1 ? "filter" : "filters"} on)` : "Filter and sort";
  $("inbox-filter-box").open = window.matchMedia("(min-width: 50rem)").matches;
}

async function startInbox(root) {
  const form = $("inbox-filters");
  const query = inboxQuery();
  fillFilterForm(form, query);
  foldFilters(query);
  const keyPair = unlockedKey(root);
  await fillAssigneeChoices(root, form.elements.assignee, query);
  const answer = await getJson(`${root.dataset.apiUrl}?${query}`);
  showCounts(form, answer.counts, query);
  $("inbox-total").textContent = `${answer.total} ${answer.total === 1 ? "case" : "cases"}`;
  $("case-list").replaceChildren(...answer.cases.map((summary) => caseItem(root, summary, keyPair)));
  $("inbox-empty").hidden = answer.cases.length > 0;
  showPager(query, answer);
}

// ---------------------------------------------------------------------------------------------
// The case page

/** What the case page holds: the view on screen and its case keys, only while it is open. */
const state = { view: null, keys: null, keyPair: null, identity: null, texts: null };

function caseUrl(root, suffix = "") {
  return `${root.dataset.apiUrl}/${encodeURIComponent(root.dataset.number)}${suffix}`;
}

function decryptAll(view) {
  state.view = view;
  state.keys = openCaseKeys(view, state.keyPair);
  state.texts = new Map(view.records.map((r) => [r.record_ref, readRecord(view, state.keys, r)]));
  const identity = view.records.find((r) => r.kind === "identity");
  state.identity = identity ? state.texts.get(identity.record_ref) : null;
}

function recordsOf(kind) {
  return state.view.records.filter((r) => r.kind === kind)
    .map((r) => ({ ...r, text: state.texts.get(r.record_ref) }));
}

function recordItem(record, who) {
  const item = element("li", undefined, `record record-${record.kind} record-${record.author}`);
  const meta = element("p", undefined, "record-meta");
  meta.append(element("strong", who), " · ", dateElement(record.created_on));
  if (PURPOSE_LABELS[record.purpose]) {
    meta.append(" · ", element("span", PURPOSE_LABELS[record.purpose], "badge"));
  }
  item.append(meta, record.text === null
    ? element("p", UNREADABLE, "error")
    : element("p", record.text, "record-text"));
  return item;
}

const authorName = (record) => (record.author === "reporter" ? "Reporter"
  : record.author_username ?? "Staff");

function fillList(id, records, emptyText, who = authorName) {
  const list = $(id);
  list.replaceChildren(...records.map((r) => recordItem(r, who(r))));
  if (!records.length) list.append(element("li", emptyText, "hint"));
}

function metaRow(list, term, value) {
  const dd = element("dd");
  dd.append(value ?? "—");
  list.append(element("dt", term), dd);
}

function renderMeta(view) {
  const list = $("case-meta");
  list.replaceChildren();
  const due = element("span", undefined, view.overdue ? "overdue-text" : undefined);
  if (view.next_due_on) {
    due.append(dateElement(view.next_due_on), ` (${label(CLOCK_LABELS, view.next_due_clock)})`);
    if (view.overdue) due.append(" — overdue");
  } else {
    due.textContent = "Nothing due";
  }
  const flags = Object.entries(view.flags).filter(([, on]) => on).map(([f]) => label(FLAG_LABELS, f));
  for (const [term, value] of [
    ["Status", label(STATUS_LABELS, view.status)], ["Route", label(ROUTE_LABELS, view.route)],
    ["Category", view.category_label],
    ["Origin", view.origin === "staff" ? "Opened by staff (no reporter)" : "Reporter"],
    ["Received", dateElement(view.received_on)],
    ["Acknowledge by", dateElement(view.acknowledge_by)],
    ["Acknowledged", dateElement(view.acknowledged_on)],
    ["Feedback by", dateElement(view.feedback_by)],
    ["Next status update by", dateElement(view.next_update_by)], ["Next due", due],
    ["Critical safety incident", view.critical_incident
      ? (view.imminent_risk ? "Yes, imminent risk" : "Yes") : "No"],
    ["Triaged", dateElement(view.triaged_on)], ["Severity", view.severity],
    ["Retaliation risk", view.retaliation_risk],
    ["Findings", dateElement(view.findings_on)], ["Outcome", view.outcome && label({}, view.outcome)],
    ["Material safety risk found", view.material_risk_found === null ? null
      : (view.material_risk_found ? "Yes" : "No")],
    ["Closed", dateElement(view.closed_on)], ["Approver", view.approver],
    ["Reopened", String(view.reopened_count ?? 0)],
    ["Assignee", view.assignee ? view.assignee.username : "Nobody"],
    ["Flags", flags.length ? flags.join(", ") : "None"],
    ["Case key epoch", String(view.key_epoch)],
  ]) metaRow(list, term, value);
  $("case-members").replaceChildren(...view.members.map((m) =>
    element("li", m.described)));
}

function renderTimeline(view) {
  $("timeline").replaceChildren(...view.events.map((event) => {
    const item = element("li");
    const what = element("span", label(EVENT_LABELS, event.kind));
    if (event.actor) what.append(` by ${event.actor}`);
    item.append(dateElement(event.on), what);
    if (event.detail) item.append(element("span", `Reporter told: “${event.detail}”`, "hint"));
    return item;
  }));
}

function renderLinks(root, view) {
  const list = $("linked-list");
  list.replaceChildren(...view.linked.map((link) => {
    const item = element("li");
    const anchor = element("a", link.number);
    anchor.href = `${root.dataset.pagesUrl}/${encodeURIComponent(link.number)}`;
    item.append(anchor, ` (${link.link_kind})`);
    return item;
  }));
  if (!view.linked.length) list.append(element("li", "No linked case.", "hint"));
}

function fillSelect(select, people, first) {
  const kept = select.value;
  select.replaceChildren(...(first ? [option("", first)] : []),
    ...people.map((p) => option(String(p.id), p.username)));
  if ([...select.options].some((o) => o.value === kept)) select.value = kept;
}

function renderForms(root, view) {
  const allowed = new Set(view.allowed_actions);
  for (const form of document.querySelectorAll("form[data-action]")) {
    form.hidden = !allowed.has(form.dataset.action);
  }
  $("no-transition").hidden = allowed.size > 0;
  const closedOrStaff = view.status === "closed" || view.origin !== "reporter";
  for (const id of ["message-form", "update-form", "feedback-form"]) $(id).hidden = closedOrStaff;
  $("close-outcome-fields").hidden = view.origin !== "reporter";
  $("update-due").replaceChildren(...(view.next_update_by
    ? ["The next one is due by ", dateElement(view.next_update_by), "."] : []));
  $("feedback-due").replaceChildren(...(view.feedback_by
    ? ["Feedback is due by ", dateElement(view.feedback_by), " (this date never moves)."] : []));
  $("feedback-form").hidden ||= view.status === "received";
  $("message-unavailable").hidden = !closedOrStaff;
  $("message-unavailable").textContent = view.origin !== "reporter"
    ? "This case has no reporter to write to." : "Reopen the case to write to the reporter.";
  $("ack-message-field").hidden = view.origin !== "reporter";
  // Offered only while nobody has the case: taking it must not silently replace an assignee.
  $("ack-take-field").hidden = Boolean(view.assignee);
  if (!view.severity) $("triage-category").value = view.category;
  const me = root.dataset.staffId;
  fillSelect($("close-approver"), view.members, "Choose the approver");
  fillSelect($("assign-person"), view.members, "Nobody (unassigned)");
  $("assign-person").value = view.assignee ? String(view.assignee.id) : "";
  fillSelect($("share-person"), view.candidates, "Choose a recipient");
  $("share-form").hidden = !view.candidates.length;
  $("share-none").hidden = view.candidates.length > 0;
  const others = view.members.filter((m) => String(m.id) !== me);
  fillSelect($("revoke-person"), others, "Choose a member");
  $("revoke-form").hidden = !others.length;
}

function renderIdentity(view) {
  const panel = $("identity-panel");
  panel.hidden = !view.identity_available;
  if (!view.identity_available) return;
  const shown = view.identity_revealed && state.identity !== null;
  $("identity-reveal").hidden = shown;
  $("identity-confirm").hidden = true;
  $("identity-text").hidden = !shown;
  if (shown) $("identity-text").textContent = state.identity ?? UNREADABLE;
}

// The disclosure register: labels come from the form's own options (rendered by the server).
const optionText = (selectId, value) =>
  [...$(selectId).options].find((o) => o.value === value)?.textContent ?? label({}, value);

function disclosureText(entry) {
  const by = entry.by ? ` by ${entry.by}` : "";
  if (entry.kind === "reveal") {
    return `Identity revealed to ${entry.by ?? "a former member"}: ` +
      optionText("identity-reason", entry.reason);
  }
  if (entry.kind === "export") {
    return `Exported${by}${entry.includes_identity ? ", with the identity" : ""}`;
  }
  const told = !entry.includes_identity ? "without the identity"
    : (entry.notice_record_ref ? "with the identity; the reporter was told first by message"
      : "with the identity; the reporter was not told (reason in an internal note)");
  return `Handed over to ${optionText("handover-recipient", entry.recipient).toLowerCase()}` +
    `${by} (${optionText("handover-reason", entry.reason).toLowerCase()}), ${told}`;
}

function renderDisclosures(view) {
  const entries = Array.isArray(view.disclosures) ? view.disclosures : [];
  $("disclosure-list").replaceChildren(...entries.map((entry) => {
    const item = element("li");
    item.append(dateElement(entry.on), element("span", ` ${disclosureText(entry)}`));
    return item;
  }));
  if (!entries.length) $("disclosure-list").append(element("li", "Nothing disclosed.", "hint"));
  $("handover-identity").disabled = !view.identity_revealed;
}

// The reporter's data: what was destroyed, what can be, and requests to access or correct data.
const KIND_WORDS = { message: "Message", note: "Note", identity: "Identity", attachment: "File" };
const snippet = (text) => (text === null || text === undefined ? UNREADABLE
  : (text.length > 60 ? `${text.slice(0, 60)}…` : text));

function renderReporterData(view) {
  const gone = Array.isArray(view.destructions) ? view.destructions : [];
  $("destruction-list").replaceChildren(...gone.map((d) => {
    const item = element("li");
    item.append(dateElement(d.on), element("span", ` ${KIND_WORDS[d.kind] ?? d.kind} ` +
      `(${d.author === "reporter" ? "the reporter's" : "staff"}) destroyed` +
      `${d.by ? ` by ${d.by}` : ""}: ${optionText("destroy-reason", d.reason).toLowerCase()}`));
    return item;
  }));
  if (!gone.length) $("destruction-list").append(element("li", "Nothing destroyed.", "hint"));
  const items = view.records.filter((r) => ["message", "note", "identity"].includes(r.kind))
    .map((r) => option(`records/${r.record_ref}`, `${KIND_WORDS[r.kind]} of ${r.created_on}` +
      ` (${authorName(r)}): ${snippet(state.texts.get(r.record_ref))}`));
  for (const a of Array.isArray(view.attachments) ? view.attachments : []) {
    const opened = openAttachment(a);
    items.push(option(`attachments/${a.attachment_ref}`,
                      `File of ${a.created_on}: ${opened ? opened.name : UNREADABLE}`));
  }
  $("destroy-item").replaceChildren(option("", "Choose"), ...items);
  const asked = view.records.filter((r) => r.kind === "message" && r.author === "reporter");
  $("data-request-message").replaceChildren(option("", "None (received otherwise)"),
    ...asked.map((r) => option(r.record_ref,
                               `${r.created_on}: ${snippet(state.texts.get(r.record_ref))}`)));
  const requests = Array.isArray(view.data_requests) ? view.data_requests : [];
  $("data-request-list").replaceChildren(...requests.map((r) => {
    const late = !r.answered_on && r.due_on < new Date().toISOString().slice(0, 10);
    const item = element("li", undefined, late ? "overdue-text" : undefined);
    item.append(element("span", `${optionText("data-request-kind", r.kind)}, received ` +
      `${r.received_on}, ` + (r.answered_on ? `answered ${r.answered_on}`
      : `${late ? "overdue: it was due" : "to answer"} by ${r.due_on}`)));
    return item;
  }));
  if (!requests.length) $("data-request-list").append(element("li", "No request.", "hint"));
  const open = requests.filter((r) => !r.answered_on);
  $("data-answer-request").replaceChildren(...open.map((r) => option(String(r.id),
    `${optionText("data-request-kind", r.kind)}, received ${r.received_on}`)));
  $("data-answer-form").hidden = !open.length;
}

/** A report taken down with the reporter by phone or in person, and its minutes' agreement. */
function renderIntake(view) {
  const taken = view.intake;
  const markable = !taken && view.origin === "reporter" && view.status === "received" &&
    view.received_on === new Date().toISOString().slice(0, 10);
  $("intake-panel").hidden = !taken && !markable;
  $("intake-form").hidden = !markable;
  $("intake-state").hidden = !taken;
  if (taken) {
    $("intake-state").textContent = `Taken down ${optionText("intake-channel", taken.channel)
      .toLowerCase()} by ${taken.taken_by ?? "a former member"} on ${taken.taken_on}. ` +
      (taken.minutes_agreed_on ? `The reporter agreed the minutes on ${taken.minutes_agreed_on}.`
        : "The reporter has not agreed the minutes yet.");
  }
}

// Attachments: listed once the case view carries them (the attachments capability); each is
// fetched as ciphertext and decrypted here frame by frame as it arrives, and offered for saving
// only after its final frame authenticated (a truncated stream is refused).

function openAttachment(item) {
  const key = state.keys.get(item.key_epoch);
  if (!key) return null;
  try {
    const caseRef = state.view.case_ref;
    // The stated size is null for an attachment sent before sizes were recorded.
    const { name, size } = candor.decodeFileName(candor.decryptRecord(
      key, candor.RecordKind.FILE_NAME, caseRef, item.name_record.record_ref,
      unb64(item.name_record.ciphertext)));
    return {
      fileKey: candor.decryptFileKey(key, caseRef, item.key_record.record_ref,
                                     unb64(item.key_record.ciphertext)),
      name: safeFileName(name),
      size,
    };
  } catch (error) {
    if (!(error instanceof candor.CryptoError)) throw error;
    return null;
  }
}

async function downloadAttachment(root, item, opened) {
  let response;
  try {
    response = await fetch(caseUrl(root, `/attachments/${encodeURIComponent(item.attachment_ref)}`),
                           { credentials: "same-origin" });
  } catch {
    throw new Refusal(UNREACHABLE);
  }
  if (!response.ok) throw new Refusal(`The file could not be fetched (${response.status}).`);
  const decryptor = new candor.StreamDecryptor(opened.fileKey, state.view.case_ref,
                                               item.attachment_ref);
  const parts = [];
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(...decryptor.update(value));
  }
  decryptor.finish();
  const blob = new Blob(parts, { type: "application/octet-stream" });
  offerFile(blob, opened.name, $("attachment-link"));
  const mismatch = sizeMismatch(opened.size, blob.size);
  if (mismatch) {
    showError($("attachment-error"), new Refusal(`${opened.name} was decrypted and ` +
      `checked and is offered as a file. ${mismatch}`));
  }
}

function renderAttachments(root, view) {
  const items = Array.isArray(view.attachments) ? view.attachments : [];
  $("attachments").hidden = !items.length;
  $("attachment-list").replaceChildren(...items.map((item) => {
    const opened = openAttachment(item);
    const entry = element("li");
    if (!opened) {
      entry.append(element("span", UNREADABLE, "error"));
      return entry;
    }
    const button = element("button", `Decrypt and save ${opened.name}`, "button button-quiet");
    button.type = "button";
    button.addEventListener("click", async () => {
      hideError($("attachment-error"));
      button.disabled = true;
      try {
        await downloadAttachment(root, item, opened);
      } catch (error) {
        showError($("attachment-error"), error);
      } finally {
        button.disabled = false;
      }
    });
    entry.append(button, ` ${sizeBeforeDecrypting(item.frames, opened.size)} · `,
                 dateElement(item.created_on));
    return entry;
  }));
}

function renderCase(root, view) {
  decryptAll(view);
  $("case-status").textContent = label(STATUS_LABELS, view.status);
  $("case-overdue").hidden = !view.overdue;
  const report = recordsOf("report")[0];
  $("report-text").textContent = report ? (report.text ?? UNREADABLE) : "No report record.";
  $("report-text").classList.toggle("error", Boolean(report && report.text === null));
  renderIdentity(view);
  renderDisclosures(view);
  renderReporterData(view);
  renderIntake(view);
  renderAttachments(root, view);
  fillList("conversation", recordsOf("message"), "No message yet.");
  fillList("notes", recordsOf("note"), "No note yet.");
  fillList("findings-list", recordsOf("findings"), "No findings recorded yet.");
  fillList("action-list", recordsOf("action"), "No corrective action recorded yet.");
  renderMeta(view);
  renderTimeline(view);
  renderLinks(root, view);
  renderForms(root, view);
  renderSb53(root, view);
  $("case-content").hidden = false;
}

/** The SB 53 panel: who the quarter's share is sealed to, and the shares written so far. */
async function renderSb53(root, view) {
  const panel = $("sb53-panel");
  panel.hidden = !view.flags.sb53_disclosure;
  if (panel.hidden) return;
  try {
    const answer = await getJson(caseUrl(root, "/sb53-share"));
    state.sb53Recipients = answer.recipients;
    $("sb53-recipients").replaceChildren(...(answer.recipients.length
      ? answer.recipients.map((person) => element("li", person.described))
      : [element("li", "No officer or director who may receive this case holds a signed key.")]));
    $("sb53-shares").replaceChildren(...(answer.shares.length
      ? answer.shares.map((share) => element("li",
        `${share.quarter}: written ${share.created_on}, sealed to ${share.sealed_to.length} ` +
        `${share.sealed_to.length === 1 ? "person" : "people"}`))
      : [element("li", "None yet.")]));
  } catch (error) {
    showError(panel.querySelector(".error"), error);
  }
}

function announce(text) {
  const status = $("case-announce");
  status.textContent = text;
}

/**
 * Run an action form: its own error region shows any refusal, with the server's message;
 * a view in the answer is shown; the form is cleared when the action went through.
 */
function bindAction(root, form, handler) {
  const errorBox = form.querySelector(".error");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    hideError(errorBox);
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await candor.ready();
      const outcome = await handler(form);
      if (outcome?.view?.number) renderCase(root, outcome.view);
      form.reset();
      if (outcome?.view?.number) renderForms(root, outcome.view);
      if (outcome?.message) announce(outcome.message);
    } catch (error) {
      showError(errorBox, error);
    } finally {
      button.disabled = false;
    }
  });
  enableSubmit(form);
}

const required = (value, message) => {
  if (!value || !String(value).trim()) throw new Refusal(message);
  return value;
};

async function verifiedEntries(root) {
  if (!root.dataset.fingerprint) {
    throw new Refusal("This installation has no pinned organisation key, so no key can " +
      "be verified and nothing can be sealed. Tell the operator.");
  }
  return loadDirectory(root.dataset.fingerprint);
}

function bindCaseForms(root) {
  const transition = (body) => postJson(caseUrl(root, "/transitions"), body);
  const encrypt = (kind, text) => encryptText(state.view, state.keys, kind, text);
  const act = (action, body = {}) => async () => ({
    view: await transition({ action, ...body }), message: ACTION_LABELS[action],
  });

  bindAction(root, $("message-form"), async (form) => {
    const text = required(form.elements.text.value, "Write the message before sending it.");
    return { view: await postJson(caseUrl(root, "/records"),
                                  { kind: "message", ...encrypt("MESSAGE", text) }),
             message: "Your message was encrypted and sent to the reporter." };
  });
  const purposeful = (purpose, parts, done) => async (form) => {
    const text = parts.map(([name, heading, missing]) =>
      `${heading}\n${required(form.elements[name].value, missing).trim()}`).join("\n\n");
    return { view: await postJson(caseUrl(root, "/records"),
                                  { kind: "message", purpose, ...encrypt("MESSAGE", text) }),
             message: done };
  };
  bindAction(root, $("update-form"), purposeful("update", [
    ["status", "Status of the investigation:", "Say where the investigation stands."],
    ["actions", "Actions taken:", "Say what has been done since the last update."],
  ], "Your status update was encrypted and sent to the reporter."));
  bindAction(root, $("feedback-form"), purposeful("feedback", [
    ["action", "Action envisaged or taken:", "Say what action is planned or was taken."],
    ["grounds", "Grounds:", "Give the grounds for that action."],
  ], "Your feedback was encrypted and sent to the reporter."));
  bindAction(root, $("sb53-form"), async (form) => {
    const text = [
      ["disclosed", "What was disclosed:", "Say what was disclosed."],
      ["response", "What the lab did or answered:", "Say what the lab did or answered."],
    ].map(([name, heading, missing]) =>
      `${heading}\n${required(form.elements[name].value, missing).trim()}`).join("\n\n");
    const entries = await verifiedEntries(root);
    const body = sb53ShareBody(state.view, state.keys, entries, state.sb53Recipients ?? [], text);
    return { view: await postJson(caseUrl(root, "/sb53-share"), body),
             message: "The summary was encrypted to the officers and directors listed, and " +
               "sent to the reporter." };
  });
  bindAction(root, $("note-form"), async (form) => {
    const text = required(form.elements.text.value, "Write the note before saving it.");
    return { view: await postJson(caseUrl(root, "/records"),
                                  { kind: "note", ...encrypt("NOTE", text) }),
             message: "Your note was encrypted and saved. The reporter never sees it." };
  });
  bindAction(root, $("action-acknowledge"), async (form) => {
    const text = form.elements.message.value;
    const take = !$("ack-take-field").hidden && form.elements.take.checked;
    const done = await act("acknowledge", text.trim() ? { message: encrypt("MESSAGE", text) }
                                                      : {})();
    if (!take) return done;
    // Taking the case is its own request: the acknowledgement stands even if this one fails.
    try {
      return { view: await postJson(caseUrl(root, "/assignee"),
                                    { staff_id: Number(root.dataset.staffId) }),
               message: "Acknowledged. The case is assigned to you." };
    } catch (error) {
      return { ...done, message: `Acknowledged, but not assigned to you: ${explain(error)}` };
    }
  });
  bindAction(root, $("action-triage"), (form) => act("triage", {
    category: required(form.elements.category.value, "Confirm the category."),
    severity: required(form.elements.severity.value, "Choose a severity."),
    retaliation_risk: required(form.elements.retaliation_risk.value,
                               "Assess the retaliation risk."),
  })());
  bindAction(root, $("action-investigate"), () => act("investigate")());
  bindAction(root, $("action-findings"), (form) => {
    const risk = form.elements.material_risk_found.value;
    if (risk !== "yes" && risk !== "no") {
      throw new Refusal("Say whether a material safety risk was found.");
    }
    const summary = required(form.elements.summary.value, "Write the summary of the findings.");
    return act("findings", {
      outcome: required(form.elements.outcome.value, "Choose an outcome."),
      material_risk_found: risk === "yes", record: encrypt("FINDINGS", summary),
    })();
  });
  bindAction(root, $("action-corrective_action"), (form) => {
    const text = required(form.elements.record.value,
                          "Describe the corrective action, or why none is needed.");
    return act("corrective_action", { record: encrypt("ACTION", text) })();
  });
  bindAction(root, $("action-close"), (form) => {
    const approver = Number(required(form.elements.approver.value,
                                     "Choose who approves the closure."));
    if (state.view.origin !== "reporter") return act("close", { approver_id: approver })();
    const text = [
      `Outcome:\n${required(form.elements.outcome.value,
                             "Write the reporter the outcome and its grounds.").trim()}`,
      `Where you can turn next:\n${required(form.elements.next.value,
                                            "Tell the reporter where they can turn next.").trim()}`,
    ].join("\n\n");
    return act("close", { approver_id: approver, message: encrypt("MESSAGE", text) })();
  });
  bindAction(root, $("action-reopen"), () => act("reopen")());
  bindAction(root, $("assign-form"), async (form) => {
    const chosen = form.elements.person.value;
    return { view: await postJson(caseUrl(root, "/assignee"),
                                  { staff_id: chosen ? Number(chosen) : null }),
             message: chosen ? "The case is assigned." : "The case is unassigned." };
  });
  bindAction(root, $("share-form"), async (form) => {
    const chosen = required(form.elements.person.value, "Choose whom to share the case with.");
    const candidate = state.view.candidates.find((c) => String(c.id) === chosen);
    const entry = entryOf(await verifiedEntries(root), chosen, candidate?.username ?? chosen);
    return { view: await postJson(caseUrl(root, "/members"), {
      staff_id: Number(chosen), grants: grantsForNewMember(state.view, state.keys, entry),
    }), message: `${entry.username} can now read the case.` };
  });
  bindAction(root, $("revoke-form"), async (form) => {
    const chosen = required(form.elements.person.value, "Choose whose access to revoke.");
    if (!form.elements.confirm.checked) {
      throw new Refusal("Tick the box to confirm the revocation.");
    }
    const body = revocation(state.view, await verifiedEntries(root), chosen);
    return { view: await postJson(caseUrl(root, `/members/${encodeURIComponent(chosen)}/revoke`),
                                  body),
             message: "Access revoked. What is written from now on uses a new case key." };
  });
  bindAction(root, $("link-form"), async (form) => ({
    view: await postJson(caseUrl(root, "/links"), {
      number: required(form.elements.number.value.trim().toUpperCase(),
                       "Give the number of the other case."),
      link_kind: form.elements.link_kind.value,
    }), message: "The cases are linked.",
  }));
  bindAction(root, $("recuse-form"), async (form) => {
    if (!form.elements.confirm.checked) {
      throw new Refusal("Tick the box to confirm that you step away from this case.");
    }
    const answer = await postJson(caseUrl(root, "/recuse"), {});
    state.view = state.keys = state.texts = state.identity = null;
    $("case-content").replaceChildren(element("p", answer.message ??
      "You recused yourself from this case.", "notice notice-success"));
    const back = element("a", "Back to the inbox");
    back.href = root.dataset.pagesUrl;
    $("case-content").append(back);
    return null;
  });
  bindIdentity(root);
  bindAction(root, $("handover-form"), async (form) => {
    const body = {
      recipient: required(form.elements.recipient.value, "Say to whom the material goes."),
      reason: required(form.elements.reason.value, "Say on what ground the material goes."),
      includes_identity: form.elements.includes_identity.checked,
    };
    if (body.includes_identity) {
      const text = required(form.elements.text.value, form.elements.tell.value === "notice"
        ? "Write the message that tells the reporter." : "Write why telling the reporter " +
          "would jeopardise the investigation.");
      if (form.elements.tell.value === "notice") body.notice = encrypt("MESSAGE", text);
      else body.withheld = encrypt("NOTE", text);
    }
    return { view: await postJson(caseUrl(root, "/handovers"), body),
             message: "The handover is recorded." };
  });
  bindAction(root, $("intake-form"), async (form) => ({
    view: await postJson(caseUrl(root, "/intake"), {
      channel: required(form.elements.channel.value, "Say how you took the report down."),
    }), message: "Recorded. The reporter is asked to check and agree your minutes.",
  }));
  bindAction(root, $("destroy-form"), async (form) => {
    const target = required(form.elements.target.value, "Choose what to destroy.");
    const reason = required(form.elements.reason.value, "Say why it is to be destroyed.");
    if (!form.elements.confirm.checked) {
      throw new Refusal("Tick the box to confirm the destruction.");
    }
    return { view: await postJson(caseUrl(root, `/${target}/destroy`), { reason }),
             message: "Destroyed. The reporter is told that something irrelevant was deleted." };
  });
  bindAction(root, $("data-request-form"), async (form) => {
    const body = { kind: required(form.elements.kind.value, "Say what the reporter asks for.") };
    if (form.elements.message.value) body.request_record_ref = form.elements.message.value;
    if (form.elements.received_on.value) body.received_on = form.elements.received_on.value;
    return { view: await postJson(caseUrl(root, "/data-requests"), body),
             message: "The request is recorded; answer it within a month." };
  });
  bindAction(root, $("data-answer-form"), async (form) => {
    const chosen = required(form.elements.request.value, "Choose the request to answer.");
    const text = required(form.elements.text.value, "Write the answer.");
    return { view: await postJson(caseUrl(root, `/data-requests/${encodeURIComponent(chosen)}` +
                                  "/answer"), { record: encrypt("MESSAGE", text) }),
             message: "Your answer was encrypted and sent to the reporter." };
  });
  $("export-button").addEventListener("click", async () => {
    hideError($("export-error"));
    try {
      await exportCase(root);
    } catch (error) {
      showError($("export-error"), error);
    }
  });
}

function bindIdentity(root) {
  const errorBox = $("identity-error");
  $("identity-reveal").addEventListener("click", () => {
    $("identity-confirm").hidden = false;
    $("identity-confirm-yes").focus();
  });
  $("identity-cancel").addEventListener("click", () => {
    $("identity-confirm").hidden = true;
    $("identity-reveal").focus();
  });
  $("identity-confirm-yes").addEventListener("click", async () => {
    hideError(errorBox);
    try {
      const reason = required($("identity-reason").value, "Say why you need the identity.");
      await postJson(caseUrl(root, "/identity"), { reason });
      renderCase(root, await getJson(caseUrl(root)));
      $("identity-text").focus();
    } catch (error) {
      showError(errorBox, error);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Export: one document, decrypted here, offered as a file; the server never sees it.

function exportDocument(root) {
  const view = state.view;
  const texts = (kind) => recordsOf(kind).map((r) => ({
    date: r.created_on, author: authorName(r), key_epoch: r.key_epoch,
    text: r.text ?? `[${UNREADABLE}]`,
  }));
  return {
    format: "candor-case-export/1",
    exported_on: new Date().toISOString().slice(0, 10),
    exported_by: root.dataset.username,
    notice: "Decrypted in the browser of the person named above. It holds the content of a " +
      "confidential report: keep it only where the investigation file is kept.",
    case: {
      number: view.number, status: view.status, route: view.route,
      category: view.category, category_label: view.category_label, origin: view.origin,
      flags: view.flags, received_on: view.received_on, acknowledged_on: view.acknowledged_on,
      acknowledge_by: view.acknowledge_by, feedback_by: view.feedback_by,
      triaged_on: view.triaged_on, findings_on: view.findings_on, closed_on: view.closed_on,
      severity: view.severity, retaliation_risk: view.retaliation_risk, outcome: view.outcome,
      material_risk_found: view.material_risk_found, approver: view.approver,
      assignee: view.assignee?.username ?? null, reopened_count: view.reopened_count,
      members: view.members.map((m) => m.username), linked: view.linked,
    },
    report: texts("report"),
    identity: view.identity_revealed ? texts("identity")
      : (view.identity_available ? "Given by the reporter; not revealed by the exporter." : null),
    conversation: texts("message"),
    internal_notes: texts("note"),
    findings: texts("findings"),
    corrective_action: texts("action"),
    timeline: view.events,
  };
}

/** Offer `blob` for saving as `name` through `link` (an anchor with a download attribute). */
function offerFile(blob, name, link) {
  const url = URL.createObjectURL(blob);
  link.href = url;
  link.download = name;
  link.hidden = false;
  link.click();
  // The object URL is released a minute later, once the browser has saved the file.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

async function exportCase(root) {
  if (!state.view) throw new Refusal("The case is not open.");
  // Recorded before anything is decrypted into a file: no record, no export.
  renderCase(root, await postJson(caseUrl(root, "/exports"), {}));
  const text = JSON.stringify(exportDocument(root), null, 2);
  offerFile(new Blob([text], { type: "application/json" }), `case-${state.view.number}.json`,
            $("export-link"));
  announce("The export was decrypted in this browser and offered as a file.");
}

async function startCase(root) {
  bindCaseForms(root);
  state.keyPair = unlockedKey(root);
  if (!state.keyPair) return;
  renderCase(root, await getJson(caseUrl(root)));
}

// ---------------------------------------------------------------------------------------------
// A case opened by staff, with no reporter

function startNewCase(root) {
  const form = $("new-case-form");
  const errorBox = $("new-case-error");
  let entries = [];

  const route = () => form.querySelector('input[name="route"]:checked').value;
  function showReaders() {
    try {
      const readers = readersFor(entries, route());
      hideError(errorBox);
      const names = (people) => people.map((e) => element("li", `${e.username} (${e.roles.join(", ")})`));
      $("new-readers-now").replaceChildren(...names(readers.now));
      $("new-readers-escalation").replaceChildren(...(readers.onEscalation.length
        ? names(readers.onEscalation) : [element("li", "No one else")]));
    } catch (error) {
      $("new-readers-now").replaceChildren();
      $("new-readers-escalation").replaceChildren();
      showError(errorBox, error);
    }
  }

  form.addEventListener("change", (event) => {
    if (event.target.name === "route") showReaders();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    hideError(errorBox);
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const text = required(form.elements.text.value, "Describe the matter before opening the case.");
      const category = required(form.elements.category.value, "Choose a category.");
      // Keys may have changed since the page loaded: seal to the directory as it is now.
      entries = await verifiedEntries(root);
      const body = newCaseBody(entries, {
        route: route(), category, text, material_risk: form.elements.material_risk.checked,
      });
      const answer = await postJson(root.dataset.apiUrl, body);
      form.reset();
      window.location.assign(`${root.dataset.pagesUrl}/${encodeURIComponent(answer.number)}`);
    } catch (error) {
      showError(errorBox, error);
    } finally {
      button.disabled = false;
    }
  });
  enableSubmit(form);

  return (async () => {
    if (!unlockedKey(root)) return;
    entries = await verifiedEntries(root);
    form.hidden = false;
    showReaders();
  })();
}

// ---------------------------------------------------------------------------------------------

async function start() {
  const root = $("cases-app");
  if (!root) return;
  try {
    await candor.ready();
    const page = root.dataset.page;
    if (page === "inbox") await startInbox(root);
    else if (page === "case") await startCase(root);
    else if (page === "new") await startNewCase(root);
  } catch (error) {
    showError($("page-error"), error);
  } finally {
    root.setAttribute("aria-busy", "false");
  }
}

start();
