"""Faults heraldd must survive: kill -9 under load, a full disk, hostile receivers."""
import http.client
import os
import random
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time
import unittest

from harness import Herald, Receiver, sqlite_only, task_request, wait_until


class LoadGenerator:
    """Threads posting tasks to whichever heraldd runs at PORT(); keeps every 201's id."""

    def __init__(self, herald, target_url, workers=4):
        self.herald = herald
        self.target_url = target_url
        self.accepted = {}  # business_id -> task id
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(w,), daemon=True)
                        for w in range(workers)]
        for thread in self.threads:
            thread.start()

    def _run(self, worker):
        i = 0
        while not self.stopping.is_set():
            business_id = "LOAD-%d-%d" % (worker, i)
            i += 1
            port = self.herald.port
            if port is None:
                time.sleep(0.01)
                continue
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                connection.request("POST", "/v1/tasks", body=__import__("json").dumps(
                    task_request(business_id, target_url=self.target_url)),
                    headers={"Content-Type": "application/json"})
                response = connection.getresponse()
                body = response.read()
                connection.close()
            except (OSError, http.client.HTTPException):
                time.sleep(0.01)  # heraldd is down: try again
                continue
            if response.status == 201:
                with self.lock:
                    self.accepted[business_id] = __import__("json").loads(body)["task"]["id"]

    def stop(self):
        self.stopping.set()
        for thread in self.threads:
            thread.join(15)


class KillTest(unittest.TestCase):
    def test_kill_9_ten_times_under_load(self):
        receiver = Receiver()
        # Short leases: on PostgreSQL the requests a kill cut off wait for their lease
        # (2 x timeout + 10 s) and the next sweep, not for the restart.
        herald = Herald(config="[retry]\nbase_delay = 100ms\nmax_retry = 10\njitter = 0\n"
                        "[delivery]\ntimeout = 1s\nconnect_timeout = 1s\n"
                        "lease_sweep_interval = 200ms\n")
        try:
            herald.start()
            load = LoadGenerator(herald, receiver.url())
            random.seed(7)
            for kill in range(10):
                time.sleep(random.uniform(0.2, 0.8))
                herald.kill()
                herald.port = None
                herald.start()
            time.sleep(0.5)
            load.stop()
            accepted = dict(load.accepted)
            self.assertGreater(len(accepted), 50)
            # Every task that ever got a 201 is delivered (none stuck, none lost).
            db = herald.db
            wait_until(lambda: db.value(
                "SELECT count(*) FROM tasks WHERE status IN ('pending', 'delivering')") == 0,
                timeout=60, interval=0.2, message="every task to be delivered")
            stored = dict(db.query("SELECT business_id, id FROM tasks"))
            interrupted = {row[0] for row in db.query(
                "SELECT DISTINCT task_id FROM attempts WHERE error_class = 'interrupted'")}
            statuses = dict(db.query("SELECT status, count(*) FROM tasks GROUP BY status"))
            for business_id, task_id in accepted.items():
                self.assertEqual(stored.get(business_id), task_id, business_id)
            self.assertEqual(set(statuses), {"succeeded"})
            received = {}
            for request in receiver.received():
                business_id = request.headers["x-business-id"]
                received[business_id] = received.get(business_id, 0) + 1
            self.assertTrue(set(accepted) <= set(received))
            # A task arrives twice only if a kill cut off an attempt of it.
            for business_id, count in received.items():
                if count > 1:
                    self.assertIn(stored[business_id], interrupted, business_id)
            herald.stop()
        finally:
            herald.cleanup()
            receiver.close()


def can_mount_tmpfs():
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    probe = tempfile.mkdtemp(prefix="herald-mount-")
    try:
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", probe],
                                 capture_output=True).returncode == 0
        if mounted:
            subprocess.run(["umount", probe], check=True)
        return mounted
    finally:
        os.rmdir(probe)


@unittest.skipUnless(can_mount_tmpfs(), "needs root and tmpfs mounts")
@sqlite_only("the database file on a full filesystem")
class DiskFullTest(unittest.TestCase):
    def test_full_disk_gives_503_loses_nothing_and_recovers(self):
        mountpoint = tempfile.mkdtemp(prefix="herald-full-")
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", mountpoint], check=True)
        receiver = Receiver(lambda r: (time.sleep(0.02), (200, {}, b"ok"))[1])
        herald = Herald(args=["--db", os.path.join(mountpoint, "herald.db")],
                        config="[storage]\nbusy_timeout = 1s\n")
        herald.db_path = os.path.join(mountpoint, "herald.db")
        try:
            herald.start()
            accepted, refused = [], 0
            for i in range(400):  # 20 KiB payloads: a few MiB fills the 3 MiB filesystem
                status, headers, body = herald.request("POST", "/v1/tasks", body=task_request(
                    "FULL-%d" % i, target_url=receiver.url(), payload="x" * 20000))
                if status == 201:
                    accepted.append(body["task"]["id"])
                else:
                    self.assertEqual(status, 503, body)
                    self.assertEqual(body["error"]["code"], "unavailable")
                    self.assertIn("retry-after", headers)
                    refused += 1
                    if refused >= 5:
                        break
            self.assertGreater(refused, 0, "the filesystem never filled")
            self.assertGreater(len(accepted), 0)
            # Already-stored tasks keep being delivered as far as possible.
            wait_until(lambda: len(receiver.received()) > 0, message="deliveries to go on")
            # Free space without a restart: intake works again, nothing accepted is lost.
            subprocess.run(["mount", "-o", "remount,size=64m", mountpoint], check=True)
            wait_until(lambda: herald.request("POST", "/v1/tasks", body=task_request(
                "AFTER", target_url=receiver.url()))[0] == 201, timeout=20,
                message="intake to accept again")
            for task_id in accepted:
                herald.wait_for_status(task_id, "succeeded", timeout=60)
            herald.stop()
        finally:
            herald.cleanup()
            receiver.close()
            subprocess.run(["umount", "-l", mountpoint])
            os.rmdir(mountpoint)


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class RawServer:
    """A loopback TCP server whose handler gets each raw accepted socket."""

    def __init__(self, handler):
        self.socket = socket.socket()
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(64)
        self.port = self.socket.getsockname()[1]
        self.handler = handler
        self.count = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            self.count += 1
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection):
        try:
            connection.settimeout(30)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = connection.recv(65536)
                if not chunk:
                    return
                data += chunk
            self.handler(connection)
        except OSError:
            pass
        finally:
            connection.close()

    def url(self):
        return "http://127.0.0.1:%d/hook" % self.port

    def close(self):
        self.socket.close()


class HostileReceiverTest(unittest.TestCase):
    def setUp(self):
        self.healthy = Receiver()
        self.herald = Herald(config="[retry]\nmax_retry = 1\n[delivery]\ntimeout = 5s\n")
        self.herald.start()

    def tearDown(self):
        self.herald.cleanup()
        self.healthy.close()

    def deliver(self, url, business_id):
        status, _, body = self.herald.request("POST", "/v1/tasks", body=task_request(
            business_id, target_url=url))
        return body["task"]["id"]

    def others_are_served(self, count):
        before = len(self.healthy.received())
        for i in range(count):
            self.deliver(self.healthy.url(), "OK-%d-%d" % (before, i))
        self.healthy.wait_for(before + count, timeout=10)

    def test_one_gibibyte_response_keeps_memory_flat(self):
        def huge(connection):
            size = 1 << 30
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
            chunk = b"x" * (1 << 20)
            for _ in range(size // len(chunk)):
                connection.sendall(chunk)
        server = RawServer(huge)
        try:
            baseline = rss_kb(self.herald.process.pid)
            task_id = self.deliver(server.url(), "HUGE")
            self.others_are_served(5)
            done = self.herald.wait_for_status(task_id, ("succeeded", "failed"), timeout=30)
            attempt = self.herald.attempts(done["id"])[0]
            self.assertTrue(attempt["response_truncated"])
            self.assertLessEqual(len(attempt["response_body"]), 4096)
            self.assertLess(rss_kb(self.herald.process.pid) - baseline, 64 * 1024)
            self.herald.stop()
        finally:
            server.close()

    def test_reset_mid_response(self):
        def reset(connection):
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial")
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        server = RawServer(reset)
        try:
            task_id = self.deliver(server.url(), "RESET")
            failed = self.herald.wait_for_status(task_id, "failed", timeout=15)
            self.assertEqual(self.herald.attempts(failed["id"])[0]["error_class"], "network")
            self.others_are_served(5)
            self.herald.stop()
        finally:
            server.close()

    def test_broken_answers_get_classes_a_person_understands(self):
        """Item 17: every way a receiver can answer wrongly has its own error class."""
        answers = {
            "protocol": [b"hello, this is not HTTP\r\n",  # HTTP/0.9
                         b"HTTP/1.1 OK\r\nContent-Length: 0\r\n\r\n",  # no status code
                         b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"],
            # Issue 23, item 9: one limit (100 KiB of headers: a line or all of them),
            # one class, a message that does not read as herald out of memory. Before:
            # 200 lines of 1 KiB succeeded, 400 KiB was "network", one 150 KiB line
            # "libcurl: Out of memory".
            "response_too_large": [
                b"HTTP/1.1 200 OK\r\nX-Big: " + b"x" * (300 * 1024)
                + b"\r\nContent-Length: 0\r\n\r\n",
                b"HTTP/1.1 200 OK\r\nX-Big: " + b"x" * (150 * 1024)
                + b"\r\nContent-Length: 0\r\n\r\n",
                b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-Pad-%d: %s\r\n" % (n, b"y" * 1000)
                                                    for n in range(200))
                + b"Content-Length: 0\r\n\r\n",
                b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-Pad-%d: %s\r\n" % (n, b"y" * 1000)
                                                    for n in range(400))
                + b"Content-Length: 0\r\n\r\n"],
        }
        for error_class, bodies in answers.items():
            for number, answer in enumerate(bodies):
                with self.subTest(error_class=error_class, answer=answer[:40]):
                    server = RawServer(lambda connection, answer=answer: connection.sendall(answer))
                    try:
                        task_id = self.deliver(server.url(), "BROKEN-%s-%d" % (error_class, number))
                        failed = self.herald.wait_for_status(task_id, "failed", timeout=15)
                        attempt = self.herald.attempts(failed["id"])[0]
                        self.assertEqual(attempt["error_class"], error_class, attempt)
                        if error_class == "response_too_large":
                            self.assertIn("100 KiB", attempt["error_message"], attempt)
                            self.assertNotIn("memory", attempt["error_message"], attempt)
                    finally:
                        server.close()
        self.others_are_served(3)
        self.herald.stop()

    def test_redirect_to_itself(self):
        server = None

        def loop(connection):
            connection.sendall(b"HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n"
                               % server.url().encode())
        server = RawServer(loop)
        try:
            task_id = self.deliver(server.url(), "LOOP")
            failed = self.herald.wait_for_status(task_id, "failed", timeout=15)
            self.assertEqual(self.herald.attempts(failed["id"])[0]["error_class"], "redirect")
            self.assertEqual(server.count, 1)  # not followed
            self.others_are_served(5)
            self.herald.stop()
        finally:
            server.close()


if __name__ == "__main__":
    unittest.main()
