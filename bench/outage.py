"""Scenario 10 of make bench (bench/run.py): one of two receivers goes down for 20 s
and comes back, under the circuit breaker's defaults but a 1 s first probe, backing off
to 4 s, and a 2 s first retry (issue 26). The failures before the circuit opened wait
out their own backoff (2 s); the tasks parked while it was open go as soon as it closes.

Receiver A stays up; B is killed (its port refuses connections), tasks keep coming for
both, and B is started again on the same port. Reported: A's deliveries/s during the
outage as a fraction of A's alone just before (the breaker must keep B's failures from
slowing A), the attempts spent on B (those before its circuit opened, and the probes
while open), tasks not delivered in the end (0), duplicates, how soon B's backlog went
once B was back, and the peak of requests in flight at B meanwhile (the receiver's
count of requests begun and not yet answered: the ramp from 1 must keep it below
per_host_concurrency while the backlog goes).
"""
import re
import threading
import time

from processes import PER_HOST, Herald, Receiver, count_rows, loadgen

OUTAGE_S = 20
B_RATE = 100  # tasks/s posted for B while it is down
RAMP_S = 1.0
RAMP_WINDOWS = ((0, 0.1), (0.1, 0.2), (0.2, 0.4), (0.4, 1.0))


def timed_delivery(herald, receiver, count, business_type, seq_start):
    """Posts COUNT tasks for RECEIVER as fast as heraldd takes them; returns the
    deliveries per second until the last arrived."""
    before = receiver.stats()["received"]
    started = time.monotonic()
    loadgen(herald.url(), count, concurrency=32, target=receiver.url(),
            business_type=business_type, seq_start=seq_start)
    receiver.wait_for(before + count, timeout=300)
    return count / (time.monotonic() - started)


def outage(bench):
    scenario = "10 receiver outage"
    outage_s = OUTAGE_S if not bench.smoke else 4
    healthy_count = bench.n(20000, least=200)
    directory = bench.directory("outage")
    a = Receiver(directory, "ok", 4 * healthy_count + 10)
    b = Receiver(directory, "ok", B_RATE * outage_s * 2 + 10)
    herald = Herald(directory, delivery={"breaker_probe_interval": "1s",
                                         "breaker_probe_max_interval": "4s"},
                    retry={"base_delay": "2s"}).start()
    b_key = "http://127.0.0.1:%d" % b.port
    try:
        alone = timed_delivery(herald, a, healthy_count, "HEALTHY", 0)
        b.close()  # down: connections refused
        down_at = time.monotonic()
        b_count = B_RATE * outage_s
        posting = threading.Thread(target=loadgen, args=(herald.url(), b_count), kwargs={
            "concurrency": 4, "rate": B_RATE, "target": b.url(), "business_type": "DOWN",
            "seq_start": 0})
        posting.start()
        time.sleep(min(3, outage_s / 4))  # its circuit opens meanwhile
        during = timed_delivery(herald, a, healthy_count, "HEALTHY", healthy_count)
        posting.join()
        time.sleep(max(0.0, down_at + outage_s - time.monotonic()))
        back_at = time.monotonic()
        # Back, answering in 50 ms: requests overlap, so the ramp shows at the receiver.
        b = Receiver(directory, "slow", b_count + 10, port=b.port)
        # Requests in flight at B, every 10 ms, from its first request (the probe that
        # closes the circuit) for RAMP_S: the ramp.
        first = None
        ramp = []  # (seconds since its first request, in flight)
        while time.monotonic() < back_at + 120:
            stats = b.stats()
            now = time.monotonic()
            if first is None and stats["received"] > 0:
                first = now
            if first is not None:
                ramp.append((now - first, stats["in_flight"]))
                if now - first > RAMP_S or stats["received"] >= b_count:
                    break
            time.sleep(0.01)
        b.wait_for(b_count, timeout=120)
        deadline = time.monotonic() + 60
        while count_rows(herald, "SELECT count(*) FROM tasks WHERE status <> 'succeeded'") and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        drained = time.monotonic() - back_at
        stats = b.stats()
        peak = stats["peak_in_flight"]
        windows = [max([n for t, n in ramp if low <= t < high] or [0])
                   for low, high in RAMP_WINDOWS]
        log = herald.read_log()
        probes = len(re.findall(r"event=circuit_probe_failed receiver=%s" % re.escape(b_key), log))
        failed = count_rows(herald, "SELECT count(*) FROM attempts WHERE target_host = '%s'"
                                    " AND error_class IS NOT NULL" % b_key)
        lost = count_rows(herald, "SELECT count(*) FROM tasks WHERE status <> 'succeeded'")
        bench.row(scenario, "healthy receiver's deliveries/s during the outage", during,
                  "tasks/s", ">= 90% of alone", during / alone if alone else None)
        bench.row(scenario, "healthy receiver's deliveries/s alone, before", alone, "tasks/s")
        bench.row(scenario, "attempts failed on the dead receiver: before it opened / "
                            "probes while open (%ds down)" % outage_s,
                  "%d / %d" % (failed - probes, probes), "", "probes only while open")
        bench.row(scenario, "tasks not delivered in the end / duplicates at the receivers",
                  "%d / %d" % (lost, stats["duplicates"] + a.stats()["duplicates"]), "", "0 / 0")
        bench.row(scenario, "its backlog of %d delivered within, once back" % b_count, drained,
                  "s")
        bench.row(scenario, "requests in flight at it, most in %s s after its first back"
                  % " / ".join("%g-%g" % w for w in RAMP_WINDOWS),
                  " / ".join(str(n) for n in windows), "", "ramping from 1")
        bench.row(scenario, "peak requests in flight at it while its backlog went", peak, "",
                  "<= %d (per_host_concurrency)" % PER_HOST)
    finally:
        herald.stop()
        a.close()
        b.close()
