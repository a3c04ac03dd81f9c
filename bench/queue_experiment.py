#!/usr/bin/env python3
"""What a narrow hot queue would save on PostgreSQL, measured before it is built
(issue 25): pgbench runs one task's life (intake, claim, outcome with its attempt
row, three transactions) on two schemas, alternately, on the bench's own cluster.

- current: herald's schema as its migrations made it before the queue was built
  (migrations/postgresql/001-008; 009-011 are the queue this measured for):
  the claim and the outcome each rewrite the wide task row, and as status is in
  the partial indexes' predicates and in tasks_status, neither update is HOT: each
  adds an entry to every index of tasks.
- narrow: the same tables, plus a narrow `queue` (task_id, target_host,
  next_attempt_at, attempts, claim_token) that intake inserts into and the outcome
  deletes from; the claim updates only the queue row; tasks loses tasks_host_due,
  tasks_leases and tasks_status (nothing indexed changes on it after intake) and has
  fillfactor 90, so the outcome's update of tasks is HOT.

Usage: queue_experiment.py [--tasks 20000] [--clients 8] [--pairs 3] [--sqlite]
Prints, for each schema, the median WAL bytes, server CPU per task and tasks/s, the
ratio narrow / current with its spread, and WAL by record type of the last pair.
It changes nothing in herald; it says what the change would be worth.

--sqlite runs the same lives on SQLite instead (herald's SQLite migrations, WAL,
synchronous=FULL), in batches of 32 tasks a transaction as herald's intake and
scheduler write them, in this process: CPU per task is this process's, WAL bytes per
task the -wal file's growth with automatic checkpoints off.
"""
import argparse
import glob
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import processes  # noqa: E402
from processes import ROOT, PgCluster  # noqa: E402

NARROW = """
DROP INDEX tasks_host_due;
DROP INDEX tasks_leases;
DROP INDEX tasks_status;
ALTER TABLE tasks SET (fillfactor = 90);
CREATE TABLE queue (
    task_id         bigint PRIMARY KEY,
    target_host     text   NOT NULL,
    next_attempt_at bigint NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    claim_token     text
) WITH (fillfactor = 80, autovacuum_vacuum_scale_factor = 0.01,
        autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_cost_delay = 0);
CREATE INDEX queue_host_due ON queue (target_host, next_attempt_at) WHERE claim_token IS NULL;
CREATE INDEX queue_leases ON queue (next_attempt_at) WHERE claim_token IS NOT NULL;
"""

INTAKE = r"""
\set n random(1, 1000000000000)
BEGIN;
INSERT INTO tasks (webhook_id, business_id, business_type, target_url, target_host,
  payload_is_json, request_hash, status, max_retry, next_attempt_at, created_at, updated_at)
  VALUES ('msg_' || :n, 'B-' || :client_id || '-' || :n, 'BENCH',
  'http://h' || :client_id || ':80/hook', 'http://h' || :client_id || ':80', true,
  '\x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff', 'pending', 5,
  1, 1, 1) RETURNING id \gset
INSERT INTO task_bodies (task_id, payload, headers) VALUES (:id, '\x7b226f72646572223a2231323334227d', NULL);
"""

CURRENT = INTAKE + r"""
COMMIT;
BEGIN;
UPDATE tasks t SET status = 'delivering', attempts = t.attempts + 1,
  next_attempt_at = 2000000000000, claim_token = 'tok-' || :n, updated_at = 2
  WHERE t.id = (SELECT id FROM tasks WHERE status = 'pending'
  AND target_host = 'http://h' || :client_id || ':80' AND next_attempt_at <= 3
  ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING t.id AS cid \gset
COMMIT;
BEGIN;
UPDATE tasks SET status = 'succeeded', updated_at = 3, last_status_code = 200,
  last_error = NULL, claim_token = NULL WHERE id = :cid AND status = 'delivering'
  AND claim_token = 'tok-' || :n;
INSERT INTO attempts (task_id, attempt, started_at, duration_ms, status_code,
  response_truncated, target_host) VALUES (:cid, 1, 2, 1, 200, false, 'http://h' || :client_id || ':80');
COMMIT;
"""

NARROW_RUN = INTAKE + r"""
INSERT INTO queue (task_id, target_host, next_attempt_at)
  VALUES (:id, 'http://h' || :client_id || ':80', 1);
COMMIT;
BEGIN;
UPDATE queue q SET attempts = q.attempts + 1, next_attempt_at = 2000000000000,
  claim_token = 'tok-' || :n
  WHERE q.task_id = (SELECT task_id FROM queue WHERE claim_token IS NULL
  AND target_host = 'http://h' || :client_id || ':80' AND next_attempt_at <= 3
  ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING q.task_id AS cid \gset
COMMIT;
BEGIN;
DELETE FROM queue WHERE task_id = :cid AND claim_token = 'tok-' || :n;
UPDATE tasks SET status = 'succeeded', attempts = 1, updated_at = 3, last_status_code = 200,
  last_error = NULL WHERE id = :cid;
INSERT INTO attempts (task_id, attempt, started_at, duration_ms, status_code,
  response_truncated, target_host) VALUES (:cid, 1, 2, 1, 200, false, 'http://h' || :client_id || ':80');
COMMIT;
"""


# The experiment's "current" is the schema before migration 009 built the queue.
LAST_BEFORE_QUEUE = 8


def psql(cluster, database, sql):
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", cluster.directory,
                    "-U", "herald", "-d", database], input=sql, text=True, check=True,
                   stdout=subprocess.DEVNULL)


def one_run(cluster, schema, tasks, clients, directory):
    database = cluster.new_database()
    for path in sorted(glob.glob(os.path.join(ROOT, "migrations", "postgresql", "*.sql"))):
        if int(os.path.basename(path).split("_")[0]) > LAST_BEFORE_QUEUE:
            continue
        with open(path) as migration:
            psql(cluster, database, migration.read())
    if schema == "narrow":
        psql(cluster, database, NARROW)
    script = os.path.join(directory, schema + ".sql")
    with open(script, "w") as out:
        out.write(CURRENT if schema == "current" else NARROW_RUN)
    cpu, wal, lsn = cluster.cpu_seconds(), cluster.wal_bytes(), cluster.wal_lsn()
    result = subprocess.run(
        ["pgbench", "-n", "-h", cluster.directory, "-U", "herald", "-c", str(clients),
         "-j", "2", "-t", str(tasks // clients), "-f", script, database],
        capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError("pgbench (%s): %s" % (schema, result.stderr[-2000:]))
    done = clients * (tasks // clients)
    tps = next(float(line.split("=")[1].split()[0]) for line in result.stdout.splitlines()
               if line.startswith("tps ="))
    return {"WAL bytes per task": (cluster.wal_bytes() - wal) / done,
            "server CPU per task (us)": 1e6 * (cluster.cpu_seconds() - cpu) / done,
            "tasks/s": tps,
            "records": cluster.wal_by_record(lsn, cluster.wal_lsn())}, done


SQLITE_NARROW = """
DROP INDEX tasks_host_due;
DROP INDEX tasks_leases;
DROP INDEX tasks_status;
CREATE TABLE queue (
    task_id         INTEGER PRIMARY KEY,
    target_host     TEXT    NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    claim_token     TEXT
);
CREATE INDEX queue_host_due ON queue (target_host, next_attempt_at) WHERE claim_token IS NULL;
CREATE INDEX queue_leases ON queue (next_attempt_at) WHERE claim_token IS NOT NULL;
"""

SQLITE_BATCH = 32


def sqlite_run(schema, tasks, directory):
    """Lives of TASKS tasks, SQLITE_BATCH a transaction for each step."""
    import sqlite3
    import time
    path = os.path.join(directory, schema + ".db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    for migration in sorted(glob.glob(os.path.join(ROOT, "migrations", "sqlite", "*.sql"))):
        with open(migration) as f:
            db.executescript(f.read())
    if schema == "narrow":
        db.executescript(SQLITE_NARROW)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.execute("PRAGMA wal_autocheckpoint=0")
    payload = b'{"order":"1234","amount":100,"currency":"EUR","customer":"c-42"}'
    started = time.process_time()
    for batch in range(tasks // SQLITE_BATCH):
        db.execute("BEGIN IMMEDIATE")
        for i in range(SQLITE_BATCH):
            n = batch * SQLITE_BATCH + i
            cursor = db.execute(
                "INSERT INTO tasks (webhook_id, business_id, business_type, target_url,"
                " target_host, payload, payload_is_json, request_hash, status, max_retry,"
                " next_attempt_at, created_at, updated_at) VALUES (?, ?, 'BENCH',"
                " 'http://h:80/hook', 'http://h:80', ?, 1, ?, 'pending', 5, 1, 1, 1)",
                ("msg_%d" % n, "B-%d" % n, payload, b"\x00" * 32))
            if schema == "narrow":
                db.execute("INSERT INTO queue (task_id, target_host, next_attempt_at)"
                           " VALUES (?, 'http://h:80', 1)", (cursor.lastrowid,))
        db.execute("COMMIT")
        db.execute("BEGIN IMMEDIATE")
        if schema == "current":
            ids = [row[0] for row in db.execute(
                "UPDATE tasks SET status = 'delivering', attempts = attempts + 1,"
                " next_attempt_at = 2000000000000, claim_token = 'tok', updated_at = 2"
                " WHERE id IN (SELECT id FROM tasks WHERE status = 'pending' AND target_host ="
                " 'http://h:80' AND next_attempt_at <= 3 ORDER BY next_attempt_at LIMIT ?)"
                " RETURNING id", (SQLITE_BATCH,))]
        else:
            ids = [row[0] for row in db.execute(
                "UPDATE queue SET attempts = attempts + 1, next_attempt_at = 2000000000000,"
                " claim_token = 'tok' WHERE task_id IN (SELECT task_id FROM queue WHERE"
                " claim_token IS NULL AND target_host = 'http://h:80' AND next_attempt_at <= 3"
                " ORDER BY next_attempt_at LIMIT ?) RETURNING task_id", (SQLITE_BATCH,))]
        for task_id in ids:  # the claim reads the tasks it took, payload and all
            db.execute("SELECT * FROM tasks WHERE id = ?", (task_id,)).fetchone()
        db.execute("COMMIT")
        db.execute("BEGIN IMMEDIATE")
        for task_id in ids:
            if schema == "current":
                db.execute("UPDATE tasks SET status = 'succeeded', updated_at = 3,"
                           " last_status_code = 200, last_error = NULL, claim_token = NULL"
                           " WHERE id = ? AND status = 'delivering' AND claim_token = 'tok'",
                           (task_id,))
            else:
                db.execute("DELETE FROM queue WHERE task_id = ? AND claim_token = 'tok'",
                           (task_id,))
                db.execute("UPDATE tasks SET status = 'succeeded', attempts = 1, updated_at = 3,"
                           " last_status_code = 200, last_error = NULL WHERE id = ?", (task_id,))
            db.execute("INSERT INTO attempts (task_id, attempt, started_at, duration_ms,"
                       " status_code, response_truncated, target_host) VALUES"
                       " (?, 1, 2, 1, 200, 0, 'http://h:80')", (task_id,))
        db.execute("COMMIT")
    cpu = time.process_time() - started
    done = SQLITE_BATCH * (tasks // SQLITE_BATCH)
    wal = os.path.getsize(path + "-wal")
    db.close()
    return {"WAL bytes per task": wal / done, "CPU per task (us)": 1e6 * cpu / done,
            "tasks/s": done / max(cpu, 1e-9)}


def sqlite_main(options):
    directory = tempfile.mkdtemp(prefix="herald-queue-", dir=os.path.join(ROOT, "build"))
    try:
        runs = {"current": [], "narrow": []}
        for pair in range(options.pairs):
            for schema in ("current", "narrow"):
                figures = sqlite_run(schema, options.tasks, directory)
                runs[schema].append(figures)
                print("pair %d %-8s %s" % (pair + 1, schema,
                                           {k: round(v, 1) for k, v in figures.items()}),
                      flush=True)
        report(runs, ("WAL bytes per task", "CPU per task (us)", "tasks/s"))
    finally:
        subprocess.run(["rm", "-rf", directory])
    return 0


def report(runs, keys):
    print("\n%-28s %10s %10s %8s %s" % ("", "current", "narrow", "ratio", "spread"))
    for key in keys:
        a = [run[key] for run in runs["current"]]
        b = [run[key] for run in runs["narrow"]]
        ratios = [y / x for x, y in zip(a, b)]
        print("%-28s %10.1f %10.1f %8.2f %.2f-%.2f" % (
            key, statistics.median(a), statistics.median(b), statistics.median(ratios),
            min(ratios), max(ratios)))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=20000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--sqlite", action="store_true")
    options = parser.parse_args()
    if options.sqlite:
        return sqlite_main(options)
    cluster = PgCluster()
    directory = tempfile.mkdtemp(prefix="herald-queue-")
    try:
        psql_user = "CREATE ROLE herald LOGIN SUPERUSER"
        subprocess.run(["psql", "-X", "-q", "-h", cluster.directory, "-U", "postgres", "-d",
                        "postgres", "-c", psql_user], capture_output=True)
        runs = {"current": [], "narrow": []}
        for pair in range(options.pairs):
            for schema in ("current", "narrow"):
                figures, done = one_run(cluster, schema, options.tasks, options.clients,
                                        directory)
                runs[schema].append(figures)
                print("pair %d %-8s %s" % (pair + 1, schema, {
                    k: round(v, 1) for k, v in figures.items() if k != "records"}), flush=True)
        report(runs, ("WAL bytes per task", "server CPU per task (us)", "tasks/s"))
        for schema in ("current", "narrow"):
            records = runs[schema][-1]["records"]
            top = sorted(records.items(), key=lambda item: -item[1][1])[:8]
            print("\n%s, WAL bytes per task by record (last pair):" % schema)
            for record, (count, size) in top:
                print("  %-24s %8.1f" % (record, size / done))
    finally:
        cluster.stop()
        subprocess.run(["rm", "-rf", directory])
    return 0


if __name__ == "__main__":
    sys.exit(main())
