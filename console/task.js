// task: one task as an operator needs it (GET /v1/manual/{id}): every field,
// its headers, the payload pretty-printed from the stored bytes (which are
// sent unchanged), the attempt timeline, its manual entries and the audit
// trail of operator actions; while it is in manual handling, retry it (as it
// is, or with an edited target_url, headers or payload) or resolve it with a
// note (POST /v1/manual/{id}/retry|resolve; heraldctl manual show|retry|resolve);
// once it succeeded, or failed and was resolved, send it again as it is with a
// reason (POST /v1/tasks/{id}/redeliver; heraldctl tasks redeliver).
import { call, post } from "./api.js";
import { errorBox, fields, h, notice, orDash, show, table, time } from "./dom.js";
import { pretty, spanOf } from "./rawjson.js";

let lastNotice = null;

// The payload as stored: a JSON payload pretty-printed from its own text,
// exact to the digit; a string payload is sent as its bytes, so shown as is.
function payloadText(text, task) {
  if (typeof task.payload === "string") return task.payload;
  const span = spanOf(text, ["task", "payload"]);
  return span ? pretty(text.slice(span[0], span[1])) : JSON.stringify(task.payload, null, 2);
}

function headerLines(headers) {
  return Object.entries(headers).map(([name, value]) => `${name}: ${value}`).join("\n");
}

// "Name: value" lines -> the JSON text of the headers object; throws on a
// line without a colon. The value is what follows the colon and one space,
// exactly (its own spaces kept). Written as text, not through an object, so
// a name such as __proto__ is a header like any other.
function headersJson(text) {
  const members = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const colon = line.indexOf(":");
    if (colon < 1) throw new Error(`“${line}” is not a “Name: value” header line`);
    const value = line.slice(colon + 1);
    members.push(`${JSON.stringify(line.slice(0, colon).trim())}:${JSON.stringify(value.startsWith(" ") ? value.slice(1) : value)}`);
  }
  return `{${members.join(",")}}`;
}

// A textarea gives back its text with every line end as "\n": compared with
// the original so, an untouched box is unchanged.
function sameText(typed, original) {
  return typed === original.replace(/\r\n?/g, "\n");
}

function attemptTimeline(attempts) {
  if (attempts.length === 0) return h("p", { class: "muted" }, "No attempt yet.");
  return h("ol", { class: "timeline", id: "attempts" }, attempts.map((a) => h("li", { class: a.error_class ? null : "ok" },
    h("strong", {}, `Attempt ${a.attempt}`), " · ", time(a.started_at), ` · ${a.duration_ms} ms · `,
    a.receiver ? h("span", {}, "to ", h("code", {}, a.receiver), " · ") : null,
    a.status_code ? `HTTP ${a.status_code}` : "no response",
    a.error_class ? h("span", {}, " · ", h("code", {}, a.error_class), a.error_message ? ` ${a.error_message}` : "") : " · acknowledged",
    a.response_body ? h("pre", {}, a.response_body + (a.response_truncated ? "\n…(cut)" : "")) : null)));
}

// Makes a repair with SEND; on success the page reloads saying DONE, else
// AREA shows heraldd's error.
async function repair(area, send, done, reload) {
  try {
    await send();
    lastNotice = done;
    reload();
  } catch (error) {
    show(area, errorBox(error));
  }
}

function repairForms(task, payload, reload) {
  const url = h("input", { id: "retry-target-url", name: "target_url", class: "wide", value: task.target_url, type: "url" });
  const headers = h("textarea", { id: "retry-headers", name: "headers", rows: 3 });
  const originalHeaders = headerLines(task.headers);
  headers.value = originalHeaders;
  const payloadBox = h("textarea", { id: "retry-payload", name: "payload", rows: 10 });
  payloadBox.value = payload;
  const budget = h("input", { id: "retry-max-retry", name: "max_retry", type: "number", min: 1, max: 100,
    placeholder: "the business type's max_retry" });
  const note = h("input", { id: "retry-note", name: "note", class: "wide", placeholder: "why (optional)" });
  const retryArea = h("div", { "aria-live": "polite" });
  const retry = h("form", { class: "panel stack", "aria-labelledby": "retry-heading", onsubmit: async (event) => {
    event.preventDefault();
    // Only what was changed is sent, as typed; the payload as its own text, so
    // every digit typed is the digit sent. An untouched field is never sent:
    // a textarea's line ends, trimmed spaces or a header named __proto__ must
    // not make a retry change bytes nobody edited.
    const parts = [];
    try {
      if (url.value.trim() !== task.target_url) parts.push(`"target_url":${JSON.stringify(url.value.trim())}`);
      if (!sameText(headers.value, originalHeaders)) parts.push(`"headers":${headersJson(headers.value)}`);
      if (!sameText(payloadBox.value, payload)) {
        const value = typeof task.payload === "string" ? JSON.stringify(payloadBox.value) : payloadBox.value.trim();
        JSON.parse(value); // a clear message here rather than heraldd's "not valid JSON"
        parts.push(`"payload":${value}`);
      }
    } catch (error) {
      show(retryArea, errorBox(error));
      return;
    }
    if (budget.value !== "") parts.push(`"max_retry":${Number(budget.value)}`);
    if (note.value.trim()) parts.push(`"note":${JSON.stringify(note.value.trim())}`);
    const edited = parts.some((p) => !/^"(note|max_retry)"/.test(p));
    await repair(retryArea, () => call("POST", `/v1/manual/${task.id}/retry`, `{${parts.join(",")}}`),
      edited ? "Sent again with your changes." : "Sent again.", reload);
  } },
  h("h2", { id: "retry-heading" }, "Retry"),
  h("p", { class: "muted" }, "Same webhook-id, a fresh attempt budget. Edit what was wrong; what you leave alone is sent as it was."),
  h("label", {}, "Target URL", url),
  h("label", {}, "Headers (one “Name: value” a line; they replace the task's)", headers),
  h("label", {}, typeof task.payload === "string" ? "Payload (text, sent as its bytes)" : "Payload (JSON)", payloadBox),
  h("label", {}, "Attempts (a fresh budget)", budget),
  h("label", {}, "Note", note),
  h("div", {}, h("button", { type: "submit", id: "retry-submit" }, "Retry")),
  retryArea);
  const resolveNote = h("input", { id: "resolve-note", name: "note", class: "wide", required: true, placeholder: "how it was resolved (required)" });
  const resolveArea = h("div", { "aria-live": "polite" });
  const resolve = h("form", { class: "panel stack", "aria-labelledby": "resolve-heading", onsubmit: async (event) => {
    event.preventDefault();
    await repair(resolveArea, () => post(`/v1/manual/${task.id}/resolve`, { note: resolveNote.value.trim() }),
      "Resolved: closed without sending.", reload);
  } },
  h("h2", { id: "resolve-heading" }, "Resolve"),
  h("p", { class: "muted" }, "Close it without sending, for example when it was settled by hand."),
  h("label", {}, "Note", resolveNote),
  h("div", {}, h("button", { type: "submit", id: "resolve-submit", class: "danger" }, "Resolve")),
  resolveArea);
  return [retry, resolve];
}

// Sending a finished task again, as it is (same webhook-id), with a reason.
function redeliverForm(task, reload) {
  const reason = h("input", { id: "redeliver-reason", name: "reason", class: "wide", required: true,
    placeholder: "why it is sent again (required)" });
  const schedule = h("select", { id: "redeliver-schedule", name: "schedule" },
    h("option", { value: "once" }, "one attempt"),
    h("option", { value: "full" }, "the business type's whole retry schedule"));
  const area = h("div", { "aria-live": "polite" });
  return h("form", { class: "panel stack", "aria-labelledby": "redeliver-heading", onsubmit: async (event) => {
    event.preventDefault();
    await repair(area, () => post(`/v1/tasks/${task.id}/redeliver`, { reason: reason.value.trim(), schedule: schedule.value }),
      schedule.value === "full" ? "Sent again, with its whole schedule." : "Sent again: one attempt.", reload);
  } },
  h("h2", { id: "redeliver-heading" }, "Send again"),
  h("p", { class: "muted" }, "The same bytes and webhook-id, for a receiver that lost what it got. Its earlier attempts stay in the timeline."),
  h("label", {}, "Reason", reason),
  h("label", {}, "Attempts", schedule),
  h("div", {}, h("button", { type: "submit", id: "redeliver-submit" }, "Send again")),
  area);
}

export async function render(container, args) {
  const id = args[0] || "";
  const { data, text } = await call("GET", `/v1/manual/${encodeURIComponent(id)}`);
  const task = data.task;
  const payload = payloadText(text, task);
  const open = data.entries.some((e) => e.state === "open");
  const message = lastNotice;
  lastNotice = null;
  const reload = () => render(container, args);
  show(container,
    h("h1", {}, `Task #${task.id} `, h("span", { class: `status-${task.status}`, id: "task-status" }, task.status)),
    message ? notice(message) : null,
    h("div", { class: "toolbar" }, h("button", { type: "button", class: "secondary", id: "refresh", onclick: reload }, "Refresh")),
    fields([
      ["webhook-id", h("code", {}, task.webhook_id)],
      ["business type", task.business_type],
      ["business id", task.business_id],
      ["idempotency key", orDash(task.idempotency_key)],
      ["trace id", task.trace ? h("code", { id: "task-trace-id" }, task.trace.trace_id) : orDash(null)],
      ["target URL", h("code", { id: "task-target-url" }, task.target_url)],
      ["attempts", `${task.attempts} of ${task.max_retry}`],
      ["next attempt", time(task.next_attempt_at)],
      ["last status", orDash(task.last_status_code)],
      ["last error", orDash(task.last_error)],
      ["created", time(task.created_at)],
      ["updated", time(task.updated_at)],
    ]),
    h("h2", {}, "Headers"),
    Object.keys(task.headers).length === 0 ? h("p", { class: "muted" }, "No extra headers.") :
      table([["name", ([name]) => h("code", {}, name)], ["value", ([, value]) => value, "wrap"]], Object.entries(task.headers)),
    h("h2", {}, "Payload"),
    h("pre", { id: "payload" }, payload),
    h("h2", {}, `Attempts (${data.attempts.length})`),
    attemptTimeline(data.attempts),
    h("h2", {}, "Manual handling"),
    data.entries.length === 0 ? h("p", { class: "muted" }, "Never in manual handling.") :
      table([["moved", (e) => time(e.moved_at)], ["reason", (e) => e.reason],
        ["state", (e) => h("span", { class: `state-${e.state}` }, e.state)], ["resolution", (e) => orDash(e.resolution)],
        ["resolved", (e) => time(e.resolved_at)], ["note", (e) => orDash(e.note), "wrap"]], data.entries),
    h("h2", {}, "Audit trail"),
    data.actions.length === 0 ? h("p", { class: "muted" }, "No operator action yet.") :
      table([["when", (a) => time(a.created_at)], ["action", (a) => a.action], ["by", (a) => a.actor],
        ["note", (a) => orDash(a.note), "wrap"],
        ["details", (a) => (a.details ? h("code", {}, JSON.stringify(a.details)) : orDash(null)), "wrap"]], data.actions),
    open ? repairForms(task, payload, reload) : null,
    !open && (task.status === "succeeded" || task.status === "failed") ? redeliverForm(task, reload) : null);
}
