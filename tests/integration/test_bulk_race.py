"""A bulk repair acts on the entries it listed, never on a newer failure of one of their
tasks (issue 21, item 12; found by the adversarial review).

Two heraldd, one PostgreSQL database. T1 and T2 are answered 410 and wait in manual
handling (entries E1, E2a). A test session locks E1's row, so A's bulk retry ("all",
listing E1 and E2a) waits inside its chunk; meanwhile B retries T2 alone, which is
answered 410 again: a new entry E2b, after the bulk's through_id. When the lock goes,
the bulk must leave E2b open. Before, each chunk acted by task id on whatever entry was
open then, and retried T2 through E2b, which the operator never saw.
"""
import threading
import unittest

import database
from database import PgConnection
from harness import Herald, Receiver, wait_until

# The bulk waits on the locked row while B's retry runs its course, which takes
# longer than the default lock_timeout (busy_timeout, 5 s) on a loaded machine.
CONFIG = ("[storage]\nbusy_timeout = 60s\nstatement_timeout = 60s\n"
          "[delivery]\ntimeout = 2s\n[retry]\nmax_retry = 3\nbase_delay = 100ms\njitter = 0\n")


@unittest.skipUnless(database.BACKEND == "postgresql", "two heraldd share PostgreSQL only")
class BulkRaceTest(unittest.TestCase):
    def test_a_bulk_retry_acts_only_on_the_entries_it_listed(self):
        gone = Receiver(lambda r: (410, {}, b"gone"))
        self.addCleanup(gone.close)
        a = Herald(config=CONFIG)
        self.addCleanup(a.cleanup)
        a.start()
        b = Herald(config=CONFIG, db=a.db)
        self.addCleanup(b.cleanup)
        b.start()
        ids = []
        # One after the other, so E1's id is below E2a's and the bulk (in entry id
        # order) waits on E1 before it touches T2: two failures in one outcome
        # statement get their entries' ids in no set order.
        for name in ("T1", "T2"):
            status, _, body = a.create(business_id=name, target_url=gone.url())
            self.assertEqual(status, 201, body)
            ids.append(body["task"]["id"])
            a.wait_for_status(ids[-1], "failed")
        t1, t2 = ids
        wait_until(lambda: a.db.value("SELECT count(*) FROM manual WHERE state = 'open'") == 2
                   or None, message="two open entries")
        e2a = a.db.value("SELECT id FROM manual WHERE task_id = ?", t2)
        lock = PgConnection(a.db.name, user="herald", directory=a.db.pg_dir)
        self.addCleanup(lock.close)
        lock.query("BEGIN; SELECT 1 FROM manual WHERE task_id = %d FOR UPDATE" % t1)
        answers = {}
        # It waits on the lock while B's retry runs its course: slow on a loaded machine.
        bulk = threading.Thread(target=lambda: answers.update(bulk=a.request(
            "POST", "/v1/manual/retry", body={"all": True}, headers=a.auth_headers(),
            timeout=90)))
        bulk.start()
        # The bulk's chunk waits on E1's row lock.
        wait_until(lambda: a.db.admin(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = '%s'"
            " AND wait_event_type = 'Lock'" % a.db.name)[0][0] > 0 or None,
            message="the bulk waiting on the locked entry")
        status, _, body = b.request("POST", "/v1/manual/%d/retry" % t2, body={},
                                    headers=b.auth_headers())
        self.assertEqual(status, 200, body)
        e2b = wait_until(lambda: a.db.value(
            "SELECT max(id) FROM manual WHERE task_id = ? AND state = 'open' AND id > ?",
            t2, e2a), timeout=15, message="T2 back in manual handling (E2b)")
        lock.query("ROLLBACK")
        bulk.join(90)
        status, _, answer = answers["bulk"]
        self.assertEqual(status, 200, answer)
        self.assertLess(answer["through_id"], e2b)
        self.assertEqual(a.db.query("SELECT state FROM manual WHERE id = ?", e2b), [("open",)],
                         "entry %d, after the bulk's through_id %d, was acted on"
                         % (e2b, answer["through_id"]))
        self.assertEqual(answer["retried"], 1, answer)  # T1 only: E2a was closed by B's retry
        for herald in (a, b):
            herald.stop()


if __name__ == "__main__":
    unittest.main()
