// app: the console's shell. Routes "#/page/arg?query" to a page module, asks
// for the API token when heraldd answers 401 (and says so plainly when the
// token given is not accepted), and keeps the navigation keyboard-friendly:
// every control is a link, button or form field, and each new view moves
// the focus to the page's heading.
import { ApiError, setToken, token } from "./api.js";
import { errorBox, h, show } from "./dom.js";
import * as overview from "./overview.js";
import * as manual from "./manual.js";
import * as task from "./task.js";
import * as find from "./find.js";
import * as receivers from "./receivers.js";
import * as redeliveries from "./redeliveries.js";
import * as alerts from "./alerts.js";
import * as policies from "./policies.js";

const pages = { "": overview, manual, task, find, receivers, redeliveries, alerts, policies };
const main = document.getElementById("main");
const forget = document.getElementById("forget-token");
let leave = null; // the current page's clean-up (timers), if any

// A segment of the address decoded, or null if it is not well formed (a %
// not followed by two hex digits, or bytes that are not UTF-8), which
// decodeURIComponent would throw for.
function decodeSegment(segment) {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

function parseHash() {
  const hash = location.hash.replace(/^#\/?/, "");
  const [path, search = ""] = hash.split("?");
  const segments = path.split("/").map(decodeSegment);
  if (segments.includes(null)) return { malformed: true, page: null, args: [], params: null };
  const [page = "", ...args] = segments;
  return { page, args, params: new URLSearchParams(search) };
}

function markCurrent(page) {
  for (const link of document.querySelectorAll(".top nav a")) {
    const name = link.dataset.page === "overview" ? "" : link.dataset.page;
    if (name === page || (page === "task" && name === "find")) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

// The token form: shown when heraldd wants a token (401). WRONG is the
// answer heraldd gave the token just tried, if one was.
function askForToken(wrong) {
  forget.hidden = true;
  const input = h("input", { type: "password", id: "token", name: "token", autocomplete: "off",
    class: "wide", required: true, "aria-describedby": "token-help" });
  const form = h("form", { class: "panel stack", onsubmit: async (event) => {
    event.preventDefault();
    setToken(input.value.trim());
    await route();
  } },
  h("h1", { tabindex: "-1" }, "API token"),
  h("p", { id: "token-help" }, "This heraldd needs an API token (one of the names in its ",
    h("code", {}, "api_token_file"), "). It is kept for this tab only (sessionStorage)."),
  wrong ? h("div", { class: "error", role: "alert", id: "token-error" },
    h("strong", {}, "heraldd did not accept this token."), " It answered ",
    `${wrong.status} ${wrong.code}: ${wrong.message}`) : null,
  h("label", {}, "Token", input),
  h("div", {}, h("button", { type: "submit" }, "Use this token")));
  show(main, form);
  input.focus();
}

async function route() {
  if (leave) { leave(); leave = null; }
  const { malformed, page, args, params } = parseHash();
  markCurrent(page);
  const module = malformed ? null : pages[page];
  if (!module) {
    const why = malformed ? "This address is not well formed (a % must be followed by two hex digits of UTF-8). "
      : "No such page. ";
    show(main, h("h1", { tabindex: "-1" }, "Not found"), h("p", {}, why, h("a", { href: "#/" }, "Overview")));
    main.querySelector("h1").focus({ preventScroll: true });
    return;
  }
  forget.hidden = !token();
  try {
    leave = await module.render(main, args, params) || null;
    const heading = main.querySelector("h1");
    if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus({ preventScroll: true }); }
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      const tried = token();
      setToken(null);
      askForToken(tried ? error : null);
      return;
    }
    show(main, h("h1", { tabindex: "-1" }, "Something went wrong"), errorBox(error));
  }
}

// A page's own 401 (a token withdrawn by a reload of heraldd) ends up here too.
export function unauthorized(error) {
  setToken(null);
  askForToken(error);
}

forget.addEventListener("click", () => { setToken(null); route(); });
window.addEventListener("hashchange", route);
window.addEventListener("unhandledrejection", (event) => {
  if (event.reason instanceof ApiError && event.reason.status === 401) unauthorized(event.reason);
});
route();
