"""What a 201 promises: the task is stored, across restarts, crashes and load,
and nothing is stored behind an error."""
import threading
import unittest
from concurrent.futures import ThreadPoolExecutor

from harness import Herald, task_request


def stored_ids(herald):
    return {row[0] for row in herald.db.query("SELECT id FROM tasks")}


class DurabilityTest(unittest.TestCase):
    def setUp(self):
        self.herald = Herald()
        self.herald.start()

    def tearDown(self):
        self.herald.cleanup()

    def test_restart_keeps_every_task(self):
        ids = []
        for i in range(50):
            status, _, body = self.herald.create(business_id="RESTART-%d" % i)
            self.assertEqual(status, 201)
            ids.append(body["task"]["id"])
        self.herald.stop()
        self.herald.start()
        for task_id in ids:
            status, _, body = self.herald.request("GET", "/v1/tasks/%d" % task_id)
            self.assertEqual(status, 200)
        # Deduplication also holds across the restart.
        status, _, body = self.herald.create(business_id="RESTART-0")
        self.assertEqual(status, 200)
        self.assertEqual(body["task"]["id"], ids[0])
        self.herald.stop()

    def test_kill_9_loses_no_acknowledged_task(self):
        acknowledged = []
        for i in range(30):
            status, _, body = self.herald.create(business_id="KILL-%d" % i)
            self.assertEqual(status, 201)
            acknowledged.append(body["task"]["id"])
        self.herald.kill()
        self.assertTrue(set(acknowledged) <= stored_ids(self.herald))
        self.herald.start()
        for task_id in acknowledged:
            self.assertEqual(self.herald.request("GET", "/v1/tasks/%d" % task_id)[0], 200)
        self.herald.stop()

    def test_hundreds_of_concurrent_requests(self):
        clients, per_client = 200, 5
        # Each client opens a connection per request: under load heraldd may not yet
        # have seen the last one close when the next arrives, and this test is about
        # durability, not the per-address limit (test_limits has that).
        self.herald.stop()
        self.herald.cleanup()
        self.herald = Herald(config="[server]\nmax_connections_per_ip = 1024\n")
        self.herald.start()

        def client(index):
            got = []
            for j in range(per_client):
                status, _, body = self.herald.request(
                    "POST", "/v1/tasks", body=task_request("CONC-%d-%d" % (index, j)))
                got.append((status, body["task"]["id"] if status == 201 else None))
            return got

        barrier = threading.Barrier(clients)

        def start_together(index):
            barrier.wait(30)
            return client(index)

        with ThreadPoolExecutor(max_workers=clients) as pool:
            results = [r for chunk in pool.map(start_together, range(clients)) for r in chunk]
        statuses = {status for status, _ in results}
        self.assertEqual(statuses, {201})
        ids = {task_id for _, task_id in results}
        self.assertEqual(len(ids), clients * per_client)
        self.herald.stop()
        self.assertEqual(stored_ids(self.herald), ids)

    def test_locked_database_gives_503_and_stores_nothing(self):
        self.herald.stop()
        self.herald = Herald(config="busy_timeout = 200ms\n")
        self.herald.start()
        release = self.herald.db.lock()
        try:
            status, headers, body = self.herald.create(business_id="LOCKED-1")
            self.assertEqual(status, 503, body)
            self.assertEqual(body["error"]["code"], "unavailable")
            self.assertIn("retry-after", headers)
            status, _, body = self.herald.request("POST", "/v1/tasks/batch",
                                                  body={"tasks": [task_request("LOCKED-2")]})
            self.assertEqual(status, 503)
        finally:
            release()
        # Nothing was committed behind the 503: the same request now creates the task.
        status, _, body = self.herald.create(business_id="LOCKED-1")
        self.assertEqual(status, 201, body)
        self.assertNotIn("duplicate", body)
        self.assertEqual(self.herald.request("GET", "/v1/tasks?business_id=LOCKED-2")[2]["tasks"], [])
        self.herald.stop()


if __name__ == "__main__":
    unittest.main()
