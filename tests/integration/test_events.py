#!/usr/bin/env python3
"""--events json gives CI systems one JSON object per line on stdout
(started, progress at most once a second per push, finished), the summary
moving to stderr; --skip-existing pushes nothing the registry already serves
for the local image, so a rerun of a finished run pushes nothing."""
import json
import os
import unittest

import drayt


class EventsTest(drayt.DrayTestCase):
    def test_events_json_lines(self):
        for i in range(3):
            drayt.write_image(self.tmp, f"e{i}")
        p = self.run_dray("run", "-j", "2", "-p", "2", "--events", "json", ".")
        self.assertEqual(p.returncode, 0, self.explain())
        events = [json.loads(line) for line in p.stdout.splitlines()]  # every line is JSON
        self.assertIn("IMAGE", p.stderr)  # the table went to stderr
        by_image = {}
        for ev in events:
            self.assertIn("time", ev)
            self.assertIn(ev["kind"], ("started", "progress", "finished", "retry", "run"))
            if "image" in ev:
                by_image.setdefault(ev["image"], []).append(ev)
        self.assertEqual(sorted(by_image), ["e0", "e1", "e2"])
        for name, evs in by_image.items():
            names = [e["event"] for e in evs]
            for expected in ("build-started", "built", "push-started", "pushed"):
                self.assertIn(expected, names, name)
            pushed = [e for e in evs if e["event"] == "pushed"][0]
            self.assertEqual(pushed["kind"], "finished")
            self.assertRegex(pushed["digest"], r"^sha256:[0-9a-f]{64}$")
            times = [e["time"] for e in evs if e["kind"] == "progress"]
            for a, b in zip(times, times[1:]):
                self.assertGreaterEqual(b - a, 0.9, name)
            self.assertEqual([e["time"] for e in evs], sorted(e["time"] for e in evs))

    def test_skip_existing_reruns_push_nothing(self):
        for i in range(3):
            drayt.write_image(self.tmp, f"s{i}")
        p = self.run_dray("run", "-j", "2", "-p", "2", ".")
        self.assertEqual(p.returncode, 0, self.explain())
        first = {i["name"]: i for i in self.load_report()["images"]}

        p = self.run_dray("run", "-j", "2", "-p", "2", "--skip-existing", ".")
        self.assertEqual(p.returncode, 0, self.explain())
        second = {i["name"]: i for i in self.load_report()["images"]}
        for name, img in second.items():
            self.assertEqual(img["status"], "up-to-date", name)
            self.assertTrue(img["up_to_date"])
            self.assertEqual(img["bytes_pushed"], 0)
            self.assertEqual(img["digest"], first[name]["digest"])
        self.assertRegex(p.stdout, r"s0\s+up-to-date")

        # Change one image: only that one is pushed again.
        with open(os.path.join(self.tmp, "s1", "id.txt"), "a") as f:
            f.write("changed\n")
        p = self.run_dray("run", "-j", "2", "-p", "2", "--skip-existing", ".")
        self.assertEqual(p.returncode, 0, self.explain())
        third = {i["name"]: i for i in self.load_report()["images"]}
        self.assertEqual(third["s1"]["status"], "pushed")
        self.assertNotEqual(third["s1"]["digest"], first["s1"]["digest"])
        self.assertEqual(self.registry_digest(third["s1"]["references"][0]), third["s1"]["digest"])
        self.assertEqual(third["s0"]["status"], "up-to-date")
        self.assertEqual(third["s2"]["status"], "up-to-date")


if __name__ == "__main__":
    unittest.main(verbosity=2)
