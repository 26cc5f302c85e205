#!/usr/bin/env python3
"""Fault (b): connection resets, 503 and 429 with Retry-After, for the first
requests only; each case must end with every image pushed and verified
against the registry itself, the failed attempts recorded with the right
reason. The same with the CLI push driver (docker push) under resets."""
import unittest

import drayt

RETRIES = 4
DELAY = 1.0


class HttpFaultTest(drayt.FaultTestCase):
    def run_through(self, proxy_args, images=3, driver=None):
        reg = self.start_registry()
        proxy = self.start_proxy(reg.addr, *proxy_args)
        self.use_registry(proxy.addr)
        self.write_images(images)
        extra = ["--push-driver", driver] if driver else []
        p = self.run_dray("run", "-j", "2", "-p", "2", "--network", "none",
                          "--retries", str(RETRIES), "--retry-delay", str(DELAY),
                          "--stall-timeout", "30", *extra, ".", timeout=180)
        self.assertEqual(p.returncode, 0, self.explain())
        report = self.load_report()
        self.check_report(report, reg)
        failed = [(img["name"], a) for img in report["images"]
                  for a in self.push_attempts(img) if a["result"] != "ok"]
        return reg, proxy, report, failed

    # The engine driver, by name: its pushes fail on these faults and the run
    # retries them. (The registry driver carries such short faults through
    # inside the attempt: test_registry_push.py.)
    def test_connection_resets(self):
        # Every connection is new (the engine pings /v2/ first): the first 8
        # are reset as their first request arrives.
        reg, proxy, report, failed = self.run_through(["--reset-first", 8], driver="engine")
        self.assertGreaterEqual(len(proxy.events("reset")), 1)
        self.assertGreaterEqual(len(failed), 1, report)
        for name, a in failed:
            self.assertEqual(a["result"], "reset", (name, a))
            self.assertIn("connection reset", a["error"])
            self.assertIn(proxy.addr, a["error"])

    def test_503_on_manifest_upload(self):
        # The engine retries layer uploads itself, but not the manifest: the
        # first two manifest PUTs get 503 and fail their push in the engine.
        reg, proxy, report, failed = self.run_through(
            ["--status-first", 2, "--status", 503, "--retry-after", 1,
             "--status-match", r"^PUT /v2/.*/manifests/"], driver="engine")
        self.assertEqual(len(proxy.events("status")), 2)
        self.assertEqual(len(failed), 2, report)
        for name, a in failed:
            self.assertEqual(a["result"], "server-error", (name, a))
            self.assertIn("503", a["error"])

    def test_429_with_retry_after_on_verification(self):
        # dray's own request to the registry (the HEAD that verifies a push)
        # gets 429 with Retry-After: 3: the push is retried, not before 3 s.
        reg, proxy, report, failed = self.run_through(
            ["--status-first", 2, "--status", 429, "--retry-after", 3,
             "--status-match", r"^HEAD /v2/.*/manifests/"])
        self.assertEqual(len(proxy.events("status")), 2)
        self.assertEqual(len(failed), 2, report)
        for img in report["images"]:
            pushes = self.push_attempts(img)
            for k, a in enumerate(pushes[:-1]):
                self.assertEqual(a["result"], "rate-limited", a)
                self.assertIn("429", a["error"])
                gap = pushes[k + 1]["start"] - a["end"]
                self.assertGreaterEqual(gap, 3 - 0.05, (img["name"], pushes))

    def test_cli_driver_retries_resets(self):
        reg, proxy, report, failed = self.run_through(["--reset-first", 8], driver="cli")
        self.assertGreaterEqual(len(proxy.events("reset")), 1)
        self.assertGreaterEqual(len(failed), 1, report)
        for name, a in failed:
            # The same words as the engine driver's: the same outcome.
            self.assertEqual(a["result"], "reset", (name, a))
            self.assertIn("connection reset", a["error"])
        with open(report["images"][0]["log"]) as f:
            self.assertIn("push", f.read())


if __name__ == "__main__":
    unittest.main(verbosity=2)
