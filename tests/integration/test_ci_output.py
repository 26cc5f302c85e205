#!/usr/bin/env python3
"""CI-native output and settings from outside, against a real engine and
registry: in a GitHub Actions job (GITHUB_ACTIONS=true) a failed build is an
::error annotation at the Dockerfile line BuildKit names, its log is folded
in ::group::, the step summary gets a table; --junit writes well-formed XML
with a test case per image; an input error is an annotation at its file and
line; DRAY_* variables beat the config file and lose to flags."""
import os
import unittest
import xml.etree.ElementTree as ET

import drayt


class CiOutputTest(drayt.DrayTestCase):
    def gha_env(self):
        env = self.env()
        env["GITHUB_ACTIONS"] = "true"
        env["GITHUB_STEP_SUMMARY"] = os.path.join(self.tmp, "summary.md")
        env["GITHUB_WORKSPACE"] = self.tmp
        return env

    def run_with(self, env, *argv):
        import subprocess
        p = subprocess.run(argv, env=env, cwd=self.tmp, capture_output=True, text=True,
                           timeout=300)
        self.last = p
        return p

    def test_github_actions_and_junit(self):
        drayt.write_image(self.tmp, "broken", [
            "FROM scratch", "COPY busybox /bin/busybox",
            'RUN ["/bin/busybox", "sh", "-c", "echo deliberate failure; exit 3"]'])
        drayt.write_image(self.tmp, "fine")
        junit = os.path.join(self.tmp, "junit.xml")
        with open(os.path.join(self.tmp, "summary.md"), "w") as f:
            f.write("before\n")
        p = self.run_with(self.gha_env(), *self.dray_argv("run", "--network", "none",
                                                           "--junit", junit, "."))
        self.assertEqual(p.returncode, 1, self.explain())
        self.assertIn("::error file=broken/Dockerfile,line=3,title=dray%3A build of broken failed::",
                      p.stdout)
        self.assertIn("::group::dray: log of broken (failed", p.stdout)
        group = p.stdout.split("::group::dray: log of broken", 1)[1].split("::endgroup::", 1)[0]
        self.assertIn("deliberate failure", group)
        self.assertNotIn("log of fine", p.stdout)
        with open(os.path.join(self.tmp, "summary.md")) as f:
            md = f.read()
        self.assertTrue(md.startswith("before\n"), md)
        self.assertRegex(md, r"\| `fine` \| \S+ pushed \|")
        self.assertRegex(md, r"\| `broken` \| \S+ failed \|")

        suite = ET.parse(junit).getroot().find("testsuite")
        cases = {c.get("name"): c for c in suite.findall("testcase")}
        self.assertEqual(set(cases), {"broken", "fine"})
        self.assertEqual(suite.get("failures"), "1")
        failure = cases["broken"].find("failure")
        self.assertEqual(failure.get("type"), "exit")
        self.assertIn("deliberate failure", failure.text)
        self.assertIsNone(cases["fine"].find("failure"))
        self.assertIn("push: ok after 1 attempt", cases["fine"].find("system-out").text)

        # Outside GitHub Actions: none of it.
        p = self.run_dray("run", "--network", "none", ".")
        self.assertNotIn("::error", p.stdout + p.stderr)

    def test_input_error_annotation(self):
        with open(os.path.join(self.tmp, "compose.yaml"), "w") as f:
            f.write("x-dray:\n  pushers: many\nservices:\n  a:\n    build: .\n")
        p = self.run_with(self.gha_env(), drayt.DRAY, "plan")
        self.assertEqual(p.returncode, 2, self.explain())
        self.assertIn("::error file=compose.yaml,line=2,title=dray%3A input error::"
                      "x-dray.pushers needs auto or a whole number", p.stdout)

    def test_settings_from_environment_and_config(self):
        for i in range(2):
            drayt.write_image(self.tmp, f"img{i}")
        os.makedirs(os.path.join(self.tmp, "config", "dray"))
        with open(os.path.join(self.tmp, "config", "dray", "config.yaml"), "w") as f:
            f.write("pushers: 3\nbuilders: 2\nretries: 4\n")
        env = self.env()
        env["DRAY_PUSHERS"] = "1"
        p = self.run_with(env, *self.dray_argv("run", "."))
        self.assertEqual(p.returncode, 0, self.explain())
        report = self.load_report()
        self.assertEqual(report["pushers"], 1)   # environment over config file
        self.assertEqual(report["builders"], 2)  # config file over default
        p = self.run_with(env, *self.dray_argv("run", "-p", "2", "."))
        self.assertEqual(self.load_report()["pushers"], 2)  # flag over environment
        p = self.run_with(env, drayt.DRAY, "plan", "-v", ".")
        self.assertRegex(p.stdout, r"pushers\s+1\s+environment \(DRAY_PUSHERS\)")
        self.assertRegex(p.stdout, r"retries\s+4\s+config file \(.*config\.yaml:3\)")
        self.assertNotRegex(p.stdout, r"stall-timeout")

        # The limits' auto, their bounds and the global slots: settings too.
        env["DRAY_PUSHERS"] = "auto"
        env["DRAY_PUSHERS_MAX"] = "3"
        env["DRAY_GLOBAL_SLOTS"] = "dray-test-ci:2"
        p = self.run_with(env, drayt.DRAY, "plan", "-v", ".")
        self.assertRegex(p.stdout, r"pushers\s+auto\s+environment \(DRAY_PUSHERS\)")
        self.assertRegex(p.stdout, r"pushers-max\s+3\s+environment \(DRAY_PUSHERS_MAX\)")
        self.assertRegex(p.stdout, r"global-slots\s+dray-test-ci:2\s+environment")
        p = self.run_with(env, *self.dray_argv("run", "."))
        self.assertEqual(p.returncode, 0, self.explain())
        report = self.load_report()
        self.assertEqual(report["global_slots"], "dray-test-ci:2")
        self.assertLessEqual(max(l["pushers"] for l in report["limits"]), 3)
        self.assertEqual(report["builders"], 2)  # still the config file's


if __name__ == "__main__":
    unittest.main(verbosity=2)
