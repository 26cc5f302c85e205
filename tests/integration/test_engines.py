#!/usr/bin/env python3
"""One run over several real engines: dockerd instances of the test's own
(socket, data root, exec root, pidfile each) beside the fixture's, one real
registry. Every image pushed and verified, every engine used, each engine's
limits kept (the report's attempt intervals per engine), an image FROM a base
of the run built on another engine only after the base was pushed, an engine
killed mid-run (kill -9) losing nothing, an engine named by a TLS context,
and engines checked before anything starts (dray plan, --engines-optional)."""
import hashlib
import json
import os
import re
import shutil
import subprocess
import time
import unittest

import drayt


class EnginesTest(drayt.DrayTestCase):
    @classmethod
    def setUpClass(cls):
        cls.engines_dir = os.path.join(drayt.STATE, "engines")
        cls.b = drayt.Dockerd(cls.engines_dir, "b").start()
        cls.c = drayt.Dockerd(cls.engines_dir, "c").start()

    @classmethod
    def tearDownClass(cls):
        cls.b.stop()
        cls.c.stop()

    def write_tree(self, bases=2, children=8, singles=6):
        """BASES images FROM scratch, CHILDREN images FROM each base (built
        FROM the base's pushed reference), SINGLES images of their own."""
        for k in range(bases):
            drayt.write_image(self.tmp, f"base{k}")
            for j in range(children):
                drayt.write_child_image(self.tmp, f"base{k}-child{j}",
                                        f"{self.registry}/base{k}:latest")
        for k in range(singles):
            drayt.write_image(self.tmp, f"single{k}")
        return bases * (children + 1) + singles

    def attempts(self, report):
        out = []
        for img in report["images"]:
            for a in img["attempts"]:
                out.append((img["name"], a))
        return out

    def assert_pushed_and_verified(self, report, n):
        self.assertEqual(len(report["images"]), n)
        for img in report["images"]:
            self.assertEqual(img["status"], "pushed", (img["name"], img["error"]))
            self.assertTrue(img["verified"], img["name"])
            self.assertEqual(self.registry_digest(img["references"][0]), img["digest"],
                             img["name"])

    def test_images_spread_over_three_engines(self):
        n = self.write_tree(bases=2, children=8, singles=8)
        a = self.svc["docker_host"]
        p = self.run_dray("run", "--engine-host", a, "--engine-host", self.b.host + "#builders=3",
                          "--engine-host", self.c.host + "#builders=1,pushers=2",
                          "-j", "2", "-p", "1", ".", timeout=600)
        self.assertEqual(p.returncode, 0, self.explain())
        report = self.load_report()
        self.assert_pushed_and_verified(report, n)

        engines = {e["name"]: e for e in report["engines"]}
        self.assertEqual(set(engines), {a, self.b.host, self.c.host})
        for e in engines.values():
            self.assertGreater(e["builds"], 0, e)
            self.assertFalse(e["down"])
        # Each engine's own limits, from the recorded attempt intervals.
        limits = {a: (2, 1), self.b.host: (3, 1), self.c.host: (1, 2)}
        for name, (builds, pushes) in limits.items():
            for phase, limit in (("build", builds), ("push", pushes)):
                spans = [(at["start"], at["end"]) for _, at in self.attempts(report)
                         if at["engine"] == name and at["phase"] == phase]
                self.assertLessEqual(drayt.max_overlap(spans), limit, (name, phase))
        # Each image pushed by the engine that built it.
        for img in report["images"]:
            built = [at["engine"] for at in img["attempts"] if at["phase"] == "build"
                     and at["result"] == "ok"]
            pushed = [at["engine"] for at in img["attempts"] if at["phase"] == "push"
                      and at["result"] == "ok"]
            self.assertEqual(built[-1:], pushed[-1:], img["name"])
        # A child built away from its base's engine began after the base was
        # pushed (that engine pulled it from the registry).
        by_name = {img["name"]: img for img in report["images"]}
        moved = 0
        for img in report["images"]:
            if not img["depends_on"]:
                continue
            base = by_name[img["depends_on"][0]]
            base_engine = [at["engine"] for at in base["attempts"] if at["phase"] == "build"][-1]
            build = [at for at in img["attempts"] if at["phase"] == "build"][-1]
            if build["engine"] != base_engine:
                moved += 1
                self.assertGreaterEqual(build["start"], base["push_end"], img["name"])
        self.assertGreater(moved, 0, "no image was built away from its base's engine")
        self.assertIn(f"engine {a}:", p.stdout + p.stderr)  # the summary's per-engine line
        # The lines say where each attempt runs.
        self.assertRegex(p.stderr, r"build-started\s+\S+\s+on " + re.escape(self.b.host))

    def test_registry_driver_reads_from_each_engine(self):
        """With --push-driver registry, each image is read from the engine
        that built it; the blobs they share go up once."""
        n = self.write_tree(bases=1, children=5, singles=2)
        p = self.run_dray("run", "--push-driver", "registry", "--engine-host", self.b.host,
                          "--engine-host", self.c.host, "-j", "2", "-p", "2", ".", timeout=600)
        self.assertEqual(p.returncode, 0, self.explain())
        report = self.load_report()
        self.assert_pushed_and_verified(report, n)
        used = {e["name"] for e in report["engines"] if e["pushes"] > 0}
        self.assertEqual(used, {self.b.host, self.c.host})

    def test_engine_killed_mid_run_loses_nothing(self):
        n = self.write_tree(bases=1, children=10, singles=10)
        proc = self.start_dray("run", "--engine-host", self.b.host, "--engine-host", self.c.host,
                               "-j", "2", "-p", "1", ".")
        lines = []
        # Once a few images are built, the second engine dies as a crash would.
        for _ in range(4):
            self.assertIsNotNone(drayt.read_lines_until(proc, r"\bbuilt\b", 180, lines),
                                 "".join(lines))
        self.c.kill()
        out, err = proc.communicate(timeout=600)
        stderr = "".join(lines) + err
        self.last = subprocess.CompletedProcess(proc.args, proc.returncode, out, stderr)
        self.assertEqual(proc.returncode, 0, self.explain())
        self.assertRegex(stderr, re.escape(f"engine {self.c.host} is down"))
        report = self.load_report()
        self.assert_pushed_and_verified(report, n)
        engines = {e["name"]: e for e in report["engines"]}
        self.assertTrue(engines[self.c.host]["down"])
        self.assertFalse(engines[self.b.host]["down"])
        # What the dead engine ran was interrupted, not failed, and built
        # again on the other one; each image pushed where it was built.
        down_at = engines[self.c.host]["down_at"]
        for img in report["images"]:
            for at in img["attempts"]:
                self.assertIn(at["result"], ("ok", "interrupted"), (img["name"], at))
                if at["start"] > down_at:
                    self.assertEqual(at["engine"], self.b.host, (img["name"], at))
            ok = [at["engine"] for at in img["attempts"] if at["result"] == "ok"]
            self.assertEqual(ok[-1], ok[-2], img["name"])
        # The dead engine is not used again (restart it for the other tests).
        self.c.stop()
        type(self).c = drayt.Dockerd(self.engines_dir, "c").start()

    def test_hung_engine_is_found_and_left(self):
        """An engine that hangs fails nothing by itself: the watcher's probe
        finds it, what runs there is stopped and built again elsewhere."""
        n = self.write_tree(bases=1, children=6, singles=8)
        proc = self.start_dray("run", "--engine-host", self.b.host, "--engine-host", self.c.host,
                               "-j", "2", "-p", "1", ".")
        lines = []
        for _ in range(3):
            self.assertIsNotNone(drayt.read_lines_until(proc, r"\bbuilt\b", 180, lines),
                                 "".join(lines))
        started = time.time()
        self.c.pause()
        try:
            out, err = proc.communicate(timeout=300)
        finally:
            self.c.resume()
        stderr = "".join(lines) + err
        self.last = subprocess.CompletedProcess(proc.args, proc.returncode, out, stderr)
        self.assertEqual(proc.returncode, 0, self.explain())
        self.assertIn(f"engine {self.c.host} is down", stderr)
        # Found by the watcher (every 10 s, 10 s to answer), not by a timeout
        # of the builds (there is none).
        self.assertLess(time.time() - started, 120, self.explain())
        report = self.load_report()
        self.assert_pushed_and_verified(report, n)
        self.assertTrue({e["name"]: e for e in report["engines"]}[self.c.host]["down"])
        self.c.stop()
        type(self).c = drayt.Dockerd(self.engines_dir, "c").start()

    def write_context(self, cfg, name, host, tls_from=None):
        digest = hashlib.sha256(name.encode()).hexdigest()
        meta = os.path.join(cfg, "contexts", "meta", digest)
        os.makedirs(meta)
        with open(os.path.join(meta, "meta.json"), "w") as f:
            json.dump({"Name": name, "Metadata": {},
                       "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": False}}}, f)
        if tls_from:
            tls = os.path.join(cfg, "contexts", "tls", digest, "docker")
            os.makedirs(tls)
            for f in ("ca.pem", "cert.pem", "key.pem"):
                shutil.copy(os.path.join(tls_from, f), os.path.join(tls, f))

    def context_env(self):
        cfg = os.path.join(self.tmp, "docker-config")
        self.write_context(cfg, "dray-tls", self.svc["docker_tcp"], self.svc["docker_certs"])
        self.write_context(cfg, "engine-b", self.b.host)
        with open(os.path.join(cfg, "config.json"), "w") as f:
            json.dump({"auths": {}}, f)
        env = self.env()
        env.pop("DOCKER_HOST")
        env["DOCKER_CONFIG"] = cfg
        return env

    def test_context_with_tls_beside_a_socket(self):
        n = self.write_tree(bases=1, children=3, singles=3)
        p = subprocess.run(self.dray_argv("run", "--context", "dray-tls", "--engine-host",
                                          self.b.host, "-j", "2", "-p", "1", "."),
                           env=self.context_env(), cwd=self.tmp, capture_output=True, text=True,
                           timeout=600)
        self.last = p
        self.assertEqual(p.returncode, 0, self.explain())
        report = self.load_report()
        self.assert_pushed_and_verified(report, n)
        names = {e["name"] for e in report["engines"] if e["builds"] > 0}
        self.assertEqual(names, {"dray-tls", self.b.host})

    def test_engines_in_x_dray(self):
        """A compose file names engines by context, with limits of their own."""
        for k in range(4):
            drayt.write_image(self.tmp, f"svc{k}")
        with open(os.path.join(self.tmp, "compose.yaml"), "w") as f:
            f.write("x-dray:\n  engines:\n    - dray-tls#builders=1\n"
                    "    - {context: engine-b, builders: 2, pushers: 1}\nservices:\n")
            for k in range(4):
                f.write(f"  svc{k}:\n    build: svc{k}\n")
        p = subprocess.run(self.dray_argv("run", "-p", "1"), env=self.context_env(), cwd=self.tmp,
                           capture_output=True, text=True, timeout=600)
        self.last = p
        self.assertEqual(p.returncode, 0, self.explain())
        report = self.load_report()
        self.assert_pushed_and_verified(report, 4)
        self.assertEqual([e["name"] for e in report["engines"]], ["dray-tls", "engine-b"])
        spans = [(at["start"], at["end"]) for _, at in self.attempts(report)
                 if at["engine"] == "dray-tls" and at["phase"] == "build"]
        self.assertLessEqual(drayt.max_overlap(spans), 1)

    def test_engines_checked_before_anything_starts(self):
        self.write_tree(bases=1, children=1, singles=1)
        dead = "unix://" + os.path.join(self.tmp, "no-such.sock")
        p = subprocess.run([drayt.DRAY, "plan", "--engine-host", self.b.host, "--engine-host",
                            dead, "."], env=self.env(), cwd=self.tmp, capture_output=True,
                           text=True, timeout=60)
        self.last = p
        self.assertNotEqual(p.returncode, 0, self.explain())
        self.assertIn(f"engine {dead} does not answer", p.stderr)
        self.assertRegex(p.stdout, re.escape(self.b.host) + r"\s+answers")
        # A run does not start either: no log, no report.
        p = self.run_dray("run", "--engine-host", self.b.host, "--engine-host", dead, ".")
        self.assertNotEqual(p.returncode, 0, self.explain())
        self.assertFalse(os.path.exists(self.report))
        # --engines-optional: a warning, and the run goes on with the others.
        p = self.run_dray("run", "--engines-optional", "--engine-host", self.b.host,
                          "--engine-host", dead, ".")
        self.assertEqual(p.returncode, 0, self.explain())
        self.assertIn(f"engine {dead} does not answer", p.stderr)
        self.assertEqual([e["name"] for e in self.load_report()["engines"]], [self.b.host])
        # Images built before are on one engine: push takes one.
        p = self.run_dray("push", "--engine-host", self.b.host, "--engine-host", self.c.host, ".")
        self.assertEqual(p.returncode, 2, self.explain())
        self.assertIn("dray push takes one engine", p.stderr)


if __name__ == "__main__":
    unittest.main()
