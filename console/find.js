// find: a task by id, business id or idempotency key ("did you ever send
// P2026...?"), or tasks by status and business type (GET /v1/tasks/{id},
// GET /v1/tasks?...; heraldctl tasks get|list).
import { ApiError, get, query } from "./api.js";
import { h, show, table, time } from "./dom.js";

const PAGE = 50;

function taskTable(tasks) {
  return table([
    ["task", (t) => h("a", { href: `#/task/${t.id}` }, `#${t.id}`)],
    ["status", (t) => h("span", { class: `status-${t.status}` }, t.status)],
    ["business type", (t) => t.business_type],
    ["business id", (t) => t.business_id, "wrap"],
    ["attempts", (t) => `${t.attempts}/${t.max_retry}`, "num"],
    ["created", (t) => time(t.created_at)],
    ["target", (t) => t.target_url, "wrap"],
  ], tasks);
}

async function byId(text) {
  if (!/^[1-9][0-9]{0,17}$/.test(text)) return [];
  try {
    return [await get(`/v1/tasks/${text}`)];
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return [];
    throw error;
  }
}

async function lookUp(text) {
  const [id, business, key] = await Promise.all([
    byId(text),
    get(`/v1/tasks${query({ business_id: text, limit: PAGE })}`),
    get(`/v1/tasks${query({ idempotency_key: text, limit: 1 })}`),
  ]);
  const section = (title, tasks, none) => [h("h2", {}, title),
    tasks.length ? taskTable(tasks) : h("p", { class: "muted" }, none)];
  return [
    /^[0-9]+$/.test(text) ? section(`Task id ${text}`, id, `No task has id ${text}.`) : null,
    section(`Business id “${text}”`, business.tasks,
      `No task with business id “${text}” is held (finished tasks are kept for [storage] retention).`),
    business.next_after ? h("p", { class: "muted" }, `The newest ${PAGE} are shown; heraldctl tasks list --business-id lists them all.`) : null,
    section(`Idempotency key “${text}”`, key.tasks, `No task was created with idempotency key “${text}”.`),
  ];
}

// Tasks by status and business type, newest first, a page at a time.
async function byFilter(status, type, after) {
  const page = await get(`/v1/tasks${query({ status, business_type: type, limit: PAGE, after })}`);
  const here = { status, business_type: type };
  return [h("h2", {}, `Tasks${status ? ` ${status}` : ""}${type ? ` of ${type}` : ""}, newest first`),
    page.tasks.length ? taskTable(page.tasks) : h("p", { class: "muted" }, "None."),
    h("nav", { class: "pager", "aria-label": "Pages" },
      after ? h("a", { href: `#/find${query(here)}` }, "First page") : null,
      page.next_after ? h("a", { href: `#/find${query({ ...here, after: page.next_after })}` }, "Next page") : null)];
}

export async function render(container, args, params) {
  const text = (params.get("q") || "").trim();
  const status = params.get("status") || "";
  const type = params.get("business_type") || "";
  const input = h("input", { type: "search", name: "q", id: "find-q", class: "wide", value: text,
    placeholder: "task id, business id or idempotency key", "aria-label": "Task id, business id or idempotency key" });
  const form = h("form", { class: "filters", role: "search", onsubmit: (event) => {
    event.preventDefault();
    location.hash = `#/find${query({ q: input.value.trim() })}`;
  } }, h("label", {}, "Look up", input), h("button", { type: "submit" }, "Find"));
  const statusSelect = h("select", { name: "status", id: "list-status" },
    ["", "pending", "delivering", "succeeded", "failed"].map((v) => h("option", { value: v, selected: v === status }, v || "any")));
  const typeInput = h("input", { name: "business_type", id: "list-type", value: type, size: 18 });
  const list = h("form", { class: "filters", "aria-label": "List tasks", onsubmit: (event) => {
    event.preventDefault();
    location.hash = `#/find${query({ status: statusSelect.value, business_type: typeInput.value.trim(), list: "1" })}`;
  } }, h("label", {}, "Status", statusSelect), h("label", {}, "Business type", typeInput),
  h("button", { type: "submit", class: "secondary" }, "List tasks"));
  const listing = status || type || params.get("list");
  const results = text ? await lookUp(text) : listing ? await byFilter(status, type, params.get("after")) : [];
  show(container, h("h1", {}, "Find a task"), form, list, results);
}
