"""Starting heraldd: configuration errors, --check-config, the release build."""
import os
import shutil
import sqlite3
import subprocess
import tempfile
import unittest

from database import TestDatabase
from harness import HERALDD, Herald, sqlite_only, task_request


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
        directory = tempfile.mkdtemp(prefix="herald-check-")
        self.addCleanup(shutil.rmtree, directory, True)
        completed = run_heraldd("-c", "etc/herald.conf", "--check-config",
                                "--db", os.path.join(directory, "herald.db"))
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertIn("configuration OK", completed.stdout)
        self.assertIn("schema version 0", completed.stdout)
        self.assertFalse(os.path.exists(os.path.join(directory, "herald.db")))  # nothing made
        completed = run_heraldd("-c", "/nonexistent.conf", "--check-config")
        self.assertEqual(completed.returncode, 1)
        self.assertIn("/nonexistent.conf: cannot open: No such file or directory",
                      completed.stderr)

    def test_check_config_checks_what_start_up_checks(self):
        """Item 13: --check-config passes exactly when start-up would (but for the socket)."""
        herald = Herald()
        self.addCleanup(herald.cleanup)
        directory = herald.directory
        short = os.path.join(directory, "short-tokens")
        with open(short, "w") as f:
            f.write("ops:tooshort\n")
        newer = TestDatabase(directory + "/newer")  # a schema from a newer heraldd
        self.addCleanup(newer.drop)
        if newer.backend == "postgresql":
            newer.execute("CREATE TABLE schema_migrations (version integer PRIMARY KEY,"
                          " name text NOT NULL, applied_at bigint NOT NULL);"
                          " INSERT INTO schema_migrations VALUES (999, 'future', 0)")
        else:
            os.mkdir(directory + "/newer")
            newer.execute("PRAGMA user_version = 999")
        cases = [
            ("[server]\napi_token_file = %s/missing\n" % directory, "missing"),
            ("[server]\napi_token_file = %s\n" % short, "shorter than 16"),
            ("[delivery]\nca_file = %s/no-such-bundle.pem\n" % directory, "ca_file"),
            ("[alert]\nwebhook_url = ftp://alerts.example/\n", "webhook_url"),
            ("[storage]\npath = %s/no/such/dir/herald.db\n" % directory,
             "no/such/dir/herald.db"),
            ("[storage]\n%s\n" % newer.config_line(), "newer than this heraldd"),
        ]
        for text, message in cases:
            with self.subTest(config=text):
                path = os.path.join(directory, "case.conf")
                with open(path, "w") as f:
                    f.write(text)
                    if "[storage]" not in text:
                        f.write("[storage]\n%s\n" % herald.db.config_line())
                checked = run_heraldd("-c", path, "--check-config")
                self.assertEqual(checked.returncode, 1, checked.stdout + checked.stderr)
                self.assertIn(message, checked.stderr)
                started = run_heraldd("-c", path)  # start-up refuses it the same way
                self.assertEqual(started.returncode, 1, started.stderr)
                self.assertIn(message, started.stderr)

    def test_one_key_alone_never_fails_on_a_default(self):
        """Item 14: timeout = 1s alone starts (connect_timeout, 5s by default, follows)."""
        herald = Herald(config="[delivery]\ntimeout = 1s\n")
        self.addCleanup(herald.cleanup)
        checked = run_heraldd("-c", herald.config_path, "--check-config")
        self.assertEqual(checked.returncode, 0, checked.stderr)
        herald.start()
        herald.stop()
        herald = Herald(config="[delivery]\ntimeout = 1s\nconnect_timeout = 2s\n")
        self.addCleanup(herald.cleanup)
        checked = run_heraldd("-c", herald.config_path, "--check-config")
        self.assertEqual(checked.returncode, 1)
        self.assertRegex(checked.stderr, r"herald.conf:\d+: \[delivery\] connect_timeout")

    def test_log_lines_carry_a_timestamp_unless_journald_stamps_them(self):
        """Item 17: ts= when stderr is not the journal (JOURNAL_STREAM names it)."""
        read_end, write_end = os.pipe()
        status = os.fstat(write_end)
        for journal, stamped in ((None, True), ("%d:%d" % (status.st_dev, status.st_ino), False),
                                 ("1:2", True)):
            environment = dict(os.environ)
            environment.pop("JOURNAL_STREAM", None)
            if journal:
                environment["JOURNAL_STREAM"] = journal
            completed = subprocess.run([HERALDD, "-c", "/nonexistent.conf"], stderr=write_end,
                                       env=environment, timeout=60)
            self.assertEqual(completed.returncode, 1)
            line = os.read(read_end, 65536).decode()
            self.assertIn("event=config_invalid", line)
            if stamped:
                self.assertRegex(line, r"^<3>ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=error ")
            else:
                self.assertRegex(line, r"^<3>level=error ")
        os.close(read_end)
        os.close(write_end)

    def test_usage(self):
        self.assertEqual(run_heraldd("--version").returncode, 0)
        self.assertEqual(run_heraldd("--help").returncode, 0)
        self.assertEqual(run_heraldd("--bogus").returncode, 2)

    @sqlite_only("--db with a path (test_postgresql has --db with a URL)")
    def test_db_override_and_newer_schema_refused(self):
        herald = Herald()
        try:
            other = os.path.join(herald.directory, "other.db")
            herald.args = ["--db", other]
            herald.start()
            herald.stop()
            self.assertTrue(os.path.exists(other))
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
