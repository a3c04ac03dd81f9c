#!/usr/bin/env python3
"""Runs every tests/integration/test_*.py against the binaries given.

Usage: run.py --heraldd PATH --heraldctl PATH [--release-heraldd PATH] [-k PATTERN]
Prints one line per test and a final "integration: N passed, N failed" line;
exits non-zero if any test failed or none ran.
"""
import argparse
import os
import sys
import time
import unittest


class LineResult(unittest.TextTestResult):
    def startTest(self, test):
        self._started = time.monotonic()
        super().startTest(test)

    def _line(self, verdict, test):
        self.stream.write("%-6s %-70s %.2fs\n" % (verdict, test.id().replace("test_", "", 1),
                                                  time.monotonic() - self._started))
        self.stream.flush()

    def addSuccess(self, test):
        unittest.TestResult.addSuccess(self, test)
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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--heraldd", required=True)
    parser.add_argument("--heraldctl", required=True)
    parser.add_argument("--release-heraldd")
    parser.add_argument("-k", dest="pattern", help="only tests whose id contains this")
    options = parser.parse_args()
    os.environ["HERALD_HERALDD"] = os.path.abspath(options.heraldd)
    os.environ["HERALD_HERALDCTL"] = os.path.abspath(options.heraldctl)
    if options.release_heraldd:
        os.environ["HERALD_RELEASE_HERALDD"] = os.path.abspath(options.release_heraldd)
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    suite = unittest.defaultTestLoader.discover(here, pattern="test_*.py", top_level_dir=here)
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
    passed = result.testsRun - failed - len(result.skipped)
    print("integration: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and result.testsRun > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
