#!/usr/bin/env python3
"""Fault (e): a registry that is broken for good. dray must exit 1 in
bounded time, every image failed with a reason and an error, each retried
exactly up to the budget (--retries), the waits between attempts within the
backoff's bounds, and nothing reported pushed, whichever driver auto picks
(one pusher per image: a wait between attempts is the backoff, not a wait
for a pusher):

- nothing listens on the port (connection refused);
- every connection is reset;
- a registry that takes blobs but answers 503 (Retry-After: 1) to every
  manifest upload and to every manifest query.

(A registry answering 503 to everything is not used: the engine then retries
each layer upload itself, 5+10+15+20 s per push attempt, all of it visible
as "Retrying in N seconds" progress, so each attempt lasts about 50 s.)"""
import time
import unittest

import drayt
import services

RETRIES = 2
DELAY = 0.5
IMAGES = 3


class BrokenRegistryTest(drayt.FaultTestCase):
    def run_broken(self, registry, reason, text):
        self.write_images(IMAGES)
        t0 = time.time()
        p = self.run_dray("run", "-j", "2", "-p", str(IMAGES), "--network", "none",
                          "--retries", str(RETRIES), "--retry-delay", str(DELAY),
                          "--stall-timeout", "20", ".", timeout=180)
        elapsed = time.time() - t0
        self.assertEqual(p.returncode, 1, self.explain())
        report = self.load_report()
        self.check_report(report, registry, expect_pushed=False)
        self.assertEqual(report["exit_code"], 1)
        longest_attempt = 0
        for img in report["images"]:
            name = img["name"]
            self.assertEqual(img["reason"], reason, img)
            self.assertIn(text, img["error"].lower(), img)  # Go and curl differ in case
            self.assertIn(f"{name}: ", p.stdout)  # the summary says why
            pushes = self.push_attempts(img)
            self.assertEqual(len(pushes), RETRIES + 1, img)  # the budget, no more
            for k, a in enumerate(pushes):
                self.assertEqual(a["result"], reason, a)
                longest_attempt = max(longest_attempt, a["end"] - a["start"])
                if k:
                    # backoff: [d/2, d) for d = DELAY * 2^(k-1); Retry-After 1 s
                    # may lengthen it; plus the scheduler's 0.1 s tick.
                    gap = a["start"] - pushes[k - 1]["end"]
                    d = DELAY * 2 ** (k - 1)
                    self.assertGreaterEqual(gap, d / 2 - 0.05, pushes)
                    self.assertLessEqual(gap, max(d, 1.0) + 0.5, pushes)
        # Bounded: each image's pushes and waits, one image after another
        # at worst, on top of the builds.
        waits = sum(max(DELAY * 2 ** k, 1.0) for k in range(RETRIES))
        bound = 30 + IMAGES * ((RETRIES + 1) * 5 + waits)
        self.assertLess(longest_attempt, 5)
        self.assertLess(elapsed, bound)
        self.assertLess(report["seconds"], bound)
        return report

    def test_nothing_listening(self):
        port = services.free_port()
        addr = f"127.0.0.1:{port}"
        self.use_registry(addr)
        self.run_broken(None, "network", addr)

    def test_every_connection_reset(self):
        reg = self.start_registry()
        proxy = self.start_proxy(reg.addr, "--reset-first", 1000000)
        self.use_registry(proxy.addr)
        self.run_broken(reg, "reset", "connection reset")

    def test_manifests_always_503(self):
        reg = self.start_registry()
        proxy = self.start_proxy(reg.addr, "--status-first", 1000000, "--status", 503,
                                 "--retry-after", 1, "--status-match", r"/manifests/")
        self.use_registry(proxy.addr)
        self.run_broken(reg, "server-error", "503")
        # Every attempt reached the registry and was refused there (the
        # registry driver asks again inside an attempt, after Retry-After).
        puts = [e for e in proxy.events("status") if e["request"].startswith("PUT ")]
        self.assertGreaterEqual(len(puts), IMAGES * (RETRIES + 1))


if __name__ == "__main__":
    unittest.main(verbosity=2)
