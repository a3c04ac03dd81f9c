"""Request framing: every ambiguous or malformed head gets one clear answer and the
connection closed, so nothing hidden after it is read as a request (RFC 9112), and the
heads a server may take are taken. Raw bytes on a socket, through the real heraldd."""
import json
import socket
import unittest

from harness import HeraldTestCase, task_request


HIDDEN = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def exchange(port, raw, timeout=5):
    """Sends RAW on one connection to PORT; returns (everything read until EOF or a
    timeout, whether the server closed the connection)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(raw)
        data = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return data, True
                data += chunk
        except (socket.timeout, ConnectionResetError):
            return data, False


class SmugglingTest(HeraldTestCase, unittest.TestCase):
    """Item 9: every ambiguous framing (RFC 9112 sections 5.1, 6.1, 6.3) is refused
    and the connection closed, so a request hidden in a body is never answered."""

    HIDDEN = HIDDEN

    def exchange(self, raw, timeout=5):
        return exchange(self.herald.port, raw, timeout)

    def cases(self):
        task = json.dumps(task_request("SMUGGLED")).encode()
        chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(task), task)
        head = b"POST /v1/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        return {
            "CL then TE": head + b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n" % (
                len(chunked) + len(self.HIDDEN)) + chunked + self.HIDDEN,
            "TE then CL": head + b"Transfer-Encoding: chunked\r\nContent-Length: %d\r\n\r\n" % (
                len(chunked)) + chunked + self.HIDDEN,
            "CL twice": head + b"Content-Length: %d\r\nContent-Length: 0\r\n\r\n" % len(task)
                        + task + self.HIDDEN,
            "gzip, chunked": head + b"Transfer-Encoding: gzip, chunked\r\n\r\n" + chunked
                             + self.HIDDEN,
            "xchunked": head + b"Transfer-Encoding: xchunked\r\n\r\n" + chunked + self.HIDDEN,
            "TE twice": head + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + chunked + self.HIDDEN,
            "TE in HTTP/1.0": head.replace(b"HTTP/1.1", b"HTTP/1.0")
                              + b"Transfer-Encoding: chunked\r\n\r\n" + chunked,
            "space before colon": head + b"Content-Length: %d\r\nTransfer-Encoding : chunked\r\n\r\n"
                                  % len(task) + task + self.HIDDEN,
            "folded TE": head + b"Content-Length: %d\r\nTransfer-Encoding:\r\n chunked\r\n\r\n"
                         % len(task) + task + self.HIDDEN,
            "GET with both": b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n"
                             b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + self.HIDDEN,
        }

    def test_ambiguous_framing_is_refused_and_the_connection_closed(self):
        for name, raw in self.cases().items():
            with self.subTest(case=name):
                data, closed = self.exchange(raw)
                self.assertTrue(closed, (name, data))
                self.assertEqual(data.count(b"HTTP/1.1 "), 1, data)
                status = int(data.split(b" ", 2)[1])
                self.assertIn(status, (400, 501), data)
                self.assertIn(b"connection: close", data.lower())
                self.assertNotIn(b'"status":"ok"', data)
        status, _, body = self.herald.request("GET", "/v1/tasks?business_id=SMUGGLED")
        self.assertEqual(body["tasks"], [])

    def test_a_header_herald_reads_given_twice_is_refused(self):
        """Issue 23, item 6: a second Idempotency-Key (or Content-Type, Content-Encoding,
        Authorization) is refused with 400 naming it, never read as the first."""
        task = json.dumps(task_request("TWICE-HEADER")).encode()
        for name, first, second in (("Idempotency-Key", b"k-1", b"k-2"),
                                    ("Content-Type", b"application/json",
                                     b"application/json"),
                                    ("Content-Encoding", b"identity", b"identity"),
                                    ("Authorization", b"Bearer a", b"Bearer b")):
            with self.subTest(header=name):
                head = b"POST /v1/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                if name != "Content-Type":
                    head += b"Content-Type: application/json\r\n"
                raw = head + b"%s: %s\r\n%s: %s\r\nContent-Length: %d\r\n\r\n" % (
                    name.encode(), first, name.lower().encode(), second, len(task)) + task
                data, _ = self.exchange(raw)
                self.assertEqual(data.count(b"HTTP/1.1 "), 1, data)
                self.assertIn(b"HTTP/1.1 400", data)
                body = json.loads(data.split(b"\r\n\r\n", 1)[1])
                self.assertEqual(body["error"]["field"], name, body)
        status, _, body = self.herald.request("GET", "/v1/tasks?business_id=TWICE-HEADER")
        self.assertEqual(body["tasks"], [])

    def test_plain_framings_still_work_and_keep_the_connection(self):
        data, closed = self.exchange(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" + self.HIDDEN,
                                     timeout=1)
        self.assertFalse(closed)
        self.assertEqual(data.count(b"HTTP/1.1 200"), 2, data)
        status, _, body = self.herald.request(
            "POST", "/v1/tasks", chunks=[json.dumps(task_request("CHUNKED-OK")).encode()],
            headers={"Content-Type": "application/json"})
        self.assertEqual(status, 201, body)


class MalformedFramingTest(HeraldTestCase, unittest.TestCase):
    """Issue 23, items 8 and 6: every malformed request head gets exactly one
    well-formed response. libmicrohttpd 0.9.75 wrote its own 400 head twice for
    a Content-Length it could not read, and joined folded lines to the header's
    name; what herald refuses is refused with its JSON error and the connection
    closed, what libmicrohttpd refuses itself is one plain response, and what is
    taken (a bare LF) keeps the connection for the next request."""

    HIDDEN = HIDDEN

    def exchange(self, raw, timeout=5):
        return exchange(self.herald.port, raw, timeout)

    def response(self, data):
        """The first HTTP response in DATA, read strictly: one status line, a head of
        name: value lines, a body of exactly Content-Length bytes. Returns (status,
        headers with lower-case names, body, the bytes after it)."""
        head, separator, rest = data.partition(b"\r\n\r\n")
        self.assertTrue(separator, data)
        lines = head.split(b"\r\n")
        version, status, _ = lines[0].split(b" ", 2)
        self.assertEqual(version, b"HTTP/1.1", data)
        headers = {}
        for line in lines[1:]:
            name, colon, value = line.partition(b":")
            self.assertTrue(colon and name.strip() == name and name, data)
            self.assertNotIn(name.lower(), headers, data)
            headers[name.lower()] = value.strip()
        length = int(headers[b"content-length"])
        self.assertGreaterEqual(len(rest), length, data)
        return int(status), headers, rest[:length], rest[length:]

    def task(self, business_id):
        return json.dumps(task_request(business_id)).encode()

    def refused_by_herald(self):
        """Heads herald refuses: (raw, status, code)."""
        task = self.task("FRAMING-REFUSED")
        head = b"POST /v1/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        cases = {}
        for value in (b"abc", b"90, 90", b"+90", b"-1", b"0x10", b"", b"1e3", b" ",
                      b"%d, %d" % (len(task), len(task)), b"%d;" % len(task)):
            cases["Content-Length: " + value.decode()] = (
                head + b"Content-Length: " + value + b"\r\n\r\n" + task + self.HIDDEN,
                400, "bad_request")
        cases["Content-Length past 2^64"] = (
            head + b"Content-Length: 99999999999999999999999\r\n\r\n" + task + self.HIDDEN,
            413, "payload_too_large")
        with_length = b"Content-Length: %d\r\n" % len(task)
        for name, lines in (
                ("folded X-A", b"X-A: b\r\n c\r\n"),
                ("folded with a tab", b"X-A: b\r\n\tc\r\n"),
                ("folded three lines", b"X-A: b\r\n c\r\n d\r\n"),
                ("folded Idempotency-Key", b"Idempotency-Key:\r\n k-1\r\n"),
                ("folded Authorization", b"Authorization: Bearer\r\n t\r\n"),
                ("NUL in a value", b"X-A: a\x00b\r\n"),
                ("NUL ending a value", b"X-A: a\x00\r\n"),
                ("NUL in Idempotency-Key", b"Idempotency-Key: k\x00-2\r\n"),
                ("bare CR in a value", b"X-A: a\rContent-Length: 0\r\n"),
                ("space before the colon", b"X-A : b\r\n")):
            cases[name] = (head + lines + with_length + b"\r\n" + task + self.HIDDEN, 400,
                           "bad_request")
        cases["folded last line"] = (head + with_length + b"X-A: b\r\n c\r\n\r\n" + task
                                     + self.HIDDEN, 400, "bad_request")
        cases["NUL in the last line"] = (head + with_length + b"X-A: a\x00b\r\n\r\n" + task
                                         + self.HIDDEN, 400, "bad_request")
        cases["folded on GET"] = (b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: b\r\n c\r\n\r\n"
                                  + self.HIDDEN, 400, "bad_request")
        return cases

    def refused_by_libmicrohttpd(self):
        """Heads libmicrohttpd refuses before herald sees them: (raw, statuses)."""
        task = self.task("FRAMING-MHD")
        head = b"POST /v1/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        chunked = head + b"Transfer-Encoding: chunked\r\n\r\n"
        return {
            "line without a colon": (head + b"X-A b\r\n\r\n" + self.HIDDEN, (400,)),
            "header line too long": (head + b"X-A: " + b"a" * 40000 + b"\r\n\r\n", (431,)),
            "chunk size not hex": (chunked + b"zz\r\n" + task + b"\r\n0\r\n\r\n" + self.HIDDEN,
                                   (400,)),
            "chunk size too large": (chunked + b"f" * 20 + b"\r\n" + task + b"\r\n0\r\n\r\n"
                                     + self.HIDDEN, (413, 400)),
            "unknown HTTP version": (b"GET /healthz HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n" + self.HIDDEN,
                                     (505,)),
        }

    def assert_refused(self, raw, statuses, code=None):
        data, closed = self.exchange(raw)
        status, headers, body, after = self.response(data)
        self.assertIn(status, statuses, data)
        self.assertEqual(after, b"", data)  # one response, nothing after it
        self.assertEqual(headers.get(b"connection", b"").lower(), b"close", data)
        self.assertTrue(closed, data)
        if code is not None:
            self.assertEqual(json.loads(body)["error"]["code"], code, data)

    def test_heads_herald_refuses_get_one_json_error_and_the_connection_closed(self):
        for name, (raw, status, code) in self.refused_by_herald().items():
            with self.subTest(case=name):
                self.assert_refused(raw, (status,), code)
        status, _, body = self.herald.request("GET", "/v1/tasks?business_id=FRAMING-REFUSED")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["tasks"], [])

    def test_each_malformed_line_is_named_for_what_it_is(self):
        """Item 6: a folded line is refused as folded (its joined name is not the
        client's, so no field); a NUL or a bare CR names its header."""
        task = self.task("FRAMING-REFUSED")
        head = b"POST /v1/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        tail = b"Content-Length: %d\r\n\r\n" % len(task) + task
        for lines, text, field in ((b"Idempotency-Key:\r\n k-1\r\n", "folded", None),
                                   (b"Transfer-Encoding:\r\n chunked\r\n", "folded", None),
                                   (b"X-A: a\x00b\r\n", "NUL", "X-A"),
                                   (b"X-A: a\rb\r\n", "CR", "X-A")):
            with self.subTest(lines=lines):
                data, _ = self.exchange(head + lines + tail)
                _, _, body, _ = self.response(data)
                error = json.loads(body)["error"]
                self.assertIn(text, error["message"])
                self.assertEqual(error["field"], field, error)

    def test_heads_libmicrohttpd_refuses_get_one_response_and_the_connection_closed(self):
        for name, (raw, statuses) in self.refused_by_libmicrohttpd().items():
            with self.subTest(case=name):
                self.assert_refused(raw, statuses)
        status, _, body = self.herald.request("GET", "/v1/tasks?business_id=FRAMING-MHD")
        self.assertEqual(body["tasks"], [])

    def test_heads_taken_as_sent_keep_the_connection(self):
        """A bare LF ending a line (RFC 9112 section 2.2 lets a server take it), empty
        and blank values, spaces and tabs around a value: one answer each, and the
        next request on the connection is answered too."""
        task = self.task("FRAMING-TAKEN")
        cases = {
            "bare LF": b"POST /v1/tasks HTTP/1.1\nHost: 127.0.0.1\nContent-Type: application/json\n"
                       b"Content-Length: %d\n\n" % len(task) + task,
            "empty and blank values": b"POST /v1/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A:\r\nX-B: \r\n"
                                      b"X-C:\t v \t\r\nContent-Type:application/json\r\n"
                                      b"Content-Length: %d\r\n\r\n" % len(task) + task,
            "Content-Length with leading zeros": b"POST /v1/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                                 b"Content-Type: application/json\r\n"
                                                 b"Content-Length: 000%d\r\n\r\n" % len(task)
                                                 + task,
            # a value's trailing whitespace is not part of it (RFC 9110 section 5.5)
            "Content-Length with trailing whitespace": b"POST /v1/tasks HTTP/1.1\r\n"
                                                       b"Host: 127.0.0.1 \r\n"
                                                       b"Content-Type: application/json\r\n"
                                                       b"Content-Length: %d \t\r\n\r\n"
                                                       % len(task) + task,
        }
        then_close = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        for name, raw in cases.items():
            with self.subTest(case=name):
                data, closed = self.exchange(raw + then_close)
                self.assertTrue(closed, data)
                status, headers, body, after = self.response(data)
                self.assertIn(status, (200, 201), data)
                self.assertNotEqual(headers.get(b"connection", b"").lower(), b"close", data)
                status, _, body, after = self.response(after)
                self.assertEqual((status, body), (200, b'{"status":"ok"}\n'), data)
                self.assertEqual(after, b"", data)
        status, _, body = self.herald.request("GET", "/v1/tasks?business_id=FRAMING-TAKEN")
        self.assertEqual(len(body["tasks"]), 1, body)
