// policies: the retry policies in force (GET /v1/policies; heraldctl policy
// list), and for one business type, when each of its attempts comes after the
// first, nominally, earliest and latest (GET /v1/policies/{type}; heraldctl
// policy show TYPE). Secrets are never shown, only whether deliveries are
// signed. Reads only.
import { get } from "./api.js";
import { fields, h, orDash, show, table } from "./dom.js";

// Milliseconds as people read a span ("4h 15m", "1d 2h 30m 10s 500ms").
function span(ms) {
  const units = [[86400000, "d"], [3600000, "h"], [60000, "m"], [1000, "s"], [1, "ms"]];
  const parts = [];
  for (const [size, unit] of units) {
    const count = Math.floor(ms / size);
    ms -= count * size;
    if (count > 0) parts.push(`${count}${unit}`);
  }
  return parts.length ? parts.join(" ") : "0s";
}

function waits(policy) {
  const jitter = policy.jitter > 0 ? `, ±${Math.round(policy.jitter * 100)}%` : "";
  if (policy.schedule_ms.length > 0)
    return `${policy.schedule_ms.map(span).join(", ")} (then ${span(policy.schedule_ms.at(-1))})${jitter}`;
  if (policy.exponential_backoff) return `${span(policy.base_delay_ms)} doubling to ${span(policy.max_delay_ms)}${jitter}`;
  return `every ${span(policy.base_delay_ms)}${jitter}`;
}

const summary = [
  ["attempts", (r) => String(r.policy.max_retry), "num"],
  ["waits", (r) => waits(r.policy), "wrap"],
  ["timeout", (r) => span(r.policy.timeout_ms)],
  ["signed", (r) => (r.policy.signed ? "yes" : "no")],
];

async function showType(container, type) {
  const data = await get(`/v1/policies/${encodeURIComponent(type)}`);
  const policy = data.policy;
  show(container,
    h("h1", {}, `Policy of ${data.business_type}`),
    h("p", {}, h("a", { href: "#/policies" }, "All policies")),
    data.configured ? null : h("p", { class: "muted" }, "No section of its own: the default ([retry]) applies."),
    fields([
      ["attempts", String(policy.max_retry)],
      ["waits", waits(policy)],
      ["timeout", span(policy.timeout_ms)],
      ["success body", orDash(policy.success_body)],
      ["signed", policy.signed ? "yes" : "no"],
      ["ordering on failure", policy.ordering_on_failure === "block"
        ? "block: a task with an ordering_key in manual handling holds its key" : "skip: the next task of its key goes"],
    ]),
    h("h2", {}, "When each attempt comes"),
    table([
      ["attempt", (a) => String(a.attempt), "num"],
      ["wait", (a) => span(a.wait_ms)],
      ["after the first", (a) => a.after_first],
      ["earliest", (a) => span(a.earliest_ms)],
      ["latest", (a) => span(a.latest_ms)],
    ], data.attempts),
    h("p", { class: "muted" }, "Latest: the longest waits the jitter allows, with each attempt before running to its timeout. A receiver's Retry-After can push an attempt later."));
}

export async function render(container, args) {
  if (args[0]) return showType(container, args[0]);
  const data = await get("/v1/policies");
  const rows = [{ business_type: null, policy: data.default }, ...data.business_types];
  show(container,
    h("h1", {}, "Policies"),
    h("p", { class: "muted" }, "The retry policies in force; a business type without a section of its own gets the default."),
    table([
      ["business type", (r) => (r.business_type === null ? "(default)" : h("a", { href: `#/policies/${encodeURIComponent(r.business_type)}` }, r.business_type))],
      ...summary,
    ], rows));
}
