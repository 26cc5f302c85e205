#!/usr/bin/env python3
"""(b) The limits hold: recorded start and end times of every build and push
attempt show never more than B builds or P pushes at once, and pushes start
while builds are still running (the pipeline, not two phases)."""
import unittest

import drayt


class LimitsTest(drayt.DrayTestCase):
    def test_never_more_than_b_builds_or_p_pushes(self):
        # Builds that take a second each, so several are in flight together.
        for i in range(14):
            drayt.write_image(self.tmp, f"slow{i:02d}", [
                "FROM scratch", "COPY busybox /bin/busybox", "COPY id.txt /id.txt",
                'RUN ["/bin/busybox", "sleep", "1"]'])
        # The CLI push driver here; the other tests use the default engine driver.
        p = self.run_dray("run", "-j", "4", "-p", "2", "--push-driver", "cli",
                          "--network", "none", ".")
        self.assertEqual(p.returncode, 0, self.explain())
        report = self.load_report()

        builds, pushes = [], []
        for img in report["images"]:
            self.assertEqual(img["status"], "pushed", img["name"])
            self.assertTrue(img["verified"], img["name"])
            self.assertEqual(self.registry_digest(img["references"][0]), img["digest"])
            for a in img["attempts"]:
                self.assertLessEqual(a["start"], a["end"])
                (builds if a["phase"] == "build" else pushes).append((a["start"], a["end"]))
        self.assertEqual(len(builds), 14)
        self.assertEqual(len(pushes), 14)

        self.assertLessEqual(drayt.max_overlap(builds), 4)
        self.assertLessEqual(drayt.max_overlap(pushes), 2)
        self.assertLessEqual(report["max_running_builds"], 4)
        self.assertLessEqual(report["max_running_pushes"], 2)
        # The builder pool was really used in parallel.
        self.assertGreaterEqual(drayt.max_overlap(builds), 3)

        # Pipeline: the first push starts before the last build ends.
        first_push = min(s for s, _ in pushes)
        last_build_end = max(e for _, e in builds)
        self.assertLess(first_push, last_build_end)
        # Each image is pushed after it is built, and soon after: it does not
        # wait for the whole build phase.
        overlapping = sum(1 for s, _ in pushes if s < last_build_end)
        self.assertGreaterEqual(overlapping, 4)


if __name__ == "__main__":
    unittest.main(verbosity=2)
