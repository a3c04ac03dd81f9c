"""SSRF protection through the real heraldd: nothing private is reached by default."""
import unittest

from harness import Herald, Receiver, task_request


class SsrfTest(unittest.TestCase):
    def setUp(self):
        self.listener = Receiver()

    def tearDown(self):
        self.listener.close()

    def start(self, config=""):
        herald = Herald(private_targets=False, config="[retry]\nmax_retry = 1\n" + config)
        self.addCleanup(herald.cleanup)
        herald.start()
        return herald

    def test_loopback_listener_receives_nothing(self):
        herald = self.start()
        port = self.listener.port
        for url in ("http://127.0.0.1:%d/" % port, "http://127.1:%d/" % port,
                    "http://2130706433:%d/" % port, "http://0x7f.1:%d/" % port,
                    "http://[::1]:%d/" % port, "http://[::ffff:127.0.0.1]:%d/" % port,
                    "http://169.254.169.254/latest/meta-data/"):
            status, _, body = herald.request("POST", "/v1/tasks", body=task_request("S", target_url=url))
            self.assertEqual((status, body["error"]["field"]), (422, "target_url"), url)
        # A name that resolves to loopback is accepted, then refused at connect time.
        for name in ("localhost", "127.0.0.1."):
            status, _, body = herald.request("POST", "/v1/tasks", body=task_request(
                "NAME-" + name, target_url="http://%s:%d/" % (name, port)))
            self.assertEqual(status, 201, body)
            failed = herald.wait_for_status(body["task"]["id"], "failed")
            attempt = herald.attempts(failed["id"])[0]
            if name == "localhost":
                self.assertEqual(attempt["error_class"], "blocked_address")
                self.assertRegex(attempt["error_message"], r"127\.0\.0\.1|\[::1\]")
            else:  # the resolver may not even resolve it; either way nothing is reached
                self.assertIn(attempt["error_class"], ("blocked_address", "dns"))
        # A manual retry cannot point a task at a blocked address either.
        status, _, body = herald.request("POST", "/v1/manual/%d/retry" % failed["id"],
                                         body={"target_url": "http://10.0.0.1/"})
        self.assertEqual((status, body["error"]["field"]), (422, "target_url"))
        self.assertEqual(self.listener.received(), [])
        herald.stop()

    def test_allow_cidrs_opens_exactly_what_is_listed(self):
        herald = self.start("[delivery]\nallow_cidrs = 127.0.0.1/32\n")
        status, _, body = herald.request("POST", "/v1/tasks", body=task_request(
            "OPEN", target_url=self.listener.url()))
        self.assertEqual(status, 201)
        herald.wait_for_status(body["task"]["id"], "succeeded")
        self.assertEqual(len(self.listener.received()), 1)
        status, _, _ = herald.request("POST", "/v1/tasks", body=task_request(
            "STILL-SHUT", target_url="http://127.0.0.2:%d/" % self.listener.port))
        self.assertEqual(status, 422)
        herald.stop()


if __name__ == "__main__":
    unittest.main()
