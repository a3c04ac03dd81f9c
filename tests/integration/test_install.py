"""make install honours PREFIX and DESTDIR and installs everything it should."""
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import backend_independent

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@backend_independent("make install builds and installs the binaries")
class InstallTest(unittest.TestCase):
    def test_install_into_destdir(self):
        destdir = tempfile.mkdtemp(prefix="herald-install-")
        try:
            completed = subprocess.run(
                ["make", "-s", "install", "DESTDIR=" + destdir, "PREFIX=/opt/herald"],
                cwd=ROOT, capture_output=True, text=True, timeout=300)
            self.assertEqual(completed.returncode, 0, completed.stderr)
            expected = ["opt/herald/bin/heraldd", "opt/herald/bin/heraldctl",
                        "etc/herald/herald.conf",
                        "opt/herald/share/herald/migrations/sqlite/001_initial.sql",
                        "opt/herald/share/herald/migrations/postgresql/001_initial.sql",
                        "opt/herald/lib/systemd/system/heraldd.service",
                        "opt/herald/share/man/man8/heraldd.8",
                        "opt/herald/share/man/man1/heraldctl.1",
                        "opt/herald/share/bash-completion/completions/heraldctl"]
            for path in expected:
                self.assertTrue(os.path.isfile(os.path.join(destdir, path)), path)
            for binary in expected[:2]:
                self.assertTrue(os.access(os.path.join(destdir, binary), os.X_OK))
            pages = [path for path in expected if "/man/" in path]
            for page in pages if shutil.which("man") else []:  # render without warnings
                rendered = subprocess.run(["man", "--warnings", "-l", os.path.join(destdir, page)],
                                          capture_output=True, text=True, timeout=60,
                                          env=dict(os.environ, MANWIDTH="80"))
                self.assertEqual(rendered.returncode, 0, rendered.stderr)
                self.assertIn("NAME", rendered.stdout)
                self.assertEqual(rendered.stderr.strip(), "", page)
            with open(os.path.join(destdir, "opt/herald/lib/systemd/system/heraldd.service")) \
                    as unit:
                text = unit.read()
            self.assertIn("ExecStart=/opt/herald/bin/heraldd -c /etc/herald/herald.conf", text)
            self.assertNotRegex(text, r"@[A-Z]+@")  # every placeholder filled in
            # An existing configuration is never overwritten.
            conf = os.path.join(destdir, "etc/herald/herald.conf")
            with open(conf, "w") as f:
                f.write("; edited by the operator\n")
            subprocess.run(["make", "-s", "install", "DESTDIR=" + destdir, "PREFIX=/opt/herald"],
                           cwd=ROOT, check=True, capture_output=True, timeout=300)
            with open(conf) as f:
                self.assertEqual(f.read(), "; edited by the operator\n")
        finally:
            shutil.rmtree(destdir, ignore_errors=True)


@backend_independent("make install builds and installs the binaries")
class InstalledUnitUserTest(unittest.TestCase):
    """Item 16: the installed unit's user can read the installed configuration, which
    stays closed to everyone else (it may hold secrets)."""

    @unittest.skipUnless(os.geteuid() == 0 and shutil.which("setpriv"),
                         "needs root and setpriv to act as another user")
    def test_unit_user_reads_the_config_through_its_group(self):
        destdir = tempfile.mkdtemp(prefix="herald-install-")
        self.addCleanup(shutil.rmtree, destdir, True)
        os.chmod(destdir, 0o755)
        # An existing group stands in for "herald" (tests do not add system groups).
        completed = subprocess.run(
            ["make", "-s", "install", "DESTDIR=" + destdir, "PREFIX=/opt/herald",
             "HERALD_GROUP=nogroup"], cwd=ROOT, capture_output=True, text=True, timeout=300)
        self.assertEqual(completed.returncode, 0, completed.stderr)
        conf = os.path.join(destdir, "etc/herald/herald.conf")
        for path, mode in ((conf, 0o640), (os.path.dirname(conf), 0o750)):
            status = os.stat(path)
            self.assertEqual(status.st_mode & 0o777, mode, path)
            self.assertEqual(status.st_uid, 0)
            self.assertEqual(status.st_gid, 65534, path)
        with open(os.path.join(destdir, "opt/herald/lib/systemd/system/heraldd.service")) as f:
            unit = f.read()
        self.assertIn("DynamicUser=yes", unit)
        self.assertIn("SupplementaryGroups=nogroup", unit)
        with open(os.path.join(destdir, "opt/herald/lib/sysusers.d/herald.conf")) as f:
            self.assertRegex(f.read(), r"(?m)^g herald -")
        state = tempfile.mkdtemp(prefix="herald-state-")
        self.addCleanup(shutil.rmtree, state, True)
        os.chmod(state, 0o777)
        heraldd = os.path.join(destdir, "opt/herald/bin/heraldd")
        check = [heraldd, "-c", conf, "--check-config", "--db", os.path.join(state, "h.db")]
        # As the unit runs it: an unprivileged uid (a dynamic user) with the group.
        as_unit = subprocess.run(["setpriv", "--reuid=61999", "--regid=61999",
                                  "--groups=65534"] + check,
                                 capture_output=True, text=True, timeout=60)
        self.assertEqual(as_unit.returncode, 0, as_unit.stderr)
        self.assertIn("configuration OK", as_unit.stdout)
        # Anyone else cannot, and is told why.
        other = subprocess.run(["setpriv", "--reuid=61999", "--regid=61999", "--clear-groups"]
                               + check, capture_output=True, text=True, timeout=60)
        self.assertEqual(other.returncode, 1)
        self.assertIn("Permission denied", other.stderr)


if __name__ == "__main__":
    unittest.main()
