"""POST /v1/receivers/{receiver}/pause and /resume, heraldctl receivers pause|resume:
while an operator has a receiver paused nothing is sent to it, by any heraldd sharing
the database, across restarts; its tasks wait and spend no attempt; resuming sends
them. Each decision is recorded with its actor; a storage failure at any step of one
leaves neither the change nor its record. Both backends."""
import time
import unittest
import urllib.parse

import database
from database import TestDatabase
from harness import Herald, Receiver, Seam, task_request, wait_until
from test_torture import passes, seam_built

TOKEN = "ops-token-0123456789abcdef"


def path(receiver, action):
    return "/v1/receivers/%s/%s" % (urllib.parse.quote(receiver, safe=""), action)


class ReceiverPauseTest(unittest.TestCase):
    def setUp(self):
        self.paused = Receiver()
        self.other = Receiver()
        for receiver in (self.paused, self.other):
            self.addCleanup(receiver.close)
        self.key = self.paused.url("")

    def herald(self, **options):
        herald = Herald(token_lines=["ops:" + TOKEN], **options)
        herald.token = TOKEN
        self.addCleanup(herald.cleanup)
        herald.start()
        return herald

    def api(self, herald, method, where, body=None):
        return herald.request(method, where, body=body, headers=herald.auth_headers())

    def post(self, herald, business_id, receiver):
        code, _, body = self.api(herald, "POST", "/v1/tasks",
                                 task_request(business_id, target_url=receiver.url()))
        self.assertEqual(code, 201, body)
        return body["task"]["id"]

    def settled(self, herald, prefix):
        """Proof that the scheduler has looked at the work since it was posted: two
        tasks for another receiver, posted after it, were both delivered."""
        for i in range(2):
            self.post(herald, "%s-PROBE-%d" % (prefix, i), self.other)
            wait_until(lambda: any(r.headers["x-business-id"] == "%s-PROBE-%d" % (prefix, i)
                                   for r in self.other.received()), message="the other receiver")

    def test_paused_until_resumed(self):
        herald = self.herald()
        code, _, body = self.api(herald, "POST", path(self.key, "pause"),
                                 {"note": "their maintenance, OPS-1"})
        self.assertEqual((code, body), (200, {"receiver": self.key, "paused": True,
                                               "changed": True}))
        herald.wait_for_log(r'event=receiver_paused receiver=%s actor="ops" '
                            r'note="their maintenance, OPS-1"' % self.key.replace(".", r"\."))
        # Pausing again changes (and records) nothing.
        self.assertEqual(self.api(herald, "POST", path(self.key, "pause"))[2]["changed"], False)
        waiting = [self.post(herald, "P-%d" % i, self.paused) for i in range(5)]
        self.settled(herald, "P")
        self.assertEqual(self.paused.received(), [])
        # /metrics says it is paused, and its waiting tasks are not lag.
        metrics = wait_until(lambda: (lambda m: m if 'herald_receiver_paused{receiver="%s"} 1'
                                      % self.key in m else None)(
            self.api(herald, "GET", "/metrics")[2]), message="herald_receiver_paused")
        self.assertIn('herald_receiver_lag_seconds{receiver="%s"} 0.000' % self.key, metrics)
        for task_id in waiting:
            task = herald.get_task(task_id)
            self.assertEqual((task["status"], task["attempts"]), ("pending", 0))
        rows = {r["receiver"]: r for r in self.api(herald, "GET", "/v1/receivers")[2]["receivers"]}
        row = rows[self.key]
        self.assertEqual((row["paused"], row["paused_by"], row["pause_note"], row["pending"]),
                         (True, "ops", "their maintenance, OPS-1", 5))
        self.assertFalse(rows.get(self.other.url(""), {"paused": False})["paused"])
        code, out, err = herald.ctl("receivers", token_file=herald.token_file,
                                    env={"COLUMNS": "250"})
        self.assertEqual(code, 0, err)
        self.assertRegex(out, r"%s\s+true\s+5" % self.key.replace(".", r"\."))
        # Resumed: every task goes, once each.
        code, _, body = self.api(herald, "POST", path(self.key, "resume"), {"note": "back"})
        self.assertEqual((code, body["paused"], body["changed"]), (200, False, True))
        self.paused.wait_for(5)
        for task_id in waiting:
            self.assertEqual(herald.wait_for_status(task_id, "succeeded")["attempts"], 1)
        self.assertEqual(self.api(herald, "POST", path(self.key, "resume"))[2]["changed"], False)
        code, _, body = self.api(herald, "GET", path(self.key, "actions"))
        self.assertEqual(code, 200, body)
        self.assertEqual(body["receiver"], self.key)
        self.assertEqual([(a["action"], a["actor"], a["note"]) for a in body["actions"]],
                         [("resume", "ops", "back"), ("pause", "ops", "their maintenance, OPS-1")])
        self.assertIsNone(body["next_before"])
        page = self.api(herald, "GET", path(self.key, "actions") + "?limit=1")[2]
        self.assertEqual([a["action"] for a in page["actions"]], ["resume"])
        older = self.api(herald, "GET", path(self.key, "actions") + "?limit=1&before=%d"
                         % page["next_before"])[2]
        self.assertEqual(([a["action"] for a in older["actions"]], older["next_before"]),
                         (["pause"], None))
        code, out, err = herald.ctl("receivers", "actions", self.paused.url("/hook"),
                                    token_file=herald.token_file, env={"COLUMNS": "200"})
        self.assertEqual(code, 0, err)
        self.assertRegex(out, r"pause\s+ops\s+their maintenance, OPS-1")
        self.assertRegex(out, r"resume\s+ops\s+back")
        self.assertEqual(self.api(herald, "GET", path(self.other.url(""), "actions"))[2]
                         ["actions"], [])
        herald.stop()

    def test_a_restart_keeps_the_pause(self):
        herald = self.herald()
        code, out, err = herald.ctl("receivers", "pause", self.paused.url("/any/path"), "--note",
                                    "from the CLI", token_file=herald.token_file)
        self.assertEqual((code, out.strip()), (0, "%s paused" % self.key), err)
        task_id = self.post(herald, "R-1", self.paused)
        herald.stop()
        herald.start()
        self.settled(herald, "R")
        self.assertEqual(self.paused.received(), [])
        code, out, err = herald.ctl("receivers", "resume", self.key,
                                    token_file=herald.token_file)
        self.assertEqual((code, out.strip()), (0, "%s resumed" % self.key), err)
        herald.wait_for_status(task_id, "succeeded")
        self.assertEqual(herald.ctl("receivers", "pause", token_file=herald.token_file)[0], 2)
        herald.stop()

    @unittest.skipUnless(database.BACKEND == "postgresql", "several heraldd share PostgreSQL")
    def test_a_pause_on_one_heraldd_holds_on_every_other(self):
        db = TestDatabase(None)
        a = self.herald(db=db)
        b = self.herald(db=db)
        self.assertEqual(self.api(a, "POST", path(self.key, "pause"))[0], 200)
        # Posted to B at once after A's pause answered: B's claims pass over them.
        waiting = [self.post(b, "M-%d" % i, self.paused) for i in range(5)]
        self.settled(b, "MB")
        self.settled(a, "MA")
        self.assertEqual(self.paused.received(), [])
        rows = {r["receiver"]: r for r in self.api(b, "GET", "/v1/receivers")[2]["receivers"]}
        self.assertTrue(rows[self.key]["paused"])
        self.assertEqual(self.api(b, "POST", path(self.key, "resume"))[0], 200)
        for task_id in waiting:
            self.assertEqual(a.wait_for_status(task_id, "succeeded")["attempts"], 1)
        b.stop()
        a.stop()

    def test_bad_requests_are_named(self):
        herald = self.herald()
        for bad in ("nonsense", "ftp%3A%2F%2Fhost", "http%3A%2F%2Fuser%40host%3A1"):
            code, _, body = self.api(herald, "POST", "/v1/receivers/%s/pause" % bad)
            self.assertEqual((code, body["error"]["code"], body["error"]["field"]),
                             (400, "invalid_parameter", "receiver"), bad)
        for body, field in (({"note": ""}, "note"), ({"note": "x" * 1025}, "note"),
                            ({"why": "x"}, "why")):
            code, _, answer = self.api(herald, "POST", path(self.key, "pause"), body)
            self.assertEqual((code, answer["error"]["field"]), (422, field), body)
        self.assertEqual(self.api(herald, "GET", path(self.key, "pause"))[0], 405)
        code, _, body = self.api(herald, "GET", "/v1/receivers/nonsense/actions")
        self.assertEqual((code, body["error"]["field"]), (400, "receiver"))
        # The reason is named.
        code, _, body = self.api(herald, "POST", path("http://example.com:0", "pause"))
        self.assertEqual(code, 400)
        self.assertRegex(body["error"]["message"], r"or a URL of it: .*port")
        for query, field in (("limit=0", "limit"), ("limit=x", "limit"), ("before=0", "before")):
            code, _, body = self.api(herald, "GET", path(self.key, "actions") + "?" + query)
            self.assertEqual((code, body["error"]["field"]), (400, field), query)
        # Any URL of the receiver will do, a long one too.
        long_url = self.paused.url("/" + "p" * 1500)
        code, _, body = self.api(herald, "POST", path(long_url, "pause"))
        self.assertEqual((code, body["receiver"]), (200, self.key), body)
        self.assertEqual(herald.db.value("SELECT count(*) FROM receiver_actions"), 1)
        herald.stop()

    @unittest.skipUnless(database.BACKEND == "postgresql", "several heraldd share PostgreSQL")
    def test_no_pause_while_an_earlier_release_shares_the_database(self):
        """A heraldd that knows fewer migrations than 012 claims without looking at
        pauses: while one beats, a pause is refused (nothing recorded); a resume is not."""
        herald = self.herald()
        self.assertEqual(self.api(herald, "POST", path(self.key, "pause"))[0], 200)
        herald.db.execute("INSERT INTO instances (id, host, pid, version, started_at,"
                          " heartbeat_at, leader, deliveries, schema_known) VALUES"
                          " ('old:1:1', 'old', 1, '0.0.9', ?, ?, false, 0, 11)",
                          int(time.time() * 1000), int(time.time() * 1000))
        other = self.other.url("")
        code, _, body = self.api(herald, "POST", path(other, "pause"))
        self.assertEqual((code, body["error"]["code"]), (409, "upgrade_in_progress"), body)
        self.assertIn("1 heraldd of an earlier release", body["error"]["message"])
        self.assertEqual(self.api(herald, "POST", path(self.key, "resume"))[0], 200)
        self.assertEqual(herald.db.value("SELECT count(*) FROM receivers WHERE paused"), 0)
        # Once it is gone (no heartbeat for a minute), pausing works again.
        herald.db.execute("UPDATE instances SET heartbeat_at = heartbeat_at - 120000"
                          " WHERE id = 'old:1:1'")
        self.assertEqual(self.api(herald, "POST", path(other, "pause"))[0], 200)
        herald.stop()

    @unittest.skipUnless(seam_built(), "the fault seam is only in the test build")
    def test_a_change_whose_reply_is_lost_is_seen_by_the_scheduler(self):
        """A resume whose COMMIT took effect but whose reply was lost answers 503; asked
        again it changes nothing (changed: false). The scheduler reads the list again
        after each request all the same, so the receiver's tasks go."""
        herald = Herald()
        herald.env["HERALD_FAULT_FILE"] = "%s/fault" % herald.directory
        self.addCleanup(herald.cleanup)
        herald.start()
        seam = Seam(herald)
        self.assertEqual(herald.request("POST", path(self.key, "pause"))[0], 200)
        task_id = self.post(herald, "LOST-1", self.paused)
        self.settled(herald, "LOST")
        # Count the writer's statements of a resume, then lose the last one's reply.
        seam.lift()
        self.assertEqual(herald.request("POST", path(self.key, "resume"))[0], 200)
        count = seam.lift()["writer"]
        self.assertEqual(herald.request("POST", path(self.key, "pause"))[0], 200)
        seam.arm("writer:%d:1:lost" % count)
        code, _, _ = herald.request("POST", path(self.key, "resume"))
        seam.lift()
        self.assertEqual(code, 503)
        self.assertEqual(herald.db.value("SELECT count(*) FROM receivers WHERE paused"), 0)
        code, _, body = herald.request("POST", path(self.key, "resume"))
        self.assertEqual((code, body["changed"]), (200, False))
        herald.wait_for_status(task_id, "succeeded")
        herald.stop()

    @unittest.skipUnless(seam_built(), "the fault seam is only in the test build")
    def test_a_storage_failure_at_any_step_leaves_neither(self):
        herald = Herald()
        herald.env["HERALD_FAULT_FILE"] = "%s/fault" % herald.directory
        self.addCleanup(herald.cleanup)
        herald.start()
        seam = Seam(herald)
        seam.lift()
        self.assertEqual(herald.request("POST", path("http://count:1", "pause"))[0], 200)
        count = seam.lift()["writer"]
        self.assertGreater(count, 0)
        for n, spec in passes(count):
            key = "http://r%s:1" % spec.replace(":", "-")
            with self.subTest(fault=spec):
                seam.arm("writer:" + spec)
                code, headers, body = herald.request("POST", path(key, "pause"),
                                                     body={"note": "n"})
                rows = herald.db.value("SELECT count(*) FROM receivers WHERE receiver = ?"
                                       " AND paused", key)
                actions = herald.db.value("SELECT count(*) FROM receiver_actions"
                                          " WHERE receiver = ?", key)
                if code == 200:
                    self.assertEqual((rows, actions), (1, 1))
                else:
                    self.assertEqual(code, 503, body)
                    self.assertIn("retry-after", headers)
                    self.assertEqual((rows, actions), (0, 0))
                seam.lift()
                if code != 200:
                    self.assertEqual(herald.request("POST", path(key, "pause"))[0], 200)
        herald.stop()


if __name__ == "__main__":
    unittest.main()
