"""The web console at /ui/: its files as heraldd serves them (headers, types, the
switch), and an operator's session in a real browser (tests/js/console_test.mjs:
Debian's Chromium driven by puppeteer-core)."""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import unittest

from harness import Herald, Receiver, backend_independent, task_request, wait_until

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
JS = os.path.join(ROOT, "tests", "js")
CONSOLE = os.path.join(ROOT, "console")
SCREENSHOTS = os.path.join(ROOT, "build", "console-screenshots")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
TOKEN = "console-token-0123456789abcdef"
CSP = ("default-src 'self'; base-uri 'none'; form-action 'none'; object-src 'none'; "
       "frame-ancestors 'none'")


def console_files():
    """What console/ holds, as the URL paths heraldd serves them at (flat under /ui/)."""
    names = [n for n in os.listdir(CONSOLE) if n.endswith((".html", ".js", ".css"))]
    vendor = os.path.join(CONSOLE, "vendor")
    names += [n for n in os.listdir(vendor) if n.endswith((".js", ".css", ".txt"))]
    return sorted(names)


@backend_independent("the console's files come from the binary, not the database")
class ConsoleFilesTest(unittest.TestCase):
    def setUp(self):
        self.herald = Herald(token_lines=["ops:" + TOKEN])
        self.addCleanup(self.herald.cleanup)
        self.herald.start()

    def test_every_file_is_served_with_its_type_and_the_strict_headers(self):
        types = {".html": "text/html", ".js": "text/javascript", ".css": "text/css",
                 ".txt": "text/plain"}
        for name in console_files():
            with self.subTest(file=name):
                path = "/ui/" if name == "index.html" else "/ui/" + name
                # no token: the files hold no data (the pages ask for one)
                status, headers, text = self.herald.request("GET", path)
                self.assertEqual(status, 200)
                source = os.path.join(CONSOLE, name)
                if not os.path.exists(source):
                    source = os.path.join(CONSOLE, "vendor", name)
                with open(source, encoding="utf-8") as f:
                    expected = f.read()
                # as written (embed_assets ends a last line without one with a newline)
                self.assertIn(text, (expected, expected + "\n"))
                self.assertEqual(headers["content-type"].split(";")[0],
                                 types[os.path.splitext(name)[1]])
                self.assertEqual(headers["content-security-policy"], CSP)
                self.assertEqual(headers["x-content-type-options"], "nosniff")
                self.assertEqual(headers["x-frame-options"], "DENY")
        # The API's answers say their type is meant too.
        status, headers, _ = self.herald.request("GET", "/healthz")
        self.assertEqual(headers["x-content-type-options"], "nosniff")

    def test_every_file_a_page_names_is_served(self):
        """Each script, style sheet and module import in console/ points at a file heraldd
        serves: a page never asks for one it cannot have."""
        served = set(console_files())
        for name in served:
            path = os.path.join(CONSOLE, name)
            if not os.path.exists(path):
                continue  # vendored, names nothing
            with open(path, encoding="utf-8") as f:
                text = f.read()
            named = re.findall(r'(?:src|href)="([^"#:]+)"', text) + \
                re.findall(r'from "\./([^"]+)"', text)
            for target in named:
                with self.subTest(file=name, names=target):
                    self.assertIn(target, served)

    def test_ui_without_the_slash_is_redirected_and_unknown_files_are_404(self):
        status, headers, _ = self.herald.request("GET", "/ui")
        self.assertEqual((status, headers["location"]), (308, "/ui/"))
        status, _, body = self.herald.request("GET", "/ui/nope.js")
        self.assertEqual((status, body["error"]["code"]), (404, "not_found"))
        status, _, body = self.herald.request("GET", "/ui/../v1/overview")
        self.assertIn(status, (401, 404))
        status, headers, _ = self.herald.request(
            "POST", "/ui/app.js", headers={"Authorization": "Bearer " + TOKEN})
        self.assertEqual((status, headers["allow"]), (405, "GET, HEAD"))
        status, headers, _ = self.herald.request("HEAD", "/ui/app.js")
        self.assertEqual((status, headers["content-security-policy"]), (200, CSP))

    def test_console_false_turns_it_off_and_a_reload_applies_it(self):
        self.assertEqual(self.herald.request("GET", "/ui/")[0], 200)
        with open(self.herald.config_path, "a") as f:
            f.write("\n[server]\nconsole = false\n")
        mark = len(self.herald.lines)
        self.herald.process.send_signal(signal.SIGHUP)
        self.herald.wait_for_log(r"event=reloaded", start=mark)
        for path in ("/ui", "/ui/", "/ui/app.js"):
            status, _, body = self.herald.request("GET", path)
            self.assertEqual((status, body["error"]["code"]), (404, "not_found"))
            self.assertIn("console = false", body["error"]["message"])
        # the API it used is still there
        status, _, _ = self.herald.request("GET", "/v1/overview",
                                           headers={"Authorization": "Bearer " + TOKEN})
        self.assertEqual(status, 200)


@backend_independent("one browser session is enough; the API it drives is tested on both")
class ConsoleBrowserTest(unittest.TestCase):
    """The issue's scenario, in Debian's Chromium: token, a failed task in the manual
    queue, its attempts, a retry with an edited URL that succeeds, a bulk resolve of
    two after the dry run's count, a wrong token's message; screenshots in
    build/console-screenshots/."""

    def setUp(self):
        self.assertTrue(os.path.exists(CHROMIUM),
                        "Chromium is needed for the console test (make test-deps installs it)")
        self.assertTrue(os.path.isdir(os.path.join(JS, "node_modules", "puppeteer-core")),
                        "tests/js/node_modules is needed (make test-deps)")
        self.broken = Receiver(lambda r: (503, {}, b"order service is down"))
        self.healthy = Receiver()
        self.addCleanup(self.broken.close)
        self.addCleanup(self.healthy.close)
        self.herald = Herald(config="[retry]\nmax_retry = 2\nbase_delay = 50ms\njitter = 0\n",
                             token_lines=["ops:" + TOKEN])
        self.herald.token = TOKEN
        self.addCleanup(self.herald.cleanup)
        self.herald.start()

    def failed_task(self, business_id, **extra):
        extra.setdefault("payload", {"order": 12345678901234567890})
        status, _, body = self.herald.request("POST", "/v1/tasks", body=task_request(
            business_id, target_url=self.broken.url(), **extra),
            headers=self.herald.auth_headers())
        self.assertEqual(status, 201, body)
        return self.herald.wait_for_status(body["task"]["id"], "failed")["id"]

    def test_an_operator_repairs_failed_tasks_in_the_console(self):
        fix = self.failed_task("P2026112500001")
        # The head of an ordering key, failed: the key is blocked behind it.
        blocked = self.failed_task("P2026112500010", ordering_key="order-77")
        resolve = [self.failed_task("P2026112500002"), self.failed_task("P2026112500003")]
        # Issue 23, item 2: bytes a textarea or a trim would change, and a header name
        # a JavaScript object would swallow; retried untouched, nothing may change.
        untouched = self.failed_task("P2026112500009", payload="line1\r\nline2\rline3\n",
                                     headers={"X-Pad": "  padded  ", "__proto__": "kept"})
        first = [r for r in self.broken.received()
                 if r.headers.get("x-business-id") == "P2026112500009"]
        shutil.rmtree(SCREENSHOTS, ignore_errors=True)  # this run's only
        with tempfile.TemporaryDirectory(prefix="herald-chromium-") as profile:
            scenario = os.path.join(profile, "scenario.json")
            with open(scenario, "w") as f:
                json.dump({"url": self.herald.url(), "token": TOKEN,
                           "healthy_url": self.healthy.url(), "broken_url": self.broken.url(),
                           "fix_task": fix, "untouched_task": untouched,
                           "blocked_task": blocked,
                           "fix_trace_id": self.herald.get_task(fix)["trace"]["trace_id"],
                           "fix_business_id": "P2026112500001", "resolve_tasks": resolve,
                           "screenshots": SCREENSHOTS, "profile": os.path.join(profile, "p"),
                           "contract_dir": os.environ.get("HERALD_CONTRACT_DIR")}, f)
            run = subprocess.run(["node", os.path.join(JS, "console_test.mjs"), scenario],
                                 cwd=JS, capture_output=True, text=True, timeout=150)
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        # The untouched retry sent the very bytes and headers the task was created with,
        # and the audit trail says nothing was replaced.
        again = wait_until(lambda: [r for r in self.broken.received()
                                    if r.headers.get("x-business-id") == "P2026112500009"][
                                        len(first):] or None, message="the untouched retry")
        self.assertEqual(again[0].body, first[0].body)
        self.assertEqual(first[0].body, b"line1\r\nline2\rline3\n")  # a string: its bytes
        for name in ("x-pad", "__proto__"):
            self.assertEqual(again[0].headers.get(name), first[0].headers.get(name), name)
        self.assertEqual(first[0].headers.get("__proto__"), "kept")
        _, _, detail = self.herald.request("GET", "/v1/manual/%d" % untouched,
                                           headers=self.herald.auth_headers())
        changes = detail["actions"][0]["details"]
        self.assertFalse(changes.get("payload_replaced"), changes)
        self.assertNotIn("headers", changes, changes)
        # What the browser did, as heraldd and the receiver saw it.
        delivered = self.healthy.wait_for(1)
        self.assertEqual(delivered[0].body, b'{"order":12345678901234567890}')
        self.assertEqual(delivered[0].headers.get("x-fixed-by"), "console")
        self.assertEqual(self.herald.get_task(fix)["status"], "succeeded")
        _, _, detail = self.herald.request("GET", "/v1/manual/%d" % fix,
                                           headers=self.herald.auth_headers())
        self.assertEqual((detail["actions"][0]["actor"], detail["actions"][0]["note"],
                          detail["actions"][0]["details"]["target_url"]),
                         ("ops", "receiver moved", self.healthy.url()))
        # Then sent again from the page: the same bytes and webhook-id, attempt 4.
        self.assertEqual((detail["actions"][1]["action"], detail["actions"][1]["note"],
                          detail["actions"][1]["details"]),
                         ("redeliver", "lost by the receiver", {"schedule": "once", "max_retry": 1}))
        delivered = self.healthy.wait_for(2)
        self.assertEqual(delivered[1].body, delivered[0].body)
        self.assertEqual(delivered[1].headers["webhook-id"], delivered[0].headers["webhook-id"])
        self.assertEqual(delivered[1].headers["x-herald-attempt"], "4")
        for task_id in resolve:
            _, _, detail = self.herald.request("GET", "/v1/manual/%d" % task_id,
                                               headers=self.herald.auth_headers())
            self.assertEqual((detail["entries"][0]["resolution"], detail["entries"][0]["note"]),
                             ("resolved", "settled by hand"))
        # The receiver paused and resumed from the page, each with its actor.
        actions = self.herald.db.query("SELECT action, actor, note FROM receiver_actions"
                                       " ORDER BY id")
        self.assertEqual([tuple(a) for a in actions], [("pause", "ops", "their maintenance"),
                                                       ("resume", "ops", None)])
        # The redelivery job created from its page, with its actor and reason.
        self.assertEqual([tuple(j) for j in self.herald.db.query(
            "SELECT state, actor, reason, matched FROM redelivery_jobs")],
            [("done", "ops", "browser check", 0)])
        # The confirmed resolve carried its dry run's bound (the higher entry).
        bound = detail["entries"][0]["id"]
        self.herald.wait_for_log(r"event=manual_bulk_resolve .* dry_run=no .*through_id=%d "
                                 % bound)
        self.assertEqual(sorted(n for n in os.listdir(SCREENSHOTS) if n != "failure.png"),
                         ["01-token.png", "02-wrong-token.png", "03-overview.png",
                          "04-manual-queue.png", "05-task-failed.png", "05b-retry-refused.png",
                          "06-task-retried.png", "06b-task-redelivered.png",
                          "07-bulk-dry-run.png", "08-bulk-resolved.png", "09-find.png",
                          "10-receivers.png", "10b-receiver-paused.png",
                          "10c-redeliveries.png", "11-alerts.png",
                          "11b-policy.png", "12-phone-manual.png",
                          "13-phone-task.png"])
