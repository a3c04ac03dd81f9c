// The console's browser test: Debian's Chromium, headless, driven by
// puppeteer-core, against a real heraldd that tests/integration/test_console.py
// started with failed tasks in manual handling and a healthy receiver.
//
//   node console_test.mjs SCENARIO.json
//
// SCENARIO: {url, token, healthy_url, broken_url, fix_task, resolve_tasks: [id, id],
// fix_business_id, blocked_task, screenshots, profile, contract_dir}. Walks an operator's session: a wrong token,
// the right one, the overview, the manual queue, a failed task's attempts, a
// retry with an edited URL that then succeeds, sending it again with a reason, a
// bulk resolve of two entries, pausing and resuming a receiver, the policies
// after its dry-run count, find and receivers; at 1280x800 and at a phone's
// 390x844. Saves a screenshot of each step in SCENARIO.screenshots. Fails on
// any uncaught error in the page or any Content-Security-Policy violation.
// Prints one line per step; exits 1 at the first step that fails. With
// contract_dir, every answer heraldd gave the browser is kept there for the
// OpenAPI contract check, as tests/integration/harness.py keeps its own.
import { appendFileSync, readFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import puppeteer from "puppeteer-core";

const scenario = JSON.parse(readFileSync(process.argv[2], "utf8"));
const STEP_MS = 15000;
mkdirSync(scenario.screenshots, { recursive: true });

const problems = [];
const answers = []; // promises of contract records
const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  userDataDir: scenario.profile,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-default-apps", "--disable-extensions"],
});
let page;
try {
  page = await browser.newPage();
  page.setDefaultTimeout(STEP_MS);
  await page.setViewport({ width: 1280, height: 800 });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("response", (response) => {
    const url = new URL(response.url());
    if (!scenario.contract_dir || url.origin !== new URL(scenario.url).origin) return;
    const request = response.request();
    answers.push(response.text().catch(() => "").then((body) => ({
      method: request.method(), path: url.pathname + url.search, status: response.status(),
      content_type: response.headers()["content-type"] || "", allow: response.headers().allow || null, body })));
  });
  page.on("console", (message) => {
    const text = message.text();
    // A 401 or 404 the page asked for and handled is logged by Chromium itself.
    if (message.type() === "error" && !text.startsWith("Failed to load resource"))
      problems.push(`console error: ${text}`);
    if (/Content Security Policy/i.test(text)) problems.push(`CSP: ${text}`);
  });
  await run(page);
  if (problems.length) throw new Error(problems.join("\n"));
  if (scenario.contract_dir) {
    const records = await Promise.all(answers);
    appendFileSync(join(scenario.contract_dir, `responses-browser-${process.pid}.jsonl`),
      records.map((record) => JSON.stringify(record) + "\n").join(""));
  }
  console.log("console test: every step passed");
} catch (error) {
  console.error(`console test failed: ${error.stack || error}`);
  if (page) await page.screenshot({ path: join(scenario.screenshots, "failure.png"), fullPage: true }).catch(() => {});
  if (page) console.error(`page text at failure:\n${await page.evaluate(() => document.body.innerText).catch(() => "?")}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}

function step(name) {
  console.log(`step: ${name}`);
}

async function shot(name) {
  await page.screenshot({ path: join(scenario.screenshots, `${name}.png`), fullPage: true });
}

async function text(selector) {
  return page.$eval(selector, (element) => element.textContent);
}

async function waitForText(selector, pattern) {
  await page.waitForFunction((s, p) => {
    const element = document.querySelector(s);
    return element && new RegExp(p).test(element.textContent);
  }, {}, selector, pattern.source);
}

async function run() {
  step("a heraldd with tokens asks for one");
  await page.goto(`${scenario.url}/ui/`);
  await page.waitForSelector("#token");
  await shot("01-token");

  step("a wrong token gets a clear message, with heraldd's own words");
  await page.type("#token", "not-the-token");
  await page.keyboard.press("Enter");
  await waitForText("#token-error", /did not accept this token.*401 unauthorized/);
  await shot("02-wrong-token");

  step("the right token opens the overview, with its chart");
  await page.type("#token", scenario.token);
  await page.keyboard.press("Enter");
  await waitForText("h1", /^Overview$/);
  await page.waitForSelector(".chart canvas");
  const cards = await page.$$eval(".card", (all) => all.map((c) => c.textContent));
  if (!cards.some((c) => /manual entries open/.test(c))) throw new Error(`overview cards: ${cards}`);
  await waitForText("main", /Instances/);
  await shot("03-overview");

  step("the manual queue lists the failed tasks");
  await page.click('nav a[href="#/manual"]');
  await waitForText("h1", /^Manual queue$/);
  for (const id of [scenario.fix_task, ...scenario.resolve_tasks])
    await page.waitForSelector(`a[href="#/task/${id}"]`);
  await shot("04-manual-queue");

  step("a failed task shows its attempts");
  await page.click(`a[href="#/task/${scenario.fix_task}"]`);
  await waitForText("#task-status", /^failed$/);
  // Its trace id (issue 27), to find the task's spans in the tracing backend.
  await waitForText("#task-trace-id", new RegExp(`^${scenario.fix_trace_id}$`));
  const attempts = await page.$$eval("#attempts li", (items) => items.length);
  if (attempts < 1) throw new Error("no attempt in the timeline");
  await waitForText("#attempts", /http_status/);
  await shot("05-task-failed");

  step("a refused retry shows heraldd's own error, naming the field");
  await page.$eval("#retry-target-url", (input) => { input.value = ""; });
  await page.type("#retry-target-url", "ftp://files.example/notify");
  await page.click("#retry-submit");
  await waitForText("form[aria-labelledby=retry-heading] .error", /422 validation_failed: .*\(field: target_url\)/);
  await shot("05b-retry-refused");

  step("retry with the URL edited to a healthy receiver, and a header added; it succeeds");
  await page.$eval("#retry-target-url", (input) => { input.value = ""; });
  await page.type("#retry-target-url", scenario.healthy_url);
  await page.type("#retry-headers", "X-Fixed-By: console");
  await page.type("#retry-note", "receiver moved");
  await page.click("#retry-submit");
  await waitForText(".notice", /Sent again with your changes/);
  await waitForText("#task-target-url", new RegExp(scenario.healthy_url.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
  const deadline = Date.now() + STEP_MS;
  while (!/succeeded/.test(await text("#task-status"))) {
    if (Date.now() > deadline) throw new Error("the retried task did not succeed");
    await new Promise((resolve) => setTimeout(resolve, 200));
    await page.click("#refresh");
    await page.waitForSelector("#task-status");
  }
  await waitForText("main", /receiver moved/); // the audit trail
  await shot("06-task-retried");

  step("the delivered task is sent again, with a reason");
  await page.type("#redeliver-reason", "lost by the receiver");
  await page.click("#redeliver-submit");
  await waitForText(".notice", /Sent again: one attempt/);
  const again = Date.now() + STEP_MS;
  while (!/succeeded/.test(await text("#task-status")) || !/Attempt 4/.test(await text("#attempts"))) {
    if (Date.now() > again) throw new Error("the task sent again did not succeed");
    await new Promise((resolve) => setTimeout(resolve, 200));
    await page.click("#refresh");
    await page.waitForSelector("#task-status");
  }
  await waitForText("main", /lost by the receiver/); // the audit trail
  await shot("06b-task-redelivered");

  step("bulk resolve two entries, after the dry run's count");
  await page.goto(`${scenario.url}/ui/#/manual`);
  await waitForText("h1", /^Manual queue$/);
  for (const id of scenario.resolve_tasks)
    await page.click(`input[aria-label="select task ${id}"]`);
  await page.click("#bulk-resolve");
  await waitForText("#dry-run-count", /Dry run: 2 open entries would be resolved/);
  await shot("07-bulk-dry-run");
  await page.type("#bulk-note", "settled by hand");
  await page.click("#bulk-confirm");
  await waitForText(".notice", /Resolved 2 of 2 matching entries/);
  await shot("08-bulk-resolved");

  step("find a task by business id, with the keyboard only");
  await page.goto(`${scenario.url}/ui/#/`);
  await waitForText("h1", /^Overview$/);
  await page.focus('nav a[href="#/find"]');
  await page.keyboard.press("Enter");
  await page.waitForSelector("#find-q");
  await waitForText("h1", /^Find a task$/);
  for (let i = 0; i < 10 && !(await page.evaluate(() => document.activeElement.id === "find-q")); i++)
    await page.keyboard.press("Tab");
  await page.keyboard.type(scenario.fix_business_id);
  await page.keyboard.press("Enter");
  await page.waitForSelector(`main a[href="#/task/${scenario.fix_task}"]`);
  await shot("09-find");

  step("receivers: the failures stay with the receiver that was down");
  await page.click('nav a[href="#/receivers"]');
  await waitForText("h1", /^Receivers$/);
  await waitForText("main", new RegExp(new URL(scenario.broken_url).host));
  if ((await text("main")).includes(new URL(scenario.healthy_url).host))
    throw new Error("the healthy receiver is listed with the broken one's failures");
  // The key its failed head blocks, with a link to that task.
  await waitForText("#blocked-keys-heading", /^Blocked ordering keys$/);
  await page.waitForSelector(`main section a[href="#/task/${scenario.blocked_task}"]`);
  await waitForText("main section", /order-77/);
  await shot("10-receivers");

  step("pause the broken receiver with a note, then resume it");
  const brokenKey = new URL(scenario.broken_url).origin;
  await page.click(`button[aria-label="pause ${brokenKey}"]`);
  await page.waitForSelector("#receiver-note");
  await page.type("#receiver-note", "their maintenance");
  await page.click("#receiver-confirm");
  await waitForText(".notice", /Paused .*nothing is sent to it until it is resumed/);
  await page.waitForSelector(`button[aria-label="resume ${brokenKey}"]`);
  await shot("10b-receiver-paused");
  await page.click(`button[aria-label="resume ${brokenKey}"]`);
  await page.waitForSelector("#receiver-confirm");
  await page.click("#receiver-confirm");
  await waitForText(".notice", /Resumed/);
  await page.waitForSelector(`button[aria-label="pause ${brokenKey}"]`);

  step("redeliveries: count what a filter chooses, then create a job and see it end");
  await page.click('nav a[href="#/redeliveries"]');
  await waitForText("h1", /^Redeliveries$/);
  await page.select("#redelivery-status", "pending");
  await page.type("#redelivery-prefix", "http://127.0.0.1:1/nothing-here");
  await page.click("#redelivery-count");
  await waitForText(".notice", /0 tasks match now/);
  await page.type("#redelivery-reason", "browser check");
  await page.click("#redelivery-create");
  await waitForText(".notice", /Job \d+ created/);
  await waitForText("main table", /done/);
  await shot("10c-redeliveries");

  step("alerts");
  await page.click('nav a[href="#/alerts"]');
  await waitForText("h1", /^Alerts$/);
  await shot("11-alerts");

  step("policies: the default, and when a type's attempts come");
  await page.click('nav a[href="#/policies"]');
  await waitForText("h1", /^Policies$/);
  await waitForText("main", /\(default\)\s*2\s*50ms doubling to 30m/);
  await page.goto(`${scenario.url}/ui/#/policies/PAYMENT_SUCCESS`);
  await waitForText("h1", /^Policy of PAYMENT_SUCCESS$/);
  await waitForText("main", /No section of its own/);
  await waitForText("main", /When each attempt comes/);
  await shot("11b-policy");

  step("a retry of a task nobody edited changes nothing (line ends, padded and odd headers)");
  await page.goto(`${scenario.url}/ui/#/task/${scenario.untouched_task}`);
  await page.waitForSelector("#retry-submit");
  await page.click("#retry-submit");
  await waitForText("main", /Sent again\./);
  if ((await text("main")).includes("with your changes"))
    throw new Error("an untouched retry said it sent changes");

  step("a malformed address shows Not found, never the previous view or a page error");
  for (const hash of ["#/task/%", "#/task/%E0%A4%A", "#/manual/%zz"]) {
    await page.evaluate((h) => { location.hash = h; }, hash);
    await waitForText("h1", /^Not found$/);
    await waitForText("main", /not well formed/);
    await page.click('nav a[href="#/alerts"]');
    await waitForText("h1", /^Alerts$/);
  }

  step("a phone-sized window");
  await page.setViewport({ width: 390, height: 844, isMobile: true });
  await page.goto(`${scenario.url}/ui/#/manual?state=all`);
  await waitForText("h1", /^Manual queue$/);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  if (overflow > 2) throw new Error(`the page is ${overflow}px wider than a phone's window`);
  await shot("12-phone-manual");
  await page.goto(`${scenario.url}/ui/#/task/${scenario.fix_task}`);
  await waitForText("#task-status", /succeeded/);
  await shot("13-phone-task");
}
