// The attacker's page (issue 23, item 1): Debian's Chromium, headless, driven by
// puppeteer-core, visits a page on another origin while heraldd runs on loopback
// without a token; tests/integration/test_browser.py started both and checks
// afterwards, through heraldd, that nothing changed.
//
//   node browser_attack_test.mjs SCENARIO.json
//
// SCENARIO: {herald_port, attacker_port, task_id, secret, receiver_url, profile}.
// Chromium resolves evil.test, herald.test and rebind.test to 127.0.0.1
// (--host-resolver-rules). From http://evil.test:ATTACKER/ the page sends every
// write a page can send without a preflight (fetch no-cors with each body
// type, forms of each enctype, beacons), a preflighted JSON write, and reads
// (fetch, script tag) to herald as http://127.0.0.1:PORT (a secure context:
// Chromium adds Sec-Fetch-Site) and as http://herald.test:PORT (a name
// herald lists; not secure, so Origin is all it has). Then the page's name is
// "rebound" to herald: http://rebind.test:PORT must be answered 421, to the
// page and to its scripts. A control on herald's own origin shows the browser
// would have read the secret had herald served it. Exits 1 if any request
// herald answered was not refused, or if the page read the secret.
import { readFileSync } from "node:fs";
import puppeteer from "puppeteer-core";

const scenario = JSON.parse(readFileSync(process.argv[2], "utf8"));
const port = scenario.herald_port;
const heraldBases = [`http://127.0.0.1:${port}`, `http://herald.test:${port}`];
const answered = []; // {method, url, status} of every request heraldd answered
const problems = [];

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  userDataDir: scenario.profile,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-default-apps", "--disable-extensions",
    "--host-resolver-rules=MAP evil.test 127.0.0.1, MAP herald.test 127.0.0.1, MAP rebind.test 127.0.0.1"],
});
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(15000);
  page.on("response", (response) => {
    if (new URL(response.url()).port === String(port))
      answered.push({ method: response.request().method(), url: response.url(), status: response.status() });
  });
  await page.goto(`http://evil.test:${scenario.attacker_port}/`);
  for (const base of heraldBases) {
    const outcome = await page.evaluate(attack, base, scenario.task_id, scenario.receiver_url, scenario.secret);
    console.log(`attacks on ${base}: ${JSON.stringify(outcome)}`);
    if (outcome.read) problems.push(`the page read herald's data from ${base}: ${outcome.read}`);
  }
  // DNS rebinding: the attacker's own name now points at herald.
  for (const path of ["/v1/tasks", "/ui/", `/v1/manual/${scenario.task_id}`]) {
    const response = await page.goto(`http://rebind.test:${port}${path}`);
    const text = await response.text();
    if (response.status() !== 421 || text.includes(scenario.secret))
      problems.push(`rebound ${path}: ${response.status()} ${text.slice(0, 200)}`);
  }
  const rebound = await page.evaluate(async (taskId, secret) => {
    const read = await fetch("/v1/tasks").then(async (r) => [r.status, (await r.text()).includes(secret)]);
    const write = await fetch(`/v1/manual/${taskId}/retry`, { method: "POST" }).then((r) => r.status);
    return { read, write };
  }, scenario.task_id, scenario.secret);
  console.log(`rebound page's scripts: ${JSON.stringify(rebound)}`);
  if (rebound.read[0] !== 421 || rebound.read[1] || rebound.write !== 421)
    problems.push(`rebound scripts: ${JSON.stringify(rebound)}`);
  const attacks = answered.slice(); // what follows is herald's own console
  // Control: on herald's own origin the same read gets the secret, so the checks
  // above would have seen it.
  await page.goto(`http://127.0.0.1:${port}/ui/`);
  const control = await page.evaluate((secret) =>
    fetch("/v1/tasks").then(async (r) => (await r.text()).includes(secret)), scenario.secret);
  if (!control) problems.push("control: herald's own origin could not read its tasks");

  for (const a of attacks) {
    const refused = a.status === 403 || a.status === 421 ||
      // a read herald served (no Sec-Fetch-Site to a non-secure name) that the
      // browser then kept from the page, which the page's own report checks
      (a.method === "GET" && a.url.startsWith(`http://herald.test:${port}/`));
    if (!refused) problems.push(`not refused: ${a.method} ${a.url} -> ${a.status}`);
  }
  const writes = attacks.filter((a) => a.method === "POST");
  if (writes.length < 12) problems.push(`only ${writes.length} writes reached heraldd: the attacks did not run`);
  console.log(`refused: ${writes.length} writes and ${attacks.length - writes.length} reads reached heraldd; statuses ${[...new Set(attacks.map((a) => a.status))].join(",")}`);
  if (problems.length) throw new Error(problems.join("\n"));
  console.log("browser attack test: herald refused every request");
} catch (error) {
  console.error(`browser attack test failed: ${error.stack || error}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}

// Runs in the attacker's page. Returns what the page could read (nothing, if
// herald holds).
async function attack(base, taskId, receiverUrl, secret) {
  const task = JSON.stringify({ business_type: "page", business_id: "PAGE-1", target_url: receiverUrl, payload: {} });
  const quiet = (promise) => promise.then(() => "sent", (e) => `failed: ${e.name}`);
  const result = {};
  const noCors = (path, body, type) => quiet(fetch(base + path, {
    method: "POST", mode: "no-cors", body, headers: type ? { "Content-Type": type } : {},
  }));
  result.retry = await noCors(`/v1/manual/${taskId}/retry`);
  result.resolve = await noCors(`/v1/manual/${taskId}/resolve`, JSON.stringify({ note: "page" }), "text/plain");
  result.create = await noCors("/v1/tasks", task, "text/plain");
  result.bulk = await noCors("/v1/manual/retry", JSON.stringify({ task_ids: [taskId] }), "text/plain");
  result.form_urlencoded = await noCors("/v1/tasks", new URLSearchParams({ x: task }));
  result.multipart = await noCors(`/v1/manual/${taskId}/retry`, (() => { const f = new FormData(); f.set("x", task); return f; })());
  result.beacon = navigator.sendBeacon(`${base}/v1/manual/${taskId}/retry`, "{}");
  result.beacon_form = navigator.sendBeacon(`${base}/v1/tasks`, new Blob([task], { type: "application/x-www-form-urlencoded" }));
  // forms posted into a frame (the attacker's page stays), one per enctype
  for (const enctype of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]) {
    const frame = document.createElement("iframe");
    frame.name = `sink-${enctype.replace(/\W/g, "")}`;
    document.body.appendChild(frame);
    const form = document.createElement("form");
    form.method = "POST";
    form.enctype = enctype;
    form.target = frame.name;
    form.action = `${base}/v1/manual/${taskId}/retry`;
    const input = document.createElement("input");
    input.name = '{"max_retry":9,"x":"';
    input.value = '"}';
    form.appendChild(input);
    document.body.appendChild(form);
    const loaded = new Promise((resolve) => { frame.onload = resolve; setTimeout(resolve, 2000); });
    form.submit();
    await loaded;
  }
  // a write with a JSON body needs a preflight, which herald never grants
  result.json = await quiet(fetch(`${base}/v1/tasks`, { method: "POST", headers: { "Content-Type": "application/json" }, body: task }));
  // reads: with CORS the page gets nothing; a script tag executes nothing useful
  const read = await fetch(`${base}/v1/tasks`).then((r) => r.text()).catch(() => null);
  result.script = await new Promise((resolve) => {
    const script = document.createElement("script");
    script.src = `${base}/v1/tasks?limit=1`;
    script.onload = () => resolve("loaded");
    script.onerror = () => resolve("error");
    document.body.appendChild(script);
  });
  // let the beacons go out before the next base is attacked
  await new Promise((resolve) => setTimeout(resolve, 300));
  result.read = read && read.includes(secret) ? read.slice(0, 200) : null;
  return result;
}
