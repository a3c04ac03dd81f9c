"""What test_failover.py (issue 22) runs on: throwaway PostgreSQL clusters on loopback
TCP (a primary, a streaming standby made with pg_basebackup, promoted when the
primary dies), the database heraldd is pointed at through libpq's multi-host URL, and
the readings the test takes from heraldd's logs and /metrics.

Every cluster gets a free loopback port (bind 0, then released: the server binds it
a moment later) and is stopped and removed by the test's cleanup, whatever happens.
"""
import os
import re
import subprocess
import tempfile
import threading
import time

from database import PgConnection, pg_sql
from harness import wait_until

from campaign.checker import log_time
from campaign.world import TIMEOUT_S, RecordingReceiver

HERE = os.path.dirname(os.path.abspath(__file__))
PG_CLUSTER = os.path.join(HERE, "..", "..", "tools", "pg_cluster.sh")
DATABASE = "herald_failover"


def free_port():
    import socket
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


class Server:
    """One PostgreSQL server of the test's own: listening on 127.0.0.1:PORT (and on a
    Unix socket in its directory, which the test's own sessions use). PRIMARY: make it
    a streaming standby of that server (tools/pg_cluster.sh standby); its cluster_name,
    which synchronous_standby_names names, is its directory's base name."""

    def __init__(self, test, role, primary=None, settings=()):
        self.role = role
        # Letters, digits and underscores only: the name is the standby's cluster_name
        # and replication slot, written unquoted in synchronous_standby_names.
        self.directory = os.path.join(tempfile.gettempdir(), "herald_fo_%d_%d_%s" % (
            os.getpid(), int(time.time() * 1000), role))
        self.name = os.path.basename(self.directory)
        self.port = free_port()
        test.addCleanup(self.remove)  # before it exists: a half-made cluster goes too
        args = ["port=%d" % self.port, "listen_addresses=127.0.0.1"] + list(settings)
        if primary is None:
            self._tool("start", self.directory, *args)
        else:
            self._tool("standby", primary.directory, self.directory, *args)

    @staticmethod
    def _tool(*args):
        subprocess.run([PG_CLUSTER] + list(args), check=True, timeout=120)

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def action(self, name):
        """crash (pg_ctl stop -m immediate), down, up, promote."""
        self._tool(name, self.directory)

    def is_up(self):
        return os.path.exists(os.path.join(self.directory, "data", "postmaster.pid"))

    def query(self, sql, *args, database="postgres", user="postgres"):
        connection = PgConnection(database, user=user, directory=self.directory, port=self.port)
        try:
            return connection.query(pg_sql(sql, args) if args else sql)
        finally:
            connection.close()

    def value(self, sql, *args, **kwargs):
        return self.query(sql, *args, **kwargs)[0][0]

    def reload_with(self, setting, value):
        """ALTER SYSTEM SET SETTING = VALUE (a literal), then pg_reload_conf()."""
        self.query("ALTER SYSTEM SET %s = %s" % (setting, value))
        self.query("SELECT pg_reload_conf()")

    def require_standby(self, name):
        """synchronous_standby_names = NAME, and waits until commits wait for it (the
        reload reaches the server's processes a moment later): a probe COMMIT of a
        session of the test's own is seen waiting (wait_event SyncRep), then cancelled
        (PostgreSQL returns success with a warning). statement_timeout cannot bound
        the probe: PostgreSQL turns it off before a transaction commits."""
        self.reload_with("synchronous_standby_names", "'%s'" % name)

        def waits():
            connection = PgConnection("postgres", directory=self.directory, port=self.port)
            try:
                pid = connection.query("SELECT pg_backend_pid()")[0][0]
                probe = threading.Thread(target=connection.query, daemon=True,
                                         args=("CREATE TEMP TABLE probe (x int)",))
                probe.start()
                deadline = time.monotonic() + 2
                seen = False
                while probe.is_alive() and not seen and time.monotonic() < deadline:
                    seen = self.query("SELECT wait_event FROM pg_stat_activity WHERE pid = "
                                      "%d" % pid) == [("SyncRep",)]
                    time.sleep(0.02)
                if seen or probe.is_alive():
                    self.query("SELECT pg_cancel_backend(%d)" % pid)
                probe.join(10)
                return seen
            finally:
                connection.close()
        wait_until(waits, 20, interval=0.05, message="commits waiting for %s" % name)

    def remove(self):
        """Stopped at once (its data is thrown away: a fast shutdown waits on sessions
        stuck in a COMMIT for a missing synchronous standby), then removed."""
        if self.is_up():
            subprocess.run([PG_CLUSTER, "crash", self.directory], timeout=120)
        subprocess.run([PG_CLUSTER, "stop", self.directory], timeout=120)


class FailoverDatabase:
    """The database heraldd uses, duck-typed as harness's TestDatabase: config_line() is
    the multi-host URL over SERVERS (in that order), and the test's own queries go to
    `current` (the primary, then the promoted standby), as heraldd's role."""

    backend = "postgresql"
    path = None

    def __init__(self, servers, current):
        self.servers = list(servers)
        self.current = current
        self.name = DATABASE

    @property
    def url(self):
        return "postgresql://herald@%s/%s?target_session_attrs=read-write" % (
            ",".join(server.address for server in self.servers), self.name)

    def config_line(self):
        return "url = %s" % self.url

    def query(self, sql, *args, server=None):
        return (server or self.current).query(sql, *args, database=self.name, user="herald")

    def value(self, sql, *args, server=None):
        return self.query(sql, *args, server=server)[0][0]

    def execute(self, sql, *args):
        self.query(sql, *args)

    def drop(self):
        pass  # the clusters go with the test's cleanup


class Pair:
    """A primary and a streaming standby of it, with heraldd's database (created on the
    primary before the base backup). SYNCHRONOUS: synchronous_standby_names names the
    standby (ALTER SYSTEM and a reload), and the pair is ready once pg_stat_replication
    says sync; otherwise the standby is asynchronous."""

    def __init__(self, test, synchronous):
        self.primary = Server(test, "primary")
        self.primary.query("CREATE DATABASE %s OWNER herald" % DATABASE)
        # pg_basebackup starts with a spread checkpoint, paced over minutes when the
        # new database left buffers dirty: write them now.
        self.primary.query("CHECKPOINT")
        self.standby = Server(test, "standby", primary=self.primary)
        self.synchronous = synchronous
        if synchronous:
            self.primary.reload_with("synchronous_standby_names", "'%s'" % self.standby.name)
        wanted = "sync" if synchronous else "async"
        wait_until(lambda: self.primary.query(
            "SELECT sync_state FROM pg_stat_replication WHERE application_name = '%s'"
            % self.standby.name) == [(wanted,)], 30, interval=0.1,
            message="the standby streaming, %s" % wanted)
        self.database = FailoverDatabase([self.primary, self.standby], self.primary)

    def standby_settled(self):
        """Waits until the standby (a hot standby answers reads) has replayed all it
        will: its replay position unchanged for 0.3 s (a record the dead primary sent
        half of is received but never replayed, so "replayed all received" may never
        come)."""
        positions = []

        def settled():
            positions.append(self.standby.value("SELECT pg_last_wal_replay_lsn()::text"))
            return len(positions) >= 4 and len(set(positions[-4:])) == 1
        wait_until(settled, 30, interval=0.1, message="the standby's replay to settle")

    def promote(self):
        self.standby.action("promote")
        wait_until(lambda: not self.standby.value("SELECT pg_is_in_recovery()"), 30,
                   message="the standby promoted")
        self.database.current = self.standby


class FlakyReceiver(RecordingReceiver):
    """Answers 500 to a task's first attempt and 200 to the later ones: retries pending
    at any moment, and every task delivered in the end."""

    def _respond(self, received):
        attempt = int(received.headers.get("x-herald-attempt", "0"))
        status = 500 if attempt <= 1 else 200
        answered = time.monotonic()
        with self.lock:
            self.log.append({
                "receiver": self.name, "time": received.time, "answered": answered,
                "wall": time.time() - (answered - received.time),
                "webhook_id": received.headers.get("webhook-id"), "attempt": attempt,
                "status": status, "late": answered - received.time >= TIMEOUT_S - 0.05})
        return (status, {}, b"ok" if status == 200 else b"not yet")


def events(lines, name):
    """The log lines of event NAME (key=value lines on heraldd's stderr)."""
    pattern = re.compile(r"\bevent=%s(\s|$)" % re.escape(name))
    return [line for line in lines if pattern.search(line)]


def fields(line):
    """A log line's key=value pairs (quoted values without their quotes)."""
    return {key: quoted or plain for key, quoted, plain in
            re.findall(r'(\w+)=(?:"([^"]*)"|(\S+))', line)}


ATTEMPT_EVENTS = re.compile(r"\bevent=(delivered|attempt_failed|moved_to_manual)\b.*?"
                            r"\btask_id=(\d+)\b.*?\battempts?=(\d+)")


def first_attempt_after(lines, started, since_ms):
    """The Unix time of the first log line about an attempt (delivered, failed, moved
    to manual handling) that started at or after SINCE_MS (Unix ms), by the attempts'
    start times in STARTED {(task_id, attempt): started_at}, and the line: when this
    instance delivered again after a failover. (None, None) if it never did."""
    for line in lines:
        found = ATTEMPT_EVENTS.search(line)
        if found:
            key = (int(found.group(2)), int(found.group(3)))
            # The attempt's own line, not one of the same attempt number before the
            # crash whose outcome the standby never had (sent again after it).
            if started.get(key, -1) >= since_ms and (log_time(line) or 0) * 1000 >= since_ms - 50:
                return log_time(line), line
    return None, None


def metric_lines(instance, name):
    """NAME's lines on an instance's /metrics: {labels or '': value}."""
    status, _, text = instance.herald.request("GET", "/metrics")
    if status != 200:
        return None
    found = {}
    for labels, value in re.findall(r"^%s(\{[^}]*\})? (\S+)$" % re.escape(name), text,
                                    re.MULTILINE):
        found[labels] = float(value)
    return found


class Burst:
    """Tasks posted straight to one instance (not through the load), kept as the load
    keeps its 201s, so the checker reads them with the rest."""

    def __init__(self):
        self.tasks = []
        self.lock = threading.Lock()

    def post(self, instance, prefix, count, target, url, max_retry):
        for index in range(count):
            business_id = "%s-%d" % (prefix, index)
            posted = time.monotonic()
            answers = []

            def created():
                # A 503 while the instance finds the new primary: again, bounded.
                answers.append(instance.herald.request("POST", "/v1/tasks", body={
                    "business_id": business_id, "business_type": "PAYMENT_SUCCESS",
                    "target_url": url, "payload": {"id": business_id},
                    "max_retry": max_retry}))
                return answers[-1][0] in (200, 201) or answers[-1][0] != 503
            wait_until(created, 20, interval=0.1, message="%s taken" % business_id)
            status, _, body = answers[-1]
            if status not in (200, 201):
                raise AssertionError("%s: %s %s" % (business_id, status, body))
            with self.lock:
                self.tasks.append({
                    "business_id": business_id, "task_id": body["task"]["id"],
                    "webhook_id": body["task"]["webhook_id"], "target": target,
                    "max_retry": max_retry, "instance": instance.index, "posted": posted,
                    "acked": time.monotonic()})
        return self.tasks[-count:]
