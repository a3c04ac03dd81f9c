"""Delivery through the real heraldd to real receivers on loopback."""
import json
import re
import time
import unittest

from database import BACKEND
from harness import Herald, Receiver, closed_port_url, task_request, wait_until

FAST_RETRY = """[retry]
max_retry = 5
base_delay = 200ms
max_delay = 5s
jitter = 0
retry_interval = 30s
[business.QUICK]
max_retry = 10
base_delay = 20ms
exponential_backoff = false
"""


def manual_rows(herald, task_id):
    return herald.db.query("SELECT reason, attempts, state FROM manual WHERE task_id = ?", task_id)


class DeliveryTest(unittest.TestCase):
    config = FAST_RETRY

    def setUp(self):
        self.receivers = []
        self.herald = Herald(config=self.config)
        self.herald.start()

    def tearDown(self):
        try:
            if self.herald.process is not None:
                self.herald.stop()
        finally:
            self.herald.cleanup()
            for receiver in self.receivers:
                receiver.close()

    def receiver(self, respond=None):
        receiver = Receiver(respond)
        self.receivers.append(receiver)
        return receiver

    def create(self, **fields):
        status, _, body = self.herald.request("POST", "/v1/tasks", body=task_request(**fields))
        self.assertEqual(status, 201, body)
        return body["task"]

    def test_immediate_success_with_every_header(self):
        receiver = self.receiver()
        raw = ('{"business_id":"PAY-1","business_type":"PAYMENT_SUCCESS","target_url":"%s",'
               '"headers":{"X-Tenant":"shop-a"},'
               '"payload":{"order_id": 12345678901234567890, "amount": 10.10}}' % receiver.url())
        status, _, body = self.herald.request("POST", "/v1/tasks", raw=raw,
                                              headers={"Content-Type": "application/json"})
        self.assertEqual(status, 201)
        task = body["task"]
        request = receiver.wait_for(1)[0]
        self.assertEqual(request.body, b'{"order_id":12345678901234567890,"amount":10.10}')
        self.assertEqual(request.headers["content-type"], "application/json")
        self.assertTrue(request.headers["user-agent"].startswith("herald/"))
        self.assertEqual(request.headers["x-business-id"], "PAY-1")
        self.assertEqual(request.headers["x-business-type"], "PAYMENT_SUCCESS")
        self.assertEqual(request.headers["x-tenant"], "shop-a")
        self.assertEqual(request.headers["webhook-id"], task["webhook_id"])
        self.assertLess(abs(int(request.headers["webhook-timestamp"]) - time.time()), 60)
        self.assertEqual(request.headers["x-herald-attempt"], "1")
        done = self.herald.wait_for_status(task["id"], "succeeded")
        self.assertEqual(done["attempts"], 1)
        self.assertEqual(done["last_status_code"], 200)
        attempts = self.herald.attempts(task["id"])
        self.assertEqual(len(attempts), 1)
        self.assertEqual(attempts[0]["status_code"], 200)
        self.assertIsNone(attempts[0]["error_class"])
        self.assertEqual(attempts[0]["response_body"], "ok")

    def test_string_payload_is_sent_byte_for_byte(self):
        receiver = self.receiver()
        self.create(business_id="RAW-1", target_url=receiver.url(), payload="a=1&b=\u4e2d",
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
        request = receiver.wait_for(1)[0]
        self.assertEqual(request.body, "a=1&b=\u4e2d".encode())
        self.assertEqual(request.headers["content-type"], "application/x-www-form-urlencoded")

    def test_first_attempt_is_event_driven(self):
        # retry_interval is 30 s: only the wake-up from intake can make this fast.
        receiver = self.receiver()
        started = time.monotonic()
        self.create(business_id="FAST-1", target_url=receiver.url())
        request = receiver.wait_for(1, timeout=5)[0]
        self.assertLess(request.time - started, 2.0)

    def test_success_after_failures_follows_the_policy(self):
        def respond(received):
            attempt = int(received.headers["x-herald-attempt"])
            return (500, {}, b"busy") if attempt < 3 else (200, {}, b"ok")
        receiver = self.receiver(respond)
        task = self.create(business_id="RETRY-1", target_url=receiver.url())
        requests = receiver.wait_for(3)
        self.herald.wait_for_status(task["id"], "succeeded")
        self.assertEqual([r.headers["x-herald-attempt"] for r in requests], ["1", "2", "3"])
        self.assertEqual(len({r.headers["webhook-id"] for r in requests}), 1)
        first_gap = requests[1].time - requests[0].time
        second_gap = requests[2].time - requests[1].time
        # base_delay 200ms doubling, no jitter: 200ms then 400ms (plus scheduling slack).
        self.assertGreaterEqual(first_gap, 0.19)
        self.assertLess(first_gap, 0.19 + 1.0)
        self.assertGreaterEqual(second_gap, 0.39)
        self.assertLess(second_gap, 0.39 + 1.0)
        attempts = self.herald.attempts(task["id"])
        self.assertEqual([a["status_code"] for a in attempts], [500, 500, 200])
        self.assertEqual([a["error_class"] for a in attempts], ["http_status", "http_status", None])
        self.assertEqual(attempts[0]["response_body"], "busy")

    def test_exhaustion_moves_to_manual_once(self):
        receiver = self.receiver(lambda r: (503, {}, b"down"))
        task = self.create(business_id="EXHAUST-1", target_url=receiver.url(), max_retry=3)
        failed = self.herald.wait_for_status(task["id"], "failed")
        self.assertEqual(failed["attempts"], 3)
        self.assertEqual(failed["last_status_code"], 503)
        self.assertIn("http_status", failed["last_error"])
        self.assertEqual(len(receiver.received()), 3)
        self.assertEqual(manual_rows(self.herald, task["id"]), [("exhausted", 3, "open")])
        self.herald.wait_for_log(r"event=moved_to_manual task_id=%d business_type=PAYMENT_SUCCESS"
                                 r" business_id=\"EXHAUST-1\"" % task["id"])

    def test_gone_goes_to_manual_at_once(self):
        receiver = self.receiver(lambda r: (410, {}, b""))
        task = self.create(business_id="GONE-1", target_url=receiver.url())
        failed = self.herald.wait_for_status(task["id"], "failed")
        self.assertEqual(failed["attempts"], 1)
        self.assertEqual(manual_rows(self.herald, task["id"]), [("gone", 1, "open")])

    def test_retry_after_delays_the_next_attempt(self):
        def respond(received):
            if received.headers["x-herald-attempt"] == "1":
                return (429, {"Retry-After": "2"}, b"slow down")
            return (200, {}, b"ok")
        receiver = self.receiver(respond)
        task = self.create(business_id="RA-1", target_url=receiver.url())
        requests = receiver.wait_for(2, timeout=20)
        self.assertGreaterEqual(requests[1].time - requests[0].time, 1.95)
        self.herald.wait_for_status(task["id"], "succeeded")

    def test_redirect_is_not_followed(self):
        target = self.receiver()
        redirecting = self.receiver(lambda r: (302, {"Location": target.url("/elsewhere")}, b""))
        task = self.create(business_id="REDIR-1", target_url=redirecting.url(), max_retry=1)
        self.herald.wait_for_status(task["id"], "failed")
        self.assertEqual(self.herald.attempts(task["id"])[0]["error_class"], "redirect")
        self.assertEqual(target.received(), [])

    def test_connection_refused(self):
        task = self.create(business_id="REFUSED-1", target_url=closed_port_url(), max_retry=1)
        self.herald.wait_for_status(task["id"], "failed")
        attempt = self.herald.attempts(task["id"])[0]
        self.assertEqual(attempt["error_class"], "connect")
        self.assertIsNone(attempt["status_code"])

    def test_rapid_retries_keep_to_the_policy(self):
        # Ten attempts 20 ms apart over one keep-alive connection. Answers that
        # arrive within the curl_multi_perform that sent the request must be
        # read before the scheduler sleeps, or a retry waits retry_interval
        # (30 s); the retry tests above catch that in most runs.
        receiver = self.receiver(lambda r: (500, {}, b"no"))
        started = time.monotonic()
        task = self.create(business_id="QUICK-1", business_type="QUICK",
                           target_url=receiver.url())
        self.herald.wait_for_status(task["id"], "failed", timeout=20)
        self.assertLess(time.monotonic() - started, 5.0)
        self.assertEqual(len(receiver.received()), 10)

    def test_large_response_is_cut_to_the_limit(self):
        chunk = b"x" * 65536
        receiver = self.receiver(lambda r: (200, {"Content-Length": str(len(chunk) * 160)},
                                            (chunk for _ in range(160))))
        task = self.create(business_id="BIG-1", target_url=receiver.url())
        self.herald.wait_for_status(task["id"], "succeeded")
        attempt = self.herald.attempts(task["id"])[0]
        self.assertEqual(len(attempt["response_body"]), 4096)
        self.assertTrue(attempt["response_truncated"])

    def test_attempts_of_unknown_task(self):
        status, _, body = self.herald.request("GET", "/v1/tasks/999999/attempts")
        self.assertEqual(status, 404)

    def test_heraldctl_shows_attempts(self):
        receiver = self.receiver(lambda r: (500, {}, b"nope") if r.headers["x-herald-attempt"] == "1"
                                 else (200, {}, b"fine"))
        task = self.create(business_id="CTL-ATT", target_url=receiver.url())
        self.herald.wait_for_status(task["id"], "succeeded")
        code, out, err = self.herald.ctl("tasks", "attempts", str(task["id"]))
        self.assertEqual(code, 0, err)
        lines = out.strip().splitlines()
        self.assertTrue(lines[0].startswith("ATTEMPT"))
        self.assertRegex(lines[1], r"^1 .* 500 .*http_status: HTTP 500 .*nope")
        self.assertRegex(lines[2], r"^2 .* 200 .*fine")
        code, out, _ = self.herald.ctl("--json", "tasks", "attempts", str(task["id"]))
        self.assertEqual(len(json.loads(out)["attempts"]), 2)


class SuccessBodyTest(DeliveryTest):
    config = FAST_RETRY + "[business.PAYMENT_SUCCESS]\nsuccess_body = SUCCESS\nmax_retry = 2\n"

    def test_matching_body_succeeds(self):
        receiver = self.receiver(lambda r: (200, {}, b"  SUCCESS\r\n"))
        task = self.create(business_id="SB-1", target_url=receiver.url())
        self.herald.wait_for_status(task["id"], "succeeded")

    def test_other_body_is_a_failure(self):
        receiver = self.receiver(lambda r: (200, {}, b"<html>error page</html>"))
        task = self.create(business_id="SB-2", target_url=receiver.url())
        failed = self.herald.wait_for_status(task["id"], "failed")
        self.assertEqual(failed["attempts"], 2)
        attempts = self.herald.attempts(task["id"])
        self.assertEqual({a["error_class"] for a in attempts}, {"body_mismatch"})
        self.assertEqual(manual_rows(self.herald, task["id"]), [("exhausted", 2, "open")])

    # The inherited tests run with this policy too; the receiver answers "ok",
    # which is now a failure, so they are not repeated here.
    test_immediate_success_with_every_header = None
    test_string_payload_is_sent_byte_for_byte = None
    test_first_attempt_is_event_driven = None
    test_success_after_failures_follows_the_policy = None
    test_exhaustion_moves_to_manual_once = None
    test_gone_goes_to_manual_at_once = None
    test_retry_after_delays_the_next_attempt = None
    test_redirect_is_not_followed = None
    test_connection_refused = None
    test_rapid_retries_keep_to_the_policy = None
    test_large_response_is_cut_to_the_limit = None
    test_attempts_of_unknown_task = None
    test_heraldctl_shows_attempts = None


class IsolationTest(unittest.TestCase):
    """A receiver that never answers holds only its own slots."""

    def test_hanging_receiver_does_not_slow_the_others(self):
        hanging = Receiver(lambda r: "hang")
        healthy = Receiver()
        herald = Herald(config="[delivery]\ntimeout = 3s\nconnect_timeout = 1s\n"
                               "per_host_concurrency = 4\nconcurrency = 16\n" + FAST_RETRY)
        try:
            herald.start()
            hung_tasks = []
            for i in range(20):
                status, _, body = herald.request("POST", "/v1/tasks", body=task_request(
                    "HANG-%d" % i, target_url=hanging.url()))
                hung_tasks.append(body["task"]["id"])
            hanging.wait_for(4)  # its per-host slots are full and stay full
            started = time.monotonic()
            for i in range(60):
                herald.request("POST", "/v1/tasks", body=task_request(
                    "OK-%d" % i, target_url=healthy.url()))
            healthy.wait_for(60, timeout=10)
            elapsed = time.monotonic() - started
            # All healthy deliveries happened while the hanging ones were still stuck.
            self.assertLess(elapsed, 3.0)
            self.assertEqual(len(hanging.received()), 4)
            self.assertEqual({herald.get_task(t)["attempts"] for t in hung_tasks[:4]}, {1})
            # And the hanging ones end at the timeout, as failures to retry.
            wait_until(lambda: herald.attempts(hung_tasks[0]), timeout=10,
                       message="the hung attempt to time out")
            self.assertEqual(herald.attempts(hung_tasks[0])[0]["error_class"], "timeout")
            herald.stop()
        finally:
            herald.cleanup()
            hanging.close()
            healthy.close()


class DripTest(unittest.TestCase):
    def test_dripping_response_ends_at_the_timeout(self):
        def drip(received):
            def body():
                for _ in range(30):  # one byte a second, far longer than the timeout
                    yield b"x"
                    time.sleep(1)
            return (200, {"Content-Length": "30"}, body())
        dripping = Receiver(drip)
        healthy = Receiver()
        herald = Herald(config=FAST_RETRY + "[delivery]\ntimeout = 2s\nconnect_timeout = 1s\n")
        try:
            herald.start()
            status, _, body = herald.request("POST", "/v1/tasks", body=task_request(
                "DRIP-1", target_url=dripping.url(), max_retry=1))
            task_id = body["task"]["id"]
            dripping.wait_for(1)
            for i in range(10):  # others are served while it drips
                herald.request("POST", "/v1/tasks", body=task_request("OK-%d" % i,
                                                                      target_url=healthy.url()))
            healthy.wait_for(10, timeout=5)
            failed = herald.wait_for_status(task_id, "failed", timeout=10)
            attempt = herald.attempts(failed["id"])[0]
            self.assertEqual(attempt["error_class"], "timeout")
            self.assertLess(attempt["duration_ms"], 3500)
            herald.stop()
        finally:
            herald.cleanup()
            dripping.close()
            healthy.close()


class CrashTest(unittest.TestCase):
    def test_kill_9_with_requests_in_flight(self):
        """The attempts cut off are logged as interrupted and made again: at the next
        start (SQLite: this heraldd had the database to itself), or when their leases
        end (PostgreSQL: they might have been another heraldd's)."""
        shared = BACKEND == "postgresql"
        state = {"hang": True}
        receiver = Receiver(lambda r: "hang" if state["hang"] else (200, {}, b"ok"))
        # A 1 s request timeout makes a 12 s lease.
        herald = Herald(config=FAST_RETRY + ("\n[delivery]\ntimeout = 1s\nconnect_timeout = 1s\n"
                                             "lease_sweep_interval = 200ms\n" if shared else ""))
        try:
            herald.start()
            ids = [herald.request("POST", "/v1/tasks", body=task_request(
                "CRASH-%d" % i, target_url=receiver.url()))[2]["task"]["id"] for i in range(5)]
            receiver.wait_for(5)  # all five in flight, none answered
            herald.kill()
            state["hang"] = False
            herald.start()
            for task_id in ids:
                done = herald.wait_for_status(task_id, "succeeded", timeout=30)
                attempts = herald.attempts(task_id)
                self.assertEqual([a["error_class"] for a in attempts], ["interrupted", None])
                self.assertEqual(done["attempts"], 2)
            # PostgreSQL: each claim's lease ends by the server's clock when it ran,
            # so the five may be swept in more than one pass.
            event = "leases_expired" if shared else "recovered_interrupted"
            wait_until(lambda: sum(int(n) for n in re.findall(r"event=%s tasks=(\d+)" % event,
                                                              herald.log())) == 5 or None,
                       timeout=10, message="five tasks rescued")
            stuck = herald.db.value("SELECT count(*) FROM tasks WHERE status = 'delivering'")
            self.assertEqual(stuck, 0)
            herald.stop()
        finally:
            herald.cleanup()
            receiver.close()

    @unittest.skipIf(BACKEND == "postgresql", "each rescue waits out a lease there; the store "
                     "contract test runs PostgreSQL's rescue statement")
    def test_a_task_whose_every_attempt_is_cut_off_ends_in_manual_handling(self):
        """A rescue counts as an attempt. A task whose every attempt is cut off (its
        request crashes or hangs whatever heraldd sends it) spends its budget on
        rescues and ends in manual handling with reason 'interrupted', after exactly
        its budget of requests (three cut off in a row), instead of being rescued
        forever."""
        budget = 3
        receiver = Receiver(lambda r: "hang")  # cut off by the kill, never answered
        herald = Herald(config="[delivery]\ntimeout = 3s\nconnect_timeout = 1s\n")
        try:
            herald.start()
            status, _, body = herald.request("POST", "/v1/tasks", body=task_request(
                "CUT-OFF", target_url=receiver.url(), max_retry=budget))
            self.assertEqual(status, 201, body)
            task_id = body["task"]["id"]
            for attempt in range(1, budget + 1):
                receiver.wait_for(attempt, timeout=30)
                herald.kill()  # well before the request's own 3 s timeout
                herald.start()
            herald.wait_for_log(r"event=recovered_interrupted tasks=1 moved_to_manual=1",
                                timeout=30)
            task = herald.get_task(task_id)
            self.assertEqual((task["status"], task["attempts"]), ("failed", budget))
            status, _, entries = herald.request("GET", "/v1/manual?state=open")
            self.assertEqual(status, 200, entries)
            mine = [e for e in entries["entries"] if e["task_id"] == task_id]
            self.assertEqual([(e["reason"], e["attempts"]) for e in mine],
                             [("interrupted", budget)])
            attempts = herald.attempts(task_id)
            self.assertEqual([(a["attempt"], a["error_class"]) for a in attempts],
                             [(n, "interrupted") for n in range(1, budget + 1)])
            self.assertEqual(len(receiver.received()), budget)
            herald.stop()
        finally:
            herald.cleanup()
            receiver.close()

if __name__ == "__main__":
    unittest.main()
