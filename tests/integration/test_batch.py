"""POST /v1/tasks/batch: all or nothing, in request order."""
import unittest

from harness import Herald, HeraldTestCase, sink, task_request


class BatchTest(HeraldTestCase, unittest.TestCase):

    def batch(self, tasks):
        return self.herald.request("POST", "/v1/tasks/batch", body={"tasks": tasks})

    def count(self, business_id):
        _, _, body = self.herald.request("GET", "/v1/tasks?limit=500&business_id=" + business_id)
        return len(body["tasks"])

    def test_fan_out_in_order(self):
        targets = [sink().url("/order"), sink().url("/inventory"), sink().url("/points")]
        status, _, body = self.batch([task_request("FAN-1", target_url=t) for t in targets])
        self.assertEqual(status, 201, body)
        self.assertEqual([t["target_url"] for t in body["tasks"]], targets)
        self.assertTrue(all("duplicate" not in t for t in body["tasks"]))
        ids = [t["id"] for t in body["tasks"]]
        self.assertEqual(ids, sorted(ids))
        self.assertEqual(self.count("FAN-1"), 3)

    def test_duplicates_inside_are_flagged(self):
        status, _, first = self.batch([task_request("BDUP-1")])
        self.assertEqual(status, 201)
        status, _, body = self.batch([task_request("BDUP-1"), task_request("BDUP-2"),
                                      task_request("BDUP-2")])
        self.assertEqual(status, 201, body)
        self.assertEqual([t.get("duplicate", False) for t in body["tasks"]], [True, False, True])
        self.assertEqual(body["tasks"][0]["id"], first["tasks"][0]["id"])
        self.assertEqual(body["tasks"][1]["id"], body["tasks"][2]["id"])
        status, _, body = self.batch([task_request("BDUP-1")])
        self.assertEqual(status, 200, "a batch of only duplicates creates nothing")

    def test_one_bad_element_commits_nothing(self):
        tasks = [task_request("ATOM-%d" % i) for i in range(5)]
        tasks[3]["target_url"] = "not a url"
        status, _, body = self.batch(tasks)
        self.assertEqual(status, 422, body)
        self.assertEqual(body["error"]["field"], "tasks[3].target_url")
        for i in range(5):
            self.assertEqual(self.count("ATOM-%d" % i), 0)

    def test_conflict_inside_commits_nothing(self):
        status, _, _ = self.herald.create(business_id="KEYED", idempotency_key="batch-key")
        self.assertEqual(status, 201)
        tasks = [task_request("CONF-0"), task_request("CONF-1", idempotency_key="batch-key")]
        status, _, body = self.batch(tasks)
        self.assertEqual(status, 409, body)
        self.assertEqual(body["error"]["code"], "idempotency_conflict")
        self.assertEqual(body["error"]["field"], "tasks[1].idempotency_key")
        self.assertEqual(self.count("CONF-0"), 0)

    def test_envelope_rules(self):
        for body, field in (({"tasks": []}, "tasks"), ({"tasks": {}}, "tasks"), ({}, "tasks"),
                            ({"tasks": [task_request("E")], "extra": 1}, "extra"),
                            ({"tasks": [task_request("E")] * 1001}, "tasks"),
                            ({"tasks": [1]}, "tasks[0]")):
            with self.subTest(field=field):
                status, _, answer = self.herald.request("POST", "/v1/tasks/batch", body=body)
                self.assertEqual(status, 422, answer)
                self.assertEqual(answer["error"]["field"], field)

    def test_thousand_tasks(self):
        tasks = [task_request("THOUSAND", target_url=sink().url("/t%d" % i), payload="p")
                 for i in range(1000)]
        status, _, body = self.batch(tasks)
        self.assertEqual(status, 201)
        self.assertEqual(len(body["tasks"]), 1000)
        self.assertEqual(len({t["id"] for t in body["tasks"]}), 1000)


if __name__ == "__main__":
    unittest.main()
