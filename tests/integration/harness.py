"""Integration-test harness: runs the real heraldd (and heraldctl) on loopback.

Each Herald instance gets its own temporary directory, config file and database,
listens on 127.0.0.1 port 0 (the kernel picks a free port; heraldd logs the address
it bound), and is checked on stop: it must exit 0 and its stderr must hold no
AddressSanitizer, LeakSanitizer or UBSan report. Waits are on events (a log line,
a process exit) with deadlines, never blind sleeps.
"""
import http.client
import http.server
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from database import BACKEND, TestDatabase

HERALDD = os.environ.get("HERALD_HERALDD", "build/asan/heraldd")
HERALDCTL = os.environ.get("HERALD_HERALDCTL", "build/asan/heraldctl")
START_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "SUMMARY: UndefinedBehaviorSanitizer")


CONTRACT_DIR = os.environ.get("HERALD_CONTRACT_DIR")
_contract_lock = threading.Lock()


def _record_response(method, path, status, headers, body):
    """With HERALD_CONTRACT_DIR set (make integration), every answer heraldd gives
    through Herald.request is kept there, one JSON line each, for the OpenAPI
    contract check (tests/js/check_openapi.mjs) that validates it against
    docs/openapi.yaml."""
    if not CONTRACT_DIR:
        return
    line = json.dumps({"method": method, "path": path, "status": status,
                       "content_type": headers.get("content-type", ""),
                       "allow": headers.get("allow"),
                       "body": body.decode("utf-8", errors="replace")}) + "\n"
    with _contract_lock:
        with open(os.path.join(CONTRACT_DIR, "responses-%d.jsonl" % os.getpid()), "a") as f:
            f.write(line)


def _record_webhook(received):
    """The same for each delivery a Receiver gets: checked against the description's
    webhooks section (its headers)."""
    if not CONTRACT_DIR:
        return
    line = json.dumps({"headers": received.headers,
                       "body": received.body.decode("utf-8", errors="replace")}) + "\n"
    with _contract_lock:
        with open(os.path.join(CONTRACT_DIR, "webhooks-%d.jsonl" % os.getpid()), "a") as f:
            f.write(line)


def sqlite_only(reason):
    """For a test of SQLite's own behaviour (its files, its locks): skipped on PostgreSQL,
    which has its own tests of the same promise."""
    return unittest.skipUnless(BACKEND == "sqlite", "SQLite only: " + reason)


def backend_independent(reason):
    """For a test that touches no database (and may not run twice at once, like make
    install): it runs once, with the SQLite suite."""
    return unittest.skipUnless(BACKEND == "sqlite", "once, with the SQLite suite: " + reason)


def _environment():
    """What heraldd starts with: this process's environment now (a test may set a
    variable for one start) without the OpenTelemetry variables, which heraldd
    honours ([telemetry]); a test sets those it means through Herald(env=...)."""
    return {name: value for name, value in os.environ.items() if not name.startswith("OTEL_")}


class Herald:
    """One heraldd process with its own directory."""

    def __init__(self, config="", token_lines=None, binary=None, directory=None, args=(),
                 private_targets=True, env=None, db=None, backend=None):
        self.binary = binary or HERALDD
        self.owns_directory = directory is None
        self.directory = directory or tempfile.mkdtemp(prefix="herald-it-")
        # The run's backend's database for this heraldd (or BACKEND's), unless the
        # test brings its own.
        self.db = db or TestDatabase(self.directory, backend)
        self.db_path = self.db.path  # the SQLite file (tests of SQLite's own behaviour)
        self.token_file = None
        if token_lines is not None:
            self.token_file = os.path.join(self.directory, "tokens")
            with open(self.token_file, "w") as f:
                f.write("\n".join(token_lines) + "\n")
        self.config_path = os.path.join(self.directory, "herald.conf")
        with open(self.config_path, "w") as f:
            f.write("[server]\nlisten = 127.0.0.1:0\n")
            if self.token_file:
                f.write("api_token_file = %s\n" % self.token_file)
            f.write("[storage]\n%s\n" % self.db.config_line())
            f.write(config)
            if (self.binary in (HERALDD, os.environ.get("HERALD_RELEASE_HERALDD"))
                    and "failover_grace" not in config):
                # No failover in these tests: a lease ends as it did before
                # failover_grace (an older build does not know the key). After
                # the test's own lines, whose line numbers some tests check.
                f.write("\n[storage]\nfailover_grace = 0s\n")
            if (self.binary in (HERALDD, os.environ.get("HERALD_RELEASE_HERALDD"))
                    and "breaker_failures" not in config):
                # Most tests send many tasks to a receiver that always fails and
                # expect each to reach manual handling on its own; a circuit
                # breaker would park them. Tests of the breaker say what they want.
                f.write("\n[retry]\nbreaker_failures = 0\n")
            if private_targets:
                # The tests' receivers listen on loopback; the SSRF tests turn this off.
                f.write("\n[delivery]\nallow_private_targets = true\n")
        self.args = list(args)
        self.env = dict(env or {})  # added to the environment heraldd starts with
        self.token = None  # sent by create() when set
        self.process = None
        self.port = None
        self.lines = []
        self._lines_lock = threading.Condition()

    # ---- process control ----

    def start(self):
        self.lines = []
        self.port = None
        self.process = subprocess.Popen(
            [self.binary, "-c", self.config_path] + self.args,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True, errors="replace", env=dict(_environment(), **self.env))
        self._reader = threading.Thread(target=self._read_stderr, args=(self.process,),
                                        daemon=True)
        self._reader.start()
        line = self.wait_for_log(r"event=listening address=\S+:(\d+)", START_TIMEOUT)
        self.port = int(re.search(r"address=\S+:(\d+)", line).group(1))
        return self

    def _read_stderr(self, process):
        for line in process.stderr:
            with self._lines_lock:
                self.lines.append(line.rstrip("\n"))
                self._lines_lock.notify_all()
        with self._lines_lock:
            self._lines_lock.notify_all()

    def wait_for_log(self, pattern, timeout=10.0, start=0):
        """Returns the first log line (from index START) matching PATTERN."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._lines_lock:
            while True:
                for line in self.lines[start:]:
                    if regex.search(line):
                        return line
                if not self._reader.is_alive():
                    raise AssertionError("heraldd exited (%s) before logging %r:\n%s" %
                                         (self.process.returncode, pattern, self.log()))
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError("no log line %r within %ss:\n%s" %
                                         (pattern, timeout, self.log()))
                self._lines_lock.wait(min(remaining, 0.2))

    def log(self):
        with self._lines_lock:
            return "\n".join(self.lines)

    def stop(self, expect_code=0):
        """SIGTERM, wait, and check the exit code and the sanitizers."""
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError("heraldd did not stop within %ss:\n%s" % (STOP_TIMEOUT, self.log()))
        self._check_exit(code, expect_code)

    def kill(self):
        """SIGKILL: no shutdown code runs, as in a crash or power loss."""
        self.process.kill()
        self.process.wait()
        self.process = None

    def _check_exit(self, code, expect_code):
        self._reader.join(5)  # the reader ends when heraldd's stderr closes
        text = self.log()
        for marker in SANITIZER_MARKERS:
            if marker in text:
                raise AssertionError("sanitizer report from heraldd:\n" + text)
        if code != expect_code:
            raise AssertionError("heraldd exited %s, expected %s:\n%s" % (code, expect_code, text))
        self.process = None

    def cleanup(self):
        if self.process is not None:
            self.kill()
        self.db.drop()
        if self.owns_directory:
            shutil.rmtree(self.directory, ignore_errors=True)

    # ---- HTTP ----

    def request(self, method, path, body=None, headers=None, raw=None, chunks=None, timeout=30):
        """Returns (status, headers dict with lower-case names, parsed JSON or None)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        all_headers = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            all_headers.setdefault("Content-Type", "application/json")
        if raw is not None:
            data = raw if isinstance(raw, bytes) else raw.encode()
        try:
            if chunks is not None:
                connection.request(method, path, body=iter(chunks), headers=all_headers,
                                   encode_chunked=True)
            else:
                connection.request(method, path, body=data, headers=all_headers)
            response = connection.getresponse()
            text = response.read()
            response_headers = {k.lower(): v for k, v in response.getheaders()}

            is_json = response_headers.get("content-type", "").startswith("application/json")
            if self.binary == HERALDD:  # the binary under test (not an upgrade's old one)
                _record_response(method, path, response.status, response_headers, text)
            parsed = strict_json(text) if text and is_json else text.decode(errors="replace")
            return response.status, response_headers, parsed
        finally:
            connection.close()

    def create(self, **fields):
        task = task_request(fields.pop("business_id", "P1"), payload={"amount": 1})
        task.update(fields)
        return self.request("POST", "/v1/tasks", body=task, headers=self.auth_headers())

    def get_task(self, task_id):
        status, _, body = self.request("GET", "/v1/tasks/%d" % task_id, headers=self.auth_headers())
        assert status == 200, (status, body)
        return body["task"]

    def attempts(self, task_id):
        status, _, body = self.request("GET", "/v1/tasks/%d/attempts" % task_id,
                                       headers=self.auth_headers())
        assert status == 200, (status, body)
        return body["attempts"]

    def wait_for_status(self, task_id, statuses, timeout=15.0):
        """Waits until the task's status is one of STATUSES; returns the task."""
        if isinstance(statuses, str):
            statuses = (statuses,)
        return wait_until(lambda: (lambda t: t if t["status"] in statuses else None)(
            self.get_task(task_id)), timeout, message="task %d to be %s" % (task_id, statuses))

    def auth_headers(self):
        return {"Authorization": "Bearer " + self.token} if self.token else {}

    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def ctl(self, *args, token_file=None, env=None):
        """Runs heraldctl against this heraldd; returns (exit code, stdout, stderr).
        ENV: variables to add (tables fit $COLUMNS, else 80 columns)."""
        command = [HERALDCTL, "--url", self.url()]
        if token_file:
            command += ["--token-file", token_file]
        completed = subprocess.run(command + list(args), capture_output=True, text=True,
                                   timeout=60, env=dict(os.environ, **(env or {})))
        for marker in SANITIZER_MARKERS:
            if marker in completed.stderr:
                raise AssertionError("sanitizer report from heraldctl:\n" + completed.stderr)
        return completed.returncode, completed.stdout, completed.stderr


class HeraldTestCase:
    """Mixin for test classes sharing one heraldd: started once, checked on stop."""
    herald_options = {}

    @classmethod
    def setUpClass(cls):
        cls.herald = Herald(**cls.herald_options).start()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.herald.stop()
        finally:
            cls.herald.cleanup()


class Received:
    """One request a Receiver got."""

    def __init__(self, method, path, headers, body):
        self.method = method
        self.path = path
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.body = body
        self.time = time.monotonic()


class Receiver:
    """A webhook receiver on 127.0.0.1 (a free port) that records every request.

    respond(received) decides the answer: it returns (status, headers, body), or
    "hang" to hold the request without answering until close(). The default
    answers 200 "ok".
    """

    def __init__(self, respond=None):
        self.respond = respond or (lambda received: (200, {}, b"ok"))
        self.requests = []
        self.condition = threading.Condition()
        self.closing = threading.Event()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                received = Received("POST", self.path, dict(self.headers.items()), body)
                if "X-Herald-Attempt" in self.headers:  # a task's delivery, not an alert
                    _record_webhook(received)
                with receiver.condition:
                    receiver.requests.append(received)
                    receiver.condition.notify_all()
                answer = receiver.respond(received)
                if answer == "hang":
                    receiver.closing.wait(120)
                    self.close_connection = True
                    return
                status, headers, data = answer
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if "Content-Length" not in headers:
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if isinstance(data, bytes):
                    self.wfile.write(data)
                else:  # an iterable of chunks, e.g. a large body
                    for chunk in data:
                        self.wfile.write(chunk)

            def log_message(self, *args):
                pass

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 256

            def handle_error(self, request, client_address):
                pass  # a client (heraldd) that was killed mid-request is expected here

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()

    def url(self, path="/notify"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def wait_for(self, count, timeout=15.0, path=None):
        """Waits until COUNT requests (to PATH, if given) arrived; returns them."""
        deadline = time.monotonic() + timeout
        with self.condition:
            while True:
                matching = [r for r in self.requests if path is None or r.path == path]
                if len(matching) >= count:
                    return matching
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError("receiver got %d of %d requests%s within %ss" %
                                         (len(matching), count, " to " + path if path else "",
                                          timeout))
                self.condition.wait(remaining)

    def received(self, path=None):
        with self.condition:
            return [r for r in self.requests if path is None or r.path == path]

    def close(self):
        self.closing.set()
        self.server.shutdown()
        self.server.server_close()


_sink = None


def sink():
    """A receiver shared by tests that only need deliveries to go somewhere local."""
    global _sink
    if _sink is None:
        _sink = Receiver()
    return _sink


def closed_port_url(path="/notify"):
    """A loopback URL nothing listens on (a port the kernel gave us, then closed)."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return "http://127.0.0.1:%d%s" % (port, path)


def _refuse_constant(name):
    raise ValueError("not JSON: %s" % name)


def strict_json(data):
    """Parses herald's answers as a strict reader would: UTF-8 only, no NaN or
    Infinity (Python's json takes them), so every test checks that herald
    never emits invalid JSON."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    return json.loads(text, parse_constant=_refuse_constant)


def wait_until(predicate, timeout=15.0, interval=0.02, message="condition"):
    """Polls PREDICATE (cheap, local) until it returns a true value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + message)
        time.sleep(interval)


def task_request(business_id, target_url=None, **extra):
    task = {"business_id": business_id, "business_type": "PAYMENT_SUCCESS",
            "target_url": target_url or sink().url(), "payload": {"id": business_id}}
    task.update(extra)
    return task


def pause(process, timeout=10.0):
    """SIGSTOP PROCESS and wait until every thread of it has stopped. kill(2)
    returns before a process-directed SIGSTOP takes effect: the stop begins only
    when one of its threads gets a CPU to take the signal, and meanwhile the others
    run on (seen in CI: a heraldd wrote an outcome after its SIGSTOP was sent)."""
    process.send_signal(signal.SIGSTOP)

    def stopped():
        task_dir = "/proc/%d/task" % process.pid
        for tid in os.listdir(task_dir):
            try:
                with open(os.path.join(task_dir, tid, "stat")) as f:
                    state = f.read().rsplit(")", 1)[1].split()[0]
            except FileNotFoundError:
                continue  # a thread that ended
            if state not in ("T", "t"):
                return False
        return True
    wait_until(stopped, timeout, message="process %d to stop" % process.pid)


class FrozenThread:
    """Stops one thread of a running heraldd (by its name, e.g. "herald-sched") while
    the others go on, which SIGSTOP cannot do: the thread is seized with ptrace and
    interrupted, and runs again on release() (or when this process exits). Only a
    thread asleep in poll(2) is kept frozen, so it holds no lock the others need.
    Every ptrace call is made from the thread that made the first (ptrace's rule)."""

    _SEIZE, _INTERRUPT, _DETACH, _WALL = 0x4206, 0x4207, 17, 0x40000000
    _POLL_SYSCALLS = {"7", "271"}  # poll, ppoll on x86_64

    def __init__(self, pid, name, timeout=10.0):
        import ctypes
        self._libc = ctypes.CDLL(None, use_errno=True)
        self._libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p,
                                      ctypes.c_void_p]
        self.tid = None
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as comm:
                if comm.read().strip() == name:
                    self.tid = int(tid)
        if self.tid is None:
            raise AssertionError("heraldd %d has no thread %s" % (pid, name))
        deadline = time.monotonic() + timeout
        while True:
            self._call(self._SEIZE)
            self._call(self._INTERRUPT)
            status = ctypes.c_int()
            if self._libc.waitpid(self.tid, ctypes.byref(status), self._WALL) != self.tid:
                raise OSError(ctypes.get_errno(), "waitpid on thread %d" % self.tid)
            with open("/proc/%d/task/%d/syscall" % (pid, self.tid)) as syscall:
                if os.uname().machine != "x86_64" or \
                        syscall.read().split()[0] in self._POLL_SYSCALLS:
                    return
            self.release()
            if time.monotonic() > deadline:
                raise AssertionError("thread %s never slept in poll" % name)
            time.sleep(0.01)

    def _call(self, request):
        import ctypes
        if self._libc.ptrace(request, self.tid, None, None) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, "ptrace(%#x) on thread %d: %s"
                          % (request, self.tid, os.strerror(errno)))

    def release(self):
        self._call(self._DETACH)


class Seam:
    """Drives a running heraldd's fault seam through HERALD_FAULT_FILE and SIGUSR2."""

    def __init__(self, herald):
        self.herald = herald
        self.path = os.path.join(herald.directory, "fault")

    def arm(self, spec):
        """Arms SPEC; returns the operations counted per role since the last arming."""
        with open(self.path, "w") as f:
            f.write(spec + "\n")
        mark = len(self.herald.lines)
        self.herald.process.send_signal(signal.SIGUSR2)
        self.herald.wait_for_log(r'event=fault_armed .*spec="%s"' % re.escape(spec), start=mark)
        counts = self.herald.wait_for_log(r"event=fault_counts ", start=mark)
        return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", counts.split("fault_counts", 1)[1])}

    def lift(self):
        return self.arm("count")
