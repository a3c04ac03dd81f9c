#!/usr/bin/env python3
"""Runs every tests/integration/test_*.py against the binaries given, on each backend.

Usage: run.py --heraldd PATH --heraldctl PATH [--release-heraldd PATH] [-k PATTERN]
              [--backend sqlite|postgresql|all]
Prints one line per test and a final "integration: N passed, N failed" line;
exits non-zero if any test failed or none ran.

--backend all (the default) runs the whole suite once per backend, the two runs side
by side (the tests mostly wait on heraldd, receivers and timers, so two runs share two
cores well). For postgresql, run.py starts a throwaway cluster for the run
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
    """One child run per backend, side by side; their lines prefixed with the backend."""
    children = []
    for backend in BACKENDS:
        argv = [sys.executable, os.path.abspath(__file__), "--backend", backend,
                "--heraldd", options.heraldd, "--heraldctl", options.heraldctl]
        if options.release_heraldd:
            argv += ["--release-heraldd", options.release_heraldd]
        if options.pattern:
            argv += ["-k", options.pattern]
        children.append((backend, subprocess.Popen(argv, stdout=subprocess.PIPE,
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
    for backend in BACKENDS:
        words = totals.get(backend, "integration: 0 passed, 1 failed").split()
        passed += int(words[1])
        failed += int(words[3])
    print("integration: %d passed, %d failed (%s)" % (
        passed, failed, "; ".join("%s: %s" % (b, totals.get(b, "did not finish")[13:])
                                  for b in BACKENDS)))
    return 0 if all(code == 0 for code in codes) else 1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--heraldd", required=True)
    parser.add_argument("--heraldctl", required=True)
    parser.add_argument("--release-heraldd")
    parser.add_argument("-k", dest="pattern", help="only tests whose id contains this")
    parser.add_argument("--backend", default=os.environ.get("HERALD_TEST_BACKEND", "all"),
                        choices=BACKENDS + ("all",))
    options = parser.parse_args()
    if options.backend == "all":
        return run_all(options)
    os.environ["HERALD_TEST_BACKEND"] = options.backend
    if options.backend == "postgresql":
        return run_with_cluster(options)
    return run_suite(options)


if __name__ == "__main__":
    sys.exit(main())
