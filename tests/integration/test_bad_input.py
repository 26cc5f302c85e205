#!/usr/bin/env python3
"""(e) Bad input: exit 2 before anything starts, every problem reported at
once, each message naming the file and line or the folder or image."""
import os
import subprocess
import unittest

import drayt


class BadInputTest(drayt.DrayTestCase):
    def assert_rejected(self, p):
        self.assertEqual(p.returncode, 2, self.explain())
        # Nothing started: no log folder, no report, nothing in the registry.
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "logs")))
        self.assertFalse(os.path.exists(self.report))

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_broken_yaml_names_file_line_and_column(self):
        self.write("compose.yaml", "services:\n  web:\n    build: .\n  api: [unclosed\n")
        p = self.run_dray("run", "-f", "compose.yaml")
        self.assert_rejected(p)
        self.assertRegex(p.stderr, r"compose\.yaml:\d+:\d+")

    def test_missing_dockerfile_and_context_in_compose(self):
        drayt.write_image(self.tmp, "web")
        os.makedirs(os.path.join(self.tmp, "api"))
        self.write("compose.yaml", "services:\n"
                                   "  web:\n    build: ./web\n"
                                   "  api:\n    build:\n      context: ./api\n"
                                   "  db:\n    build: ./nowhere\n")
        p = self.run_dray("run", "-f", "compose.yaml")
        self.assert_rejected(p)
        # Both problems at once, each with its place.
        self.assertRegex(p.stderr, r"compose\.yaml:\d+.*api.*Dockerfile|compose\.yaml:\d+.*Dockerfile.*api")
        self.assertRegex(p.stderr, r"compose\.yaml:\d+.*nowhere")

    def test_cycle_names_the_images(self):
        drayt.write_child_image(self.tmp, "a", f"{self.registry}/b:latest")
        drayt.write_child_image(self.tmp, "b", f"{self.registry}/a:latest")
        drayt.write_image(self.tmp, "c")
        p = self.run_dray("run", ".")
        self.assert_rejected(p)
        self.assertIn("cycle", p.stderr)
        self.assertRegex(p.stderr, r"a -> b -> a|b -> a -> b")

    def test_invalid_tag_and_folder_name(self):
        drayt.write_image(self.tmp, "ok")
        drayt.write_image(self.tmp, "Bad Name")
        p = self.run_dray("run", "-t", "bad tag!", ".")
        self.assert_rejected(p)
        self.assertIn("bad tag!", p.stderr)
        self.assertIn("Bad Name", p.stderr)

    def test_dockerfile_without_from(self):
        self.write("nofrom/Dockerfile", "# nothing here\nRUN true\n")
        p = self.run_dray("run", ".")
        self.assert_rejected(p)
        self.assertRegex(p.stderr, r"nofrom.Dockerfile")

    def test_bad_option_names_it(self):
        drayt.write_image(self.tmp, "ok")
        p = self.run_dray("run", "--pushers", "zero", ".")
        self.assert_rejected(p)
        self.assertIn("--pushers", p.stderr)
        p = self.run_dray("run", "--no-such-option", ".")
        self.assertEqual(p.returncode, 2)
        self.assertIn("no-such-option", p.stderr)

    def test_no_write_through_a_committed_link(self):
        # A cloned repository with .dray/logs/web.log -> a file of the user's:
        # refused before anything starts (exit 2), the file untouched.
        drayt.write_image(self.tmp, "web")
        victim = self.write("victim", "precious\n")
        os.makedirs(os.path.join(self.tmp, ".dray", "logs"))
        os.symlink(victim, os.path.join(self.tmp, ".dray", "logs", "web.log"))
        argv = [drayt.DRAY, "build", "--engine-cmd", drayt.DOCKER, "--registry", self.registry,
                "--progress", "plain", "."]
        p = subprocess.run(argv, env=self.env(), cwd=self.tmp, capture_output=True, text=True,
                           timeout=120)
        self.last = p
        self.assertEqual(p.returncode, 2, self.explain())
        self.assertIn("symbolic link", p.stderr)
        with open(victim) as f:
            self.assertEqual(f.read(), "precious\n")
        # The report's path a link: the same.
        os.unlink(os.path.join(self.tmp, ".dray", "logs", "web.log"))
        os.symlink(victim, self.report)
        p = self.run_dray("build", ".")
        self.assertEqual(p.returncode, 2, self.explain())
        self.assertIn("--report", p.stderr)
        with open(victim) as f:
            self.assertEqual(f.read(), "precious\n")
        # The JUnit report's and the timeline's too.
        os.unlink(self.report)
        for opt in ("--junit", "--timeline"):
            out = os.path.join(self.tmp, "out" + opt[2:])
            os.symlink(victim, out)
            p = self.run_dray("build", opt, out, ".")
            self.assertEqual(p.returncode, 2, self.explain())
            self.assertIn(opt, p.stderr)
            os.unlink(out)
        with open(victim) as f:
            self.assertEqual(f.read(), "precious\n")

    def test_log_dir_that_is_a_file(self):
        drayt.write_image(self.tmp, "web")
        path = self.write("logs", "not a folder\n")
        p = self.run_dray("build", ".")
        self.assertEqual(p.returncode, 2, self.explain())
        self.assertIn("--log-dir", p.stderr)
        self.assertFalse(os.path.exists(self.report))
        with open(path) as f:
            self.assertEqual(f.read(), "not a folder\n")

    def test_stray_escape_at_the_end_is_no_crash(self):
        self.write("web/Dockerfile", "FROM busybox\n\\")
        p = self.run_dray("plan", ".")
        self.assertEqual(p.returncode, 0, self.explain())
        self.assertIn("web", p.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
