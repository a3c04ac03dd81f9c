"""Signed webhooks, verified by the official Standard Webhooks JavaScript library."""
import json
import os
import shutil
import subprocess
import threading
import time
import unittest
from datetime import datetime, timedelta, timezone

from harness import Herald, HERALDCTL, task_request

HERE = os.path.dirname(os.path.abspath(__file__))
JS = os.path.join(os.path.dirname(HERE), "js")
OLD_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def new_secret():
    return subprocess.run([HERALDCTL, "secret", "new"], capture_output=True, text=True,
                          check=True, timeout=30).stdout.strip()


class JsReceiver:
    """node verify_receiver.mjs SECRET, reporting one JSON line per request."""

    def __init__(self, secret):
        self.process = subprocess.Popen(["node", os.path.join(JS, "verify_receiver.mjs"), secret],
                                        cwd=JS, stdout=subprocess.PIPE, text=True)
        self.port = json.loads(self.process.stdout.readline())["port"]
        self.results = []
        self.condition = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            with self.condition:
                self.results.append(json.loads(line))
                self.condition.notify_all()

    def url(self):
        return "http://127.0.0.1:%d/hook" % self.port

    def wait_for(self, count, timeout=15):
        deadline = time.monotonic() + timeout
        with self.condition:
            while len(self.results) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError("the JS receiver got %d of %d requests" %
                                         (len(self.results), count))
                self.condition.wait(remaining)
            return list(self.results)

    def close(self):
        self.process.terminate()
        self.process.wait(10)


@unittest.skipUnless(shutil.which("node") and os.path.isdir(os.path.join(JS, "node_modules")),
                     "node and tests/js/node_modules are needed (make test-deps)")
class SigningTest(unittest.TestCase):
    def start(self, config):
        herald = Herald(config="[retry]\nmax_retry = 1\n" + config)
        self.addCleanup(herald.cleanup)
        herald.start()
        return herald

    def receiver(self, secret):
        receiver = JsReceiver(secret)
        self.addCleanup(receiver.close)
        return receiver

    def deliver(self, herald, receiver, business_id, **extra):
        status, _, body = herald.request("POST", "/v1/tasks", body=task_request(
            business_id, target_url=receiver.url(), **extra))
        self.assertEqual(status, 201, body)
        return body["task"]

    def test_signatures_verify_with_the_official_library(self):
        secret = new_secret()
        herald = self.start("[delivery]\nsecret = %s\n" % secret)
        receiver = self.receiver(secret)
        task = self.deliver(herald, receiver, "SIGNED-1",
                            payload={"order": 12345678901234567890, "note": "caf\u00e9 \u2713"})
        result = receiver.wait_for(1)[0]
        self.assertTrue(result["verified"], result)
        self.assertEqual(result["webhook_id"], task["webhook_id"])
        self.assertTrue(result["tampered_body_rejected"])
        self.assertTrue(result["tampered_timestamp_rejected"])
        self.assertEqual(herald.wait_for_status(task["id"], "succeeded")["status"], "succeeded")
        # A string payload is signed as the bytes sent, too.
        self.deliver(herald, receiver, "SIGNED-2", payload="a=1&b=2")
        second = receiver.wait_for(2)[1]
        self.assertTrue(second["verified"], second)
        self.assertFalse(second["json"])
        self.assertTrue(second["tampered_body_rejected"])
        herald.stop()

    def test_wrong_secret_fails_verification(self):
        herald = self.start("[delivery]\nsecret = %s\n" % new_secret())
        receiver = self.receiver(new_secret())
        task = self.deliver(herald, receiver, "FORGED-1")
        self.assertFalse(receiver.wait_for(1)[0]["verified"])
        herald.wait_for_status(task["id"], "failed")
        herald.stop()

    def test_rotation_signs_with_both_until_the_deadline(self):
        new = new_secret()
        until = (datetime.now(timezone.utc) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        herald = self.start("[delivery]\nsecret = %s\nprevious_secret = %s\n"
                            "previous_secret_until = %s\n" % (new, OLD_SECRET, until))
        old_receiver = self.receiver(OLD_SECRET)  # not yet switched to the new secret
        new_receiver = self.receiver(new)         # already switched
        self.deliver(herald, old_receiver, "ROTATE-OLD")
        self.deliver(herald, new_receiver, "ROTATE-NEW")
        old = old_receiver.wait_for(1)[0]
        self.assertTrue(old["verified"], old)
        self.assertEqual(len(old["signature"].split(" ")), 2)
        self.assertTrue(new_receiver.wait_for(1)[0]["verified"])
        herald.stop()

    def test_rotation_ends_at_the_deadline(self):
        new = new_secret()
        herald = self.start("[delivery]\nsecret = %s\nprevious_secret = %s\n"
                            "previous_secret_until = 2020-01-01T00:00:00Z\n" % (new, OLD_SECRET))
        old_receiver = self.receiver(OLD_SECRET)
        self.deliver(herald, old_receiver, "ROTATED-1")
        result = old_receiver.wait_for(1)[0]
        self.assertFalse(result["verified"])
        self.assertEqual(len(result["signature"].split(" ")), 1)
        herald.stop()

    def test_per_business_type_secret(self):
        default, payments = new_secret(), new_secret()
        herald = self.start("[delivery]\nsecret = %s\n[business.PAYMENT_SUCCESS]\nsecret = %s\n"
                            % (default, payments))
        payment_receiver = self.receiver(payments)
        order_receiver = self.receiver(default)
        self.deliver(herald, payment_receiver, "BT-1")
        self.deliver(herald, order_receiver, "BT-2", business_type="ORDER_UPDATE")
        self.assertTrue(payment_receiver.wait_for(1)[0]["verified"])
        self.assertTrue(order_receiver.wait_for(1)[0]["verified"])
        herald.stop()


if __name__ == "__main__":
    unittest.main()
