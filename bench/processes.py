"""The processes make bench runs and measures: heraldd (Herald), the C receiver
(Receiver) and load generator (loadgen), and the bench's own PostgreSQL cluster
(PgCluster, optionally with a synchronous standby), each started fresh and all
killed if a run is aborted (kill_children; the clusters by PgCluster.stop).
bench/run.py runs the scenarios; bench/cluster.py scenario 9.

PG is the cluster heraldd uses now (run.py sets it for the PostgreSQL half of a
run); None means SQLite.
"""
import glob
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HERALDD = os.path.join(ROOT, "build", "heraldd")
RECEIVER = os.path.join(ROOT, "build", "bench", "receiver")
LOADGEN = os.path.join(ROOT, "build", "bench", "loadgen")
PER_HOST = 64  # the bench's per-host limit: one receiver host takes all the load
PG_CLUSTER = os.path.join(ROOT, "tools", "pg_cluster.sh")
CHILDREN = []  # every process started, so an aborted run leaves none behind
PG = None  # the PgCluster heraldd uses now; None: SQLite

sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from database import PgConnection  # noqa: E402 (the tests' wire client: nothing to install)


def spawn(command, **options):
    process = subprocess.Popen(command, **options)
    CHILDREN.append(process)
    return process


def kill_children():
    for process in CHILDREN:
        if process.poll() is None:
            process.kill()
            process.wait()


class Receiver:
    def __init__(self, directory, mode, max_seq, port=None):
        """PORT: listen there (a receiver brought back where it was), not on a free one."""
        port_file = os.path.join(directory, "receiver-%s-%d.port" % (mode, time.monotonic_ns()))
        env = dict(os.environ, RECEIVER_PORT=str(port)) if port else None
        self.process = spawn([RECEIVER, port_file, mode, str(max_seq)], env=env)
        deadline = time.monotonic() + 10
        while not (os.path.exists(port_file) and open(port_file).read().strip()):
            if time.monotonic() > deadline:
                raise RuntimeError("receiver did not start")
            time.sleep(0.01)
        self.port = int(open(port_file).read())

    def url(self):
        return "http://127.0.0.1:%d/hook" % self.port

    def stats(self):
        with urllib.request.urlopen("http://127.0.0.1:%d/stats" % self.port, timeout=10) as r:
            return json.loads(r.read())

    def wait_for(self, count, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            stats = self.stats()
            if stats["received"] >= count:
                return stats
            time.sleep(0.05)
        return self.stats()

    def close(self):
        self.process.kill()
        self.process.wait()


class PgCluster:
    """The bench's own PostgreSQL, stopped at the end of the run."""

    def __init__(self, settings=(), name=""):
        self.directory = os.path.join(tempfile.gettempdir(), "herald-bench-pg-%d%s"
                                      % (os.getpid(), "-" + name if name else ""))
        self.standby = None  # the standby's directory, once add_standby() began making it
        self.standby_postmaster = None
        self.stopped = False
        try:
            subprocess.run([PG_CLUSTER, "start", self.directory] + list(settings), check=True)
            self.postmaster = postmaster_pid(self.directory)
        except BaseException:
            self.stop()  # what a failed start left behind
            raise
        self.databases = 0
        self.version = self.query("postgres", "SHOW server_version", user="postgres")[0][0]

    def add_standby(self, timeout=60):
        """A streaming standby of this cluster on the same machine (tools/pg_cluster.sh
        standby), made synchronous: synchronous_standby_names names it (its
        application_name is its cluster_name, its directory's base name), and this
        returns once pg_stat_replication reports it 'sync'. stop() stops it."""
        self.standby = self.directory + "-standby"
        subprocess.run([PG_CLUSTER, "standby", self.directory, self.standby], check=True)
        self.standby_postmaster = postmaster_pid(self.standby)
        name = os.path.basename(self.standby)
        self.query("postgres", "ALTER SYSTEM SET synchronous_standby_names = '\"%s\"'" % name,
                   user="postgres")
        self.query("postgres", "SELECT pg_reload_conf()", user="postgres")
        deadline = time.monotonic() + timeout
        while True:
            state = self.sync_state()
            if state == "sync":
                return
            if time.monotonic() > deadline:
                raise RuntimeError("standby %s not synchronous after %ds (sync_state %s)"
                                   % (name, timeout, state))
            time.sleep(0.1)

    def sync_state(self):
        """The standby's sync_state in the primary's pg_stat_replication (None: not
        connected)."""
        rows = self.query("postgres", "SELECT sync_state FROM pg_stat_replication"
                          " WHERE application_name = '%s'" % os.path.basename(self.standby),
                          user="postgres")
        return rows[0][0] if rows else None

    def query(self, database, sql, user="herald"):
        connection = PgConnection(database, user=user, directory=self.directory)
        try:
            return connection.query(sql)
        finally:
            connection.close()

    def new_database(self):
        self.databases += 1
        name = "bench_%d" % self.databases
        self.query("postgres", "CREATE DATABASE %s OWNER herald" % name, user="postgres")
        return name

    def url(self, database):
        return "postgresql:///%s?host=%s&user=herald" % (database, self.directory)

    def cpu_seconds(self):
        """The server's CPU (the primary's; the standby's is standby_cpu_seconds)."""
        return server_cpu_seconds(self.postmaster)

    def standby_cpu_seconds(self):
        return server_cpu_seconds(self.standby_postmaster) if self.standby_postmaster else 0.0

    def wal_lsn(self):
        return self.query("postgres", "SELECT pg_current_wal_lsn()::text", user="postgres")[0][0]

    def wal_by_record(self, start, end):
        """pg_waldump --stats=record over START..END (LSNs): {record type: (records,
        bytes with full-page images)}, or {} if the WAL is no longer there."""
        bindirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                         key=lambda path: int(path.split("/")[-2]))
        if not bindirs or start == end:
            return {}
        result = subprocess.run(
            [os.path.join(bindirs[-1], "pg_waldump"), "--stats=record", "-p",
             os.path.join(self.directory, "data", "pg_wal"), "-s", start, "-e", end],
            capture_output=True, text=True)
        records = {}
        for line in result.stdout.splitlines():
            found = re.match(r"^(\S+)\s+(\d+)\s+\(\s*[\d.]+\)\s+\d+\s+\(\s*[\d.]+\)\s+\d+"
                             r"\s+\(\s*[\d.]+\)\s+(\d+)", line)
            if found and found.group(1) != "Total":
                records[found.group(1)] = (int(found.group(2)), int(found.group(3)))
        return records

    def wal_bytes(self):
        return int(self.query("postgres", "SELECT (pg_current_wal_lsn() - '0/0')::bigint",
                              user="postgres")[0][0])

    def stop(self):
        """Stops and removes the standby (also one left half made) and then the primary;
        twice is harmless."""
        if self.stopped:
            return
        self.stopped = True
        if self.standby:
            subprocess.run([PG_CLUSTER, "stop", self.standby])
        subprocess.run([PG_CLUSTER, "stop", self.directory])


def postmaster_pid(directory):
    with open(os.path.join(directory, "data", "postmaster.pid")) as f:
        return int(f.readline())


def server_cpu_seconds(postmaster):
    """A server's CPU: the postmaster, its live children, and (through the
    postmaster's cutime) the ones that ended."""
    ticks = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(pid) == postmaster:
            ticks += sum(int(x) for x in fields[11:15])
        elif int(fields[1]) == postmaster:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


_KNOWN_KEYS = {}


def known_keys():
    """The configuration keys HERALDD knows ("section.key"), from --list-keys."""
    if HERALDD not in _KNOWN_KEYS:
        listed = subprocess.run([HERALDD, "--list-keys"], capture_output=True, text=True,
                                check=True).stdout
        _KNOWN_KEYS[HERALDD] = {line.split()[0] for line in listed.splitlines() if line.strip()}
    return _KNOWN_KEYS[HERALDD]


class Herald:
    def __init__(self, directory, delivery=None, retry=None, pg_database=None, telemetry=None):
        """delivery, retry and telemetry: keys that override or add to those sections;
        pg_database: share that database (several instances) instead of a new one."""
        self.directory = directory
        self.db = os.path.join(directory, "herald.db")
        self.pg_database = pg_database or (PG.new_database() if PG else None)
        self.config = os.path.join(directory, "herald.conf")
        storage = {"url": PG.url(self.pg_database)} if PG else {"path": self.db}
        storage["intake_queue_limit"] = "100000"
        sections = {
            "server": {"listen": "127.0.0.1:0", "log_level": "info"},
            "storage": storage,
            "delivery": {"allow_private_targets": "true", "concurrency": "256",
                         "per_host_concurrency": str(PER_HOST)},
            "retry": {},
            "telemetry": dict(telemetry or {}),
        }
        sections["delivery"].update(delivery or {})
        sections["retry"].update(retry or {})
        # A key this heraldd does not know (bench-compare against a build from
        # before it, e.g. the breaker's) is left out: that build has no such thing.
        known = known_keys()
        for section in ("delivery", "retry", "telemetry"):
            sections[section] = {key: value for key, value in sections[section].items()
                                 if "%s.%s" % (section, key) in known}
        with open(self.config, "w") as f:
            for section, keys in sections.items():
                if keys:
                    f.write("[%s]\n" % section)
                    f.write("".join("%s = %s\n" % kv for kv in keys.items()))
        self.process = None

    def start(self):
        # stderr goes straight to a file: a pipe drained by this script could
        # throttle heraldd's logging thread under load.
        log_path = os.path.join(self.directory, "heraldd.log")
        self.log = open(log_path, "a")
        self.log_start = self.log.tell()  # a restart appends: read only this run's lines
        self.process = spawn([HERALDD, "-c", self.config], stderr=self.log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self.process.poll() is None:
            match = re.search(r"event=listening address=\S+:(\d+)",
                              self.read_log()[self.log_start:])
            if match:
                self.port = int(match.group(1))
                return self
            time.sleep(0.01)
        raise RuntimeError("heraldd did not start:\n" + self.read_log())

    def read_log(self):
        with open(os.path.join(self.directory, "heraldd.log")) as f:
            return f.read()

    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def rss_peak_mb(self):
        with open("/proc/%d/status" % self.process.pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return 0

    def cpu_seconds(self):
        with open("/proc/%d/stat" % self.process.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def thread_cpu_seconds(self):
        """CPU seconds of each live thread, summed by its name (herald-sched, ...): a
        thread that ended since is not counted, so the parts may add up to less than
        cpu_seconds()."""
        by_name = {}
        tasks = "/proc/%d/task" % self.process.pid
        for tid in os.listdir(tasks):
            try:
                with open(os.path.join(tasks, tid, "stat")) as f:
                    text = f.read()
            except OSError:
                continue  # ended meanwhile
            name = text[text.index("(") + 1:text.rindex(")")]
            fields = text.rsplit(")", 1)[1].split()
            seconds = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            by_name[name] = by_name.get(name, 0.0) + seconds
        return by_name

    def stop(self):
        self.process.terminate()
        self.process.wait(60)
        self.log.close()


def loadgen(url, count, concurrency=64, rate=0, batch=1, target=None, seq_start=0,
            direct=False, business_type="BENCH"):
    command = [LOADGEN, "--url", url, "--count", str(count), "--concurrency", str(concurrency),
               "--seq-start", str(seq_start), "--type", business_type]
    if rate:
        command += ["--rate", str(rate)]
    if batch > 1:
        command += ["--batch", str(batch)]
    if target:
        command += ["--target", target]
    if direct:
        command.append("--direct")
    started = time.time_ns()
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.stdout.strip() == "":
        raise RuntimeError("loadgen failed: " + completed.stderr)
    result = json.loads(completed.stdout)
    result["started_ns"] = started
    return result


def count_rows(herald, sql):
    if herald.pg_database:
        return PG.query(herald.pg_database, sql)[0][0]
    connection = sqlite3.connect(herald.db)
    try:
        return connection.execute(sql).fetchone()[0]
    finally:
        connection.close()
