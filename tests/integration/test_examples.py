#!/usr/bin/env python3
"""The bundled examples/ work both ways the README shows: as folders (with
--build-arg REGISTRY) and as examples/compose.yaml (REGISTRY from the
environment, x-dray settings); base is built first, everything is pushed."""
import os
import shutil
import subprocess
import unittest

import drayt


class ExamplesTest(drayt.DrayTestCase):
    def setUp(self):
        super().setUp()
        src = os.path.join(os.environ["DRAY_SOURCE_DIR"], "examples")
        self.ex = os.path.join(self.tmp, "examples")
        shutil.copytree(src, self.ex, ignore=shutil.ignore_patterns("busybox"))
        shutil.copy("/bin/busybox", os.path.join(self.ex, "base", "busybox"))

    def check(self, names):
        report = self.load_report()
        images = {i["name"]: i for i in report["images"]}
        self.assertEqual(sorted(images), sorted(names))
        base = images["base"]
        for name, img in images.items():
            self.assertEqual(img["status"], "pushed", name)
            self.assertEqual(self.registry_digest(img["references"][0]), img["digest"])
            if name != "base":
                self.assertEqual(img["depends_on"], ["base"], name)
                self.assertGreaterEqual(img["build_start"], base["build_end"])

    def test_folders(self):
        svg = os.path.join(self.tmp, "timeline.svg")
        p = self.run_dray("run", "--build-arg", f"REGISTRY={self.registry}", "--network", "none",
                          "-j", "4", "-p", "2", "--timeline", svg, self.ex)
        self.assertEqual(p.returncode, 0, self.explain())
        self.check(["base", "hello", "web", "tools/greet", "tools/count"])
        # The README's picture (docs/timeline-examples.svg) comes from here.
        with open(svg) as f:
            self.assertIn('data-image="tools/greet"', f.read())
        if os.environ.get("DRAY_TIMELINE_EXAMPLE"):
            shutil.copy(svg, os.environ["DRAY_TIMELINE_EXAMPLE"])

    def test_compose(self):
        env = self.env()
        env["REGISTRY"] = self.registry
        argv = list(self.dray_argv("run", "-f", os.path.join(self.ex, "compose.yaml")))
        # The compose file names full references itself: no --registry.
        i = argv.index("--registry")
        del argv[i:i + 2]
        p = subprocess.run(argv, env=env, cwd=self.tmp, capture_output=True, text=True, timeout=300)
        self.last = p
        self.assertEqual(p.returncode, 0, self.explain())
        self.check(["base", "hello", "web", "greet", "count"])
        self.assertEqual(self.load_report()["pushers"], 2)  # from x-dray


if __name__ == "__main__":
    unittest.main(verbosity=2)
