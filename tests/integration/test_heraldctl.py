"""heraldctl through the real binary: its commands, and that it behaves as the CLIs
people know do (options anywhere, --help everywhere, one-line usage errors, exit
codes, --json on every command, tables that fit 80 columns in local time, and a bash
completion that knows every command and option)."""
import datetime
import json
import os
import re
import subprocess
import unittest

from harness import (HERALDCTL, Herald, HeraldTestCase, Receiver, closed_port_url,
                     task_request, wait_until)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COMPLETION = os.path.join(ROOT, "etc", "bash-completion", "heraldctl")


def run_ctl(*args, env=None):
    """heraldctl with exactly ARGS (no --url put first), COLUMNS unset (not a terminal:
    tables are never cut)."""
    environment = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    environment.update(env or {})
    completed = subprocess.run([HERALDCTL] + list(args), capture_output=True, text=True,
                               timeout=60, env=environment)
    return completed.returncode, completed.stdout, completed.stderr


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
        code, _, err = run_ctl("--url", closed_port_url(""), "tasks", "list")
        self.assertEqual(code, 3)
        self.assertIn("cannot reach", err)


class ConventionTest(HeraldTestCase, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # A task that fails into manual handling, with a long URL and business id, so
        # every table has something wide in it.
        long_url = closed_port_url("/" + "very-long-path/" * 8 + "notify")
        status, _, body = cls.herald.request("POST", "/v1/tasks", body=task_request(
            "P" + "2026112600000000" * 3, long_url, max_retry=1))
        assert status == 201, body
        cls.task_id = body["task"]["id"]
        cls.herald.wait_for_status(cls.task_id, "failed")
        cls.url = cls.herald.url()

    def test_options_before_or_after_the_command_words(self):
        task = str(self.task_id)
        answers = [run_ctl("--json", "--url", self.url, "tasks", "get", task),
                   run_ctl("tasks", "get", task, "--json", "--url", self.url),
                   run_ctl("tasks", "--url=" + self.url, "get", "--json", task)]
        for code, out, err in answers:
            self.assertEqual(code, 0, err)
            self.assertEqual(json.loads(out)["task"]["id"], self.task_id)
        code, out, err = run_ctl("manual", "list", "--json", "--state", "open", "--url", self.url)
        self.assertEqual(code, 0, err)
        self.assertIn(self.task_id, [e["task_id"] for e in json.loads(out)["entries"]])

    def commands(self):
        """Every command's words, from heraldctl --help."""
        code, out, _ = run_ctl("--help")
        self.assertEqual(code, 0)
        found = []
        for line in out.splitlines():
            match = re.match(r"^  ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?(?: |$)", line)
            if match:
                found.append([w for w in match.groups() if w])
        self.assertGreaterEqual(len(found), 10, out)
        return found

    def test_help_everywhere_on_stdout_with_status_0(self):
        asked = [["--help"], ["-h"], ["tasks", "--help"], ["manual", "-h"]]
        asked += [words + [flag] for words in self.commands() for flag in ("--help", "-h")]
        asked.append(["manual", "retry", "1", "--note", "x", "--help"])  # -h wins
        for args in asked:
            code, out, err = run_ctl(*args)
            self.assertEqual((code, err), (0, ""), args)
            self.assertIn("usage", out, args)

    def test_usage_errors_are_one_line_with_status_2(self):
        for args in (["bogus"], ["tasks", "bogus"], ["tasks", "list", "--bogus"],
                     ["tasks", "get"], ["tasks", "get", "x"], ["manual", "resolve", "1"],
                     ["--url"], ["secret", "new", "extra"], []):
            code, out, err = run_ctl(*args)
            self.assertEqual(code, 2, args)
            self.assertEqual(out, "", args)
            self.assertEqual(len(err.strip().splitlines()), 1, (args, err))
            self.assertIn("--help", err, args)

    def test_exit_codes(self):
        self.assertEqual(run_ctl("--url", self.url, "tasks", "get", str(self.task_id))[0], 0)
        self.assertEqual(run_ctl("--url", self.url, "tasks", "get", "999999")[0], 1)  # not found
        self.assertEqual(run_ctl("--url", self.url, "tasks", "list", "--status", "x")[0], 1)
        self.assertEqual(run_ctl("--url", self.url, "tasks", "get")[0], 2)
        self.assertEqual(run_ctl("--url", closed_port_url(""), "alerts")[0], 3)
        # Something that is not heraldd answers: not reached either.
        impostor = Receiver(lambda received: (200, {"Content-Type": "text/html"}, b"<html>"))
        self.addCleanup(impostor.close)
        code, _, err = run_ctl("--url", impostor.url(""), "tasks", "list")
        self.assertEqual(code, 3, err)

    def test_json_on_every_command_that_prints(self):
        task = str(self.task_id)
        for args in (["tasks", "get", task], ["tasks", "list"], ["tasks", "attempts", task],
                     ["manual", "list"], ["manual", "show", task], ["alerts"], ["instances"],
                     ["manual", "retry-all", "--all", "--dry-run"], ["secret", "new"]):
            code, out, err = run_ctl("--url", self.url, "--json", *args)
            self.assertEqual(code, 0, (args, err))
            self.assertIsInstance(json.loads(out), dict, args)

    def test_piped_tables_are_never_cut(self):
        """Issue 23, item 11: `heraldctl ... | grep` finds what it looks for: output that
        is not a terminal is never cut to a width (as gh, kubectl and ls do)."""
        long_id = "P2026112600" + "9" * 60
        status, _, body = self.herald.create(business_id=long_id)
        self.assertEqual(status, 201, body)
        for args in (["tasks", "list"], ["tasks", "get", str(body["task"]["id"])]):
            code, out, err = run_ctl("--url", self.url, *args)
            self.assertEqual(code, 0, (args, err))
            self.assertIn(long_id, out, args)
            self.assertNotIn("~\n", out, args)

    def test_tables_fit_80_columns_in_local_time_unless_utc(self):
        task = str(self.task_id)
        for args in (["tasks", "get", task], ["tasks", "list"], ["tasks", "attempts", task],
                     ["manual", "list"], ["manual", "show", task], ["alerts"], ["instances"]):
            code, out, err = run_ctl("--url", self.url, *args, env={"COLUMNS": "80"})
            self.assertEqual(code, 0, (args, err))
            widest = max(len(line) for line in out.splitlines())
            self.assertLessEqual(widest, 80, (args, out))
        created = self.herald.get_task(self.task_id)["created_at"]  # RFC 3339, UTC
        moment = datetime.datetime.strptime(created, "%Y-%m-%dT%H:%M:%S.%fZ")
        tokyo = (moment + datetime.timedelta(hours=9)).strftime("%Y-%m-%d %H:%M:%S")
        code, out, _ = run_ctl("--url", self.url, "tasks", "get", task, env={"TZ": "JST-9"})
        self.assertRegex(out, r"created_at\s+%s\n" % tokyo)
        code, out, _ = run_ctl("--url", self.url, "tasks", "get", task, "--utc",
                               env={"TZ": "JST-9"})
        self.assertRegex(out, r"created_at\s+%sZ\n" % moment.strftime("%Y-%m-%d %H:%M:%S"))

    def complete(self, line):
        """What the bash completion offers for LINE (the cursor at its end)."""
        script = ('source "$1"; read -ra COMP_WORDS <<< "$2"; [[ $2 == *" " ]] && '
                  'COMP_WORDS+=(""); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _heraldctl; '
                  'printf "%s\\n" "${COMPREPLY[@]}"')
        completed = subprocess.run(["bash", "-c", script, "bash", COMPLETION, line],
                                   capture_output=True, text=True, timeout=30)
        self.assertEqual(completed.returncode, 0, completed.stderr)
        return set(completed.stdout.split())

    def test_bash_completion_knows_every_command_and_option(self):
        code, help_text, _ = run_ctl("--help")
        for words in self.commands():
            self.assertIn(words[0], self.complete("heraldctl "))
            if len(words) == 2:
                self.assertIn(words[1], self.complete("heraldctl %s " % words[0]))
            # This command's own line ("receivers" is not "receivers pause ...").
            usage = [l for l in help_text.splitlines()
                     if re.match(r"^  %s(?: [^a-z]|$)" % re.escape(" ".join(words)), l)]
            for option in re.findall(r"--[a-z-]+", usage[0]):
                self.assertIn(option, self.complete("heraldctl %s --" % " ".join(words)),
                              (words, option))
        for option in ("--json", "--utc", "--url", "--token-file"):
            self.assertIn(option, self.complete("heraldctl tasks list --"))
        self.assertEqual(self.complete("heraldctl manual list --state "),
                         {"open", "resolved", "all"})


if __name__ == "__main__":
    unittest.main()
