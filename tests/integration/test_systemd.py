"""The systemd unit: systemd-analyze verify passes and the offline security score is
at most 2.0 ("OK")."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@unittest.skipUnless(shutil.which("systemd-analyze"), "systemd-analyze is not installed")
class SystemdUnitTest(unittest.TestCase):
    def setUp(self):
        self.directory = tempfile.mkdtemp(prefix="herald-unit-")
        self.addCleanup(shutil.rmtree, self.directory, True)
        with open(os.path.join(ROOT, "systemd", "heraldd.service")) as f:
            text = f.read()
        # As `make install` fills it in, pointing at the binary this tree built.
        text = text.replace("@BINDIR@", os.path.join(ROOT, "build")).replace("@SYSCONFDIR@", "/etc")
        text = text.replace("@HERALD_GROUP@", "herald")
        self.unit = os.path.join(self.directory, "heraldd.service")
        with open(self.unit, "w") as f:
            f.write(text)

    def test_verify_passes(self):
        completed = subprocess.run(["systemd-analyze", "verify", "--man=no", self.unit],
                                   capture_output=True, text=True, timeout=60)
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertNotIn("heraldd.service:", completed.stderr)

    def test_security_exposure_is_ok(self):
        completed = subprocess.run(["systemd-analyze", "security", "--offline=true", self.unit],
                                   capture_output=True, text=True, timeout=60)
        match = re.search(r"Overall exposure level for heraldd.service: ([0-9.]+)",
                          completed.stdout + completed.stderr)
        self.assertIsNotNone(match, completed.stdout + completed.stderr)
        self.assertLessEqual(float(match.group(1)), 2.0, completed.stdout)

    def test_unit_has_what_the_service_relies_on(self):
        with open(self.unit) as f:
            text = f.read()
        for line in ("Type=notify", "WatchdogSec=", "Restart=on-failure", "ExecReload=",
                     "StateDirectory=herald", "ConfigurationDirectory=herald",
                     "DynamicUser=yes", "SupplementaryGroups=herald"):
            self.assertIn(line, text)


if __name__ == "__main__":
    unittest.main()
