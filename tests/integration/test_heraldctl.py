"""heraldctl tasks get|list through the real binary."""
import json
import unittest

from harness import Herald, HeraldTestCase


class HeraldctlTest(HeraldTestCase, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ids = []
        for i in range(3):
            status, _, body = cls.herald.create(business_id="CTL-%d" % i,
                                                business_type="CTL_TYPE")
            assert status == 201
            cls.ids.append(body["task"]["id"])

    def test_get(self):
        code, out, err = self.herald.ctl("tasks", "get", str(self.ids[0]))
        self.assertEqual(code, 0, err)
        self.assertRegex(out, r"business_id\s+CTL-0\n")
        self.assertRegex(out, r"status\s+(pending|delivering|succeeded)\n")
        code, out, err = self.herald.ctl("--json", "tasks", "get", str(self.ids[0]))
        self.assertEqual(code, 0)
        self.assertEqual(json.loads(out)["task"]["id"], self.ids[0])

    def test_get_missing_is_an_api_error(self):
        code, _, err = self.herald.ctl("tasks", "get", "999999")
        self.assertEqual(code, 1)
        self.assertIn("404", err)

    def test_list_with_filters_and_pages(self):
        code, out, err = self.herald.ctl("tasks", "list", "--type", "CTL_TYPE", "--limit", "2")
        self.assertEqual(code, 0, err)
        lines = out.strip().splitlines()
        self.assertTrue(lines[0].startswith("ID"))
        self.assertEqual([int(l.split()[0]) for l in lines[1:3]], self.ids[::-1][:2])
        self.assertIn("--after %d" % self.ids[1], lines[-1])
        code, out, _ = self.herald.ctl("--json", "tasks", "list", "--business-id", "CTL-1")
        self.assertEqual([t["id"] for t in json.loads(out)["tasks"]], [self.ids[1]])

    def test_usage_errors(self):
        self.assertEqual(self.herald.ctl("tasks", "get")[0], 2)
        self.assertEqual(self.herald.ctl("tasks", "get", "x")[0], 2)
        self.assertEqual(self.herald.ctl("nothing", "here")[0], 2)
        self.assertEqual(self.herald.ctl("tasks", "list", "--bogus")[0], 2)
        code, out, _ = self.herald.ctl("tasks", "list", "--help")
        self.assertEqual(code, 0)
        self.assertIn("usage", out)

    def test_bad_filter_is_an_api_error(self):
        code, _, err = self.herald.ctl("tasks", "list", "--status", "bogus")
        self.assertEqual(code, 1)
        self.assertIn("invalid_parameter", err)

    def test_unreachable(self):
        import subprocess
        from harness import HERALDCTL
        completed = subprocess.run([HERALDCTL, "--url", "http://127.0.0.1:1", "tasks", "list"],
                                   capture_output=True, text=True, timeout=30)
        self.assertEqual(completed.returncode, 1)
        self.assertIn("cannot reach", completed.stderr)


if __name__ == "__main__":
    unittest.main()
