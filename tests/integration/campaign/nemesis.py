"""The nemesis: each fault injected for a while, then healed, one at a time, in a
random order drawn from the campaign's seed. Every fault is recorded as a window
(kind, target, start, end on the monotonic clock) for the checker, which explains
duplicates by them.

Faults (PostgreSQL: all; SQLite: kill, dns, slow_receiver):
- skew: one instance restarted with its clock 40 s ahead or behind (libfaketime in
  LD_PRELOAD, after the ASan binary's libasan), held, then restarted without;
- dns: tasks posted to http://slow.test:PORT/, whose lookup takes 25 s (the
  slow_resolver shim every instance runs with from its start);
- terminate: pg_terminate_backend of random heraldd sessions, the leader's (the
  alert-thread session of the leadership lease's holder) among them in the first round;
- pause: the leader SIGSTOPped (harness.pause: every thread stopped) past its lease,
  then SIGCONT;
- kill: kill -9 of a random instance, restarted a few seconds later;
- pg_stop: the server stopped as by a crash (pg_ctl -m immediate), started again;
- slow_receiver: the slow receiver answers after longer than the timeout.
"""
import os
import time

from harness import pause, wait_until

from campaign.world import FAKETIME_LIBRARY, LEASE_S, SHIM, TIMEOUT_S, preload

HOLD = 9.0  # how long most faults last
SHARED_ONLY = ("skew", "terminate", "pause", "pg_stop")
ALL_FAULTS = ("skew", "dns", "terminate", "pause", "kill", "pg_stop", "slow_receiver")
# Faults during which (or just after which) a request in flight may go out again.
EXPLAINS_DUPLICATES = ("pause", "kill", "terminate", "pg_stop")
# The leader's alert-thread session: the lease holder's pid (its instance id is
# host:pid:start) names it (heraldd/alert:PID in pg_stat_activity).
LEADER_SESSION = ("application_name = 'heraldd/alert:' || split_part((SELECT holder FROM"
                  " leadership WHERE name = 'herald'), ':', 2)")


class Nemesis:
    def __init__(self, world, rng, say):
        self.world, self.rng, self.say = world, rng, say
        self.windows = []
        self.faults = [f for f in ALL_FAULTS
                       if world.backend == "postgresql" or f not in SHARED_ONLY]

    def run(self, seconds):
        """One round of every fault, in a random order; then more faults (each round
        its own order) until SECONDS have passed."""
        began = time.monotonic()
        rounds = 0
        while True:
            order = list(self.faults)
            self.rng.shuffle(order)
            for kind in order:
                if rounds and time.monotonic() - began >= seconds:
                    return
                self.settle()
                window = {"kind": kind, "target": None, "detail": "", "start": time.monotonic()}
                getattr(self, "_" + kind)(window)
                window["end"] = time.monotonic()
                window["wall_end"] = time.time()
                window["wall_start"] = window["wall_end"] - (window["end"] - window["start"])
                self.windows.append(window)
                self.say("fault %-13s %-12s %5.1f s  %s" % (
                    kind, window["target"] or "", window["end"] - window["start"],
                    window["detail"]))
            rounds += 1

    def settle(self, timeout=45.0):
        """Between faults: every instance answers /healthz (its database is back)."""
        def healthy():
            for instance in self.world.instances:
                try:
                    if instance.herald.request("GET", "/healthz")[0] != 200:
                        return False
                except OSError:
                    return False
            return True
        wait_until(healthy, timeout, interval=0.1, message="every instance healthy again")
        time.sleep(1.0)  # a gap between faults, so their windows do not touch

    # ---- the faults ----

    def _victim(self):
        return self.rng.choice(self.world.instances)

    def _leader(self):
        for instance in self.world.instances:
            try:
                if instance.metric("herald_leader") == 1:
                    return instance
            except OSError:
                pass
        return None

    def _skew(self, window):
        victim = self._victim()
        seconds = self.rng.choice((-40, 40))
        window["target"] = "heraldd#%d" % victim.index
        window["detail"] = "clock %+d s" % seconds
        env = {"LD_PRELOAD": preload(victim.binary, SHIM, FAKETIME_LIBRARY),
               "FAKETIME": "%+d" % seconds, "FAKETIME_DONT_FAKE_MONOTONIC": "1"}
        victim.stop()
        victim.start(env)
        time.sleep(HOLD)
        victim.stop()
        victim.start()

    def _dns(self, window):
        window["target"] = "slow.test"
        self.world.load.dns_on.set()
        time.sleep(HOLD + 2)
        self.world.load.dns_on.clear()

    def _terminate(self, window):
        db, ended, leader_hit = self.world.db, 0, False
        deadline = time.monotonic() + HOLD
        first = True
        while time.monotonic() < deadline:
            sessions = [row[0] for row in db.admin(
                "SELECT pid FROM pg_stat_activity WHERE datname = '%s' AND application_name"
                " LIKE 'heraldd%%'" % db.name)]
            leaders = [row[0] for row in db.query(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND "
                + LEADER_SESSION)]
            chosen = set(self.rng.sample(sessions, self.rng.randint(1, len(sessions)))) \
                if sessions else set()
            if first:
                chosen |= set(leaders)
                first = False
            leader_hit |= bool(chosen & set(leaders))
            for pid in chosen:
                ended += db.admin("SELECT count(pg_terminate_backend(%d))" % pid)[0][0]
            time.sleep(self.rng.uniform(0.3, 1.0))
        window["target"] = "sessions"
        window["detail"] = "%d terminated, the leader's %s" % (
            ended, "among them" if leader_hit else "not found")

    def _pause(self, window):
        victim = wait_until(self._leader, 15, interval=0.2, message="a leader")
        window["target"] = "heraldd#%d" % victim.index
        window["detail"] = "the leader, %.1f s (lease %.0f s)" % (LEASE_S + 1.5, LEASE_S)
        victim.available = False
        pause(victim.process)
        window["start"] = time.monotonic()
        try:
            time.sleep(LEASE_S + 1.5)  # the fault itself: a stop longer than the lease
        finally:
            victim.cont()
        victim.available = True

    def _kill(self, window):
        victim = self._victim()
        window["target"] = "heraldd#%d" % victim.index
        victim.kill()
        time.sleep(3.0)
        victim.start()
        window["detail"] = "restarted"

    def _pg_stop(self, window):
        window["target"] = "postgresql"
        self.world.cluster.action("crash")
        try:
            time.sleep(HOLD - 1)
        finally:
            self.world.cluster.action("up")
        window["detail"] = "pg_ctl stop -m immediate, then started"

    def _slow_receiver(self, window):
        receiver = self.world.receivers["slow"]
        window["target"] = receiver.name
        normal = receiver.delay
        receiver.delay = TIMEOUT_S + 0.5
        window["detail"] = "answers after %.1f s (timeout %.1f s)" % (receiver.delay, TIMEOUT_S)
        try:
            time.sleep(HOLD)
        finally:
            receiver.delay = normal


SHORT_SECONDS = 60.0


def campaign_seconds():
    """HERALD_CAMPAIGN_SECONDS: keep injecting faults (whole rounds) this long; by
    default (make test) SHORT_SECONDS: one round on PostgreSQL (about 75 s), about
    two rounds of the three faults that apply to SQLite."""
    return float(os.environ.get("HERALD_CAMPAIGN_SECONDS") or SHORT_SECONDS)
