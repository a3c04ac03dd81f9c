"""POST /v1/tasks/{id}/redeliver and heraldctl tasks redeliver, on both backends: a task
that succeeded or failed goes out again as it is (same webhook-id, attempt numbers going
on), for one attempt or its whole schedule; an open manual entry is closed; the audit
trail has the actor and the reason; a task still in hand is refused, and two
redeliveries at once send it once."""
import datetime
import threading
import unittest

from harness import Herald, Receiver, task_request, wait_until

CONFIG = """[retry]
max_retry = 2
base_delay = 50ms
jitter = 0
[business.SLOW]
max_retry = 3
base_delay = 1h
[business.THREE]
max_retry = 3
base_delay = 50ms
jitter = 0
[business.GROW]
max_retry = 4
base_delay = 200ms
max_delay = 1h
exponential_backoff = true
jitter = 0
"""
TOKEN = "ops-token-0123456789abcdef"


class RedeliverTest(unittest.TestCase):
    def setUp(self):
        self.answers = {}  # business id -> status the receiver answers (default 200)
        self.receiver = Receiver(lambda r: (self.answers.get(r.headers["x-business-id"], 200),
                                            {}, b"ok"))
        self.addCleanup(self.receiver.close)
        self.herald = Herald(config=CONFIG, token_lines=["ops:" + TOKEN])
        self.herald.token = TOKEN
        self.addCleanup(self.herald.cleanup)
        self.herald.start()
        self.addCleanup(self.herald.stop)

    def api(self, method, path, body=None):
        return self.herald.request(method, path, body=body, headers=self.herald.auth_headers())

    def task(self, business_id, status, business_type="ORDER"):
        code, _, body = self.api("POST", "/v1/tasks", task_request(
            business_id, business_type=business_type, target_url=self.receiver.url()))
        self.assertEqual(code, 201, body)
        return self.herald.wait_for_status(body["task"]["id"], status)

    def deliveries(self, business_id):
        return [r for r in self.receiver.requests if r.headers["x-business-id"] == business_id]

    def waiting(self, business_id):
        """A task of SLOW whose first attempt failed: pending, its next attempt an hour
        away (not merely accepted, nor delivering, which a redelivery refuses too)."""
        self.answers[business_id] = 500
        task = self.task(business_id, "pending", business_type="SLOW")
        return wait_until(lambda: (lambda t: t if t["attempts"] == 1 and t["status"] == "pending"
                                   else None)(self.herald.get_task(task["id"])),
                          message="the first attempt's outcome")

    def redeliver(self, task_id, body):
        return self.api("POST", "/v1/tasks/%d/redeliver" % task_id, body)

    def test_a_delivered_task_goes_out_again_as_it_was(self):
        task = self.task("R-OK", "succeeded")
        first = self.deliveries("R-OK")[0]
        code, _, body = self.redeliver(task["id"], {"reason": "receiver lost its copy"})
        self.assertEqual(code, 200, body)
        self.assertEqual(body["task"]["id"], task["id"])
        again = self.herald.wait_for_status(task["id"], "succeeded")
        wait_until(lambda: len(self.deliveries("R-OK")) == 2, message="the second delivery")
        second = self.deliveries("R-OK")[1]
        self.assertEqual(second.headers["webhook-id"], first.headers["webhook-id"])
        self.assertEqual(second.body, first.body)
        self.assertEqual((first.headers["x-herald-attempt"], second.headers["x-herald-attempt"]),
                         ("1", "2"))
        self.assertEqual((again["attempts"], again["max_retry"]), (2, 2))
        case = self.api("GET", "/v1/manual/%d" % task["id"])[2]
        self.assertEqual(case["entries"], [])
        (action,) = case["actions"]
        self.assertEqual((action["action"], action["actor"], action["note"], action["details"]),
                         ("redeliver", "ops", "receiver lost its copy",
                          {"schedule": "once", "max_retry": 1}))
        self.herald.wait_for_log(r"event=task_redeliver actor=\"ops\" task_id=%d schedule=once "
                                 r"max_retry=1" % task["id"])

    def test_a_failed_task_gets_its_whole_schedule_and_its_entry_closed(self):
        self.answers["R-FAIL"] = 500
        task = self.task("R-FAIL", "failed", business_type="THREE")
        case = self.api("GET", "/v1/manual/%d" % task["id"])[2]
        self.assertEqual([e["state"] for e in case["entries"]], ["open"])
        # Still failing: the full schedule is three more attempts, then manual again.
        code, _, body = self.redeliver(task["id"], {"reason": "try again", "schedule": "full"})
        self.assertEqual(code, 200, body)
        self.assertEqual(body["entries"][0]["state"], "resolved")
        self.assertEqual((body["entries"][0]["resolution"], body["entries"][0]["note"]),
                         ("retried", "try again"))
        wait_until(lambda: len(self.deliveries("R-FAIL")) == 6, message="three more attempts")
        failed = self.herald.wait_for_status(task["id"], "failed")
        self.assertEqual((failed["attempts"], failed["max_retry"]), (6, 6))
        case = self.api("GET", "/v1/manual/%d" % task["id"])[2]
        self.assertEqual([e["state"] for e in case["entries"]], ["resolved", "open"])
        self.assertEqual([a["attempt"] for a in case["attempts"]], [1, 2, 3, 4, 5, 6])
        # A resolved task (no open entry) can be sent again too; now it works.
        self.assertEqual(self.api("POST", "/v1/manual/%d/resolve" % task["id"],
                                  {"note": "handled"})[0], 200)
        self.answers["R-FAIL"] = 200
        code, _, body = self.redeliver(task["id"], {"reason": "fixed now"})
        self.assertEqual(code, 200, body)
        self.assertEqual(self.herald.wait_for_status(task["id"], "succeeded")["attempts"], 7)
        self.assertEqual(len({r.headers["webhook-id"] for r in self.deliveries("R-FAIL")}), 1)

    def test_a_task_in_hand_is_refused(self):
        task = self.waiting("R-WAIT")
        code, _, body = self.redeliver(task["id"], {"reason": "too soon"})
        self.assertEqual(code, 409, body)
        self.assertEqual((body["error"]["code"], body["error"]["field"]),
                         ("task_not_finished", "id"))
        self.assertIn("pending", body["error"]["message"])
        self.assertEqual(self.api("GET", "/v1/manual/%d" % task["id"])[2]["actions"], [])

    def wait_after(self, task_id, attempts):
        """The wait its policy set after attempt ATTEMPTS failed (s)."""
        task = wait_until(lambda: (lambda t: t if t["attempts"] == attempts and
                                   t["status"] == "pending" else None)(
            self.herald.get_task(task_id)), message="attempt %d's outcome" % attempts)
        when = datetime.datetime.fromisoformat(task["next_attempt_at"].replace("Z", "+00:00"))
        then = datetime.datetime.fromisoformat(task["updated_at"].replace("Z", "+00:00"))
        return (when - then).total_seconds()

    def test_a_full_schedule_starts_again_from_its_first_wait(self):
        # Four attempts: waits of 0.2, 0.4 and 0.8 s, then manual handling.
        self.answers["GROW-1"] = 500
        task = self.task("GROW-1", "failed", business_type="GROW")
        self.assertEqual(task["attempts"], 4)
        # Its fifth attempt's failure would wait 3.2 s going on; from the start, 0.2 s.
        code, _, body = self.redeliver(task["id"], {"reason": "again", "schedule": "full"})
        self.assertEqual(code, 200, body)
        self.assertAlmostEqual(self.wait_after(task["id"], 5), 0.2, delta=0.15)
        self.assertAlmostEqual(self.wait_after(task["id"], 6), 0.4, delta=0.15)
        self.herald.wait_for_status(task["id"], "failed")
        # A retry from the manual queue with a fresh budget starts it again too.
        code, _, body = self.api("POST", "/v1/manual/%d/retry" % task["id"], {})
        self.assertEqual(code, 200, body)
        self.assertAlmostEqual(self.wait_after(task["id"], 9), 0.2, delta=0.15)

    def test_bad_requests_are_named(self):
        task = self.task("R-BAD", "succeeded")
        path = "/v1/tasks/%d/redeliver" % task["id"]
        cases = [
            ({}, 422, "reason"),
            ({"reason": ""}, 422, "reason"),
            ({"reason": "x" * 1025}, 422, "reason"),
            ({"reason": "a\x1b[31mred"}, 422, "reason"),
            ({"reason": 5}, 422, "reason"),
            ({"reason": "ok", "schedule": "twice"}, 422, "schedule"),
            ({"reason": "ok", "schedule": None}, 422, "schedule"),
            ({"reason": "ok", "max_retry": 3}, 422, "max_retry"),
        ]
        for body, status, field in cases:
            with self.subTest(body=body):
                code, _, answer = self.api("POST", path, body)
                self.assertEqual((code, answer["error"]["field"]), (status, field), answer)
        code, _, answer = self.herald.request(
            "POST", path, raw=b'{"reason": "a", "reason": "b"}',
            headers=dict(self.herald.auth_headers(), **{"Content-Type": "application/json"}))
        self.assertEqual((code, answer["error"]["field"]), (422, "reason"), answer)
        code, _, answer = self.herald.request(
            "POST", path, raw=b'{"reason": ', headers=dict(
                self.herald.auth_headers(), **{"Content-Type": "application/json"}))
        self.assertEqual((code, answer["error"]["code"]), (400, "invalid_json"), answer)
        for missing in ("/v1/tasks/999999/redeliver", "/v1/tasks/abc/redeliver"):
            code, _, answer = self.api("POST", missing, {"reason": "x"})
            self.assertEqual((code, answer["error"]["code"]), (404, "not_found"), missing)
        self.assertEqual(self.api("GET", path)[0], 405)
        # Nothing of any of it was kept.
        self.assertEqual(self.api("GET", "/v1/manual/%d" % task["id"])[2]["actions"], [])
        self.assertEqual(len(self.deliveries("R-BAD")), 1)

    def test_two_at_once_send_it_once(self):
        for round_ in range(5):
            business_id = "R-RACE-%d" % round_
            task = self.task(business_id, "succeeded")
            answers = []
            barrier = threading.Barrier(2)

            def send():
                barrier.wait()
                answers.append(self.redeliver(task["id"], {"reason": "race"})[0])
            threads = [threading.Thread(target=send) for _ in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(30)
            # One wins; the other finds it pending (409), or, if the first
            # attempt was already made, sends it once more: never both at once.
            self.assertIn(200, answers)
            done = self.herald.wait_for_status(task["id"], "succeeded")
            wins = answers.count(200)
            self.assertEqual(done["attempts"], 1 + wins)
            wait_until(lambda: len(self.deliveries(business_id)) == 1 + wins)
            actions = self.api("GET", "/v1/manual/%d" % task["id"])[2]["actions"]
            self.assertEqual(len(actions), wins)

    def test_heraldctl(self):
        task = self.task("R-CTL", "succeeded")
        code, out, err = self.herald.ctl("tasks", "redeliver", str(task["id"]), "--reason",
                                         "resend from the CLI", "--full",
                                         token_file=self.herald.token_file)
        self.assertEqual(code, 0, err)
        self.assertRegex(out, r"redeliver\s+ops\s+resend from the CLI")
        self.herald.wait_for_status(task["id"], "succeeded")
        self.assertEqual(self.api("GET", "/v1/tasks/%d" % task["id"])[2]["task"]["max_retry"],
                         1 + 2)  # the default policy's two attempts on top of the one made
        code, _, err = self.herald.ctl("tasks", "redeliver", str(task["id"]),
                                       token_file=self.herald.token_file)
        self.assertEqual(code, 2, err)  # --reason is required
        pending = self.waiting("R-CTL-2")
        code, _, err = self.herald.ctl("tasks", "redeliver", str(pending["id"]), "--reason", "x",
                                       token_file=self.herald.token_file)
        self.assertEqual(code, 1)
        self.assertIn("is pending: it will be delivered anyway", err)


if __name__ == "__main__":
    unittest.main()
