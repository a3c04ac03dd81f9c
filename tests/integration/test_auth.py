"""api_token_file: every /v1 request needs a valid bearer token."""
import os
import unittest

from harness import Herald, HeraldTestCase, task_request

TOKEN = "ops-token-0123456789abcdef"


class AuthTest(HeraldTestCase, unittest.TestCase):
    herald_options = {"token_lines": ["# tokens", "ops:" + TOKEN, "bare-token-0123456789"]}

    def test_requests_without_a_valid_token_are_refused(self):
        for headers in ({}, {"Authorization": "Bearer wrong-token-0123456789"},
                        {"Authorization": "Basic " + TOKEN}, {"Authorization": "Bearer " + TOKEN + "x"}):
            with self.subTest(headers=headers):
                status, response_headers, body = self.herald.request(
                    "POST", "/v1/tasks", body=task_request("AUTH-1"), headers=headers)
                self.assertEqual(status, 401)
                self.assertEqual(body["error"]["code"], "unauthorized")
                self.assertIn("bearer", response_headers.get("www-authenticate", "").lower())
                self.assertEqual(self.herald.request("GET", "/v1/tasks/1", headers=headers)[0], 401)
                self.assertEqual(self.herald.request("GET", "/v1/tasks", headers=headers)[0], 401)

    def test_valid_tokens_are_accepted(self):
        for token in (TOKEN, "bare-token-0123456789"):
            headers = {"Authorization": "Bearer " + token}
            status, _, body = self.herald.request("POST", "/v1/tasks",
                                                  body=task_request("AUTH-OK-" + token[:4]),
                                                  headers=headers)
            self.assertEqual(status, 201, body)
            self.assertEqual(self.herald.request("GET", "/v1/tasks", headers=headers)[0], 200)

    def test_health_is_public(self):
        self.assertEqual(self.herald.request("GET", "/healthz")[0], 200)

    def test_heraldctl_uses_the_token_file(self):
        code, _, err = self.herald.ctl("tasks", "list")
        self.assertEqual(code, 1)
        self.assertIn("401", err)
        code, out, err = self.herald.ctl("tasks", "list", token_file=self.herald.token_file)
        self.assertEqual(code, 0, err)
        self.assertIn("ID", out)


class NoTokenFileTest(unittest.TestCase):
    def test_non_loopback_listen_without_tokens_is_refused(self):
        herald = Herald(args=["--listen", "0.0.0.0:0"])
        try:
            herald.process = None
            import subprocess
            completed = subprocess.run([herald.binary, "-c", herald.config_path, "--listen", "0.0.0.0:0"],
                                       capture_output=True, text=True, timeout=30)
            self.assertEqual(completed.returncode, 1)
            self.assertIn("without authentication", completed.stderr)
        finally:
            herald.cleanup()


if __name__ == "__main__":
    unittest.main()
