// manual: the manual-handling queue (GET /v1/manual): filter by business
// type, reason, state and time; a page at a time; select entries, or every
// open entry matching the filters, and retry or resolve them. Nothing
// changes before the dry run's count is shown and confirmed
// (POST /v1/manual/retry|resolve with dry_run; heraldctl manual list,
// retry-all, resolve-all with --task or the same filters, --dry-run).
import { get, post, query } from "./api.js";
import { errorBox, h, localInputToRfc3339, notice, rfc3339ToLocalInput, show, table, time } from "./dom.js";

const PAGE = 50;
let lastNotice = null; // what the last bulk action did, shown once after the reload

function filtersFrom(params) {
  return {
    state: params.get("state") || "open",
    business_type: params.get("business_type") || "",
    reason: params.get("reason") || "",
    since: params.get("since") || "",
    until: params.get("until") || "",
  };
}

function filterForm(filters) {
  const select = (name, options, value) => h("select", { name, id: `filter-${name}` },
    options.map(([v, label]) => h("option", { value: v, selected: v === value }, label)));
  const form = h("form", { class: "filters", "aria-label": "Filters", onsubmit: (event) => {
    event.preventDefault();
    const data = new FormData(form);
    location.hash = `#/manual${query({
      state: data.get("state"), business_type: data.get("business_type").trim(), reason: data.get("reason"),
      since: localInputToRfc3339(data.get("since")), until: localInputToRfc3339(data.get("until")) })}`;
  } },
  h("label", {}, "State", select("state", [["open", "open"], ["resolved", "resolved"], ["all", "all"]], filters.state)),
  h("label", {}, "Business type", h("input", { name: "business_type", id: "filter-business_type", value: filters.business_type, size: 18 })),
  h("label", {}, "Reason", select("reason", [["", "any"], ["exhausted", "exhausted"], ["gone", "gone"], ["interrupted", "interrupted"]], filters.reason)),
  h("label", {}, "Moved since", h("input", { type: "datetime-local", name: "since", value: rfc3339ToLocalInput(filters.since) })),
  h("label", {}, "Moved before", h("input", { type: "datetime-local", name: "until", value: rfc3339ToLocalInput(filters.until) })),
  h("button", { type: "submit" }, "Apply"),
  h("a", { href: "#/manual" }, "Clear"));
  return form;
}

// The bulk request for the scope chosen: the entries ticked, or every open
// entry matching the filters ("all": true when no filter is set).
function selection(scope, ticked, filters) {
  if (scope === "selected") return { task_ids: ticked };
  const body = {};
  for (const name of ["business_type", "reason", "since", "until"])
    if (filters[name]) body[name] = filters[name];
  if (Object.keys(body).length === 0) body.all = true;
  return body;
}

function bulkPanel(filters, ticked, reload) {
  const area = h("div", { "aria-live": "polite" });
  const scopeSelected = h("input", { type: "radio", name: "scope", value: "selected", checked: true });
  const scopeAll = h("input", { type: "radio", name: "scope", value: "matching" });
  const scope = () => (scopeAll.checked ? "matching" : "selected");
  const count = h("span", {}, "0");
  const start = async (action) => {
    const body = selection(scope(), ticked(), filters);
    if (body.task_ids && body.task_ids.length === 0) {
      show(area, errorBox("Select entries first, or choose “every open entry matching the filters”."));
      return;
    }
    let counted;
    try {
      counted = await post(`/v1/manual/${action}`, { ...body, dry_run: true });
    } catch (error) {
      show(area, errorBox(error));
      return;
    }
    const verb = action === "retry" ? "retried (sent again)" : "resolved (closed without sending)";
    if (counted.matched === 0) {
      show(area, h("div", { class: "confirm", role: "status" }, "Dry run: nothing matches, so nothing would change."));
      return;
    }
    const note = h("input", { name: "note", id: "bulk-note", class: "wide", required: action === "resolve",
      placeholder: action === "resolve" ? "how they were resolved (required)" : "why (optional)" });
    const confirm = h("button", { type: "submit", id: "bulk-confirm", class: action === "resolve" ? "danger" : null },
      `${action === "retry" ? "Retry" : "Resolve"} ${counted.matched}`);
    const form = h("form", { class: "confirm stack", onsubmit: async (event) => {
      event.preventDefault();
      confirm.disabled = true;
      try {
        // through_id binds the run to what the dry run counted: entries that
        // arrived since are left for another look.
        const done = await post(`/v1/manual/${action}`, { ...body, through_id: counted.through_id,
          ...(note.value.trim() ? { note: note.value.trim() } : {}) });
        lastNotice = action === "retry" ? `Retried ${done.retried} of ${done.matched} matching entries.`
          : `Resolved ${done.resolved} of ${done.matched} matching entries.`;
        reload();
      } catch (error) {
        confirm.disabled = false;
        form.append(errorBox(error));
      }
    } },
    h("p", { id: "dry-run-count" }, h("strong", {}, `Dry run: ${counted.matched} open ${counted.matched === 1 ? "entry" : "entries"}`),
      ` would be ${verb}. Nothing has changed yet.`),
    h("label", {}, "Note", note),
    h("div", { class: "toolbar" }, confirm,
      h("button", { type: "button", class: "secondary", onclick: () => show(area) }, "Cancel")));
    show(area, form);
    note.focus();
  };
  const panel = h("section", { class: "panel stack", "aria-label": "Act on entries" },
    h("div", { class: "toolbar", role: "radiogroup", "aria-label": "Which entries" },
      h("label", { class: "inline" }, scopeSelected, "the ", count, " selected"),
      h("label", { class: "inline" }, scopeAll, "every open entry matching the filters")),
    h("div", { class: "toolbar" },
      h("button", { type: "button", id: "bulk-retry", onclick: () => start("retry") }, "Retry…"),
      h("button", { type: "button", id: "bulk-resolve", class: "secondary", onclick: () => start("resolve") }, "Resolve…"),
      h("span", { class: "muted" }, "A dry run counts them first.")),
    area);
  return { panel, setCount: (n) => { count.textContent = String(n); if (n > 0) scopeSelected.checked = true; } };
}

export async function render(container, args, params) {
  const filters = filtersFrom(params);
  const after = params.get("after") || "";
  const page = await get(`/v1/manual${query({ ...filters, limit: PAGE, after })}`);
  const boxes = new Map(); // task id -> checkbox, open entries only
  let bulk = null;
  const ticked = () => [...boxes].filter(([, box]) => box.checked).map(([id]) => id);
  const changed = () => bulk.setCount(ticked().length);
  for (const entry of page.entries) {
    if (entry.state === "open")
      boxes.set(entry.task_id, h("input", { type: "checkbox", "aria-label": `select task ${entry.task_id}`, onchange: changed }));
  }
  const all = h("input", { type: "checkbox", "aria-label": "select every open entry on this page", onchange: () => {
    for (const box of boxes.values()) box.checked = all.checked;
    changed();
  } });
  bulk = bulkPanel(filters, ticked, () => render(container, args, params));
  const here = `#/manual${query(filters)}`;
  const message = lastNotice;
  lastNotice = null;
  show(container,
    h("h1", {}, "Manual queue"),
    message ? notice(message) : null,
    filterForm(filters),
    page.entries.length === 0 ? h("p", {}, "No entries match.") :
      table([
        [all, (e) => boxes.get(e.task_id) || ""],
        ["task", (e) => h("a", { href: `#/task/${e.task_id}` }, `#${e.task_id}`)],
        ["business type", (e) => e.business_type],
        ["business id", (e) => e.business_id, "wrap"],
        ["reason", (e) => e.reason],
        ["attempts", (e) => String(e.attempts), "num"],
        ["last error", (e) => [e.last_status_code ? `HTTP ${e.last_status_code} ` : "", e.last_error || ""], "wrap"],
        ["moved", (e) => time(e.moved_at)],
        ["state", (e) => h("span", { class: `state-${e.state}` }, e.resolution ? `${e.state} (${e.resolution})` : e.state)],
      ], page.entries),
    h("nav", { class: "pager", "aria-label": "Pages" },
      after ? h("a", { href: here }, "First page") : null,
      page.next_after ? h("a", { href: `#/manual${query({ ...filters, after: page.next_after })}` }, "Next page") : null),
    filters.state === "resolved" ? null : bulk.panel);
}
