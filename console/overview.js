// overview: what an operator looks at first (GET /v1/overview): tasks by
// status, manual entries open, alerts firing, delivery lag, and a chart of
// deliveries and failures per minute over the last hour (uPlot); and the
// heraldd sharing the database (GET /v1/instances). Refreshes itself every
// 15 seconds while shown; heraldctl overview and instances print the same.
import { get } from "./api.js";
import { h, show, table, time } from "./dom.js";

const REFRESH_MS = 15000;

function card(label, value, href) {
  const body = [h("div", { class: "value" }, String(value)), h("div", { class: "label" }, label)];
  return h("div", { class: "card" }, href ? h("a", { href }, body) : body);
}

function chart(perMinute, width) {
  const start = Date.parse(perMinute.since) / 1000;
  const xs = perMinute.delivered.map((_, i) => start + i * 60);
  const container = h("div", { class: "chart", role: "img",
    "aria-label": `Deliveries and failures per minute over the last hour: ${perMinute.delivered.reduce((a, b) => a + b, 0)} delivered, ${perMinute.failed.reduce((a, b) => a + b, 0)} failed` });
  if (typeof window.uPlot !== "function") return container; // the script was refused or not loaded
  // eslint-disable-next-line no-new
  new window.uPlot({
    width, height: 240,
    scales: { x: { time: true } },
    axes: [{}, { label: "per minute" }],
    series: [{},
      { label: "delivered", stroke: "#1b7f3b", fill: "rgba(27,127,59,0.12)" },
      { label: "failed", stroke: "#b42318", fill: "rgba(180,35,24,0.12)" }],
  }, [xs, perMinute.delivered, perMinute.failed], container);
  return container;
}

async function draw(container) {
  const [data, instances] = await Promise.all([get("/v1/overview"), get("/v1/instances")]);
  const tasks = data.tasks;
  const width = Math.max(280, Math.min(container.clientWidth || 960, 1200) - 4);
  show(container,
    h("h1", {}, "Overview"),
    h("div", { class: "cards" },
      card("pending", tasks.pending, "#/find?status=pending"),
      card("delivering", tasks.delivering),
      card("succeeded", tasks.succeeded),
      card("failed", tasks.failed, "#/find?status=failed"),
      card("manual entries open", data.manual_open, "#/manual"),
      card("alerts firing", data.alerts_firing.length),
      card("delivery lag (s)", data.scheduler_lag_seconds.toFixed(1))),
    h("h2", {}, "The last hour"),
    chart(data.per_minute, width),
    h("h2", {}, "Alerts firing"),
    data.alerts_firing.length === 0 ? h("p", { class: "muted" }, "None.") :
      table([["kind", (a) => a.kind], ["count", (a) => String(a.count), "num"],
        ["since", (a) => time(a.created_at)], ["sent", (a) => time(a.sent_at)],
        ["send error", (a) => a.send_error || "", "wrap"]], data.alerts_firing),
    h("h2", {}, "Instances"),
    table([["instance", (i) => h("code", {}, i.id), "wrap"], ["version", (i) => i.version],
      ["alive", (i) => (i.alive ? "yes" : h("span", { class: "state-open" }, "no"))],
      ["leader", (i) => (i.leader ? "yes" : "")], ["started", (i) => time(i.started_at)],
      ["heartbeat", (i) => time(i.heartbeat_at)], ["deliveries", (i) => String(i.deliveries), "num"]],
    instances.instances),
    h("p", { class: "muted" }, "Refreshed ", time(new Date().toISOString().replace(/\.\d{3}Z$/, "Z")),
      "; every 15 s while this page is open."));
}

export async function render(container) {
  await draw(container);
  const timer = setInterval(() => {
    // keep the focus where it is: only redraw when nothing inside has it
    if (!container.contains(document.activeElement) || document.activeElement === container)
      draw(container).catch(() => {});
  }, REFRESH_MS);
  return () => clearInterval(timer);
}
