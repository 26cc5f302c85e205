#!/usr/bin/env python3
"""Failed pushes are retried with backoff: the registry is down when the
first images are built and comes up a few seconds later; every image must
end pushed, the report must show the failed attempts before the good one,
and the delays between attempts must grow (exponential backoff)."""
import os
import selectors
import signal
import time
import unittest

import drayt
import services


class RetryTest(drayt.DrayTestCase):
    def test_push_retried_until_registry_is_up(self):
        port = services.free_port()
        addr = f"127.0.0.1:{port}"
        self.registry = f"{addr}/{self.ns}"
        for i in range(4):
            drayt.write_image(self.tmp, f"img{i}")

        proc = self.start_dray("run", "-j", "2", "-p", "2", "--retries", "6",
                               "--retry-delay", "1", "--network", "none", ".")
        # Wait until dray reports a retry: the registry is really not there.
        sel = selectors.DefaultSelector()
        sel.register(proc.stderr, selectors.EVENT_READ)
        seen, deadline, err_lines = False, time.time() + 60, []
        while not seen and time.time() < deadline and proc.poll() is None:
            if sel.select(timeout=1):
                line = proc.stderr.readline()
                err_lines.append(line)
                seen = "push-retry" in line
        self.assertTrue(seen, "".join(err_lines))

        conf = os.path.join(self.tmp, "registry.yml")
        services.write_registry_config(conf, os.path.join(self.tmp, "registry-data"), addr)
        reg = services.spawn(["docker-registry", "serve", conf], os.path.join(self.tmp, "reg.log"))
        try:
            out, err = proc.communicate(timeout=120)
            self.assertEqual(proc.returncode, 0, out + "".join(err_lines) + err)
            report = self.load_report()
            retried = 0
            for img in report["images"]:
                self.assertEqual(img["status"], "pushed")
                self.assertEqual(self.registry_digest(img["references"][0]), img["digest"])
                pushes = [a for a in img["attempts"] if a["phase"] == "push"]
                self.assertEqual(pushes[-1]["result"], "ok")
                self.assertEqual(len(pushes), img["push_attempts"])
                if len(pushes) > 1:
                    retried += 1
                    for a in pushes[:-1]:
                        # engine driver: "network"; CLI driver: "exit"
                        self.assertIn(a["result"], ("network", "reset", "exit"))
                        self.assertIn(addr, a["error"])
                    # The waits between attempts: at least half the doubling delay.
                    gaps = [pushes[k + 1]["start"] - pushes[k]["end"] for k in range(len(pushes) - 1)]
                    for k, gap in enumerate(gaps):
                        self.assertGreaterEqual(gap, 0.5 * (2 ** k) - 0.05, gaps)
            self.assertGreaterEqual(retried, 1)
        finally:
            reg.send_signal(signal.SIGTERM)
            reg.wait(timeout=10)


if __name__ == "__main__":
    unittest.main(verbosity=2)
