#!/usr/bin/env python3
"""(d) Ctrl+C. dray runs in a process group of its own and the test sends
SIGINT to that whole group, as a terminal's Ctrl+C does: only dray may react
(its children run in groups of their own), and dray decides.
First interrupt: drain (running builds finish, nothing new starts), summary,
exit 130. Second interrupt: cancel (running children stopped) within 5 s.
Either way no process dray started may still run after it exits."""
import os
import signal
import subprocess
import time
import unittest

import drayt


def started_logs(log_dir):
    """Images whose build has begun: their log holds the command line."""
    if not os.path.isdir(log_dir):
        return []
    return [f for f in os.listdir(log_dir)
            if f.endswith(".log") and os.path.getsize(os.path.join(log_dir, f)) > 0]


class InterruptTest(drayt.DrayTestCase):
    def start_in_own_group(self, *args):
        return subprocess.Popen(self.dray_argv("run", *args), env=self.env(), cwd=self.tmp,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)

    def wait_builds_started(self, proc, n, timeout=60):
        logs = os.path.join(self.tmp, "logs")
        deadline = time.time() + timeout
        while time.time() < deadline:
            if len(started_logs(logs)) >= n:
                return
            self.assertIsNone(proc.poll(), "dray ended early")
            time.sleep(0.1)
        self.fail("builds did not start")

    def write_sleepers(self, count, seconds):
        for i in range(count):
            drayt.write_image(self.tmp, f"sleep{i}", [
                "FROM scratch", "COPY busybox /bin/busybox", "COPY id.txt /id.txt",
                f'RUN ["/bin/busybox", "sleep", "{seconds}"]'])

    def test_first_interrupt_drains(self):
        self.write_sleepers(6, 3)
        proc = self.start_in_own_group("-j", "2", "-p", "1", "--network", "none", ".")
        self.wait_builds_started(proc, 2)
        time.sleep(0.5)
        t_int = time.time()
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 130, out + err)
        self.assertEqual(self.marked_processes(), [], "children outlived dray")

        report = self.load_report()
        self.assertTrue(report["interrupted"])
        started = [i for i in report["images"] if i["build_attempts"] > 0]
        not_started = [i for i in report["images"] if i["build_attempts"] == 0]
        self.assertEqual(len(started), 2, out + err)
        self.assertEqual(len(not_started), 4)
        for img in started:
            # Running builds were allowed to finish (draining, not killing).
            self.assertEqual(img["attempts"][0]["result"], "ok", img)
            self.assertGreater(img["build_end"], t_int)
        for img in not_started:
            self.assertEqual(img["status"], "interrupted")
        # Nothing new started after the interrupt.
        for img in report["images"]:
            for a in img["attempts"]:
                self.assertLess(a["start"], t_int + 0.05, img["name"])
        self.assertIn("interrupted", err)
        self.assertIn("IMAGE", out)  # the summary still prints

    def test_second_interrupt_cancels_within_5s(self):
        self.write_sleepers(4, 60)
        proc = self.start_in_own_group("-j", "2", "-p", "1", "--network", "none", ".")
        self.wait_builds_started(proc, 2)
        time.sleep(1.0)
        os.killpg(proc.pid, signal.SIGINT)
        time.sleep(0.3)
        self.assertIsNone(proc.poll(), "the first interrupt must drain, not stop")
        self.assertGreater(len(self.marked_processes()), 0)
        t2 = time.time()
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        elapsed = time.time() - t2
        self.assertEqual(proc.returncode, 130, out + err)
        self.assertLess(elapsed, 5.0, f"cancel took {elapsed:.1f}s")
        self.assertEqual(self.marked_processes(), [], "children outlived dray")
        report = self.load_report()
        cancelled = [i for i in report["images"] if i["build_attempts"] > 0]
        self.assertEqual(len(cancelled), 2)
        for img in cancelled:
            self.assertEqual(img["status"], "interrupted")
            self.assertEqual(img["attempts"][0]["result"], "cancelled")
        self.assertEqual(self.registry_tags(f"{self.ns}/sleep0"), [])

    def test_sigterm_cancels(self):
        self.write_sleepers(2, 60)
        proc = self.start_in_own_group("-j", "2", "--network", "none", ".")
        self.wait_builds_started(proc, 2)
        time.sleep(0.5)
        t = time.time()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 130, out + err)
        self.assertLess(time.time() - t, 5.0)
        self.assertEqual(self.marked_processes(), [])

    def test_interrupt_at_once_still_reports(self):
        # A Ctrl+C as dray starts (while it reads its input) ends it through
        # its own path: exit 130 and a report that says what happened, not
        # the signal's default action with no report.
        # Short builds: one that started before the Ctrl+C is let finish.
        self.write_sleepers(3, 2)
        for delay in (0.0, 0.02, 0.1):
            if os.path.exists(self.report):
                os.remove(self.report)
            proc = self.start_in_own_group("-j", "2", "--network", "none", ".")
            time.sleep(delay)
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=30)
            if proc.returncode == -signal.SIGINT:
                # Before main could install its handler (process start-up,
                # slower under sanitizers): the default action, which a
                # shell reports as 130 too; nothing had started.
                self.assertFalse(os.path.exists(self.report), delay)
                self.assertFalse(os.path.exists(os.path.join(self.tmp, "logs")), delay)
                continue
            self.assertEqual(proc.returncode, 130, (delay, out + err))
            report = self.load_report()
            self.assertTrue(report["interrupted"], delay)
            for img in report["images"]:
                self.assertEqual(img["status"], "interrupted", (delay, img))
            self.assertEqual(self.marked_processes(), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
