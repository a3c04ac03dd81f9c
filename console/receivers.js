// receivers: per scheme://host:port, whether an operator paused it, its
// circuit breaker (closed, open: its tasks parked, or probing; when the next
// probe may go), tasks pending, requests in flight, attempts failed in the
// last hour, the latest failure, and until when it is held (its Retry-After)
// (GET /v1/receivers;
// heraldctl receivers). Pause one (nothing is sent to it until resumed; its
// tasks wait without spending attempts) or resume it, with a note (POST
// /v1/receivers/{receiver}/pause|resume; heraldctl receivers pause|resume).
// Below, the ordering keys a head in manual handling blocks (GET
// /v1/ordering-keys?blocked=true; heraldctl ordering-keys --blocked true), each
// with a link to that task: retry or resolve it to let the key go on.
import { post, get } from "./api.js";
import { errorBox, h, notice, orDash, show, table, time } from "./dom.js";

let lastNotice = null;

// The form that pauses or resumes RECEIVER, shown under the table.
function changeForm(area, receiver, pause, reload) {
  const note = h("input", { id: "receiver-note", name: "note", class: "wide",
    placeholder: pause ? "why (for example a ticket); optional" : "optional" });
  const errors = h("div", { "aria-live": "polite" });
  show(area, h("form", { class: "panel stack", "aria-labelledby": "receiver-change-heading", onsubmit: async (event) => {
    event.preventDefault();
    const body = note.value.trim() ? { note: note.value.trim() } : {};
    try {
      await post(`/v1/receivers/${encodeURIComponent(receiver)}/${pause ? "pause" : "resume"}`, body);
      lastNotice = pause ? `Paused ${receiver}: nothing is sent to it until it is resumed.` : `Resumed ${receiver}.`;
      reload();
    } catch (error) {
      show(errors, errorBox(error));
    }
  } },
  h("h2", { id: "receiver-change-heading" }, `${pause ? "Pause" : "Resume"} ${receiver}`),
  h("p", { class: "muted" }, pause ? "Its tasks wait, due or not, without spending attempts; requests in flight finish. herald never resumes it on its own."
    : "Its waiting tasks go out through the usual per-receiver limit."),
  h("label", {}, "Note", note),
  h("div", {}, h("button", { type: "submit", id: "receiver-confirm", class: pause ? "danger" : null }, pause ? "Pause" : "Resume")),
  errors));
  note.focus();
}

// The blocked ordering keys, or nothing when none is.
function blockedKeys(keys) {
  if (keys.length === 0) return null;
  return h("section", { "aria-labelledby": "blocked-keys-heading" },
    h("h2", { id: "blocked-keys-heading" }, "Blocked ordering keys"),
    h("p", { class: "muted" }, "Each key's head went to manual handling and the tasks behind it wait (ordering_on_failure = block). Retry or resolve the blocking task to let the key go on."),
    table([
      ["receiver", (k) => h("code", {}, k.receiver), "wrap"],
      ["key", (k) => h("code", {}, k.ordering_key), "wrap"],
      ["blocked by", (k) => h("a", { href: `#/task/${k.blocked_task_id}` }, `#${k.blocked_task_id}`)],
      ["since", (k) => time(k.blocked_since)],
      ["waiting", (k) => String(k.waiting), "num"],
      ["head", (k) => String(k.head_sequence), "num"],
      ["last", (k) => String(k.last_sequence), "num"],
    ], keys));
}

export async function render(container) {
  const [data, ordering] = await Promise.all([get("/v1/receivers"),
    get("/v1/ordering-keys?blocked=true&limit=100")]);
  const message = lastNotice;
  lastNotice = null;
  const reload = () => render(container);
  const area = h("div", {});
  show(container,
    h("h1", {}, "Receivers"),
    message ? notice(message) : null,
    h("p", { class: "muted" }, "Receivers with work waiting, in flight, paused, with an open circuit, or failures since ", time(data.failures_since), ". While a receiver's circuit is open its tasks are parked (they spend no attempts) and one probe at a time goes; a success closes it."),
    data.receivers.length === 0 ? h("p", {}, "No receiver has work waiting or failed in the last hour.") :
      table([
        ["receiver", (r) => h("code", {}, r.receiver), "wrap"],
        ["paused", (r) => (r.paused ? h("span", { class: "state-open", title: `by ${r.paused_by}${r.pause_note ? `: ${r.pause_note}` : ""}` }, "paused") : "—")],
        ["circuit", (r) => (r.circuit === "closed"
          ? (r.consecutive_failures > 0 ? `closed (${r.consecutive_failures} failing)` : "closed")
          : h("span", { class: "state-open", title: `open since ${r.opened_at}; ${r.parked} tasks parked` }, r.circuit))],
        ["next probe", (r) => time(r.next_probe_at)],
        ["pending", (r) => String(r.pending), "num"],
        ["in flight", (r) => String(r.in_flight), "num"],
        ["rate limit", (r) => (r.rate_limit ? `${r.rate_limit} (burst ${r.rate_burst})` : "—")],
        ["failures (1 h)", (r) => String(r.failures), "num"],
        ["last failure", (r) => time(r.last_failure_at)],
        ["held until", (r) => time(r.held_until)],
        ["last error", (r) => orDash(r.last_error), "wrap"],
        ["", (r) => h("button", { type: "button", class: "secondary", "aria-label": `${r.paused ? "resume" : "pause"} ${r.receiver}`,
          onclick: () => changeForm(area, r.receiver, !r.paused, reload) }, r.paused ? "Resume…" : "Pause…")],
      ], data.receivers),
    area,
    blockedKeys(ordering.ordering_keys));
}
