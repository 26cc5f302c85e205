#!/usr/bin/env python3
"""dray.exe under wine: the pools and limits, push retries, Ctrl+C and the
Job Object, with tests/win32/fake_docker.exe as the engine command.

fake_docker.exe is a FAKE: no Docker engine runs under wine. It takes docker's
arguments, sleeps, prints like `docker build` / `docker push` and records when
it ran (STATE/ev-<pid>.txt). Real builds and pushes are tested on Linux
(tests/integration); here it is dray.exe's own Windows behaviour that counts.

Run by ctest (tests/CMakeLists.txt, wine block) with DRAY_EXE, FAKE_DOCKER,
DRAY_WINE_RUN and DRAY_WINEPREFIX set; `python3 test_wine.py Class.test_x`
runs one test.
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

DRAY_EXE = os.environ.get("DRAY_EXE", "dray.exe")
FAKE_DOCKER = os.environ.get("FAKE_DOCKER", "fake_docker.exe")
WINE_RUN = os.environ.get("DRAY_WINE_RUN", "wine-run.sh")
PREFIX = os.environ.get("DRAY_WINEPREFIX", os.path.join(os.getcwd(), "wineprefix"))


def winpath(path):
    """The Windows name of a Linux path: wine maps / to drive Z:."""
    return "Z:" + os.path.abspath(path).replace("/", "\\")


def wine_argv(*args):
    return [WINE_RUN, "--prefix", PREFIX, *args]


class WineTestCase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="dray-wine-")
        self.tag = os.path.basename(self.tmp)  # in every fake's command line
        self.state = os.path.join(self.tmp, "state")
        os.makedirs(self.state)
        # A copy per test, so that its processes are told apart by path.
        self.fake = os.path.join(self.tmp, "fake_docker.exe")
        shutil.copy(FAKE_DOCKER, self.fake)
        self.report = os.path.join(self.tmp, "r.json")
        self.started_procs = []

    def tearDown(self):
        # Whatever a failed test left behind: only processes of this test.
        for proc in self.started_procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        for pid, _ in self.processes():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        shutil.rmtree(self.tmp, ignore_errors=True)

    # ---- helpers ------------------------------------------------------------
    def env(self, **extra):
        env = dict(os.environ)
        for k in ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_CONFIG", "DISPLAY"):
            env.pop(k, None)
        env["FAKE_DOCKER_STATE"] = winpath(self.state)
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def write_images(self, count, build_ms, prefix="img", grandchild=False):
        names = []
        for i in range(count):
            name = f"{prefix}{i:02d}"
            d = os.path.join(self.tmp, "tree", name)
            os.makedirs(d)
            with open(os.path.join(d, "Dockerfile"), "w") as f:
                f.write("FROM scratch\nCOPY id.txt /id.txt\n")
            with open(os.path.join(d, "id.txt"), "w") as f:
                f.write(name + "\n")
            ms = build_ms(i) if callable(build_ms) else build_ms
            with open(os.path.join(d, "fake-build-ms"), "w") as f:
                f.write(f"{ms}\n")
            if grandchild:
                open(os.path.join(d, "fake-grandchild"), "w").close()
            names.append(name)
        return names

    def dray_argv(self, *extra):
        return wine_argv(DRAY_EXE, "run", "--registry", "localhost:5000/wine",
                         "--engine-cmd", winpath(self.fake), "--push-driver", "cli",
                         "--no-verify", "--report", "r.json", "--log-dir", "logs",
                         "--progress", "plain", *extra, "tree")

    def start_dray(self, *extra, **env):
        # Its own session: signals reach only the wine process of dray.exe,
        # which keeps its pid through wine-run.sh's and wine's exec.
        # Output to a file, not a pipe: wine's helper processes (services.exe,
        # ...) inherit it and hold a pipe open for seconds after dray exits.
        self.out_path = os.path.join(self.tmp, "out.txt")
        with open(self.out_path, "w") as out:
            proc = subprocess.Popen(self.dray_argv(*extra), cwd=self.tmp, env=self.env(**env),
                                    stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        self.started_procs.append(proc)
        return proc

    def finish(self, proc, timeout):
        """Wait for dray.exe to exit; its output."""
        proc.wait(timeout=timeout)
        with open(self.out_path, errors="replace") as f:
            return f.read()

    def processes(self):
        """(pid, command line) of the live processes of this test's fake:
        wine shows a Windows process's command line in /proc."""
        found = []
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
                with open(f"/proc/{pid}/stat") as f:
                    if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                        continue  # exited, not yet reaped
            except OSError:
                continue
            argv0 = cmd.split(" ", 1)[0]
            if self.tag in argv0 and argv0.endswith("fake_docker.exe"):
                found.append((int(pid), cmd.strip()))
        return found

    def events(self):
        """What the fake recorded: one dict per run of it."""
        out = []
        for fn in os.listdir(self.state):
            if not fn.startswith("ev-"):
                continue
            with open(os.path.join(self.state, fn)) as f:
                lines = f.read().splitlines()
            if not lines:
                continue
            head = lines[0].split()
            ev = {"kind": head[0], "start": float(head[1]), "name": head[2],
                  "job": head[-1] == "job=1", "end": None, "exit": None, "digest": None,
                  "ctrl": []}
            for line in lines[1:]:
                parts = line.split()
                if parts[0] == "end":
                    ev["end"] = float(parts[1])
                    ev["exit"] = int(parts[2])
                    ev["digest"] = parts[3] if len(parts) > 3 else None
                elif parts[0] == "ctrl":
                    ev["ctrl"].append(parts[2])
            out.append(ev)
        return out

    def wait_for(self, what, pred, proc=None, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if pred():
                return
            if proc is not None and proc.poll() is not None:
                self.fail(f"dray ended early, waiting for {what}:\n" + self.finish(proc, 5))
            time.sleep(0.05)
        self.fail(f"timed out waiting for {what}")

    def wait_gone(self, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline and self.processes():
            time.sleep(0.1)
        return self.processes()

    def load_report(self):
        with open(self.report) as f:
            return json.load(f)

    @staticmethod
    def max_overlap(intervals):
        points = sorted([(s, 1) for s, e in intervals] + [(e, -1) for s, e in intervals],
                        key=lambda p: (p[0], p[1]))
        cur = best = 0
        for _, d in points:
            cur += d
            best = max(best, cur)
        return best


class Pipeline(WineTestCase):
    def test_pools_limits_retries(self):
        names = self.write_images(12, lambda i: 600 + 150 * (i % 4))
        t0 = time.time()
        proc = self.start_dray("-j", "3", "-p", "2", "--retry-delay", "0.2",
                               FAKE_DOCKER_PUSH_FAILS=1, FAKE_DOCKER_PUSH_MS=700)
        out = self.finish(proc, 300)
        print(f"run of 12 images: {time.time() - t0:.1f}s under wine")
        self.assertEqual(proc.returncode, 0, out)
        report = self.load_report()
        self.assertEqual(report["counts"]["done"], 12, out)
        events = self.events()
        pushes = [e for e in events if e["kind"] == "push"]
        builds = [e for e in events if e["kind"] == "build"]
        self.assertEqual(sorted(e["name"] for e in builds), names)

        # Every image pushed, with the digest the fake printed for its ref,
        # after one failed attempt and a retry.
        fake_digest = {e["name"]: e["digest"] for e in pushes if e["exit"] == 0}
        for img in report["images"]:
            ref = f"localhost:5000/wine/{img['name']}:latest"
            self.assertEqual(img["status"], "pushed", img)
            self.assertEqual(img["digest"], fake_digest[ref], img["name"])
            self.assertEqual(img["push_attempts"], 2, img)
            results = [a["result"] for a in img["attempts"] if a["phase"] == "push"]
            self.assertEqual(len(results), 2, img)
            self.assertNotEqual(results[0], "ok", img)
            self.assertEqual(results[1], "ok", img)
            self.assertTrue(img["image_id"].startswith("sha256:"), img)
        self.assertEqual(len([e for e in pushes if e["exit"] == 1]), 12)

        # The limits, as dray saw them and as the fake saw them.
        self.assertLessEqual(report["max_running_builds"], 3)
        self.assertLessEqual(report["max_running_pushes"], 2)
        att = [a for img in report["images"] for a in img["attempts"]]
        b_int = [(a["start"], a["end"]) for a in att if a["phase"] == "build"]
        p_int = [(a["start"], a["end"]) for a in att if a["phase"] == "push"]
        self.assertLessEqual(self.max_overlap(b_int), 3)
        self.assertLessEqual(self.max_overlap(p_int), 2)
        fb = [(e["start"], e["end"]) for e in builds]
        fp = [(e["start"], e["end"]) for e in pushes]
        self.assertEqual(self.max_overlap(fb), 3, "3 builders were never all busy")
        self.assertEqual(self.max_overlap(fp), 2, "2 pushers were never both busy")
        # Pushes run while other images still build.
        overlapping = [p for p in fp if any(b[0] < p[1] and p[0] < b[1] for b in fb)]
        self.assertGreater(len(overlapping), 0, "no push overlapped a build")
        self.assertTrue(all(e["job"] for e in events), "a child outside dray's job")
        self.assertEqual(self.wait_gone(), [])


class Interrupt(WineTestCase):
    def started(self, kind="build"):
        return [e for e in self.events() if e["kind"] == kind]

    def test_first_interrupt_drains(self):
        self.write_images(6, 3000, prefix="sleep")
        proc = self.start_dray("-j", "2", "-p", "1")
        self.wait_for("2 builds", lambda: len(self.started()) >= 2, proc)
        time.sleep(0.5)
        t_int = time.time()
        os.kill(proc.pid, signal.SIGINT)  # what wine turns into CTRL_C_EVENT
        out = self.finish(proc, 120)
        self.assertEqual(proc.returncode, 130, out)
        self.assertIn("interrupted", out)
        self.assertEqual(self.wait_gone(), [], "children outlived dray")

        report = self.load_report()
        self.assertTrue(report["interrupted"])
        started = [i for i in report["images"] if i["build_attempts"] > 0]
        not_started = [i for i in report["images"] if i["build_attempts"] == 0]
        self.assertEqual(len(started), 2, out)
        self.assertEqual(len(not_started), 4, out)
        for img in started:
            # Running builds were allowed to finish: drained, not killed.
            self.assertEqual(img["attempts"][0]["result"], "ok", img)
            self.assertGreater(img["build_end"], t_int)
        for img in not_started:
            self.assertEqual(img["status"], "interrupted")
        # Nothing new started after the interrupt (wine's signal delivery
        # takes a moment: 0.3 s of slack).
        for img in report["images"]:
            for a in img["attempts"]:
                self.assertLess(a["start"], t_int + 0.3, img["name"])
        for e in self.started():
            self.assertEqual(e["exit"], 0, e)  # finished normally

    def test_second_interrupt_cancels(self):
        self.write_images(4, 60000, prefix="sleep")
        proc = self.start_dray("-j", "2", "-p", "1")
        self.wait_for("2 builds", lambda: len(self.started()) >= 2, proc)
        time.sleep(0.5)
        os.kill(proc.pid, signal.SIGINT)
        time.sleep(0.5)
        self.assertIsNone(proc.poll(), "the first interrupt must drain, not stop")
        self.assertEqual(len(self.processes()), 2)
        t2 = time.time()
        os.kill(proc.pid, signal.SIGINT)
        out = self.finish(proc, 60)
        elapsed = time.time() - t2
        print(f"second interrupt to exit: {elapsed:.1f}s under wine")
        self.assertEqual(proc.returncode, 130, out)
        # dray's grace period is 2 s (interrupt, then kill), as on Linux: < 5 s.
        self.assertLess(elapsed, 5.0, f"cancel took {elapsed:.1f}s")
        self.assertEqual(self.wait_gone(), [], "children outlived dray")
        report = self.load_report()
        cancelled = [i for i in report["images"] if i["build_attempts"] > 0]
        self.assertEqual(len(cancelled), 2)
        for img in cancelled:
            self.assertEqual(img["status"], "interrupted")
            self.assertEqual(img["attempts"][0]["result"], "cancelled")
        for e in self.started():
            self.assertIsNone(e["end"], "a cancelled build ran to its end")

    def test_ctrl_break_reaches_child_group(self):
        """On Windows dray first sends CTRL_BREAK_EVENT to a child's process
        group (docker.exe cancels on it) and kills only after the grace
        period. Wine 8 does not implement CTRL_BREAK_EVENT to a process group
        (and without a console GenerateConsoleCtrlEvent fails anyway): the
        children here end by the kill. Checked on real Windows only."""
        self.write_images(1, 60000, prefix="brk")
        proc = self.start_dray("-j", "1")
        self.wait_for("the build", lambda: len(self.started()) >= 1, proc)
        time.sleep(0.5)
        os.kill(proc.pid, signal.SIGINT)
        time.sleep(0.3)
        os.kill(proc.pid, signal.SIGINT)
        out = self.finish(proc, 60)
        self.assertEqual(proc.returncode, 130, out)
        ctrl = [c for e in self.started() for c in e["ctrl"]]
        if "break" not in ctrl:
            self.skipTest("wine 8 does not deliver CTRL_BREAK_EVENT to a child's process "
                          "group; the grace-period kill ended the build (real Windows only)")
        self.assertEqual(self.wait_gone(), [])


class JobObject(WineTestCase):
    def test_killed_dray_takes_its_tree(self):
        # Control: without dray, killing the fake leaves its grandchild
        # running under wine, so what follows shows dray's Job Object at work.
        ctx = os.path.join(self.tmp, "control")
        os.makedirs(ctx)
        open(os.path.join(ctx, "fake-grandchild"), "w").close()
        with open(os.path.join(ctx, "fake-build-ms"), "w") as f:
            f.write("60000\n")
        ctl = subprocess.Popen(wine_argv(self.fake, "build", winpath(ctx)), cwd=self.tmp,
                               env=self.env(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
        self.started_procs.append(ctl)
        self.wait_for("the control's grandchild",
                      lambda: any(e["kind"] == "sleep" for e in self.events()), ctl)
        os.kill(ctl.pid, signal.SIGKILL)
        ctl.wait()
        time.sleep(2)
        orphans = [p for p in self.processes() if " sleep " in p[1] + " "]
        if not orphans:
            self.skipTest("wine ended the orphaned grandchild by itself: the Job Object's "
                          "effect cannot be told apart here")
        for pid, _ in orphans:
            os.kill(pid, signal.SIGKILL)
        self.assertEqual(self.wait_gone(), [])
        shutil.rmtree(self.state)
        os.makedirs(self.state)

        self.write_images(1, 60000, prefix="tree", grandchild=True)
        proc = self.start_dray("-j", "1")
        self.wait_for("the grandchild",
                      lambda: any(e["kind"] == "sleep" for e in self.events()), proc)
        events = self.events()
        self.assertTrue(all(e["job"] for e in events), events)
        self.assertEqual(len(self.processes()), 2)  # the build and its grandchild
        t = time.time()
        os.kill(proc.pid, signal.SIGKILL)  # no clean-up of dray's can run
        proc.wait(timeout=60)
        left = self.wait_gone(timeout=15)
        print(f"tree gone {time.time() - t:.1f}s after dray was killed")
        self.assertEqual(left, [], "the Job Object did not end dray's tree")


if __name__ == "__main__":
    unittest.main(verbosity=2)
