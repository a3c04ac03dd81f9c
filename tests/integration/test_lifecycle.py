"""heraldd as a service: reload, one instance per database, sd_notify, graceful stop."""
import http.client
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

from harness import HERALDD, Herald, Receiver, sink, sqlite_only, task_request, wait_until

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def rewrite_config(herald, text):
    with open(herald.config_path, "w") as f:
        f.write("[server]\nlisten = 127.0.0.1:0\n[storage]\n%s\n" % herald.db.config_line())
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
        herald.wait_for_log(r"event=reloaded changed=\S*business\S* business_types=1 signed=yes",
                            start=mark)
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
        herald.wait_for_log(r"event=reload_needs_restart keys=server.max_body", start=mark)
        herald.stop()


SECRET_2 = "whsec_c2Vjb25kIHNlY3JldCBvZiAyNCBieXRlcyE="

# A value other than the default for every key heraldd --list-keys prints; a new key
# without one here fails the test below, so every key is reloaded.
RELOAD_VALUES = {
    "server.listen": "[::1]:0", "server.api_token_file": "{dir}/tokens",
    "server.max_body": "1MiB", "server.threads": "3", "server.max_connections": "500",
    "server.max_connections_per_ip": "10", "server.max_header_bytes": "16KiB",
    "server.connection_timeout": "20s", "server.header_timeout": "5s",
    "server.body_timeout": "30s", "server.drain_timeout": "1s", "server.log_level": "debug",
    "server.console": "false",
    "server.allowed_hosts": "herald.example.com",
    "storage.path": "{dir}/other.db", "storage.busy_timeout": "1s",
    "storage.intake_queue_limit": "100", "storage.retention": "1d",
    "storage.url": "postgresql:///other?host=/nonexistent", "storage.password_file": "{dir}/secret",
    "storage.statement_timeout": "10s", "storage.startup_wait": "5s",
    "storage.failover_grace": "1m",
    "delivery.timeout": "20s", "delivery.connect_timeout": "2s", "delivery.concurrency": "100",
    "delivery.per_host_concurrency": "8", "delivery.max_response_bytes": "1KiB",
    "delivery.allow_private_targets": "false", "delivery.allow_cidrs": "10.0.0.0/8",
    "delivery.ca_file": "{dir}/tokens", "delivery.secret": SECRET,
    "delivery.secret_file": "{dir}/secret",
    "delivery.previous_secret": SECRET_2 + "\nprevious_secret_until = 2030-01-01T00:00:00Z",
    "delivery.previous_secret_until": "2031-01-01T00:00:00Z",
    "delivery.lease_sweep_interval": "5m",
    "delivery.breaker_probe_interval": "10s", "delivery.breaker_probe_max_interval": "10m",
    "retry.breaker_failures": "3", "business.NAME.breaker_failures": "3",
    "retry.retry_interval": "5s", "retry.max_retry": "3", "retry.base_delay": "10s",
    "retry.max_delay": "10m", "retry.exponential_backoff": "false", "retry.jitter": "0.2",
    "retry.schedule": "1s,2s", "alert.interval": "10s", "alert.window": "1h",
    "alert.threshold": "5", "alert.cooldown": "10m", "alert.webhook_url": "http://127.0.0.1:9/",
    "alert.command": "true", "alert.max_lag": "1m", "alert.breaker_alert_after": "1m",
    "alert.ordering_alert_after": "1m", "retry.ordering_on_failure": "skip",
    "business.NAME.ordering_on_failure": "skip",
    "business.NAME.max_retry": "3", "business.NAME.base_delay": "10s",
    "business.NAME.max_delay": "10m", "business.NAME.exponential_backoff": "false",
    "business.NAME.jitter": "0.2", "business.NAME.schedule": "1s,2s",
    "business.NAME.success_body": "OK", "business.NAME.timeout": "3s",
    "business.NAME.secret": SECRET, "business.NAME.secret_file": "{dir}/secret",
    "business.NAME.previous_secret": SECRET_2 + "\nprevious_secret_until = 2030-01-01T00:00:00Z",
    "business.NAME.previous_secret_until": "2031-01-01T00:00:00Z",
    "telemetry.endpoint": "http://127.0.0.1:9/v1/traces", "telemetry.headers": "x-a=1",
    "telemetry.service_name": "herald-b", "telemetry.sample_ratio": "0.5",
    "telemetry.timeout": "5s", "telemetry.interval": "2s", "telemetry.queue_size": "100",
    "telemetry.compression": "none", "telemetry.propagate": "true",
    "business.NAME.propagate": "true",
    "receiver.PATTERN.rate_limit": "5/s",
    "receiver.PATTERN.rate_burst": "3\nrate_limit = 5/s",
}


class ReloadEveryKeyTest(unittest.TestCase):
    """Item 15: every key is either applied by a reload or named as needing a restart,
    as its row in the key table says; none is ignored silently."""

    def write(self, herald, section, name, value):
        lines = {"server": ["listen = 127.0.0.1:0"], "storage": [herald.db.config_line()],
                 "delivery": ["allow_private_targets = true"], "business.NAME": ["max_retry = 2"]}
        if section == "delivery" and name == "allow_private_targets":
            lines["delivery"] = []
        if (section, name) in (("server", "listen"), ("storage", "path"), ("storage", "url"),
                               ("business.NAME", "max_retry")):
            lines[section] = []
        if (section, name) == ("storage", "password_file") and herald.db.backend == "sqlite":
            lines[section].append("url = postgresql:///other")  # it goes with a url
        if section is not None:
            lines.setdefault(section, []).append("%s = %s" % (name, value))
        with open(herald.config_path, "w") as f:
            for title, entries in lines.items():
                f.write("[%s]\n%s\n" % (title, "\n".join(entries)))

    def test_every_key_is_applied_or_named(self):
        listed = subprocess.run([HERALDD, "--list-keys"], capture_output=True, text=True,
                                check=True).stdout.split("\n")
        keys = [line.split()[:2] for line in listed if line.strip()]
        self.assertGreater(len(keys), 40)
        herald = Herald()
        self.addCleanup(herald.cleanup)
        directory = herald.directory
        with open(os.path.join(directory, "tokens"), "w") as f:
            f.write("reload:%s\n" % ("t" * 32))
        secret_file = os.path.join(directory, "secret")
        with open(secret_file, "w") as f:
            f.write(SECRET_2 + "\n")
        os.chmod(secret_file, 0o600)
        self.write(herald, None, None, None)
        herald.start()
        with open(os.path.join(os.path.dirname(HERALDD), "..", "..", "etc", "herald.conf")) as f:
            shipped = f.read()
        for key, apply in keys:
            with self.subTest(key=key):
                self.assertIn(key, RELOAD_VALUES, "no test value for a new key")
                section, name = key.rsplit(".", 1)
                self.assertRegex(shipped, r"(?m)^;?\s*%s\s*=" % re.escape(name),
                                 "etc/herald.conf does not document %s" % key)
                self.write(herald, section, name, RELOAD_VALUES[key].format(dir=directory))
                mark = len(herald.lines)
                herald.process.send_signal(signal.SIGHUP)
                line = herald.wait_for_log(r"event=reload(ed|_failed)", start=mark)
                self.assertIn("event=reloaded", line)
                reported = "business" if section == "business.NAME" else \
                    "receiver" if section == "receiver.PATTERN" else \
                    key.replace("secret_file", "secret")  # one field: reported as secret
                if apply == "reload":
                    changed = re.search(r"changed=(\S+)", line).group(1).split(",")
                    self.assertIn(reported, changed, line)
                else:
                    restart = herald.wait_for_log(r"event=reload_needs_restart", start=mark)
                    self.assertIn(reported, re.search(r"keys=(\S+)", restart).group(1).split(","))
        herald.stop()

    def test_reloaded_keys_take_effect(self):
        hanging = Receiver(lambda r: "hang")
        self.addCleanup(hanging.close)
        herald = Herald(config="[delivery]\ntimeout = 30s\n[retry]\nmax_retry = 1\n")
        self.addCleanup(herald.cleanup)
        herald.start()
        rewrite_config(herald, "[server]\nlog_level = debug\n[delivery]\ntimeout = 1s\n"
                       "[retry]\nmax_retry = 1\n")
        mark = len(herald.lines)
        herald.process.send_signal(signal.SIGHUP)
        herald.wait_for_log(r"event=reloaded changed=\S*delivery.timeout", start=mark)
        started = time.monotonic()
        status, _, body = herald.request("POST", "/v1/tasks", body=task_request(
            "RELOADED", target_url=hanging.url(), max_retry=1))
        task = herald.wait_for_status(body["task"]["id"], "failed", timeout=10)
        self.assertLess(time.monotonic() - started, 8)  # the new 1 s, not the old 30 s
        self.assertEqual(herald.attempts(task["id"])[0]["error_class"], "timeout")
        herald.request("POST", "/v1/tasks", body=task_request("DEBUG", target_url=sink().url()))
        herald.wait_for_log(r"level=debug event=delivered", start=mark)  # log_level took effect
        herald.stop()


@sqlite_only("one heraldd per database file (several share a PostgreSQL database)")
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
        directory = tempfile.mkdtemp(prefix="herald-it-")
        self.addCleanup(shutil.rmtree, directory, True)
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
        self.assertRegex(status, r"^STATUS=pending \d+, delivering \d+, manual open \d+, lag \d+s; "
                                 r"instance \S+:\d+:\d+( \(leader\))?, \d+ attempts$")


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
        stored = {row[0] for row in herald.db.query("SELECT id FROM tasks")}
        in_flight = herald.db.value("SELECT count(*) FROM tasks WHERE status = 'delivering'")
        self.assertTrue(set(accepted) <= stored)
        self.assertEqual(in_flight, 0)  # every request in flight was finished and recorded
        if herald.db.backend == "sqlite":
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
