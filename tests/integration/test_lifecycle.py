"""heraldd as a service: reload, one instance per database, sd_notify, graceful stop."""
import http.client
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import threading
import time
import unittest

from harness import HERALDD, Herald, Receiver, task_request, wait_until

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def rewrite_config(herald, text):
    with open(herald.config_path, "w") as f:
        f.write("[server]\nlisten = 127.0.0.1:0\n[storage]\npath = %s\n" % herald.db_path)
        f.write(text)
        f.write("\n[delivery]\nallow_private_targets = true\n")


class ReloadTest(unittest.TestCase):
    def test_sighup_reloads_policies_and_secrets_without_dropping_anything(self):
        receiver = Receiver()
        self.addCleanup(receiver.close)
        herald = Herald(config="[business.ORDER_UPDATE]\nmax_retry = 2\n")
        self.addCleanup(herald.cleanup)
        herald.start()
        create = lambda business_id: herald.request("POST", "/v1/tasks", body=task_request(
            business_id, business_type="ORDER_UPDATE", target_url=receiver.url()))[2]["task"]
        self.assertEqual(create("BEFORE")["max_retry"], 2)
        # A kept-alive client connection, opened before the reload.
        kept = http.client.HTTPConnection("127.0.0.1", herald.port, timeout=10)
        kept.request("GET", "/healthz")
        self.assertEqual(kept.getresponse().read(), b'{"status":"ok"}\n')
        rewrite_config(herald, "[business.ORDER_UPDATE]\nmax_retry = 4\n[delivery]\nsecret = %s\n"
                       % SECRET)
        mark = len(herald.lines)
        herald.process.send_signal(signal.SIGHUP)
        herald.wait_for_log(r"event=reloaded business_types=1 signed=yes", start=mark)
        after = create("AFTER")
        self.assertEqual(after["max_retry"], 4)
        delivered = [r for r in receiver.wait_for(2) if r.headers["x-business-id"] == "AFTER"]
        self.assertIn("webhook-signature", delivered[0].headers)
        kept.request("GET", "/healthz")  # the same connection still works
        self.assertEqual(kept.getresponse().status, 200)
        kept.close()
        # A broken file changes nothing.
        rewrite_config(herald, "[business.ORDER_UPDATE]\nmax_retry = lots\n")
        mark = len(herald.lines)
        herald.process.send_signal(signal.SIGHUP)
        herald.wait_for_log(r"event=reload_failed .*max_retry.*keeping the current", start=mark)
        self.assertEqual(create("STILL")["max_retry"], 4)
        # A key that needs a restart is named.
        rewrite_config(herald, "[server]\nmax_body = 1MiB\n[business.ORDER_UPDATE]\nmax_retry = 4\n")
        mark = len(herald.lines)
        herald.process.send_signal(signal.SIGHUP)
        herald.wait_for_log(r"event=reload_needs_restart keys=max_body", start=mark)
        herald.stop()


class InstanceTest(unittest.TestCase):
    def test_second_heraldd_on_the_same_database_is_refused(self):
        herald = Herald()
        self.addCleanup(herald.cleanup)
        herald.start()
        second = subprocess.run([HERALDD, "-c", herald.config_path], capture_output=True,
                                text=True, timeout=30)
        self.assertEqual(second.returncode, 1)
        self.assertIn("another heraldd (pid %d) is using" % herald.process.pid, second.stderr)
        herald.stop()
        # Once the first is gone, the database is free again (also after kill -9).
        herald.start()
        herald.kill()
        herald.start()
        herald.stop()


class NotifyTest(unittest.TestCase):
    def test_sd_notify_protocol(self):
        directory = Herald().directory
        path = os.path.join(directory, "notify.sock")
        sink = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sink.bind(path)
        sink.settimeout(1)
        self.addCleanup(sink.close)
        messages = []
        stop = threading.Event()

        def collect():
            while not stop.is_set():
                try:
                    messages.append(sink.recv(4096).decode())
                except socket.timeout:
                    pass
        reader = threading.Thread(target=collect, daemon=True)
        reader.start()
        herald = Herald(directory=directory)
        self.addCleanup(herald.cleanup)
        os.environ["NOTIFY_SOCKET"] = path
        os.environ["WATCHDOG_USEC"] = "2000000"
        try:
            herald.start()
        finally:
            del os.environ["NOTIFY_SOCKET"]
            del os.environ["WATCHDOG_USEC"]
        wait_until(lambda: "READY=1" in messages, message="READY=1")
        wait_until(lambda: any(m.startswith("STATUS=pending") for m in messages), message="STATUS=")
        wait_until(lambda: messages.count("WATCHDOG=1") >= 3, timeout=10,
                   message="WATCHDOG=1 pings (every 0.5 s for a 2 s watchdog)")
        herald.process.send_signal(signal.SIGHUP)
        wait_until(lambda: "RELOADING=1" in messages, message="RELOADING=1")
        wait_until(lambda: "READY=1" in messages[messages.index("RELOADING=1"):],
                   message="READY=1 after the reload")
        herald.stop()
        wait_until(lambda: "STOPPING=1" in messages, message="STOPPING=1")
        stop.set()
        reader.join(5)
        status = next(m for m in messages if m.startswith("STATUS="))
        self.assertRegex(status, r"^STATUS=pending \d+, delivering \d+, manual open \d+, lag \d+s$")


class GracefulStopTest(unittest.TestCase):
    def test_sigterm_under_load_loses_nothing(self):
        receiver = Receiver(lambda r: (time.sleep(0.05), (200, {}, b"ok"))[1])
        self.addCleanup(receiver.close)
        herald = Herald()
        self.addCleanup(herald.cleanup)
        herald.start()
        accepted, stop = [], threading.Event()

        def load(worker):
            i = 0
            while not stop.is_set():
                try:
                    status, _, body = herald.request("POST", "/v1/tasks", body=task_request(
                        "TERM-%d-%d" % (worker, i), target_url=receiver.url()))
                except (OSError, http.client.HTTPException):
                    return  # heraldd has closed its socket
                if status == 201:
                    accepted.append(body["task"]["id"])
                i += 1
        workers = [threading.Thread(target=load, args=(w,)) for w in range(8)]
        for worker in workers:
            worker.start()
        wait_until(lambda: len(accepted) >= 100, message="load to build up")
        started = time.monotonic()
        herald.process.send_signal(signal.SIGTERM)
        code = herald.process.wait(30)
        stopped_in = time.monotonic() - started
        stop.set()
        for worker in workers:
            worker.join(10)
        self.assertEqual(code, 0, herald.log())
        self.assertLess(stopped_in, 15)
        herald.process = None
        connection = sqlite3.connect(herald.db_path)
        stored = {row[0] for row in connection.execute("SELECT id FROM tasks")}
        in_flight = connection.execute("SELECT count(*) FROM tasks WHERE status = 'delivering'").fetchone()[0]
        connection.close()
        self.assertTrue(set(accepted) <= stored)
        self.assertEqual(in_flight, 0)  # every request in flight was finished and recorded
        wal = herald.db_path + "-wal"
        self.assertTrue(not os.path.exists(wal) or os.path.getsize(wal) == 0)  # checkpointed
        herald.start()
        for task_id in accepted:
            herald.wait_for_status(task_id, "succeeded", timeout=60)
        herald.stop()


class DrainTest(unittest.TestCase):
    """Item 11: during a graceful stop the listening socket closes, and requests on
    connections already open get an answer (writes 503 with Retry-After), never a reset."""

    def test_open_connections_are_answered_while_new_ones_are_refused(self):
        herald = Herald(config="[server]\ndrain_timeout = 5s\n")
        self.addCleanup(herald.cleanup)
        herald.start()
        reader = http.client.HTTPConnection("127.0.0.1", herald.port, timeout=10)
        writer = http.client.HTTPConnection("127.0.0.1", herald.port, timeout=10)
        for connection in (reader, writer):  # both open and kept alive
            connection.request("GET", "/healthz")
            self.assertEqual(connection.getresponse().read(), b'{"status":"ok"}\n')
        mark = len(herald.lines)
        herald.process.send_signal(signal.SIGTERM)
        herald.wait_for_log(r"event=draining open_connections=2", start=mark)
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", herald.port), timeout=5)
        writer.request("POST", "/v1/tasks", body=json.dumps(task_request("DRAIN-1")),
                       headers={"Content-Type": "application/json"})
        answer = writer.getresponse()
        self.assertEqual(answer.status, 503)
        self.assertEqual(json.loads(answer.read())["error"]["code"], "unavailable")
        self.assertEqual(answer.getheader("Retry-After"), "5")
        self.assertEqual(answer.getheader("Connection"), "close")
        reader.request("GET", "/healthz")
        answer = reader.getresponse()
        self.assertEqual(answer.status, 200)
        self.assertEqual(answer.getheader("Connection"), "close")
        answer.read()
        reader.close()
        writer.close()
        started = time.monotonic()
        self.assertEqual(herald.process.wait(30), 0)
        self.assertLess(time.monotonic() - started, 4)  # both closed: no need to wait 5 s
        herald._check_exit(0, 0)


if __name__ == "__main__":
    unittest.main()
