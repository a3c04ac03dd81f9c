// receivers: per scheme://host:port, tasks pending, requests in flight,
// attempts failed in the last hour, the latest failure, and until when it is
// held (its Retry-After) (GET /v1/receivers; heraldctl receivers).
import { get } from "./api.js";
import { h, orDash, show, table, time } from "./dom.js";

export async function render(container) {
  const data = await get("/v1/receivers");
  show(container,
    h("h1", {}, "Receivers"),
    h("p", { class: "muted" }, "Receivers with work waiting, in flight, or failures since ", time(data.failures_since), "."),
    data.receivers.length === 0 ? h("p", {}, "No receiver has work waiting or failed in the last hour.") :
      table([
        ["receiver", (r) => h("code", {}, r.receiver), "wrap"],
        ["pending", (r) => String(r.pending), "num"],
        ["in flight", (r) => String(r.in_flight), "num"],
        ["failures (1 h)", (r) => String(r.failures), "num"],
        ["last failure", (r) => time(r.last_failure_at)],
        ["held until", (r) => time(r.held_until)],
        ["last error", (r) => orDash(r.last_error), "wrap"],
      ], data.receivers));
}
