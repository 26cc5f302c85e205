#!/usr/bin/env python3
"""--timeline against a real run: the SVG parses, has an element per attempt
of the report with the report's times, lanes never hold two attempts at
once and are no more than the limits, the critical path follows FROM; and
`dray report --timeline` draws the same picture from the saved report."""
import os
import subprocess
import unittest
import xml.etree.ElementTree as ET

import drayt

SVG = "{http://www.w3.org/2000/svg}"


class TimelineTest(drayt.DrayTestCase):
    def test_timeline_matches_report(self):
        drayt.write_image(self.tmp, "base")
        drayt.write_child_image(self.tmp, "app", f"{self.registry}/base:latest")
        for i in range(4):
            drayt.write_image(self.tmp, f"lib{i}")
        svg_path = os.path.join(self.tmp, "run.svg")
        p = self.run_dray("run", "-j", "2", "-p", "1", "--timeline", svg_path, ".")
        self.assertEqual(p.returncode, 0, self.explain())
        report = self.load_report()

        root = ET.parse(svg_path).getroot()
        self.assertEqual(root.tag, SVG + "svg")
        bars = [r for r in root.iter(SVG + "rect") if "attempt" in r.get("class", "").split()]
        got = {(b.get("data-image"), b.get("data-phase"), int(b.get("data-number"))): b
               for b in bars}
        want = {(img["name"], a["phase"], a["number"]): a
                for img in report["images"] for a in img["attempts"]}
        self.assertEqual(len(bars), len(want))
        self.assertEqual(set(got), set(want))
        for key, a in want.items():
            self.assertAlmostEqual(float(got[key].get("data-start")), a["start"], places=5)
            self.assertAlmostEqual(float(got[key].get("data-end")), a["end"], places=5)
            self.assertEqual(got[key].get("data-result"), a["result"])
        for phase, limit in (("build", report["builders"]), ("push", report["pushers"])):
            lanes = {}
            for b in bars:
                if b.get("data-phase") == phase:
                    lanes.setdefault(int(b.get("data-lane")), []).append(
                        (float(b.get("data-start")), float(b.get("data-end"))))
            self.assertLessEqual(len(lanes), limit, phase)
            for spans in lanes.values():
                spans.sort()
                for (s0, e0), (s1, e1) in zip(spans, spans[1:]):
                    self.assertLessEqual(e0, s1 + 1e-6, f"{phase} lane overlaps")
        # The push throughput is drawn when the report knows bytes pushed.
        curves = {p.get("data-curve") for p in root.iter(SVG + "path")}
        self.assertTrue({"builds", "pushes"} <= curves, curves)
        if sum(img["bytes_pushed"] for img in report["images"]) > 0:
            self.assertIn("throughput", curves)
        # The chain app FROM base ended last: both on the critical path.
        critical = {b.get("data-image") for b in bars if "critical" in b.get("class").split()}
        last = max(report["images"], key=lambda i: max(a["end"] for a in i["attempts"]))["name"]
        self.assertIn(last, critical)
        if last == "app":
            self.assertIn("base", critical)

        again = os.path.join(self.tmp, "again.svg")
        p = subprocess.run([drayt.DRAY, "report", "--timeline", again, self.report],
                           capture_output=True, text=True, env=self.env())
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(svg_path, "rb") as f1, open(again, "rb") as f2:
            self.assertEqual(f1.read(), f2.read())
        p = subprocess.run([drayt.DRAY, "report", "--timeline", again,
                            os.path.join(self.tmp, "base", "Dockerfile")],
                           capture_output=True, text=True, env=self.env())
        self.assertEqual(p.returncode, 2, p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
