"""The fault campaign (issue 21): heraldd under a steady load while a nemesis injects
faults one at a time, in a random order drawn from a printed seed, then heals them;
once the system has drained, a checker reads the whole history and checks the
invariants (campaign/checker.py). And /readyz's promise under a stalled scheduler.

On PostgreSQL: three heraldd on a cluster of the campaign's own (it stops its
server), every fault of campaign/nemesis.py. On SQLite: one heraldd, the faults that
apply to it (kill -9, slow DNS, slow receiver).

  HERALD_CAMPAIGN_SEED=N      replay a campaign's order of faults and its load
  HERALD_CAMPAIGN_SECONDS=S   keep injecting (whole rounds of every fault) S seconds;
                              default 60 (make test); make campaign SECONDS=S
  HERALD_CAMPAIGN_STRICT=1    fail on the known failures below too
"""
import os
import random
import sys
import time
import unittest

import database
from harness import Herald, Receiver, task_request, wait_until

from campaign.checker import Checker
from campaign.load import Load
from campaign.nemesis import Nemesis, campaign_seconds
from campaign.world import (CONFIG, LEASE_S, LOOKUP_MS, SHIM, SLOW_NAME, Cluster, Instance,
                            RecordingReceiver, preload, stop_instances)

# Invariants known to fail on the current code, each with the defect that a
# change under way fixes; they are reported but do not fail the run unless
# HERALD_CAMPAIGN_STRICT=1. Remove an entry when its fix lands.
KNOWN_FAILURES = {
    # Invariants that fail on the current code for a reason being fixed, each with
    # the reason; none now. (Leader fencing, /readyz's lag and the rescue rule that
    # sent an acknowledged task to manual handling were the campaign's first finds.)
}
STRICT = os.environ.get("HERALD_CAMPAIGN_STRICT") == "1"


def say(text):
    sys.stdout.write("campaign[%s] %s\n" % (database.BACKEND, text))
    sys.stdout.flush()


class World:
    """What the nemesis acts on and the checker reads."""

    def __init__(self, test):
        self.backend = database.BACKEND
        self.cluster = None
        shared = None
        if self.backend == "postgresql":
            self.cluster = Cluster()
            test.addCleanup(self.cluster.stop)  # last: after every heraldd is gone
            shared = self.cluster.database()
        self.receivers = {}
        # The alert sink answers in 0.3 s: a leader's send is under way longer, so a
        # fault more often meets one (a second leader must not send it again).
        for name, kind, delay in (("healthy1", "healthy", 0), ("healthy2", "healthy", 0),
                                  ("failing", "failing", 0), ("slow", "slow", 0.2),
                                  ("dns", "healthy", 0), ("sink", "sink", 0.3)):
            receiver = RecordingReceiver(name, kind, delay)
            test.addCleanup(receiver.close)
            self.receivers[name] = receiver
        config = CONFIG % self.receivers["sink"].url()
        count = 3 if self.backend == "postgresql" else 1
        self.instances = []
        for index in range(count):
            instance = Instance(index, shared, config, base_env={
                "LD_PRELOAD": preload(os.environ.get("HERALD_HERALDD", "build/asan/heraldd"),
                                      SHIM),
                "HERALD_SLOW_NAMES": "%s:%d" % (SLOW_NAME, LOOKUP_MS)})
            test.addCleanup(instance.cleanup)
            self.instances.append(instance)
        self.db = shared or self.instances[0].herald.db
        self.load = None

    def targets(self):
        r = self.receivers
        # (name, url, max_retry, weight); the slow-DNS name only during its fault.
        return [("healthy1", r["healthy1"].url(), 5, 35), ("healthy2", r["healthy2"].url(), 5, 35),
                ("failing", r["failing"].url(), 3, 12), ("slow", r["slow"].url(), 5, 15),
                ("dns", r["dns"].url(SLOW_NAME), 2, None)]


class CampaignTest(unittest.TestCase):
    def test_campaign(self):
        if not os.path.exists(SHIM):
            self.fail("%s is missing: make asan builds it" % SHIM)
        seed = int(os.environ.get("HERALD_CAMPAIGN_SEED") or
                   int.from_bytes(os.urandom(4), "big"))
        seconds = campaign_seconds()
        say("seed %d (HERALD_CAMPAIGN_SEED=%d replays it), rounds of faults for %.0f s"
            % (seed, seed, seconds))
        rng = random.Random(seed)
        world = World(self)
        for instance in world.instances:
            instance.start()
        world.load = Load(world.instances, world.targets(), seed).start()
        self.addCleanup(world.load.stop)
        wait_until(lambda: len(world.load.tasks()) >= 20, 30, interval=0.1,
                   message="the load under way")
        nemesis = Nemesis(world, rng, say)
        began = time.monotonic()
        nemesis.run(seconds)
        nemesis.settle()
        world.load.stop()
        say("faults over after %.0f s; %d tasks acknowledged, refused %s" % (
            time.monotonic() - began, len(world.load.tasks()), world.load.refused))

        drained = self.drain(world)
        violations, figures = Checker(world, world.load.tasks(), nemesis.windows).run()
        if not drained:
            violations.setdefault("1 acknowledged", []).insert(0, drained_text(world))
        for key, value in figures.items():
            say("%s: %s" % (key, value))
        stop_errors = stop_instances(world.instances, keep=3000)
        self.report(seed, nemesis.windows, violations, stop_errors)

    def drain(self, world):
        """Bounded: every task settles (none pending or in flight; with retries at most
        1 s apart none is due later by policy). Leases of what a fault cut off end
        within LEASE_S."""
        try:
            wait_until(lambda: world.db.value(
                "SELECT count(*) FROM tasks WHERE status IN ('pending', 'delivering')") == 0,
                LEASE_S + 45, interval=0.5, message="the system to drain")
            return True
        except AssertionError:
            return False

    def report(self, seed, windows, violations, stop_errors):
        order = ", ".join(w["kind"] for w in windows)
        failing, known = [], []
        for invariant, texts in violations.items():
            say("VIOLATED %s (%d): seed %d, faults in order: %s" % (
                invariant, len(texts), seed, order))
            for text in texts[:8]:
                say("  " + text)
            (known if invariant in KNOWN_FAILURES and not STRICT else failing).append(invariant)
        for invariant in known:
            say("known failure, not failing the run: %s (%s)" % (invariant,
                                                                KNOWN_FAILURES[invariant]))
        if not violations:
            say("every invariant held (seed %d)" % seed)
        self.assertEqual(stop_errors, [])
        self.assertEqual(failing, [], "invariants violated with seed %d (faults: %s); "
                         "HERALD_CAMPAIGN_SEED=%d replays it" % (seed, order, seed))


def drained_text(world):
    return "did not drain within %.0f s: %s" % (LEASE_S + 45, world.db.query(
        "SELECT status, count(*) FROM tasks GROUP BY status"))


class ReadyzTest(unittest.TestCase):
    """7: /readyz answers 503 within 2 x max_lag of a task with a free slot waiting,
    whatever the scheduler's loop is doing.

    The scenario: a task failed its first attempt and is due again in 2 s; before
    then the test takes the tasks table's lock in a session of its own (PostgreSQL:
    LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE; SQLite: BEGIN EXCLUSIVE), so the
    scheduler's next statement waits for it (statement_timeout and busy_timeout 30 s):
    the task is due, its receiver has every slot free, and nothing sends it. No
    SIGSTOP: the HTTP threads answer, only the loop is stuck, as behind a slow disk
    or a database lock."""

    MAX_LAG = 1.0

    def test_readyz_fails_within_twice_max_lag_of_a_stalled_due_task(self):
        answers = []
        receiver = Receiver(lambda r: (answers.append(1), (500 if len(answers) == 1 else 200,
                                                           {}, b"x"))[1])
        self.addCleanup(receiver.close)
        herald = Herald(config="[storage]\nstatement_timeout = 30s\nbusy_timeout = 30s\n"
                        "[delivery]\ntimeout = 1s\nconnect_timeout = 1s\n"
                        "[retry]\nbase_delay = 2s\njitter = 0\nretry_interval = 1s\n"
                        "[alert]\nmax_lag = 1s\n")
        self.addCleanup(herald.cleanup)
        herald.start()
        status, _, body = herald.request("POST", "/v1/tasks",
                                         body=task_request("READY-1", receiver.url()))
        self.assertEqual(status, 201, body)
        task_id = body["task"]["id"]
        due = wait_until(lambda: herald.db.value(
            "SELECT next_attempt_at FROM tasks WHERE id = ? AND status = 'pending' AND "
            "attempts = 1", task_id) if herald.db.value(
            "SELECT count(*) FROM tasks WHERE id = ? AND status = 'pending' AND attempts = 1",
            task_id) else None, 10, message="the first attempt's outcome") / 1000.0
        self.assertGreater(due - time.time(), 0.5, "the retry is due too soon to lock first")
        self.assertEqual(herald.request("GET", "/readyz")[0], 200)
        release = herald.db.lock()
        released = False
        try:
            first_503, last_body = None, None
            while time.time() < due + 2 * self.MAX_LAG + 15:
                status, _, last_body = herald.request("GET", "/readyz")
                if status == 503:
                    first_503 = time.time()
                    break
                time.sleep(0.1)
        finally:
            release()
            released = True
        self.assertTrue(released)
        herald.wait_for_status(task_id, "succeeded", timeout=30)
        wait_until(lambda: herald.request("GET", "/readyz")[0] == 200, 30,
                   message="/readyz 200 again")
        herald.stop()
        late = None if first_503 is None else first_503 - due
        say("readyz: task due, scheduler stalled on a lock: 503 %s (bound 2 x max_lag = "
            "%.1f s)" % ("never within %.0f s" % (2 * self.MAX_LAG + 15) if late is None
                         else "%.2f s after it was due" % late, 2 * self.MAX_LAG))
        if KNOWN_FAILURES.get("7 readyz_lag") and not STRICT and \
                (late is None or late > 2 * self.MAX_LAG + 0.2):
            say("known failure, not failing the run: 7 readyz_lag (%s)"
                % KNOWN_FAILURES["7 readyz_lag"])
            return
        self.assertIsNotNone(first_503, "/readyz never answered 503; last: %s" % last_body)
        self.assertLessEqual(late, 2 * self.MAX_LAG + 0.2, last_body)


if __name__ == "__main__":
    unittest.main()
