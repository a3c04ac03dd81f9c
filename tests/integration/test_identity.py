"""A task's identity through the real heraldd (issue 23 item 3).

Without an idempotency key a request repeats the task of the same business_type,
business_id and target_url; the URL is compared in its normal form (RFC 3986
6.2.2-6.2.3), so every spelling of one URL is one task and one receiver, while the
task keeps and is delivered to the URL as the client wrote it. A repeat whose
content differs (payload, headers, max_retry: what an Idempotency-Key's comparison
covers) is a 409 dedup_conflict naming the stored task, never a 200 that drops the
change; a reused key's 409 names its task too.
"""
import unittest

from harness import HeraldTestCase, Receiver, task_request, wait_until


class IdentityTest(HeraldTestCase, unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.receiver = Receiver()

    @classmethod
    def tearDownClass(cls):
        cls.receiver.close()
        super().tearDownClass()

    def post(self, body, path="/v1/tasks", headers=None):
        all_headers = {"Content-Type": "application/json"}
        all_headers.update(headers or {})
        return self.herald.request("POST", path, body=body, headers=all_headers)

    def assert_conflict(self, response, code, field, task_id):
        status, _, body = response
        self.assertEqual(status, 409, body)
        error = body["error"]
        self.assertEqual((error["code"], error["field"]), (code, field), body)
        self.assertEqual(error.get("task_id"), task_id, body)
        if task_id is not None:
            self.assertIn("task %d" % task_id, error["message"])

    def tasks_of(self, business_id):
        status, _, body = self.herald.request("GET", "/v1/tasks?business_id=" + business_id)
        self.assertEqual(status, 200, body)
        return body["tasks"]

    def test_spellings_of_one_url_are_one_task(self):
        port = self.receiver.port
        first = "http://localhost:%d/hooks/a~b" % port
        spellings = [
            "HTTP://LocalHost:%d/hooks/a~b" % port,           # case of scheme and host
            "http://localhost:%d/hooks/a%%7eb" % port,        # an unreserved character encoded
            "http://localhost:%d/hooks/a%%7Eb" % port,        # ... in upper case
            "http://localhost:%d/hooks/%%61~b" % port,        # a letter encoded
            "http://localhost:%d/x/../hooks/./a~b" % port,    # dot segments
            "http://localhost:%d/x/%%2E%%2e/hooks/a~b" % port,  # encoded dot segments
            "http://localhost:0%d/hooks/a~b" % port,          # the port with a leading zero
            "http://localhost:%d/hooks/a~b#section" % port,   # a fragment, never sent
            "http://localhost:%d/hooks/a~b#" % port,          # an empty one
        ]
        status, _, body = self.post(task_request("SPELL-1", target_url=first))
        self.assertEqual(status, 201, body)
        task_id = body["task"]["id"]
        for url in spellings:
            status, _, body = self.post(task_request("SPELL-1", target_url=url))
            self.assertEqual((status, body.get("duplicate"), body["task"]["id"]),
                             (200, True, task_id), url)
        # The same in a batch, each element alone and together.
        status, _, body = self.post({"tasks": [task_request("SPELL-1", target_url=url)
                                               for url in spellings]}, path="/v1/tasks/batch")
        self.assertEqual(status, 200, body)
        self.assertEqual({t["id"] for t in body["tasks"]}, {task_id})
        self.assertEqual([t["id"] for t in self.tasks_of("SPELL-1")], [task_id])
        # Delivered once, to the URL as it was written.
        self.herald.wait_for_status(task_id, "succeeded")
        got = [r for r in self.receiver.received() if r.headers.get("x-business-id") == "SPELL-1"]
        self.assertEqual([r.path for r in got], ["/hooks/a~b"])
        self.assertEqual(self.herald.get_task(task_id)["target_url"], first)

    def test_a_url_kept_as_written(self):
        """herald stores and shows the URL the client sent, not its normal form."""
        url = "HTTP://LOCALHOST:%d/Kept/%%7e/./x" % self.receiver.port
        status, _, body = self.post(task_request("KEPT-1", target_url=url))
        self.assertEqual(status, 201, body)
        self.assertEqual(body["task"]["target_url"], url)
        self.assertEqual(self.herald.get_task(body["task"]["id"])["target_url"], url)

    def test_different_urls_stay_different(self):
        port = self.receiver.port
        base = "http://localhost:%d" % port
        urls = [base + "/distinct/path", base + "/distinct/PATH",
                base + "/distinct/path?a=1", base + "/distinct/path?a=2",
                base + "/distinct/a%2Fb", base + "/distinct/a/b",
                "http://127.0.0.1:%d/distinct/path" % port]
        ids = set()
        for url in urls:
            status, _, body = self.post(task_request("DISTINCT-1", target_url=url))
            self.assertEqual(status, 201, (url, body))
            ids.add(body["task"]["id"])
        self.assertEqual(len(ids), len(urls))

    def test_spellings_of_one_receiver_are_one_receiver(self):
        """Per-host limits and GET /v1/receivers take scheme://host:port in its normal
        form: a host's case, a default port written or not, and an IPv6 address's
        spellings are one receiver. Nothing listens on these (the attempts fail), so
        each receiver stays listed with work or failures."""
        spellings = ["http://herald-identity.invalid/r1", "HTTP://HERALD-identity.INVALID:80/r2",
                     "http://herald-identity.invalid:080/r3"]
        ipv6 = ["http://[0:0::1]:9/r4", "http://[0000:0000:0000:0000:0000:0000:0000:0001]:9/r5",
                "http://[::1]:9/r6"]
        for n, url in enumerate(spellings + ipv6):
            status, _, body = self.post(task_request("RECV-%d" % n, target_url=url))
            self.assertEqual(status, 201, (url, body))

        def receivers():
            status, _, body = self.herald.request("GET", "/v1/receivers")
            self.assertEqual(status, 200, body)
            return [r["receiver"] for r in body["receivers"]]
        listed = receivers()
        self.assertEqual([r for r in listed if "identity.invalid" in r.lower()],
                         ["http://herald-identity.invalid:80"], listed)
        self.assertEqual([r for r in listed if r.startswith("http://[")], ["http://[::1]:9"],
                         listed)

    def test_a_changed_repeat_is_a_conflict(self):
        url = "http://localhost:%d/changed" % self.receiver.port
        status, _, body = self.post(task_request("CHANGED-1", target_url=url, payload={"a": 1},
                                                 headers={"X-T": "1"}, max_retry=4))
        self.assertEqual(status, 201, body)
        task_id = body["task"]["id"]
        same = task_request("CHANGED-1", target_url=url.upper().replace("/CHANGED", "/changed"),
                            payload={"a": 1}, headers={"X-T": "1"}, max_retry=4)
        status, _, body = self.post(same)
        self.assertEqual((status, body["task"]["id"]), (200, task_id), body)
        for change, field in (({"payload": {"a": 2}}, "payload"),
                              ({"payload": "{\"a\":1}"}, "payload"),  # a string, not JSON
                              ({"headers": {"X-T": "2"}}, "headers"),
                              ({"headers": {}}, "headers"),
                              ({"max_retry": 5}, "max_retry")):
            changed = dict(same, **change)
            self.assert_conflict(self.post(changed), "dedup_conflict", field, task_id)
        # Without max_retry the business type's policy decides: another request too.
        changed = dict(same)
        del changed["max_retry"]
        self.assert_conflict(self.post(changed), "dedup_conflict", "max_retry", task_id)
        # A batch is all or nothing: its new task is not stored either.
        batch = {"tasks": [task_request("CHANGED-NEW", target_url=url),
                           dict(same, payload={"a": 3})]}
        self.assert_conflict(self.post(batch, path="/v1/tasks/batch"), "dedup_conflict",
                             "tasks[1].payload", task_id)
        self.assertEqual(self.tasks_of("CHANGED-NEW"), [])
        # Two elements of one batch: the answer names the earlier one (never stored).
        status, _, body = self.post({"tasks": [task_request("CHANGED-2", target_url=url),
                                               task_request("CHANGED-2", target_url=url,
                                                            payload={"other": True})]},
                                    path="/v1/tasks/batch")
        self.assert_conflict((status, None, body), "dedup_conflict", "tasks[1].payload", None)
        self.assertIn("tasks[0]", body["error"]["message"])
        self.assertEqual(self.tasks_of("CHANGED-2"), [])
        # What changed was never sent; the task as stored was, once.
        self.herald.wait_for_status(task_id, "succeeded")
        got = [r for r in self.receiver.received() if r.headers.get("x-business-id") == "CHANGED-1"]
        self.assertEqual([r.body for r in got], [b'{"a":1}'])

    def test_whitespace_is_no_change(self):
        """The payload is compared as stored: whitespace between JSON tokens is not kept,
        so it changes nothing."""
        url = "http://localhost:%d/spaces" % self.receiver.port
        raw = ('{"business_id":"SPACES-1","business_type":"PAYMENT_SUCCESS",'
               '"target_url":"%s","payload":%s}')
        status, _, first = self.herald.request("POST", "/v1/tasks",
                                               raw=raw % (url, '{"a":[1,2]}'),
                                               headers={"Content-Type": "application/json"})
        self.assertEqual(status, 201, first)
        status, _, again = self.herald.request("POST", "/v1/tasks",
                                               raw=raw % (url, '{ "a" : [ 1 , 2 ] }'),
                                               headers={"Content-Type": "application/json"})
        self.assertEqual((status, again["task"]["id"]), (200, first["task"]["id"]), again)

    def test_a_reused_key_names_its_task(self):
        url = "http://localhost:%d/keyed" % self.receiver.port
        status, _, body = self.post(task_request("KEYED-1", target_url=url,
                                                 idempotency_key="identity-key-1"))
        self.assertEqual(status, 201, body)
        task_id = body["task"]["id"]
        # The same request with its URL spelled otherwise is the same request.
        status, _, body = self.post(task_request(
            "KEYED-1", target_url="http://LOCALHOST:%d/./keyed" % self.receiver.port,
            idempotency_key="identity-key-1"))
        self.assertEqual((status, body["task"]["id"]), (200, task_id), body)
        self.assert_conflict(self.post(task_request("KEYED-1", target_url=url,
                                                    idempotency_key="identity-key-1",
                                                    payload={"other": 1})),
                             "idempotency_conflict", "idempotency_key", task_id)
        self.assert_conflict(self.post({"tasks": [task_request("KEYED-2", target_url=url),
                                                  task_request("KEYED-3", target_url=url,
                                                               idempotency_key="identity-key-1")]},
                                       path="/v1/tasks/batch"),
                             "idempotency_conflict", "tasks[1].idempotency_key", task_id)

    def test_a_task_stored_before_normalisation_is_still_repeated(self):
        """A task stored by an earlier herald is known by its URL as written (no
        normal form beside it): the same request again finds it, on both backends
        (PostgreSQL's insert looks for it; its unique index knows only normal forms)."""
        url = "http://LOCALHOST:%d/legacy/%%7e" % self.receiver.port
        status, _, body = self.post(task_request("LEGACY-1", target_url=url))
        self.assertEqual(status, 201, body)
        task_id = body["task"]["id"]
        self.herald.db.execute("UPDATE tasks SET dedup_url = NULL WHERE id = ?", task_id)
        for attempt in range(2):
            status, _, body = self.post(task_request("LEGACY-1", target_url=url))
            self.assertEqual((status, body["task"]["id"]), (200, task_id), body)
        status, _, body = self.post({"tasks": [task_request("LEGACY-1", target_url=url)]},
                                    path="/v1/tasks/batch")
        self.assertEqual((status, body["tasks"][0]["id"]), (200, task_id), body)
        self.assertEqual(len(self.tasks_of("LEGACY-1")), 1)


if __name__ == "__main__":
    unittest.main()
