#!/usr/bin/env python3
"""(e) Bad input: exit 2 before anything starts, every problem reported at
once, each message naming the file and line or the folder or image."""
import os
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


if __name__ == "__main__":
    unittest.main(verbosity=2)
