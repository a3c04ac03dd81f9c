"""Starting heraldd: configuration errors, --check-config, the release build."""
import os
import subprocess
import unittest

from harness import HERALDD, Herald, task_request


def run_heraldd(*args):
    return subprocess.run([HERALDD] + list(args), capture_output=True, text=True, timeout=60)


class StartupTest(unittest.TestCase):
    def test_bad_config_names_file_and_line(self):
        herald = Herald(config="max_bodyy = 1\n")
        try:
            completed = run_heraldd("-c", herald.config_path)
            self.assertEqual(completed.returncode, 1)
            self.assertIn("%s:5: [storage] unknown key" % herald.config_path, completed.stderr)
        finally:
            herald.cleanup()

    def test_bad_duration(self):
        herald = Herald(config="busy_timeout = soon\n")
        try:
            completed = run_heraldd("-c", herald.config_path)
            self.assertEqual(completed.returncode, 1)
            self.assertIn(":5: [storage] busy_timeout: invalid duration", completed.stderr)
        finally:
            herald.cleanup()

    def test_check_config_and_shipped_file(self):
        completed = run_heraldd("-c", "etc/herald.conf", "--check-config")
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertIn("configuration OK", completed.stdout)
        completed = run_heraldd("-c", "/nonexistent.conf", "--check-config")
        self.assertEqual(completed.returncode, 1)
        self.assertIn("cannot open", completed.stderr)

    def test_usage(self):
        self.assertEqual(run_heraldd("--version").returncode, 0)
        self.assertEqual(run_heraldd("--help").returncode, 0)
        self.assertEqual(run_heraldd("--bogus").returncode, 2)

    def test_db_override_and_newer_schema_refused(self):
        herald = Herald()
        try:
            other = os.path.join(herald.directory, "other.db")
            herald.args = ["--db", other]
            herald.start()
            herald.stop()
            self.assertTrue(os.path.exists(other))
            import sqlite3
            connection = sqlite3.connect(other)
            connection.execute("PRAGMA user_version = 999")
            connection.close()
            completed = run_heraldd("-c", herald.config_path, "--db", other)
            self.assertEqual(completed.returncode, 1)
            self.assertIn("newer than this heraldd knows", completed.stderr)
        finally:
            herald.cleanup()

    @unittest.skipUnless(os.environ.get("HERALD_RELEASE_HERALDD"), "no release build given")
    def test_release_build_serves(self):
        herald = Herald(binary=os.environ["HERALD_RELEASE_HERALDD"])
        try:
            herald.start()
            status, _, body = herald.request("POST", "/v1/tasks", body=task_request("REL-1"))
            self.assertEqual(status, 201)
            self.assertEqual(herald.request("GET", "/v1/tasks/%d" % body["task"]["id"])[0], 200)
            herald.stop()
        finally:
            herald.cleanup()


if __name__ == "__main__":
    unittest.main()
