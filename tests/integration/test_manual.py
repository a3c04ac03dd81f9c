"""The manual-handling API and heraldctl manual, through the real binaries."""
import json
import os
import re
import time
import unittest

from harness import Herald, Receiver, closed_port_url, task_request, wait_until

CONFIG = """[retry]
max_retry = 2
base_delay = 50ms
jitter = 0
[business.ORDER_UPDATE]
max_retry = 3
"""
TOKEN = "ops-token-0123456789abcdef"


def count_open(herald, business_type):
    return herald.db.value("SELECT count(*) FROM manual m JOIN tasks t ON t.id = m.task_id"
                           " WHERE m.state = 'open' AND t.business_type = ?", business_type)


class ManualTest(unittest.TestCase):
    def setUp(self):
        self.broken = Receiver(lambda r: (500, {}, b"broken"))
        self.fixed = Receiver()
        self.herald = Herald(config=CONFIG, token_lines=["ops:" + TOKEN])
        self.herald.token = TOKEN
        self.herald.start()

    def tearDown(self):
        try:
            if self.herald.process is not None:
                self.herald.stop()
        finally:
            self.herald.cleanup()
            self.broken.close()
            self.fixed.close()

    def api(self, method, path, body=None):
        return self.herald.request(method, path, body=body, headers=self.herald.auth_headers())

    def failed_task(self, business_id, business_type="PAYMENT_SUCCESS", target=None):
        status, _, body = self.api("POST", "/v1/tasks", task_request(
            business_id, business_type=business_type, target_url=target or self.broken.url()))
        self.assertEqual(status, 201, body)
        return self.herald.wait_for_status(body["task"]["id"], "failed")

    def ctl(self, *args):
        return self.herald.ctl(*args, token_file=self.herald.token_file)

    def test_repairs_are_logged_with_actor_and_count(self):
        """Item 17: every manual action leaves a log line naming who did it."""
        retried = self.failed_task("M-LOG-1")
        resolved = self.failed_task("M-LOG-2")
        bulk = [self.failed_task("M-LOG-B%d" % i, business_type="ORDER_UPDATE") for i in range(2)]
        mark = len(self.herald.lines)
        self.assertEqual(self.api("POST", "/v1/manual/%d/retry" % retried["id"],
                                  {"target_url": self.fixed.url()})[0], 200)
        self.herald.wait_for_log(r'event=manual_retry actor="ops" task_id=%d max_retry=\d+ '
                                 r'target_url_changed=yes payload_changed=no' % retried["id"],
                                 start=mark)
        self.assertEqual(self.api("POST", "/v1/manual/%d/resolve" % resolved["id"],
                                  {"note": "done by hand"})[0], 200)
        self.herald.wait_for_log(r'event=manual_resolve actor="ops" task_id=%d' % resolved["id"],
                                 start=mark)
        self.assertEqual(self.api("POST", "/v1/manual/retry",
                                  {"business_type": "ORDER_UPDATE"})[0], 200)
        self.herald.wait_for_log(r'event=manual_bulk_retry actor="ops" matched=2 retried=2 '
                                 r'dry_run=no business_type=ORDER_UPDATE', start=mark)
        self.assertTrue(all(re.match(r"<\d>ts=\S+ level=", line) for line in self.herald.lines[mark:]))

    def test_list_filter_and_paginate(self):
        a = self.failed_task("M-A")
        b = self.failed_task("M-B", business_type="ORDER_UPDATE")
        c = self.failed_task("M-C")
        status, _, body = self.api("GET", "/v1/manual")
        self.assertEqual(status, 200)
        self.assertEqual([e["task_id"] for e in body["entries"]], [a["id"], b["id"], c["id"]])
        entry = body["entries"][0]
        self.assertEqual(entry["business_id"], "M-A")
        self.assertEqual(entry["reason"], "exhausted")
        self.assertEqual(entry["attempts"], 2)
        self.assertEqual(entry["last_status_code"], 500)
        self.assertEqual(entry["state"], "open")
        self.assertIsNone(entry["resolved_at"])
        _, _, body = self.api("GET", "/v1/manual?business_type=ORDER_UPDATE")
        self.assertEqual([e["task_id"] for e in body["entries"]], [b["id"]])
        self.assertEqual(body["entries"][0]["attempts"], 3)
        _, _, first = self.api("GET", "/v1/manual?limit=2")
        self.assertEqual(len(first["entries"]), 2)
        _, _, rest = self.api("GET", "/v1/manual?limit=2&after=%d" % first["next_after"])
        self.assertEqual([e["task_id"] for e in rest["entries"]], [c["id"]])
        self.assertIsNone(rest["next_after"])
        _, _, none = self.api("GET", "/v1/manual?since=2999-01-01T00:00:00Z")
        self.assertEqual(none["entries"], [])
        for query, field in (("state=closed", "state"), ("since=yesterday", "since"),
                             ("limit=0", "limit")):
            status, _, body = self.api("GET", "/v1/manual?" + query)
            self.assertEqual((status, body["error"]["field"]), (400, field))
        code, out, err = self.ctl("manual", "list", "--type", "PAYMENT_SUCCESS")
        self.assertEqual(code, 0, err)
        lines = out.strip().splitlines()
        self.assertTrue(lines[0].startswith("TASK"))
        self.assertEqual([int(l.split()[0]) for l in lines[1:]], [a["id"], c["id"]])

    def test_retry_with_corrected_url_keeps_the_webhook_id(self):
        task = self.failed_task("M-FIX")
        broken_ids = {r.headers["webhook-id"] for r in self.broken.received()}
        code, out, err = self.ctl("manual", "retry", str(task["id"]), "--target-url",
                                  self.fixed.url(), "--note", "receiver moved")
        self.assertEqual(code, 0, err)
        request = self.fixed.wait_for(1)[0]
        self.assertEqual({request.headers["webhook-id"]}, broken_ids)
        self.assertEqual(request.headers["x-herald-attempt"], "3")  # the history goes on
        done = self.herald.wait_for_status(task["id"], "succeeded")
        self.assertEqual(done["target_url"], self.fixed.url())
        self.assertEqual(done["max_retry"], 2 + 2)  # a fresh budget on top of the spent one
        _, _, detail = self.api("GET", "/v1/manual/%d" % task["id"])
        self.assertEqual([a["error_class"] for a in detail["attempts"]],
                         ["http_status", "http_status", None])
        entry = detail["entries"][0]
        self.assertEqual((entry["state"], entry["resolution"], entry["note"]),
                         ("resolved", "retried", "receiver moved"))
        action = detail["actions"][0]
        self.assertEqual((action["action"], action["actor"]), ("retry", "ops"))
        self.assertEqual(action["details"]["target_url"], self.fixed.url())
        # Not in the open list any more.
        status, _, body = self.api("POST", "/v1/manual/%d/retry" % task["id"])
        self.assertEqual((status, body["error"]["code"]), (409, "not_in_manual"))
        # The client retrying its original request gets this task, not a new one.
        status, _, body = self.api("POST", "/v1/tasks", task_request(
            "M-FIX", target_url=self.broken.url()))
        self.assertEqual((status, body.get("duplicate"), body["task"]["id"]),
                         (200, True, task["id"]))
        code, out, err = self.ctl("manual", "show", str(task["id"]))
        self.assertEqual(code, 0, err)
        self.assertIn("attempts:", out)
        self.assertIn("receiver moved", out)

    def test_retry_with_corrected_payload_from_a_file(self):
        task = self.failed_task("M-PAYLOAD")
        path = os.path.join(self.herald.directory, "payload.json")
        with open(path, "w") as f:
            f.write('{"order": 12345678901234567890, "fixed": true}')
        code, _, err = self.ctl("manual", "retry", str(task["id"]), "--payload-file", path,
                                "--target-url", self.fixed.url())
        self.assertEqual(code, 0, err)
        self.assertEqual(self.fixed.wait_for(1)[0].body,
                         b'{"order":12345678901234567890,"fixed":true}')

    def test_retry_with_edited_headers(self):
        status, _, body = self.api("POST", "/v1/tasks", task_request(
            "M-HEADERS", target_url=self.broken.url(), headers={"X-Tenant": "old", "X-Keep": "1"}))
        self.assertEqual(status, 201, body)
        task = self.herald.wait_for_status(body["task"]["id"], "failed")
        self.assertEqual(task["headers"], {"X-Tenant": "old", "X-Keep": "1"})
        # heraldctl: --header replaces the task's headers with those given
        code, _, err = self.ctl("manual", "retry", str(task["id"]), "--target-url",
                                self.fixed.url(), "--header", "X-Tenant: new",
                                "--header", "X-Extra:two words")
        self.assertEqual(code, 0, err)
        request = self.fixed.wait_for(1)[0]
        self.assertEqual((request.headers.get("x-tenant"), request.headers.get("x-extra"),
                          request.headers.get("x-keep")), ("new", "two words", None))
        done = self.herald.wait_for_status(task["id"], "succeeded")
        self.assertEqual(done["headers"], {"X-Tenant": "new", "X-Extra": "two words"})
        _, _, detail = self.api("GET", "/v1/manual/%d" % task["id"])
        self.assertEqual(detail["actions"][0]["details"].get("headers_replaced"), True)
        # the API: {} sends none (heraldctl --no-headers)
        status, _, body = self.api("POST", "/v1/tasks", task_request(
            "M-NOHEADERS", target_url=self.broken.url(), headers={"X-Tenant": "old"}))
        task = self.herald.wait_for_status(body["task"]["id"], "failed")
        code, _, err = self.ctl("manual", "retry", str(task["id"]), "--target-url",
                                self.fixed.url(), "--no-headers")
        self.assertEqual(code, 0, err)
        done = self.herald.wait_for_status(task["id"], "succeeded")
        self.assertEqual(done["headers"], {})
        self.assertNotIn("x-tenant", self.fixed.wait_for(2)[1].headers)
        # intake's rules, named by field; a malformed --header is a usage error
        task = self.failed_task("M-BADHEADERS")
        for headers, field in (({"Host": "x"}, "headers.Host"), ({"X-A": "a\nb"}, "headers.X-A"),
                               ({"X A": "1"}, "headers.X A"), ([1], "headers"),
                               ({"X-%d" % i: "v" for i in range(21)}, "headers")):
            status, _, answer = self.api("POST", "/v1/manual/%d/retry" % task["id"],
                                         {"headers": headers})
            self.assertEqual((status, answer["error"]["field"]), (422, field), answer)
        self.assertEqual(self.ctl("manual", "retry", str(task["id"]), "--header", "novalue")[0], 2)
        self.assertEqual(self.herald.get_task(task["id"])["status"], "failed")

    def test_retry_body_is_validated_like_intake(self):
        task = self.failed_task("M-VALID")
        for body, field in (({"target_url": "ftp://x/"}, "target_url"), ({"payload": 5}, "payload"),
                            ({"max_retry": 0}, "max_retry"), ({"bogus": 1}, "bogus")):
            status, _, answer = self.api("POST", "/v1/manual/%d/retry" % task["id"], body)
            self.assertEqual((status, answer["error"]["field"]), (422, field))
        status, _, _ = self.api("POST", "/v1/manual/999999/retry")
        self.assertEqual(status, 404)
        self.assertEqual(self.herald.get_task(task["id"])["status"], "failed")

    def test_resolve(self):
        task = self.failed_task("M-RESOLVE")
        status, _, body = self.api("POST", "/v1/manual/%d/resolve" % task["id"], {})
        self.assertEqual((status, body["error"]["field"]), (422, "note"))
        code, _, err = self.ctl("manual", "resolve", str(task["id"]), "--note", "refunded by hand")
        self.assertEqual(code, 0, err)
        detail = self.api("GET", "/v1/manual/%d" % task["id"])[2]
        self.assertEqual(detail["entries"][0]["resolution"], "resolved")
        self.assertEqual(detail["actions"][0]["note"], "refunded by hand")
        self.assertEqual(self.herald.get_task(task["id"])["status"], "failed")
        self.assertEqual(self.api("GET", "/v1/manual")[2]["entries"], [])
        _, _, resolved = self.api("GET", "/v1/manual?state=resolved")
        self.assertEqual(len(resolved["entries"]), 1)
        code, _, err = self.ctl("manual", "resolve", str(task["id"]), "--note", "again")
        self.assertEqual(code, 1)
        self.assertIn("not_in_manual", err)

    def test_bulk_retry_with_dry_run(self):
        # The receiver is down for all of them, then comes back.
        state = {"down": True}
        flaky = Receiver(lambda r: (503, {}, b"") if state["down"] else (200, {}, b"ok"))
        try:
            tasks = [self.failed_task("M-BULK-%d" % i, target=flaky.url()) for i in range(4)]
            other = self.failed_task("M-OTHER", business_type="ORDER_UPDATE")
            code, out, err = self.ctl("manual", "retry-all", "--type", "PAYMENT_SUCCESS",
                                      "--dry-run")
            self.assertEqual(code, 0, err)
            self.assertIn("matched 4, retried 0", out)
            self.assertEqual({self.herald.get_task(t["id"])["status"] for t in tasks}, {"failed"})
            state["down"] = False
            code, out, err = self.ctl("manual", "retry-all", "--type", "PAYMENT_SUCCESS",
                                      "--note", "receiver back")
            self.assertEqual(code, 0, err)
            self.assertIn("matched 4, retried 4", out)
            for task in tasks:
                self.herald.wait_for_status(task["id"], "succeeded")
            self.assertEqual(self.herald.get_task(other["id"])["status"], "failed")
            self.assertEqual(self.api("GET", "/v1/manual")[2]["entries"][0]["task_id"], other["id"])
            action = self.api("GET", "/v1/manual/%d" % tasks[0]["id"])[2]["actions"][0]
            self.assertEqual((action["action"], action["note"]), ("bulk_retry", "receiver back"))
        finally:
            flaky.close()

    def test_bulk_retry_commits_in_chunks(self):
        """A bulk retry of many entries commits 500 at a time, reporting progress."""
        closed = closed_port_url()
        tasks = [task_request("M-CHUNK-%d" % i, target_url=closed, business_type="INVENTORY",
                              max_retry=1) for i in range(1100)]
        for start in range(0, len(tasks), 550):
            status, _, body = self.api("POST", "/v1/tasks/batch", {"tasks": tasks[start:start + 550]})
            self.assertEqual(status, 201, body)
        wait_until(lambda: self.api("GET", "/v1/tasks?business_id=M-CHUNK-1099")[2]["tasks"][0]
                   ["status"] == "failed", timeout=60, message="the tasks to fail")
        wait_until(lambda: count_open(self.herald, "INVENTORY") == 1100, timeout=60,
                   message="every task in manual handling")
        mark = len(self.herald.lines)
        status, _, answer = self.api("POST", "/v1/manual/retry", {"business_type": "INVENTORY"})
        self.assertEqual(status, 200, answer)
        self.assertEqual((answer["matched"], answer["retried"]), (1100, 1100))
        self.herald.wait_for_log(r"event=manual_bulk_progress action=retry changed=500 "
                                 r"written=500 matched=1100", start=mark)
        self.herald.wait_for_log(r"event=manual_bulk_progress action=retry changed=1000 "
                                 r"written=1000", start=mark)
        self.herald.wait_for_log(r"event=manual_bulk_retry .*matched=1100 retried=1100 .*"
                                 r"complete=yes", start=mark)
        self.assertEqual(self.herald.db.value(
            "SELECT count(*) FROM actions WHERE action = 'bulk_retry'"), 1100)

    def test_bulk_resolve_a_selection_after_its_dry_run_count(self):
        """An operator's selection (task ids) and filters (reason) choose what a bulk
        retry or resolve takes; the dry run counts exactly what the real one does."""
        gone = Receiver(lambda r: (410, {}, b"gone"))
        self.addCleanup(gone.close)
        exhausted = [self.failed_task("M-SEL-%d" % i) for i in range(3)]
        departed = self.failed_task("M-GONE", target=gone.url())
        entries = self.api("GET", "/v1/manual?reason=gone")[2]["entries"]
        self.assertEqual([e["task_id"] for e in entries], [departed["id"]])
        self.assertEqual(len(self.api("GET", "/v1/manual?reason=exhausted")[2]["entries"]), 3)
        self.assertEqual(self.api("GET", "/v1/manual?reason=bored")[0], 400)
        chosen = [exhausted[0]["id"], exhausted[2]["id"]]
        entry_of = {e["task_id"]: e["id"] for e in self.api("GET", "/v1/manual")[2]["entries"]}
        bound = entry_of[exhausted[2]["id"]]  # the highest entry matched
        selection = {"task_ids": chosen + [chosen[0]], "note": "refunded by hand"}  # a repeat
        status, _, answer = self.api("POST", "/v1/manual/resolve", dict(selection, dry_run=True))
        self.assertEqual((status, answer), (200, {"matched": 2, "resolved": 0, "dry_run": True,
                                                  "through_id": bound}))
        self.assertEqual({self.herald.get_task(i)["status"] for i in chosen}, {"failed"})
        status, _, answer = self.api("POST", "/v1/manual/resolve", selection)
        self.assertEqual((status, answer), (200, {"matched": 2, "resolved": 2, "dry_run": False,
                                                  "through_id": bound}))
        open_ids = [e["task_id"] for e in self.api("GET", "/v1/manual")[2]["entries"]]
        self.assertEqual(open_ids, [exhausted[1]["id"], departed["id"]])
        action = self.api("GET", "/v1/manual/%d" % chosen[0])[2]["actions"][0]
        self.assertEqual((action["action"], action["note"]), ("resolve", "refunded by hand"))
        # Filters combine: reason gone and a selection that does not hold it match nothing.
        status, _, answer = self.api("POST", "/v1/manual/retry",
                                     {"reason": "gone", "task_ids": [exhausted[1]["id"]]})
        self.assertEqual((status, answer["matched"]), (200, 0))
        # A resolve must say why; a selection must be ids.
        status, _, answer = self.api("POST", "/v1/manual/resolve", {"reason": "gone"})
        self.assertEqual((status, answer["error"]["field"]), (422, "note"))
        for bad in ([], [0], ["1"], [1.5], list(range(1, 1002))):
            status, _, answer = self.api("POST", "/v1/manual/resolve",
                                         {"task_ids": bad, "note": "x"})
            self.assertEqual((status, answer["error"]["field"]), (422, "task_ids"), bad)
        # The same through heraldctl: count, then resolve by reason.
        code, out, err = self.ctl("manual", "resolve-all", "--reason", "gone", "--note", "closed",
                                  "--dry-run")
        self.assertEqual((code, out.strip()), (0, "matched 1, resolved 0 (dry run: nothing was "
                                                  "changed)\nto act on exactly these, run it "
                                                  "again with --through-id %d"
                                                  % entry_of[departed["id"]]), err)
        code, out, err = self.ctl("manual", "resolve-all", "--reason", "gone", "--note", "closed")
        self.assertEqual((code, out.strip()), (0, "matched 1, resolved 1"), err)
        code, out, err = self.ctl("manual", "retry-all", "--task", str(exhausted[1]["id"]),
                                  "--dry-run")
        self.assertEqual((code, out.strip().splitlines()[0]),
                         (0, "matched 1, retried 0 (dry run: nothing was changed)"), err)
        self.assertEqual(self.ctl("manual", "resolve-all", "--all")[0], 2)  # --note needed...
        self.assertEqual(self.ctl("manual", "resolve-all", "--note", "x")[0], 2)  # ...and a choice

    def test_bulk_run_takes_only_what_its_dry_run_counted(self):
        """A dry run's through_id binds the confirmed run: entries that fail between
        the two are left open, whether the run comes from the API or heraldctl. A
        run without it (an older client) takes what matches when it runs."""
        counted = [self.failed_task("M-BOUND-%d" % i) for i in range(3)]
        status, _, dry = self.api("POST", "/v1/manual/resolve",
                                  {"business_type": "PAYMENT_SUCCESS", "dry_run": True})
        self.assertEqual((status, dry["matched"]), (200, 3), dry)
        entries = self.api("GET", "/v1/manual")[2]["entries"]
        self.assertEqual(dry["through_id"], max(e["id"] for e in entries))
        late = [self.failed_task("M-LATE-%d" % i) for i in range(2)]  # after the dry run
        status, _, answer = self.api("POST", "/v1/manual/resolve", {
            "business_type": "PAYMENT_SUCCESS", "note": "counted", "through_id": dry["through_id"]})
        self.assertEqual((status, answer), (200, {"matched": 3, "resolved": 3, "dry_run": False,
                                                  "through_id": dry["through_id"]}))
        open_ids = [e["task_id"] for e in self.api("GET", "/v1/manual")[2]["entries"]]
        self.assertEqual(open_ids, [t["id"] for t in late])
        # The bulk retry binds the same way; a bound below every entry takes nothing.
        status, _, dry = self.api("POST", "/v1/manual/retry", {"all": True, "dry_run": True})
        self.assertEqual((status, dry["matched"]), (200, 2), dry)
        status, _, answer = self.api("POST", "/v1/manual/retry", {"all": True, "through_id": 0})
        self.assertEqual((status, answer["matched"], answer["through_id"]), (200, 0, 0), answer)
        # heraldctl prints the bound after a dry run and passes it with --through-id.
        code, out, err = self.ctl("manual", "resolve-all", "--type", "PAYMENT_SUCCESS",
                                  "--dry-run", "--note", "x")
        self.assertEqual(code, 0, err)
        bound = int(re.search(r"--through-id (\d+)", out).group(1))
        self.assertEqual(bound, dry["through_id"])
        later = self.failed_task("M-LATER")
        code, out, err = self.ctl("manual", "resolve-all", "--type", "PAYMENT_SUCCESS",
                                  "--through-id", str(bound), "--note", "counted")
        self.assertEqual((code, out.strip()), (0, "matched 2, resolved 2"), err)
        open_ids = [e["task_id"] for e in self.api("GET", "/v1/manual")[2]["entries"]]
        self.assertEqual(open_ids, [later["id"]])
        self.assertEqual(self.ctl("manual", "resolve-all", "--all", "--note", "x",
                                  "--through-id", "abc")[0], 2)
        # Without the bound, a run takes every entry matching when it runs.
        status, _, answer = self.api("POST", "/v1/manual/resolve", {"all": True, "note": "rest"})
        self.assertEqual((status, answer["resolved"], answer["through_id"]),
                         (200, 1, self.api("GET", "/v1/manual?state=all")[2]["entries"][-1]["id"]))
        # A bound is checked like every field, and is not a filter on its own.
        for bad in (-1, 1.5, "3", True, None, 2 ** 53):
            status, _, answer = self.api("POST", "/v1/manual/resolve",
                                         {"all": True, "note": "x", "through_id": bad})
            self.assertEqual((status, answer["error"]["code"], answer["error"]["field"]),
                             (422, "validation_failed", "through_id"), bad)
            self.assertIn("through_id", answer["error"]["message"])
        status, _, answer = self.api("POST", "/v1/manual/retry", {"through_id": 5})
        self.assertEqual((status, answer["error"]["field"]), (422, "all"))

    def test_heraldctl_usage(self):
        self.assertEqual(self.ctl("manual", "resolve", "1")[0], 2)  # --note is required
        self.assertEqual(self.ctl("manual", "retry")[0], 2)
        self.assertEqual(self.ctl("manual", "retry", "1", "--max-retry", "0")[0], 2)
        code, out, _ = self.ctl("manual", "retry", "--help")
        self.assertEqual(code, 0)
        self.assertIn("--target-url", out)
        code, out, _ = self.herald.ctl("--help")
        self.assertEqual(code, 0)
        self.assertIn("manual retry-all", out)


if __name__ == "__main__":
    unittest.main()
