"""A stop while PostgreSQL is down loses nothing and ends in bounded time (issue 21,
item 9; written by the adversarial review).

Requests are in flight when the server crashes (pg_ctl stop -m immediate) and heraldd
is asked to stop. Their outcomes cannot be written: the stop retries them up to its
deadline, logs the tasks it could not record (event=outcomes_unwritten) and exits 0.
Once the server is back, the next heraldd delivers every task (those logged again,
with the same webhook-id): none is lost, none sent more than twice.
"""
import signal
import threading
import time
import unittest

import database
from campaign.world import Cluster
from harness import Herald, Receiver, wait_until

CONFIG = """[storage]
statement_timeout = 5s
[delivery]
timeout = 3s
connect_timeout = 1s
lease_sweep_interval = 200ms
per_host_concurrency = 8
[retry]
max_retry = 5
base_delay = 200ms
max_delay = 1s
jitter = 0
"""
TASKS = 12


@unittest.skipUnless(database.BACKEND == "postgresql", "a server of its own to crash")
class StopWhileDatabaseDownTest(unittest.TestCase):
    def test_a_stop_while_postgresql_is_down_loses_nothing(self):
        cluster = Cluster()
        self.addCleanup(cluster.stop)
        db = cluster.database()
        seen = {}
        lock = threading.Lock()
        gate = threading.Event()

        def respond(received):
            with lock:
                seen.setdefault(received.headers.get("webhook-id"), []).append(time.monotonic())
            gate.wait(1.5)
            return (200, {}, b"ok")
        receiver = Receiver(respond)
        self.addCleanup(receiver.close)
        herald = Herald(db=db, config=CONFIG)
        self.addCleanup(herald.cleanup)
        herald.start()
        for i in range(TASKS):
            status, _, body = herald.create(business_id="STOP-%d" % i, target_url=receiver.url())
            self.assertEqual(status, 201, body)
        receiver.wait_for(8, timeout=10)
        cluster.action("crash")
        started = time.monotonic()
        herald.process.send_signal(signal.SIGTERM)
        code = herald.process.wait(60)
        took = time.monotonic() - started
        herald._reader.join(5)
        log = herald.log()
        herald.process = None
        self.assertEqual(code, 0, log)
        self.assertLess(took, 30, log)
        self.assertIn("event=outcomes_unwritten", log)
        cluster.action("up")
        gate.set()
        again = Herald(db=db, config=CONFIG)
        self.addCleanup(again.cleanup)
        again.start()
        wait_until(lambda: db.query("SELECT count(*) FROM tasks WHERE status = 'succeeded'")
                   == [(TASKS,)] or None, timeout=60, message="every task delivered")
        self.assertEqual({k: len(v) for k, v in seen.items() if len(v) > 2}, {},
                         "delivered more than twice")
        self.assertEqual(db.query("SELECT count(*) FROM (SELECT task_id, attempt FROM attempts"
                                  " GROUP BY task_id, attempt HAVING count(*) > 1) AS twice"),
                         [(0,)])
        again.stop()


if __name__ == "__main__":
    unittest.main()
