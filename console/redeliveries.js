// redeliveries: redelivery jobs, an operator's "send these again" over many
// tasks at once (POST /v1/redeliveries; heraldctl redeliveries). A form
// chooses the tasks (status, business type, receiver or URL prefix, the
// latest attempt's error class), counts them first (a dry run), then creates
// the job, which a heraldd works at its pace; the list shows each job's
// progress (matched, sent, skipped, left) and cancels a running one. The list
// refreshes every few seconds while a job runs.
import { get, post } from "./api.js";
import { errorBox, h, notice, orDash, show, table, time } from "./dom.js";

const REFRESH_MS = 3000;
let lastNotice = null;

function input(id, label, attributes) {
  const field = h("input", { id, name: id, ...attributes });
  return [field, h("label", {}, label, field)];
}

// The request the form says, DRY_RUN or not.
function request(form, dryRun) {
  const filter = { status: form.status.value };
  for (const [name, element] of [["business_type", form.type], ["receiver", form.receiver],
    ["url_prefix", form.prefix], ["error_class", form.errorClass]])
    if (element.value.trim()) filter[name] = element.value.trim();
  const body = { filter, schedule: form.schedule.value, pace: Number(form.pace.value) };
  if (form.reason.value.trim()) body.reason = form.reason.value.trim();
  if (dryRun) body.dry_run = true;
  return body;
}

function createForm(reload) {
  const [type, typeLabel] = input("redelivery-type", "Business type", { placeholder: "any" });
  const [receiver, receiverLabel] = input("redelivery-receiver", "Receiver", { class: "wide", placeholder: "scheme://host:port, any if empty" });
  const [prefix, prefixLabel] = input("redelivery-prefix", "URL prefix", { class: "wide", placeholder: "any" });
  const [errorClass, classLabel] = input("redelivery-class", "Last error class", { placeholder: "any, e.g. timeout" });
  const [pace, paceLabel] = input("redelivery-pace", "Tasks a second", { type: "number", min: 1, max: 10000, value: 50 });
  const [reason, reasonLabel] = input("redelivery-reason", "Reason", { class: "wide", placeholder: "why (kept in each task's history)" });
  const status = h("select", { id: "redelivery-status", name: "status" },
    ["failed", "succeeded", "pending"].map((s) => h("option", { value: s }, s)));
  const schedule = h("select", { id: "redelivery-schedule", name: "schedule" },
    h("option", { value: "once" }, "one attempt each"), h("option", { value: "full" }, "the type's whole retry schedule"));
  const form = { type, receiver, prefix, errorClass, pace, reason, status, schedule };
  const result = h("div", { "aria-live": "polite" });
  const count = h("button", { type: "button", id: "redelivery-count", class: "secondary", onclick: async () => {
    try {
      const answer = await post("/v1/redeliveries", request(form, true));
      show(result, notice(`${answer.matched} tasks match now (up to task ${answer.through_id}); nothing was sent.`));
    } catch (error) {
      show(result, errorBox(error));
    }
  } }, "Count");
  return h("form", { class: "panel stack", "aria-labelledby": "redelivery-new-heading", onsubmit: async (event) => {
    event.preventDefault();
    try {
      const answer = await post("/v1/redeliveries", request(form, false));
      lastNotice = `Job ${answer.redelivery.id} created: ${answer.redelivery.matched} tasks to send again.`;
      reload();
    } catch (error) {
      show(result, errorBox(error));
    }
  } },
  h("h2", { id: "redelivery-new-heading" }, "Send tasks again"),
  h("p", { class: "muted" }, "Each chosen task goes out again as it is (same webhook-id), recorded with you and the reason. Tasks accepted after the job is created are not part of it."),
  h("label", {}, "Status ", status), typeLabel, receiverLabel, prefixLabel, classLabel,
  h("label", {}, "Schedule ", schedule), paceLabel, reasonLabel,
  h("div", {}, count, " ", h("button", { type: "submit", id: "redelivery-create" }, "Create job")),
  result);
}

async function draw(container, reload) {
  const data = await get("/v1/redeliveries");
  const message = lastNotice;
  lastNotice = null;
  const errors = h("div", { "aria-live": "polite" });
  show(container,
    h("h1", {}, "Redeliveries"),
    message ? notice(message) : null,
    data.redeliveries.length === 0 ? h("p", {}, "No redelivery job yet.") :
      table([
        ["job", (j) => String(j.id), "num"],
        ["state", (j) => (j.state === "running" ? h("span", { class: "state-open" }, "running") : j.state)],
        ["status", (j) => j.filter.status],
        ["matched", (j) => String(j.matched), "num"],
        ["sent", (j) => String(j.sent), "num"],
        ["skipped", (j) => String(j.skipped), "num"],
        ["left", (j) => String(j.remaining), "num"],
        ["pace", (j) => `${j.pace}/s`, "num"],
        ["by", (j) => orDash(j.actor)],
        ["created", (j) => time(j.created_at)],
        ["reason", (j) => orDash(j.reason), "wrap"],
        ["", (j) => (j.state !== "running" ? "" : h("button", { type: "button", class: "danger", "aria-label": `cancel job ${j.id}`,
          onclick: async () => {
            try {
              await post(`/v1/redeliveries/${j.id}/cancel`, {});
              lastNotice = `Job ${j.id} cancelled.`;
              reload();
            } catch (error) {
              show(errors, errorBox(error));
            }
          } }, "Cancel"))],
      ], data.redeliveries),
    errors,
    createForm(reload));
  return data.redeliveries.some((j) => j.state === "running");
}

export async function render(container) {
  let running = false;
  const redraw = async () => { running = await draw(container, reload); };
  const reload = () => redraw().catch((error) => show(container, errorBox(error)));
  await redraw();
  const timer = setInterval(() => {
    // only while a job runs, and keeping the focus where it is: only when
    // nothing inside has it (a half-filled form stays as it is)
    if (running && (!container.contains(document.activeElement) || document.activeElement === container))
      redraw().catch(() => {});
  }, REFRESH_MS);
  return () => clearInterval(timer);
}
