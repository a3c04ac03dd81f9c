"""A rolling upgrade of several heraldd on one PostgreSQL, with real binaries of two
versions: the previous one is built from this repository's history (the last commit
before the newest PostgreSQL migration), the new one is the binary under test.

The procedure (README, "Upgrading several heraldd"): stop one old instance, start the
new binary in its place (it migrates the schema on start), then the next. Old
instances keep accepting and delivering on the newer schema meanwhile (herald's
migrations within a release only add), and an old binary started after the migration
refuses the newer schema. PostgreSQL only: SQLite has one heraldd at a time.
"""
import json
import os
import subprocess
import tarfile
import tempfile
import threading
import time
import unittest

import database
from database import TestDatabase
from harness import FrozenThread, Herald, Receiver, task_request, wait_until

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
previous_heraldd = None
previous_commit = None


def git(*args):
    return subprocess.run(["git", "-C", ROOT] + list(args), check=True, capture_output=True,
                          text=True, timeout=60).stdout.strip()


def setUpModule():
    """Builds the previous heraldd once (kept under build/previous/COMMIT)."""
    global previous_heraldd, previous_commit
    if database.BACKEND != "postgresql":
        raise unittest.SkipTest("PostgreSQL only: several heraldd share PostgreSQL")
    try:
        newest = git("log", "-1", "--format=%H", "--", "migrations/postgresql")
        previous_commit = git("rev-parse", "--short", newest + "^")
    except (subprocess.CalledProcessError, OSError) as error:
        # A shallow clone or a tarball has no history to build the previous version from.
        raise unittest.SkipTest("no git history for the previous version: %s" % error)
    directory = os.path.join(ROOT, "build", "previous", previous_commit)
    previous_heraldd = os.path.join(directory, "build", "heraldd")
    if os.path.exists(previous_heraldd):
        return
    os.makedirs(directory, exist_ok=True)
    with tempfile.TemporaryFile() as archive:
        subprocess.run(["git", "-C", ROOT, "archive", previous_commit], stdout=archive,
                       check=True, timeout=60)
        archive.seek(0)
        with tarfile.open(fileobj=archive) as tar:
            # filter= arrived in Python 3.11.4; Debian 12's python3 is 3.11.2. The
            # archive is our own repository's, so the plain form is safe there.
            if hasattr(tarfile, "data_filter"):
                tar.extractall(directory, filter="data")
            else:
                tar.extractall(directory)
    subprocess.run(["make", "-C", directory, "-j2", "build/heraldd"], check=True, timeout=600,
                   stdout=subprocess.DEVNULL)


class RollingUpgradeTest(unittest.TestCase):
    PER_PHASE = 150

    def schema_version(self, db):
        return db.value("SELECT max(version) FROM schema_migrations")

    def post(self, herald, name, receiver):
        status, _, body = herald.request("POST", "/v1/tasks",
                                         body=task_request(name, receiver.url()))
        self.assertEqual(status, 201, body)

    def test_old_and_new_binaries_share_one_schema_during_a_rolling_upgrade(self):
        db = TestDatabase(None)
        self.addCleanup(db.drop)
        receiver = Receiver()
        self.addCleanup(receiver.close)

        def instance(binary=None):
            herald = Herald(db=db, binary=binary)
            self.addCleanup(herald.cleanup)
            return herald
        old_a, old_b = instance(previous_heraldd).start(), instance(previous_heraldd).start()
        old_schema = self.schema_version(db)
        posted = []
        live = [old_a, old_b]
        stop_posting = threading.Event()

        def client():  # a shop's service, posting through the upgrade to whichever is up
            index = 0
            while not stop_posting.is_set():
                name = "ROLL-%d" % index
                for herald in list(live):
                    try:
                        status, _, _ = herald.request("POST", "/v1/tasks",
                                                      body=task_request(name, receiver.url()))
                    except (OSError, TypeError):
                        continue
                    if status in (200, 201):
                        posted.append(name)
                        index += 1
                        break
                time.sleep(0.005)
        poster = threading.Thread(target=client)
        poster.start()
        try:
            wait_until(lambda: len(posted) >= self.PER_PHASE, message="tasks before the upgrade")
            # Step 1: one old instance makes way for the new binary, which migrates.
            live.remove(old_a)
            old_a.stop()
            new_a = instance().start()
            live.append(new_a)
            self.assertGreater(self.schema_version(db), old_schema)
            mark = len(old_b.lines)
            wait_until(lambda: len(posted) >= 2 * self.PER_PHASE, message="tasks in between")
            # The old instance works on the new schema: with the new one's scheduler
            # frozen, what is posted to the old one is delivered by the old one.
            frozen = FrozenThread(new_a.process.pid, "herald-sched")
            try:
                for i in range(10):
                    self.post(old_b, "OLD-ON-NEW-%d" % i, receiver)

                def delivered_by_old():
                    names = {json.loads(r.body)["id"] for r in receiver.received()}
                    return all("OLD-ON-NEW-%d" % i in names for i in range(10))
                wait_until(delivered_by_old, timeout=15, message="the old instance's deliveries")
            finally:
                frozen.release()
            # An old binary started now refuses the newer schema, clearly.
            late = instance(previous_heraldd)
            refused = subprocess.run([previous_heraldd, "-c", late.config_path],
                                     capture_output=True, text=True, timeout=60)
            self.assertEqual(refused.returncode, 1, refused.stderr)
            self.assertIn("newer than this heraldd knows", refused.stderr)
            # Step 2: the last old instance.
            live.remove(old_b)
            old_b.stop()
            new_b = instance().start()
            live.append(new_b)
            wait_until(lambda: len(posted) >= 3 * self.PER_PHASE, message="tasks after")
        finally:
            stop_posting.set()
            poster.join(30)
        old_text = "\n".join(old_b.lines[mark:])
        for failure in ("event=scheduler_write_failed", "event=intake_failed",
                        "event=host_list_failed"):
            self.assertNotIn(failure, old_text)

        wanted = set(posted) | {"OLD-ON-NEW-%d" % i for i in range(10)}
        wait_until(lambda: wanted <= {json.loads(r.body)["id"] for r in receiver.received()},
                   timeout=60, message="every accepted task delivered")
        wait_until(lambda: db.value("SELECT count(*) FROM tasks WHERE status <> 'succeeded'")
                   == 0, timeout=30, message="no task left in flight")
        ids = [r.headers["webhook-id"] for r in receiver.received()]
        # Clean stops finish their deliveries: nothing is sent twice.
        self.assertEqual(len(ids), len(set(ids)))
        print("rolling upgrade from %s (schema %d) to this build (schema %d): %d tasks, "
              "0 lost, 0 duplicates" % (previous_commit, old_schema, self.schema_version(db),
                                        len(wanted)))
        for herald in (new_a, new_b):
            herald.stop()


if __name__ == "__main__":
    unittest.main()
