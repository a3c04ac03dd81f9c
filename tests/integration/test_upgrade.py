"""A rolling upgrade of several heraldd on one PostgreSQL, with real binaries of two
versions: the previous one is built from this repository's history (the commit before
the one that added the newest PostgreSQL migration: an edit to an older migration's
comment or form does not count), the new one is the binary under test.

The procedure (README, "Upgrading several heraldd"): stop one old instance, start the
new binary in its place (it migrates the schema on start), then the next. Old
instances keep accepting and delivering on the newer schema meanwhile (herald's
migrations within a release only add), and an old binary started after the migration
refuses the newer schema. PostgreSQL only: SQLite has one heraldd at a time.

Migration 008 builds an index on attempts, herald's largest table, while an instance of
the release before it delivers (LargeTableMigrationTest): concurrently, past a short
statement_timeout, and again after a heraldd killed in the middle of the build. The new
heraldd goes on through the later migrations (009's queue and its trigger, 010's copy
into it) with that old instance still at work; 011 waits for it to be gone.
"""
import json
import os
import subprocess
import tarfile
import tempfile
import threading
import time
import unittest

import database
from database import PgConnection, TestDatabase, schema_beside_older, schema_version
from harness import FrozenThread, Herald, Receiver, task_request, wait_until

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
previous_heraldd = None
previous_commit = None


def git(*args):
    return subprocess.run(["git", "-C", ROOT] + list(args), check=True, capture_output=True,
                          text=True, timeout=60).stdout.strip()


def build_before(migration):
    """The heraldd of the commit before the one that added MIGRATION (a path under
    migrations/postgresql, or that folder for the newest), built once and kept under
    build/previous/COMMIT; returns (binary, commit)."""
    try:
        added = git("log", "-1", "--diff-filter=A", "--format=%H", "--",
                    os.path.join("migrations/postgresql", migration))
        commit = git("rev-parse", "--short", added + "^")
    except (subprocess.CalledProcessError, OSError) as error:
        # A shallow clone or a tarball has no history to build the previous version from.
        raise unittest.SkipTest("no git history for the previous version: %s" % error)
    directory = os.path.join(ROOT, "build", "previous", commit)
    binary = os.path.join(directory, "build", "heraldd")
    if os.path.exists(binary):
        return binary, commit
    os.makedirs(directory, exist_ok=True)
    with tempfile.TemporaryFile() as archive:
        subprocess.run(["git", "-C", ROOT, "archive", commit], stdout=archive,
                       check=True, timeout=60)
        archive.seek(0)
        with tarfile.open(fileobj=archive) as tar:
            # filter= arrived in Python 3.11.4; Debian 12's python3 is 3.11.2. The
            # archive is our own repository's, so the plain form is safe there.
            if hasattr(tarfile, "data_filter"):
                tar.extractall(directory, filter="data")
            else:
                tar.extractall(directory)
    subprocess.run(["make", "-C", directory, "-j2", "build/heraldd"], check=True, timeout=600,
                   stdout=subprocess.DEVNULL)
    return binary, commit


def setUpModule():
    """Builds the previous heraldd once."""
    global previous_heraldd, previous_commit
    if database.BACKEND != "postgresql":
        raise unittest.SkipTest("PostgreSQL only: several heraldd share PostgreSQL")
    previous_heraldd, previous_commit = build_before("")


class RollingUpgradeTest(unittest.TestCase):
    PER_PHASE = 150

    def schema_version(self, db):
        return db.value("SELECT max(version) FROM schema_migrations")

    def post(self, herald, name, receiver):
        status, _, body = herald.request("POST", "/v1/tasks",
                                         body=task_request(name, receiver.url()))
        self.assertEqual(status, 201, body)

    def test_old_and_new_binaries_share_one_schema_during_a_rolling_upgrade(self):
        db = TestDatabase(None)
        self.addCleanup(db.drop)
        receiver = Receiver()
        self.addCleanup(receiver.close)

        def instance(binary=None):
            herald = Herald(db=db, binary=binary)
            self.addCleanup(herald.cleanup)
            return herald
        old_a, old_b = instance(previous_heraldd).start(), instance(previous_heraldd).start()
        old_schema = self.schema_version(db)
        posted = []
        live = [old_a, old_b]
        stop_posting = threading.Event()

        def client():  # a shop's service, posting through the upgrade to whichever is up
            index = 0
            while not stop_posting.is_set():
                name = "ROLL-%d" % index
                for herald in list(live):
                    try:
                        status, _, _ = herald.request("POST", "/v1/tasks",
                                                      body=task_request(name, receiver.url()))
                    except (OSError, TypeError):
                        continue
                    if status in (200, 201):
                        posted.append(name)
                        index += 1
                        break
                time.sleep(0.005)
        poster = threading.Thread(target=client)
        poster.start()
        try:
            wait_until(lambda: len(posted) >= self.PER_PHASE, message="tasks before the upgrade")
            # Step 1: one old instance makes way for the new binary, which migrates.
            live.remove(old_a)
            old_a.stop()
            new_a = instance().start()
            live.append(new_a)
            # A migration that takes away what the old binary uses waits while the
            # other old instance runs (migration 011: tasks' indexes on status).
            beside_old = schema_beside_older(old_schema)
            self.assertGreater(self.schema_version(db), old_schema)
            self.assertEqual(self.schema_version(db), beside_old)
            if beside_old < schema_version():
                self.assertIn("event=migration_deferred version=%d " % (beside_old + 1),
                              new_a.log())
            if old_schema < 11 <= beside_old or beside_old < 11 <= schema_version():
                self.assertEqual(db.value("SELECT to_regclass('tasks_status') IS NOT NULL"),
                                 beside_old < 11)
            mark = len(old_b.lines)
            wait_until(lambda: len(posted) >= 2 * self.PER_PHASE, message="tasks in between")
            # The old instance works on the new schema: with the new one's scheduler
            # frozen, what is posted to the old one is delivered by the old one.
            frozen = FrozenThread(new_a.process.pid, "herald-sched")
            try:
                for i in range(10):
                    self.post(old_b, "OLD-ON-NEW-%d" % i, receiver)

                def delivered_by_old():
                    names = {json.loads(r.body)["id"] for r in receiver.received()}
                    return all("OLD-ON-NEW-%d" % i in names for i in range(10))
                wait_until(delivered_by_old, timeout=15, message="the old instance's deliveries")
            finally:
                frozen.release()
            # An old binary started now refuses the newer schema, clearly.
            late = instance(previous_heraldd)
            refused = subprocess.run([previous_heraldd, "-c", late.config_path],
                                     capture_output=True, text=True, timeout=60)
            self.assertEqual(refused.returncode, 1, refused.stderr)
            self.assertIn("newer than this heraldd knows", refused.stderr)
            # Step 2: the last old instance.
            live.remove(old_b)
            old_b.stop()
            new_b = instance().start()
            live.append(new_b)
            # No old instance beats any longer (a clean stop removes its row): the
            # last start-up applies what waited.
            self.assertEqual(self.schema_version(db), schema_version())
            self.assertEqual(db.value("SELECT to_regclass('tasks_status') IS NULL"), True)
            wait_until(lambda: len(posted) >= 3 * self.PER_PHASE, message="tasks after")
        finally:
            stop_posting.set()
            poster.join(30)
        old_text = "\n".join(old_b.lines[mark:])
        for failure in ("event=scheduler_write_failed", "event=intake_failed",
                        "event=host_list_failed"):
            self.assertNotIn(failure, old_text)

        wanted = set(posted) | {"OLD-ON-NEW-%d" % i for i in range(10)}
        wait_until(lambda: wanted <= {json.loads(r.body)["id"] for r in receiver.received()},
                   timeout=60, message="every accepted task delivered")
        wait_until(lambda: db.value("SELECT count(*) FROM tasks WHERE status <> 'succeeded'")
                   == 0, timeout=30, message="no task left in flight")
        ids = [r.headers["webhook-id"] for r in receiver.received()]
        # Clean stops finish their deliveries: nothing is sent twice.
        self.assertEqual(len(ids), len(set(ids)))
        print("rolling upgrade from %s (schema %d) to this build (schema %d): %d tasks, "
              "0 lost, 0 duplicates" % (previous_commit, old_schema, self.schema_version(db),
                                        len(wanted)))
        for herald in (new_a, new_b):
            herald.stop()


class LargeTableMigrationTest(unittest.TestCase):
    """Migration 008 builds attempts_failed on an attempts table of a few million rows
    (HERALD_TEST_MIGRATION_ROWS, 2,000,000 by default) while the old heraldd takes and
    delivers a task every 10 ms. Another session keeps a transaction that wrote to
    attempts open meanwhile (a slow writer, or an operator's session), so the build
    waits as a build on a busy table does, for as long as the test needs. The new
    heraldd runs with statement_timeout = 500ms: the migration must outlive it. The
    first new heraldd is killed (SIGKILL) in the middle of the build; the server must
    end that build by itself (nobody is left to wait for it), leaving an INVALID index
    that the next start drops and builds again. Throughout, the old instance's intake
    and deliveries must not wait for the migration. The old heraldd is built from the
    commit before 008; the new one applies the later migrations too (but 011, which
    waits for the old one to be gone), with the old one still taking and delivering
    tasks."""
    MIGRATION = 8
    MIGRATION_FILE = "008_attempts_failed.sql"
    ROWS = int(os.environ.get("HERALD_TEST_MIGRATION_ROWS", "2000000"))
    STATEMENT_TIMEOUT_MS = 500
    INTAKE_BOUND = 2.0     # s: the longest a 201 from the old instance may take meanwhile
    DELIVERY_BOUND = 3.0   # s: from the POST to the receiver, meanwhile
    MIGRATED_WITHIN = 120  # s: the new heraldd's start, once nothing holds its build

    @staticmethod
    def start_in_background(herald):
        def start():
            try:
                herald.start()
            except Exception:  # killed on purpose, or failed: the test checks the database
                pass
        thread = threading.Thread(target=start)
        thread.start()
        return thread

    def session_waits(self, db, condition):
        """How many sessions of a migrating heraldd (heraldd/status) on DB wait for a
        lock in a statement that matches CONDITION (SQL on pg_stat_activity a)."""
        return db.value("SELECT count(*) FROM pg_stat_activity a WHERE datname ="
                        " current_database() AND application_name = 'heraldd/status'"
                        " AND wait_event_type = 'Lock' AND " + condition)

    def test_index_on_a_large_table_is_built_under_load_and_after_a_kill(self):
        db = TestDatabase(None)
        self.addCleanup(db.drop)
        receiver = Receiver()
        self.addCleanup(receiver.close)
        old_heraldd, _ = build_before(self.MIGRATION_FILE)
        old = Herald(db=db, binary=old_heraldd)
        self.addCleanup(old.cleanup)
        old.start()
        old_schema = db.value("SELECT max(version) FROM schema_migrations")
        self.assertEqual(old_schema, self.MIGRATION - 1)

        # The large table: attempts over the last hour (of tasks retention removed),
        # one in 50 a failure.
        began = time.monotonic()
        filler = PgConnection(db.name, user="herald", directory=db.pg_dir)
        filler.sock.settimeout(max(60, self.ROWS / 10000))
        filler.query(
            "INSERT INTO attempts (task_id, attempt, started_at, duration_ms, status_code,"
            " error_class) SELECT -g, 1, (extract(epoch FROM now()) * 1000)::bigint"
            " - g::bigint * 3600000 / %d, 20, CASE WHEN g %% 50 = 0 THEN 500 ELSE 200 END,"
            " CASE WHEN g %% 50 = 0 THEN 'http_status' END FROM generate_series(1, %d) g;"
            " ANALYZE attempts" % (self.ROWS, self.ROWS))
        filler.close()
        fill_seconds = time.monotonic() - began

        posted, failures = {}, []
        stop_posting = threading.Event()

        def client():  # the shop, posting to the old instance all along
            index = 0
            while not stop_posting.is_set():
                name = "LOAD-%d" % index
                index += 1
                sent = time.monotonic()
                try:
                    status, _, body = old.request("POST", "/v1/tasks",
                                                  body=task_request(name, receiver.url()))
                except OSError as error:
                    failures.append((name, repr(error)))
                    continue
                if status == 201:
                    posted[name] = (sent, time.monotonic())
                else:
                    failures.append((name, status, body))
                stop_posting.wait(0.01)
        poster = threading.Thread(target=client)
        poster.start()
        holder = PgConnection(db.name, user="herald", directory=db.pg_dir)
        try:
            wait_until(lambda: len(posted) >= 50, message="the old instance under load")
            holder.query("BEGIN; INSERT INTO attempts (task_id, attempt, started_at,"
                         " duration_ms) VALUES (0, 1, 0, 0)")
            config = "[storage]\nstatement_timeout = %dms\n" % self.STATEMENT_TIMEOUT_MS
            migration_began = time.monotonic()

            # A first new heraldd starts the build, which waits for the open
            # transaction; it is killed there.
            killed = Herald(db=db, config=config)
            self.addCleanup(killed.cleanup)
            starting = self.start_in_background(killed)
            wait_until(lambda: db.value("SELECT count(*) FROM pg_stat_progress_create_index"
                                        " WHERE relid = 'attempts'::regclass AND phase ="
                                        " 'waiting for writers before build'"),
                       timeout=60, message="the first new heraldd's build of attempts_failed")
            build = db.value("SELECT pid FROM pg_stat_progress_create_index")
            killed.process.kill()
            starting.join(30)
            # Its session noticed (client_connection_check_interval) and ended the
            # build: no lock and no build left behind for nobody.
            wait_until(lambda: db.value("SELECT count(*) FROM pg_stat_activity WHERE pid = %d"
                                        % build) == 0,
                       timeout=15, message="the server to end the killed heraldd's build")
            self.assertEqual(db.value("SELECT max(version) FROM schema_migrations"),
                             old_schema)
            self.assertIs(db.value("SELECT indisvalid FROM pg_index WHERE indexrelid ="
                                   " 'attempts_failed'::regclass"), False)

            # The next start drops the INVALID index and builds it again; its
            # statement waits for the open transaction past statement_timeout.
            new = Herald(db=db, config=config)
            self.addCleanup(new.cleanup)
            starting = self.start_in_background(new)
            wait_until(lambda: self.session_waits(
                db, "now() - a.query_start > interval '%d milliseconds'"
                % (3 * self.STATEMENT_TIMEOUT_MS)), timeout=60,
                message="the new heraldd's migration waiting past statement_timeout")
            holder.query("COMMIT")
            starting.join(self.MIGRATED_WITHIN)
            self.assertIsNotNone(new.port, new.log())
            migrated = time.monotonic()
            self.assertEqual(db.value("SELECT max(version) FROM schema_migrations"),
                             schema_beside_older(old_schema))
            self.assertIs(db.value("SELECT indisvalid FROM pg_index WHERE indexrelid ="
                                   " 'attempts_failed'::regclass"), True)
            self.assertIn("event=migration_repair version=%d index=attempts_failed"
                          % self.MIGRATION, new.log())
            applied = new.wait_for_log(r"event=migration_applied version=%d .*ms=(\d+)"
                                       % self.MIGRATION)
            migration_ms = int(applied.rsplit("ms=", 1)[1])
            self.assertGreater(migration_ms, 3 * self.STATEMENT_TIMEOUT_MS)
            count = len(posted)
            wait_until(lambda: len(posted) >= count + 20, message="tasks after the migration")
        finally:
            stop_posting.set()
            poster.join(30)
            holder.close()
        self.assertEqual(failures, [])
        # The new heraldd works on the schema held short of 011 (and so of the
        # receivers, 012-013, its claims read once they are there).
        for failure in ("event=scheduler_write_failed", "event=intake_failed",
                        "event=host_list_failed", "event=gate_list_failed"):
            self.assertNotIn(failure, old.log())
            self.assertNotIn(failure, new.log())

        wait_until(lambda: set(posted) <= {json.loads(r.body)["id"]
                                           for r in receiver.received()},
                   timeout=60, message="every accepted task delivered")
        arrived = {}
        for request in receiver.received():
            arrived.setdefault(json.loads(request.body)["id"], request.time)
        during = [name for name, (sent, _) in posted.items()
                  if migration_began <= sent <= migrated]
        self.assertGreater(len(during), 50)
        intake = max(posted[name][1] - posted[name][0] for name in during)
        delivery = max(arrived[name] - posted[name][0] for name in during)
        delivered_meanwhile = sum(1 for name in during if arrived[name] < migrated)
        self.assertLess(intake, self.INTAKE_BOUND)
        self.assertLess(delivery, self.DELIVERY_BOUND)
        self.assertGreater(delivered_meanwhile, 0)
        # The receivers' recent failures read the new index, not every attempt.
        plan = "\n".join(row[0] for row in db.query(
            "EXPLAIN SELECT count(*) FROM attempts WHERE started_at >="
            " (extract(epoch FROM now()) * 1000)::bigint - 3600000"
            " AND error_class IS NOT NULL"))
        self.assertIn("attempts_failed", plan)
        print("migration %d on %d attempts (filled in %.1f s): %d ms past a %d ms"
              " statement_timeout, after a killed build; meanwhile the old instance took %d"
              " tasks, longest 201 %.0f ms, longest delivery %.0f ms"
              % (self.MIGRATION, self.ROWS, fill_seconds, migration_ms,
                 self.STATEMENT_TIMEOUT_MS, len(during), intake * 1000, delivery * 1000))
        new.stop()
        old.stop()


if __name__ == "__main__":
    unittest.main()
