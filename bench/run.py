#!/usr/bin/env python3
"""make bench: every scenario of the performance issue against the real heraldd.

Usage: run.py [--smoke] [--out bench/results.md] [--only 1,2,...] [--backend sqlite|postgresql]
              [--instances 1,2,3] [--standby sync] [--heraldd PATH]

Each scenario starts a fresh heraldd (release build, fresh database in a temporary
directory on the real disk, config written here, private targets allowed) with the
C receiver and load generator in bench/. Figures are also given as a fraction of a
ceiling measured in the same run, since absolute numbers drift on shared machines.
Nothing here asserts a speed; --smoke runs everything tiny so the harness keeps working.

Scenario 10 (bench/outage.py): one of two receivers down for 20 s, then back (the
circuit breaker).

--backend postgresql runs the chosen scenarios on SQLite and then scenarios 2-4, 6 and 10
again on PostgreSQL, in the same run, each PostgreSQL figure also given as a ratio to
SQLite's. The bench starts its own cluster (tools/pg_cluster.sh: a temporary
directory, Unix socket only, default settings but fsync and synchronous_commit on),
gives each heraldd a fresh database in it, and reports PostgreSQL's CPU and WAL bytes
per task beside heraldd's figures. --instances 1,2,3 adds scenario 9 (bench/cluster.py):
several heraldd sharing one PostgreSQL database.

--standby sync (with --backend postgresql) then runs scenarios 2-4 once more, on a fresh
cluster with a streaming standby on the same machine made synchronous
(synchronous_standby_names names it; the bench waits for pg_stat_replication to say
'sync' before measuring), each figure also given as a ratio to the single server's in
the same run. Both clusters are stopped and removed at the end, also on failure.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import processes
from processes import (
    PER_HOST, ROOT, Herald, PgCluster, Receiver, count_rows, kill_children, loadgen,
)


class Bench:
    def __init__(self, scale, smoke):
        self.scale = scale
        self.smoke = smoke
        self.rows = []
        self.ceiling_a = self.ceiling_b = self.e2e_rate = None  # set by scenarios 1 and 3
        self.sqlite_values = {}  # (scenario, metric) -> SQLite's figure, for PostgreSQL's ratio
        self.pg_values = {}  # the same, PostgreSQL's single server, for the standby's ratio
        self.standby = False  # PG has a synchronous standby
        self.pg = None
        self.base = tempfile.mkdtemp(prefix="herald-bench-", dir=os.path.join(ROOT, "build"))

    def n(self, full, least=50):
        return max(least, int(full * self.scale))

    def directory(self, name):
        path = os.path.join(self.base, name + ("-postgresql" if processes.PG else "")
                            + ("-standby" if self.standby else ""))
        os.makedirs(path)
        return path

    def row(self, scenario, metric, value, unit="", target="", ratio=None):
        key = (scenario, metric.split(" (")[0])
        # PostgreSQL only: its ratios are its own
        if processes.PG and scenario.startswith("9 "):
            scenario += " [postgresql]"
        elif processes.PG and self.standby:
            # A synchronous standby: no target, the ratio is to the single server's.
            scenario += " [postgresql, sync standby]"
            base = self.pg_values.get(key)
            ratio = value / base if isinstance(value, float) and isinstance(base, float) \
                and base else None
            target = ""
        elif processes.PG:
            scenario += " [postgresql]"
            base = self.sqlite_values.get(key)
            ratio = value / base if isinstance(value, float) and isinstance(base, float) \
                and base else None
            target = {"tasks/s": ">= 50% of SQLite", "ms": "p99 < 10 ms" if "p99" in metric
                      else ""}.get(unit, "") if target else ""
            if isinstance(value, float):
                self.pg_values[key] = value
        elif isinstance(value, float):
            self.sqlite_values[key] = value
        self.rows.append((scenario, metric, value, unit, target, ratio))
        shown = ("%.1f" % value) if isinstance(value, float) else str(value)
        print("%-24s %-44s %12s %-8s %s" % (scenario, metric, shown, unit, target), flush=True)

    # 1. ceilings
    def ceilings(self):
        directory = self.directory("ceilings")
        count = self.n(200000)
        receiver = Receiver(directory, "ok", count)
        try:
            a = loadgen(receiver.url(), count, concurrency=64, direct=True)
            self.ceiling_a = a["tasks_per_second"]
            self.row("1 ceilings", "(a) receiver hit by the load generator", a["tasks_per_second"],
                     "req/s")
            urllib.request.urlopen("http://127.0.0.1:%d/reset" % receiver.port).read()
            b = loadgen(receiver.url(), count, concurrency=PER_HOST, seq_start=0, direct=True)
            self.ceiling_b = b["tasks_per_second"]
            self.row("1 ceilings", "(b) libcurl multi, %d per host" % PER_HOST,
                     b["tasks_per_second"], "req/s")
        finally:
            receiver.close()

    # 2. durable intake
    def intake(self):
        count = self.n(200000)
        for batch in (1, 100):
            directory = self.directory("intake-%d" % batch)
            # Deliveries go to a receiver that never answers, one at a time, so
            # this measures intake alone.
            hang = Receiver(directory, "hang", 0)
            herald = Herald(directory, delivery={"per_host_concurrency": "1",
                                                 "timeout": "1s", "connect_timeout": "1s"}).start()
            try:
                usage = self.usage_start(herald)
                result = loadgen(herald.url(), count, concurrency=64, batch=batch,
                                 target=hang.url())
                stored = count_rows(herald, "SELECT count(*) FROM tasks")
                name = "single POSTs" if batch == 1 else "batches of %d" % batch
                target = ">= 30000/s, >= 40% of (a)" if batch == 1 else ">= 150000/s"
                self.row("2 durable intake", "%s: tasks/s (%d stored, %d failed)"
                         % (name, stored, result["failed"]), result["tasks_per_second"],
                         "tasks/s", target, result["tasks_per_second"] / self.ceiling_a if self.ceiling_a else None)
                if batch == 1:
                    self.intake_rate = result["tasks_per_second"]
                    self.row("2 durable intake", "single POSTs: p50 / p99 latency",
                             "%.2f / %.2f" % (result["p50_ms"], result["p99_ms"]), "ms",
                             "p99 < 10 ms")
                self.usage_rows("2 durable intake", name, usage, herald, stored,
                                result["seconds"])
            finally:
                herald.stop()
                hang.close()

    def end_to_end_run(self, name, count, setup=None):
        directory = self.directory(name)
        receiver = Receiver(directory, "ok", count)
        herald = Herald(directory)
        if setup:
            setup(herald)
        herald.start()
        try:
            usage = self.usage_start(herald)
            result = loadgen(herald.url(), count, concurrency=64, target=receiver.url())
            stats = receiver.wait_for(count, timeout=120 + count / 1000)
            if stats["received"] < count:
                # Not a speed: a task accepted and never delivered is a failure.
                raise RuntimeError("%s: %d of %d delivered, %d intake failures" % (
                    name, stats["received"], count, result["failed"]))
            seconds = (stats["last_ns"] - result["started_ns"]) / 1e9
            self.usage_rows("3 end to end" if name == "end-to-end" else "6 large backlog",
                            "end to end", usage, herald, count, seconds)
            return herald, receiver, result, stats, seconds
        except Exception:
            herald.stop()
            receiver.close()
            raise

    def usage_start(self, herald):
        pg = processes.PG
        return (herald.cpu_seconds(), pg.cpu_seconds() if pg else 0.0,
                pg.wal_bytes() if pg else 0, pg.standby_cpu_seconds() if pg else 0.0,
                herald.thread_cpu_seconds(), pg.wal_lsn() if pg else None)

    def usage_rows(self, scenario, name, usage, herald, tasks, seconds):
        """CPU per task of heraldd, also by thread (and of PostgreSQL, with its share
        of the machine, WAL bytes per task and, for the end-to-end run, those bytes by
        record type) since usage_start()."""
        herald_cpu = herald.cpu_seconds() - usage[0]
        self.row(scenario, "%s: heraldd CPU per task" % name, 1e6 * herald_cpu / max(tasks, 1),
                 "us")
        threads = herald.thread_cpu_seconds()
        for thread in sorted(threads, key=lambda t: usage[4].get(t, 0.0) - threads[t]):
            spent = threads[thread] - usage[4].get(thread, 0.0)
            if spent >= 0.01 * herald_cpu and spent > 0:
                self.row(scenario, "%s: heraldd CPU per task, thread %s" % (name, thread),
                         1e6 * spent / max(tasks, 1), "us")
        if not processes.PG:
            return
        pg_cpu = processes.PG.cpu_seconds() - usage[1]
        wal = processes.PG.wal_bytes() - usage[2]
        if scenario == "3 end to end" and not self.standby:
            records = processes.PG.wal_by_record(usage[5], processes.PG.wal_lsn())
            top = sorted(records.items(), key=lambda item: -item[1][1])[:8]
            for record, (count, size) in top:
                self.row(scenario, "%s: WAL bytes per task, %s" % (name, record),
                         size / max(tasks, 1), "bytes")
        self.row(scenario, "%s: PostgreSQL CPU per task" % name, 1e6 * pg_cpu / max(tasks, 1),
                 "us")
        self.row(scenario, "%s: PostgreSQL share of the machine's CPU" % name,
                 100.0 * pg_cpu / (max(seconds, 1e-9) * os.cpu_count()), "%")
        self.row(scenario, "%s: WAL bytes per task" % name, wal / max(tasks, 1), "bytes")
        if self.standby:
            standby_cpu = processes.PG.standby_cpu_seconds() - usage[3]
            self.row(scenario, "%s: standby CPU per task" % name,
                     1e6 * standby_cpu / max(tasks, 1), "us")
            state = processes.PG.sync_state()
            if state != "sync":
                raise RuntimeError("%s: the standby is %s, no longer sync" % (scenario, state))

    # 3. end to end
    def end_to_end(self):
        count = self.n(200000)
        herald, receiver, result, stats, seconds = self.end_to_end_run("end-to-end", count)
        try:
            rate = stats["received"] / seconds
            self.e2e_rate = rate
            self.row("3 end to end", "deliveries/s, first POST to last delivery", rate,
                     "tasks/s", ">= 25000/s", rate / self.ceiling_b if self.ceiling_b else None)
            self.row("3 end to end", "delivered / duplicates / intake failed",
                     "%d / %d / %d" % (stats["received"], stats["duplicates"], result["failed"]),
                     "", "all, 0, 0")
        finally:
            herald.stop()
            receiver.close()

    # 4. first-attempt latency at a steady rate
    def latency(self):
        seconds = 30 if not self.smoke else 1
        rate = 1000 if not self.smoke else 100
        directory = self.directory("latency")
        receiver = Receiver(directory, "ok", rate * seconds)
        herald = Herald(directory).start()
        try:
            loadgen(herald.url(), rate * seconds, concurrency=16, rate=rate,
                    target=receiver.url())
            stats = receiver.wait_for(rate * seconds, timeout=30)
            self.row("4 first-attempt latency", "p50 at %d tasks/s for %ds" % (rate, seconds),
                     stats["p50_ms"], "ms", "< 1 ms")
            self.row("4 first-attempt latency", "p99", stats["p99_ms"], "ms", "< 5 ms")
        finally:
            herald.stop()
            receiver.close()

    # 5. a receiver that never answers, beside a healthy one
    def isolation(self):
        count = self.n(50000)
        rates = {}
        # Four runs. "first": the hung receiver's half is posted before the
        # healthy half, so while the healthy rate is measured the hung tasks
        # hold their slots, time out and are retried, but do not share the
        # intake with the healthy stream: this is the isolation figure.
        # "at once": both halves posted together; "same load": the same, with
        # the other half going to a second healthy receiver, which separates
        # the cost of the extra intake from the effect of the hang.
        runs = (("alone", None, False),
                ("beside a hung receiver (its half posted first)", "hang", True),
                ("beside a hung receiver (both halves posted at once)", "hang", False),
                ("beside a second healthy receiver (both at once, same load)", "ok", False))
        for index, (name, other, other_first) in enumerate(runs):
            directory = self.directory("isolation-%d" % index)
            healthy = Receiver(directory, "ok", count)
            second = Receiver(directory, other, count) if other else None
            herald = Herald(directory, delivery={"timeout": "2s", "connect_timeout": "1s"}).start()
            try:
                slow = None
                if second:
                    command = [processes.LOADGEN, "--url", herald.url(), "--count", str(count),
                               "--concurrency", "32", "--target", second.url(), "--type",
                               "OTHER", "--seq-start", "0"]
                    if other_first:
                        subprocess.run(command, stdout=subprocess.DEVNULL, check=True)
                    else:
                        slow = processes.spawn(command, stdout=subprocess.DEVNULL)
                result = loadgen(herald.url(), count, concurrency=32, target=healthy.url())
                stats = healthy.wait_for(count, timeout=120)
                if stats["received"] < count:
                    raise RuntimeError("isolation %s: %d of %d delivered" % (
                        name, stats["received"], count))
                rates[name] = stats["received"] / ((stats["last_ns"] - result["started_ns"]) / 1e9)
                if slow:
                    slow.wait(120)
            finally:
                herald.stop()
                healthy.close()
                if second:
                    second.close()
        for name, rate in rates.items():
            target = ">= 90% of alone" if "posted first" in name else ""
            self.row("5 slow receiver isolation", "healthy deliveries/s %s" % name, rate,
                     "tasks/s", target, None if name == "alone" else rate / rates["alone"])

    # 6. a million tasks pending in the future, plus the load of scenario 3
    def backlog(self):
        count = self.n(200000)
        backlog = self.n(1000000, least=2000)

        def fill(herald):
            herald.start()  # creates and migrates the database
            herald.stop()
            if herald.pg_database:
                # The queue table (migration 009) when the build under test has one: a
                # REF build of bench-compare may predate it.
                processes.PG.query(herald.pg_database,
                         "SET herald.queue = 'on';"
                         " INSERT INTO tasks (webhook_id, business_id, business_type, target_url,"
                         " target_host, payload_is_json, request_hash, status, attempts,"
                         " max_retry, next_attempt_at, created_at, updated_at)"
                         " SELECT 'msg_f' || i, 'FUTURE-' || i, 'FUTURE',"
                         " 'http://127.0.0.1:9/' || (i %% 100), 'http://127.0.0.1:9', true,"
                         " '\\x00', 'pending', 0, 5, 4102444800000 + i, 0, 0"
                         " FROM generate_series(1, %d) i;"
                         " INSERT INTO task_bodies (task_id, payload) SELECT id, '{}' FROM tasks;"
                         " DO $$ BEGIN IF to_regclass('task_queue') IS NOT NULL THEN"
                         " INSERT INTO task_queue (task_id, target_host, due_at)"
                         " SELECT id, target_host, next_attempt_at FROM tasks; END IF; END $$"
                         % backlog)
                processes.PG.query(herald.pg_database, "VACUUM ANALYZE")
                return
            connection = sqlite3.connect(herald.db)
            connection.execute(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)"
                " INSERT INTO tasks (webhook_id, business_id, business_type, target_url,"
                " target_host, payload, payload_is_json, request_hash, status, attempts,"
                " max_retry, next_attempt_at, created_at, updated_at)"
                " SELECT 'msg_f' || i, 'FUTURE-' || i, 'FUTURE', 'http://127.0.0.1:9/' || (i % 100),"
                " 'http://127.0.0.1:9', '{}', 1, x'00', 'pending', 0, 5,"
                " 4102444800000 + i, 0, 0 FROM n", (backlog,))
            connection.commit()
            connection.close()
        herald, receiver, result, stats, seconds = self.end_to_end_run("backlog", count, fill)
        try:
            rate = stats["received"] / seconds
            self.row("6 large backlog", "deliveries/s with %d tasks pending" % backlog, rate,
                     "tasks/s", ">= 80% of scenario 3", rate / self.e2e_rate if self.e2e_rate else None)
            self.row("6 large backlog", "heraldd peak RSS", herald.rss_peak_mb(), "MB",
                     "< 64 MB")
            size = count_rows(herald, "SELECT pg_database_size(current_database())") \
                if herald.pg_database else os.path.getsize(herald.db)
            self.row("6 large backlog", "database size", size / 1048576, "MB")
        finally:
            herald.stop()
            receiver.close()

    # 7. a retry storm
    def retry_storm(self):
        count = self.n(50000, least=20)
        directory = self.directory("retry-storm")
        failing = Receiver(directory, "fail", count)
        # Every attempt fails at one receiver: the storm is the point, so its
        # circuit breaker (which would park the tasks) is off (scenario 10 has it).
        herald = Herald(directory, retry={"max_retry": "3", "base_delay": "1s", "max_delay": "1m",
                                          "exponential_backoff": "true", "jitter": "0.1",
                                          "breaker_failures": "0"}).start()
        try:
            cpu_before = herald.cpu_seconds()
            started = time.monotonic()
            loadgen(herald.url(), count, concurrency=64, target=failing.url())
            deadline = time.monotonic() + 300
            while count_rows(herald, "SELECT count(*) FROM manual") < count:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            elapsed = time.monotonic() - started
            in_manual = count_rows(herald, "SELECT count(*) FROM manual")
            connection = sqlite3.connect(herald.db)
            gaps = connection.execute(
                "SELECT a.attempt, b.started_at - (a.started_at + a.duration_ms) FROM attempts a"
                " JOIN attempts b ON b.task_id = a.task_id AND b.attempt = a.attempt + 1").fetchall()
            connection.close()
            # After failure k the wait is 1 s * 2^(k-1) +-10% jitter. Early is a
            # bug (beyond 100 ms of slack); late is the load: report how late.
            early, lateness = 0, []
            for k, gap in gaps:
                low, high = 900 * 2 ** (k - 1), 1100 * 2 ** (k - 1)
                early += gap < low - 100
                lateness.append(max(0, gap - high))
            lateness.sort()
            within = sum(1 for late in lateness if late <= 100)
            self.row("7 retry storm", "tasks in manual handling", "%d / %d" % (in_manual, count),
                     "", "all")
            self.row("7 retry storm", "retry gaps within policy +-jitter+100ms",
                     "%d / %d" % (within, len(gaps)), "", "all")
            self.row("7 retry storm", "retries early (before policy -jitter-100ms)",
                     "%d" % early, "", "0")
            if lateness:
                self.row("7 retry storm", "lateness past policy+jitter: p50 / p99 / max",
                         "%d / %d / %d" % (lateness[len(lateness) // 2],
                                           lateness[int(0.99 * (len(lateness) - 1))],
                                           lateness[-1]), "ms")
            self.row("7 retry storm", "heraldd CPU for %d attempts in %.0fs" % (3 * count, elapsed),
                     herald.cpu_seconds() - cpu_before, "s")
        finally:
            herald.stop()
            failing.close()

    # 8. a bulk retry of many manual entries while single tasks keep arriving
    def bulk_retry(self):
        entries = self.n(50000, least=1000)
        # Short windows, so the bulk retry (about a second and a half here) is
        # a large part of what the "during" percentiles cover.
        seconds = 4 if not self.smoke else 2
        rate = 1000 if not self.smoke else 100
        directory = self.directory("bulk-retry")
        receiver = Receiver(directory, "ok", entries)
        intake_sink = Receiver(directory, "ok", rate * seconds * 2)
        herald = Herald(directory)
        herald.start()  # creates and migrates the database
        herald.stop()
        connection = sqlite3.connect(herald.db)
        connection.execute(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1)"
            " INSERT INTO tasks (webhook_id, business_id, business_type, target_url,"
            " target_host, payload, payload_is_json, request_hash, status, attempts,"
            " max_retry, next_attempt_at, created_at, updated_at)"
            " SELECT 'msg_m' || i, 'MANUAL-' || i, 'MANUAL', ?, ?,"
            " '{\"seq\":' || i || ',\"sent_ns\":0}', 1, x'00', 'failed', 5, 5, 0, 1, 1 FROM n",
            (entries, receiver.url(), "http://127.0.0.1:%d" % receiver.port))
        connection.execute("INSERT INTO manual (task_id, reason, attempts, moved_at)"
                           " SELECT id, 'exhausted', 5, 1 FROM tasks")
        connection.commit()
        connection.close()
        herald.start()
        try:
            alone = loadgen(herald.url(), rate * seconds // 2, concurrency=16, rate=rate,
                            target=intake_sink.url(), business_type="ALONE")
            request = urllib.request.Request(
                herald.url() + "/v1/manual/retry", data=b'{"all":true}', method="POST",
                headers={"Content-Type": "application/json"})
            answer = {}

            def bulk():
                started = time.monotonic()
                with urllib.request.urlopen(request, timeout=600) as response:
                    answer.update(json.loads(response.read()))
                answer["seconds"] = time.monotonic() - started
            thread = threading.Thread(target=bulk)
            thread.start()
            during = loadgen(herald.url(), rate * seconds, concurrency=16, rate=rate,
                             target=intake_sink.url(), business_type="DURING",
                             seq_start=rate * seconds)
            thread.join(600)
            stats = receiver.wait_for(entries, timeout=300)
            self.row("8 bulk retry", "entries retried (%d matched) in" % answer.get("matched", 0),
                     answer.get("seconds", 0.0), "s")
            self.row("8 bulk retry", "retried tasks delivered / duplicates",
                     "%d / %d" % (stats["received"], stats["duplicates"]), "", "all, 0")
            self.row("8 bulk retry", "single-task intake p99 alone", alone["p99_ms"], "ms")
            self.row("8 bulk retry", "single-task intake p50 / p99 during the bulk retry",
                     "%.2f / %.2f" % (during["p50_ms"], during["p99_ms"]), "ms",
                     "p99 < 50 ms")
            self.row("8 bulk retry", "intake failed during", "%d" % during["failed"], "", "0")
        finally:
            herald.stop()
            receiver.close()
            intake_sink.close()

    def write(self, path):
        versions = {}
        for library in ("libmicrohttpd", "sqlite3", "libcjson", "libcurl", "libcrypto"):
            versions[library] = subprocess.run(["pkg-config", "--modversion", library],
                                               capture_output=True, text=True).stdout.strip()
        cpu = "?"
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        with open(path, "w") as f:
            f.write("# herald benchmark results\n\n")
            f.write("Run `make bench` to reproduce; `bench/NOTES.md` explains the figures.\n\n")
            f.write("- date: %s\n" % datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
            f.write("- machine: %d CPUs (%s), kernel %s\n" % (os.cpu_count(), cpu, platform.release()))
            f.write("- libraries: %s\n" % ", ".join("%s %s" % kv for kv in versions.items()))
            if self.pg:
                f.write("- PostgreSQL %s (its own cluster: fsync and synchronous_commit on, "
                        "otherwise default settings), on the same machine\n" % self.pg.version)
            if self.pg and self.pg.standby:
                f.write("- rows marked [postgresql, sync standby]: a fresh cluster with a "
                        "streaming standby on the same machine, named in "
                        "synchronous_standby_names (sync_state 'sync' before and after each "
                        "load); their ratio is to the same row on the single server\n")
            f.write("- heraldd, load generator and receivers on the same machine; %s\n\n"
                    % ("SMOKE RUN (tiny sizes): not a measurement" if self.smoke else "full sizes"))
            f.write("| scenario | metric | value | unit | target | of ceiling / baseline |\n")
            f.write("|---|---|---|---|---|---|\n")
            for scenario, metric, value, unit, target, ratio in self.rows:
                shown = ("%.1f" % value) if isinstance(value, float) else str(value)
                f.write("| %s | %s | %s | %s | %s | %s |\n" % (
                    scenario, metric, shown, unit, target,
                    "%.0f%%" % (100 * ratio) if ratio is not None else ""))

    def cleanup(self):
        shutil.rmtree(self.base, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--out", default=os.path.join(ROOT, "bench", "results.md"))
    parser.add_argument("--only", help="scenario numbers to run, e.g. 3,6 (ratios need 1 and "
                        "3); default all, or 1,2,3,4,6 with --backend postgresql")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"),
                        default=os.environ.get("BACKEND") or "sqlite",
                        help="postgresql: also scenarios 2-4 and 6 on PostgreSQL, beside SQLite")
    parser.add_argument("--standby", choices=("", "sync"),
                        default=os.environ.get("STANDBY") or "",
                        help="with --backend postgresql: sync runs scenarios 2-4 once more "
                        "with a synchronous standby on the same machine")
    parser.add_argument("--instances", default=os.environ.get("INSTANCES") or "",
                        help="with --backend postgresql: scenario 9, several heraldd on one "
                        "database, for each of these instance counts (e.g. 1,2,3)")
    parser.add_argument("--heraldd", default=processes.HERALDD,
                        help="the heraldd to measure (make bench-compare: another build's)")
    options = parser.parse_args()
    processes.HERALDD = os.path.abspath(options.heraldd)
    instance_counts = [int(n) for n in options.instances.split(",") if n.strip()]
    if instance_counts and options.backend != "postgresql":
        parser.error("--instances needs --backend postgresql")
    if options.standby and options.backend != "postgresql":
        parser.error("--standby needs --backend postgresql")
    # A terminated run (a CI timeout, kill) unwinds like a failed one: the clusters,
    # the standby among them, are stopped and removed below.
    signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(128 + number))
    only = options.only or ("1,2,3,4,6,10,11" if options.backend == "postgresql"
                            else "1,2,3,4,5,6,7,8,10,11")
    if instance_counts and not options.only:
        only += ",9"
    bench = Bench(0.002 if options.smoke else 1.0, options.smoke)
    started = time.monotonic()
    try:
        import cluster  # scenario 9 (bench/cluster.py)
        import outage  # scenario 10 (bench/outage.py)
        import telemetry  # scenario 11 (bench/telemetry.py)
        scenarios = (bench.ceilings, bench.intake, bench.end_to_end, bench.latency,
                     bench.isolation, bench.backlog, bench.retry_storm, bench.bulk_retry,
                     lambda: cluster.instances(bench, instance_counts),
                     lambda: outage.outage(bench), lambda: telemetry.telemetry(bench))
        numbers = sorted(set(int(n) for n in only.split(",")))
        for number in [n for n in numbers if n != 9]:
            scenarios[number - 1]()
        if options.backend == "postgresql":
            settings = cluster.pg_settings() if instance_counts else ()
            processes.PG = bench.pg = PgCluster(settings)
            for number in [n for n in numbers if n in (2, 3, 4, 6, 10, 11) or
                           (n == 9 and instance_counts)]:
                scenarios[number - 1]()
            standby_numbers = [n for n in numbers if n in (2, 3, 4)]
            if options.standby == "sync" and standby_numbers:
                # A fresh cluster, so the base backup copies no earlier scenario's data.
                processes.PG.stop()
                processes.PG = bench.pg = PgCluster(name="primary")
                bench.standby = True
                processes.PG.add_standby()
                for number in standby_numbers:
                    scenarios[number - 1]()
        bench.write(options.out)
    finally:
        kill_children()
        if processes.PG:
            processes.PG.stop()
        bench.cleanup()
    print("bench: %d figures in %.0fs, written to %s" % (len(bench.rows),
                                                         time.monotonic() - started, options.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
