"""Every intake limit gives a clear 4xx (or a closed connection) through the real heraldd,
and none of them can exhaust it."""
import json
import socket
import threading
import time
import unittest

from harness import Herald, HeraldTestCase, task_request


def raw_exchange(port, data, timeout=10):
    """Sends DATA on a fresh connection; returns (status line, everything read)."""
    connection = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        connection.sendall(data)
        received = b""
        while True:
            chunk = connection.recv(65536)
            if not chunk:
                break
            received += chunk
            if b"\r\n\r\n" in received and b"Connection: close" not in data:
                break
    except socket.timeout:
        pass
    finally:
        connection.close()
    return received.split(b"\r\n", 1)[0].decode(errors="replace"), received


class LimitsTest(HeraldTestCase, unittest.TestCase):
    herald_options = {"config": "[server]\nmax_header_bytes = 16KiB\nmax_body = 64KiB\n"}

    def test_long_url_gets_414(self):
        status, _ = raw_exchange(self.herald.port, b"GET /v1/tasks?business_id=" + b"a" * 20000 +
                                 b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        self.assertIn("414", status)

    def test_large_headers_get_431(self):
        status, _ = raw_exchange(self.herald.port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " +
                                 b"a" * 20000 + b"\r\nConnection: close\r\n\r\n")
        self.assertIn("431", status)
        many = b"".join(b"X-H%d: v\r\n" % i for i in range(3000))
        status, _ = raw_exchange(self.herald.port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + many +
                                 b"Connection: close\r\n\r\n")
        self.assertIn("431", status)

    def test_deep_json_gets_400(self):
        deep = "[" * 65 + "]" * 65
        raw = '{"business_id":"D","business_type":"T","target_url":"http://a/","payload":%s}' % deep
        status, _, body = self.herald.request("POST", "/v1/tasks", raw=raw,
                                              headers={"Content-Type": "application/json"})
        self.assertEqual((status, body["error"]["code"]), (400, "invalid_json"))
        self.assertIn("nest deeper than 64", body["error"]["message"])
        shallow = "[" * 60 + "]" * 60
        status, _, _ = self.herald.request("POST", "/v1/tasks", raw=raw.replace(deep, shallow),
                                           headers={"Content-Type": "application/json"})
        self.assertEqual(status, 201)

    def test_body_limit_is_the_configured_one(self):
        status, _, body = self.herald.request("POST", "/v1/tasks",
                                              body=task_request("B", payload="x" * 70000))
        self.assertEqual(status, 413)
        self.assertIn("65536", body["error"]["message"])

    def test_still_serving_after_abuse(self):
        self.assertEqual(self.herald.request("GET", "/healthz")[0], 200)


class ConnectionLimitsTest(unittest.TestCase):
    def start(self, config):
        herald = Herald(config="[server]\nthreads = 1\n" + config)
        self.addCleanup(herald.cleanup)
        herald.start()
        return herald

    def test_idle_connections_make_room_for_new_clients(self):
        """Beyond max_connections new clients wait in the backlog, but at most half the
        slots may be held by idle (or slow) connections: the longest idle is closed."""
        herald = self.start("max_connections = 4\nconnection_timeout = 30s\n")
        held = [socket.create_connection(("127.0.0.1", herald.port), timeout=5) for _ in range(4)]
        for connection in held:  # served, then idle on keep-alive
            connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            self.assertIn(b"200 OK", connection.recv(200))
        extra = socket.create_connection(("127.0.0.1", herald.port), timeout=5)
        extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        self.assertIn(b"200 OK", extra.recv(200))
        extra.close()
        # The two idle longest were closed to keep idle connections to half the slots.
        closed = 0
        for connection in held:
            connection.settimeout(0.5)
            try:
                closed += connection.recv(100) == b""
            except socket.timeout:
                pass
            connection.close()
        self.assertGreaterEqual(closed, 2)
        herald.stop()

    def test_slow_clients_are_cut_off(self):
        herald = self.start("connection_timeout = 1s\n")
        slow = socket.create_connection(("127.0.0.1", herald.port), timeout=10)
        slow.sendall(b"POST /v1/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and then nothing
        started = time.monotonic()
        self.assertEqual(slow.recv(100), b"")  # closed by heraldd
        self.assertLess(time.monotonic() - started, 5.0)
        slow.close()
        self.assertEqual(herald.request("GET", "/healthz")[0], 200)
        herald.stop()


class SlowClient(threading.Thread):
    """A slowloris client: opens a connection, sends HEAD (a request line and headers),
    then DRIP every second, reopening whenever heraldd closes it."""

    def __init__(self, port, head, drip):
        super().__init__(daemon=True)
        self.port, self.head, self.drip = port, head, drip
        self.stopping = threading.Event()
        self.reopened = 0

    def run(self):
        while not self.stopping.is_set():
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
                    s.sendall(self.head)
                    while not self.stopping.wait(1.0):
                        s.sendall(self.drip)
            except OSError:
                self.reopened += 1
                self.stopping.wait(0.05)

    def stop(self):
        self.stopping.set()


class SlowClientFloodTest(unittest.TestCase):
    """Item 8: slow clients cannot take the API away from everyone else."""

    def flood(self, head, drip, config=""):
        herald = Herald(config="[server]\nmax_connections = 20\nthreads = 2\n" + config)
        self.addCleanup(herald.cleanup)
        herald.start()
        clients = [SlowClient(herald.port, head, drip) for _ in range(25)]
        for client in clients:
            client.start()
        self.addCleanup(lambda: [client.stop() for client in clients])
        time.sleep(1.5)  # let them take what they can
        started = time.monotonic()
        for _ in range(10):
            status, _, body = herald.request("GET", "/healthz")
            self.assertEqual(status, 200, body)
        self.assertLess(time.monotonic() - started, 20)
        for client in clients:
            client.stop()
        herald.stop()
        return herald

    def test_slow_headers_cannot_take_every_slot(self):
        herald = self.flood(b"POST /v1/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\n", b"X-Slow: 1\r\n")
        summaries = [line for line in herald.lines if "event=connections_cut" in line]
        self.assertLessEqual(sum("level=warning" in line for line in herald.lines), 10,
                             herald.log())
        self.assertTrue(summaries, herald.log())
        self.assertIn("clients=127.0.0.1", summaries[0])
        self.assertRegex(summaries[0], r"evicted=\d+")
        # One line per interval, not one per connection.
        self.assertLessEqual(len(summaries), 3, "\n".join(summaries))

    def test_slow_bodies_cannot_take_every_slot(self):
        self.flood(b"POST /v1/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                   b"Content-Length: 100000\r\n\r\n", b"x")

    def assert_cut_off(self, config, head, drip):
        """A client that sends HEAD, then DRIP every 0.3 s (never idle, never done), is
        cut off by the deadline CONFIG sets to 1 s, well before connection_timeout."""
        herald = Herald(config="[server]\n%s = 1s\nconnection_timeout = 30s\n" % config)
        self.addCleanup(herald.cleanup)
        herald.start()
        with socket.create_connection(("127.0.0.1", herald.port), timeout=10) as slow:
            slow.sendall(head)
            started = time.monotonic()
            try:
                while True:
                    slow.sendall(drip)
                    slow.settimeout(0.3)
                    try:
                        if slow.recv(100) == b"":
                            break
                    except socket.timeout:
                        pass
                    self.assertLess(time.monotonic() - started, 5, "never cut off")
            except (BrokenPipeError, ConnectionResetError):
                pass
        self.assertGreaterEqual(time.monotonic() - started, 0.9)
        self.assertEqual(herald.request("GET", "/healthz")[0], 200)
        herald.stop()

    def test_a_head_must_arrive_within_header_timeout(self):
        self.assert_cut_off("header_timeout", b"GET /healthz HTTP/1.1\r\n", b"X-Slow: 1\r\n")

    def test_a_body_must_arrive_within_body_timeout(self):
        self.assert_cut_off("body_timeout", b"POST /v1/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                            b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n",
                            b" ")


if __name__ == "__main__":
    unittest.main()
