#!/usr/bin/env python3
"""--global-slots NAME:N: several dray processes on one machine share N push
slots (lock files in the user's lock folder), against the real engine and a
registry behind a throttling proxy, so that pushes last long enough to
overlap.

- Three concurrent runs, each allowed 2 pushes at once, share 2 slots: the
  push attempts of all three reports (an attempt starts when it holds its
  slot and ends before it lets it go) never overlap more than 2 deep; without the slots the same runs do
  overlap deeper (the control that shows the limit bites). The time spent
  waiting for a slot is reported apart.
- A dray killed with SIGKILL while it holds the only slot frees it at once:
  a second dray waiting for it goes on and pushes everything."""
import json
import os
import signal
import subprocess
import time
import unittest

import drayt

RATE = 1_000_000     # bytes a second per connection through the proxy
BLOB = 1_500_000     # a layer of its own per image: 1.5 s to push


class GlobalSlotsTest(drayt.DrayTestCase):
    def setUp(self):
        super().setUp()
        self.proxy = drayt.ThrottledProxy(self.svc["registry"], rate=RATE)
        self.registry = f"{self.proxy.addr}/{self.ns}"
        self.slots = f"dray-test-{self.ns}"

    def tearDown(self):
        self.proxy.stop()
        super().tearDown()

    def env(self):
        # The slots' lock files in a runtime folder of the test's own: they
        # outlive the processes by design, and each test's slot name is new.
        env = super().env()
        env["XDG_RUNTIME_DIR"] = os.path.join(self.tmp, "runtime")
        os.makedirs(env["XDG_RUNTIME_DIR"], mode=0o700, exist_ok=True)
        return env

    def write_run(self, k, n, blob=BLOB):
        """A folder of N images of its own (names unique to run K)."""
        root = os.path.join(self.tmp, f"run{k}")
        for i in range(n):
            drayt.write_image(root, f"r{k}img{i}", [
                "FROM scratch", "COPY busybox /bin/busybox", "COPY id.txt /id.txt",
                "COPY blob.txt /blob.txt"], extra_files={"blob.txt": drayt.random_text(blob)})
        return root

    def start_run(self, k, root, *extra):
        report = os.path.join(self.tmp, f"report{k}.json")
        argv = self.dray_argv("run", "-j", "2", "-p", "2", "--network", "none",
                              "--report", report, "--log-dir", os.path.join(self.tmp, f"logs{k}"),
                              "--stall-timeout", "120", *extra, root)
        return subprocess.Popen(argv, env=self.env(), cwd=self.tmp, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True), report

    def run_three(self, *extra):
        runs = [self.start_run(k, self.write_run(k, 3), *extra) for k in range(3)]
        reports = []
        for proc, report in runs:
            out, _ = proc.communicate(timeout=300)
            self.assertEqual(proc.returncode, 0, out)
            with open(report) as f:
                reports.append(json.load(f))
        pushes = [(a["start"], a["end"]) for r in reports for img in r["images"]
                  for a in img["attempts"] if a["phase"] == "push"]
        self.assertEqual(len(pushes), 9)
        return reports, drayt.max_overlap(pushes)

    def test_three_processes_share_two_slots(self):
        reports, overlap = self.run_three("--global-slots", f"{self.slots}:2")
        self.assertLessEqual(overlap, 2, reports)
        waited = 0
        for r in reports:
            self.assertEqual(r["global_slots"], f"{self.slots}:2")
            for img in r["images"]:
                self.assertEqual(img["status"], "pushed", img)
                self.assertEqual(self.registry_digest(img["references"][0]), img["digest"])
                waited += img["slot_wait_seconds"]
                self.assertAlmostEqual(img["slot_wait_seconds"],
                                       sum(a["slot_wait_seconds"] for a in img["attempts"]),
                                       places=3)
        # Six pushers for two slots: someone waited.
        self.assertGreater(waited, 0.5, reports)

        # The control: the same without slots goes deeper than 2.
        self.ns += "-free"
        self.registry = f"{self.proxy.addr}/{self.ns}"
        _, free_overlap = self.run_three()
        self.assertGreater(free_overlap, 2)

    def test_killed_holder_frees_its_slot(self):
        slots = f"{self.slots}-kill:1"
        # 30 MB through the 1 MB/s proxy: the holder keeps its slot for long.
        holder, _ = self.start_run(0, self.write_run(0, 1, blob=30_000_000), "--global-slots",
                                   slots)
        # Wait until the holder's push is under way (it holds the only slot).
        log = os.path.join(self.tmp, "logs0", "r0img0.log")
        deadline = time.time() + 120
        while time.time() < deadline:
            if os.path.exists(log):
                with open(log) as f:
                    if "holding push slot" in f.read():
                        break
            time.sleep(0.1)
        else:
            self.fail("the first run never held its slot")
        waiter, report = self.start_run(1, self.write_run(1, 1), "--global-slots", slots)
        time.sleep(4)  # it builds, then waits for the slot
        killed_at = time.time()
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
        holder.stdout.close()
        out, _ = waiter.communicate(timeout=180)
        self.assertEqual(waiter.returncode, 0, out)
        with open(report) as f:
            img = json.load(f)["images"][0]
        push = [a for a in img["attempts"] if a["phase"] == "push"][0]
        # It got the slot only once the holder was gone, and then pushed.
        self.assertGreaterEqual(push["start"], killed_at - 0.5, img)
        self.assertGreater(push["slot_wait_seconds"], 0.5, img)
        self.assertEqual(self.registry_digest(img["references"][0]), img["digest"])
        # Nothing the killed dray started outlives it.
        deadline = time.time() + 5
        while self.marked_processes() and time.time() < deadline:
            time.sleep(0.1)
        self.assertEqual(self.marked_processes(), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
