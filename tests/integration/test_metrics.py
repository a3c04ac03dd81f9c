"""GET /metrics (Prometheus text), /readyz and /healthz through the real heraldd."""
import re
import time
import unittest

from database import BACKEND, PgConnection
from harness import Herald, HeraldTestCase, Receiver, closed_port_url, task_request, wait_until

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*"'
                    r'(,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*")*)?\})? (-?[0-9.e+]+|\+Inf|NaN)$')


def parse_metrics(text):
    """Checks the exposition format line by line; returns {name{labels}: value}."""
    samples = {}
    declared = set()
    for line in text.splitlines():
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            parts = line.split(" ", 3)
            if parts[1] == "TYPE":
                assert parts[3] in ("counter", "gauge", "histogram"), line
                declared.add(parts[2])
            continue
        match = SAMPLE.match(line)
        assert match, "not a Prometheus sample line: %r" % line
        base = re.sub(r"_(bucket|sum|count)$", "", match.group(1))
        assert match.group(1) in declared or base in declared, "undeclared: %r" % line
        samples[match.group(1) + (match.group(2) or "")] = float(match.group(5))
    return samples


class MetricsTest(HeraldTestCase, unittest.TestCase):
    herald_options = {"config": "[retry]\nmax_retry = 1\n"}

    def metrics(self):
        import http.client
        connection = http.client.HTTPConnection("127.0.0.1", self.herald.port, timeout=10)
        connection.request("GET", "/metrics")
        response = connection.getresponse()
        text = response.read().decode()
        connection.close()
        self.assertEqual(response.status, 200)
        self.assertTrue(response.getheader("Content-Type").startswith("text/plain; version=0.0.4"))
        return parse_metrics(text)

    def test_database_health(self):
        """PostgreSQL: dead row versions of the busy tables and the oldest open
        transaction, so an operator sees bloat coming; SQLite has neither."""
        samples = self.metrics()
        self.assertEqual(samples["herald_leader"], 1.0)  # alone: it leads
        tables = ("tasks", "task_bodies", "attempts", "manual")
        if BACKEND != "postgresql":
            self.assertFalse([key for key in samples if key.startswith("herald_db_")])
            return
        for table in tables:
            self.assertGreaterEqual(samples['herald_db_dead_tuples{table="%s"}' % table], 0)
        session = PgConnection(self.herald.db.name, user="herald")
        try:
            session.query("BEGIN; SELECT txid_current()")  # a transaction left open
            time.sleep(1.1)
            self.assertGreaterEqual(self.metrics()["herald_db_oldest_transaction_seconds"], 1.0)
        finally:
            session.close()

    def test_counters_move(self):
        receiver = Receiver()
        try:
            before = self.metrics()
            status, _, body = self.herald.request("POST", "/v1/tasks", body=task_request(
                "MET-1", target_url=receiver.url()))
            self.assertEqual(status, 201)
            self.herald.wait_for_status(body["task"]["id"], "succeeded")
            self.herald.request("POST", "/v1/tasks", raw="{bad", headers={"Content-Type": "application/json"})
            status, _, failed = self.herald.request("POST", "/v1/tasks", body=task_request(
                "MET-2", target_url=closed_port_url()))
            self.herald.wait_for_status(failed["task"]["id"], "failed")
            after = self.metrics()
            delta = lambda key: after[key] - before.get(key, 0)
            self.assertEqual(delta('herald_intake_requests_total{code="201"}'), 2)
            self.assertEqual(delta('herald_intake_requests_total{code="400"}'), 1)
            self.assertEqual(delta('herald_deliveries_total{outcome="success"}'), 1)
            self.assertEqual(delta('herald_deliveries_total{outcome="connect"}'), 1)
            self.assertEqual(delta("herald_delivery_duration_seconds_count"), 2)
            self.assertEqual(delta("herald_first_attempt_lag_seconds_count"), 2)
            self.assertGreaterEqual(after['herald_tasks{status="succeeded"}'], 1)
            self.assertGreaterEqual(after['herald_tasks{status="failed"}'], 1)
            self.assertGreaterEqual(after["herald_manual_open"], 1)
            self.assertIn("herald_scheduler_lag_seconds", after)
            self.assertIn('herald_alerts_fired_total{kind="manual_backlog"}', after)
            self.assertEqual(after['herald_delivery_duration_seconds_bucket{le="+Inf"}'],
                             after["herald_delivery_duration_seconds_count"])
        finally:
            receiver.close()

    def test_health_and_readiness(self):
        status, _, body = self.herald.request("GET", "/healthz")
        self.assertEqual((status, body), (200, {"status": "ok"}))
        status, _, body = self.herald.request("GET", "/readyz")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["status"], "ready")


class MetricsAuthTest(HeraldTestCase, unittest.TestCase):
    herald_options = {"token_lines": ["prometheus:scrape-token-0123456789"]}

    def test_metrics_need_a_token_probes_do_not(self):
        self.assertEqual(self.herald.request("GET", "/metrics")[0], 401)
        self.assertEqual(self.herald.request("GET", "/readyz")[0], 200)
        status, _, _ = self.herald.request(
            "GET", "/metrics", headers={"Authorization": "Bearer scrape-token-0123456789"})
        self.assertEqual(status, 200)


if __name__ == "__main__":
    unittest.main()
