#!/usr/bin/env python3
"""Fault (c): the registry process is killed (SIGKILL) in the middle of a
run, right after the first image is pushed, and restarted a few seconds
later on the same port with the same storage. Every image must end pushed
and verified within the retry budget; the image pushed before the crash
must still be served; pushes tried while the registry was down are
recorded as failed attempts."""
import os
import time
import types
import unittest

import drayt

RETRIES = 6
DELAY = 1.0
DOWN = 3  # seconds the registry stays down after dray noticed


class KillTest(drayt.FaultTestCase):
    def test_registry_killed_and_restarted(self):
        reg = self.start_registry()
        self.use_registry(reg.addr)
        names = self.write_images(6)

        t0 = time.time()
        proc = self.start_dray("run", "-j", "2", "-p", "2", "--network", "none",
                               "--retries", str(RETRIES), "--retry-delay", str(DELAY), ".")
        lines = []
        try:
            first = drayt.read_lines_until(proc, r"\bpushed\s+(\S+)", 120, lines)
            self.assertTrue(first, "".join(lines))
            reg.kill()
            killed_at = time.time()
            # Pushes now fail: wait until dray says it will retry one.
            retry = drayt.read_lines_until(proc, r"push-retry", 60, lines)
            self.assertTrue(retry, "".join(lines))
            time.sleep(DOWN)
            reg.start()
            restarted_at = time.time()
            out, err = proc.communicate(timeout=180)
        finally:
            drayt.stop_process(proc)
        elapsed = time.time() - t0
        self.last = types.SimpleNamespace(stdout=out, stderr="".join(lines) + err)
        self.assertEqual(proc.returncode, 0, self.explain())
        report = self.load_report()
        self.assertEqual(sorted(i["name"] for i in report["images"]), names)
        self.check_report(report, reg)

        # The image pushed before the crash survived it, from the same storage.
        images = {i["name"]: i for i in report["images"]}
        before = images[first.group(1)]
        self.assertEqual(len(self.push_attempts(before)), 1)
        self.assertLess(before["push_end"], killed_at)

        failed = [(i["name"], a) for i in report["images"] for a in self.push_attempts(i)
                  if a["result"] != "ok"]
        self.assertGreaterEqual(len(failed), 1)
        for name, a in failed:
            self.assertIn(a["result"], ("network", "reset", "server-error", "verify"), (name, a))
            self.assertIn(reg.addr, a["error"])
            # Failures happened while the registry was down (give or take
            # the moment a push in flight noticed).
            self.assertGreaterEqual(a["end"], killed_at - 0.5, (name, a))
            self.assertLessEqual(a["end"], restarted_at + 1, (name, a))
        for name, a in failed:
            self.assertLess(self.push_attempts(images[name])[-1]["end"] - restarted_at,
                            2 * DELAY * 2 ** RETRIES, name)
        self.assertLess(elapsed, 120)


if __name__ == "__main__":
    unittest.main(verbosity=2)
