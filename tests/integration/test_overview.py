"""GET /v1/overview and GET /v1/receivers (the console's first pages) and their
heraldctl equivalents, on both backends."""
import json
import unittest

from harness import Herald, Receiver, task_request, wait_until


class OverviewTest(unittest.TestCase):
    def test_counts_series_and_receivers(self):
        healthy = Receiver()
        broken = Receiver(lambda received: (500, {}, b"down for maintenance"))
        for receiver in (healthy, broken):
            self.addCleanup(receiver.close)
        herald = Herald()
        self.addCleanup(herald.cleanup)
        herald.start()
        ids = []
        for i in range(3):
            ids.append(herald.request("POST", "/v1/tasks", body=task_request(
                "OK-%d" % i, healthy.url()))[2]["task"]["id"])
        for i in range(2):
            ids.append(herald.request("POST", "/v1/tasks", body=task_request(
                "BROKEN-%d" % i, broken.url(), max_retry=1))[2]["task"]["id"])
        for task_id in ids[:3]:
            herald.wait_for_status(task_id, "succeeded")
        for task_id in ids[3:]:
            herald.wait_for_status(task_id, "failed")
        status, _, body = herald.request("GET", "/v1/overview")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["tasks"], {"pending": 0, "delivering": 0, "succeeded": 3,
                                         "failed": 2})
        self.assertEqual(body["manual_open"], 2)
        minutes = body["per_minute"]
        self.assertEqual((len(minutes["delivered"]), len(minutes["failed"])), (60, 60))
        self.assertEqual((sum(minutes["delivered"]), sum(minutes["failed"])), (3, 2))
        self.assertGreater(minutes["delivered"][-1] + minutes["delivered"][-2], 0)  # just now
        status, _, body = herald.request("GET", "/v1/receivers")
        self.assertEqual(status, 200, body)
        by_receiver = {r["receiver"]: r for r in body["receivers"]}
        host = broken.url("")  # scheme://host:port
        self.assertIn(host, by_receiver, body)
        row = by_receiver[host]
        self.assertEqual((row["pending"], row["in_flight"], row["failures"]), (0, 0, 2))
        self.assertEqual(row["last_error"], "http_status: HTTP 500")
        self.assertNotIn(healthy.url(""), by_receiver)  # nothing waiting, nothing failed
        # The same through heraldctl.
        code, out, err = herald.ctl("overview")
        self.assertEqual(code, 0, err)
        self.assertRegex(out, r"tasks\s+0 pending, 0 delivering, 3 succeeded, 2 failed")
        self.assertRegex(out, r"last hour\s+delivered 3, failed 2")
        code, out, err = herald.ctl("receivers")
        self.assertEqual(code, 0, err)
        self.assertIn(host, out)
        code, out, err = herald.ctl("receivers", "--json")
        self.assertEqual(json.loads(out)["receivers"][0]["receiver"], host)
        herald.stop()

    def test_a_repaired_task_leaves_its_failures_with_the_old_receiver(self):
        """Each attempt records the receiver it went to: after a repair sends a task
        elsewhere, its failed attempts stay the broken receiver's (in its attempt
        timeline and in GET /v1/receivers), not the healthy one's."""
        healthy = Receiver()
        broken = Receiver(lambda received: (503, {}, b"down"))
        for receiver in (healthy, broken):
            self.addCleanup(receiver.close)
        herald = Herald(config="[retry]\nbase_delay = 50ms\njitter = 0\n")
        self.addCleanup(herald.cleanup)
        herald.start()
        task_id = herald.request("POST", "/v1/tasks", body=task_request(
            "MOVED", broken.url(), max_retry=2))[2]["task"]["id"]
        herald.wait_for_status(task_id, "failed")
        status, _, body = herald.request("POST", "/v1/manual/%d/retry" % task_id,
                                         body={"target_url": healthy.url()})
        self.assertEqual(status, 200, body)
        herald.wait_for_status(task_id, "succeeded")
        attempts = herald.attempts(task_id)
        self.assertEqual([a["receiver"] for a in attempts],
                         [broken.url(""), broken.url(""), healthy.url("")])
        _, _, body = herald.request("GET", "/v1/receivers")
        by_receiver = {r["receiver"]: r for r in body["receivers"]}
        self.assertEqual(by_receiver[broken.url("")]["failures"], 2)
        self.assertNotIn(healthy.url(""), by_receiver)
        # heraldctl shows the receiver of each attempt once they differ
        code, out, err = herald.ctl("tasks", "attempts", str(task_id), env={"COLUMNS": "200"})
        self.assertEqual(code, 0, err)
        lines = out.splitlines()
        self.assertTrue(lines[0].split()[-1] == "RECEIVER", out)
        self.assertEqual([line.split()[-1] for line in lines[1:]],
                         [broken.url(""), broken.url(""), healthy.url("")])
        herald.stop()


if __name__ == "__main__":
    unittest.main()
