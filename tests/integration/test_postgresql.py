"""PostgreSQL outages: a server restarted (under one heraldd, and under three sharing
it), sessions killed, a server down at start-up or for a while, and how heraldd
reaches it (password file, --db URL).

These tests stop and start their server, so they run against a cluster of their own
(tools/pg_cluster.sh in a temporary directory, Unix socket only, fsync on), never the
one the rest of the PostgreSQL run shares, and only in the PostgreSQL run.
"""
import json
import os
import re
import subprocess
import tempfile
import threading
import time
import unittest

import database
from database import TestDatabase
from harness import HERALDD, FrozenThread, Herald, Receiver, task_request, wait_until

PG_CLUSTER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools",
                          "pg_cluster.sh")
cluster_dir = None


def cluster(action):
    subprocess.run([PG_CLUSTER, action, cluster_dir], check=True, timeout=120)


def setUpModule():
    global cluster_dir
    if database.BACKEND != "postgresql":
        raise unittest.SkipTest("PostgreSQL only: the PostgreSQL run has these tests")
    cluster_dir = os.path.join(tempfile.gettempdir(), "herald-pgown-%d-%d" % (
        os.getpid(), int(time.time())))
    subprocess.run([PG_CLUSTER, "start", cluster_dir], check=True, timeout=120)


def tearDownModule():
    if cluster_dir:
        subprocess.run([PG_CLUSTER, "stop", cluster_dir], timeout=120)


class Poster:
    """Clients posting tasks without pause, as a shop's services do: a 503 is
    retried after its Retry-After (shortened), so every task ends acknowledged."""

    def __init__(self, herald, target, prefix, count, clients=4):
        self.herald, self.target, self.prefix = herald, target, prefix
        self.acknowledged = {}  # business_id -> task id
        self.unavailable = 0
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._client, args=(i, clients, count))
                        for i in range(clients)]
        for thread in self.threads:
            thread.start()

    def _client(self, first, step, count):
        for index in range(first, count, step):
            business_id = "%s-%d" % (self.prefix, index)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    status, headers, body = self.herald.request(
                        "POST", "/v1/tasks", body=task_request(business_id, self.target))
                except OSError:
                    status, headers, body = 0, {}, None
                if status in (200, 201):
                    with self.lock:
                        self.acknowledged[business_id] = body["task"]["id"]
                    break
                assert status in (0, 503), (status, body)
                if status == 503:
                    assert body["error"]["code"] == "unavailable", body
                    assert "retry-after" in headers, headers
                with self.lock:
                    self.unavailable += 1
                time.sleep(0.1)

    def count(self):
        with self.lock:
            return len(self.acknowledged)

    def join(self):
        for thread in self.threads:
            thread.join(120)
        return self.acknowledged


class OutageTest(unittest.TestCase):
    """Every 201 is delivered, whatever happens to the server or the sessions."""

    def setUp(self):
        self.receiver = Receiver(lambda received: (time.sleep(0.005), (200, {}, b"ok"))[1])
        self.herald = Herald(db=TestDatabase(None, pg_dir=cluster_dir),
                             config="[storage]\nstatement_timeout = 5s\n")
        self.herald.start()

    def tearDown(self):
        self.receiver.close()
        self.herald.cleanup()

    def delivered_ids(self):
        return {json.loads(r.body)["id"] for r in self.receiver.received()}

    def assert_all_delivered(self, acknowledged):
        wanted = set(acknowledged)
        wait_until(lambda: wanted <= self.delivered_ids(), timeout=60,
                   message="every acknowledged task to reach the receiver")
        try:
            wait_until(lambda: self.herald.db.value(
                "SELECT count(*) FROM tasks WHERE status <> 'succeeded'") == 0, timeout=30,
                message="every task to be recorded delivered")
        except AssertionError:
            raise AssertionError("not recorded delivered: %s\n%s" % (self.herald.db.query(
                "SELECT status, count(*) FROM tasks GROUP BY status"), self.herald.log()[-6000:]))
        self.assertEqual(self.herald.db.value("SELECT count(*) FROM tasks"), len(wanted))

    def under_load(self, prefix, trouble, count=600):
        poster = Poster(self.herald, self.receiver.url(), prefix, count)
        wait_until(lambda: poster.count() >= count // 4 and len(self.receiver.received()) > 50,
                   timeout=60, message="intake and delivery under way")
        trouble()
        acknowledged = poster.join()
        self.assertEqual(len(acknowledged), count)
        self.assert_all_delivered(acknowledged)
        self.herald.stop()
        return poster

    def test_server_restart_during_intake_and_delivery(self):
        start = len(self.herald.lines)
        self.under_load("RESTART", lambda: cluster("restart"))
        text = "\n".join(self.herald.lines[start:])
        # The outage is logged once per session that met it: as a connection lost in
        # a transaction, or, when a session's connection went while it was idle and
        # its replacement found the server still shutting down, as unreachable.
        self.assertRegex(text, r"event=database_(connection_lost|unreachable)")
        self.assertIn("event=database_reconnected", text)

    def test_idle_sessions_replaced_after_a_restart_say_nothing(self):
        """Issue 23, item 12: after a restart while heraldd is idle, each pooled session
        finds its connection dead when next used, minutes later, and replaces it at
        once: nothing failed, so nothing is logged as a warning; the first request
        still succeeds."""
        for _ in range(8):  # the pool's sessions are all in use at start-up
            self.assertEqual(self.herald.request("GET", "/v1/tasks?limit=1")[0], 200)
        cluster("crash")  # no goodbye to the sessions: each finds out when next used
        cluster("up")
        mark = len(self.herald.lines)
        statuses = []
        for number in range(12):  # reads over every pooled session, then a write
            statuses.append(self.herald.request("GET", "/v1/tasks?limit=1")[0])
        status, _, body = self.herald.request("POST", "/v1/tasks",
                                              body=task_request("AFTER-RESTART",
                                                                self.receiver.url()))
        statuses.append(status)
        self.assertEqual(statuses, [200] * 12 + [201], self.herald.log()[-3000:])
        # The scheduler's and the beacon's sessions do not sit idle: they try on their
        # own timers while the server is down, and say so. A line from such an attempt
        # (the server still shutting down or starting, logged as the up returned) is
        # the outage, not an idle session replaced afterwards.
        during_outage = ("not yet accepting connections", "is starting up",
                         "is shutting down", "Connection refused", "No such file or directory")
        warnings = [line for line in self.herald.lines[mark:]
                    if ("level=warning" in line or "level=error" in line) and
                    not any(cause in line for cause in during_outage)]
        self.assertEqual(warnings, [])
        self.herald.stop()

    def test_sessions_terminated_during_intake_and_delivery(self):
        name = self.herald.db.name

        def terminate_three_times():
            for _ in range(3):
                ended = self.herald.db.admin(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = '%s' AND usename = 'herald'" % name)[0][0]
                self.assertGreater(ended, 0)
                time.sleep(0.3)
        self.under_load("TERMINATED", terminate_three_times)

    def test_server_down_for_a_while(self):
        hold = threading.Event()
        slow = Receiver(lambda received: (hold.wait(30), (200, {}, b"ok"))[1])
        self.addCleanup(slow.close)
        status, _, body = self.herald.request("POST", "/v1/tasks",
                                              body=task_request("IN-FLIGHT", slow.url()))
        self.assertEqual(status, 201, body)
        slow.wait_for(1)
        cluster("down")
        try:
            # Intake and readiness say so, with a hint when to come back...
            status, headers, body = self.herald.request("POST", "/v1/tasks",
                                                        body=task_request("WHILE-DOWN"))
            self.assertEqual(status, 503, body)
            self.assertEqual(body["error"]["code"], "unavailable")
            self.assertIn("retry-after", headers)
            status, headers, body = self.herald.request("GET", "/readyz")
            self.assertEqual(status, 503, body)
            self.assertIn("database", body["reason"])
            self.assertIn("retry-after", headers)
            # ...and the delivery under way finishes; its outcome waits for the server.
            hold.set()
            self.herald.wait_for_log(r"event=database_(unreachable|connection_lost)")
            time.sleep(0.5)
            self.assertIsNone(self.herald.process.poll())
        finally:
            cluster("up")
        wait_until(lambda: self.herald.request("GET", "/readyz")[0] == 200, timeout=30,
                   message="/readyz to be 200 again")
        status, _, body = self.herald.request("POST", "/v1/tasks", body=task_request("AFTER"))
        self.assertEqual(status, 201, body)
        task_id = self.herald.db.value("SELECT id FROM tasks WHERE business_id = 'IN-FLIGHT'")
        self.herald.wait_for_status(task_id, "succeeded", timeout=30)
        self.assertEqual(len(slow.received()), 1)  # the kept outcome, not a second attempt
        self.assertEqual(self.herald.db.value(
            "SELECT count(*) FROM tasks WHERE business_id = 'WHILE-DOWN'"), 0)
        self.herald.stop()

    def test_a_session_in_backoff_follows_a_sibling_back(self):
        """Each session waits longer between tries while the server is down (up to
        5 s). Once one session of the process connected again, the others try at
        their next use instead of sitting out their wait: the campaign saw deliveries
        stall 1.5 s after /healthz was already 200 again."""
        cluster("down")
        try:
            # Intake's session fails until its next try is seconds away.
            def intake_waits_long():
                status, _, body = self.herald.request("POST", "/v1/tasks",
                                                      body=task_request("WHILE-DOWN"))
                self.assertEqual(status, 503, body)
                found = re.search(r"next try in (\d+) ms", body["error"]["message"])
                return found is not None and int(found.group(1)) >= 2500
            wait_until(intake_waits_long, timeout=30, interval=0.05,
                       message="the intake session's backoff to grow past 2.5 s")
        finally:
            cluster("up")
        # The API's reader connects at once (it was not used while the server was down).
        wait_until(lambda: self.herald.request("GET", "/healthz")[0] == 200, timeout=30,
                   message="/healthz to be 200 again")
        status, _, body = self.herald.request("POST", "/v1/tasks", body=task_request("AFTER"))
        self.assertEqual(status, 201, body)
        self.herald.wait_for_status(body["task"]["id"], "succeeded", timeout=30)
        self.herald.stop()


class ClusterOutageTest(unittest.TestCase):
    """Three heraldd share the database when it restarts under load: every 201 is
    delivered, no task is left in flight, and each instance recovers by itself: it
    accepts, delivers, and hears the others' signals again."""

    PER_HOST = 8

    def test_three_instances_recover_from_a_server_restart(self):
        db = TestDatabase(None, pg_dir=cluster_dir)
        receiver = Receiver(lambda received: (time.sleep(0.005), (200, {}, b"ok"))[1])
        self.addCleanup(receiver.close)
        config = "[storage]\nstatement_timeout = 5s\n[delivery]\nper_host_concurrency = %d\n" \
            % self.PER_HOST
        heralds = [Herald(db=db, config=config) for _ in range(3)]
        for herald in heralds:
            self.addCleanup(herald.cleanup)
            herald.start()
        posters = [Poster(herald, receiver.url(), "RESTART%d" % i, 400, clients=2)
                   for i, herald in enumerate(heralds)]
        try:
            wait_until(lambda: sum(p.count() for p in posters) >= 300 and
                       len(receiver.received()) > 100, timeout=60, message="load under way")
        except AssertionError:
            raise AssertionError(([p.count() for p in posters], len(receiver.received()),
                                  heralds[0].log()[-3000:]))
        starts = [len(herald.lines) for herald in heralds]
        cluster("restart")
        acknowledged = {}
        for poster in posters:
            acknowledged.update(poster.join())
        self.assertEqual(len(acknowledged), 1200)

        def delivered():
            return set(acknowledged) <= {json.loads(r.body)["id"] for r in receiver.received()}
        wait_until(delivered, timeout=60, message="every acknowledged task delivered")
        wait_until(lambda: db.value("SELECT count(*) FROM tasks WHERE status <> 'succeeded'")
                   == 0, timeout=60, message="no task left in flight")
        for herald, start in zip(heralds, starts):
            self.assertIsNone(herald.process.poll())
            text = "\n".join(herald.lines[start:])
            self.assertIn("event=database_reconnected", text)
        by_id = {}
        for request in receiver.received():
            by_id[request.headers["webhook-id"]] = by_id.get(request.headers["webhook-id"], 0) + 1
        duplicates = sum(count - 1 for count in by_id.values())
        # An outcome the restart interrupted is kept and written after it: a duplicate
        # only if a lease ended meanwhile, for what was in flight.
        self.assertLessEqual(duplicates, 3 * self.PER_HOST)
        # Each instance accepts and delivers after the restart, and signals still reach
        # the others (their sessions LISTEN again): with A's scheduler frozen, a task
        # posted to A is delivered by B or C within the second of their poll.
        wait_until(lambda: all(h.request("GET", "/readyz")[0] == 200 for h in heralds),
                   timeout=30, message="every instance ready")
        time.sleep(1.5)  # every scheduler has made a statement since: reconnected
        frozen = FrozenThread(heralds[0].process.pid, "herald-sched")
        try:
            latencies = []
            for i in range(20):
                posted = time.monotonic()
                status, _, body = heralds[0].request("POST", "/v1/tasks",
                                                     body=task_request("AFTER-%d" % i,
                                                                       receiver.url()))
                self.assertEqual(status, 201, body)
                wait_until(lambda: any(json.loads(r.body)["id"] == "AFTER-%d" % i
                                       for r in receiver.received()[-5:]) or None,
                           timeout=10, interval=0.002, message="AFTER-%d delivered" % i)
                latencies.append((time.monotonic() - posted) * 1000)
        finally:
            frozen.release()
        latencies.sort()
        print("cluster restart: 1200 tasks through 3 instances, %d duplicates; after it a "
              "task posted to a stuck instance is delivered by another in p50 %.1f ms, max "
              "%.1f ms" % (duplicates, latencies[10], latencies[-1]))
        self.assertLess(latencies[-2], 300, latencies)  # not the once-a-second poll
        for i, herald in enumerate(heralds[1:]):
            status, _, body = herald.request("POST", "/v1/tasks",
                                             body=task_request("LAST-%d" % i, receiver.url()))
            self.assertEqual(status, 201, body)
        wait_until(lambda: db.value("SELECT count(*) FROM tasks WHERE status <> 'succeeded'")
                   == 0, timeout=30, message="the last tasks delivered")
        for herald in heralds:
            herald.stop()


class StartupTest(unittest.TestCase):
    """A server that is not there yet: heraldd waits (bounded, logged); --check-config
    does not wait and says why."""

    def setUp(self):
        self.db = TestDatabase(None, pg_dir=cluster_dir)
        self.addCleanup(self.db.drop)
        cluster("down")
        self.addCleanup(self.ensure_up)

    def ensure_up(self):
        if not os.path.exists(os.path.join(cluster_dir, "data", "postmaster.pid")):
            cluster("up")

    def herald(self, config=""):
        herald = Herald(db=self.db, config=config)
        self.addCleanup(herald.cleanup)  # drops the database: the server must be up
        self.addCleanup(self.ensure_up)
        return herald

    def test_heraldd_waits_for_the_database(self):
        herald = self.herald("[storage]\nstartup_wait = 60s\n")

        def bring_up_when_waiting():
            wait_until(lambda: any("event=database_wait" in line for line in herald.lines),
                       timeout=30, message="heraldd to wait for the database")
            cluster("up")
        helper = threading.Thread(target=bring_up_when_waiting)
        helper.start()
        herald.start()
        helper.join(60)
        self.assertIn("event=database_wait", herald.log())
        self.assertEqual(herald.create(business_id="WAITED")[0], 201)
        herald.stop()

    def test_heraldd_gives_up_after_startup_wait(self):
        herald = self.herald("[storage]\nstartup_wait = 2s\n")
        started = time.monotonic()
        completed = subprocess.run([HERALDD, "-c", herald.config_path], capture_output=True,
                                   text=True, timeout=60)
        self.assertNotEqual(completed.returncode, 0)
        self.assertLess(time.monotonic() - started, 20)
        self.assertIn("PostgreSQL", completed.stderr)
        self.assertNotIn("event=listening", completed.stderr)

    def test_check_config_with_the_database_down(self):
        herald = self.herald()
        started = time.monotonic()
        completed = subprocess.run([HERALDD, "-c", herald.config_path, "--check-config"],
                                   capture_output=True, text=True, timeout=60)
        self.assertEqual(completed.returncode, 1, completed.stderr)
        self.assertLess(time.monotonic() - started, 15)
        self.assertIn("cannot connect to PostgreSQL", completed.stderr)
        cluster("up")
        completed = subprocess.run([HERALDD, "-c", herald.config_path, "--check-config"],
                                   capture_output=True, text=True, timeout=60)
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertRegex(completed.stdout, r"PostgreSQL \d+")
        self.assertIn("schema version 0", completed.stdout)


def replace_storage_line(herald, line, old=None):
    """Points HERALD's configuration elsewhere than its database's own line (or OLD)."""
    with open(herald.config_path) as f:
        text = f.read()
    old = old or herald.db.config_line()
    assert old in text, (old, text)
    with open(herald.config_path, "w") as f:
        f.write(text.replace(old, line))


class ConnectionTest(unittest.TestCase):
    """How heraldd is told where the database is and how to log in."""

    def test_password_file_for_a_role_that_needs_one(self):
        db = TestDatabase(None, pg_dir=cluster_dir)
        self.addCleanup(db.drop)
        secret = "s3cret-%d" % os.getpid()
        db.admin("DROP ROLE IF EXISTS herald_pw")
        db.admin("CREATE ROLE herald_pw LOGIN PASSWORD '%s'" % secret)
        db.admin("ALTER DATABASE %s OWNER TO herald_pw" % db.name)
        hba = os.path.join(cluster_dir, "data", "pg_hba.conf")
        with open(hba) as f:
            original = f.read()
        with open(hba, "w") as f:
            f.write("local all herald_pw scram-sha-256\n" + original)
        db.admin("SELECT pg_reload_conf()")

        def restore_hba():
            with open(hba, "w") as f:
                f.write(original)
            db.admin("SELECT pg_reload_conf()")
        self.addCleanup(restore_hba)
        url = "postgresql:///%s?host=%s&user=herald_pw" % (db.name, cluster_dir)
        directory = tempfile.mkdtemp(prefix="herald-it-")
        password_file = os.path.join(directory, "db-password")
        with open(password_file, "w") as f:
            f.write(secret + "\n")
        os.chmod(password_file, 0o600)
        herald = Herald(db=db, directory=directory)
        self.addCleanup(herald.cleanup)
        storage = "url = %s\npassword_file = %s" % (url, password_file)
        replace_storage_line(herald, storage)
        self.addCleanup(subprocess.run, ["rm", "-rf", directory])
        herald.start()
        self.assertEqual(herald.create(business_id="PW")[0], 201)
        herald.stop()
        self.assertNotIn(secret, herald.log())
        # Without the file the server refuses; a password in the URL is never logged.
        replace_storage_line(herald, "url = postgresql://herald_pw:wrong-%s@/%s?host=%s"
                             % (secret, db.name, cluster_dir), old=storage)
        completed = subprocess.run([HERALDD, "-c", herald.config_path, "--check-config"],
                                   capture_output=True, text=True, timeout=60)
        self.assertEqual(completed.returncode, 1)
        self.assertIn("password authentication failed", completed.stderr)
        self.assertNotIn(secret, completed.stderr)

    def test_db_option_takes_a_url(self):
        db = TestDatabase(None, pg_dir=cluster_dir)
        self.addCleanup(db.drop)
        herald = Herald(db=db, args=["--db", db.url])
        self.addCleanup(herald.cleanup)
        replace_storage_line(herald, "path = %s" % os.path.join(herald.directory, "herald.db"))
        herald.start()
        self.assertIn("backend=postgresql", herald.log())
        self.assertEqual(herald.create(business_id="VIA-DB")[0], 201)
        herald.stop()
        self.assertEqual(db.value("SELECT count(*) FROM tasks WHERE business_id = 'VIA-DB'"), 1)

    def test_db_path_option_keeps_the_configured_url(self):
        """The systemd unit passes --db PATH for SQLite; a url in the file still
        chooses PostgreSQL."""
        db = TestDatabase(None, pg_dir=cluster_dir)
        self.addCleanup(db.drop)
        sqlite_path = os.path.join(tempfile.gettempdir(), "herald-unused-%d.db" % os.getpid())
        herald = Herald(db=db, args=["--db", sqlite_path])
        self.addCleanup(herald.cleanup)
        herald.start()
        self.assertIn("backend=postgresql", herald.log())
        self.assertEqual(herald.create(business_id="URL-KEPT")[0], 201)
        herald.stop()
        self.assertFalse(os.path.exists(sqlite_path))
        self.assertEqual(db.value("SELECT count(*) FROM tasks WHERE business_id = 'URL-KEPT'"), 1)


if __name__ == "__main__":
    unittest.main()
