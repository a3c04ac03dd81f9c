"""The campaign's checker: reads the whole history (the receivers' logs, /v1 and the
database) once the system has drained, and returns the violated invariants, each
with what is needed to diagnose it (task ids, rows, log lines), and the figures.

1 acknowledged: every acknowledged task (201) is succeeded, or failed with an open
  manual entry; none is lost;
2 ack_kept: a task the receiver acknowledged (2xx, answered within the timeout) is
  never failed nor in manual handling (a cut-off attempt never ends a task alone, even
  when the receiver took it: store.h, STORE_RESCUE_STREAK), unless heraldd never got
  the acknowledgement (the attempt was cut off by a fault and recorded as interrupted)
  and the attempts after it failed on their own: counted and reported;
3 duplicates: a webhook-id reaches a receiver again after an answer heraldd could
  not have seen as a failure (a 2xx, or no answer in time) only within a fault
  window that explains it (kill, pause, terminate, pg_stop), or after a late answer
  (the slow receiver past the timeout); counted and reported;
4 attempts: one history row per (task, attempt), never more than max_retry except for
  the rescue rule (an attempt past max_retry, up to max_retry + RESCUE_STREAK - 1, only
  after a cut-off one), the receivers never see an attempt number past that; a task
  whose budget is spent and whose last RESCUE_STREAK attempts were cut off is in manual
  handling with reason interrupted, and every task in manual handling as interrupted is;
5 alerts: each alert id reaches the sink once, except across a kill, or a logged
  failure to mark it sent (event=alert_send_failed), between the two, or a send that
  a fault froze or cut off (pause, kill, terminate, pg_stop) and that its sender then
  logged as failed (event=alert_sink_failed with its id): the sink may have had it;
6 dns_isolation: while one receiver's name resolves in 25 s, a healthy receiver's
  first attempts (its receipt minus the 201) stay under 1 s at p99.
"""
import calendar
import collections
import re
import time

from campaign.nemesis import EXPLAINS_DUPLICATES
from campaign.world import TIMEOUT_S

# A task whose budget is spent ends in manual handling as interrupted once this many
# attempts in a row were cut off (store.h, STORE_RESCUE_STREAK).
RESCUE_STREAK = 3

HEALTHY_P99_MAX = 1.0
MAX_REPORTED = 8  # examples per violation


def log_time(line):
    """The Unix time of a heraldd log line (its ts=...Z), or None."""
    found = re.search(r"ts=(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?)Z", line)
    if not found:
        return None
    return calendar.timegm(time.strptime(found.group(1).split(".")[0], "%Y-%m-%dT%H:%M:%S")) \
        + float("0." + found.group(1).split(".")[1] if "." in found.group(1) else 0)


def clock(unix):
    return time.strftime("%H:%M:%S", time.gmtime(unix)) + ("%.3f" % (unix % 1))[1:]


class Checker:
    def __init__(self, world, load_tasks, windows):
        self.world = world
        self.tasks = load_tasks
        self.windows = windows
        self.violations = collections.OrderedDict()
        self.figures = collections.OrderedDict()
        self.by_webhook = collections.defaultdict(list)
        for receiver in world.receivers.values():
            if receiver.kind != "sink":
                for entry in receiver.entries():
                    self.by_webhook[entry["webhook_id"]].append(entry)
        for entries in self.by_webhook.values():
            entries.sort(key=lambda e: e["time"])
        db = world.db
        self.rows = {row[0]: row for row in db.query(
            "SELECT id, status, attempts, max_retry, webhook_id FROM tasks")}
        self.attempts = collections.defaultdict(list)
        for task_id, attempt, error_class in db.query(
                "SELECT task_id, attempt, coalesce(error_class, 'ok') FROM attempts ORDER BY id"):
            self.attempts[task_id].append((attempt, error_class))
        self.manual = collections.defaultdict(list)
        for task_id, reason, state in db.query("SELECT task_id, reason, state FROM manual"):
            self.manual[task_id].append((reason, state))

    def fail(self, invariant, text):
        self.violations.setdefault(invariant, []).append(text)

    def log_lines(self, task_id, limit=10):
        pattern = re.compile(r"task_id=%d\b" % task_id)
        found = []
        for instance in self.world.instances:
            found += ["heraldd#%d %s" % (instance.index, line) for line in instance.all_lines()
                      if pattern.search(line)]
        return "\n      ".join(found[-limit:]) or "(no log line names it)"

    def describe(self, task):
        row = self.rows.get(task["task_id"])
        return ("task %d (%s, %s, max_retry %d): row %s; attempts %s; manual %s; receipts %s;"
                "\n      %s" % (
                    task["task_id"], task["business_id"], task["target"], task["max_retry"],
                    row[1:4] if row else None, self.attempts.get(task["task_id"]),
                    self.manual.get(task["task_id"]),
                    [(e["receiver"], e["attempt"], e["status"], "late" if e["late"] else "")
                     for e in self.by_webhook.get(task["webhook_id"], [])],
                    self.log_lines(task["task_id"])))

    def run(self):
        self.check_acknowledged()
        self.check_acknowledged_kept()
        self.check_duplicates()
        self.check_attempts()
        self.check_alerts()
        self.check_dns_isolation()
        self.check_api()
        return self.violations, self.figures

    # ---- 1 ----
    def check_acknowledged(self):
        statuses = collections.Counter()
        for task in self.tasks:
            row = self.rows.get(task["task_id"])
            # A row under the task's id with another webhook-id: the id was handed out
            # again after the acknowledged one was lost (a failover to a standby that
            # lacked it); the acknowledged task is lost.
            status = row[1] if row and row[4] == task["webhook_id"] else "lost"
            open_manual = any(state == "open" for _, state in self.manual.get(task["task_id"], []))
            if status == "failed" and open_manual:
                status = "manual"
            statuses[status] += 1
            if status not in ("succeeded", "manual") and \
                    len(self.violations.get("1 acknowledged", [])) < MAX_REPORTED:
                self.fail("1 acknowledged", "%s: %s" % (status, self.describe(task)))
        self.figures["tasks acknowledged"] = len(self.tasks)
        self.figures["final"] = dict(statuses)
        self.figures["by target"] = dict(collections.Counter(t["target"] for t in self.tasks))
        self.figures["manual reasons"] = dict(collections.Counter(
            reason for entries in self.manual.values() for reason, _ in entries))

    # ---- 2 ----
    def check_acknowledged_kept(self):
        lost = 0
        for task in self.tasks:
            acked = [e for e in self.by_webhook.get(task["webhook_id"], [])
                     if 200 <= e["status"] < 300 and not e["late"]]
            row = self.rows.get(task["task_id"])
            if acked and row and (row[1] != "succeeded" or self.manual.get(task["task_id"])):
                # heraldd cannot keep an acknowledgement it never received: the attempt
                # was cut off by a fault (recorded as interrupted, within a fault's
                # window) and the attempts after it failed on their own. Reported apart.
                recorded = dict(self.attempts.get(task["task_id"], []))
                if all(recorded.get(e["attempt"]) == "interrupted" and
                       self.explanation(e) not in (None, "late_answer") for e in acked):
                    lost += 1
                    continue
                self.fail("2 ack_kept", "acknowledged by %s at attempt %d, then %s: %s" % (
                    acked[0]["receiver"], acked[0]["attempt"], row[1], self.describe(task)))
        self.figures["acknowledgements lost to a fault, later attempts failed"] = lost

    # ---- 3 ----
    def explanation(self, earlier):
        if earlier["late"]:
            return "late_answer"
        for window in self.windows:
            if window["kind"] in EXPLAINS_DUPLICATES and \
                    window["start"] - TIMEOUT_S - 1.0 <= earlier["time"] <= window["end"] + 2.0:
                return window["kind"]
        return None

    def check_duplicates(self):
        classes = collections.Counter()
        tasks = {t["webhook_id"]: t for t in self.tasks}
        for webhook_id, entries in self.by_webhook.items():
            for earlier, later in zip(entries, entries[1:]):
                if earlier["status"] >= 300 and not earlier["late"]:
                    continue  # a retry after a failure heraldd saw: not a duplicate
                why = self.explanation(earlier)
                classes[why or "unexplained"] += 1
                if why is None:
                    task = tasks.get(webhook_id)
                    self.fail("3 duplicates", "%s again at attempt %d, %.2f s after attempt %d "
                              "answered %d, outside any fault window: %s" % (
                                  webhook_id, later["attempt"], later["time"] - earlier["time"],
                                  earlier["attempt"], earlier["status"],
                                  self.describe(task) if task else "(not acknowledged)"))
        self.figures["duplicates"] = sum(classes.values())
        self.figures["duplicates by cause"] = dict(classes)

    # ---- 4 ----
    def check_attempts(self):
        tasks = {t["task_id"]: t for t in self.tasks}
        rescued_budget = 0
        for task_id, rows in self.rows.items():
            history = self.attempts.get(task_id, [])
            numbers = [attempt for attempt, _ in history]
            task = tasks.get(task_id)
            what = self.describe(task) if task else "task %d: %s %s" % (task_id, rows, history)
            repeated = sorted(n for n, c in collections.Counter(numbers).items() if c > 1)
            if repeated:
                self.fail("4 attempts", "attempt(s) %s recorded twice: %s" % (repeated, what))
            max_retry = rows[3]
            cut_off = [error == "interrupted" for _, error in sorted(history)]
            # An attempt past the budget only right after a cut-off one, and at most
            # RESCUE_STREAK - 1 of them.
            allowed = max_retry
            while allowed < min(len(cut_off), max_retry + RESCUE_STREAK - 1) and \
                    cut_off[allowed - 1]:
                allowed += 1
            if len(history) > allowed or (numbers and max(numbers) > allowed):
                self.fail("4 attempts", "%d attempt rows (highest %d) past max_retry %d and "
                          "the rescue rule: %s" % (len(history), max(numbers), max_retry, what))
            if rows[1] in ("succeeded", "failed") and rows[2] != len(history):
                self.fail("4 attempts", "attempts counter %d, %d rows: %s" % (
                    rows[2], len(history), what))
            reasons = [reason for reason, _ in self.manual.get(task_id, [])]
            streak = len(history) >= max_retry and len(cut_off) >= RESCUE_STREAK and \
                all(cut_off[-RESCUE_STREAK:])
            if streak:
                rescued_budget += 1
                if rows[1] != "failed" or "interrupted" not in reasons:
                    self.fail("4 attempts", "budget spent and %d attempts cut off in a row, "
                              "but %s with manual %s: %s" % (RESCUE_STREAK, rows[1], reasons,
                                                             what))
            elif "interrupted" in reasons and rows[1] == "failed":
                self.fail("4 attempts", "in manual handling as interrupted without %d cut-off "
                          "attempts in a row ending its budget: %s" % (RESCUE_STREAK, what))
            if task:
                seen = [e["attempt"] for e in self.by_webhook.get(task["webhook_id"], [])]
                if seen and max(seen) > allowed:
                    self.fail("4 attempts", "the receiver saw attempt %d past %d (max_retry %d "
                              "and the rescue rule): %s" % (max(seen), allowed, max_retry, what))
        self.figures["budgets ended by a rescue"] = rescued_budget

    # ---- 5 ----
    def check_alerts(self):
        sink = self.world.receivers["sink"].entries()
        by_id = collections.defaultdict(list)
        walls = collections.defaultdict(list)
        for entry in sink:
            by_id[entry["webhook_id"]].append(entry["time"])
            walls[entry["webhook_id"]].append(entry["wall"])
        # When an instance logged that marking an alert sent failed (it sends again).
        mark_failed = [log_time(line) for instance in self.world.instances
                       for line in instance.all_lines() if "event=alert_send_failed" in line]
        # A send its sender counted failed (logged with the alert's id) while a fault
        # froze or cut it off: the sink may have had it; sent again, as after a crash
        # between send and mark.
        sink_failed = collections.defaultdict(list)
        for instance in self.world.instances:
            for line in instance.all_lines():
                found = re.search(r"event=alert_sink_failed alert_id=(\d+)", line)
                if found:
                    sink_failed["alert_" + found.group(1)].append(log_time(line))
        explained = collections.Counter()
        repeats = 0
        for alert_id, times in sorted(by_id.items()):
            if len(times) < 2:
                continue
            repeats += len(times) - 1
            first, last = min(times), max(times)
            kills = [w for w in self.windows if w["kind"] == "kill"
                     and first - 1.0 <= w["start"] <= last]
            marks = [t for t in mark_failed
                     if t and min(walls[alert_id]) - 1.0 <= t <= max(walls[alert_id]) + 1.0]
            frozen = [w for w in self.windows if w["kind"] in EXPLAINS_DUPLICATES
                      and w["start"] - TIMEOUT_S - 1.0 <= first <= w["end"]]
            logged = [t for t in sink_failed.get(alert_id, [])
                      if t and min(walls[alert_id]) - 1.0 <= t <= max(walls[alert_id]) + 1.0]
            if kills or marks or (frozen and logged):
                explained["kill" if kills else "mark failed" if marks else
                          "sink send cut by %s, logged" % frozen[0]["kind"]] += len(times) - 1
                continue
            leadership = sorted(
                (log_time(line) or 0, "heraldd#%d %s" % (instance.index, line))
                for instance in self.world.instances for line in instance.all_lines()
                if re.search(r"event=(leader_acquired|leader_lost|alert |alert_)", line))
            around = [text for when, text in leadership
                      if min(walls[alert_id]) - 20 <= when <= max(walls[alert_id]) + 5]
            faults = ["%s %s %s..%s" % (w["kind"], w["target"], clock(w["wall_start"]),
                                        clock(w["wall_end"])) for w in self.windows]
            self.fail("5 alerts", "%s reached the sink %d times (at %s), no kill or logged "
                      "mark failure between; faults: %s; leadership and alerts around:\n      %s"
                      % (alert_id, len(times), ", ".join(clock(t) for t in walls[alert_id]),
                         "; ".join(faults), "\n      ".join(around[-20:])))
        self.figures["alerts"] = "%d sent, %d repeated %s" % (len(by_id), repeats,
                                                              dict(explained))

    # ---- 6 ----
    def check_dns_isolation(self):
        windows = [w for w in self.windows if w["kind"] == "dns"]
        if not windows:
            return
        waits = []  # (seconds to the first attempt, task, its window)
        for task in self.tasks:
            window = next((w for w in windows if w["start"] <= task["posted"] <= w["end"]),
                          None)
            if not task["target"].startswith("healthy") or window is None:
                continue
            first = [e for e in self.by_webhook.get(task["webhook_id"], []) if e["attempt"] == 1]
            waits.append(((first[0]["time"] - task["acked"]) if first else float("inf"),
                          task, window))
        waits.sort(key=lambda entry: entry[0])
        latencies = [wait for wait, _, _ in waits]
        if len(latencies) < 10:
            self.fail("6 dns_isolation", "only %d healthy tasks posted during the slow-DNS "
                      "window" % len(latencies))
            return
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        self.figures["healthy first attempts during slow DNS"] = \
            "%d, p50 %.3f s, p99 %.3f s, max %.3f s" % (
                len(latencies), latencies[len(latencies) // 2], p99, latencies[-1])
        if p99 < HEALTHY_P99_MAX:
            return
        slowest = waits[-5:]
        # What the instances logged from just before the slowest were posted.
        began = min(window["wall_start"] + task["posted"] - window["start"]
                    for _, task, window in slowest) - 0.5
        logged = sorted(
            (log_time(line) or 0, "heraldd#%d %s" % (instance.index, line))
            for instance in self.world.instances for line in instance.all_lines()
            if began <= (log_time(line) or 0) <= began + 3)
        self.fail("6 dns_isolation", "p99 %.3f s >= %.1f s over %d tasks; slowest: %s; "
                  "logged from %s:\n      %s" % (
                      p99, HEALTHY_P99_MAX, len(latencies),
                      ["%.3f s (task %d via heraldd#%d, +%.2f s into the window)" % (
                          wait, task["task_id"], task["instance"],
                          task["posted"] - window["start"]) for wait, task, window in slowest],
                      clock(began), "\n      ".join(text for _, text in logged[:40])))

    # ---- the API agrees with the database ----
    def check_api(self):
        live = [i for i in self.world.instances if i.available]
        if not live:
            return
        for task in self.tasks[::max(1, len(self.tasks) // 40)]:
            status, _, body = live[0].herald.request("GET", "/v1/tasks/%d" % task["task_id"])
            row = self.rows.get(task["task_id"])
            if status != 200 or not row or body["task"]["status"] != row[1]:
                self.fail("1 acknowledged", "GET /v1/tasks/%d: %s %s, database %s" % (
                    task["task_id"], status, body, row))
