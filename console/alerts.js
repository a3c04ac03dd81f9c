// alerts: every alert herald raised, newest first, a page at a time
// (GET /v1/alerts; heraldctl alerts). The overview shows those firing now.
import { get, query } from "./api.js";
import { h, orDash, show, table, time } from "./dom.js";

const PAGE = 50;

export async function render(container, args, params) {
  const before = params.get("before") || "";
  const page = await get(`/v1/alerts${query({ limit: PAGE, before })}`);
  const sinks = (a) => Object.entries(a.sinks).filter(([, at]) => at).map(([name]) => name).join(", ");
  show(container,
    h("h1", {}, "Alerts"),
    page.alerts.length === 0 ? h("p", {}, "herald has raised no alert.") :
      table([
        ["id", (a) => String(a.id), "num"],
        ["kind", (a) => a.kind],
        ["state", (a) => h("span", { class: a.state === "firing" ? "state-open" : "state-resolved" }, a.state)],
        ["count", (a) => String(a.count), "num"],
        ["raised", (a) => time(a.created_at)],
        ["sent", (a) => time(a.sent_at)],
        ["sent to", (a) => orDash(sinks(a))],
        ["send error", (a) => orDash(a.send_error), "wrap"],
        ["details", (a) => (a.details ? h("code", {}, JSON.stringify(a.details)) : orDash(null)), "wrap"],
      ], page.alerts),
    h("nav", { class: "pager", "aria-label": "Pages" },
      before ? h("a", { href: "#/alerts" }, "Newest") : null,
      page.next_before ? h("a", { href: `#/alerts?before=${page.next_before}` }, "Older") : null));
}
