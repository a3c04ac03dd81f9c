"""Name resolution never holds up other deliveries (issue 21).

heraldd runs with tests/shim/slow_resolver.so preloaded: getaddrinfo for
slow.test sleeps 25 s, as behind a DNS server that answers late, then gives
127.0.0.1. A task to slow.test must end at its timeout, as a timeout, while
tasks to a healthy receiver posted meanwhile, before and after that moment,
are delivered at once. Before the fix, libcurl joined the stuck resolver
thread when the attempt timed out, inside the one loop that drives every
transfer: the healthy receiver waited for the lookup.
"""
import os
import re
import subprocess
import time
import unittest

from harness import HERALDD, Herald, Receiver, task_request

SHIM = os.path.join(os.path.dirname(os.path.abspath(HERALDD)), "shim", "slow_resolver.so")
LOOKUP_MS = 25000
TIMEOUT_MS = 2000
# How late a healthy receiver's first attempt may be while the lookup stalls.
HEALTHY_LATENCY_MAX = 1.0
# Healthy tasks are posted until this long after the slow attempt's timeout
# (when the resolver thread used to be joined), one every PACE seconds.
AFTER_TIMEOUT = 1.5
PACE = 0.1


def preload(binary):
    """LD_PRELOAD for the shim under BINARY: an ASan binary's own libasan comes
    first (ASan refuses to start unless it is the first library loaded), and
    its getaddrinfo interceptor then calls the shim's."""
    linked = subprocess.run(["ldd", binary], capture_output=True, text=True, timeout=30,
                            check=True).stdout
    first = re.findall(r"^\s*libasan\.so\S*\s+=>\s+(\S+)", linked, re.MULTILINE)
    return ":".join(first + [SHIM])


class SlowResolverTest(unittest.TestCase):
    def setUp(self):
        if not os.path.exists(SHIM):
            self.fail("%s is missing: make asan builds it" % SHIM)
        self.healthy = Receiver()
        self.slow = Receiver()  # where slow.test's requests would arrive (127.0.0.1)
        self.herald = Herald(
            config="[delivery]\ntimeout = %dms\nconnect_timeout = %dms\n" % (TIMEOUT_MS, TIMEOUT_MS),
            env={"LD_PRELOAD": preload(HERALDD),
                 "HERALD_SLOW_NAMES": "slow.test:%d" % LOOKUP_MS})

    def tearDown(self):
        try:
            self.herald.cleanup()
        finally:
            self.healthy.close()
            self.slow.close()

    def post(self, business_id, url, **extra):
        status, _, body = self.herald.request("POST", "/v1/tasks",
                                              body=task_request(business_id, target_url=url,
                                                                **extra))
        self.assertEqual(status, 201, body)
        return body["task"]["id"]

    def test_slow_lookup_holds_only_its_own_attempt(self):
        herald = self.herald
        herald.start()
        slow_id = self.post("SLOW-1", "http://slow.test:%d/notify" % self.slow.port, max_retry=1)
        herald.wait_for_log(r"slow_resolver: name=slow\.test sleep_ms=%d" % LOOKUP_MS, timeout=10)
        lookup_began = time.monotonic()
        # First-attempt latency of each healthy task, posted across the window.
        latencies = []
        while (len(latencies) < 5 or
               time.monotonic() < lookup_began + TIMEOUT_MS / 1000.0 + AFTER_TIMEOUT):
            posted = time.monotonic()
            self.post("OK-%d" % len(latencies), self.healthy.url())
            try:
                arrived = self.healthy.wait_for(len(latencies) + 1,
                                                timeout=5 * HEALTHY_LATENCY_MAX)[-1].time
            except AssertionError:
                arrived = None
            if arrived is None:
                self.fail("a healthy task posted %.2f s after the slow lookup began was not "
                          "delivered within %.0f s (first attempts before it: max %.3f s)" %
                          (posted - lookup_began, 5 * HEALTHY_LATENCY_MAX,
                           max(latencies or [0])))
            latencies.append(arrived - posted)
            # A pace, not a wait for something: the posts must spread over the
            # window in which the slow attempt times out.
            time.sleep(max(0.0, posted + PACE - time.monotonic()))
        latencies.sort()
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        self.assertLess(latencies[-1], HEALTHY_LATENCY_MAX,
                        "first attempts of %d healthy tasks: p99 %.3f s, max %.3f s" %
                        (len(latencies), p99, latencies[-1]))

        # The slow attempt ended at its timeout, resolution included, as a timeout.
        failed = herald.wait_for_status(slow_id, "failed", timeout=10)
        attempts = herald.attempts(failed["id"])
        self.assertEqual(len(attempts), 1)
        attempt = attempts[0]
        self.assertEqual(attempt["error_class"], "timeout", attempt)
        self.assertIn("Resolving timed out", attempt["error_message"])
        self.assertGreaterEqual(attempt["duration_ms"], TIMEOUT_MS - 50, attempt)
        self.assertLessEqual(attempt["duration_ms"], TIMEOUT_MS + 500, attempt)
        self.assertEqual(self.slow.received(), [])

        # Stopping waits for no lookup: the resolver thread was left to finish alone.
        stopping = time.monotonic()
        herald.stop()
        self.assertLess(time.monotonic() - stopping, 10.0)


if __name__ == "__main__":
    unittest.main()
