"""Scenario 9 of make bench: several heraldd sharing one PostgreSQL database.

make bench BACKEND=postgresql INSTANCES=1,2,3 runs, for each instance count in the same
run: durable intake (single POSTs spread over the instances, deliveries parked on a
receiver that never answers) and end to end (POSTs spread over the instances, one
receiver), with PostgreSQL's CPU, and checks nothing is lost or sent twice. Every
figure is also given as a ratio to one instance's.

What limits it is measured rather than guessed: pg_stat_statements (loaded into the
bench's cluster for this scenario) gives the time PostgreSQL spent in the claim,
outcome and intake statements, and a sampler reads pg_stat_activity every 10 ms for
sessions waiting on a lock (a row lock, a transaction id, a relation extension).
"""
import os
import threading
import time

import processes


def pg_settings():
    """Settings for the bench's cluster when this scenario runs."""
    return ["shared_preload_libraries=pg_stat_statements", "pg_stat_statements.track=top"]


class LockSampler:
    """Counts, every 10 ms, herald's sessions waiting on a lock, by wait event."""

    def __init__(self, database):
        self.database = database
        self.samples = 0
        self.waits = {}
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run)
        self.thread.start()

    def _run(self):
        connection = processes.PgConnection("postgres", user="postgres",
                                            directory=processes.PG.directory)
        try:
            while not self.stopping.is_set():
                rows = connection.query(
                    "SELECT wait_event FROM pg_stat_activity WHERE datname = '%s'"
                    " AND wait_event_type = 'Lock'" % self.database)
                self.samples += 1
                for (event,) in rows:
                    self.waits[event] = self.waits.get(event, 0) + 1
                time.sleep(0.01)
        finally:
            connection.close()

    def stop(self):
        self.stopping.set()
        self.thread.join(10)

    def describe(self):
        """Average sessions waiting on a lock at any moment, by wait event."""
        if not self.samples:
            return "no samples"
        total = sum(self.waits.values()) / self.samples
        parts = ", ".join("%s %.2f" % (event, count / self.samples)
                          for event, count in sorted(self.waits.items(), key=lambda kv: -kv[1]))
        return "%.2f%s" % (total, " (%s)" % parts if parts else "")


def statement_times(database):
    """The statements of the work and of finding it, from pg_stat_statements: (calls,
    mean ms, total s) of the claim, the outcomes, the intake insert, the due-hosts
    read, the next-due read and the signal."""
    rows = processes.PG.query(database, "SELECT query, calls, mean_exec_time, total_exec_time"
                        " FROM pg_stat_statements JOIN pg_database d ON d.oid = dbid"
                        " WHERE d.datname = current_database()", user="postgres")
    found = {}
    for query, calls, mean, total in rows:
        text = query.decode() if isinstance(query, bytes) else str(query)
        if "FOR UPDATE SKIP LOCKED" in text and "due AS MATERIALIZED" in text:
            name = "claim"
        elif "UPDATE tasks" in text and "unnest" in text and "attempt" in text:
            name = "outcomes"
        elif "INSERT INTO tasks" in text:
            name = "intake insert"
        elif "WITH RECURSIVE hosts" in text:
            name = "due hosts (poll, signals)"
        elif "pg_notify" in text:
            name = "signal sent"
        elif "SELECT next_attempt_at FROM tasks" in text:
            name = "host next due"
        else:
            continue
        calls, mean, total = int(calls), float(mean), float(total)
        before = found.get(name, (0, 0.0, 0.0))
        merged_calls = before[0] + calls
        found[name] = (merged_calls, (before[1] * before[0] + mean * calls) / merged_calls,
                       before[2] + total / 1000)
    return found


def start_instances(bench, name, count, delivery=None):
    database = processes.PG.new_database()
    processes.PG.query(database, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements",
                       user="postgres")
    heralds = []
    for index in range(count):
        directory = bench.directory("%s-%d-of-%d" % (name, index + 1, count))
        heralds.append(processes.Herald(directory, delivery=delivery, pg_database=database).start())
    processes.PG.query(database, "SELECT pg_stat_statements_reset()", user="postgres")
    return database, heralds


def spread_load(heralds, count, target):
    """COUNT single POSTs, 64 connections in all, split evenly over HERALDS."""
    share = count // len(heralds)
    threads, results = [], []
    started = time.time_ns()

    def one(index, herald):
        results.append(processes.loadgen(herald.url(), share, concurrency=64 // len(heralds),
                                   target=target, seq_start=index * share))
    for index, herald in enumerate(heralds):
        threads.append(threading.Thread(target=one, args=(index, herald)))
        threads[-1].start()
    for thread in threads:
        thread.join()
    seconds = max(r["started_ns"] / 1e9 + r["seconds"] for r in results) - started / 1e9
    return share * len(heralds), sum(r["failed"] for r in results), started, seconds


def instances(bench, counts):
    scenario = "9 several instances"
    base = {}
    for n in counts:
        label = "%d instance%s" % (n, "s" if n > 1 else "")
        # Durable intake, the instances' deliveries parked on a receiver that hangs.
        directory = bench.directory("instances-intake-%d" % n)
        hang = processes.Receiver(directory, "hang", 0)
        database, heralds = start_instances(bench, "instances-intake", n, delivery={
            "per_host_concurrency": "1", "timeout": "1s", "connect_timeout": "1s"})
        try:
            pg_cpu = processes.PG.cpu_seconds()
            total, failed, _, seconds = spread_load(heralds, bench.n(100000), hang.url())
            rate = total / seconds
            stored = processes.PG.query(database, "SELECT count(*) FROM tasks")[0][0]
            bench.row(scenario, "%s: durable intake tasks/s (%d stored, %d failed)"
                      % (label, stored, failed), rate, "tasks/s", "",
                      rate / base["intake"] if "intake" in base else None)
            bench.row(scenario, "%s: intake, PostgreSQL CPU per task" % label,
                      1e6 * (processes.PG.cpu_seconds() - pg_cpu) / max(total, 1), "us")
            base.setdefault("intake", rate)
        finally:
            for herald in heralds:
                herald.stop()
            hang.close()
        # End to end: every task delivered once, by whichever instance claims it.
        directory = bench.directory("instances-e2e-%d" % n)
        count = bench.n(100000)
        receiver = processes.Receiver(directory, "ok", count)
        database, heralds = start_instances(bench, "instances-e2e", n)
        sampler = LockSampler(database)
        try:
            pg_cpu = processes.PG.cpu_seconds()
            herald_cpu = sum(h.cpu_seconds() for h in heralds)
            total, failed, started, _ = spread_load(heralds, count, receiver.url())
            stats = receiver.wait_for(total, timeout=120 + total / 1000)
            sampler.stop()
            seconds = (stats["last_ns"] - started) / 1e9
            rate = stats["received"] / seconds
            if stats["received"] < total:
                raise RuntimeError("%s: %d of %d delivered" % (label, stats["received"], total))
            bench.row(scenario, "%s: end to end deliveries/s" % label, rate, "tasks/s",
                      ">= 80% of 1 instance" if n > 1 else "",
                      rate / base["e2e"] if "e2e" in base else None)
            base.setdefault("e2e", rate)
            bench.row(scenario, "%s: delivered / duplicates / intake failed" % label,
                      "%d / %d / %d" % (stats["received"], stats["duplicates"], failed), "",
                      "all, 0, 0")
            pg_used = processes.PG.cpu_seconds() - pg_cpu
            bench.row(scenario, "%s: end to end, heraldd / PostgreSQL CPU per task" % label,
                      "%.0f / %.0f" % (1e6 * (sum(h.cpu_seconds() for h in heralds) - herald_cpu)
                                       / total, 1e6 * pg_used / total), "us")
            bench.row(scenario, "%s: PostgreSQL share of the machine's CPU" % label,
                      100.0 * pg_used / (seconds * os.cpu_count()), "%")
            for statement, (calls, mean, spent) in sorted(statement_times(database).items()):
                bench.row(scenario, "%s: %s: calls, mean, share of the run" % (label, statement),
                          "%d, %.3f ms, %.0f%%" % (calls, mean, 100 * spent / seconds), "")
            bench.row(scenario, "%s: sessions waiting on a lock (avg)" % label,
                      sampler.describe(), "")
        finally:
            sampler.stop()
            for herald in heralds:
                herald.stop()
            receiver.close()
