"""Scenario 11 of make bench (bench/run.py): what tracing costs (issue 27). Scenario 3's
run (100,000 tasks posted 64 at a time, delivered to a receiver that answers 200) three
ways, in turn, three times each (TELEMETRY_TURNS=N for more; the medians are reported):
tracing off; on, every trace sampled, to a collector that accepts every export; and on
to a collector that accepts connections and never answers (each export waits out its
timeout, 1 s here, while spans pile up to queue_size and are dropped). Reported: the
deliveries per second of each and the dead collector's against off (the issue asks at
least 0.95), heraldd's CPU per task with tracing on against off, the spans exported and
dropped, and heraldd's peak memory (VmHWM) off and with the dead collector (the queue is
bounded, so it must not grow with the tasks).

The ratios are taken within a turn (the runs of one turn are a minute apart; the machine
drifts 15-50% between longer spans) and their median and range over the turns are
reported. A turn's order alternates (off, on, dead, then dead, on, off) so that a
steady drift falls on each way alike.

The collector here is a small HTTP server in this process that counts requests and
bytes: decoding is the tests' business (tests/js/otlp_collector.mjs), and a decoding
collector on the same two cores would take CPU from heraldd.
"""
import http.server
import os
import re
import statistics
import threading
import time
import urllib.request

from processes import Herald, Receiver, loadgen

TURNS = max(1, int(os.environ.get("TELEMETRY_TURNS", "3")))
# TELEMETRY_WAYS=off,dead: only those (twice the turns in the same time, for the
# dead collector's ratio alone).
WAYS = os.environ.get("TELEMETRY_WAYS", "off,on,dead").split(",")


class Collector:
    """An OTLP/HTTP endpoint on 127.0.0.1: MODE "accept" answers 200, "hang" never answers."""

    def __init__(self, mode):
        self.requests = 0
        self.closing = threading.Event()
        collector = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                collector.requests += 1
                if mode == "hang":
                    collector.closing.wait()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self):
        return "http://127.0.0.1:%d/v1/traces" % self.server.server_address[1]

    def close(self):
        self.closing.set()
        self.server.shutdown()
        self.server.server_close()


def spans(herald, outcome):
    with urllib.request.urlopen(herald.url() + "/metrics", timeout=10) as response:
        text = response.read().decode()
    found = re.search(r'herald_telemetry_spans_total\{outcome="%s"\} (\d+)' % outcome, text)
    return int(found.group(1)) if found else 0


def run(bench, name, count, mode, turn):
    directory = bench.directory("telemetry-%s-%d" % (name.replace(" ", "-"), turn))
    collector = Collector(mode) if mode else None
    telemetry = {}
    if collector:
        telemetry = {"endpoint": collector.url(), "timeout": "1s", "queue_size": "2048"}
    receiver = Receiver(directory, "ok", count)
    herald = Herald(directory, telemetry=telemetry)
    herald.start()
    try:
        cpu = herald.cpu_seconds()
        result = loadgen(herald.url(), count, concurrency=64, target=receiver.url())
        stats = receiver.wait_for(count, timeout=120 + count / 1000)
        if stats["received"] < count:
            raise RuntimeError("%s: %d of %d delivered" % (name, stats["received"], count))
        seconds = (stats["last_ns"] - result["started_ns"]) / 1e9
        figures = {"rate": count / seconds, "cpu": 1e6 * (herald.cpu_seconds() - cpu) / count,
                   "rss": herald.rss_peak_mb()}
        if collector:
            time.sleep(1.5)  # the last interval's spans go (or are dropped)
            figures["exported"] = spans(herald, "exported")
            figures["dropped"] = (spans(herald, "dropped_queue_full") +
                                  spans(herald, "dropped_export_failed"))
        return figures
    finally:
        herald.stop()
        receiver.close()
        if collector:
            collector.close()


def median_of(runs):
    """The median of each figure over RUNS (a list of figures dicts)."""
    return {key: statistics.median(figures[key] for figures in runs) for key in runs[0]}


def ratio_of(runs, name, base, figure):
    """The median and range over the turns of NAME's FIGURE against BASE's in each turn."""
    ratios = sorted(a[figure] / b[figure] for a, b in zip(runs[name], runs[base]))
    return "%.2f (%.2f-%.2f over %d)" % (statistics.median(ratios), ratios[0], ratios[-1],
                                         len(ratios))


def telemetry(bench):
    scenario = "11 tracing"
    count = bench.n(100000)
    ways = [(name, mode) for name, mode in (("off", None), ("on", "accept"), ("dead", "hang"))
            if name in WAYS or name == "off"]
    runs = {"off": [], "on": [], "dead": []}
    for turn in range(TURNS if not bench.smoke else 1):
        for name, mode in (ways if turn % 2 == 0 else ways[::-1]):
            label = {"off": "off", "on": "on", "dead": "dead collector"}[name]
            runs[name].append(run(bench, label, count, mode, turn))
    off = median_of(runs["off"])
    bench.row(scenario, "deliveries/s, tracing off", off["rate"], "tasks/s")
    bench.row(scenario, "heraldd CPU per task, tracing off", off["cpu"], "us")
    if runs["on"]:
        on = median_of(runs["on"])
        bench.row(scenario, "deliveries/s, tracing on, collector accepting", on["rate"],
                  "tasks/s")
        bench.row(scenario, "heraldd CPU per task, tracing on (collector accepting)", on["cpu"],
                  "us")
        bench.row(scenario, "heraldd CPU per task, on against off (median of turns)",
                  ratio_of(runs, "on", "off", "cpu"), "")
        bench.row(scenario, "spans exported (accepting) / of",
                  "%d / %d" % (on["exported"], 2 * count))
    if runs["dead"]:
        dead = median_of(runs["dead"])
        bench.row(scenario, "deliveries/s, tracing on, collector never answering", dead["rate"],
                  "tasks/s")
        bench.row(scenario, "deliveries/s, dead collector against off (median of turns)",
                  ratio_of(runs, "dead", "off", "rate"), "", ">= 0.95")
        bench.row(scenario, "spans dropped (never answering) / exported",
                  "%d / %d" % (dead["dropped"], dead["exported"]))
        bench.row(scenario, "heraldd peak memory, tracing off / dead collector",
                  "%.0f / %.0f" % (off["rss"], dead["rss"]), "MiB")
