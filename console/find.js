// find: a task by id, business id or idempotency key ("did you ever send
// P2026...?"), or tasks by status (GET /v1/tasks/{id}, GET /v1/tasks?...;
// heraldctl tasks get|list).
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

async function byStatus(status, after) {
  const page = await get(`/v1/tasks${query({ status, limit: PAGE, after })}`);
  return [h("h2", {}, `Tasks ${status}, newest first`),
    page.tasks.length ? taskTable(page.tasks) : h("p", { class: "muted" }, "None."),
    h("div", { class: "pager" },
      after ? h("a", { href: `#/find?status=${status}` }, "First page") : null,
      page.next_after ? h("a", { href: `#/find?status=${status}&after=${page.next_after}` }, "Next page") : null)];
}

export async function render(container, args, params) {
  const text = (params.get("q") || "").trim();
  const status = params.get("status") || "";
  const input = h("input", { type: "search", name: "q", id: "find-q", class: "wide", value: text,
    placeholder: "task id, business id or idempotency key", "aria-label": "Task id, business id or idempotency key" });
  const form = h("form", { class: "filters", role: "search", onsubmit: (event) => {
    event.preventDefault();
    location.hash = `#/find${query({ q: input.value.trim() })}`;
  } }, h("label", {}, "Look up", input), h("button", { type: "submit" }, "Find"));
  const results = text ? await lookUp(text) : status ? await byStatus(status, params.get("after")) : [];
  show(container, h("h1", {}, "Find a task"), form, results);
}
