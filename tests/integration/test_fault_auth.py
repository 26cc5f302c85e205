#!/usr/bin/env python3
"""Fault (d): a registry that requires Basic auth (htpasswd -Bbn, from
apache2-utils). The engine itself is never logged in: dray sends
X-Registry-Auth with each push, from a temporary DOCKER_CONFIG.

- credentials in config.json "auths" -> pushed and verified;
- credentials from a test credential helper (docker-credential-dtest on
  PATH), named by "credsStore" and by "credHelpers" -> pushed and verified,
  and the helper was asked for this registry;
- a wrong password -> failed with reason "auth", an error naming the
  registry, one attempt only (no retry storm), nothing served;
and the password appears nowhere dray writes: stdout, stderr, the report,
the logs."""
import base64
import os
import re
import stat
import unittest
import uuid

import drayt

USER = "dtest-user"
PASSWORD = "Pw-" + uuid.uuid4().hex[:16]


class AuthTest(drayt.FaultTestCase):
    @classmethod
    def setUpClass(cls):
        cls.folder = os.path.join("/tmp", f"dray-auth-{uuid.uuid4().hex[:8]}")
        cls.reg = drayt.Registry(cls.folder, users={USER: PASSWORD})
        try:
            cls.reg.start()
        except Exception:
            cls.reg.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.reg.stop()
        import shutil
        shutil.rmtree(cls.folder, ignore_errors=True)

    def setUp(self):
        super().setUp()
        self.use_registry(self.reg.addr)

    def assert_no_secret(self, password):
        """PASSWORD is nowhere dray wrote, neither plain nor inside anything
        base64 (config.json's "auth", the X-Registry-Auth header)."""
        for where, text in self.outputs().items():
            self.assertNotIn(password, text, f"the password in {where}")
            for token in re.findall(r"[A-Za-z0-9+/_-]{12,}={0,2}", text):
                for decode in (base64.b64decode, base64.urlsafe_b64decode):
                    try:
                        plain = decode(token + "=" * (-len(token) % 4))
                    except ValueError:
                        continue
                    self.assertNotIn(password.encode(), plain,
                                     f"the password base64-encoded in {where}")

    def auths_entry(self, password):
        return {self.reg.addr: {"auth": base64.b64encode(f"{USER}:{password}".encode()).decode()}}

    def write_helper(self):
        """docker-credential-dtest: knows this registry's credentials, logs
        each request (server only) to helper.log."""
        bindir = os.path.join(self.tmp, "bin")
        os.makedirs(bindir, exist_ok=True)
        self.helper_log = os.path.join(self.tmp, "helper.log")
        path = os.path.join(bindir, "docker-credential-dtest")
        with open(path, "w") as f:
            f.write(f"""#!/usr/bin/env python3
import json, sys
action = sys.argv[1] if len(sys.argv) > 1 else ""
data = sys.stdin.read().strip() if action in ("get", "erase") else ""
with open({self.helper_log!r}, "a") as log:
    log.write(action + " " + data + "\\n")
if action == "list":
    print(json.dumps({{{self.reg.addr!r}: {USER!r}}}))
elif action == "get" and data.replace("https://", "").replace("http://", "").rstrip("/") == {self.reg.addr!r}:
    print(json.dumps({{"ServerURL": data, "Username": {USER!r}, "Secret": {PASSWORD!r}}}))
elif action == "get":
    print("credentials not found in native keychain")
    sys.exit(1)
""")
        os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        self.extra_env["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")

    def push_ok(self):
        names = self.write_images(2)
        p = self.run_dray("run", "-j", "2", "-p", "2", "--network", "none",
                          "--retries", "2", "--retry-delay", "1", ".", timeout=180)
        self.assertEqual(p.returncode, 0, self.explain())
        report = self.load_report()
        self.assertEqual(sorted(i["name"] for i in report["images"]), names)
        self.check_report(report, self.reg)
        for img in report["images"]:
            self.assertEqual(img["push_attempts"], 1, img)
        # Without credentials the registry really refuses.
        anon = drayt.Registry.__new__(drayt.Registry)
        anon.addr, anon.users = self.reg.addr, {}
        self.assertIsNone(anon.digest(report["images"][0]["references"][0]))
        self.assert_no_secret(PASSWORD)
        return report

    def test_auths_in_config_json(self):
        self.write_docker_config({"auths": self.auths_entry(PASSWORD)})
        self.push_ok()

    def test_creds_store_helper(self):
        self.write_helper()
        self.write_docker_config({"credsStore": "dtest"})
        self.push_ok()
        with open(self.helper_log) as f:
            asked = [l.split() for l in f if l.startswith("get ")]
        self.assertTrue(asked)
        self.assertTrue(all(self.reg.addr in a[1] for a in asked), asked)

    def test_cred_helpers_helper(self):
        self.write_helper()
        # A credsStore that does not exist: credHelpers for this host wins.
        self.write_docker_config({"credsStore": "no-such-helper",
                                  "credHelpers": {self.reg.addr: "dtest"}})
        self.push_ok()
        with open(self.helper_log) as f:
            self.assertIn(f"get {self.reg.addr}", f.read())

    def test_wrong_password(self):
        wrong = "Wrong-" + uuid.uuid4().hex[:16]
        self.write_docker_config({"auths": self.auths_entry(wrong)})
        names = self.write_images(2)
        p = self.run_dray("run", "-j", "2", "-p", "2", "--network", "none",
                          "--retries", "3", "--retry-delay", "1", ".", timeout=180)
        self.assertEqual(p.returncode, 1, self.explain())
        report = self.load_report()
        self.assertEqual(sorted(i["name"] for i in report["images"]), names)
        self.check_report(report, self.reg, expect_pushed=False)
        for img in report["images"]:
            self.assertEqual(img["reason"], "auth", img)
            self.assertIn(self.reg.addr, img["error"])
            self.assertRegex(img["error"].lower(), "unauthorized|authentication")
            self.assertEqual(img["push_attempts"], 1, img)  # no retry storm
            self.assertEqual(img["build_attempts"], 1, img)
        self.assertNotIn("push-retry", p.stderr)
        self.assert_no_secret(wrong)
        self.assert_no_secret(PASSWORD)


if __name__ == "__main__":
    unittest.main(verbosity=2)
