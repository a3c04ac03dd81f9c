"""A COMMIT that failed is read back by what only the committed turn leaves, never by an
outcome that was fenced before the turn ran (issue 21, item 7; found by the adversarial
review). The read-back judged by the first outcome's token, which a sweep may have
removed before the turn ran: the turn was taken as committed, the other outcomes in it
were dropped, and an acknowledged delivery was recorded as 'interrupted' after its lease
and sent again.

SQLite, one heraldd:
  X: two attempts cut off by kill -9 (so its third and last attempt, if cut off, ends in
     manual handling and nothing of X is left to claim).
  X attempt 3 and Y attempt 1 in flight; the database locked, so the turn carrying X's
  200 fails (busy) while Y's 200 waits behind it; the transfer loop frozen (ptrace) so it
  does not retry; the worker's sweep rescues X (lease over), not Y (claimed 3 s later).
  Then the loop runs again: turn [X (fenced), Y] whose COMMIT fails (fault seam, not run).
"""
import os
import threading
import time
import unittest

from harness import FrozenThread, Herald, Receiver, Seam, sqlite_only

CONFIG = ("busy_timeout = 500ms\n"
          "[retry]\nbase_delay = 100ms\nmax_retry = 3\njitter = 0\n"
          "[delivery]\ntimeout = 5s\nconnect_timeout = 1s\nlease_sweep_interval = 1s\n")


@sqlite_only("the worker's own sweep fences the outcome; one process")
class ReadBackTest(unittest.TestCase):
    def test_a_fenced_first_outcome_does_not_hide_an_uncommitted_turn(self):
        x_arrived, x_go = threading.Event(), threading.Event()
        y_arrived, y_go = threading.Event(), threading.Event()
        x_hold = threading.Event()

        x_count = [0]

        def respond_x(received):
            x_count[0] += 1
            if x_count[0] < 3:
                x_hold.set()
                return "hang"
            x_arrived.set()
            x_go.wait(60)
            return (200, {}, b"ok")

        y_count = [0]

        def respond_y(received):
            y_count[0] += 1
            if y_count[0] == 1:
                y_arrived.set()
                y_go.wait(60)
            return (200, {}, b"ok")

        rx, ry = Receiver(respond_x), Receiver(respond_y)
        self.addCleanup(rx.close)
        self.addCleanup(ry.close)
        herald = Herald(config=CONFIG)
        herald.env["HERALD_FAULT_FILE"] = os.path.join(herald.directory, "fault")
        self.addCleanup(herald.cleanup)
        herald.start()
        seam = Seam(herald)
        status, _, body = herald.create(business_id="X", target_url=rx.url())
        self.assertEqual(status, 201, body)
        x_id = body["task"]["id"]
        for _ in range(2):  # attempts 1 and 2: cut off by kill -9
            self.assertTrue(x_hold.wait(15))
            x_hold.clear()
            herald.kill()
            herald.start()
        seam = Seam(herald)
        self.assertTrue(x_arrived.wait(15), "no attempt 3")
        t0 = time.monotonic()
        time.sleep(3)
        status, _, body = herald.create(business_id="Y", target_url=ry.url())
        self.assertEqual(status, 201, body)
        y_id = body["task"]["id"]
        self.assertTrue(y_arrived.wait(5))
        release = herald.db.lock()  # the next turn fails (busy)
        x_go.set()                  # X's 200: its turn goes out and waits on the lock
        time.sleep(0.1)
        y_go.set()                  # Y's 200: waits behind the turn out
        time.sleep(0.2)
        frozen = FrozenThread(herald.process.pid, "herald-sched")
        time.sleep(1.0)             # the turn's BEGIN gives up (busy_timeout)
        release()
        # The worker sweeps alone: X's lease ends first.
        herald.wait_for_log(r"event=leases_expired tasks=1 moved_to_manual=1", timeout=30)
        self.assertLess(time.monotonic() - t0, 22, "Y's lease would be over too")
        time.sleep(0.05)
        # The next turn's COMMIT fails, not run: its 7th statement (BEGIN, the two
        # receivers' breakers read, the two tasks' ends, Y's attempt, COMMIT).
        seam.arm("scheduler:7:1:busy")
        frozen.release()
        herald.wait_for_log(r"event=commit_read_back committed=no", timeout=10)
        # Y's receiver acknowledged attempt 1: that is what is recorded, once.
        herald.wait_for_status(y_id, ("succeeded", "failed"), timeout=40)
        y_attempts = [(a["attempt"], a["error_class"]) for a in herald.attempts(y_id)]
        self.assertEqual(herald.get_task(y_id)["status"], "succeeded")
        self.assertEqual(len(ry.received()), 1, "Y, acknowledged once, was sent again")
        self.assertEqual(y_attempts, [(1, None)])
        herald.stop()


if __name__ == "__main__":
    unittest.main()
