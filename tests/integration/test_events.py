#!/usr/bin/env python3
"""--events json gives CI systems one JSON object per line on stdout
(started, progress at most once a second per push, finished), the summary
moving to stderr; --skip-existing pushes nothing the registry already serves
for the local image, so a rerun of a finished run pushes nothing."""
import json
import os
import time
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
            self.assertEqual([e["time"] for e in evs], sorted(e["time"] for e in evs))

    def test_progress_at_most_once_a_second(self):
        # A layer of 6 MiB of random bytes (gzip cannot shrink it), pushed at
        # 1.5 MB/s through a throttling proxy: a push of about 4 s, so there
        # is progress to report several times, and the limit can show.
        proxy = drayt.ThrottledProxy(self.svc["registry"], rate=1_500_000)
        self.addCleanup(proxy.stop)
        self.registry = f"{proxy.addr}/{self.ns}"
        d = drayt.write_image(self.tmp, "big", [
            "FROM scratch", "COPY busybox /bin/busybox", "COPY id.txt /id.txt",
            "COPY blob.bin /blob.bin"])
        with open(os.path.join(d, "blob.bin"), "wb") as f:
            f.write(os.urandom(6 * 1024 * 1024))
        p = self.run_dray("run", "--events", "json", ".")
        self.assertEqual(p.returncode, 0, self.explain())
        events = [json.loads(line) for line in p.stdout.splitlines()]
        started = [e["time"] for e in events if e.get("event") == "push-started"]
        pushed = [e["time"] for e in events if e.get("event") == "pushed"]
        self.assertEqual(len(started), 1, self.explain())
        self.assertEqual(len(pushed), 1, self.explain())
        self.assertGreater(pushed[0] - started[0], 3.0, "the throttled push was not slow")
        progress = [e for e in events if e["kind"] == "progress"]
        self.assertGreaterEqual(len(progress), 2, self.explain())
        for e in progress:
            self.assertEqual(e["image"], "big")
            self.assertTrue(started[0] <= e["time"] <= pushed[0], e)
        times = [e["time"] for e in progress]
        gaps = [b - a for a, b in zip(times, times[1:])]
        self.assertGreaterEqual(min(gaps), 0.9, gaps)
        # The bytes move forward, never back.
        done = [e["bytes_done"] for e in progress]
        self.assertEqual(done, sorted(done))

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
