// dom: building the page from data. Everything the API returns is put in as
// text (textContent), never as markup: a payload or an error message from a
// receiver can hold anything.

// h("a", {href: "#/x", class: "c", onclick: f}, "text", child, [more]) -> element
export function h(tag, attributes, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "class") element.className = value;
    else if (name === "value") element.value = value;
    else if (value === true) element.setAttribute(name, "");
    else element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else element.append(child instanceof Node ? child : String(child));
  }
}

// An RFC 3339 time, shown in the browser's time zone; the UTC text on hover.
export function time(text) {
  if (!text) return h("span", { class: "muted" }, "—");
  const date = new Date(text);
  const shown = isNaN(date) ? text : date.toLocaleString(undefined, {
    year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit" });
  return h("time", { datetime: text, title: text }, shown);
}

export function orDash(value) {
  return value === null || value === undefined || value === "" ? h("span", { class: "muted" }, "—") : String(value);
}

// A table: columns are [heading, (row) => cell content, class?].
export function table(columns, rows, caption) {
  return h("div", { class: "table-wrap" }, h("table", {},
    caption ? h("caption", { class: "muted" }, caption) : null,
    h("thead", {}, h("tr", {}, columns.map(([heading, , cls]) => h("th", { class: cls, scope: "col" }, heading)))),
    h("tbody", {}, rows.map((row) => h("tr", {}, columns.map(([, cell, cls]) => h("td", { class: cls }, cell(row))))))));
}

// A definition list of [label, content] pairs.
export function fields(pairs) {
  return h("dl", { class: "fields" }, pairs.map(([label, content]) => [h("dt", {}, label), h("dd", {}, content)]));
}

// The API's own words for what went wrong: status, code, message, field.
export function errorBox(error) {
  if (!error || error.status === undefined)
    return h("div", { class: "error", role: "alert" }, String(error && error.message || error));
  return h("div", { class: "error", role: "alert" },
    h("strong", {}, `${error.status} ${error.code}`), ": ", error.message,
    error.field ? h("span", {}, " (field: ", h("code", {}, error.field), ")") : null);
}

export function notice(text) {
  return h("div", { class: "notice", role: "status" }, text);
}

// Replaces what CONTAINER shows.
export function show(container, ...children) {
  container.replaceChildren();
  append(container, children);
}

// "2026-11-20T10:00" from a datetime-local input -> RFC 3339 UTC, or null.
export function localInputToRfc3339(value) {
  if (!value) return null;
  const date = new Date(value);
  return isNaN(date) ? null : date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function rfc3339ToLocalInput(value) {
  if (!value) return "";
  const date = new Date(value);
  if (isNaN(date)) return "";
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}
