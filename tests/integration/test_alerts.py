"""The alert checker, its sinks, readiness and retention, through the real heraldd."""
import base64
import hashlib
import hmac
import json
import os
import re
import signal
import time
import unittest

from harness import Herald, Receiver, task_request, wait_until

FAIL_FAST = """[retry]
max_retry = 1
"""


class AlertTest(unittest.TestCase):
    def setUp(self):
        self.broken = Receiver(lambda r: (500, {}, b"no"))
        self.sink_answers = {"status": 200}
        self.alert_sink = Receiver(lambda r: (self.sink_answers["status"], {}, b""))
        self.closers = [self.broken.close, self.alert_sink.close]

    def tearDown(self):
        for close in self.closers:
            close()

    def start(self, alert_config, storage=""):
        herald = Herald(config="[storage]\n" + storage + FAIL_FAST + "[alert]\ninterval = 100ms\n"
                        + alert_config)
        herald.start()
        self.closers.insert(0, herald.cleanup)
        return herald

    def fail_tasks(self, herald, prefix, count, business_type="PAYMENT_SUCCESS"):
        ids = []
        for i in range(count):
            status, _, body = herald.request("POST", "/v1/tasks", body=task_request(
                "%s-%d" % (prefix, i), business_type=business_type, target_url=self.broken.url()))
            ids.append(body["task"]["id"])
        for task_id in ids:
            herald.wait_for_status(task_id, "failed")
        return ids

    def alerts_sent(self):
        return [json.loads(r.body) for r in self.alert_sink.received()]

    def test_fires_once_at_threshold_then_resolves(self):
        herald = self.start("threshold = 3\ncooldown = 1h\nwebhook_url = %s\n" % self.alert_sink.url())
        ids = self.fail_tasks(herald, "A", 2)
        time.sleep(0.4)  # several intervals: below the threshold nothing is sent
        self.assertEqual(self.alerts_sent(), [])
        ids += self.fail_tasks(herald, "B", 1, business_type="ORDER_UPDATE")
        first = json.loads(self.alert_sink.wait_for(1)[0].body)
        self.assertEqual((first["kind"], first["state"], first["count"]), ("manual_backlog", "firing", 3))
        self.assertEqual(first["by_business_type"], {"PAYMENT_SUCCESS": 2, "ORDER_UPDATE": 1})
        self.assertIn(first["oldest"]["task_id"], ids[:2])  # the first two fail concurrently
        self.assertEqual(sorted(first["sample_task_ids"]), sorted(ids))
        self.assertIn("3 notifications failed", first["text"])
        herald.wait_for_log(r"level=error event=alert kind=manual_backlog state=firing count=3")
        time.sleep(0.5)  # the cooldown holds: no repeat
        self.assertEqual(len(self.alerts_sent()), 1)
        resolve = lambda task_id: herald.request("POST", "/v1/manual/%d/resolve" % task_id,
                                                 body={"note": "handled"})[0]
        self.assertEqual(resolve(ids[0]), 200)  # 2 left: below the threshold of 3
        resolved = json.loads(self.alert_sink.wait_for(2)[1].body)
        self.assertEqual((resolved["state"], resolved["count"]), ("resolved", 2))
        self.assertEqual(resolve(ids[1]), 200)
        time.sleep(0.4)
        self.assertEqual(len(self.alerts_sent()), 2)  # a single resolved notice
        status, _, listed = herald.request("GET", "/v1/alerts")
        self.assertEqual([(a["kind"], a["state"]) for a in listed["alerts"]],
                         [("manual_backlog", "resolved"), ("manual_backlog", "firing")])
        self.assertIsNotNone(listed["alerts"][0]["sent_at"])
        code, out, err = herald.ctl("alerts")
        self.assertEqual(code, 0, err)
        self.assertIn("manual_backlog", out)
        self.assertIn("firing", out)
        herald.stop()

    def test_repeats_when_the_count_doubles(self):
        herald = self.start("threshold = 2\ncooldown = 1h\nwebhook_url = %s\n" % self.alert_sink.url())
        self.fail_tasks(herald, "D", 2)
        self.alert_sink.wait_for(1)
        self.fail_tasks(herald, "E", 2)
        second = json.loads(self.alert_sink.wait_for(2)[1].body)
        self.assertEqual((second["state"], second["count"]), ("firing", 4))
        herald.stop()

    def test_command_sink_gets_the_environment(self):
        out = os.path.join(self.broken_directory(), "alert.env")
        herald = self.start("threshold = 1\ncommand = env | grep ^HERALD_ALERT_ | sort > %s\n" % out)
        self.fail_tasks(herald, "C", 1)
        wait_until(lambda: os.path.exists(out) and os.path.getsize(out) > 0,
                   message="the alert command to run")
        with open(out) as f:
            env = dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)
        self.assertEqual(env["HERALD_ALERT_KIND"], "manual_backlog")
        self.assertEqual(env["HERALD_ALERT_STATE"], "firing")
        self.assertEqual(env["HERALD_ALERT_COUNT"], "1")
        self.assertIn("failed for good", env["HERALD_ALERT_TEXT"])
        self.assertEqual(json.loads(env["HERALD_ALERT_JSON"])["count"], 1)
        herald.stop()

    def broken_directory(self):
        import tempfile
        directory = tempfile.mkdtemp(prefix="herald-alert-")
        import shutil
        self.closers.append(lambda: shutil.rmtree(directory, ignore_errors=True))
        return directory

    def test_each_sink_gets_each_alert_once_signed_with_a_stable_id(self):
        """Item 10: a failing command does not make the webhook see the alert again;
        alerts carry an id and are signed like task webhooks."""
        directory = self.broken_directory()
        out = os.path.join(directory, "alerts.log")
        switch = os.path.join(directory, "command-works")
        secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
        command = ('test -e %s || exit 1; printf "%%s\\n" "$HERALD_ALERT_ID" >> %s'
                   % (switch, out))
        herald = self.start("threshold = 1\nwebhook_url = %s\ncommand = %s\n"
                            % (self.alert_sink.url(), command)
                            + "[delivery]\nsecret = %s\n" % secret)
        self.fail_tasks(herald, "SINK", 1)
        herald.wait_for_log(r"event=alert_sink_failed .*command: exited with status 1")
        time.sleep(1.0)  # ten intervals of a failing command
        received = self.alert_sink.received()
        self.assertEqual(len(received), 1, [r.body for r in received])
        alert = json.loads(received[0].body)
        self.assertIsInstance(alert["id"], int)
        listed = herald.request("GET", "/v1/alerts")[2]["alerts"]
        self.assertEqual(listed[0]["id"], alert["id"])
        self.assertIsNone(listed[0]["sent_at"])  # not every sink took it yet
        self.assertIsNotNone(listed[0]["sinks"]["webhook"])
        self.assertIsNone(listed[0]["sinks"]["command"])
        # Signed as task webhooks are (Standard Webhooks).
        headers = received[0].headers
        self.assertEqual(headers["webhook-id"], "alert_%d" % alert["id"])
        signed = ("%s.%s." % (headers["webhook-id"], headers["webhook-timestamp"])).encode()
        expected = base64.b64encode(hmac.new(b"k" * 32, signed + received[0].body,
                                             hashlib.sha256).digest()).decode()
        self.assertIn("v1," + expected, headers["webhook-signature"].split())
        # The command recovers: it gets the alert once, the webhook still once.
        open(switch, "w").close()
        wait_until(lambda: os.path.exists(out), message="the command to take the alert")
        wait_until(lambda: herald.request("GET", "/v1/alerts")[2]["alerts"][0]["sent_at"],
                   message="the alert to count as sent")
        time.sleep(0.5)
        with open(out) as f:
            self.assertEqual(f.read().split(), [str(alert["id"])])
        self.assertEqual(len(self.alert_sink.received()), 1)
        herald.stop()

    def test_failing_sink_is_retried_and_does_not_stop_deliveries(self):
        self.sink_answers["status"] = 500
        healthy = Receiver()
        self.closers.append(healthy.close)
        herald = self.start("threshold = 1\nwebhook_url = %s\n" % self.alert_sink.url())
        self.fail_tasks(herald, "F", 1)
        self.alert_sink.wait_for(2)  # tried, failed, tried again next interval
        herald.wait_for_log(r"event=alert_sink_failed .*HTTP 500")
        listed = herald.request("GET", "/v1/alerts")[2]["alerts"]
        self.assertIsNone(listed[0]["sent_at"])
        self.assertIn("HTTP 500", listed[0]["send_error"])
        for i in range(5):  # deliveries go on meanwhile
            status, _, body = herald.request("POST", "/v1/tasks", body=task_request(
                "OK-%d" % i, target_url=healthy.url()))
            herald.wait_for_status(body["task"]["id"], "succeeded")
        self.sink_answers["status"] = 200
        wait_until(lambda: herald.request("GET", "/v1/alerts")[2]["alerts"][0]["sent_at"],
                   message="the alert to be sent once the sink works")
        herald.stop()

    def metric(self, herald, name, receiver):
        _, _, text = herald.request("GET", "/metrics")
        match = re.search(r'^%s\{receiver="%s"\} (\S+)$' % (name, re.escape(receiver)), text,
                          re.MULTILINE)
        return float(match.group(1)) if match else None

    def test_a_hung_receiver_is_its_own_lag_not_the_instances(self):
        """Item 7: tasks waiting for a receiver at its own limit do not make herald look
        unhealthy; they show as that receiver's lag."""
        hanging = Receiver(lambda r: "hang")
        healthy = Receiver()
        self.closers[:0] = [hanging.close, healthy.close]
        herald = self.start("max_lag = 1s\nthreshold = 100\nwebhook_url = %s\n" % self.alert_sink.url()
                            + "[delivery]\nper_host_concurrency = 1\ntimeout = 20s\n")
        for i in range(3):  # one in flight, two due behind it
            herald.request("POST", "/v1/tasks", body=task_request("HUNG-%d" % i, target_url=hanging.url()))
        key = "http://127.0.0.1:%d" % hanging.port
        wait_until(lambda: (self.metric(herald, "herald_receiver_lag_seconds", key) or 0) > 1.5,
                   message="the hung receiver's lag to pass max_lag")
        self.assertEqual(self.metric(herald, "herald_receiver_in_flight", key), 1)
        for i in range(5):  # everyone else is served at once
            herald.request("POST", "/v1/tasks", body=task_request("OK-%d" % i, target_url=healthy.url()))
        healthy.wait_for(5, timeout=5)
        status, _, body = herald.request("GET", "/readyz")
        self.assertEqual(status, 200, body)
        time.sleep(0.5)  # several alert intervals
        self.assertNotIn("delivery_lag", [a["kind"] for a in self.alerts_sent()],
                         (self.alerts_sent(), herald.log()))
        herald.kill()  # the hung request would hold a graceful stop for its timeout

    def test_delivery_lag_when_the_instance_cannot_deliver(self):
        """Every slot held (concurrency 1): a task that could go elsewhere waits."""
        hanging = Receiver(lambda r: "hang")
        healthy = Receiver()
        self.closers[:0] = [hanging.close, healthy.close]
        herald = self.start("max_lag = 1s\nthreshold = 100\nwebhook_url = %s\n" % self.alert_sink.url()
                            + "[delivery]\nconcurrency = 1\nper_host_concurrency = 1\ntimeout = 60s\n")
        self.assertEqual(herald.request("GET", "/readyz")[0], 200)
        herald.request("POST", "/v1/tasks", body=task_request("SLOT-0", target_url=hanging.url()))
        hanging.wait_for(1)
        herald.request("POST", "/v1/tasks", body=task_request("SLOT-1", target_url=healthy.url()))
        alert = json.loads(self.alert_sink.wait_for(1, timeout=10)[0].body)
        self.assertEqual((alert["kind"], alert["state"]), ("delivery_lag", "firing"))
        self.assertGreater(alert["lag_seconds"], 1)
        status, _, body = wait_until(lambda: (lambda r: r if r[0] == 503 else None)(
            herald.request("GET", "/readyz")), message="/readyz to report the lag")
        self.assertEqual(body["status"], "not_ready")
        # Readiness follows a reloaded max_lag.
        with open(herald.config_path) as f:
            text = f.read()
        with open(herald.config_path, "w") as f:
            f.write(text.replace("max_lag = 1s", "max_lag = 1h"))
        herald.process.send_signal(signal.SIGHUP)
        wait_until(lambda: herald.request("GET", "/readyz")[0] == 200, timeout=5,
                   message="/readyz to use the reloaded max_lag")
        herald.kill()  # the hung request would hold a graceful stop for its timeout

    def test_an_instances_lag_alert_names_it_and_the_leader_resolves_it_when_it_is_gone(self):
        """Item 13: delivery_lag says which instance lags; killed, that instance
        cannot resolve it, and its restart has a new id: the leader (here the
        restarted instance) resolves the alert of the instance that is gone."""
        hanging = Receiver(lambda r: "hang")
        healthy = Receiver()
        self.closers[:0] = [hanging.close, healthy.close]
        herald = self.start("max_lag = 1s\nthreshold = 100\nwebhook_url = %s\n" % self.alert_sink.url()
                            + "[delivery]\nconcurrency = 1\nper_host_concurrency = 1\ntimeout = 60s\n")
        first = re.search(r"instance=(\S+)", herald.wait_for_log(r"event=listening")).group(1)
        herald.request("POST", "/v1/tasks", body=task_request("LAG-0", target_url=hanging.url()))
        hanging.wait_for(1)
        herald.request("POST", "/v1/tasks", body=task_request("LAG-1", target_url=healthy.url()))
        alert = json.loads(self.alert_sink.wait_for(1, timeout=10)[0].body)
        self.assertEqual((alert["kind"], alert["state"], alert["instance"]),
                         ("delivery_lag", "firing", first))
        self.assertIn(first, alert["text"])
        herald.wait_for_log(r"event=alert kind=delivery_lag instance=%s state=firing"
                            % re.escape(first))
        self.assertEqual(herald.request("GET", "/v1/alerts")[2]["alerts"][0]["instance"], first)
        herald.kill()  # it cannot resolve its own alert now
        with open(herald.config_path) as f:
            text = f.read()
        with open(herald.config_path, "w") as f:  # room for the rescued attempt and the rest
            f.write(text.replace("\nconcurrency = 1\n", "\nconcurrency = 8\n"))
        herald.start()
        second = re.search(r"instance=(\S+)", herald.wait_for_log(r"event=listening")).group(1)
        self.assertNotEqual(first, second)

        def resolved():
            return next((a for a in self.alerts_sent() if a["kind"] == "delivery_lag"
                         and a["state"] == "resolved"), None)
        # PostgreSQL: once the killed instance's last heartbeat is 30 s old (it may
        # only be frozen until then); SQLite: at once, one heraldd per file.
        notice = wait_until(resolved, timeout=60, interval=0.2,
                            message="the leader to resolve the gone instance's alert")
        self.assertEqual(notice["instance"], first)
        self.assertTrue(notice["instance_gone"])
        self.assertEqual(notice["resolved_by"], second)
        self.assertIn(first, notice["text"])
        firing = herald.request("GET", "/v1/overview")[2]["alerts_firing"]
        self.assertNotIn(first, [a.get("instance") for a in firing])
        herald.kill()  # the rescued attempt hangs: a graceful stop would wait for it


class RetentionTest(unittest.TestCase):
    def test_retention_deletes_only_what_it_should(self):
        ok = Receiver()
        broken = Receiver(lambda r: (500, {}, b""))
        hanging = Receiver(lambda r: "hang")
        herald = Herald(config="[storage]\nretention = 1s\n" + FAIL_FAST +
                        "[alert]\ninterval = 200ms\nthreshold = 1000\n")
        try:
            herald.start()
            post = lambda business_id, url: herald.request("POST", "/v1/tasks", body=task_request(
                business_id, target_url=url))[2]["task"]["id"]
            succeeded = post("RET-OK", ok.url())
            open_manual = post("RET-OPEN", broken.url())
            resolved = post("RET-RESOLVED", broken.url())
            in_flight = post("RET-FLIGHT", hanging.url())
            herald.wait_for_status(succeeded, "succeeded")
            herald.wait_for_status(open_manual, "failed")
            herald.wait_for_status(resolved, "failed")
            herald.request("POST", "/v1/manual/%d/resolve" % resolved, body={"note": "done"})
            wait_until(lambda: herald.request("GET", "/v1/tasks/%d" % succeeded)[0] == 404,
                       timeout=15, message="the succeeded task to be deleted")
            wait_until(lambda: herald.request("GET", "/v1/tasks/%d" % resolved)[0] == 404,
                       timeout=15, message="the hand-resolved task to be deleted")
            attempts = herald.db.value("SELECT count(*) FROM attempts WHERE task_id IN (?, ?)",
                                       succeeded, resolved)
            self.assertEqual(attempts, 0)
            time.sleep(1.5)  # well past the retention: these must stay
            self.assertEqual(herald.get_task(open_manual)["status"], "failed")
            self.assertEqual(len(herald.request("GET", "/v1/manual")[2]["entries"]), 1)
            self.assertEqual(herald.get_task(in_flight)["status"], "delivering")
            herald.wait_for_log(r"event=retention deleted_rows=")
            herald.kill()
        finally:
            herald.cleanup()
            for receiver in (ok, broken, hanging):
                receiver.close()

    def test_retention_deletes_each_task_with_its_entries(self):
        """A bulk resolve of more entries than a retention batch (500), all at
        one resolved_at: every task goes with its entries and attempts. The
        batch boundary once split them and left 100 tasks "never in manual
        handling" that no later turn deleted."""
        broken = Receiver(lambda r: (500, {}, b""))
        herald = Herald(config="[storage]\nretention = 1s\n" + FAIL_FAST +
                        "[alert]\ninterval = 200ms\nthreshold = 100000\n")
        count = 600
        try:
            herald.start()
            status, _, body = herald.request("POST", "/v1/tasks/batch", body={"tasks": [
                task_request("RET-BULK-%d" % i, target_url=broken.url()) for i in range(count)]})
            self.assertEqual(status, 201, body)
            ids = [task["id"] for task in body["tasks"]]
            wait_until(lambda: herald.db.value(
                "SELECT count(*) FROM manual WHERE state = 'open'") == count, timeout=60,
                message="every task to fail into manual handling")
            status, _, body = herald.request("POST", "/v1/manual/resolve",
                                             body={"all": True, "note": "bulk"})
            self.assertEqual((status, body["resolved"]), (200, count), body)
            left = lambda: herald.db.value("SELECT count(*) FROM tasks")
            wait_until(lambda: left() == 0, timeout=20,
                       message="retention to delete every resolved task")
            for task_id in ids:
                self.assertEqual(herald.request("GET", "/v1/tasks/%d" % task_id)[0], 404)
            for table in ("manual", "attempts", "actions"):
                self.assertEqual(herald.db.value("SELECT count(*) FROM " + table), 0, table)
            herald.kill()
        finally:
            herald.cleanup()
            broken.close()


if __name__ == "__main__":
    unittest.main()
