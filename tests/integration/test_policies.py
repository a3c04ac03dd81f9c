"""GET /v1/policies and /v1/policies/{business_type}, and heraldctl policy list|show:
the policies in force, each type's planned attempts (checked against when a failing
task's attempts really came), a reload seen at once, no secret ever shown."""
import json
import signal
import unittest

from harness import Herald, Receiver, backend_independent
from test_lifecycle import rewrite_config

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MINUTE = 60000
# max_retry 8 with waits doubling from 1m: 1, 2, 4, ..., 64 minutes.
CONFIG = """[retry]
max_retry = 5
base_delay = 1m
max_delay = 30m
[business.ORDER]
max_retry = 8
base_delay = 1m
max_delay = 2h
jitter = 0.1
timeout = 10s
secret = %s
[business.FAST]
max_retry = 3
schedule = 300ms, 600ms
jitter = 0
timeout = 2s
""" % SECRET


def parse_ms(text):
    """An RFC 3339 time with milliseconds, as herald writes it, in ms since the epoch."""
    import datetime
    return int(datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


@backend_independent("the policies are the configuration's, not the database's")
class PolicyTest(unittest.TestCase):
    def setUp(self):
        self.herald = Herald(CONFIG).start()

    def tearDown(self):
        self.herald.stop()
        self.herald.cleanup()

    def get(self, path):
        status, _, body = self.herald.request("GET", path)
        return status, body

    def test_list_and_one_type(self):
        status, body = self.get("/v1/policies")
        self.assertEqual(status, 200)
        self.assertEqual(body["default"]["max_retry"], 5)
        self.assertFalse(body["default"]["signed"])
        self.assertEqual([t["business_type"] for t in body["business_types"]], ["ORDER", "FAST"])
        order = body["business_types"][0]["policy"]
        self.assertEqual((order["max_retry"], order["base_delay_ms"], order["max_delay_ms"],
                          order["jitter"], order["timeout_ms"], order["signed"]),
                         (8, MINUTE, 120 * MINUTE, 0.1, 10000, True))
        self.assertEqual(body["business_types"][1]["policy"]["schedule_ms"], [300, 600])
        self.assertNotIn("whsec_", json.dumps(body))

        status, body = self.get("/v1/policies/ORDER")
        self.assertEqual(status, 200)
        self.assertTrue(body["configured"])
        attempts = body["attempts"]
        self.assertEqual([a["attempt"] for a in attempts], list(range(1, 9)))
        waits = [0, 1, 2, 4, 8, 16, 32, 64]
        for i, attempt in enumerate(attempts):
            nominal = sum(waits[:i + 1]) * MINUTE
            self.assertEqual(attempt["wait_ms"], waits[i] * MINUTE)
            self.assertEqual(attempt["after_first_ms"], nominal)
            self.assertEqual(attempt["earliest_ms"], nominal * 9 // 10)
            self.assertEqual(attempt["latest_ms"], nominal * 11 // 10 + i * 10000)
        self.assertEqual(attempts[-1]["after_first"], "2h 7m")
        self.assertEqual(attempts[0]["after_first"], "0s")

        # A type with no section gets the default, and says so.
        status, body = self.get("/v1/policies/OTHER.type:v2")
        self.assertEqual(status, 200)
        self.assertFalse(body["configured"])
        self.assertEqual(len(body["attempts"]), 5)
        self.assertEqual(body["attempts"][-1]["after_first"], "15m")  # waits 1, 2, 4, 8

    def test_bad_business_types_are_refused_by_name(self):
        for bad in ("x" * 65, "x" * 2048, "with%20space", "%C3%A9t%C3%A9", "a%22b"):
            status, body = self.get("/v1/policies/" + bad)
            self.assertEqual(status, 400, bad)
            self.assertEqual((body["error"]["code"], body["error"]["field"]),
                             ("invalid_parameter", "business_type"), bad)
        # Past what a path segment can hold: no such route.
        self.assertEqual(self.get("/v1/policies/" + "x" * 2049)[0], 404)
        self.assertEqual(self.get("/v1/policies/" + "x" * 64)[0], 200)

    def test_the_plan_is_when_attempts_come(self):
        """A failing task's attempts come no sooner than planned and, with the
        receiver answering at once, not much later."""
        receiver = Receiver(lambda received: (500, {}, b"no"))
        try:
            plan = self.get("/v1/policies/FAST")[1]["attempts"]
            self.assertEqual([a["after_first_ms"] for a in plan], [0, 300, 900])
            task_id = self.herald.create(business_id="PLAN-1", business_type="FAST",
                                         target_url=receiver.url())[2]["task"]["id"]
            self.herald.wait_for_status(task_id, ("failed",))
            attempts = self.get("/v1/tasks/%d/attempts" % task_id)[1]["attempts"]
            starts = [parse_ms(a["started_at"]) for a in attempts]
            self.assertEqual(len(starts), 3)
            for attempt, planned in zip(starts, plan):
                offset = attempt - starts[0]
                self.assertGreaterEqual(offset, planned["earliest_ms"])
                # latest_ms allows each attempt its whole timeout; these take
                # milliseconds, so the nominal plan plus a busy machine's slack.
                self.assertLessEqual(offset, planned["latest_ms"])
        finally:
            receiver.close()

    def test_a_reload_is_seen_at_once(self):
        rewrite_config(self.herald, "[business.ORDER]\nmax_retry = 3\n")
        mark = len(self.herald.lines)
        self.herald.process.send_signal(signal.SIGHUP)
        self.herald.wait_for_log(r"event=reloaded ", start=mark)
        body = self.get("/v1/policies/ORDER")[1]
        self.assertEqual(len(body["attempts"]), 3)
        self.assertFalse(body["policy"]["signed"])
        self.assertEqual([t["business_type"] for t in self.get("/v1/policies")[1]
                          ["business_types"]], ["ORDER"])

    def test_heraldctl(self):
        code, out, err = self.herald.ctl("policy", "list")
        self.assertEqual(code, 0, err)
        lines = out.splitlines()
        self.assertRegex(lines[0], r"^TYPE\s+ATTEMPTS\s+WAITS\s+TIMEOUT\s+SIGNED")
        self.assertRegex(out, r"\(default\)\s+5\s+1m doubling to 30m, \+-10%")
        self.assertRegex(out, r"ORDER\s+8\s+1m doubling to 2h, \+-10%\s+10s\s+yes")
        self.assertRegex(out, r"FAST\s+3\s+300ms, 600ms \(then 600ms\)\s+2s\s+no")

        code, out, err = self.herald.ctl("policy", "show", "ORDER")
        self.assertEqual(code, 0, err)
        self.assertRegex(out, r"(?m)^8\s+1h 4m\s+2h 7m\s+1h 54m 18s\s+2h 20m 52s$")
        self.assertNotIn("whsec_", out)
        code, out, err = self.herald.ctl("policy", "show", "NEW_TYPE")
        self.assertEqual(code, 0, err)
        self.assertIn("NEW_TYPE (no section of its own: the default)", out)

        # --json is the API's answer unchanged.
        code, out, err = self.herald.ctl("--json", "policy", "show", "FAST")
        self.assertEqual(code, 0, err)
        self.assertEqual(json.loads(out), self.get("/v1/policies/FAST")[1])

        # A type that cannot be one is a usage error, said as such (not as "no such
        # endpoint" once the path is decoded); so is a command without its type.
        for bad in ("no such/type?", "a/b", "x" * 65):
            code, out, err = self.herald.ctl("policy", "show", bad)
            self.assertEqual(code, 2, bad)
            self.assertIn("a business type is 1 to 64 of", err)
        # ".." is a business type like any other, not a step up the path.
        code, out, err = self.herald.ctl("policy", "show", "..")
        self.assertEqual(code, 0, err)
        self.assertIn(".. (no section of its own: the default)", out)
        self.assertEqual(self.herald.ctl("policy", "show")[0], 2)
        self.assertEqual(self.herald.ctl("policy", "list", "extra")[0], 2)


if __name__ == "__main__":
    unittest.main()
