"""A receiver's rate limit ([receiver.PATTERN] rate_limit, rate_burst): herald never
sends it more requests in any second than the rate plus the burst, retries included,
summed over every heraldd sharing the database (PostgreSQL's receiver_rates; SQLite's
one heraldd keeps it in memory). A task waiting for a token spends no attempt. Another
receiver is not slowed. And a 429 with Retry-After that one heraldd got holds the
receiver for every heraldd sharing the database."""
import signal
import threading
import time
import unittest

import database
from database import PgConnection, TestDatabase
from harness import Herald, Receiver, Seam, task_request, wait_until
from test_torture import passes, seam_built

RATE = 20
BURST = 2
TASKS = 100


def most_in_a_second(times):
    """The most of TIMES (seconds, any order) in any one-second window."""
    times = sorted(times)
    most, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


class RateLimitTest(unittest.TestCase):
    def setUp(self):
        self.limited = Receiver(self.respond)
        self.addCleanup(self.limited.close)
        self.free = Receiver()
        self.addCleanup(self.free.close)
        self.lock = threading.Lock()
        self.failed_once = set()

    def respond(self, received):
        # A third of the tasks fail their first attempt: their retries count too.
        business_id = received.headers.get("x-business-id", "")
        with self.lock:
            if business_id.endswith(("0", "3", "6")) and business_id not in self.failed_once:
                self.failed_once.add(business_id)
                return (500, {}, b"try again")
        return (200, {}, b"ok")

    def config(self):
        return """[retry]
max_retry = 5
base_delay = 100ms
max_delay = 5s
exponential_backoff = false
jitter = 0
[delivery]
per_host_concurrency = 16
[receiver.http://127.0.0.1:%d]
rate_limit = %d/s
rate_burst = %d
""" % (self.limited.port, RATE, BURST)

    def herald(self, **options):
        herald = Herald(config=self.config(), **options)
        self.addCleanup(herald.cleanup)
        herald.start()
        self.addCleanup(herald.stop)
        return herald

    def post_all(self, heralds, count, receiver, prefix):
        ids = []
        for start in range(0, count, 50):
            chunk = [task_request("%s-%d" % (prefix, i), target_url=receiver.url())
                     for i in range(start, min(count, start + 50))]
            herald = heralds[(start // 50) % len(heralds)]
            code, _, body = herald.request("POST", "/v1/tasks/batch", body={"tasks": chunk})
            self.assertEqual(code, 201, body)
            ids += [(herald, t["id"]) for t in body["tasks"]]
        return ids

    def check_rate(self, heralds):
        began = time.monotonic()
        ids = self.post_all(heralds, TASKS, self.limited, "R")
        retried = sum(1 for i in range(TASKS) if str(i).endswith(("0", "3", "6")))
        expected = TASKS + retried
        # Meanwhile a receiver without a limit is not slowed.
        self.post_all(heralds[:1], 50, self.free, "F")
        self.free.wait_for(50, timeout=10)
        self.assertLess(time.monotonic() - began, (expected - BURST) / RATE / 2,
                        "the receiver without a limit waited for the limited one")
        requests = self.limited.wait_for(expected, timeout=expected / RATE + 20)
        took = max(r.time for r in requests) - min(r.time for r in requests)
        most = most_in_a_second([r.time for r in requests])
        self.assertLessEqual(most, RATE + BURST, "requests in one second")
        # It is not starved either: the whole run at close to the rate.
        self.assertGreaterEqual(took, (expected - BURST) / RATE - 0.05)
        self.assertLess(took, expected / RATE * 1.6 + 1)
        # Waiting for a token spent no attempt: one each, two for those that failed.
        for herald, task_id in ids:
            task = wait_until(lambda: (lambda t: t if t["status"] == "succeeded" else None)(
                herald.get_task(task_id)), message="task %d delivered" % task_id)
            business_id = task["business_id"]
            self.assertEqual(task["attempts"], 2 if business_id.endswith(("0", "3", "6")) else 1,
                             business_id)
        self.assertEqual(len(self.limited.received()), expected, "a request too many")

    def test_the_rate_holds_in_every_second(self):
        self.check_rate([self.herald()])

    @unittest.skipUnless(database.BACKEND == "postgresql", "several heraldd share PostgreSQL")
    def test_three_heraldd_share_the_rate(self):
        db = TestDatabase(None)
        self.check_rate([self.herald(db=db) for _ in range(3)])

    @unittest.skipUnless(database.BACKEND == "postgresql", "several heraldd share PostgreSQL")
    def test_a_retry_after_holds_the_receiver_for_every_heraldd(self):
        held_at = []

        def respond(received):
            with self.lock:
                if len(self.limited.received()) >= 10 and not held_at:
                    held_at.append(time.monotonic())
                    return (429, {"Retry-After": "2"}, b"slow down")
            return (200, {}, b"ok")
        self.limited.respond = respond
        db = TestDatabase(None)
        heralds = [self.herald(db=db) for _ in range(3)]
        self.post_all(heralds, 90, self.limited, "H")
        self.limited.wait_for(91, timeout=30)
        after = [r.time - held_at[0] for r in self.limited.received() if r.time > held_at[0]]
        # Requests claimed before the hold was written may still arrive just after
        # it; then none until the time it asked for.
        self.assertEqual([t for t in after if 0.4 < t < 1.9], [],
                         "requests while the receiver asked to be left alone")
        self.assertTrue(any(t >= 1.9 for t in after))


class RateEdgesTest(unittest.TestCase):
    """The bucket's edges, found by an adversarial review: a rate raised by SIGHUP does
    not leave the receiver waiting out what the slower rate charged; a turn held up
    (here by a lock the claim's gate must wait for) does not send its tokens beside a
    second burst once it goes; a Retry-After hold holds another heraldd's circuit
    probe too."""

    def test_a_raised_rate_does_not_starve_the_receiver(self):
        receiver = Receiver()
        self.addCleanup(receiver.close)
        base = """[retry]
max_retry = 5
base_delay = 100ms
max_delay = 5s
[delivery]
per_host_concurrency = 32
[receiver.http://127.0.0.1:%d]
""" % receiver.port
        herald = Herald(config=base + "rate_limit = 60/min\nrate_burst = 20\n")
        self.addCleanup(herald.cleanup)
        herald.start()
        self.addCleanup(herald.stop)

        def post(prefix, n):
            code, _, body = herald.request("POST", "/v1/tasks/batch", body={"tasks": [
                task_request("%s-%d" % (prefix, i), target_url=receiver.url()) for i in range(n)]})
            self.assertEqual(code, 201, body)
        post("A", 20)  # the burst: twenty seconds' worth at 60/min
        receiver.wait_for(20, timeout=10)
        with open(herald.config_path, "w") as f:
            f.write(base + "rate_limit = 100/s\n")
        mark = len(herald.lines)
        herald.process.send_signal(signal.SIGHUP)
        herald.wait_for_log(r"event=reloaded", start=mark)
        began = time.monotonic()
        post("B", 5)
        receiver.wait_for(25, timeout=40)
        self.assertLess(time.monotonic() - began, 3.0, "starved after its rate was raised")

    @unittest.skipUnless(database.BACKEND == "postgresql", "the shared bucket")
    def test_a_turn_held_up_sends_no_second_burst(self):
        receiver = Receiver()
        self.addCleanup(receiver.close)
        rate, burst = 2, 4
        herald = Herald(config="""[delivery]
per_host_concurrency = 16
[receiver.http://127.0.0.1:%d]
rate_limit = %d/s
rate_burst = %d
""" % (receiver.port, rate, burst))
        self.addCleanup(herald.cleanup)
        herald.start()
        self.addCleanup(herald.stop)
        db = herald.db
        locker = PgConnection(db.name, user="herald", directory=db.pg_dir)
        self.addCleanup(locker.close)
        locker.query("BEGIN")
        locker.query("LOCK TABLE receivers IN ACCESS EXCLUSIVE MODE")
        code, _, body = herald.request("POST", "/v1/tasks/batch", body={"tasks": [
            task_request("S-%d" % i, target_url=receiver.url()) for i in range(12)]})
        self.assertEqual(code, 201, body)
        time.sleep(3)  # the claim waits for the lock, its tokens taken before
        locker.query("COMMIT")
        times = sorted(r.time for r in receiver.wait_for(12, timeout=30))
        self.assertLessEqual(most_in_a_second(times), rate + burst)
        in_50ms = max(sum(1 for u in times if t <= u < t + 0.05) for t in times)
        self.assertLessEqual(in_50ms, burst, "more than a burst at once")

    @unittest.skipUnless(database.BACKEND == "postgresql", "two heraldd")
    def test_a_shared_hold_holds_another_heraldds_probe(self):
        lock = threading.Lock()
        state = {"mode": "down", "held_at": None}
        log = []

        def respond(received):
            with lock:
                now = time.monotonic()
                log.append((now, state["mode"]))
                if state["mode"] == "down":
                    return (500, {}, b"down")
                if state["held_at"] is None:
                    state["held_at"] = now
                return (503, {"Retry-After": "10"}, b"leave me alone")
        receiver = Receiver(respond)
        self.addCleanup(receiver.close)
        db = TestDatabase(None)
        heralds = []
        for _ in range(2):
            herald = Herald(config="""[retry]
max_retry = 50
base_delay = 100ms
max_delay = 30s
exponential_backoff = false
jitter = 0
breaker_failures = 3
[delivery]
breaker_probe_interval = 300ms
breaker_probe_max_interval = 600ms
""", db=db)
            self.addCleanup(herald.cleanup)
            herald.start()
            self.addCleanup(herald.stop)
            heralds.append(herald)
        for i in range(10):
            code, _, body = heralds[i % 2].request(
                "POST", "/v1/tasks", body=task_request("P-%d" % i, target_url=receiver.url()))
            self.assertEqual(code, 201, body)
        key = receiver.url("")
        wait_until(lambda: db.value("SELECT count(*) FROM receivers WHERE receiver = '%s'"
                                    " AND breaker_open" % key) == 1,
                   message="circuit open", timeout=20)
        with lock:
            state["mode"] = "hold"
        wait_until(lambda: state["held_at"] is not None, message="the 503", timeout=10)
        time.sleep(4)  # more than ten probe intervals
        with lock:
            after = [t - state["held_at"] for t, mode in log
                     if mode == "hold" and t > state["held_at"]]
        self.assertIsNotNone(db.value("SELECT held_until FROM receivers WHERE receiver = '%s'"
                                      % key))
        self.assertEqual(after, [], "a probe while the receiver asked to be left alone")


@unittest.skipUnless(seam_built() and database.BACKEND == "postgresql",
                     "the fault seam is only in the test build; the shared bucket and hold"
                     " are PostgreSQL's statements")
class RateTorture(unittest.TestCase):
    """The rate's statements (tokens taken, given back; a hold shared and read) with a
    storage failure at every step of the scheduler's turns: whatever fails, every task
    is delivered once the fault is lifted, each attempt is recorded once, and the rate
    held over the whole run."""

    def setUp(self):
        self.rounds = 0
        self.lock = threading.Lock()
        self.receiver = Receiver(self.respond)
        self.addCleanup(self.receiver.close)
        self.herald = Herald(config="""[retry]
max_retry = 10
base_delay = 50ms
max_delay = 200ms
exponential_backoff = false
jitter = 0
retry_interval = 200ms
[receiver.http://127.0.0.1:%d]
rate_limit = %d/s
rate_burst = %d
""" % (self.receiver.port, RATE, BURST))
        self.herald.env["HERALD_FAULT_FILE"] = self.herald.directory + "/fault"
        self.addCleanup(self.herald.cleanup)
        self.herald.start()
        self.seam = Seam(self.herald)
        self.held = set()

    def respond(self, received):
        # The first of each round asks for a pause: a hold (cut to max_delay) is
        # written every round.
        business_id = received.headers.get("x-business-id", "")
        with self.lock:
            if business_id.endswith("-0") and business_id not in self.held:
                self.held.add(business_id)
                return (429, {"Retry-After": "1"}, b"slow down")
        return (200, {}, b"ok")

    def round(self, prefix, spec=None):
        if spec is not None:
            self.seam.arm("scheduler:" + spec)
        status, _, body = self.herald.request("POST", "/v1/tasks/batch", body={"tasks": [
            task_request("%s-%d" % (prefix, i), target_url=self.receiver.url())
            for i in range(3)]})
        self.assertEqual(status, 201, body)
        if spec is not None:
            time.sleep(0.3 if spec.endswith(":0") else 0.05)
            self.seam.lift()
        for task in body["tasks"]:
            done = self.herald.wait_for_status(task["id"], ("succeeded", "failed"), timeout=20)
            self.assertEqual(done["status"], "succeeded", task)

    def test_rate_writes(self):
        self.seam.lift()
        self.round("COUNT")
        count = self.seam.lift()["scheduler"]
        self.assertGreater(count, 0)
        print("rate torture: %d statements a round" % count, flush=True)
        for n, spec in passes(count):
            with self.subTest(fault=spec):
                self.round("S-" + spec.replace(":", "-"), spec)
        self.assertEqual(self.herald.db.value(
            "SELECT count(*) FROM (SELECT task_id, attempt FROM attempts"
            " GROUP BY task_id, attempt HAVING count(*) > 1) AS repeated"), 0)
        self.assertLessEqual(most_in_a_second([r.time for r in self.receiver.received()]),
                             RATE + BURST)
        self.herald.stop()


if __name__ == "__main__":
    unittest.main()
