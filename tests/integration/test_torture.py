"""The torture test: every write path, with a storage failure at every step.

For each path, the path is run once with the fault seam counting (src/common/fault.h), which
says how many storage operations (statements) its thread role makes. Then for N = 1 ..
that count the N-th operation fails (SQLITE_FULL, and in a second pass the N-th and
every one after it until the fault is lifted), and after each run:
  - heraldd still runs and answers /healthz; nothing leaks or trips a sanitizer (checked
    when heraldd stops);
  - the API answered the operation's documented error (503 unavailable with
    Retry-After) or succeeded, and the database holds exactly what was answered: a 201
    task is stored, a batch is all or nothing, a repair has its audit row or neither;
  - the scheduler's bookkeeping is whole: once the fault is lifted every accepted task
    is delivered or in manual handling, and every receiver has all of its slots back
    (per_host_concurrency = 1, so one leaked slot stops its deliveries for good).

Run one path alone: python3 tests/integration/run.py --heraldd build/asan/heraldd
--heraldctl build/asan/heraldctl -k torture.SchedulerTorture
"""
import json
import os
import re
import subprocess
import time
import unittest

from database import schema_stops
from harness import HERALDD, Herald, Receiver, Seam, closed_port_url, task_request, wait_until

CONFIG = """[delivery]
concurrency = 8
per_host_concurrency = 1
timeout = 2s
[retry]
max_retry = 2
base_delay = 100ms
max_delay = 200ms
jitter = 0
retry_interval = 200ms
"""


def seam_built():
    """The fault seam is only in the test build: a release heraldd ignores HERALD_FAULT."""
    completed = subprocess.run([HERALDD, "-c", "/nonexistent.conf"], capture_output=True,
                               text=True, env=dict(os.environ, HERALD_FAULT="count"))
    return "event=fault_armed" in completed.stderr


def torture_herald(test, config=CONFIG):
    herald = Herald(config=config)
    herald.env["HERALD_FAULT_FILE"] = os.path.join(herald.directory, "fault")
    test.addCleanup(herald.cleanup)
    herald.start()
    return herald, Seam(herald)


def db_count(herald, sql, *args):
    return herald.db.value(sql, *args)


def passes(count):
    """(spec suffix, description) for both passes over every operation 1..COUNT."""
    for n in range(1, count + 1):
        yield n, "%d:1" % n      # the N-th fails
    for n in range(1, count + 1):
        yield n, "%d:0" % n      # the N-th and every one after it, until lifted


@unittest.skipUnless(seam_built(), "the fault seam is only in the test build")
class IntakeTorture(unittest.TestCase):
    def setUp(self):
        self.receiver = Receiver()
        self.addCleanup(self.receiver.close)
        self.herald, self.seam = torture_herald(self)

    def post(self, path, body):
        return self.herald.request("POST", path, body=body)

    def assert_unavailable(self, response):
        status, headers, body = response
        self.assertEqual(status, 503, body)
        self.assertEqual(body["error"]["code"], "unavailable")
        self.assertIn("retry-after", headers)

    def stored(self, prefix):
        return db_count(self.herald, "SELECT count(*) FROM tasks WHERE business_id LIKE ?",
                        prefix + "%")

    def run_path(self, name, make_body, path, size):
        self.seam.lift()
        self.assertEqual(self.post(path, make_body("%s-COUNT" % name))[0], 201)
        count = self.seam.lift()["writer"]
        self.assertGreater(count, 0)
        accepted = []
        for n, spec in passes(count):
            with self.subTest(path=name, fault=spec):
                prefix = "%s-%s-" % (name, spec.replace(":", "-"))
                self.seam.arm("writer:" + spec)
                first = self.post(path, make_body(prefix))
                if first[0] == 201:
                    self.assertEqual(self.stored(prefix), size)  # a 201 is stored, whole
                    accepted.append(prefix)
                else:
                    self.assert_unavailable(first)
                    self.assertEqual(self.stored(prefix), 0)  # nothing half-written
                    if spec.endswith(":0"):  # still failing until lifted
                        self.assert_unavailable(self.post(path, make_body(prefix)))
                self.seam.lift()
                again = self.post(path, make_body(prefix))  # the client retries
                self.assertIn(again[0], (200, 201), again[2])
                self.assertEqual(self.stored(prefix), size)
                self.assertEqual(self.herald.request("GET", "/healthz")[0], 200)
        # Everything accepted goes out once the disk is well again.
        wait_until(lambda: db_count(self.herald, "SELECT count(*) FROM tasks WHERE status != "
                                    "'succeeded'") == 0, timeout=60,
                   message="every accepted task to be delivered")
        self.herald.stop()

    def test_single_intake(self):
        self.run_path("ONE", lambda prefix: task_request(prefix + "0",
                                                         target_url=self.receiver.url()),
                      "/v1/tasks", 1)

    def test_batch_intake(self):
        self.run_path("BATCH", lambda prefix: {"tasks": [
            task_request(prefix + str(i), target_url=self.receiver.url()) for i in range(3)]},
            "/v1/tasks/batch", 3)


@unittest.skipUnless(seam_built(), "the fault seam is only in the test build")
class SchedulerTorture(unittest.TestCase):
    """Claims (three receivers in one turn), outcomes, and the retry bookkeeping."""

    def setUp(self):
        self.receivers = [Receiver() for _ in range(3)]
        for receiver in self.receivers:
            self.addCleanup(receiver.close)
        self.herald, self.seam = torture_herald(self)

    def deliver_round(self, prefix):
        status, _, body = self.herald.request("POST", "/v1/tasks/batch", body={"tasks": [
            task_request("%s-%d" % (prefix, i), target_url=receiver.url())
            for i, receiver in enumerate(self.receivers)]})
        self.assertEqual(status, 201, body)
        return [task["id"] for task in body["tasks"]]

    def settled(self, ids):
        """Every task delivered or in manual handling, every receiver's slots free."""
        for task_id in ids:
            self.herald.wait_for_status(task_id, ("succeeded", "failed"), timeout=20)
        _, _, metrics = self.herald.request("GET", "/metrics")
        wait_until(lambda: not re.search(r'herald_receiver_in_flight\{receiver="[^"]+"\} [1-9]',
                                         self.herald.request("GET", "/metrics")[2]),
                   timeout=10, message="every receiver's slots to be free")

    def assert_no_spin(self, counts, seconds):
        """A failing write is retried every 100 ms, not in a loop that burns a core."""
        self.assertLess(counts["scheduler"], 100 + 200 * seconds, counts)

    def test_claims_and_outcomes(self):
        self.seam.lift()
        self.settled(self.deliver_round("COUNT"))
        count = self.seam.lift()["scheduler"]
        self.assertGreater(count, 0)
        for n, spec in passes(count):
            with self.subTest(fault=spec):
                self.seam.arm("scheduler:" + spec)
                ids = self.deliver_round("S-" + spec.replace(":", "-"))
                time.sleep(0.3 if spec.endswith(":0") else 0)  # a while of failing turns
                self.assert_no_spin(self.seam.lift(), 0.3)
                self.settled(ids)
                # The slots are really back: each receiver takes one more at once.
                self.settled(self.deliver_round("AFTER-" + spec.replace(":", "-")))
                self.assertEqual(self.herald.request("GET", "/healthz")[0], 200)
        self.herald.stop()

    def test_claims_and_outcomes_whose_reply_is_lost(self):
        """Each step in turn runs and then loses its reply (the connection drops after
        it): for the COMMIT, the turn did commit, and the scheduler must read that back
        rather than guess. Whatever the step, every task is delivered once, with one
        attempt row per attempt and nothing recorded as interrupted."""
        self.seam.lift()
        self.settled(self.deliver_round("LOST-COUNT"))
        count = self.seam.lift()["scheduler"]
        self.assertGreater(count, 0)
        for n in range(1, count + 1):
            spec = "%d:1:lost" % n
            with self.subTest(fault=spec):
                self.seam.arm("scheduler:" + spec)
                ids = self.deliver_round("LOST-%d" % n)
                self.settled(ids)
                self.seam.lift()
                for task_id in ids:
                    self.assertEqual(self.herald.get_task(task_id)["status"], "succeeded")
                    attempts = [(a["attempt"], a["error_class"])
                                for a in self.herald.attempts(task_id)]
                    self.assertEqual(attempts, [(1, None)], (task_id, attempts))
        self.assertEqual(db_count(self.herald, "SELECT count(*) FROM (SELECT task_id, attempt"
                                  " FROM attempts GROUP BY task_id, attempt"
                                  " HAVING count(*) > 1) AS repeated"), 0)
        # Some pass lost a COMMIT's reply, and its effect was read back.
        self.assertRegex(self.herald.log(), r"event=commit_read_back committed=yes")
        self.herald.stop()

    def test_lease_sweep(self):
        """The periodic sweep: a lease that ended without an outcome (here planted:
        a delivered task marked in flight with a lease long over) is made due again."""
        self.herald.stop()
        self.herald, self.seam = torture_herald(self, CONFIG.replace(
            "[delivery]", "[delivery]\nlease_sweep_interval = 200ms"))
        receiver = self.receivers[0]

        def delivered(name):
            status, _, body = self.herald.create(business_id=name, target_url=receiver.url())
            self.assertEqual(status, 201, body)
            self.herald.wait_for_status(body["task"]["id"], "succeeded")
            return body["task"]["id"]

        def plant(task_id):
            self.herald.db.execute("UPDATE tasks SET status = 'delivering', next_attempt_at = 1 "
                                   "WHERE id = ?", task_id)

        def swept(task_id):
            self.herald.wait_for_status(task_id, "succeeded", timeout=20)
            self.assertEqual(db_count(self.herald, "SELECT count(*) FROM attempts WHERE "
                                      "task_id = ? AND error_class = 'interrupted'", task_id), 1)

        task_id = delivered("SWEEP-COUNT")
        self.seam.lift()
        plant(task_id)
        swept(task_id)
        count = self.seam.lift()["scheduler"]
        self.assertGreater(count, 4)
        for n, spec in passes(count):
            with self.subTest(fault=spec):
                task_id = delivered("SWEEP-" + spec.replace(":", "-"))
                self.seam.arm("scheduler:" + spec)
                plant(task_id)
                time.sleep(0.5 if spec.endswith(":0") else 0)  # failing sweeps
                self.assert_no_spin(self.seam.lift(), 0.5)
                swept(task_id)
                self.settled([task_id])
                self.assertEqual(self.herald.request("GET", "/healthz")[0], 200)
        self.herald.stop()


@unittest.skipUnless(seam_built(), "the fault seam is only in the test build")
class RepairTorture(unittest.TestCase):
    """Manual retry, retry with edits, redelivery, resolve, bulk retry and bulk resolve:
    the change and its audit row together, or neither."""

    def setUp(self):
        self.healthy = Receiver()
        self.addCleanup(self.healthy.close)
        self.herald, self.seam = torture_herald(self)
        self.closed = closed_port_url()

    def failed_tasks(self, prefix, count, business_type="PAYMENT_SUCCESS"):
        status, _, body = self.herald.request("POST", "/v1/tasks/batch", body={"tasks": [
            task_request("%s-%d" % (prefix, i), target_url=self.closed, max_retry=1,
                         business_type=business_type) for i in range(count)]})
        self.assertEqual(status, 201, body)
        ids = [task["id"] for task in body["tasks"]]
        for task_id in ids:
            self.herald.wait_for_status(task_id, "failed")
        wait_until(lambda: all(self.open_entries(task_id) == 1 for task_id in ids),
                   message="the tasks to be in manual handling")
        return ids

    def actions(self, task_id):
        return db_count(self.herald, "SELECT count(*) FROM actions WHERE task_id = ?", task_id)

    def open_entries(self, task_id):
        return db_count(self.herald, "SELECT count(*) FROM manual WHERE task_id = ? AND "
                        "state = 'open'", task_id)

    def still_open(self, entries):
        """How many of the entries ENTRIES (ids) are open."""
        return sum(db_count(self.herald, "SELECT count(*) FROM manual WHERE id = ? AND "
                            "state = 'open'", entry) for entry in entries)

    def open_entry_ids(self, ids):
        return [row[0] for task_id in ids for row in self.herald.db.query(
            "SELECT id FROM manual WHERE task_id = ? AND state = 'open'", task_id)]

    def torture(self, name, repair, per_run):
        """REPAIR(ids) makes one repair of PER_RUN fresh failed tasks; returns the response."""
        ids = self.failed_tasks(name + "-COUNT", per_run, business_type=name + "_COUNT")
        self.seam.lift()
        self.assertEqual(repair(ids, name + "_COUNT")[0], 200)
        count = self.seam.lift()["writer"]
        self.assertGreater(count, 0)
        for n, spec in passes(count):
            with self.subTest(repair=name, fault=spec):
                business_type = "%s_%s" % (name, spec.replace(":", "_"))
                ids = self.failed_tasks(business_type, per_run, business_type=business_type)
                before = [self.herald.get_task(t) for t in ids]
                entries = self.open_entry_ids(ids)
                self.seam.arm("writer:" + spec)
                status, headers, body = repair(ids, business_type)
                # The entries that were open, not whichever is open now: a task
                # sent again may fail again and get a new one at once.
                if status == 200:
                    self.assertTrue(all(self.actions(t) == 1 for t in ids))
                    self.assertEqual(self.still_open(entries), 0)
                else:
                    self.assertEqual(status, 503, body)
                    self.assertIn("retry-after", headers)
                    self.assertTrue(all(self.actions(t) == 0 for t in ids))  # neither
                    self.assertEqual(self.still_open(entries), len(ids))
                    # and the task itself as it was: URL, payload, headers, budget
                    self.assertEqual([self.herald.get_task(t) for t in ids], before)
                self.seam.lift()
                if status != 200:  # the operator tries again
                    self.assertEqual(repair(ids, business_type)[0], 200)
                self.assertTrue(all(self.actions(t) == 1 for t in ids))
                self.assertEqual(self.herald.request("GET", "/healthz")[0], 200)
        self.herald.stop()

    def test_retry(self):
        self.torture("RETRY", lambda ids, _: self.herald.request(
            "POST", "/v1/manual/%d/retry" % ids[0], body={"note": "again"}), 1)

    def test_retry_with_edits(self):
        self.torture("EDIT", lambda ids, _: self.herald.request(
            "POST", "/v1/manual/%d/retry" % ids[0],
            body={"target_url": self.healthy.url(), "payload": {"fixed": True},
                  "headers": {"X-Fixed": "yes"}}), 1)

    def test_redeliver(self):
        self.torture("REDELIVER", lambda ids, _: self.herald.request(
            "POST", "/v1/tasks/%d/redeliver" % ids[0], body={"reason": "again"}), 1)

    def test_resolve(self):
        self.torture("RESOLVE", lambda ids, _: self.herald.request(
            "POST", "/v1/manual/%d/resolve" % ids[0], body={"note": "by hand"}), 1)

    def test_bulk_retry(self):
        self.torture("BULK", lambda ids, business_type: self.herald.request(
            "POST", "/v1/manual/retry", body={"business_type": business_type}), 3)

    def test_bulk_resolve_of_a_selection(self):
        self.torture("SELECT", lambda ids, _: self.herald.request(
            "POST", "/v1/manual/resolve", body={"task_ids": ids, "note": "by hand"}), 3)


@unittest.skipUnless(seam_built(), "the fault seam is only in the test build")
class AlertTorture(unittest.TestCase):
    """Alert raise and resolve, and retention, whose writes go through the writer:
    whatever fails, each alert is stored and sent once, and retention deletes a task
    with everything of it or nothing."""

    def test_raise_and_resolve(self):
        sink = Receiver()
        self.addCleanup(sink.close)
        herald, seam = torture_herald(self, CONFIG + "[alert]\ninterval = 100ms\nthreshold = 1\n"
                                      "cooldown = 1h\nwebhook_url = %s\n" % sink.url())
        closed = closed_port_url()
        seam.lift()
        time.sleep(0.5)
        idle = seam.lift()["writer"]  # retention's operations per half second, alone
        status, _, body = herald.request("POST", "/v1/tasks", body=task_request(
            "ALERT-COUNT", target_url=closed, max_retry=1))
        task_id = body["task"]["id"]
        herald.wait_for_status(task_id, "failed")

        def new_alerts(seen):
            """The first state of each alert the sink got whose id is not in SEEN (a
            sink may get an alert twice, by the same id: at least once)."""
            states = {}
            for request in sink.received():
                body = json.loads(request.body)
                if body["id"] not in seen:
                    states.setdefault(body["id"], body["state"])
            return states

        def wait_for_state(seen, state):
            wait_until(lambda: state in new_alerts(seen).values(), timeout=15,
                       message="a %s alert" % state)
        wait_for_state(set(), "firing")
        herald.request("POST", "/v1/manual/%d/resolve" % task_id, body={"note": "n"})
        wait_for_state(set(), "resolved")
        count = max(seam.lift()["writer"] - idle, 1)
        for n, spec in passes(count):
            with self.subTest(fault=spec):
                seen = {json.loads(r.body)["id"] for r in sink.received()}
                seam.arm("writer:" + spec)
                status, _, body = herald.request("POST", "/v1/tasks", body=task_request(
                    "ALERT-%s" % spec, target_url=closed, max_retry=1))
                time.sleep(0.25)  # a couple of alert intervals with the fault armed
                seam.lift()
                if status == 201:
                    task_id = body["task"]["id"]
                else:  # the fault hit the intake itself: send it again
                    task_id = herald.request("POST", "/v1/tasks", body=task_request(
                        "ALERT-%s" % spec, target_url=closed, max_retry=1))[2]["task"]["id"]
                herald.wait_for_status(task_id, "failed")
                wait_for_state(seen, "firing")
                seam.arm("writer:" + spec)
                herald.request("POST", "/v1/manual/%d/resolve" % task_id, body={"note": "n"})
                time.sleep(0.25)
                seam.lift()
                if db_count(herald, "SELECT count(*) FROM manual WHERE task_id = ? AND "
                            "state = 'open'", task_id):
                    herald.request("POST", "/v1/manual/%d/resolve" % task_id,
                                   body={"note": "n"})
                wait_for_state(seen, "resolved")
                time.sleep(0.15)  # an alert raised twice would arrive by now
                # One firing, one resolved: never lost, never raised twice. A sink may
                # get one again when recording that it took it failed, or when it was
                # too slow to answer (at least once, by the same id, which is what
                # receivers drop duplicates by).
                states = new_alerts(seen)
                self.assertEqual(sorted(states.values()), ["firing", "resolved"], states)
        self.assertEqual(herald.request("GET", "/healthz")[0], 200)
        herald.stop()

    def test_retention(self):
        receiver = Receiver()
        self.addCleanup(receiver.close)
        herald, seam = torture_herald(self, CONFIG + "[alert]\ninterval = 100ms\n"
                                      "[storage]\nretention = 1s\n")

        def delivered_batch(name):
            """Three delivered tasks; retention may delete them a second later."""
            status, _, body = herald.request("POST", "/v1/tasks/batch", body={"tasks": [
                task_request("RET-%s-%d" % (name, i), target_url=receiver.url())
                for i in range(3)]})
            for task in body["tasks"]:
                herald.wait_for_status(task["id"], "succeeded")
            return time.monotonic() + 1.1, "RET-%s-%%" % name

        def left(pattern):
            return db_count(herald, "SELECT count(*) FROM tasks WHERE business_id LIKE ?",
                            pattern)

        old_at, pattern = delivered_batch("COUNT")
        seam.lift()
        wait_until(lambda: left(pattern) == 0, message="retention to run")
        time.sleep(0.2)
        count = seam.lift()["writer"]  # one retention turn, alone on the writer
        self.assertGreater(count, 0)
        runs = list(passes(count))
        ready = delivered_batch(runs[0][1])
        for index, (n, spec) in enumerate(runs):
            with self.subTest(fault=spec):
                old_at, pattern = ready
                # The next run's tasks age while this one runs.
                time.sleep(max(0, old_at - time.monotonic()))
                seam.arm("writer:" + spec)
                time.sleep(0.25)  # retention turns with the fault armed
                seam.lift()
                # Deleted with its attempts, or kept whole: no attempt without its task.
                self.assertEqual(db_count(herald, "SELECT count(*) FROM attempts WHERE task_id "
                                          "NOT IN (SELECT id FROM tasks)"), 0)
                wait_until(lambda: left(pattern) == 0, timeout=10,
                           message="retention to go on once the disk is well")
                if index + 1 < len(runs):
                    ready = delivered_batch(runs[index + 1][1])
        self.assertEqual(herald.request("GET", "/healthz")[0], 200)
        herald.stop()


@unittest.skipUnless(seam_built(), "the fault seam is only in the test build")
class StartupTorture(unittest.TestCase):
    """Migrations and the recovery of interrupted deliveries at start-up: a failure
    stops heraldd with a clear error and leaves the database as it was."""

    def test_migrations_and_recovery(self):
        herald = Herald()
        self.addCleanup(herald.cleanup)
        herald.env["HERALD_FAULT"] = "count"
        herald.env["HERALD_FAULT_FILE"] = os.path.join(herald.directory, "fault")
        herald.start()
        count = Seam(herald).lift()["main"]  # everything start-up does on the main thread
        herald.stop()
        self.assertGreater(count, 5)
        for n, spec in passes(count):
            with self.subTest(fault=spec):
                herald.db.reset()
                herald.env["HERALD_FAULT"] = "main:" + spec
                try:
                    herald.start()
                except AssertionError:  # it stopped, as it must when start-up cannot finish
                    code = herald.process.wait(30)
                    herald._reader.join(5)
                    self.assertEqual(code, 1, herald.log())
                    self.assertIn("event=startup_failed", herald.log())
                    self.assertNotIn("Sanitizer", herald.log())
                    herald.process = None
                else:  # the fault hit what runs after start-up (the status report)
                    herald.stop()
                # All of the schema, or none, or (PostgreSQL) all before a migration
                # that runs outside a transaction.
                self.assertIn(herald.db.schema(), schema_stops())
        del herald.env["HERALD_FAULT"]
        herald.start()  # and a clean start migrates
        self.assertEqual(herald.create(business_id="AFTER")[0], 201)
        herald.stop()


@unittest.skipUnless(seam_built(), "the fault seam is only in the test build")
class RecoveryTorture(unittest.TestCase):
    """The lease sweep at start-up: deliveries a crash left in flight (their leases
    ended) are logged as interrupted and made due again, in one transaction, or not
    at all."""

    def test_recovery_of_interrupted_deliveries(self):
        state = {"hang": True}
        receiver = Receiver(lambda r: "hang" if state["hang"] else (200, {}, b"ok"))
        self.addCleanup(receiver.close)
        herald = Herald(config=CONFIG.replace("timeout = 2s", "timeout = 60s")
                        .replace("per_host_concurrency = 1", "per_host_concurrency = 4"))
        self.addCleanup(herald.cleanup)
        herald.start()
        status, _, body = herald.request("POST", "/v1/tasks/batch", body={"tasks": [
            task_request("CRASH-%d" % i, target_url=receiver.url("/r%d" % i)) for i in range(3)]})
        ids = [task["id"] for task in body["tasks"]]
        receiver.wait_for(3)
        herald.kill()  # three deliveries in flight, as a crash leaves them
        # ... and their leases ended while heraldd was down (on PostgreSQL, start-up
        # recovers only ended leases: the others may be another heraldd's).
        herald.db.execute("UPDATE tasks SET next_attempt_at = 0 WHERE status = 'delivering'")
        herald.db.snapshot("crashed")

        def interrupted():
            return db_count(herald, "SELECT count(*) FROM attempts WHERE error_class = "
                            "'interrupted'")

        def restore():
            herald.db.restore("crashed")

        restore()
        herald.env["HERALD_FAULT"] = "count"
        herald.env["HERALD_FAULT_FILE"] = os.path.join(herald.directory, "fault")
        herald.start()
        count = Seam(herald).lift()["main"]
        herald.kill()
        for n, spec in passes(count):
            with self.subTest(fault=spec):
                restore()
                herald.env["HERALD_FAULT"] = "main:" + spec
                try:
                    herald.start()
                    herald.kill()
                except AssertionError:
                    self.assertEqual(herald.process.wait(30), 1, herald.log())
                    self.assertNotIn("Sanitizer", herald.log())
                    herald.process = None
                delivering = db_count(herald, "SELECT count(*) FROM tasks WHERE status = "
                                      "'delivering'")
                # All three recovered with one interrupted attempt each (and maybe
                # claimed again since), or none touched.
                self.assertIn((delivering, interrupted()), ((3, 0), (0, 3), (3, 3)))
        restore()
        del herald.env["HERALD_FAULT"]
        state["hang"] = False
        herald.start()
        for task_id in ids:
            herald.wait_for_status(task_id, "succeeded")
        herald.stop()


@unittest.skipUnless(os.environ.get("HERALD_RELEASE_HERALDD"), "no release build given")
class ReleaseBuildTest(unittest.TestCase):
    def test_the_release_build_has_no_seam(self):
        herald = Herald(binary=os.environ["HERALD_RELEASE_HERALDD"])
        herald.env["HERALD_FAULT"] = "writer:1:0"  # would fail every write
        self.addCleanup(herald.cleanup)
        herald.start()
        self.assertIn("event=fault_seam_absent", herald.log())
        self.assertEqual(herald.create(business_id="RELEASE")[0], 201)
        herald.stop()


if __name__ == "__main__":
    unittest.main()
