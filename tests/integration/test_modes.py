#!/usr/bin/env python3
"""dray build, dray push, dray plan, --dry-run and --build-retries."""
import os
import stat
import subprocess
import unittest

import drayt


class ModesTest(drayt.DrayTestCase):
    def write_three(self):
        drayt.write_image(self.tmp, "base")
        drayt.write_child_image(self.tmp, "child", f"{self.registry}/base:latest")
        drayt.write_image(self.tmp, "other")

    def test_build_then_push(self):
        self.write_three()
        p = self.run_dray("build", "-j", "2", ".")
        self.assertEqual(p.returncode, 0, self.explain())
        report = self.load_report()
        self.assertEqual(report["mode"], "build")
        for img in report["images"]:
            self.assertEqual(img["status"], "built")
            self.assertRegex(img["image_id"], r"^sha256:[0-9a-f]{64}$")
            self.assertEqual(img["push_attempts"], 0)
            self.assertIsNone(self.registry_digest(img["references"][0]))

        p = self.run_dray("push", "-p", "2", ".")
        self.assertEqual(p.returncode, 0, self.explain())
        report = self.load_report()
        self.assertEqual(report["mode"], "push")
        for img in report["images"]:
            self.assertEqual(img["status"], "pushed")
            self.assertEqual(img["build_attempts"], 0)
            self.assertEqual(self.registry_digest(img["references"][0]), img["digest"])

    def test_push_of_an_image_never_built_fails_without_retry_storm(self):
        drayt.write_image(self.tmp, "never-built")
        p = self.run_dray("push", "--retries", "3", "--retry-delay", "0.1", ".")
        self.assertEqual(p.returncode, 1, self.explain())
        img = self.load_report()["images"][0]
        self.assertEqual(img["status"], "failed")
        self.assertEqual(img["push_attempts"], 1)  # a missing image is not worth retrying
        self.assertIn("never-built", img["error"])

    def test_plan_and_dry_run_start_nothing(self):
        self.write_three()
        p = self.run_dray("plan", ".")
        self.assertEqual(p.returncode, 0, self.explain())
        self.assertIn("build order: base, child, other", p.stdout.replace("other, child", "child, other"))
        self.assertIn(f"{self.registry}/child:latest", p.stdout)
        p = self.run_dray("run", "--dry-run", "--network", "none", ".")
        self.assertEqual(p.returncode, 0, self.explain())
        self.assertIn(f"$ {drayt.DOCKER} build --file", p.stdout)
        # The default driver (auto) pushes over HTTP: for this local engine
        # (its own image store) through the Engine API, and a retry after a
        # failed push as the registry's client: the dry run shows that, not
        # a "docker push" nobody would run.
        self.assertNotIn(" push ", p.stdout)
        self.assertIn("(a retry after a failed push: dray uploads the image itself)", p.stdout)
        push_word = "POST /v1."
        self.assertIn(push_word, p.stdout)
        # In the order a run starts them: base built before child, each
        # pushed after its build.
        lines = p.stdout.splitlines()
        def first(word, name):
            return next(i for i, l in enumerate(lines) if l.startswith(name + " ") and word in l)
        self.assertLess(first(" build ", "base"), first(" build ", "child"))
        self.assertLess(first(" build ", "base"), first(push_word, "base"))
        # Each HTTP driver by name says what it would do.
        p = self.run_dray("run", "--dry-run", "--push-driver", "engine", "--network", "none", ".")
        self.assertEqual(p.returncode, 0, self.explain())
        self.assertIn("POST /v1.", p.stdout)
        self.assertIn(f"/images/{self.registry}/base/push?tag=latest", p.stdout)
        p = self.run_dray("run", "--dry-run", "--push-driver", "registry", "--network", "none", ".")
        self.assertEqual(p.returncode, 0, self.explain())
        self.assertIn(f"read {self.registry}/base:latest from the engine (GET /images/get)", p.stdout)
        self.assertNotIn(" push ", p.stdout)
        p = self.run_dray("run", "--dry-run", "--push-driver", "cli", "--network", "none", ".")
        self.assertEqual(p.returncode, 0, self.explain())
        self.assertIn(f"$ {drayt.DOCKER} push {self.registry}/base:latest", p.stdout)
        # podman pushes with its CLI and a digest file.
        p = self.run_dray("push", "--dry-run", "--engine-cmd", "podman", ".")
        self.assertEqual(p.returncode, 0, self.explain())
        self.assertIn(f"$ podman push --digestfile DIGESTFILE {self.registry}/base:latest", p.stdout)
        self.assertNotIn(" build --file", p.stdout)
        self.assertFalse(os.path.exists(self.report))
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "logs")))
        self.assertIsNone(self.registry_digest(f"{self.registry}/base:latest"))

    def test_build_retries(self):
        # A docker wrapper that fails each context's first build: a fault
        # injector in front of the real client, as a proxy is for a registry.
        wrapper = os.path.join(self.tmp, "flaky-docker")
        with open(wrapper, "w") as f:
            f.write(f"""#!/bin/sh
if [ "$1" = build ]; then
  for last; do :; done
  mark="$last/.failed-once"
  if [ ! -e "$mark" ]; then : > "$mark"; echo "flaky: first build fails"; exit 1; fi
fi
exec {drayt.DOCKER} "$@"
""")
        os.chmod(wrapper, os.stat(wrapper).st_mode | stat.S_IEXEC)
        drayt.write_image(self.tmp, "img/a")
        drayt.write_image(self.tmp, "img/b")
        argv = self.dray_argv("run", "--build-retries", "1", "--retry-delay", "0.2", "img")
        argv[argv.index("--engine-cmd") + 1] = wrapper
        p = subprocess.run(argv, env=self.env(), cwd=self.tmp, capture_output=True, text=True,
                           timeout=300)
        self.last = p
        self.assertEqual(p.returncode, 0, self.explain())
        for img in self.load_report()["images"]:
            self.assertEqual(img["status"], "pushed")
            self.assertEqual(img["build_attempts"], 2)
            self.assertEqual([a["result"] for a in img["attempts"] if a["phase"] == "build"],
                             ["exit", "ok"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
