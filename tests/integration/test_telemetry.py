"""OpenTelemetry traces (issue 27), on both backends: heraldd exports spans over
OTLP/HTTP (protobuf, gzip) to a test collector that decodes them with the official
definitions (tests/js/otlp_collector.mjs); one trace per task, the intake span
(SERVER) the parent of each attempt span (CLIENT), a caller's traceparent continued
and its tracestate kept, the attributes of the HTTP conventions and herald's own, the
receiver's traceparent the attempt's span when its business type propagates and absent
when not; a collector that hangs or fails costs dropped spans (counted), never
deliveries; on PostgreSQL a trace begun on one heraldd and delivered by another is one
trace."""
import http.client
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest

import database
from database import TestDatabase
from harness import HERALDD, FrozenThread, Herald, Receiver, task_request, wait_until

JS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "js")
CALLER = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
CALLER_TRACE, CALLER_SPAN = CALLER[3:35], CALLER[36:52]


class Collector:
    """node otlp_collector.mjs: MODE accept, fail (500) or hang."""

    def __init__(self, mode="accept"):
        self.directory = tempfile.mkdtemp(prefix="herald-otlp-")
        self.out = os.path.join(self.directory, "spans.jsonl")
        self.process = subprocess.Popen(
            ["node", os.path.join(JS, "otlp_collector.mjs"), "--mode", mode, "--out", self.out],
            stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        self.port = int(re.match(r"listening (\d+)", line).group(1))

    def url(self):
        return "http://127.0.0.1:%d/v1/traces" % self.port

    def records(self):
        if not os.path.exists(self.out):
            return []
        with open(self.out) as f:
            return [json.loads(line) for line in f if line.endswith("\n")]

    def spans(self):
        return [r["span"] for r in self.records() if "span" in r]

    def requests(self):
        return [r["request"] for r in self.records() if "request" in r]

    def close(self):
        self.process.terminate()
        self.process.wait(timeout=10)
        shutil.rmtree(self.directory, ignore_errors=True)


def config(collector_url, extra=""):
    return """[retry]
max_retry = 3
base_delay = 50ms
jitter = 0
[telemetry]
endpoint = %s
interval = 50ms
headers = Authorization=Bearer%%20collector-token
[business.PROPAGATED]
propagate = true
max_retry = 3
base_delay = 50ms
jitter = 0
%s""" % (collector_url, extra)


def metric(herald, outcome):
    _, _, text = herald.request("GET", "/metrics")
    found = re.search(r'herald_telemetry_spans_total\{outcome="%s"\} (\d+)' % outcome, text)
    return int(found.group(1))


@unittest.skipUnless(shutil.which("node") and os.path.isdir(os.path.join(JS, "node_modules")),
                     "node and tests/js/node_modules are needed (make test-deps)")
class TelemetryTest(unittest.TestCase):
    def collector(self, mode="accept"):
        collector = Collector(mode)
        self.addCleanup(collector.close)
        return collector

    def herald(self, text, **options):
        herald = Herald(config=text, **options)
        self.addCleanup(herald.cleanup)
        herald.start()
        return herald

    def spans_of(self, collector, trace_id, count):
        return wait_until(lambda: (lambda s: s if len(s) >= count else None)(
            [s for s in collector.spans() if s["trace_id"] == trace_id]),
            message="%d spans of trace %s" % (count, trace_id))

    def test_a_callers_trace_is_continued_through_every_attempt(self):
        collector = self.collector()
        answers = iter([(500, {}, b"down"), (200, {}, b"ok")])
        receiver = Receiver(lambda received: next(answers))
        self.addCleanup(receiver.close)
        herald = self.herald(config(collector.url()))
        task = task_request("T-1", business_type="PROPAGATED", target_url=receiver.url())
        code, _, body = herald.request("POST", "/v1/tasks", body=task, headers={
            "traceparent": CALLER, "tracestate": "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"})
        self.assertEqual(code, 201, body)
        task_id = body["task"]["id"]
        herald.wait_for_status(task_id, "succeeded")
        trace = herald.get_task(task_id)["trace"]
        self.assertEqual((trace["trace_id"], trace["sampled"]), (CALLER_TRACE, True))
        spans = self.spans_of(collector, CALLER_TRACE, 3)
        intake = [s for s in spans if s["kind_name"] == "SPAN_KIND_SERVER"]
        attempts = sorted((s for s in spans if s["kind_name"] == "SPAN_KIND_CLIENT"),
                          key=lambda s: s["attributes"]["herald.attempt"])
        self.assertEqual((len(intake), len(attempts)), (1, 2), spans)
        intake = intake[0]
        # The intake: a child of the caller's span, the task's stored context.
        self.assertEqual(intake["parent_span_id"], CALLER_SPAN)
        self.assertEqual(intake["span_id"], trace["span_id"])
        self.assertEqual(intake["name"], "POST /v1/tasks")
        self.assertEqual(intake["trace_state"], "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7")
        self.assertEqual(intake["attributes"], {
            "http.request.method": "POST", "http.route": "/v1/tasks",
            "http.response.status_code": 201, "herald.task.id": task_id,
            "herald.business_type": "PROPAGATED",
            "herald.webhook_id": body["task"]["webhook_id"]})
        self.assertEqual(intake["resource"]["service.name"], "herald")
        self.assertEqual(intake["scope"]["name"], "herald")
        # Each attempt: a child of the intake span, with its outcome.
        host, port = receiver.url().split("//")[1].split("/")[0].split(":")
        for number, span, status in ((1, attempts[0], 500), (2, attempts[1], 200)):
            self.assertEqual(span["parent_span_id"], intake["span_id"])
            self.assertEqual(span["name"], "POST")
            expected = {"http.request.method": "POST", "url.full": receiver.url(),
                        "server.address": host, "server.port": int(port),
                        "http.response.status_code": status, "herald.task.id": task_id,
                        "herald.business_type": "PROPAGATED", "herald.attempt": number,
                        "herald.webhook_id": body["task"]["webhook_id"]}
            if status == 500:
                expected["error.type"] = "http_status"
            self.assertEqual(span["attributes"], expected)
            self.assertEqual(span["status"]["code_name"],
                             "STATUS_CODE_ERROR" if status == 500 else "STATUS_CODE_UNSET")
            self.assertLessEqual(int(span["start_time_unix_nano"]), int(span["end_time_unix_nano"]))
        # The receiver got each attempt's own span as its parent, and the tracestate.
        received = receiver.received()
        self.assertEqual([r.headers.get("traceparent") for r in received],
                         ["00-%s-%s-01" % (CALLER_TRACE, s["span_id"]) for s in attempts])
        self.assertEqual({r.headers.get("tracestate") for r in received},
                         {"congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"})
        # The failed attempt's log line names its span.
        herald.wait_for_log(r"event=attempt_failed task_id=%d .* trace_id=%s span_id=%s"
                            % (task_id, CALLER_TRACE, attempts[0]["span_id"]))
        # Exports are gzipped protobuf with the configured headers.
        request = collector.requests()[0]
        self.assertEqual((request["content_type"], request["content_encoding"]),
                         ("application/x-protobuf", "gzip"))
        self.assertEqual(request["headers"]["authorization"], "Bearer collector-token")
        wait_until(lambda: metric(herald, "exported") >= 3)

    def test_each_task_gets_a_trace_of_its_own_and_nothing_propagates_by_default(self):
        collector = self.collector()
        receiver = Receiver()
        self.addCleanup(receiver.close)
        # The endpoint and the service's name from the standard variables.
        base = collector.url()[:-len("/v1/traces")]
        herald = self.herald(config(collector.url()).replace("endpoint = ", "; endpoint = "),
                             env={"OTEL_EXPORTER_OTLP_ENDPOINT": base + "/",
                                  "OTEL_SERVICE_NAME": "herald-east"})
        tasks = [task_request("B-%d" % i, target_url=receiver.url()) for i in range(3)]
        # An invalid traceparent is ignored, not an error.
        code, _, body = herald.request("POST", "/v1/tasks/batch", body={"tasks": tasks},
                                       headers={"traceparent": "00-xyz-01"})
        self.assertEqual(code, 201, body)
        ids = [t["id"] for t in body["tasks"]]
        for task_id in ids:
            herald.wait_for_status(task_id, "succeeded")
        traces = [herald.get_task(task_id)["trace"] for task_id in ids]
        self.assertEqual(len({t["trace_id"] for t in traces}), 3)
        for task_id, trace in zip(ids, traces):
            spans = self.spans_of(collector, trace["trace_id"], 2)
            intake = [s for s in spans if s["kind_name"] == "SPAN_KIND_SERVER"][0]
            attempt = [s for s in spans if s["kind_name"] == "SPAN_KIND_CLIENT"][0]
            self.assertEqual(intake["parent_span_id"], "")  # a root: no caller's trace
            self.assertEqual(intake["name"], "POST /v1/tasks/batch")
            self.assertEqual(intake["attributes"]["herald.task.id"], task_id)
            self.assertEqual(attempt["parent_span_id"], intake["span_id"])
            self.assertEqual(intake["resource"]["service.name"], "herald-east")
        self.assertEqual([r.headers.get("traceparent") for r in receiver.received()],
                         [None] * 3)
        # A repeated request is the same task, with the trace it was given first.
        code, _, again = herald.request("POST", "/v1/tasks", body=tasks[0],
                                        headers={"traceparent": CALLER})
        self.assertEqual((code, again["task"]["id"]), (200, ids[0]))
        self.assertEqual(herald.get_task(ids[0])["trace"], traces[0])

    def test_sampling_is_parent_based_with_a_ratio_for_new_traces(self):
        collector = self.collector()
        receiver = Receiver()
        self.addCleanup(receiver.close)
        herald = self.herald(config(collector.url()).replace(
            "[telemetry]\n", "[telemetry]\nsample_ratio = 0\n"))
        unsampled_caller = CALLER[:-2] + "00"
        other_trace = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        ids = {}
        for name, header in (("new", None), ("sampled", other_trace),
                             ("unsampled", unsampled_caller)):
            headers = {"traceparent": header} if header else {}
            code, _, body = herald.request("POST", "/v1/tasks", body=task_request(
                name, business_type="PROPAGATED", target_url=receiver.url()), headers=headers)
            self.assertEqual(code, 201, body)
            ids[name] = body["task"]["id"]
        for task_id in ids.values():
            herald.wait_for_status(task_id, "succeeded")
        # The caller's sampled trace is exported whatever the ratio; the rest are not.
        self.spans_of(collector, other_trace[3:35], 2)
        new_trace = herald.get_task(ids["new"])["trace"]
        self.assertFalse(new_trace["sampled"])
        self.assertFalse(herald.get_task(ids["unsampled"])["trace"]["sampled"])
        herald.stop()  # sends what is queued
        traces = {s["trace_id"] for s in collector.spans()}
        self.assertEqual(traces, {other_trace[3:35]})
        # The receiver is told the decision: flags 00 where not sampled.
        flags = sorted(r.headers["traceparent"][-2:] for r in receiver.received())
        self.assertEqual(flags, ["00", "00", "01"])

    def test_a_collector_that_hangs_or_fails_costs_spans_not_deliveries(self):
        for mode, outcome in (("hang", "dropped_queue_full"), ("fail", "dropped_export_failed")):
            with self.subTest(mode=mode):
                collector = self.collector(mode)
                receiver = Receiver()
                self.addCleanup(receiver.close)
                herald = self.herald(config(collector.url()).replace(
                    "[telemetry]\n", "[telemetry]\nqueue_size = 20\ntimeout = 30s\n"))
                tasks = [task_request("D-%d" % i, target_url=receiver.url()) for i in range(100)]
                started = time.monotonic()
                code, _, body = herald.request("POST", "/v1/tasks/batch", body={"tasks": tasks})
                self.assertEqual(code, 201, body)
                receiver.wait_for(100, timeout=15)
                self.assertLess(time.monotonic() - started, 10)
                wait_until(lambda: metric(herald, outcome) > 0,
                           message="spans counted as %s" % outcome)
                # A hanging export holds a stop up 2 s at most.
                started = time.monotonic()
                herald.stop()
                self.assertLess(time.monotonic() - started, 8)

    def operated(self):
        """A collector, a receiver that answers ANSWERS["code"] (500 at first), and a
        heraldd with an operator's token ("ops"): (collector, answers, receiver, herald)."""
        collector = self.collector()
        answers = {"code": 500}
        receiver = Receiver(lambda received: (answers["code"], {}, b"."))
        self.addCleanup(receiver.close)
        token = "ops-token-0123456789abcdef"
        herald = self.herald(config(collector.url()), token_lines=["ops:" + token])
        herald.token = token
        return collector, answers, receiver, herald

    def test_an_operators_retry_and_redelivery_are_spans_linked_to_the_task(self):
        collector, answers, receiver, herald = self.operated()
        code, _, body = herald.create(business_id="M-1", target_url=receiver.url())
        self.assertEqual(code, 201, body)
        task_id = body["task"]["id"]
        herald.wait_for_status(task_id, "failed")  # three attempts, into manual handling
        trace = herald.get_task(task_id)["trace"]
        answers["code"] = 200
        code, _, body = herald.request("POST", "/v1/manual/%d/retry" % task_id, body={},
                                       headers=herald.auth_headers())
        self.assertEqual(code, 200, body)
        herald.wait_for_status(task_id, "succeeded")
        operator = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        code, _, body = herald.request("POST", "/v1/tasks/%d/redeliver" % task_id,
                                       body={"reason": "their outage"},
                                       headers=dict(herald.auth_headers(), traceparent=operator))
        self.assertEqual(code, 200, body)
        receiver.wait_for(5)

        def actions():
            found = [s for s in collector.spans() if "herald.action" in s["attributes"]]
            return found if len(found) == 2 else None
        retry, redeliver = sorted(wait_until(actions), key=lambda s: s["attributes"]["herald.action"]
                                  != "retry")
        for span, action in ((retry, "retry"), (redeliver, "redeliver")):
            self.assertEqual(span["attributes"]["herald.action"], action)
            self.assertEqual(span["attributes"]["herald.actor"], "ops")
            self.assertEqual(span["attributes"]["herald.task.id"], task_id)
            self.assertEqual([(l["trace_id"], l["span_id"]) for l in span["links"]],
                             [(trace["trace_id"], trace["span_id"])])
        self.assertEqual(retry["name"], "POST /v1/manual/{id}/retry")
        self.assertNotEqual(retry["trace_id"], trace["trace_id"])  # a trace of its own
        self.assertEqual((redeliver["trace_id"], redeliver["parent_span_id"]),
                         (operator[3:35], operator[36:52]))  # the operator's request's
        # Every attempt, before and after, stays in the task's trace.
        attempts = self.spans_of(collector, trace["trace_id"], 6)
        self.assertEqual(sorted(s["attributes"].get("herald.attempt", 0) for s in attempts),
                         [0, 1, 2, 3, 4, 5])

    def test_a_bulk_retry_and_a_redelivery_job_are_a_span_for_each_task(self):
        collector, answers, receiver, herald = self.operated()
        tasks = [task_request("B-%d" % i, target_url=receiver.url()) for i in range(3)]
        code, _, body = herald.request("POST", "/v1/tasks/batch", body={"tasks": tasks},
                                       headers=herald.auth_headers())
        self.assertEqual(code, 201, body)
        ids = [t["id"] for t in body["tasks"]]
        for task_id in ids:
            herald.wait_for_status(task_id, "failed")
        traces = {task_id: herald.get_task(task_id)["trace"] for task_id in ids}
        # A bulk retry in the operator's trace: each task's span a child of its span.
        operator = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        code, _, body = herald.request("POST", "/v1/manual/retry", body={"all": True},
                                       headers=dict(herald.auth_headers(), traceparent=operator))
        self.assertEqual((code, body.get("retried")), (200, 3), body)
        for task_id in ids:
            wait_until(lambda: herald.get_task(task_id)["attempts"] == 6 and
                       herald.get_task(task_id)["status"] == "failed" or None,
                       message="task %d failed again" % task_id)
        answers["code"] = 200
        code, _, body = herald.request("POST", "/v1/redeliveries", headers=herald.auth_headers(),
                                       body={"filter": {"status": "failed"},
                                             "reason": "receiver back"})
        self.assertEqual(code, 201, body)
        job_id = body["redelivery"]["id"]
        for task_id in ids:
            herald.wait_for_status(task_id, "succeeded")

        def actions():
            found = [s for s in collector.spans() if "herald.action" in s["attributes"]]
            return found if len(found) == 6 else None
        spans = wait_until(actions, message="six action spans")
        retries = [s for s in spans if s["attributes"]["herald.action"] == "retry"]
        jobs = [s for s in spans if s["attributes"]["herald.action"] == "redeliver"]
        for group in (retries, jobs):
            self.assertEqual(sorted(s["attributes"]["herald.task.id"] for s in group), ids)
            for span in group:
                trace = traces[span["attributes"]["herald.task.id"]]
                self.assertEqual([(l["trace_id"], l["span_id"]) for l in span["links"]],
                                 [(trace["trace_id"], trace["span_id"])])
                self.assertEqual(span["attributes"]["herald.actor"], "ops")
                self.assertEqual(span["attributes"]["herald.business_type"], "PAYMENT_SUCCESS")
        for span in retries:
            self.assertEqual((span["name"], span["kind_name"]),
                             ("POST /v1/manual/retry", "SPAN_KIND_SERVER"))
            self.assertEqual((span["trace_id"], span["parent_span_id"]),
                             (operator[3:35], operator[36:52]))
            self.assertEqual(span["attributes"]["http.route"], "/v1/manual/retry")
        for span in jobs:
            self.assertEqual((span["name"], span["kind_name"]),
                             ("redelivery job", "SPAN_KIND_INTERNAL"))
            self.assertEqual(span["attributes"]["herald.redelivery.job_id"], job_id)
            self.assertNotIn(span["trace_id"], [t["trace_id"] for t in traces.values()])
            self.assertNotIn("http.route", span["attributes"])
        # Every attempt, before and after both, stays in its task's trace.
        for task_id, trace in traces.items():
            attempts = [s for s in self.spans_of(collector, trace["trace_id"], 8)
                        if s["kind_name"] == "SPAN_KIND_CLIENT"]
            self.assertEqual(sorted(s["attributes"]["herald.attempt"] for s in attempts),
                             list(range(1, 8)))

    def post_with_headers(self, herald, task, headers):
        """POST /v1/tasks with HEADERS, a list of (name, value): a name may repeat."""
        connection = http.client.HTTPConnection("127.0.0.1", herald.port, timeout=30)
        body = json.dumps(task).encode()
        connection.putrequest("POST", "/v1/tasks")
        for name, value in [("Content-Type", "application/json"),
                            ("Content-Length", str(len(body)))] + headers:
            connection.putheader(name, value)
        connection.endheaders(body)
        response = connection.getresponse()
        answer = json.loads(response.read())
        connection.close()
        self.assertEqual(response.status, 201, answer)
        return answer["task"]["id"]

    def test_trace_context_headers_are_read_as_the_standard_says(self):
        collector = self.collector()
        receiver = Receiver()
        self.addCleanup(receiver.close)
        herald = self.herald(config(collector.url()))
        other = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        cases = {
            # traceparent twice: no parent, a trace of its own.
            "twice": [("traceparent", CALLER), ("traceparent", other)],
            # Several tracestate headers are one list.
            "joined": [("traceparent", CALLER), ("tracestate", "a=1"), ("tracestate", ""),
                       ("tracestate", "b=2")],
            # A key twice makes the list invalid: dropped, the trace kept.
            "duplicate key": [("traceparent", CALLER), ("tracestate", "foo=1,foo=2")],
            # Flags version 00 does not define are not passed on.
            "flags": [("traceparent", CALLER[:-2] + "ff")],
        }
        ids = {name: self.post_with_headers(herald, task_request(
            name, business_type="PROPAGATED", target_url=receiver.url()), headers)
            for name, headers in cases.items()}
        receiver.wait_for(len(cases))
        sent = {json.loads(r.body)["id"]: r.headers for r in receiver.received()}
        traces = {name: herald.get_task(task_id)["trace"] for name, task_id in ids.items()}
        self.assertNotIn(traces["twice"]["trace_id"], (CALLER_TRACE, other[3:35]))
        self.assertEqual(sent["joined"].get("tracestate"), "a=1,,b=2")
        self.assertEqual(traces["duplicate key"]["trace_id"], CALLER_TRACE)
        self.assertIsNone(sent["duplicate key"].get("tracestate"))
        self.assertEqual(sent["flags"]["traceparent"][-3:], "-01")

    def test_a_collector_behind_a_slow_name_server_holds_no_stop_up(self):
        """An export cut off (by its timeout, by a stop) does not wait for its name
        lookup: with a 20 s lookup, the export fails at its 1 s timeout and a stop
        takes about 2 s."""
        import test_resolver
        receiver = Receiver()
        self.addCleanup(receiver.close)
        herald = self.herald(config("http://collector.test:4318/v1/traces").replace(
            "[telemetry]\n", "[telemetry]\ntimeout = 1s\n"),
            env={"LD_PRELOAD": test_resolver.preload(HERALDD),
                 "HERALD_SLOW_NAMES": "collector.test:20000"})
        code, _, body = herald.request("POST", "/v1/tasks",
                                       body=task_request("R-1", target_url=receiver.url()))
        self.assertEqual(code, 201, body)
        herald.wait_for_log(r"slow_resolver: name=collector\.test", timeout=10)
        started = time.monotonic()
        herald.wait_for_log(r"event=telemetry_export_failed", timeout=10)
        self.assertLess(time.monotonic() - started, 5)
        receiver.wait_for(1)
        mark = len(herald.lines)
        herald.request("POST", "/v1/tasks", body=task_request("R-2", target_url=receiver.url()))
        herald.wait_for_log(r"slow_resolver: name=collector\.test", timeout=10, start=mark)
        started = time.monotonic()
        herald.stop()
        self.assertLess(time.monotonic() - started, 8)

    def test_a_bad_endpoint_is_refused_at_start_and_by_check_config(self):
        herald = Herald(config=config("ftp://collector.example/v1/traces"))
        self.addCleanup(herald.cleanup)
        result = subprocess.run([HERALDD, "-c", herald.config_path, "--check-config"],
                                capture_output=True, text=True, timeout=30)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("[telemetry] endpoint", result.stderr)
        self.assertIn("http or https", result.stderr)


@unittest.skipUnless(database.BACKEND == "postgresql", "several heraldd share PostgreSQL only")
@unittest.skipUnless(shutil.which("node") and os.path.isdir(os.path.join(JS, "node_modules")),
                     "node and tests/js/node_modules are needed (make test-deps)")
class TelemetryInstancesTest(unittest.TestCase):
    def test_a_trace_begun_on_one_heraldd_and_delivered_by_another_is_one_trace(self):
        collector = Collector()
        self.addCleanup(collector.close)
        db = TestDatabase(None)
        self.addCleanup(db.drop)
        receiver = Receiver()
        self.addCleanup(receiver.close)
        a, b = Herald(db=db, config=config(collector.url())), \
            Herald(db=db, config=config(collector.url()))
        for herald in (a, b):
            self.addCleanup(herald.cleanup)
            herald.start()
        frozen = FrozenThread(a.process.pid, "herald-sched")
        try:
            code, _, body = a.request("POST", "/v1/tasks", body=task_request(
                "I-1", business_type="PROPAGATED", target_url=receiver.url()),
                headers={"traceparent": CALLER})
            self.assertEqual(code, 201, body)
            receiver.wait_for(1)
        finally:
            frozen.release()
        spans = self.spans_of(collector, 2)
        intake = [s for s in spans if s["kind_name"] == "SPAN_KIND_SERVER"][0]
        attempt = [s for s in spans if s["kind_name"] == "SPAN_KIND_CLIENT"][0]
        self.assertEqual(attempt["parent_span_id"], intake["span_id"])
        self.assertNotEqual(intake["resource"]["service.instance.id"],
                            attempt["resource"]["service.instance.id"])
        self.assertEqual(receiver.received()[0].headers["traceparent"],
                         "00-%s-%s-01" % (CALLER_TRACE, attempt["span_id"]))

    @staticmethod
    def spans_of(collector, count):
        return wait_until(lambda: (lambda s: s if len(s) >= count else None)(
            [s for s in collector.spans() if s["trace_id"] == CALLER_TRACE]))


if __name__ == "__main__":
    unittest.main()
