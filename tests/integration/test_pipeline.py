#!/usr/bin/env python3
"""(a) 24 images, 4 of them bases the others are built FROM, built with -j 4
and pushed with -p 2 under two tags; every tag is then read back from the
registry's HTTP API and must carry the digest dray reported."""
import os
import unittest

import drayt


class PipelineTest(drayt.DrayTestCase):
    def test_build_and_push_24_images(self):
        bases = [f"base{i}" for i in range(4)]
        for b in bases:
            drayt.write_image(self.tmp, b)
        apps = []
        for i in range(20):
            name = f"apps/app{i:02d}"
            base = bases[i % 4]
            drayt.write_child_image(self.tmp, name, f"{self.registry}/{base}:latest",
                                    run="echo built > /built" if i % 3 == 0 else None)
            apps.append((name, base))

        p = self.run_dray("run", "-j", "4", "-p", "2", "-t", "latest", "-t", "v1",
                          "--network", "none", ".")
        self.assertEqual(p.returncode, 0, self.explain())
        report = self.load_report()
        self.assertEqual(report["counts"]["total"], 24)
        self.assertEqual(report["counts"]["done"], 24, self.explain())
        images = {img["name"]: img for img in report["images"]}
        self.assertEqual(sorted(images), sorted(bases + [a for a, _ in apps]))

        for name, img in images.items():
            self.assertEqual(img["status"], "pushed", name)
            self.assertTrue(img["verified"], name)
            self.assertGreater(img["bytes_pushed"], 0, name)
            self.assertRegex(img["digest"], r"^sha256:[0-9a-f]{64}$")
            self.assertEqual(img["repository"], f"{self.registry}/{name}")
            for tag in ("latest", "v1"):
                ref = f"{img['repository']}:{tag}"
                served = self.registry_digest(ref)
                self.assertIsNotNone(served, f"registry does not serve {ref}")
                self.assertEqual(served, img["tag_digests"][tag], ref)
                self.assertEqual(served, img["digest"], ref)
            self.assertTrue(os.path.exists(img["log"]), img["log"])

        # Dependencies: each app was built after its base was.
        for name, base in apps:
            self.assertEqual(images[name]["depends_on"], [base])
            self.assertGreaterEqual(images[name]["build_start"], images[base]["build_end"])

        # Tags list through the API too.
        self.assertEqual(sorted(self.registry_tags(f"{self.ns}/base0")), ["latest", "v1"])
        self.assertIn("pushed", p.stdout)  # the summary table


if __name__ == "__main__":
    unittest.main(verbosity=2)
