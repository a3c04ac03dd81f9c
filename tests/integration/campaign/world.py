"""What the campaign runs: receivers that record every request, heraldd instances
that keep their logs across restarts, and a PostgreSQL cluster of its own (the
campaign stops its server as a crash would, so it never uses the run's cluster)."""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time

from database import TestDatabase
from harness import HERALDD, Herald, Receiver

HERE = os.path.dirname(os.path.abspath(__file__))
PG_CLUSTER = os.path.join(HERE, "..", "..", "..", "tools", "pg_cluster.sh")
SHIM = os.path.join(os.path.dirname(os.path.abspath(HERALDD)), "shim", "slow_resolver.so")
FAKETIME_LIBRARY = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"
SLOW_NAME = "slow.test"
LOOKUP_MS = 25000

# Short leases so that the campaign moves: a 1 s request timeout makes a 12 s lease
# (2 x timeout + 10 s), found ended within 200 ms; retries 200 ms apart, at most 1 s.
TIMEOUT_S = 1.0
LEASE_S = 2 * TIMEOUT_S + 10
MAX_LAG_S = 2.0
CONFIG = """
[storage]
statement_timeout = 5s
busy_timeout = 5s
[delivery]
timeout = 1s
connect_timeout = 1s
lease_sweep_interval = 200ms
per_host_concurrency = 8
[retry]
max_retry = 3
base_delay = 200ms
max_delay = 1s
jitter = 0.1
retry_interval = 1s
[alert]
interval = 500ms
window = 1h
threshold = 4
cooldown = 1h
max_lag = 2s
webhook_url = %s
"""


def preload(binary, *libraries):
    """LD_PRELOAD for LIBRARIES under BINARY: an ASan binary's own libasan first
    (ASan refuses to start otherwise), as test_resolver does."""
    linked = subprocess.run(["ldd", binary], capture_output=True, text=True, timeout=30,
                            check=True).stdout
    first = re.findall(r"^\s*libasan\.so\S*\s+=>\s+(\S+)", linked, re.MULTILINE)
    return ":".join(first + list(libraries))


class RecordingReceiver:
    """A receiver that logs every request: when it arrived, its webhook-id and
    attempt header, what it answered and when. KIND: healthy (200 at once), failing
    (500), slow (200 after DELAY, which the nemesis can push past the timeout) or
    sink (the alerts)."""

    def __init__(self, name, kind, delay=0.0):
        self.name, self.kind, self.delay = name, kind, delay
        self.log = []
        self.lock = threading.Lock()
        self.receiver = Receiver(self._respond)
        self.port = self.receiver.port

    def _respond(self, received):
        delay = self.delay
        if delay:
            time.sleep(delay)
        status = 500 if self.kind == "failing" else 200
        answered = time.monotonic()
        with self.lock:
            self.log.append({
                "receiver": self.name, "time": received.time, "answered": answered,
                "wall": time.time() - (answered - received.time),
                "webhook_id": received.headers.get("webhook-id"),
                "attempt": int(received.headers.get("x-herald-attempt", "0")),
                "status": status,
                # Answered after heraldd's timeout: heraldd had hung up (a timeout),
                # whatever the status says.
                "late": answered - received.time >= TIMEOUT_S - 0.05})
        return (status, {}, b"ok" if status == 200 else b"failing")

    def url(self, host="127.0.0.1"):
        return "http://%s:%d/hook" % (host, self.port)

    def entries(self):
        with self.lock:
            return list(self.log)

    def close(self):
        self.receiver.close()


def stop_instances(instances, keep=4000):
    """Stops each heraldd of INSTANCES cleanly; returns what failed (each the last KEEP
    characters of its error), so one failing stop does not hide the others'."""
    errors = []
    for instance in instances:
        try:
            instance.stop()
        except AssertionError as error:
            errors.append("heraldd#%d: %s" % (instance.index, str(error)[-keep:]))
    return errors


class Instance:
    """One heraldd of the campaign. Its log lines survive restarts (all_lines), and
    `available` tells the load whether to post to it (false while it is killed,
    paused or restarting)."""

    def __init__(self, index, db, config, binary=None, base_env=None):
        self.index = index
        self.binary = binary or HERALDD
        self.base_env = dict(base_env or {})
        self.herald = Herald(db=db, config=config, binary=self.binary, env=self.base_env)
        self.archive = []
        self.available = False
        self.runs = 0

    @property
    def port(self):
        return self.herald.port if self.available else None

    @property
    def process(self):
        return self.herald.process

    def start(self, extra_env=None):
        self.herald.env = dict(self.base_env, **(extra_env or {}))
        self.herald.start()
        self.runs += 1
        self.available = True
        return self

    def _keep_lines(self):
        self.archive.extend("[run %d] %s" % (self.runs, line) for line in self.herald.lines)

    def stop(self):
        self.available = False
        try:
            self.herald.stop()
        finally:
            self._keep_lines()

    def kill(self):
        self.available = False
        self.herald.kill()
        self._keep_lines()

    def cont(self):
        self.herald.process.send_signal(signal.SIGCONT)

    def all_lines(self):
        return self.archive + list(self.herald.lines if self.herald.process else [])

    def metric(self, name):
        status, _, text = self.herald.request("GET", "/metrics")
        if status != 200:
            return None
        found = re.search(r"^%s (\S+)$" % re.escape(name), text, re.MULTILINE)
        return float(found.group(1)) if found else None

    def cleanup(self):
        """Whatever happened: no process left, no directory (the cluster's end drops
        the database)."""
        self.available = False
        if self.herald.process is not None:
            try:
                self.herald.process.send_signal(signal.SIGCONT)
            except ProcessLookupError:
                pass
            self.herald.kill()
        shutil.rmtree(self.herald.directory, ignore_errors=True)


class Cluster:
    """A PostgreSQL cluster of the campaign's own (tools/pg_cluster.sh)."""

    def __init__(self):
        self.directory = os.path.join(tempfile.gettempdir(), "herald-campaign-%d-%d" % (
            os.getpid(), int(time.time() * 1000)))
        subprocess.run([PG_CLUSTER, "start", self.directory], check=True, timeout=120)

    def action(self, name):
        subprocess.run([PG_CLUSTER, name, self.directory], check=True, timeout=120)

    def is_up(self):
        return os.path.exists(os.path.join(self.directory, "data", "postmaster.pid"))

    def database(self):
        return TestDatabase(None, pg_dir=self.directory)

    def stop(self):
        subprocess.run([PG_CLUSTER, "stop", self.directory], timeout=120)
