"""Strict order per key (ordering_key): the tasks of one key and one receiver are
delivered one at a time, in the order they were accepted; a task behind its key's
head waits without spending anything; each delivery says its place
(X-Herald-Sequence, signed); a head that goes to manual handling blocks its key
(ordering_on_failure = block) until an operator retries or resolves it, or lets the
next go (skip). Tasks without a key are not held by any key. On PostgreSQL the order
holds with several heraldd sharing the database."""
import base64
import hashlib
import hmac
import random
import threading
import time
import unittest

import database
from database import TestDatabase
from harness import Herald, Receiver, closed_port_url, task_request, wait_until
from test_torture import passes, seam_built, torture_herald

SECRET = "whsec_" + base64.b64encode(b"ordering-test-secret-of-32-bytes").decode()


def config(extra=""):
    return """[retry]
max_retry = 30
base_delay = 20ms
max_delay = 100ms
exponential_backoff = false
jitter = 0
breaker_failures = 0
[delivery]
per_host_concurrency = 16
secret = %s
[business.BLOCKED]
max_retry = 2
ordering_on_failure = block
[business.SKIPPED]
max_retry = 2
ordering_on_failure = skip
[business.PATIENT]
max_retry = 30
base_delay = 1s
exponential_backoff = false
""" % SECRET + extra


class KeyedReceiver:
    """A receiver that fails a share of requests at random (or those FAILS says) and
    records, per key, the sequence numbers it acknowledged and the most requests of
    one key it had in flight at once."""

    def __init__(self, failure_rate=0.0, seed=1):
        self.lock = threading.Lock()
        self.random = random.Random(seed)
        self.failure_rate = failure_rate
        self.fails = set()  # business ids that fail while listed
        self.once = set()  # business ids whose next request fails, once
        self.acknowledged = {}  # key -> [sequence, ...] in arrival order
        self.in_flight = {}
        self.most_in_flight = 0
        self.receiver = Receiver(self.respond)

    def respond(self, received):
        key = received.headers.get("x-herald-ordering-key")
        with self.lock:
            if key is not None:
                self.in_flight[key] = self.in_flight.get(key, 0) + 1
                self.most_in_flight = max(self.most_in_flight, self.in_flight[key])
        time.sleep(0.003)  # long enough for an overlap to show
        with self.lock:
            if key is not None:
                self.in_flight[key] -= 1
            business_id = received.headers.get("x-business-id")
            if business_id in self.once:
                self.once.discard(business_id)
                return (500, {}, b"not yet")
            if business_id in self.fails or self.random.random() < self.failure_rate:
                return (500, {}, b"not now")
            if key is not None:
                self.acknowledged.setdefault(key, []).append(
                    int(received.headers["x-herald-sequence"]))
        return (200, {}, b"ok")

    def sequences(self, key):
        with self.lock:
            return list(self.acknowledged.get(key, []))


class OrderingTest(unittest.TestCase):
    def setUp(self):
        self.db = TestDatabase(None) if database.BACKEND == "postgresql" else None

    def herald(self, extra=""):
        options = {"db": self.db} if self.db is not None else {}
        herald = Herald(config=config(extra), **options)
        self.addCleanup(herald.cleanup)
        herald.start()
        self.addCleanup(herald.stop)
        return herald

    def keyed(self, failure_rate=0.0):
        keyed = KeyedReceiver(failure_rate)
        self.addCleanup(keyed.receiver.close)
        return keyed

    def post(self, heralds, tasks):
        """Posts TASKS in batches of 50 (round robin over HERALDS); returns their ids."""
        ids = []
        for start in range(0, len(tasks), 50):
            herald = heralds[(start // 50) % len(heralds)]
            code, _, body = herald.request("POST", "/v1/tasks/batch",
                                           body={"tasks": tasks[start:start + 50]})
            self.assertEqual(code, 201, body)
            ids += [t["id"] for t in body["tasks"]]
        return ids

    def check_order(self, heralds, count, keys, failure_rate):
        keyed = self.keyed(failure_rate)
        tasks = [task_request("O-%d" % i, target_url=keyed.receiver.url(),
                              ordering_key="key-%d" % (i % keys)) for i in range(count)]
        ids = self.post(heralds, tasks)
        wait_until(lambda: sum(len(keyed.sequences("key-%d" % k)) for k in range(keys)) >= count,
                   message="every task acknowledged", timeout=60 + count / 10)
        for k in range(keys):
            self.assertEqual(keyed.sequences("key-%d" % k), list(range(1, count // keys + 1)),
                             "key-%d acknowledged out of order" % k)
        self.assertEqual(keyed.most_in_flight, 1, "two tasks of one key in flight at once")
        for task_id in ids[:5]:  # written once acknowledged
            task = heralds[0].wait_for_status(task_id, "succeeded")
            self.assertIn("ordering", heralds[0].get_task(task_id))
        return keyed, ids

    def test_each_key_is_delivered_in_order_one_at_a_time(self):
        herald = self.herald()
        self.check_order([herald], 120, 4, 0.3)

    def test_the_sequence_header_is_signed(self):
        herald = self.herald()
        keyed = self.keyed()
        ids = self.post([herald], [task_request("S-%d" % i, target_url=keyed.receiver.url(),
                                                ordering_key="order:42/a") for i in range(3)])
        received = keyed.receiver.wait_for(3)
        key = base64.b64decode(SECRET[len("whsec_"):])
        for r in received:
            h = r.headers
            self.assertEqual(h["x-herald-ordering-key"], "order:42/a")
            signed = "%s.%s.%s.%s" % (h["webhook-id"], h["webhook-timestamp"],
                                      h["x-herald-ordering-key"], h["x-herald-sequence"])
            expected = base64.b64encode(hmac.new(key, signed.encode(),
                                                 hashlib.sha256).digest()).decode()
            self.assertIn("v1," + expected, h["x-herald-sequence-signature"].split(" "))
        self.assertEqual(sorted(int(r.headers["x-herald-sequence"]) for r in received), [1, 2, 3])
        task = herald.get_task(ids[2])
        self.assertEqual(task["ordering"], {"key": "order:42/a", "sequence": 3,
                                            "waiting": False})

    def test_a_waiting_task_spends_nothing_and_tasks_without_a_key_go_by(self):
        herald = self.herald()
        keyed = self.keyed()
        keyed.fails.add("W-0")  # the head fails until told otherwise
        ids = self.post([herald], [task_request("W-%d" % i, target_url=keyed.receiver.url(),
                                                ordering_key="k") for i in range(3)])
        wait_until(lambda: herald.get_task(ids[0])["attempts"] >= 3, message="head retried")
        # Tasks without a key to the same receiver are not held.
        free = self.post([herald], [task_request("F-%d" % i, target_url=keyed.receiver.url())
                                    for i in range(5)])
        for task_id in free:
            wait_until(lambda: herald.get_task(task_id)["status"] == "succeeded",
                       message="a task without a key delivered")
        for task_id in ids[1:]:
            task = herald.get_task(task_id)
            self.assertEqual((task["status"], task["attempts"]), ("pending", 0))
            self.assertIsNone(task["next_attempt_at"])
            self.assertTrue(task["ordering"]["waiting"])
        code, out, err = herald.ctl("tasks", "get", str(ids[2]))
        self.assertEqual(code, 0, err)
        self.assertRegex(out, r"ordering\s+k #3 \(waiting for the one before it\)")
        with keyed.lock:
            keyed.fails.clear()
        wait_until(lambda: keyed.sequences("k") == [1, 2, 3], message="the key went on")
        self.assertEqual([herald.get_task(i)["attempts"] for i in ids[1:]], [1, 1])

    def manual_entry(self, herald, task_id):
        code, _, body = herald.request("GET", "/v1/manual?task_id=%d" % task_id)
        self.assertEqual(code, 200, body)
        return body

    def blocked_head(self, herald, keyed, prefix):
        """Five tasks of one BLOCKED key whose second fails until it goes to manual
        handling; returns their ids once it has."""
        keyed.fails.add("%s-1" % prefix)
        ids = self.post([herald], [task_request("%s-%d" % (prefix, i), business_type="BLOCKED",
                                                target_url=keyed.receiver.url(),
                                                ordering_key=prefix) for i in range(5)])
        wait_until(lambda: herald.get_task(ids[1])["status"] == "failed",
                   message="the head exhausted")
        return ids

    def test_block_holds_the_key_until_the_head_is_retried(self):
        herald = self.herald("[alert]\ninterval = 200ms\nordering_alert_after = 300ms\n")
        keyed = self.keyed()
        ids = self.blocked_head(herald, keyed, "B")
        time.sleep(0.5)  # long enough for a wrongly released successor to go
        self.assertEqual(keyed.sequences("B"), [1])
        self.assertEqual([herald.get_task(i)["attempts"] for i in ids[2:]], [0, 0, 0])
        code, _, body = herald.request("GET", "/v1/ordering-keys?blocked=true")
        self.assertEqual(code, 200, body)
        [key] = [k for k in body["ordering_keys"] if k["ordering_key"] == "B"]
        self.assertEqual((key["blocked"], key["blocked_task_id"], key["head_sequence"],
                          key["last_sequence"], key["waiting"]), (True, ids[1], 2, 5, 3))
        self.assertIn("herald_ordering_keys_blocked 1", herald.request("GET", "/metrics")[2])
        code, out, err = herald.ctl("ordering-keys", "--blocked", "true")
        self.assertEqual(code, 0, err)
        [line] = [l for l in out.splitlines() if " B " in l]
        self.assertRegex(line, r"\b5\s+2\s+3\s+true\s+%d\b" % ids[1])
        # Blocked longer than ordering_alert_after: the alert, naming the key.
        herald.wait_for_log(r"event=alert kind=ordering_blocked state=firing count=1")
        code, _, body = herald.request("GET", "/v1/alerts")
        firing = [a for a in body["alerts"] if a["kind"] == "ordering_blocked"][0]
        self.assertEqual([k["ordering_key"] for k in firing["details"]["keys"]], ["B"], firing)
        with keyed.lock:
            keyed.fails.clear()
        code, _, body = herald.request("POST", "/v1/manual/%d/retry" % ids[1], body={})
        self.assertEqual(code, 200, body)
        wait_until(lambda: keyed.sequences("B") == [1, 2, 3, 4, 5], message="the key went on")
        code, _, body = herald.request("GET", "/v1/ordering-keys?blocked=true")
        self.assertEqual([k for k in body["ordering_keys"] if k["ordering_key"] == "B"], [])
        herald.wait_for_log(r"event=alert kind=ordering_blocked state=resolved")

    def test_a_resolve_lets_the_next_go(self):
        herald = self.herald()
        keyed = self.keyed()
        ids = self.blocked_head(herald, keyed, "R")
        code, _, body = herald.request("POST", "/v1/manual/%d/resolve" % ids[1],
                                       body={"note": "sent by hand"})
        self.assertEqual(code, 200, body)
        wait_until(lambda: keyed.sequences("R") == [1, 3, 4, 5], message="the key went on")
        self.assertEqual(herald.get_task(ids[1])["status"], "failed")

    def test_bulk_retry_and_resolve_move_every_key_they_unblock(self):
        """A bulk action moves the keys of all its tasks at its end, in the order
        every transaction locks keys in: a bulk retry unblocks two keys, a bulk
        resolve lets two more go on."""
        herald = self.herald()
        keyed = self.keyed()
        retried = [self.blocked_head(herald, keyed, p) for p in ("Q2", "Q1")]
        resolved = [self.blocked_head(herald, keyed, p) for p in ("Q4", "Q3")]
        with keyed.lock:
            keyed.fails.clear()
        code, _, body = herald.request("POST", "/v1/manual/retry",
                                       body={"task_ids": [ids[1] for ids in retried]})
        self.assertEqual((code, body.get("retried")), (200, 2), body)
        code, _, body = herald.request("POST", "/v1/manual/resolve", body={
            "task_ids": [ids[1] for ids in resolved], "note": "settled by hand"})
        self.assertEqual((code, body.get("resolved")), (200, 2), body)
        for key in ("Q1", "Q2"):
            wait_until(lambda: keyed.sequences(key) == [1, 2, 3, 4, 5], message=key)
        for key in ("Q3", "Q4"):
            wait_until(lambda: keyed.sequences(key) == [1, 3, 4, 5], message=key)
        code, _, body = herald.request("GET", "/v1/ordering-keys?blocked=true")
        self.assertEqual(body["ordering_keys"], [])

    def test_skip_lets_the_next_go_and_the_receiver_sees_the_gap(self):
        herald = self.herald()
        keyed = self.keyed()
        keyed.fails.add("K-1")
        ids = self.post([herald], [task_request("K-%d" % i, business_type="SKIPPED",
                                                target_url=keyed.receiver.url(),
                                                ordering_key="K") for i in range(4)])
        wait_until(lambda: keyed.sequences("K") == [1, 3, 4], message="the key skipped")
        self.assertEqual(herald.get_task(ids[1])["status"], "failed")
        # Sent again by an operator, out of order: its key goes on untouched.
        with keyed.lock:
            keyed.fails.clear()
        code, _, body = herald.request("POST", "/v1/tasks/%d/redeliver" % ids[1],
                                       body={"reason": "receiver lost it"})
        self.assertEqual(code, 200, body)
        wait_until(lambda: keyed.sequences("K") == [1, 3, 4, 2], message="sent again")

    def test_a_task_still_waiting_is_not_hastened(self):
        herald = self.herald()
        keyed = self.keyed()
        keyed.fails.add("H-0")
        ids = self.post([herald], [task_request("H-%d" % i, target_url=keyed.receiver.url(),
                                                ordering_key="H") for i in range(2)])
        wait_until(lambda: herald.get_task(ids[0])["attempts"] >= 2, message="head retried")
        # A redelivery job over the receiver's pending tasks makes them due now;
        # the one behind its head keeps waiting.
        code, _, body = herald.request("POST", "/v1/redeliveries", body={
            "filter": {"receiver": keyed.receiver.url(), "status": "pending"},
            "reason": "hurry"})
        self.assertEqual(code, 201, body)
        # The head, unless it is in flight right then; never the task behind it.
        self.assertLessEqual(body["redelivery"]["matched"], 1, "the waiting task was matched")
        job = body["redelivery"]["id"]
        wait_until(lambda: herald.request("GET", "/v1/redeliveries/%d" % job)[2]["redelivery"]
                   ["state"] == "done", message="the job done")
        time.sleep(0.3)
        self.assertEqual(herald.get_task(ids[1])["attempts"], 0, "sent before its head")
        self.assertTrue(herald.get_task(ids[1])["ordering"]["waiting"])
        with keyed.lock:
            keyed.fails.clear()
        wait_until(lambda: keyed.sequences("H") == [1, 2], message="in order")

    def test_a_key_whose_head_ended_without_moving_it_is_moved_on_by_the_sweep(self):
        """Whatever ends a head without moving its key on (none of herald's paths
        should; a person's UPDATE does), the lease sweep finds the key and lets the
        next task go, and says so."""
        herald = self.herald("[delivery]\nlease_sweep_interval = 200ms\n")
        keyed = self.keyed()
        keyed.fails.add("L-0")
        ids = self.post([herald], [task_request("L-%d" % i, business_type="PATIENT",
                                                target_url=keyed.receiver.url(),
                                                ordering_key="L") for i in range(2)])
        wait_until(lambda: (lambda t: t["attempts"] >= 1 and t["status"] == "pending")(
            herald.get_task(ids[0])), message="the head failed once")
        self.db_of(herald).execute("UPDATE tasks SET status = 'succeeded' WHERE id = ?"
                                   " AND status = 'pending'", ids[0])
        wait_until(lambda: keyed.sequences("L") == [2], message="the next task went")
        herald.wait_for_log(r"event=ordering_keys_healed keys=1")

    def db_of(self, herald):
        return self.db if self.db is not None else herald.db

    def test_bad_ordering_keys_are_refused(self):
        herald = self.herald()
        for bad in ["", "a b", "x" * 129, 5, "caf\u00e9", "tab\there"]:
            code, _, body = herald.request("POST", "/v1/tasks",
                                           body=task_request("V", ordering_key=bad))
            self.assertEqual(code, 422, (bad, body))
            self.assertEqual(body["error"]["field"], "ordering_key", body)
        code, _, body = herald.request("POST", "/v1/tasks",
                                       body=task_request("V", ordering_key="x" * 128))
        self.assertEqual(code, 201, body)
        # The key is part of the request: the same business id with another key conflicts.
        code, _, body = herald.request("POST", "/v1/tasks",
                                       body=task_request("V", ordering_key="y"))
        self.assertEqual(code, 409, body)

    def test_the_order_survives_a_restart(self):
        herald = self.herald()
        keyed = self.keyed()
        keyed.fails.add("T-0")
        ids = self.post([herald], [task_request("T-%d" % i, target_url=keyed.receiver.url(),
                                                business_type="PATIENT", ordering_key="T")
                                   for i in range(4)])
        # Killed between the head's attempts (not during one, whose lease another
        # start on a shared database would wait out).
        wait_until(lambda: (lambda t: t["attempts"] >= 2 and t["status"] == "pending")(
            herald.get_task(ids[0])), message="head retried")
        herald.kill()
        with keyed.lock:
            keyed.fails.clear()
        herald.start()
        wait_until(lambda: keyed.sequences("T") == [1, 2, 3, 4], message="in order after kill",
                   timeout=30)

    @unittest.skipUnless(database.BACKEND == "postgresql", "several heraldd share PostgreSQL")
    def test_keys_wait_for_every_heraldd_to_know_them(self):
        """A heraldd of an earlier release would end a key's head without letting the
        next go: while one beats, migration 018 is held back and a task with an
        ordering_key is refused (503); a later start-up applies it."""
        herald = self.herald()
        herald.stop()
        # 018 and every later one, as on a database an earlier release left.
        self.db.execute("DELETE FROM schema_migrations WHERE version >= 18")
        self.db.execute("DROP INDEX tasks_ordering")
        self.db.execute("ALTER TABLE tasks DROP COLUMN traceparent, DROP COLUMN tracestate")
        now = int(time.time() * 1000)
        self.db.execute("INSERT INTO instances (id, host, pid, version, started_at,"
                        " heartbeat_at, leader, deliveries, schema_known) VALUES"
                        " ('old:1:1', 'old', 1, '0.0.9', ?, ?, false, 0, 16)", now, now)
        herald.start()
        keyed = self.keyed()
        code, headers, body = herald.request("POST", "/v1/tasks", body=task_request(
            "U-1", target_url=keyed.receiver.url(), ordering_key="u"))
        self.assertEqual((code, body["error"]["code"], body["error"]["field"]),
                         (503, "ordering_unavailable", "ordering_key"), body)
        self.assertIn("retry-after", headers)
        code, _, body = herald.request("POST", "/v1/tasks", body=task_request(
            "U-2", target_url=keyed.receiver.url()), headers={
                "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"})
        self.assertEqual(code, 201, body)  # without a key, as ever
        # Nor can it keep a trace (019 waits with 018): the task has none.
        untraced = body["task"]["id"]
        self.assertNotIn("trace", herald.get_task(untraced))
        # The reads of a bulk action and a redelivery job's steps, which carry
        # each task's trace from 019, work before it.
        herald.wait_for_status(untraced, "succeeded")
        code, _, body = herald.create(business_id="U-3", business_type="SKIPPED",
                                      target_url=closed_port_url())
        self.assertEqual(code, 201, body)
        failing = body["task"]["id"]
        herald.wait_for_status(failing, "failed")
        code, _, body = herald.request("POST", "/v1/manual/retry", body={"all": True})
        self.assertEqual((code, body.get("matched"), body.get("retried")), (200, 1, 1), body)
        wait_until(lambda: herald.get_task(failing)["attempts"] == 4 and
                   herald.get_task(failing)["status"] == "failed" or None,
                   message="U-3 retried and failed again")
        code, _, body = herald.request("POST", "/v1/redeliveries", body={
            "filter": {"receiver": keyed.receiver.url(), "status": "succeeded"},
            "reason": "before 019"})
        self.assertEqual(code, 201, body)
        job = body["redelivery"]["id"]
        wait_until(lambda: herald.request("GET", "/v1/redeliveries/%d" % job)[2]["redelivery"]
                   ["state"] == "done" or None, message="the job done")
        self.assertEqual(herald.request("GET", "/v1/redeliveries/%d" % job)[2]["redelivery"]
                         ["sent"], 1)
        herald.wait_for_status(untraced, "succeeded")
        herald.stop()
        self.db.execute("UPDATE instances SET heartbeat_at = heartbeat_at - 3600000"
                        " WHERE id = 'old:1:1'")
        herald.start()
        self.check_order([herald], 6, 2, 0)

    @unittest.skipUnless(database.BACKEND == "postgresql", "several heraldd share PostgreSQL")
    def test_three_heraldd_keep_each_keys_order(self):
        heralds = [self.herald() for _ in range(3)]
        self.check_order(heralds, 1000, 10, 0.3)


@unittest.skipUnless(seam_built(), "the fault seam is only in the test build")
class OrderingTorture(unittest.TestCase):
    """The ordering's writes (a key's row made or locked and a task placed in it at
    intake; the head moved on and the next released in the outcome's transaction)
    with a storage failure at every step of the intake's and the scheduler's
    transactions: whatever fails, once the fault is lifted every task is accepted
    once, delivered in its key's order, and its key ends idle; each attempt is
    recorded once."""

    def setUp(self):
        self.keyed = KeyedReceiver()
        self.addCleanup(self.keyed.receiver.close)
        self.herald, self.seam = torture_herald(self, config=config())

    def round(self, prefix, spec=None):
        """Two tasks of key PREFIX, the second waiting for the first; with SPEC armed
        while they are posted and delivered."""
        tasks = [task_request("%s-%d" % (prefix, i), target_url=self.keyed.receiver.url(),
                              ordering_key=prefix, idempotency_key="%s-%d" % (prefix, i))
                 for i in range(2)]
        if spec is not None:
            self.seam.arm(spec)
        refused = [t for t in tasks
                   if self.herald.request("POST", "/v1/tasks", body=t)[0] not in (200, 201)]
        if spec is not None:
            time.sleep(0.3 if spec.endswith(":0") else 0.05)
            self.seam.lift()
        for task in refused:  # asked again, as a client would: the key makes it once
            code, _, body = self.herald.request("POST", "/v1/tasks", body=task)
            self.assertIn(code, (200, 201), body)
        try:
            wait_until(lambda: len(set(self.keyed.sequences(prefix))) == 2, timeout=30,
                       message="the key %s delivered" % prefix)
        except AssertionError:
            raise AssertionError("key %s not delivered: acknowledged %s; tasks %s; key %s; log:\n%s"
                                 % (prefix, self.keyed.sequences(prefix), self.herald.db.query(
                                     "SELECT id, business_id, status, attempts, next_attempt_at,"
                                     " ordering_seq FROM tasks WHERE ordering_key = ?", prefix),
                                    self.herald.db.query("SELECT * FROM ordering_keys WHERE"
                                                         " ordering_key = ?", prefix),
                                    "\n".join(self.herald.lines[-30:])))
        acknowledged = self.keyed.sequences(prefix)
        once = [s for i, s in enumerate(acknowledged) if i == 0 or s != acknowledged[i - 1]]
        self.assertEqual(once, [1, 2], "key %s out of order: %s" % (prefix, acknowledged))
        self.assertEqual(self.herald.db.value(
            "SELECT count(*) FROM tasks WHERE ordering_key = ?", prefix), 2)
        # Idle once the last outcome is written (after the receiver's answer).
        wait_until(lambda: [tuple(row) for row in self.herald.db.query(
            "SELECT last_seq, head_seq, blocked_task_id FROM ordering_keys"
            " WHERE ordering_key = ?", prefix)] == [(2, 3, None)], timeout=20,
            message="the key %s idle" % prefix)

    def test_ordering_writes(self):
        self.seam.lift()
        self.round("COUNT")
        counts = self.seam.lift()
        print("ordering torture: %d writer and %d scheduler operations a round"
              % (counts["writer"], counts["scheduler"]), flush=True)
        for role in ("writer", "scheduler"):
            for n, spec in passes(counts[role]):
                with self.subTest(fault=role + ":" + spec):
                    self.round("%s-%s" % (role, spec.replace(":", "-")), role + ":" + spec)
        self.assertEqual(self.herald.db.value(
            "SELECT count(*) FROM (SELECT task_id, attempt FROM attempts"
            " GROUP BY task_id, attempt HAVING count(*) > 1) AS repeated"), 0)
        self.assertEqual(self.herald.db.value("SELECT count(*) FROM manual"), 0)
        self.herald.stop()


if __name__ == "__main__":
    unittest.main()
