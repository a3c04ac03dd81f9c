"""An instance whose clock is off cannot cut another's lease short (issue 21, item 3).

Instance A runs 40 s ahead (Debian's libfaketime, preloaded), B on time, both on one
PostgreSQL. Before, each instance computed and compared leases on its own clock: A,
40 s ahead, found B's claim expired the moment it looked (at its start-up recovery or
its sweep) and sent the task again while B's request ran. Now the server's clock sets
and compares leases, and A keeps its own times by the server's (clock_sync.c): it
measures its offset, exports it and warns.
"""
import datetime
import os
import re
import subprocess
import threading
import time
import unittest

import database
from database import TestDatabase
from harness import HERALDD, Herald, Receiver, task_request

FAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"
SKEW_SECONDS = 40
# A 5 s timeout makes a 20 s lease: shorter than the skew.
CONFIG = "[delivery]\ntimeout = 5s\nconnect_timeout = 1s\nlease_sweep_interval = 200ms\n"


def preload(binary, library):
    """LD_PRELOAD for LIBRARY under BINARY: an ASan binary's own libasan comes first."""
    linked = subprocess.run(["ldd", binary], capture_output=True, text=True, timeout=30,
                            check=True).stdout
    first = re.findall(r"^\s*libasan\.so\S*\s+=>\s+(\S+)", linked, re.MULTILINE)
    return ":".join(first + [library])


@unittest.skipUnless(database.BACKEND == "postgresql", "several heraldd share PostgreSQL only")
@unittest.skipUnless(os.path.exists(FAKETIME), "libfaketime (Debian's faketime) is not installed")
class SkewedInstanceTest(unittest.TestCase):
    def setUp(self):
        self.db = TestDatabase(None)
        self.addCleanup(self.db.drop)

    def instance(self, env=None):
        herald = Herald(db=self.db, config=CONFIG, env=env)
        self.addCleanup(herald.cleanup)
        return herald.start()

    def test_an_instance_ahead_does_not_take_over_a_live_lease(self):
        answer = threading.Event()
        receiver = Receiver(lambda r: answer.wait(20) and (200, {}, b"ok"))
        self.addCleanup(receiver.close)
        b = self.instance()
        status, _, body = b.request("POST", "/v1/tasks", body=task_request("HELD", receiver.url()))
        self.assertEqual(status, 201, body)
        task_id = body["task"]["id"]
        receiver.wait_for(1)  # B claimed it; its request is in flight
        a = self.instance(env={"LD_PRELOAD": preload(HERALDD, FAKETIME),
                               "FAKETIME": "+%ds" % SKEW_SECONDS,
                               "FAKETIME_DONT_FAKE_MONOTONIC": "1",
                               "FAKETIME_NO_CACHE": "1"})
        # A sees it is 40 s ahead of the server, says so, and keeps the server's time.
        a.wait_for_log(r"event=clock_skew offset_ms=-\d+", timeout=15)
        offset = float(re.search(r"herald_clock_offset_seconds (-?[\d.]+)",
                                 a.request("GET", "/metrics")[2]).group(1))
        self.assertAlmostEqual(offset, -SKEW_SECONDS, delta=2)
        # Several of A's sweeps (every 200 ms) while B's request runs.
        time.sleep(1.5)
        self.assertNotRegex(a.log(), r"event=(recovered_interrupted|leases_expired)")
        answer.set()
        task = b.wait_for_status(task_id, "succeeded", timeout=15)
        self.assertEqual(task["attempts"], 1)
        self.assertEqual(len(receiver.received()), 1)  # never sent twice
        self.assertEqual(self.db.query("SELECT attempt, error_class FROM attempts"
                                       " WHERE task_id = ?", task_id), [(1, None)])
        # What A writes is in the server's time, not 40 s ahead.
        status, _, body = a.request("POST", "/v1/tasks", body=task_request("BY-A", receiver.url()))
        self.assertEqual(status, 201, body)
        created = datetime.datetime.fromisoformat(body["task"]["created_at"]).timestamp()
        self.assertLess(abs(created - time.time()), 5, body["task"])
        a.wait_for_status(body["task"]["id"], "succeeded", timeout=15)
        for herald in (a, b):
            herald.stop()


if __name__ == "__main__":
    unittest.main()
