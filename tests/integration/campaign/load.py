"""A steady, bounded load: a few workers post tasks with unique business ids to the
instances in turn (skipping those the nemesis has down), each to a receiver picked
at random (seeded), and keep every 201 with its task id, webhook-id, target and when
it was answered. Tasks to the slow-DNS name are posted only while that fault is on."""
import http.client
import json
import random
import threading
import time

REQUEST_TIMEOUT = 3.0
PACE = 0.04  # between one worker's posts: about 50 tasks a second for two workers


class Load:
    def __init__(self, instances, targets, seed, workers=2, limit=100000):
        """TARGETS: (name, url, max_retry, weight); a weight of None means 'only while
        `dns_on` is set'."""
        self.instances = instances
        self.targets = targets
        self.seed = seed
        self.limit = limit
        self.accepted = []  # dicts: business_id, task_id, webhook_id, target, posted, acked
        self.refused = {}  # status -> count (503 while the database is away, ...)
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.dns_on = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(w,), daemon=True)
                        for w in range(workers)]

    def start(self):
        for thread in self.threads:
            thread.start()
        return self

    def _pick(self, rng):
        choices = [t for t in self.targets if t[3] is not None]
        if self.dns_on.is_set():
            choices += [(t[0], t[1], t[2], 15) for t in self.targets if t[3] is None]
        total = sum(t[3] for t in choices)
        point = rng.uniform(0, total)
        for target in choices:
            point -= target[3]
            if point <= 0:
                return target
        return choices[-1]

    def _post(self, port, body):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
        try:
            connection.request("POST", "/v1/tasks", body=json.dumps(body),
                               headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def _run(self, worker):
        rng = random.Random(self.seed * 1000 + worker)
        turn = worker
        index = 0
        while not self.stopping.is_set() and len(self.accepted) < self.limit:
            name, url, max_retry, _ = self._pick(rng)
            business_id = "CAMPAIGN-%d-%d" % (worker, index)
            index += 1
            body = {"business_id": business_id, "business_type": "PAYMENT_SUCCESS",
                    "target_url": url, "payload": {"id": business_id}, "max_retry": max_retry}
            posted = time.monotonic()
            # Until an instance takes it (bounded): every instance in turn.
            for _ in range(40):
                if self.stopping.is_set():
                    break
                instance = self.instances[turn % len(self.instances)]
                turn += 1
                port = instance.port
                if port is None:
                    time.sleep(0.01)
                    continue
                try:
                    status, data = self._post(port, body)
                except (OSError, http.client.HTTPException):
                    status, data = 0, b""
                # 200: the same task again (a post whose 201 was lost to a timeout).
                if status in (200, 201):
                    task = json.loads(data)["task"]
                    with self.lock:
                        self.accepted.append({
                            "business_id": business_id, "task_id": task["id"],
                            "webhook_id": task["webhook_id"], "target": name,
                            "max_retry": max_retry, "instance": instance.index,
                            "posted": posted, "acked": time.monotonic()})
                    break
                with self.lock:
                    self.refused[status] = self.refused.get(status, 0) + 1
                time.sleep(0.05)
            self.stopping.wait(PACE)

    def stop(self):
        self.stopping.set()
        for thread in self.threads:
            thread.join(REQUEST_TIMEOUT * 2 + 5)

    def tasks(self):
        with self.lock:
            return list(self.accepted)
