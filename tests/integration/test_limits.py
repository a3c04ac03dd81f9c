"""Every intake limit gives a clear 4xx (or a closed connection) through the real heraldd,
and none of them can exhaust it."""
import json
import socket
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
                                 b" HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
        self.assertIn("414", status)

    def test_large_headers_get_431(self):
        status, _ = raw_exchange(self.herald.port, b"GET /healthz HTTP/1.1\r\nHost: h\r\nX-Big: " +
                                 b"a" * 20000 + b"\r\nConnection: close\r\n\r\n")
        self.assertIn("431", status)
        many = b"".join(b"X-H%d: v\r\n" % i for i in range(3000))
        status, _ = raw_exchange(self.herald.port, b"GET /healthz HTTP/1.1\r\nHost: h\r\n" + many +
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

    def test_connections_beyond_the_limit_wait_their_turn(self):
        herald = self.start("max_connections = 4\nconnection_timeout = 30s\n")
        held = [socket.create_connection(("127.0.0.1", herald.port), timeout=5) for _ in range(4)]
        for connection in held:  # make sure each is accepted and counted
            connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n")
            self.assertIn(b"200 OK", connection.recv(200))
        # The fifth is not accepted while the four are open: it waits in the backlog.
        extra = socket.create_connection(("127.0.0.1", herald.port), timeout=1)
        extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
        with self.assertRaises(socket.timeout):
            extra.recv(100)
        held[0].close()  # one slot frees: the waiting client is served
        extra.settimeout(10)
        self.assertIn(b"200 OK", extra.recv(200))
        extra.close()
        for connection in held[1:]:
            connection.close()
        herald.stop()

    def test_slow_clients_are_cut_off(self):
        herald = self.start("connection_timeout = 1s\n")
        slow = socket.create_connection(("127.0.0.1", herald.port), timeout=10)
        slow.sendall(b"POST /v1/tasks HTTP/1.1\r\nHost: h\r\n")  # and then nothing
        started = time.monotonic()
        self.assertEqual(slow.recv(100), b"")  # closed by heraldd
        self.assertLess(time.monotonic() - started, 5.0)
        slow.close()
        self.assertEqual(herald.request("GET", "/healthz")[0], 200)
        herald.stop()


if __name__ == "__main__":
    unittest.main()
