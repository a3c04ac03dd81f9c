"""make install honours PREFIX and DESTDIR and installs everything it should."""
import os
import shutil
import subprocess
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


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
                        "opt/herald/share/herald/migrations/001_initial.sql",
                        "opt/herald/lib/systemd/system/heraldd.service",
                        "opt/herald/share/man/man8/heraldd.8",
                        "opt/herald/share/man/man1/heraldctl.1"]
            for path in expected:
                self.assertTrue(os.path.isfile(os.path.join(destdir, path)), path)
            for binary in expected[:2]:
                self.assertTrue(os.access(os.path.join(destdir, binary), os.X_OK))
            for page in expected[5:] if shutil.which("man") else []:  # render without warnings
                rendered = subprocess.run(["man", "--warnings", "-l", os.path.join(destdir, page)],
                                          capture_output=True, text=True, timeout=60,
                                          env=dict(os.environ, MANWIDTH="80"))
                self.assertEqual(rendered.returncode, 0, rendered.stderr)
                self.assertIn("NAME", rendered.stdout)
                self.assertEqual(rendered.stderr.strip(), "", page)
            with open(os.path.join(destdir, expected[4])) as unit:
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


if __name__ == "__main__":
    unittest.main()
