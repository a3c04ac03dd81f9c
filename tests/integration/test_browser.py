"""No web page can drive herald (issue 23, item 1): requests a page on another site can
send without a preflight change nothing, and herald answers only under its own names,
so a DNS-rebinding page reads nothing. BrowserGuardTest walks the class header by
header over HTTP; BrowserAttackTest is the attacker's page itself, in Debian's Chromium
(tests/js/browser_attack_test.mjs), served from another origin."""
import http.server
import json
import os
import signal
import socket
import subprocess
import tempfile
import threading
import unittest
import urllib.parse

from harness import Herald, Receiver, backend_independent, task_request

HERE = os.path.dirname(os.path.abspath(__file__))
JS = os.path.join(os.path.dirname(HERE), "js")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
TOKEN = "browser-token-0123456789abcdef"

# What a page on another site may send, and what herald must refuse.
FOREIGN_HOSTS = ["attacker.example", "attacker.example:%(port)d", "127.0.0.1.nip.io:%(port)d",
                 "evil.localhost:%(port)d", "[fe80::1%%25lo]:%(port)d", "127.0.0.1:%(port)d:1",
                 "herald.example.evil:%(port)d"]
OWN_HOSTS = ["127.0.0.1:%(port)d", "127.0.0.1", "localhost:%(port)d", "LocalHost.:%(port)d",
             "[::1]:%(port)d", "10.0.0.7"]
FOREIGN_ORIGINS = ["http://evil.example", "http://127.0.0.1:1", "http://localhost:%(port)d",
                   "https://127.0.0.1:%(port)d", "https://127.0.0.1",
                   "null", "http://127.0.0.1:%(port)d.evil.example", "file://",
                   "http://herald.example.evil"]


def manual_state(herald, task_id):
    """What a refused request must leave as it was: the task, its entries, the trail."""
    status, _, body = herald.request("GET", "/v1/manual/%d" % task_id,
                                     headers=herald.auth_headers())
    assert status == 200, (status, body)
    return (body["task"]["status"], body["task"]["attempts"],
            [(e["id"], e["resolution"]) for e in body["entries"]], body["actions"])


def failed_task(herald, receiver, business_id):
    status, _, body = herald.request("POST", "/v1/tasks", body=task_request(
        business_id, target_url=receiver.url(), max_retry=1), headers=herald.auth_headers())
    assert status == 201, (status, body)
    return herald.wait_for_status(body["task"]["id"], "failed")["id"]


class Pages:
    """Base: a heraldd whose receiver always fails, and a task in manual handling."""
    token_lines = None
    config = ""

    def setUp(self):
        self.broken = Receiver(lambda r: (503, {}, b"down"))
        self.addCleanup(self.broken.close)
        self.herald = Herald(config="[retry]\nbase_delay = 10ms\njitter = 0\n" + self.config,
                             token_lines=self.token_lines)
        if self.token_lines:
            self.herald.token = TOKEN
        self.addCleanup(self.herald.cleanup)
        self.herald.start()
        self.fields = {"port": self.herald.port}

    def write_routes(self, task_id):
        """Every kind of write a page could aim at: (method, path, body)."""
        note = {"note": "by a web page"}
        return [("POST", "/v1/manual/%d/retry" % task_id, None),
                ("POST", "/v1/manual/%d/resolve" % task_id, note),
                ("POST", "/v1/manual/retry", {"task_ids": [task_id]}),
                ("POST", "/v1/manual/resolve", {"task_ids": [task_id], "note": "x"}),
                ("POST", "/v1/tasks/%d/redeliver" % task_id, {"reason": "by a web page"}),
                ("POST", "/v1/receivers/%s/pause" % urllib.parse.quote(self.broken.url(""), safe=""),
                 None),
                ("POST", "/v1/tasks", task_request("PAGE-1", target_url=self.broken.url())),
                ("POST", "/v1/tasks/batch", {"tasks": [task_request(
                    "PAGE-2", target_url=self.broken.url())]}),
                ("POST", "/v1/redeliveries", {"filter": {}, "reason": "by a web page"})]

    def send(self, method, path, body, headers):
        headers = dict(self.herald.auth_headers(), **headers)
        if body is None:
            return self.herald.request(method, path, headers=headers)
        # as a page would send it: a type a form may use, or JSON (which needs a
        # preflight, but a proxy or an old browser might pass it on)
        return self.herald.request(method, path, body=body, headers=headers)


@backend_independent("the checks come before any statement; what they protect is tested on both")
class BrowserGuardTest(Pages, unittest.TestCase):
    def test_a_host_that_is_not_heralds_is_refused_on_every_route(self):
        task_id = failed_task(self.herald, self.broken, "P-HOST")
        before = manual_state(self.herald, task_id)
        paths = ["/v1/tasks", "/v1/tasks/%d" % task_id, "/v1/manual/%d" % task_id,
                 "/v1/overview", "/v1/policies", "/healthz", "/ui/", "/v1/openapi.yaml"]
        for host in FOREIGN_HOSTS:
            host = host % self.fields
            for path in paths:
                with self.subTest(host=host, path=path):
                    status, headers, body = self.herald.request("GET", path,
                                                                headers={"Host": host})
                    self.assertEqual((status, body["error"]["code"], body["error"]["field"]),
                                     (421, "misdirected_request", "Host"))
                    self.assertNotIn("P-HOST", json.dumps(body))
            for method, path, body in self.write_routes(task_id):
                with self.subTest(host=host, path=path):
                    status, _, answer = self.send(method, path, body, {"Host": host})
                    self.assertEqual(status, 421, answer)
        for host in OWN_HOSTS:
            with self.subTest(host=host):
                status, _, _ = self.herald.request("GET", "/v1/tasks",
                                                   headers={"Host": host % self.fields})
                self.assertEqual(status, 200)
        self.assertEqual(manual_state(self.herald, task_id), before)

    def test_writes_from_another_sites_page_change_nothing(self):
        task_id = failed_task(self.herald, self.broken, "P-WRITE")
        before = manual_state(self.herald, task_id)
        own = "http://127.0.0.1:%(port)d" % self.fields
        refusals = [({"Origin": o % self.fields}, "Origin") for o in FOREIGN_ORIGINS]
        refusals += [({"Sec-Fetch-Site": site, "Origin": own}, "Sec-Fetch-Site")
                     for site in ("cross-site", "same-site")]
        refusals += [({"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"},
                      "Sec-Fetch-Site")]
        for headers, evidence in refusals:
            for method, path, body in self.write_routes(task_id):
                with self.subTest(headers=headers, path=path):
                    status, _, answer = self.send(method, path, body, headers)
                    self.assertEqual((status, answer["error"]["code"],
                                      answer["error"]["field"]),
                                     (403, "cross_site_request", evidence))
        self.assertEqual(manual_state(self.herald, task_id), before)
        self.assertEqual(self.herald.db.value("SELECT count(*) FROM receivers"), 0)
        self.assertEqual(self.herald.db.value("SELECT count(*) FROM redelivery_jobs"), 0)
        status, _, listing = self.herald.request("GET", "/v1/tasks?business_id=PAGE-1")
        self.assertEqual((status, listing["tasks"]), (200, []))
        # herald's own pages, and clients that are not browsers, still write
        for headers in ({"Origin": own, "Sec-Fetch-Site": "same-origin"}, {"Origin": own}, {}):
            with self.subTest(allowed=headers):
                status, _, answer = self.send("POST", "/v1/tasks", task_request(
                    "OWN-%d" % len(headers), target_url=self.broken.url()), headers)
                self.assertEqual(status, 201, answer)
        status, _, answer = self.send("POST", "/v1/manual/%d/retry" % task_id, None,
                                      {"Origin": own, "Sec-Fetch-Site": "same-origin"})
        self.assertEqual(status, 200, answer)

    def test_reads_by_another_sites_page_are_refused_but_links_open(self):
        task_id = failed_task(self.herald, self.broken, "P-READ")
        for mode in ("no-cors", "cors"):
            for path in ("/v1/tasks", "/v1/manual/%d" % task_id, "/v1/tasks/%d" % task_id):
                with self.subTest(mode=mode, path=path):
                    status, _, body = self.herald.request(
                        "GET", path, headers={"Sec-Fetch-Site": "cross-site",
                                              "Sec-Fetch-Mode": mode})
                    self.assertEqual((status, body["error"]["field"]), (403, "Sec-Fetch-Site"))
                    self.assertNotIn("P-READ", json.dumps(body))
        # a frame of another site's page is not a link the operator followed
        for dest in ("iframe", "frame", "embed", "object"):
            status, _, body = self.herald.request("GET", "/v1/tasks", headers={
                "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate",
                "Sec-Fetch-Dest": dest})
            self.assertEqual((status, body["error"]["field"]), (403, "Sec-Fetch-Site"), dest)
        # a link followed from another site shows the operator the answer; the health
        # checks and the console's files hold no data
        status, _, _ = self.herald.request("GET", "/v1/tasks/%d" % task_id, headers={
            "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"})
        self.assertEqual(status, 200)
        for path in ("/healthz", "/ui/app.js"):
            status, _, _ = self.herald.request("GET", path, headers={
                "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"})
            self.assertEqual(status, 200, path)

    def raw(self, request):
        with socket.create_connection(("127.0.0.1", self.herald.port), 10) as s:
            s.sendall(request)
            answer = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return answer
                answer += chunk

    def test_host_is_required_in_http_1_1_and_its_trailing_whitespace_is_not_part_of_it(self):
        answer = self.raw(b"GET /v1/tasks HTTP/1.1\r\nConnection: close\r\n\r\n")
        self.assertTrue(answer.startswith(b"HTTP/1.1 400 "), answer[:200])
        self.assertEqual(json.loads(answer.split(b"\r\n\r\n", 1)[1])["error"]["field"], "Host")
        answer = self.raw(b"GET /v1/tasks HTTP/1.0\r\n\r\n")  # HTTP/1.0 may leave it out
        self.assertTrue(answer.startswith(b"HTTP/1.0 200 ") or answer.startswith(b"HTTP/1.1 200 "),
                        answer[:200])
        own = "http://127.0.0.1:%(port)d" % self.fields
        for host, origin in ((b"127.0.0.1 ", None), (b"127.0.0.1:%d\t" % self.herald.port, own)):
            body = json.dumps(task_request("OWS-%d" % len(host), target_url=self.broken.url()))
            head = b"POST /v1/tasks HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n" \
                   b"Content-Length: %d \r\nConnection: close\r\n" % (host, len(body))
            if origin:
                head += b"Origin: %s \r\n" % origin.encode()
            answer = self.raw(head + b"\r\n" + body.encode())
            self.assertTrue(answer.startswith(b"HTTP/1.1 201 "), answer[:300])

    def test_a_header_the_guard_reads_given_twice_is_refused(self):
        for name, value in (("Origin", "http://127.0.0.1:%(port)d" % self.fields),
                            ("Sec-Fetch-Site", "same-origin"), ("Sec-Fetch-Dest", "document"),
                            ("Host", "127.0.0.1")):
            with self.subTest(header=name):
                raw = ("GET /v1/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\n%s: %s\r\n%s: %s\r\n"
                       "Connection: close\r\n\r\n" % (name, value, name, value))
                if name == "Host":
                    raw = raw.replace("Host: 127.0.0.1\r\n", "", 1)
                answer = self.raw(raw.encode())
                self.assertTrue(answer.startswith(b"HTTP/1.1 400 "), answer[:200])
                self.assertIn(name.encode(), answer)


@backend_independent("header checks; the data they guard is tested on both backends")
class BrowserGuardWithTokensTest(Pages, unittest.TestCase):
    token_lines = ["ops:" + TOKEN]

    def test_with_tokens_names_are_served_until_allowed_hosts_lists_them(self):
        # A rebinding page has no token; services that reach herald by a name of their
        # own keep working without configuration.
        status, _, _ = self.herald.request("GET", "/v1/tasks", headers=dict(
            self.herald.auth_headers(), Host="herald.internal:%(port)d" % self.fields))
        self.assertEqual(status, 200)
        # cross-site writes are refused even with a token
        task_id = failed_task(self.herald, self.broken, "P-TOK")
        before = manual_state(self.herald, task_id)
        status, _, body = self.send("POST", "/v1/manual/%d/retry" % task_id, None,
                                    {"Origin": "http://evil.example"})
        self.assertEqual((status, body["error"]["code"]), (403, "cross_site_request"))
        self.assertEqual(manual_state(self.herald, task_id), before)
        # once named, only the names (and addresses, and localhost) are served; a reload
        # applies it, and a page under a listed name behind a proxy is herald's own
        with open(self.herald.config_path, "a") as f:
            f.write("\n[server]\nallowed_hosts = herald.internal, console.example.org\n")
        mark = len(self.herald.lines)
        self.herald.process.send_signal(signal.SIGHUP)
        self.herald.wait_for_log(r"event=reloaded", start=mark)
        for host, expected in (("herald.internal:%(port)d", 200), ("HERALD.internal.", 200),
                               ("other.internal:%(port)d", 421), ("127.0.0.1", 200),
                               ("localhost", 200)):
            with self.subTest(host=host):
                status, _, _ = self.herald.request("GET", "/v1/tasks", headers=dict(
                    self.herald.auth_headers(), Host=host % self.fields))
                self.assertEqual(status, expected)
        status, _, body = self.send("POST", "/v1/manual/%d/retry" % task_id, None, {
            "Origin": "https://console.example.org", "Host": "127.0.0.1:%(port)d" % self.fields})
        self.assertEqual(status, 200, body)

    def test_a_malformed_allowed_hosts_is_refused_with_its_line(self):
        with open(self.herald.config_path, "a") as f:
            f.write("\n[server]\nallowed_hosts = https://herald.example.com\n")
        run = subprocess.run([self.herald.binary, "-c", self.herald.config_path,
                              "--check-config"], capture_output=True, text=True, timeout=30)
        self.assertNotEqual(run.returncode, 0)
        self.assertIn("allowed_hosts", run.stderr)
        self.assertIn("without scheme or port", run.stderr)


class AttackerSite:
    """The attacker's web server: one page, on a loopback port of its own (so on
    another origin than herald's)."""

    PAGE = b"<!doctype html><title>totally harmless</title><p>Nothing to see here.</p>"

    def __init__(self):
        page = self.PAGE

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@backend_independent("one browser is enough; the refusals are checked over HTTP on both")
class BrowserAttackTest(Pages, unittest.TestCase):
    """An operator with herald open on loopback (no token, the README's tour) visits the
    attacker's page. Herald is reached as http://127.0.0.1:PORT (a secure context:
    Chromium sends Sec-Fetch-Site) and as http://herald.test:PORT, a name listed in
    allowed_hosts (not a secure context: Origin only). The page tries every write a
    page can send without a preflight (fetch no-cors, forms of each type, beacons),
    reads with CORS and by script tag, and then rebinds its own name to herald."""
    config = "[server]\nallowed_hosts = herald.test\n"

    def test_the_attackers_page_changes_and_reads_nothing(self):
        self.assertTrue(os.path.exists(CHROMIUM), "Chromium is needed (make test-deps)")
        task_id = failed_task(self.herald, self.broken, "P-SECRET-1")
        before = manual_state(self.herald, task_id)
        attacker = AttackerSite()
        self.addCleanup(attacker.close)
        with tempfile.TemporaryDirectory(prefix="herald-chromium-") as profile:
            scenario = os.path.join(profile, "scenario.json")
            with open(scenario, "w") as f:
                json.dump({"herald_port": self.herald.port, "attacker_port": attacker.port,
                           "task_id": task_id, "secret": "P-SECRET-1",
                           "receiver_url": self.broken.url(),
                           "profile": os.path.join(profile, "p")}, f)
            run = subprocess.run(["node", os.path.join(JS, "browser_attack_test.mjs"),
                                  scenario], cwd=JS, capture_output=True, text=True,
                                 timeout=120)
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        # What the browser did, as heraldd saw it: nothing changed, nothing created.
        self.assertEqual(manual_state(self.herald, task_id), before)
        status, _, listing = self.herald.request("GET", "/v1/tasks?limit=100")
        self.assertEqual(status, 200)
        self.assertEqual([t["business_id"] for t in listing["tasks"]], ["P-SECRET-1"])
        # the browser reached herald with each attack (so each refusal was herald's)
        self.assertIn("refused:", run.stdout)
