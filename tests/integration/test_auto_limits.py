#!/usr/bin/env python3
"""--pushers auto against the real engine and registry: behind a proxy that
gives each connection 1 MB/s (so every added push adds throughput), dray
starts at 2 pushes and adds pushers as the measured throughput grows, up to
--pushers-max; the report and the summary record how the limits moved, and
no more pushes ran at once than the limits allowed at the time."""
import json
import unittest

import drayt


class AutoLimitsTest(drayt.DrayTestCase):
    def test_pushers_grow_with_throughput(self):
        proxy = drayt.ThrottledProxy(self.svc["registry"], rate=1_000_000)
        try:
            self.registry = f"{proxy.addr}/{self.ns}"
            for i in range(20):
                drayt.write_image(self.tmp, f"img{i}", [
                    "FROM scratch", "COPY busybox /bin/busybox", "COPY id.txt /id.txt",
                    "COPY blob.txt /blob.txt"],
                    extra_files={"blob.txt": drayt.random_text(6_000_000)})
            p = self.run_dray("run", "-j", "4", "-p", "auto", "--pushers-max", "4",
                              "--network", "none", "--stall-timeout", "120", ".", timeout=300)
        finally:
            proxy.stop()
        self.assertEqual(p.returncode, 0, self.explain())
        report = self.load_report()
        limits = report["limits"]
        self.assertEqual(limits[0]["pushers"], 2, limits)
        self.assertGreater(max(l["pushers"] for l in limits), 2, limits)
        self.assertLessEqual(max(l["pushers"] for l in limits), 4, limits)
        self.assertTrue(all(l["builders"] == 4 for l in limits), limits)  # -j 4 stays
        self.assertLessEqual(report["max_running_pushes"], 4)
        self.assertGreater(report["max_running_pushes"], 2)
        self.assertIn("limits over the run (auto)", p.stdout)
        # At no moment more pushes than the limit in force then.
        pushes = sorted((a["start"], a["end"]) for img in report["images"]
                        for a in img["attempts"] if a["phase"] == "push")
        for k, change in enumerate(limits):
            until = limits[k + 1]["time"] if k + 1 < len(limits) else float("inf")
            during = [(max(s, change["time"]), min(e, until)) for s, e in pushes
                      if s < until and e > change["time"]]
            # A push started under a higher limit may finish after a cut.
            bound = max(l["pushers"] for l in limits[:k + 1])
            self.assertLessEqual(drayt.max_overlap(during), bound, (change, during))
        for img in report["images"]:
            self.assertEqual(img["status"], "pushed", img)


if __name__ == "__main__":
    unittest.main(verbosity=2)
