"""The transfer loop never waits for the database (issue 21, item 2).

A lock another program holds on the database stalls heraldd's statements (a claim
waits for it). Before, those statements ran on the thread that drives every
transfer: a response arriving meanwhile was read only once the lock went (its
attempt lasted as long as the lock), and /readyz went on saying "ready" with a
stale lag of 0 while due work could not start. Now the statements run on the
scheduler's database thread: transfers go on, and the lag of the work waiting is
computed when /readyz asks.
"""
import datetime
import signal
import threading
import time
import unittest

from harness import Herald, Receiver, task_request, wait_until

CONFIG = """[delivery]
timeout = 10s
[retry]
max_retry = 5
base_delay = 1s
max_delay = 1s
jitter = 0
retry_interval = 200ms
[alert]
max_lag = 1s
[storage]
busy_timeout = 20s
"""
LOCK_SECONDS = 4.0


class LoopTest(unittest.TestCase):
    def test_transfers_and_readiness_go_on_while_the_database_is_locked(self):
        locked = threading.Event()
        answered = {}

        def slow(received):
            # Answers half a second into the lock: a loop stuck in a statement would
            # read this answer only when the lock goes.
            locked.wait(30)
            time.sleep(0.5)
            answered["at"] = time.time()
            return (200, {}, b"ok")
        slow_receiver = Receiver(slow)
        self.addCleanup(slow_receiver.close)
        failing = {"first": True}

        def flaky(received):
            if failing["first"]:
                failing["first"] = False
                return (500, {}, b"once")
            return (200, {}, b"ok")
        flaky_receiver = Receiver(flaky)
        self.addCleanup(flaky_receiver.close)
        herald = Herald(config=CONFIG)
        self.addCleanup(herald.cleanup)
        herald.start()
        status, _, body = herald.create(business_id="SLOW", target_url=slow_receiver.url())
        self.assertEqual(status, 201, body)
        slow_id = body["task"]["id"]
        slow_receiver.wait_for(1)
        status, _, body = herald.create(business_id="RETRY", target_url=flaky_receiver.url())
        self.assertEqual(status, 201, body)
        retry_id = body["task"]["id"]
        # Its first attempt failed and is written: the retry is due in a second.
        wait_until(lambda: len(herald.attempts(retry_id)) == 1 or None, timeout=15,
                   message="the first attempt written")
        due = herald.get_task(retry_id)["next_attempt_at"]
        release = herald.db.lock()
        released = False
        try:
            lock_started = time.monotonic()
            locked.set()
            # The retry falls due under the lock and cannot be claimed: /readyz must
            # say so within twice max_lag of it, and keep saying it.
            not_ready = None
            while time.monotonic() - lock_started < LOCK_SECONDS:
                status, _, answer = herald.request("GET", "/readyz")
                if status == 503:
                    not_ready = answer
                    break
                time.sleep(0.05)
            self.assertIsNotNone(not_ready, "/readyz stayed 200 while due work waited on a "
                                            "locked database (due %s)" % due)
            self.assertGreater(not_ready["scheduler_lag_seconds"], 1.0, not_ready)
            wait_until(lambda: "at" in answered or None, timeout=10, message="the slow answer")
            remaining = LOCK_SECONDS - (time.monotonic() - lock_started)
            if remaining > 0:
                time.sleep(remaining)
            release()
            released = True
            released_at = time.time()
        finally:
            if not released:
                release()
        herald.wait_for_status(slow_id, "succeeded", timeout=20)
        herald.wait_for_status(retry_id, "succeeded", timeout=20)
        # The slow answer was read when it came (about 0.5 s into the lock), not when
        # the lock went: the attempt ended when the receiver answered.
        attempt = herald.attempts(slow_id)[0]
        started = datetime.datetime.fromisoformat(attempt["started_at"]).timestamp()
        ended = started + attempt["duration_ms"] / 1000.0
        self.assertLess(abs(ended - answered["at"]), 1.0, (attempt, answered, released_at))
        self.assertLess(ended, released_at - 1.0, (attempt, answered, released_at))
        wait_until(lambda: herald.request("GET", "/readyz")[0] == 200 or None, timeout=10,
                   message="/readyz ready again")
        herald.stop()


class StopTest(unittest.TestCase):
    def test_a_stop_keeps_trying_to_write_the_last_outcomes(self):
        """At stop, an outcome whose write fails (the database is locked for a while)
        is retried until it is written, not dropped after one try (which sent the task
        again at the next start)."""
        answer = threading.Event()
        receiver = Receiver(lambda r: answer.wait(30) and (200, {}, b"ok"))
        self.addCleanup(receiver.close)
        herald = Herald(config="[storage]\nbusy_timeout = 200ms\n")
        self.addCleanup(herald.cleanup)
        herald.start()
        status, _, body = herald.create(business_id="LAST", target_url=receiver.url())
        self.assertEqual(status, 201, body)
        task_id = body["task"]["id"]
        receiver.wait_for(1)
        release = herald.db.lock()
        try:
            herald.process.send_signal(signal.SIGTERM)
            herald.wait_for_log(r"event=stopping")
            answer.set()  # the request ends; its outcome cannot be written yet
            if herald.db.backend == "sqlite":
                herald.wait_for_log(r"event=scheduler_write_failed", timeout=10)
            time.sleep(1.5)
        finally:
            release()
        self.assertEqual(herald.process.wait(timeout=30), 0)
        self.assertNotIn("event=outcomes_unwritten", herald.log())
        self.assertEqual(herald.db.query("SELECT status, attempts FROM tasks WHERE id = ?",
                                         task_id), [("succeeded", 1)])
        self.assertEqual(herald.db.query("SELECT attempt, error_class FROM attempts"
                                         " WHERE task_id = ?", task_id), [(1, None)])


if __name__ == "__main__":
    unittest.main()
