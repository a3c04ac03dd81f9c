"""POST/GET /v1/tasks through the real heraldd: every status code and rule."""
import json
import re
import unittest

from harness import Herald, HeraldTestCase, closed_port_url, sink, task_request, wait_until

RFC3339_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


class TasksApiTest(HeraldTestCase, unittest.TestCase):

    def post(self, body=None, raw=None, headers=None, path="/v1/tasks", chunks=None):
        all_headers = {"Content-Type": "application/json"}
        all_headers.update(headers or {})
        return self.herald.request("POST", path, body=body, raw=raw, headers=all_headers,
                                   chunks=chunks)

    def assert_error(self, response, status, code, field=None):
        got_status, headers, body = response
        self.assertEqual(got_status, status, body)
        self.assertEqual(headers.get("content-type"), "application/json")
        self.assertEqual(body["error"]["code"], code, body)
        self.assertIsInstance(body["error"]["message"], str)
        self.assertEqual(body["error"].get("field"), field, body)

    def test_create_and_get(self):
        payload = {"order": "O-1", "amount": 10.5, "items": [1, 2]}
        status, _, body = self.post(task_request("CREATE-1", payload=payload,
                                                 headers={"X-Tenant": "shop-a"}, max_retry=8))
        self.assertEqual(status, 201, body)
        task = body["task"]
        self.assertNotIn("duplicate", body)
        self.assertEqual(task["business_id"], "CREATE-1")
        self.assertEqual(task["business_type"], "PAYMENT_SUCCESS")
        self.assertEqual(task["status"], "pending")
        self.assertEqual(task["attempts"], 0)
        self.assertEqual(task["max_retry"], 8)
        self.assertEqual(task["headers"], {"X-Tenant": "shop-a"})
        self.assertEqual(task["payload"], payload)
        self.assertIsNone(task["last_status_code"])
        self.assertIsNone(task["last_error"])
        self.assertIsNone(task["idempotency_key"])
        self.assertTrue(task["webhook_id"].startswith("msg_"))
        for key in ("created_at", "updated_at", "next_attempt_at"):
            self.assertRegex(task[key], RFC3339_MS)
        status, _, fetched = self.herald.request("GET", "/v1/tasks/%d" % task["id"])
        self.assertEqual(status, 200)
        # Delivery may already have moved it on; what was accepted does not change.
        moving = ("status", "attempts", "next_attempt_at", "updated_at", "last_status_code",
                  "last_error")
        # One task read by id also shows its trace (issue 27), which the answer to its
        # creation does not.
        trace = fetched["task"].pop("trace")
        self.assertRegex(trace["trace_id"], "^[0-9a-f]{32}$")
        self.assertRegex(trace["span_id"], "^[0-9a-f]{16}$")
        self.assertIs(trace["sampled"], True)
        self.assertEqual({k: v for k, v in fetched["task"].items() if k not in moving},
                         {k: v for k, v in task.items() if k not in moving})

    def test_payload_bytes_survive(self):
        raw = ('{"business_id":"BYTES-1","business_type":"T","target_url":"%s",'
               '"payload":{"id": 12345678901234567890, "amount": 10.10}}' % sink().url("/a"))
        status, _, body = self.post(raw=raw)
        self.assertEqual(status, 201, body)
        _, _, _ = self.herald.request("GET", "/v1/tasks/%d" % body["task"]["id"])
        # Read the raw text: json.loads would turn the numbers into floats.
        import http.client
        connection = http.client.HTTPConnection("127.0.0.1", self.herald.port, timeout=10)
        connection.request("GET", "/v1/tasks/%d" % body["task"]["id"])
        text = connection.getresponse().read().decode()
        connection.close()
        self.assertIn('"payload":{"id":12345678901234567890,"amount":10.10}', text)

    def test_string_payload(self):
        status, _, body = self.post(task_request("STRING-1", payload="a=1&b=2"))
        self.assertEqual(status, 201)
        self.assertEqual(body["task"]["payload"], "a=1&b=2")

    def test_duplicate_without_key(self):
        first = self.post(task_request("DUP-1"))
        again = self.post(task_request("DUP-1"))
        self.assertEqual(first[0], 201)
        self.assertEqual(again[0], 200)
        self.assertTrue(again[2]["duplicate"])
        self.assertEqual(again[2]["task"]["id"], first[2]["task"]["id"])
        # Changed content is no repeat: a conflict naming the task (test_identity).
        changed = self.post(task_request("DUP-1", payload={"changed": True}))
        self.assert_error(changed, 409, "dedup_conflict", "payload")
        self.assertEqual(changed[2]["error"]["task_id"], first[2]["task"]["id"])
        other_target = self.post(task_request("DUP-1", target_url=sink().url("/points")))
        self.assertEqual(other_target[0], 201)
        # A task sent with a key is not what a request without one repeats, and
        # the other way round: each kind of identity keeps to its own tasks.
        keyed = self.post(task_request("DUP-2", idempotency_key="dup-2"))
        self.assertEqual(keyed[0], 201)
        keyless = self.post(task_request("DUP-2"))
        self.assertEqual(keyless[0], 201)
        self.assertNotEqual(keyless[2]["task"]["id"], keyed[2]["task"]["id"])
        self.assertEqual(self.post(task_request("DUP-2"))[2]["task"]["id"],
                         keyless[2]["task"]["id"])

    def test_idempotency_key(self):
        first = self.post(task_request("IDEM-1", idempotency_key="idem-1"))
        self.assertEqual(first[0], 201)
        self.assertEqual(first[2]["task"]["idempotency_key"], "idem-1")
        again = self.post(task_request("IDEM-1", idempotency_key="idem-1"))
        self.assertEqual(again[0], 200)
        self.assertTrue(again[2]["duplicate"])
        self.assertEqual(again[2]["task"]["id"], first[2]["task"]["id"])
        via_header = self.post(task_request("IDEM-1"), headers={"Idempotency-Key": "idem-1"})
        self.assertEqual(via_header[0], 200)
        conflict = self.post(task_request("IDEM-OTHER", idempotency_key="idem-1"))
        self.assert_error(conflict, 409, "idempotency_conflict", "idempotency_key")
        header_conflict = self.post(task_request("IDEM-X", idempotency_key="a-key"),
                                    headers={"Idempotency-Key": "b-key"})
        self.assert_error(header_conflict, 422, "validation_failed", "idempotency_key")
        # "Did you ever send ...?": found by its key, through the API and heraldctl.
        status, _, body = self.herald.request("GET", "/v1/tasks?idempotency_key=idem-1")
        self.assertEqual((status, [t["id"] for t in body["tasks"]]),
                         (200, [first[2]["task"]["id"]]))
        status, _, body = self.herald.request("GET", "/v1/tasks?idempotency_key=never-sent")
        self.assertEqual((status, body["tasks"]), (200, []))
        status, _, body = self.herald.request(
            "GET", "/v1/tasks?idempotency_key=idem-1&business_type=OTHER_TYPE")
        self.assertEqual(body["tasks"], [])
        code, out, err = self.herald.ctl("--json", "tasks", "list", "--idempotency-key", "idem-1")
        self.assertEqual((code, [t["business_id"] for t in json.loads(out)["tasks"]]),
                         (0, ["IDEM-1"]), err)

    def test_invalid_json(self):
        self.assert_error(self.post(raw="{nope"), 400, "invalid_json")
        self.assert_error(self.post(raw="[1, 2]"), 400, "invalid_json")
        self.assert_error(self.post(raw=""), 400, "invalid_json")
        self.assert_error(self.post(raw=b'{"business_id":"\xff"}'), 400, "invalid_json")

    def test_unsupported_media_type(self):
        self.assert_error(self.post(raw="{}", headers={"Content-Type": "text/plain"}), 415,
                          "unsupported_media_type")
        status, _, _ = self.herald.request("POST", "/v1/tasks", raw="{}")
        self.assertEqual(status, 415)
        status, _, body = self.post(task_request("CT-1"),
                                    headers={"Content-Type": "application/json; charset=utf-8"})
        self.assertEqual(status, 201, body)

    def test_payload_too_large(self):
        big = task_request("BIG-1", payload="x" * (300 * 1024))
        self.assert_error(self.post(big), 413, "payload_too_large")
        import json
        data = json.dumps(big).encode()
        chunks = [data[i:i + 16384] for i in range(0, len(data), 16384)]
        self.assert_error(self.post(chunks=chunks), 413, "payload_too_large")
        status, _, _ = self.herald.request("GET", "/v1/tasks?business_id=BIG-1")
        self.assertEqual(status, 200)
        self.assertEqual(self.herald.request("GET", "/v1/tasks?business_id=BIG-1")[2]["tasks"], [])
        just_under = task_request("BIG-2", payload="x" * (200 * 1024))
        chunks = [json.dumps(just_under).encode()]
        self.assertEqual(self.post(chunks=chunks)[0], 201)

    def test_validation_names_the_field(self):
        cases = [
            ({"business_type": "T", "target_url": "http://a/", "payload": {}}, "business_id"),
            (task_request("V", business_type="has space"), "business_type"),
            (task_request("V", target_url="ftp://a/"), "target_url"),
            (task_request("V", target_url="/relative"), "target_url"),
            (task_request("V", payload=42), "payload"),
            (task_request("V", max_retry=0), "max_retry"),
            (task_request("V", max_retry=101), "max_retry"),
            (task_request("V", headers={"Host": "evil"}), "headers.Host"),
            (task_request("V", headers={"X-A": "a\r\nX-B: b"}), "headers.X-A"),
            (task_request("V", headers={"X-%d" % i: "v" for i in range(21)}), "headers"),
            (task_request("V" * 129), "business_id"),
            (task_request("V", idempotency_key="k" * 129), "idempotency_key"),
            (task_request("V", max_retries=3), "max_retries"),
        ]
        for body, field in cases:
            with self.subTest(field=field):
                self.assert_error(self.post(body), 422, "validation_failed", field)
        self.assertEqual(self.herald.request("GET", "/v1/tasks?business_id=V")[2]["tasks"], [])

    def test_not_found_and_method(self):
        self.assert_error(self.herald.request("GET", "/v1/nothing"), 404, "not_found")
        self.assert_error(self.herald.request("GET", "/v1/tasks/999999999"), 404, "not_found", "id")
        self.assert_error(self.herald.request("GET", "/v1/tasks/abc"), 404, "not_found", "id")
        response = self.herald.request("DELETE", "/v1/tasks")
        self.assert_error(response, 405, "method_not_allowed")
        self.assertIn("allow", response[1])
        self.assert_error(self.herald.request("PUT", "/v1/tasks/1"), 405, "method_not_allowed")

    def test_list_filters_and_pagination(self):
        created = []
        for i in range(5):
            # Nothing listens there: each task fails its first attempt and waits, pending.
            status, _, body = self.post(task_request("LIST-%d" % (i % 2), target_url=closed_port_url("/l%d" % i),
                                                     business_type="LIST_TYPE"))
            self.assertEqual(status, 201)
            created.append(body["task"]["id"])
        status, _, page = self.herald.request("GET", "/v1/tasks?business_type=LIST_TYPE&limit=2")
        self.assertEqual(status, 200)
        self.assertEqual([t["id"] for t in page["tasks"]], created[::-1][:2])
        seen = [t["id"] for t in page["tasks"]]
        while page["next_after"] is not None:
            status, _, page = self.herald.request(
                "GET", "/v1/tasks?business_type=LIST_TYPE&limit=2&after=%d" % page["next_after"])
            seen += [t["id"] for t in page["tasks"]]
        self.assertEqual(seen, created[::-1])
        _, _, by_id = self.herald.request("GET", "/v1/tasks?business_id=LIST-0&business_type=LIST_TYPE")
        self.assertEqual([t["id"] for t in by_id["tasks"]], [created[4], created[2], created[0]])
        for task_id in created:
            wait_until(lambda: self.herald.get_task(task_id)["attempts"] == 1 and
                       self.herald.get_task(task_id)["status"] == "pending",
                       message="task %d to fail its first attempt" % task_id)
        _, _, pending = self.herald.request("GET", "/v1/tasks?status=pending&business_type=LIST_TYPE")
        self.assertEqual(len(pending["tasks"]), 5)
        _, _, failed = self.herald.request("GET", "/v1/tasks?status=failed&business_type=LIST_TYPE")
        self.assertEqual(failed["tasks"], [])
        self.assertIsNone(failed["next_after"])
        for query, field in (("limit=0", "limit"), ("limit=501", "limit"), ("limit=x", "limit"),
                             ("after=-1", "after"), ("status=done", "status"),
                             ("business_type=a%20b", "business_type")):
            self.assert_error(self.herald.request("GET", "/v1/tasks?" + query), 400,
                              "invalid_parameter", field)

    def test_query_values_that_are_not_text_are_refused_alike(self):
        """Issue 23, items 4 and 5: a decoded query value (or name) with a NUL, or bytes
        that are not UTF-8, is the client's error on every route and backend: 400
        naming the parameter, never a search for what precedes the NUL, never 503."""
        bad = ("%ff", "%ff%fe", "a%00b", "%00", "%c0%af", "%ed%a0%80", "ok%e2%82")
        for path in ("/v1/tasks?business_id=", "/v1/tasks?idempotency_key=",
                     "/v1/tasks?business_type=", "/v1/manual?business_type=",
                     "/v1/manual?reason="):
            for value in bad:
                with self.subTest(path=path, value=value):
                    status, headers, body = self.herald.request("GET", path + value)
                    self.assert_error((status, headers, body), 400, "invalid_parameter",
                                      path.split("?")[1][:-1])
                    self.assertNotIn("retry-after", headers)
        for query in ("a%00b=1", "%ff=1"):
            status, headers, body = self.herald.request("GET", "/v1/tasks?" + query)
            self.assertEqual(status, 400, body)
            self.assertEqual(body["error"]["code"], "invalid_parameter")
        # Text that is UTF-8 is searched for as it is.
        status, _, body = self.herald.request("GET", "/v1/tasks?business_id=%c3%a9t%c3%a9")
        self.assertEqual(status, 200, body)

    def test_healthz(self):
        status, _, body = self.herald.request("GET", "/healthz")
        self.assertEqual(status, 200)
        self.assertEqual(body, {"status": "ok"})


if __name__ == "__main__":
    unittest.main()


class PolicyBudgetTest(HeraldTestCase, unittest.TestCase):
    herald_options = {"config": "[retry]\nmax_retry = 4\n[business.ORDER_UPDATE]\nmax_retry = 2\n"}

    def test_max_retry_comes_from_the_business_type(self):
        self.assertEqual(self.herald.create(business_id="B1", business_type="ORDER_UPDATE")[2]["task"]["max_retry"], 2)
        self.assertEqual(self.herald.create(business_id="B2", business_type="OTHER")[2]["task"]["max_retry"], 4)
        self.assertEqual(self.herald.create(business_id="B3", business_type="ORDER_UPDATE",
                                            max_retry=9)[2]["task"]["max_retry"], 9)
