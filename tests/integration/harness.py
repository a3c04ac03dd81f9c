"""Integration-test harness: runs the real heraldd (and heraldctl) on loopback.

Each Herald instance gets its own temporary directory, config file and database,
listens on 127.0.0.1 port 0 (the kernel picks a free port; heraldd logs the address
it bound), and is checked on stop: it must exit 0 and its stderr must hold no
AddressSanitizer, LeakSanitizer or UBSan report. Waits are on events (a log line,
a process exit) with deadlines, never blind sleeps.
"""
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time

HERALDD = os.environ.get("HERALD_HERALDD", "build/asan/heraldd")
HERALDCTL = os.environ.get("HERALD_HERALDCTL", "build/asan/heraldctl")
START_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "SUMMARY: UndefinedBehaviorSanitizer")


class Herald:
    """One heraldd process with its own directory."""

    def __init__(self, config="", token_lines=None, binary=None, directory=None, args=()):
        self.binary = binary or HERALDD
        self.owns_directory = directory is None
        self.directory = directory or tempfile.mkdtemp(prefix="herald-it-")
        self.db_path = os.path.join(self.directory, "herald.db")
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
            f.write("[storage]\npath = %s\n" % self.db_path)
            f.write(config)
        self.args = list(args)
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
            text=True, errors="replace")
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
        if self.owns_directory:
            shutil.rmtree(self.directory, ignore_errors=True)

    # ---- HTTP ----

    def request(self, method, path, body=None, headers=None, raw=None, chunks=None):
        """Returns (status, headers dict with lower-case names, parsed JSON or None)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
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
            parsed = json.loads(text) if text else None
            return response.status, response_headers, parsed
        finally:
            connection.close()

    def create(self, **fields):
        task = {"business_id": "P1", "business_type": "PAYMENT_SUCCESS",
                "target_url": "https://order.example/notify", "payload": {"amount": 1}}
        task.update(fields)
        return self.request("POST", "/v1/tasks", body=task, headers=self.auth_headers())

    def auth_headers(self):
        return {"Authorization": "Bearer " + self.token} if self.token else {}

    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def ctl(self, *args, token_file=None):
        """Runs heraldctl against this heraldd; returns (exit code, stdout, stderr)."""
        command = [HERALDCTL, "--url", self.url()]
        if token_file:
            command += ["--token-file", token_file]
        completed = subprocess.run(command + list(args), capture_output=True, text=True,
                                   timeout=60)
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


def task_request(business_id, target_url="https://order.example/notify", **extra):
    task = {"business_id": business_id, "business_type": "PAYMENT_SUCCESS",
            "target_url": target_url, "payload": {"id": business_id}}
    task.update(extra)
    return task
