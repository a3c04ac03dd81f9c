"""A 429 or 503 with Retry-After holds the receiver, not only the task that got it: no
request to that scheme://host:port starts before the time it asked for (capped at the
policy's max_delay), tasks that fall due meanwhile wait without spending an attempt,
other receivers are not held, and the hold shows in GET /v1/receivers, /metrics,
heraldctl receivers and the log. Both backends."""
import http.client
import threading
import time
import unittest

from harness import Herald, Receiver, task_request, wait_until

CONFIG = """[retry]
max_retry = 5
base_delay = 100ms
jitter = 0
"""
# A type that may wait an hour beside the default's one second.
CAPPED = """[retry]
max_retry = 5
base_delay = 100ms
max_delay = 1s
jitter = 0
[business.REPORT]
max_retry = 5
base_delay = 100ms
max_delay = 1h
jitter = 0
"""


class ReceiverHoldTest(unittest.TestCase):
    def setUp(self):
        self.start(CONFIG)

    def start(self, config):
        self.herald = Herald(config=config)
        self.addCleanup(self.herald.cleanup)
        self.herald.start()
        self.addCleanup(self.herald.stop)

    def receiver(self, respond=None):
        receiver = Receiver(respond)
        self.addCleanup(receiver.close)
        return receiver

    def post(self, business_id, receiver, **extra):
        code, _, body = self.herald.request("POST", "/v1/tasks", body=task_request(
            business_id, target_url=receiver.url(), **extra))
        self.assertEqual(code, 201, body)
        return body["task"]["id"]

    def test_retry_after_holds_the_whole_receiver(self):
        answered = threading.Event()

        def respond(received):
            if received.headers["x-business-id"] == "HOLD-0" and not answered.is_set():
                answered.set()
                return (429, {"Retry-After": "3"}, b"slow down")
            return (200, {}, b"ok")
        held = self.receiver(respond)
        other = self.receiver()
        self.post("HOLD-0", held)
        first = held.wait_for(1)[0]
        self.herald.wait_for_log(r"event=receiver_held receiver=%s status=429 seconds=3\.0"
                                 % held.url("").rstrip("/").replace(".", r"\."))
        # Tasks for the held receiver accepted now wait; another receiver's do not.
        waiting = [self.post("HOLD-%d" % i, held) for i in range(1, 6)]
        self.post("FREE-1", other)
        free = other.wait_for(1, timeout=10)[0]
        self.assertLess(free.time - first.time, 3.0, "the other receiver was held too")
        # The hold shows while it lasts (the snapshot is a second old at most).
        row = wait_until(lambda: next((r for r in self.herald.request("GET", "/v1/receivers")[2]
                                       ["receivers"] if r["receiver"] == held.url("") and
                                       r["held_until"]), None), timeout=5,
                         message="held_until in GET /v1/receivers")
        self.assertIsNotNone(row["held_until"])
        connection = http.client.HTTPConnection("127.0.0.1", self.herald.port, timeout=10)
        connection.request("GET", "/metrics")
        metrics = connection.getresponse().read().decode()
        connection.close()
        self.assertIn('herald_receiver_held_seconds{receiver="%s"}' % held.url(""), metrics)
        code, out, err = self.herald.ctl("receivers", env={"COLUMNS": "250"})
        self.assertEqual(code, 0, err)
        self.assertIn("HELD_UNTIL", out)
        # Nothing reached the held receiver before the time it asked for.
        requests = held.wait_for(7, timeout=20)  # HOLD-0 twice, HOLD-1..5 once
        for request in requests[1:]:
            self.assertGreaterEqual(request.time - first.time, 2.95,
                                    request.headers["x-business-id"])
        # The tasks that waited spent no attempt on it.
        for task_id in waiting:
            task = self.herald.wait_for_status(task_id, "succeeded")
            self.assertEqual(task["attempts"], 1)
        # And once it ended, nothing holds it any more.
        wait_until(lambda: all(not r["held_until"] for r in self.herald.request(
            "GET", "/v1/receivers")[2]["receivers"]), timeout=5, message="the hold to end")

    def first_answer_then_ok(self, status, body):
        """A receiver whose first answer is STATUS with Retry-After: 600, then 200."""
        answered = threading.Event()

        def respond(received):
            if not answered.is_set():
                answered.set()
                return (status, {"Retry-After": "600"}, body)
            return (200, {}, b"ok")
        return self.receiver(respond)

    def test_the_hold_is_capped_at_the_shortest_max_delay(self):
        """A REPORT task (max_delay 1h) answered "Retry-After: 600" waits ten minutes
        itself, but holds the receiver only for the default policy's one second: a
        PAYMENT task to it goes after a second, not after REPORT's cap."""
        self.herald.stop()
        self.start(CAPPED)
        held = self.first_answer_then_ok(503, b"maintenance")
        report = self.post("CAP-0", held, business_type="REPORT")
        first = held.wait_for(1)[0]
        self.post("CAP-1", held)
        requests = held.wait_for(2, timeout=20)
        self.assertEqual(requests[1].headers["x-business-id"], "CAP-1")
        self.assertGreaterEqual(requests[1].time - first.time, 0.95)
        self.assertLess(requests[1].time - first.time, 30)
        task = self.herald.get_task(report)
        self.assertEqual((task["status"], task["attempts"]), ("pending", 1))

    def test_only_429_and_503_hold(self):
        receiver = self.first_answer_then_ok(500, b"broken")
        first_task = self.post("NOHOLD-0", receiver, max_retry=1)
        self.herald.wait_for_status(first_task, "failed")
        self.post("NOHOLD-1", receiver)
        receiver.wait_for(2, timeout=10)  # not ten minutes later
        self.assertFalse(any("event=receiver_held" in line for line in self.herald.lines))


if __name__ == "__main__":
    unittest.main()
