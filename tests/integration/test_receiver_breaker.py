"""A receiver's circuit breaker (src/store/store_breaker.c): after breaker_failures
consecutive failures that count against it (5xx, timeouts, refused connections...) its
circuit opens: its tasks are parked (pending, never moved to manual handling, however
long the outage, their budget given back), one probe at a time for every heraldd
sharing the database, the probes backing off up to their cap; a successful probe
closes it and the receiver's concurrency ramps up (1, 2, 4, ...). Answers the receiver
meant (4xx) never open it. Both backends; the one-probe rule across two heraldd on
PostgreSQL."""
import json
import re
import signal
import threading
import time
import unittest
import urllib.parse

import database
from database import TestDatabase
from harness import Herald, Receiver, Seam, sqlite_only, task_request, wait_until
from test_torture import passes, seam_built

TOKEN = "ops-token-0123456789abcdef"
PROBE_MS = 300
PROBE_MAX_MS = 1200
PER_HOST = 8

CONFIG = """
[retry]
max_retry = 2
base_delay = 100ms
max_delay = 100ms
exponential_backoff = false
jitter = 0
breaker_failures = 3
[delivery]
per_host_concurrency = %d
breaker_probe_interval = %dms
breaker_probe_max_interval = %dms
""" % (PER_HOST, PROBE_MS, PROBE_MAX_MS)


class Flaky:
    """A receiver that is down (HTTP 500) until brought up, and records when each
    request started and ended and how many were in flight as it started."""

    def __init__(self, status_when_down=500):
        self.lock = threading.Lock()
        self.up = False
        self.hang = False  # down by hanging, not by answering
        self.status_when_down = status_when_down
        self.in_flight = 0
        self.log = []  # (started, ended, in flight as it started, status)
        self.receiver = Receiver(self.respond)

    def respond(self, received):
        with self.lock:
            if self.hang and not self.up:
                self.log.append((time.monotonic(), None, 0, 0))
                return "hang"
            self.in_flight += 1
            entry = [time.monotonic(), None, self.in_flight, 0]
            up = self.up
        time.sleep(0.05)  # long enough for requests in flight together to overlap
        with self.lock:
            self.in_flight -= 1
            entry[1] = time.monotonic()
            entry[3] = 200 if up else self.status_when_down
            self.log.append(tuple(entry))
        return (entry[3], {}, b"ok" if up else b"down")

    def entries(self):
        with self.lock:
            return sorted(e for e in self.log if e[1] is not None)

    def started(self):
        with self.lock:
            return len(self.log)

    def close(self):
        self.receiver.close()


class ReceiverBreakerTest(unittest.TestCase):
    def setUp(self):
        self.flaky = Flaky()
        self.addCleanup(self.flaky.close)
        self.key = self.flaky.receiver.url("")

    def herald(self, config=CONFIG, **options):
        herald = Herald(config=config, token_lines=["ops:" + TOKEN], **options)
        herald.token = TOKEN
        self.addCleanup(herald.cleanup)
        herald.start()
        return herald

    def api(self, herald, method, where, body=None):
        return herald.request(method, where, body=body, headers=herald.auth_headers())

    def post(self, herald, business_id):
        code, _, body = self.api(herald, "POST", "/v1/tasks",
                                 task_request(business_id, target_url=self.flaky.receiver.url()))
        self.assertEqual(code, 201, body)
        return body["task"]["id"]

    def row(self, herald):
        rows = self.api(herald, "GET", "/v1/receivers")[2]["receivers"]
        return next((r for r in rows if r["receiver"] == self.key), None)

    def wait_open(self, herald):
        return wait_until(lambda: (lambda r: r if r and r["circuit"] != "closed" else None)(
            self.row(herald)), message="the circuit to open")

    def check_outage(self, tasks, herald, opened_at, seconds):
        """While the circuit is open: one request at a time, probes spaced by their
        backoff, no task moved to manual handling."""
        time.sleep(seconds)  # the outage lasts: nothing here waits for herald
        entries = [e for e in self.flaky.entries() if e[0] >= opened_at]
        self.assertGreaterEqual(len(entries), 2, "probes while open")
        # Some requests claimed before the circuit opened may still end after it.
        probes = [e for e in entries if e[0] >= opened_at + 0.2]
        for earlier, later in zip(probes, probes[1:]):
            self.assertGreaterEqual(later[0], earlier[1] - 0.01, "probes overlapped")
            self.assertGreaterEqual(later[0] - earlier[1], PROBE_MS / 1000 * 0.8,
                                    "a probe came sooner than the interval")
        gaps = [b[0] - a[1] for a, b in zip(probes, probes[1:])]
        self.assertLessEqual(len(probes), 1 + seconds * 1000 / PROBE_MS, probes)
        if len(gaps) >= 3:  # backing off: the latest wait is longer than the first
            self.assertGreater(gaps[-1], gaps[0] * 1.5, gaps)
        for task_id in tasks:
            task = herald.get_task(task_id)
            self.assertIn(task["status"], ("pending", "delivering"), task)
        code, _, body = self.api(herald, "GET", "/v1/manual")
        self.assertEqual((code, body["entries"]), (200, []), body)
        return len(probes)

    def check_recovery(self, tasks, herald, up_at, instances=1):
        for task_id in tasks:
            herald.wait_for_status(task_id, "succeeded", timeout=30)
        after = [e for e in self.flaky.entries() if e[0] >= up_at and e[3] == 200]
        self.assertEqual(after[0][2], 1, "the probe that closed the circuit went alone")
        # Each heraldd ramps on its own, from when it sees the circuit close.
        self.assertLessEqual(after[1][2] if len(after) > 1 else 1, 2 * instances,
                             "the ramp's first step")
        self.assertLessEqual(max(e[2] for e in after), PER_HOST * instances)
        return max(e[2] for e in after)

    def test_an_outage_parks_probes_once_at_a_time_and_ramps_back(self):
        herald = self.herald()
        tasks = [self.post(herald, "B-%d" % i) for i in range(20)]
        row = self.wait_open(herald)
        opened_at = time.monotonic()
        herald.wait_for_log(r"event=circuit_opened receiver=%s" % self.key.replace(".", r"\."))
        self.assertGreaterEqual(row["consecutive_failures"], 3)
        self.assertIsNotNone(row["opened_at"])
        metrics = self.api(herald, "GET", "/metrics")[2]
        wait_until(lambda: 'herald_receiver_circuit_open{receiver="%s"} 1' % self.key
                   in self.api(herald, "GET", "/metrics")[2], message="the circuit's gauge")
        self.assertIn("herald_receivers_circuit_open", metrics)
        self.check_outage(tasks, herald, opened_at, 3.5)
        row = self.row(herald)
        self.assertEqual((row["circuit"] in ("open", "probing"), row["parked"] > 0),
                         (True, True), row)
        self.assertIsNotNone(row["next_probe_at"])
        # Probes are in the tasks' history; none spent a task's budget.
        attempts = sum(len(herald.attempts(t)) for t in tasks)
        self.assertEqual(attempts, len(self.flaky.entries()))
        for task_id in tasks:
            task = herald.get_task(task_id)
            failed = sum(1 for a in herald.attempts(task_id) if a["error_class"])
            self.assertGreaterEqual(task["max_retry"], min(failed, 2), task)
        up_at = time.monotonic()
        with self.flaky.lock:
            self.flaky.up = True
        self.check_recovery(tasks, herald, up_at)
        herald.wait_for_log(r"event=circuit_closed receiver=%s" % self.key.replace(".", r"\."))
        row = wait_until(lambda: (lambda r: r if r and r["circuit"] == "closed" else None)(
            self.row(herald)), message="the circuit to close")
        self.assertEqual((row["consecutive_failures"], row["parked"]), (0, 0))
        herald.stop()

    def test_a_circuit_open_too_long_alerts_until_it_closes(self):
        """circuit_open fires once a circuit has been open breaker_alert_after, naming
        the receiver, and is resolved when it closes."""
        alerts = Receiver()
        self.addCleanup(alerts.close)
        herald = self.herald(config=CONFIG + "[alert]\ninterval = 200ms\n"
                             "breaker_alert_after = 600ms\nwebhook_url = %s\n" % alerts.url())
        tasks = [self.post(herald, "A-%d" % i) for i in range(5)]
        self.wait_open(herald)
        line = herald.wait_for_log(r"event=alert kind=circuit_open state=firing count=1")
        self.assertIn(self.key, line)
        fired = json.loads(alerts.wait_for(1)[0].body)
        self.assertEqual((fired["kind"], fired["state"]), ("circuit_open", "firing"), fired)
        self.assertEqual([r["receiver"] for r in fired["receivers"]], [self.key])
        with self.flaky.lock:
            self.flaky.up = True
        for task_id in tasks:
            herald.wait_for_status(task_id, "succeeded", timeout=30)
        herald.wait_for_log(r"event=alert kind=circuit_open state=resolved")
        code, _, body = self.api(herald, "GET", "/v1/alerts")
        self.assertEqual([(a["kind"], a["state"]) for a in body["alerts"]][:2],
                         [("circuit_open", "resolved"), ("circuit_open", "firing")], body)
        herald.stop()

    def test_answers_the_receiver_meant_do_not_open_it(self):
        """400s are the receiver's answer, not its failure: the tasks exhaust their
        attempts and go to manual handling as ever; the circuit stays closed."""
        self.flaky.status_when_down = 400
        herald = self.herald()
        tasks = [self.post(herald, "C-%d" % i) for i in range(4)]
        for task_id in tasks:
            task = herald.wait_for_status(task_id, "failed")
            self.assertEqual((task["attempts"], task["max_retry"]), (2, 2))
        row = self.row(herald)
        self.assertEqual((row["circuit"], row["consecutive_failures"]), ("closed", 0))
        herald.stop()

    def test_a_failure_that_does_not_count_is_parked_all_the_same(self):
        """While the circuit is open, any failure parks its task: one of a type whose
        failures do not count (breaker_failures = 0) probed and failing too, and every
        task once a reload sets breaker_failures to 0 (found by review: such probes
        went to manual handling). A success still closes the circuit."""
        herald = self.herald(config=CONFIG + "[business.QUIET]\nbreaker_failures = 0\n")
        tasks = [self.post(herald, "Q-%d" % i) for i in range(4)]
        self.wait_open(herald)
        code, _, body = self.api(herald, "POST", "/v1/tasks", task_request(
            "QUIET-1", business_type="QUIET", target_url=self.flaky.receiver.url()))
        self.assertEqual(code, 201, body)
        quiet = body["task"]["id"]
        # Probed (probes take the earliest due: every parked task in turn) and failed.
        wait_until(lambda: len(herald.attempts(quiet)) >= 2, timeout=20,
                   message="the QUIET task probed and failed twice")
        self.assertEqual(herald.get_task(quiet)["status"], "pending")
        with open(herald.config_path) as f:
            text = f.read()
        with open(herald.config_path, "w") as f:
            f.write(text.replace("breaker_failures = 3", "breaker_failures = 0"))
        mark = len(herald.lines)
        herald.process.send_signal(signal.SIGHUP)
        herald.wait_for_log(r"event=reloaded ", start=mark)
        start = time.monotonic()
        time.sleep(4)  # probes that get no answer back off to the cap (found by review:
        probes = [e for e in self.flaky.entries() if e[0] >= start]  # they came every 0.5 s)
        gaps = [round(b[0] - a[1], 2) for a, b in zip(probes, probes[1:])]
        self.assertGreaterEqual(len(probes), 1, "probes after the reload")
        self.assertLessEqual(len(probes), 1 + 4000 // PROBE_MAX_MS + 1, gaps)
        self.assertEqual(self.api(herald, "GET", "/v1/manual")[2]["entries"], [])
        self.assertNotEqual(self.row(herald)["circuit"], "closed")
        with self.flaky.lock:
            self.flaky.up = True
        for task_id in tasks + [quiet]:
            task = herald.wait_for_status(task_id, "succeeded", timeout=30)
            self.assertLessEqual(task["attempts"], task["max_retry"], task)
        self.assertEqual(self.row(herald)["circuit"], "closed")
        herald.stop()

    @sqlite_only("one heraldd alone: at start no probe of its can be out")
    def test_a_probe_cut_off_by_a_kill_does_not_hold_the_next(self):
        """kill -9 while the probe hangs: at the restart the probe is known not to be
        out, so the next goes after the probe interval, not after its lease (30 s
        here); the task cut off is not failed while the circuit is open."""
        herald = self.herald()
        tasks = [self.post(herald, "K-%d" % i) for i in range(4)]
        self.wait_open(herald)
        with self.flaky.lock:
            self.flaky.hang = True
        hung = self.flaky.started()
        wait_until(lambda: self.flaky.started() > hung, timeout=10, message="a hung probe")
        herald.kill()
        herald.start()
        before = self.flaky.started()
        wait_until(lambda: self.flaky.started() > before, timeout=5,
                   message="a probe soon after the restart")
        self.assertEqual(self.api(herald, "GET", "/v1/manual")[2]["entries"], [])
        with self.flaky.lock:
            self.flaky.up = True
        for task_id in tasks:
            herald.wait_for_status(task_id, "succeeded", timeout=30)
        herald.stop()

    def test_breaker_failures_zero_turns_it_off(self):
        herald = self.herald(config=CONFIG.replace("breaker_failures = 3",
                                                   "breaker_failures = 0"))
        tasks = [self.post(herald, "D-%d" % i) for i in range(4)]
        for task_id in tasks:
            self.assertEqual(herald.wait_for_status(task_id, "failed")["attempts"], 2)
        self.assertEqual(self.row(herald)["circuit"], "closed")
        herald.stop()

    def test_a_restart_keeps_the_circuit_open(self):
        herald = self.herald()
        tasks = [self.post(herald, "R-%d" % i) for i in range(6)]
        self.wait_open(herald)
        herald.stop()
        herald.start()
        opened_at = time.monotonic()
        self.assertNotEqual(self.row(herald)["circuit"], "closed")
        self.check_outage(tasks, herald, opened_at, 1.5)
        up_at = time.monotonic()
        with self.flaky.lock:
            self.flaky.up = True
        self.check_recovery(tasks, herald, up_at)
        herald.stop()

    @unittest.skipUnless(database.BACKEND == "postgresql", "several heraldd share PostgreSQL")
    def test_no_circuit_opens_while_an_earlier_release_shares_the_database(self):
        """A heraldd that knows fewer migrations than 013 claims without looking at
        circuits: it would spend parked tasks' attempts. While one beats, the failures
        are counted but the circuit does not open (found by review)."""
        herald = self.herald()
        now = int(time.time() * 1000)
        herald.db.execute("INSERT INTO instances (id, host, pid, version, started_at,"
                          " heartbeat_at, leader, deliveries, schema_known) VALUES"
                          " ('old:1:1', 'old', 1, '0.0.9', ?, ?, false, 0, 12)", now, now)
        tasks = [self.post(herald, "U-%d" % i) for i in range(4)]
        herald.wait_for_log(r"event=circuit_not_opened receiver=%s" % self.key.replace(".", r"\."))
        self.assertEqual(self.row(herald)["circuit"], "closed")
        herald.db.execute("UPDATE instances SET heartbeat_at = heartbeat_at - 120000"
                          " WHERE id = 'old:1:1'")
        self.post(herald, "U-LAST")
        self.wait_open(herald)
        with self.flaky.lock:
            self.flaky.up = True
        for task_id in tasks:
            herald.wait_for_status(task_id, ("succeeded", "failed"), timeout=30)
        herald.stop()

    @unittest.skipUnless(database.BACKEND == "postgresql", "PostgreSQL's row locks")
    def test_pauses_never_deadlock_with_a_turn_counting_failures(self):
        """A turn locks receivers' rows in key order (store_breaker.c); pauses arriving
        R2 then R1 would lock them the other way if they shared one commit, and a
        deadlock would fail every job in it, tasks too (found by review). A session
        stands in for the turn here. Each pause commits alone."""
        herald = self.herald()
        keys = ["http://r%d.example:80" % i for i in range(3)]
        now = int(time.time() * 1000)
        for key in keys:
            herald.db.execute("INSERT INTO receivers (receiver, updated_at) VALUES (?, ?)",
                              key, now)
        sessions = [database.PgConnection(herald.db.name, user="herald",
                                          directory=herald.db.pg_dir) for _ in range(2)]
        sessions[0].query("BEGIN; SELECT 1 FROM receivers WHERE receiver = '%s' FOR UPDATE"
                          % keys[0])
        sessions[1].query("BEGIN; SELECT 1 FROM receivers WHERE receiver = '%s' FOR UPDATE"
                          % keys[1])
        results = {}

        def pause(key):
            results[key] = self.api(herald, "POST", "/v1/receivers/%s/pause"
                                    % urllib.parse.quote(key, safe=""), {"note": "x"})[0]

        def task():
            results["task"] = herald.request("POST", "/v1/tasks", body=task_request(
                "DL-1", target_url="https://example.com/x"), headers=herald.auth_headers())[0]

        threads = [threading.Thread(target=pause, args=(keys[0],))]
        threads[0].start()
        time.sleep(0.5)  # the writer waits for R0: what follows queues behind it
        for target, args in ((pause, (keys[2],)), (task, ()), (pause, (keys[1],))):
            threads.append(threading.Thread(target=target, args=args))
            threads[-1].start()
            time.sleep(0.2)
        sessions[0].query("COMMIT")
        time.sleep(0.5)
        # The "turn" now wants R2, after R1 as a turn would.
        sessions[1].query("SELECT 1 FROM receivers WHERE receiver = '%s' FOR UPDATE" % keys[2])
        sessions[1].query("COMMIT")
        for thread in threads:
            thread.join(15)
        for session in sessions:
            session.close()
        self.assertEqual(results, {keys[0]: 200, keys[2]: 200, "task": 201, keys[1]: 200})
        self.assertNotIn("deadlock", herald.log())
        herald.stop()

    @unittest.skipUnless(database.BACKEND == "postgresql", "several heraldd share PostgreSQL")
    def test_one_probe_at_a_time_for_every_heraldd(self):
        db = TestDatabase(None)
        a = self.herald(db=db)
        b = self.herald(db=db)
        tasks = [self.post(a if i % 2 else b, "M-%d" % i) for i in range(30)]
        self.wait_open(a)
        opened_at = time.monotonic()
        probes = self.check_outage(tasks, a, opened_at, 4)
        # Two heraldd, yet no more probes than one alone would send.
        self.assertLessEqual(probes, 1 + 4000 / PROBE_MS)
        up_at = time.monotonic()
        with self.flaky.lock:
            self.flaky.up = True
        self.check_recovery(tasks, a, up_at, instances=2)
        self.assertEqual(self.row(b)["circuit"], "closed")
        b.stop()
        a.stop()


TORTURE_CONFIG = """
[delivery]
per_host_concurrency = 1
breaker_probe_interval = 100ms
breaker_probe_max_interval = 200ms
[retry]
max_retry = 1
base_delay = 20ms
max_delay = 20ms
jitter = 0
retry_interval = 200ms
breaker_failures = 1
"""


@unittest.skipUnless(seam_built(), "the fault seam is only in the test build")
class BreakerTorture(unittest.TestCase):
    """The breaker's writes (a failure counted, the circuit opened, a probe claimed,
    failed and backed off, the circuit closed) with a storage failure at every step of
    the scheduler's turns: whatever fails, once the fault is lifted every task is
    delivered, none was moved to manual handling (each task has one attempt only, so
    any failure outside an open circuit would), each attempt is recorded once, and the
    circuit ends closed."""

    def setUp(self):
        self.flaky = Flaky()
        self.addCleanup(self.flaky.close)
        self.herald = Herald(config=TORTURE_CONFIG)
        self.herald.env["HERALD_FAULT_FILE"] = self.herald.directory + "/fault"
        self.addCleanup(self.herald.cleanup)
        self.herald.start()
        self.seam = Seam(self.herald)

    def opened(self):
        return self.herald.db.value("SELECT count(*) FROM receivers WHERE breaker_open") > 0

    def outage(self, prefix, spec=None):
        """Down: tasks go, fail, open the circuit and a probe fails; then up: every task
        is delivered and the circuit closes."""
        with self.flaky.lock:
            self.flaky.up = False
        probes = len(re.findall("event=circuit_probe_failed", self.herald.log()))
        if spec is not None:
            self.seam.arm("scheduler:" + spec)
        status, _, body = self.herald.request("POST", "/v1/tasks/batch", body={"tasks": [
            task_request("%s-%d" % (prefix, i), target_url=self.flaky.receiver.url())
            for i in range(2)]})
        self.assertEqual(status, 201, body)
        ids = [task["id"] for task in body["tasks"]]
        if spec is not None:
            time.sleep(0.3 if spec.endswith(":0") else 0.05)
            self.seam.lift()
        wait_until(self.opened, timeout=20, message="the circuit to open")
        wait_until(lambda: len(re.findall("event=circuit_probe_failed", self.herald.log()))
                   > probes, timeout=20, message="a probe to fail")
        with self.flaky.lock:
            self.flaky.up = True
        for task_id in ids:
            self.herald.wait_for_status(task_id, ("succeeded", "failed"), timeout=20)
        wait_until(lambda: not self.opened(), timeout=20, message="the circuit to close")
        for task_id in ids:
            task = self.herald.get_task(task_id)
            self.assertEqual(task["status"], "succeeded", task_id)
            # Every attempt past the budget was given back (parked), none lost to a
            # turn written again.
            self.assertLessEqual(task["attempts"], task["max_retry"], task)
        self.assertEqual(self.herald.db.value("SELECT count(*) FROM manual"), 0)

    def test_breaker_writes(self):
        self.seam.lift()
        self.outage("COUNT")
        count = self.seam.lift()["scheduler"]
        self.assertGreater(count, 0)
        print("breaker torture: %d statements a round" % count, flush=True)
        for n, spec in passes(count):
            with self.subTest(fault=spec):
                self.outage("S-" + spec.replace(":", "-"), spec)
        self.assertEqual(self.herald.db.value(
            "SELECT count(*) FROM (SELECT task_id, attempt FROM attempts"
            " GROUP BY task_id, attempt HAVING count(*) > 1) AS repeated"), 0)
        self.herald.stop()


if __name__ == "__main__":
    unittest.main()
