#!/usr/bin/env python3
"""(c) One image's build fails: the images built FROM it (directly or not)
are skipped, not attempted; every other image is pushed; exit code 1; the
report and the summary say which and why."""
import unittest

import drayt


class FailureTest(drayt.DrayTestCase):
    def test_failed_build_skips_dependents_only(self):
        drayt.write_image(self.tmp, "broken", [
            "FROM scratch", "COPY busybox /bin/busybox",
            'RUN ["/bin/busybox", "sh", "-c", "echo deliberate failure; exit 3"]'])
        drayt.write_child_image(self.tmp, "child", f"{self.registry}/broken:latest")
        drayt.write_child_image(self.tmp, "grandchild", f"{self.registry}/child:latest")
        for i in range(5):
            drayt.write_image(self.tmp, f"fine{i}")

        p = self.run_dray("run", "-j", "3", "-p", "2", "--network", "none", ".")
        self.assertEqual(p.returncode, 1, self.explain())
        report = self.load_report()
        images = {img["name"]: img for img in report["images"]}

        self.assertEqual(images["broken"]["status"], "failed")
        self.assertEqual(images["broken"]["reason"], "exit")
        # The engine's own last line says why; the image's name is said once,
        # by whoever prints the error (the summary), never twice.
        self.assertIn("exit code: 3", images["broken"]["error"])
        self.assertIn(f"broken: {images['broken']['error']}", p.stdout)
        self.assertNotIn("broken: broken:", p.stdout + p.stderr)
        self.assertEqual(images["broken"]["build_attempts"], 1)
        with open(images["broken"]["log"]) as f:
            self.assertIn("deliberate failure", f.read())

        for name in ("child", "grandchild"):
            self.assertEqual(images[name]["status"], "skipped", name)
            self.assertEqual(images[name]["build_attempts"], 0, name)
            self.assertEqual(images[name]["push_attempts"], 0, name)
        self.assertIn("broken", images["child"]["error"])
        self.assertIn("child", images["grandchild"]["error"])

        for i in range(5):
            img = images[f"fine{i}"]
            self.assertEqual(img["status"], "pushed")
            self.assertEqual(self.registry_digest(img["references"][0]), img["digest"])
        self.assertIsNone(self.registry_digest(f"{self.registry}/broken:latest"))
        self.assertEqual(report["counts"], {"done": 5, "failed": 1, "skipped": 2,
                                            "interrupted": 0, "total": 8})
        self.assertRegex(p.stdout, r"broken\s+failed")
        self.assertRegex(p.stdout, r"at most (1 build|[23] builds) and (1 push|2 pushes) at once")
        self.assertRegex(p.stdout, r"child\s+skipped")
        self.assertIn(images["broken"]["log"], p.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
