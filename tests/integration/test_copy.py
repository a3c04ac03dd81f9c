"""The move from SQLite to PostgreSQL: heraldd --copy-to URL copies everything,
verifies it, refuses what would lose or mix data, undoes itself when a step fails,
and a heraldd on PostgreSQL then delivers the copied work.

It needs both engines, so it runs in the PostgreSQL run (whose cluster it uses)."""
import os
import sqlite3
import subprocess
import unittest

import database
from database import TestDatabase
from harness import HERALDD, Herald, Receiver, wait_until

TABLES = ("tasks", "attempts", "manual", "actions", "alerts")
TASK_COLUMNS = ("id, webhook_id, business_id, business_type, target_url, target_host, status,"
                " attempts, max_retry, next_attempt_at, created_at, updated_at,"
                " last_status_code, idempotency_key, retry_base, ordering_key, ordering_key_id,"
                " ordering_seq")


@unittest.skipUnless(database.BACKEND == "postgresql",
                     "needs both engines: runs in the PostgreSQL run")
class CopyToTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        """An SQLite heraldd's life: delivered, pending, gone-to-manual, resolved,
        keyed tasks, and an alert; then two rows only an old file can hold."""
        cls.receiver_up = False
        cls.receiver = Receiver(lambda r: (200, {}, b"ok") if cls.receiver_up or
                                "/ok" in r.path else (410, {}, b"") if "/gone" in r.path
                                else (503, {}, b"down"))
        cls.source = Herald(backend="sqlite",
                            config="[retry]\nbase_delay = 1s\nmax_delay = 1s\n")
        cls.source.start()
        created = []
        for i, path in enumerate(["/ok"] * 5 + ["/later"] * 4 + ["/gone"] * 3):
            status, _, body = cls.source.create(business_id="MOVE-%d" % i,
                                                target_url=cls.receiver.url(path))
            assert status == 201, body
            created.append(body["task"]["id"])
        status, _, body = cls.source.request(
            "POST", "/v1/tasks", body={"business_id": "KEYED", "business_type": "ORDER_UPDATE",
                                       "target_url": cls.receiver.url("/ok"), "payload": "raw\t\\"},
            headers={"Idempotency-Key": "move-key-1"})
        assert status == 201, body
        cls.keyed_id = body["task"]["id"]
        # Two tasks of one ordering key: the head pending, the next waiting behind it.
        cls.ordered = []
        for i in range(2):
            status, _, body = cls.source.create(business_id="ORDERED-%d" % i,
                                                target_url=cls.receiver.url("/ordered"),
                                                ordering_key="copied")
            assert status == 201, body
            cls.ordered.append(body["task"]["id"])
        wait_until(lambda: cls.source.db.value(
            "SELECT count(*) FROM manual") == 3 and cls.source.db.value(
            "SELECT count(*) FROM tasks WHERE status = 'succeeded'") == 6, timeout=30,
            message="deliveries and manual entries")
        gone = cls.source.db.value("SELECT min(task_id) FROM manual")
        status, _, body = cls.source.request("POST", "/v1/manual/%d/resolve" % gone,
                                             body={"note": "handled by phone"})
        assert status == 200, body
        cls.source.stop()
        with sqlite3.connect(cls.source.db.path) as db:
            db.execute("INSERT INTO alerts (kind, state, count, details, created_at, sent_at)"
                       " VALUES ('manual_backlog', 'firing', 3, '{}', 1, 2)")
            db.execute("INSERT INTO alerts (kind, state, count, details, created_at, sent_at,"
                       " instance) VALUES ('delivery_lag', 'firing', 1, '{}', 3, 4, 'vm:7:8')")
            # Text SQLite took without checking, and a keyless repeat (before migration
            # 005 a repaired URL could make one).
            # A task whose retry schedule was started again by an operator's retry.
            db.execute("UPDATE tasks SET retry_base = 2 WHERE id = ?", (created[1],))
            # A redelivery job cancelled half way: the copy carries it, without the
            # lease it had (running, a heraldd on PostgreSQL would take it on).
            db.execute("INSERT INTO redelivery_jobs (state, task_status, full_schedule, pace,"
                       " reason, actor, through_id, cursor_id, matched, sent, lease_token,"
                       " lease_until, created_at, updated_at, finished_at, cancelled_by) VALUES"
                       " ('cancelled', 'failed', 1, 5, 'moved', 'ops', 9, 4, 6, 3, 'old-lease',"
                       " 99, 1, 2, 3, 'ops')")
            db.execute("UPDATE attempts SET error_message = CAST(X'6261640aff09' AS TEXT)"
                       " WHERE id = (SELECT min(id) FROM attempts WHERE error_message IS NOT NULL)")
            db.execute("INSERT INTO tasks (webhook_id, business_id, business_type, target_url,"
                       " target_host, payload, payload_is_json, request_hash, status, attempts,"
                       " max_retry, next_attempt_at, created_at, updated_at) SELECT"
                       " 'msg_legacy', business_id, business_type, target_url, target_host,"
                       " payload, payload_is_json, request_hash, 'succeeded', 1, max_retry,"
                       " next_attempt_at, created_at, updated_at FROM tasks WHERE id = ?",
                       (created[0],))
        cls.created = created

    @classmethod
    def tearDownClass(cls):
        cls.source.cleanup()
        cls.receiver.close()

    def setUp(self):
        self.target = TestDatabase(None, backend="postgresql")
        self.addCleanup(self.target.drop)

    def copy(self, env=None, args=()):
        return subprocess.run([HERALDD, "-c", self.source.config_path, "--copy-to",
                               self.target.url] + list(args), capture_output=True, text=True,
                              timeout=60, env=dict(os.environ, **(env or {})))

    def test_identities_that_repair_makes_one_are_kept_apart(self):
        """Issue 23, item 14: keys "k\\xff" and "k\\xfe" both become "k\\ufffd" in
        PostgreSQL, as do two business ids; the copy gives each repaired identity a
        suffix of its own, reports it, and completes (before: the unique index
        aborted it)."""
        source = Herald(backend="sqlite")
        self.addCleanup(source.cleanup)
        source.start()
        status, _, body = source.create(business_id="SEED")
        self.assertEqual(status, 201, body)
        source.stop()
        seed = body["task"]["id"]
        with sqlite3.connect(source.db.path) as db:
            for n, (key, business_id) in enumerate(((b"k\xff", "SEED"), (b"k\xfe", "SEED"),
                                                     (None, b"B\xff"), (None, b"B\xfe"))):
                db.execute(
                    "INSERT INTO tasks (webhook_id, business_id, business_type, target_url,"
                    " target_host, payload, payload_is_json, idempotency_key, request_hash,"
                    " status, attempts, max_retry, next_attempt_at, created_at, updated_at)"
                    " SELECT ?, CAST(? AS TEXT), business_type, target_url, target_host, payload,"
                    " payload_is_json, CAST(? AS TEXT), request_hash, 'succeeded', 1, max_retry,"
                    " next_attempt_at, created_at, updated_at FROM tasks WHERE id = ?",
                    ("msg_repaired_%d" % n, business_id, key, seed))
        completed = subprocess.run([HERALDD, "-c", source.config_path, "--copy-to",
                                    self.target.url], capture_output=True, text=True, timeout=60)
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertIn("4 task identities", completed.stdout)
        self.assertEqual(self.target.value("SELECT count(*) FROM tasks"), 5)
        keys = [row[0] for row in self.target.query(
            "SELECT idempotency_key FROM tasks WHERE idempotency_key IS NOT NULL ORDER BY id")]
        self.assertEqual(len(set(keys)), 2, keys)
        self.assertTrue(all(k.startswith("k\ufffd#herald-copy-repaired-") for k in keys), keys)

    def test_the_password_file_of_the_configuration_serves_the_copy(self):
        """Issue 23, item 15: [storage] password_file is refused without url, so the file
        the README makes cannot serve the copy from the configuration: --password-file
        gives it (read as heraldd reads password_file; libpq uses it as test_postgresql's
        password test shows)."""
        missing = os.path.join(self.source.directory, "no-such-password")
        completed = self.copy(args=["--password-file", missing])
        self.assertEqual(completed.returncode, 1, completed.stderr)
        self.assertIn("cannot read password_file %s" % missing, completed.stderr)
        self.assertEqual(self.target.value("SELECT count(*) FROM pg_tables WHERE"
                                           " tablename = 'tasks'"), 0)
        password = os.path.join(self.source.directory, "db-password")
        with open(password, "w") as f:
            f.write("not-needed-by-trust\n")
        os.chmod(password, 0o600)
        completed = self.copy(args=["--password-file", password])
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertIn("counts verified", completed.stdout)
        alone = subprocess.run([HERALDD, "-c", self.source.config_path, "--password-file",
                                password], capture_output=True, text=True, timeout=60)
        self.assertEqual(alone.returncode, 2, alone.stderr)
        self.assertIn("--password-file is for --copy-to", alone.stderr)

    def counts(self, db):
        return {table: db.value("SELECT count(*) FROM %s" % table) for table in TABLES}

    def test_copy_then_deliver_on_postgresql(self):
        completed = self.copy()
        self.assertEqual(completed.returncode, 0, completed.stderr)
        source_counts = self.counts(self.source.db)
        self.assertEqual(self.counts(self.target), source_counts)
        self.assertIn("%d tasks" % source_counts["tasks"], completed.stdout)
        self.assertIn("counts verified", completed.stdout)
        self.assertIn("1 text values were not UTF-8", completed.stdout)
        self.assertIn("1 tasks repeated an earlier task", completed.stdout)
        # Rows are the same rows: ids, identities, times, states, and bodies byte for byte.
        order = " FROM tasks ORDER BY id"
        self.assertEqual(self.target.query("SELECT " + TASK_COLUMNS + order),
                         self.source.db.query("SELECT " + TASK_COLUMNS + order))
        self.assertEqual(self.target.query("SELECT task_id, payload, headers FROM task_bodies"
                                           " ORDER BY task_id"),
                         self.source.db.query("SELECT id, payload, headers" + order))
        self.assertEqual(self.target.query("SELECT task_id, state, reason, note FROM manual"
                                           " ORDER BY id"),
                         self.source.db.query("SELECT task_id, state, reason, note FROM manual"
                                              " ORDER BY id"))
        self.assertIn("bad\n\ufffd\t", [row[0] for row in self.target.query(
            "SELECT error_message FROM attempts")])
        alerts = "SELECT id, kind, state, count, created_at, sent_at, instance FROM alerts ORDER BY id"
        self.assertEqual(self.target.query(alerts), self.source.db.query(alerts))
        self.assertEqual(self.target.query(
            "SELECT state, full_schedule, reason, cursor_id, sent, lease_token FROM redelivery_jobs"),
            [("cancelled", True, "moved", 4, 3, None)])
        keys = "SELECT id, receiver, ordering_key, last_seq, head_seq FROM ordering_keys"
        self.assertEqual(self.target.query(keys), self.source.db.query(keys))
        self.assertEqual(len(self.target.query(keys)), 1)
        # A heraldd on PostgreSQL delivers the copied pending work, under the same ids.
        type(self).receiver_up = True
        herald = Herald(db=self.target)
        self.addCleanup(herald.cleanup)
        herald.start()
        later = [r[0] for r in self.target.query("SELECT webhook_id FROM tasks WHERE"
                                                 " target_url LIKE '%/later'")]
        self.assertEqual(len(later), 4)
        for task_id in self.created[5:9] + self.ordered:
            herald.wait_for_status(task_id, "succeeded", timeout=30)
        self.assertEqual([r.headers["x-herald-sequence"]
                          for r in self.receiver.received("/ordered")][-2:], ["1", "2"],
                         "the key's order after the copy")
        self.assertLessEqual(set(later), {r.headers["webhook-id"] for r in
                                          self.receiver.received("/later")})
        # Identity and idempotency carry over; new ids follow the copied ones.
        status, _, body = herald.request(
            "POST", "/v1/tasks", body={"business_id": "KEYED", "business_type": "ORDER_UPDATE",
                                       "target_url": self.receiver.url("/ok"), "payload": "raw\t\\"},
            headers={"Idempotency-Key": "move-key-1"})
        self.assertEqual((status, body["task"]["id"]), (200, self.keyed_id))
        status, _, body = herald.create(business_id="MOVE-0", target_url=self.receiver.url("/ok"))
        self.assertEqual((status, body["task"]["id"]), (200, self.created[0]))
        status, _, body = herald.create(business_id="AFTER-MOVE")
        self.assertEqual(status, 201)
        self.assertGreater(body["task"]["id"], max(self.created))
        status, _, body = herald.request("GET", "/v1/manual?state=open")
        self.assertEqual(len(body["entries"]), 2)
        herald.stop()
        # The destination is no longer empty: a second copy is refused.
        completed = self.copy()
        self.assertEqual(completed.returncode, 1)
        self.assertIn("already holds herald's data", completed.stderr)

    def test_refused_while_heraldd_runs(self):
        self.source.start()
        try:
            completed = self.copy()
        finally:
            self.source.stop()
        self.assertEqual(completed.returncode, 1)
        self.assertIn("another heraldd", completed.stderr)
        self.assertEqual(self.target.value("SELECT count(*) FROM pg_tables WHERE tablename ="
                                           " 'tasks'"), 0)

    def test_a_failure_at_any_step_leaves_the_destination_empty(self):
        """The fault seam fails each statement of the copy in turn as a full disk
        would: each run fails cleanly and leaves no row behind. Then a lost connection
        at each step: the copy fails cleanly, or (before its transaction began)
        reconnects and completes."""
        def copy_with_fault(step, kind):
            completed = self.copy({"HERALD_FAULT": "main:%d:1:%s" % (step, kind)})
            self.assertNotIn("AddressSanitizer", completed.stderr)
            if completed.returncode == 0:
                self.assertEqual(self.counts(self.target), self.counts(self.source.db))
                self.target.execute("TRUNCATE tasks, task_bodies, attempts, manual, actions,"
                                    " alerts")
                return True
            self.assertEqual(completed.returncode, 1, completed.stderr)
            self.assertIn("event=copy_failed", completed.stderr)
            if self.target.value("SELECT count(*) FROM pg_tables WHERE tablename = 'tasks'"):
                self.assertEqual(self.counts(self.target), dict.fromkeys(TABLES, 0),
                                 "after a fault at step %d (%s)" % (step, kind))
            return False

        steps = 0
        while not copy_with_fault(steps + 1, "full"):
            steps += 1
            self.assertLess(steps, 200, "the copy never got past its faults")
        self.assertGreater(steps, 10)  # migrations, the check, each table, the commit
        failed = [step for step in range(1, steps + 1) if not copy_with_fault(step, "drop")]
        self.assertGreater(len(failed), steps // 2)  # inside the transaction: no retry


if __name__ == "__main__":
    unittest.main()
