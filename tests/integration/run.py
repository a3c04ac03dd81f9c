#!/usr/bin/env python3
"""Runs every tests/integration/test_*.py against the binaries given, on each backend.

Usage: run.py --heraldd PATH --heraldctl PATH [--release-heraldd PATH] [-k PATTERN]
              [--backend sqlite|postgresql|all]
Prints one line per test and a final "integration: N passed, N failed" line;
exits non-zero if any test failed or none ran.

--backend all (the default) runs the whole suite once per backend, side by side (the
tests mostly wait on heraldd, receivers and timers, so the runs share two cores well):
the PostgreSQL run, the longer, as two shards of its own (--shard 1/2 and 2/2, each with
its cluster), whose test files are dealt by their measured length (WEIGHTS). For postgresql, run.py starts a throwaway cluster for the run
(tools/pg_cluster.sh: initdb into a temporary directory, Unix socket only, fsync on)
and stops it at the end, also when tests fail or the run is interrupted.
"""
import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
PG_CLUSTER = os.path.join(HERE, "..", "..", "tools", "pg_cluster.sh")
BACKENDS = ("sqlite", "postgresql")
# The runs side by side: a backend and its shard.
RUNS = (("sqlite", "1/1"), ("postgresql", "1/2"), ("postgresql", "2/2"))
# Seconds each test file takes on PostgreSQL (measured in make test on two cores), to
# deal the files to shards of about equal length; a file not named weighs DEFAULT_WEIGHT.
WEIGHTS = {"test_torture": 192, "test_instances": 107, "test_failover": 95,
           "test_campaign": 83, "test_alerts": 45, "test_delivery": 29, "test_faults": 26,
           "test_stop": 17, "test_postgresql": 15, "test_receiver_breaker": 86,
           "test_rate_limit": 55, "test_redeliveries": 80, "test_limits": 10, "test_manual": 9,
           "test_ordering": 80}
DEFAULT_WEIGHT = 3


class LineResult(unittest.TextTestResult):
    # A module's setUpModule may skip (or fail) before any test started.
    _started = time.monotonic()
    passes = 0

    def startTest(self, test):
        self._started = time.monotonic()
        super().startTest(test)

    def _line(self, verdict, test):
        self.stream.write("%-6s %-70s %.2fs\n" % (verdict, test.id().replace("test_", "", 1),
                                                  time.monotonic() - self._started))
        self.stream.flush()

    def addSuccess(self, test):
        unittest.TestResult.addSuccess(self, test)
        self.passes += 1
        self._line("ok", test)

    def addFailure(self, test, err):
        unittest.TestResult.addFailure(self, test, err)
        self._line("FAIL", test)

    def addError(self, test, err):
        unittest.TestResult.addError(self, test, err)
        self._line("ERROR", test)

    def addSkip(self, test, reason):
        unittest.TestResult.addSkip(self, test, reason)
        self._line("skip", test)


def run_suite(options):
    os.environ["HERALD_HERALDD"] = os.path.abspath(options.heraldd)
    os.environ["HERALD_HERALDCTL"] = os.path.abspath(options.heraldctl)
    if options.release_heraldd:
        os.environ["HERALD_RELEASE_HERALDD"] = os.path.abspath(options.release_heraldd)
    sys.path.insert(0, HERE)
    suite = unittest.defaultTestLoader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    if options.shard != "1/1":
        suite = shard_of(suite, options.shard)
    if options.pattern:
        def matching(tests):
            for test in tests:
                if isinstance(test, unittest.TestSuite):
                    yield from matching(test)
                elif options.pattern in test.id():
                    yield test
        suite = unittest.TestSuite(list(matching(suite)))
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=0, resultclass=LineResult)
    result = runner.run(suite)
    failed = len(result.failures) + len(result.errors)
    passed = result.passes  # a skipped setUpModule is no test: count what passed
    print("integration: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and result.testsRun > 0 else 1


def module_of(suite):
    """The test file (module name) of SUITE, one of discover()'s per-file suites."""
    for test in suite:
        if isinstance(test, unittest.TestSuite):
            name = module_of(test)
            if name:
                return name
        else:
            return type(test).__module__
    return None


def shard_of(suite, shard):
    """The files of SUITE dealt to SHARD ("K/N"): heaviest first, each to the lightest
    shard so far, so every shard gets the same files whatever its K."""
    index, count = (int(part) for part in shard.split("/"))
    files = [(module_of(child) or "", child) for child in suite]
    files.sort(key=lambda item: (-WEIGHTS.get(item[0], DEFAULT_WEIGHT), item[0]))
    loads = [0] * count
    mine = unittest.TestSuite()
    for name, child in files:
        lightest = loads.index(min(loads))
        loads[lightest] += WEIGHTS.get(name, DEFAULT_WEIGHT)
        if lightest == index - 1:
            mine.addTest(child)
    return mine


def run_with_cluster(options):
    """The suite against a PostgreSQL cluster of its own, stopped whatever happens."""
    directory = os.path.join(tempfile.gettempdir(), "herald-pg-%d-%d" % (os.getpid(),
                                                                      int(time.time())))
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        subprocess.run([PG_CLUSTER, "start", directory], check=True)
        os.environ["HERALD_TEST_PG_DIR"] = directory
        return run_suite(options)
    finally:
        subprocess.run([PG_CLUSTER, "stop", directory])


def run_all(options):
    """One child run per backend and shard (RUNS), side by side; their lines prefixed
    with the backend (and the shard)."""
    children = []
    for backend, shard in RUNS:
        argv = [sys.executable, os.path.abspath(__file__), "--backend", backend,
                "--shard", shard, "--heraldd", options.heraldd,
                "--heraldctl", options.heraldctl]
        if options.release_heraldd:
            argv += ["--release-heraldd", options.release_heraldd]
        if options.pattern:
            argv += ["-k", options.pattern]
        label = backend if shard == "1/1" else "%s %s" % (backend, shard)
        children.append((label, subprocess.Popen(argv, stdout=subprocess.PIPE,
                                                 stderr=subprocess.STDOUT, text=True)))
    totals = {}
    lock = threading.Lock()

    def relay(backend, child):
        for line in child.stdout:
            if line.startswith("integration: "):
                totals[backend] = line.strip()
            with lock:
                sys.stdout.write("[%s] %s" % (backend, line))
                sys.stdout.flush()

    relays = [threading.Thread(target=relay, args=child) for child in children]
    for thread in relays:
        thread.start()
    try:
        codes = [child.wait() for _, child in children]
    except KeyboardInterrupt:
        for _, child in children:
            child.terminate()
        codes = [child.wait() for _, child in children]
    for thread in relays:
        thread.join()
    passed = failed = 0
    for label, _ in children:
        words = totals.get(label, "integration: 0 passed, 1 failed").split()
        passed += int(words[1])
        failed += int(words[3])
    print("integration: %d passed, %d failed (%s)" % (
        passed, failed, "; ".join("%s: %s" % (label, totals.get(label, "did not finish")[13:])
                                  for label, _ in children)))
    return 0 if all(code == 0 for code in codes) else 1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--heraldd", required=True)
    parser.add_argument("--heraldctl", required=True)
    parser.add_argument("--release-heraldd")
    parser.add_argument("-k", dest="pattern", help="only tests whose id contains this")
    parser.add_argument("--backend", default=os.environ.get("HERALD_TEST_BACKEND", "all"),
                        choices=BACKENDS + ("all",))
    parser.add_argument("--shard", default="1/1",
                        help="K/N: only the K-th of N shards of the test files")
    options = parser.parse_args()
    if options.backend == "all":
        return run_all(options)
    os.environ["HERALD_TEST_BACKEND"] = options.backend
    if options.backend == "postgresql":
        return run_with_cluster(options)
    return run_suite(options)


if __name__ == "__main__":
    sys.exit(main())
