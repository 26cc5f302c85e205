#!/usr/bin/env python3
"""Fault: a registry that refuses uploads beyond a limit. faultproxy
--overload 2 --overload-refuse answers 503 (Retry-After 1) to a request body
beyond two at once, as nginx's limit_conn or a gateway in front of a registry
does. The engine's push does not fail on it: it tries the layer again itself
after a few seconds ("Retrying in 5 seconds"), so no push attempt of dray's
ever fails. --pushers auto must still see the congestion in the push's
progress and halve its pushers, and every image must end pushed, verified
against the registry itself. (Without the halving, the pushers never go
below the 2 they start at: a plateau only takes back an added one.)"""
import unittest

import drayt


class OverloadTest(drayt.FaultTestCase):
    def test_refused_uploads_halve_the_pushers(self):
        reg = self.start_registry()
        # Uploads at 4 MB/s all together take a while, so that two pushes'
        # layer uploads (each push uploads its layers at once) overlap.
        proxy = self.start_proxy(reg.addr, "--overload", 2, "--overload-refuse",
                                 "--status", 503, "--retry-after", 1, "--rate", 4_000_000)
        self.use_registry(proxy.addr)
        names = self.write_images(6, blob=2 * 1024 * 1024)

        p = self.run_dray("run", "-j", "3", "-p", "auto", "--network", "none",
                          "--push-driver", "engine", "--stall-timeout", "60", ".",
                          timeout=300)
        self.assertEqual(p.returncode, 0, self.explain())
        report = self.load_report()
        self.assertEqual(sorted(i["name"] for i in report["images"]), names)
        self.check_report(report, reg)

        # The proxy refused uploads, and the engine took them again itself:
        # each image took one attempt of dray's.
        self.assertTrue(proxy.events("status"), "no upload was refused")
        self.assertTrue(all(i["push_attempts"] == 1 for i in report["images"]),
                        [(i["name"], i["push_attempts"]) for i in report["images"]])
        retried = [i["name"] for i in report["images"]
                   if "Retrying in" in open(i["log"], errors="replace").read()]
        self.assertTrue(retried, "no push log shows the engine retrying a layer")

        # The pushers started at 2 and were halved to 1 on that congestion.
        limits = report["limits"]
        self.assertEqual(limits[0]["pushers"], 2, limits)
        self.assertIn(1, [l["pushers"] for l in limits], limits)


if __name__ == "__main__":
    unittest.main(verbosity=2)
