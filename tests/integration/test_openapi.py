"""GET /v1/openapi.yaml: heraldd serves the description it was built with, without a
token, byte for byte docs/openapi.yaml. (The description itself is checked by make
integration: tests/js/check_openapi.mjs validates every answer these tests receive.)"""
import os
import unittest

from harness import Herald, backend_independent

SPEC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs",
                    "openapi.yaml")


@backend_independent("the description does not depend on the database")
class OpenApiTest(unittest.TestCase):
    def test_the_description_is_served_as_built(self):
        herald = Herald(token_lines=["ops:" + "t" * 32])
        self.addCleanup(herald.cleanup)
        herald.start()
        status, headers, body = herald.request("GET", "/v1/openapi.yaml")  # no token
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "application/yaml")
        with open(SPEC, encoding="utf-8") as f:
            self.assertEqual(body, f.read())
        status, headers, body = herald.request("HEAD", "/v1/openapi.yaml")
        self.assertEqual((status, body), (200, ""))
        status, _, body = herald.request("GET", "/v1/openapi.yaml?x=1")
        self.assertEqual((status, body["error"]["code"]), (400, "invalid_parameter"))
        herald.stop()


if __name__ == "__main__":
    unittest.main()
