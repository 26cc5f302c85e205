#!/usr/bin/env python3
"""Reaching the engine over tcp:// with mutual TLS, the way the docker CLI
does: DOCKER_HOST + DOCKER_TLS_VERIFY + DOCKER_CERT_PATH, --engine-host, and
a docker context (--context) whose TLS material lives in the context store.
--push-driver engine makes dray fail rather than fall back to the CLI, so a
pushed image proves the Engine API was reached over TLS."""
import hashlib
import json
import os
import shutil
import subprocess
import unittest

import drayt


class EngineTcpTest(drayt.DrayTestCase):
    def setUp(self):
        super().setUp()
        drayt.write_image(self.tmp, "t0")
        drayt.write_image(self.tmp, "t1")
        self.tcp = self.svc["docker_tcp"]
        self.certs = self.svc["docker_certs"]

    def tls_env(self):
        env = self.env()
        env["DOCKER_HOST"] = self.tcp
        env["DOCKER_TLS_VERIFY"] = "1"
        env["DOCKER_CERT_PATH"] = self.certs
        return env

    def run_with(self, env, *args):
        p = subprocess.run(self.dray_argv("run", "--push-driver", "engine", *args), env=env,
                           cwd=self.tmp, capture_output=True, text=True, timeout=300)
        self.last = p
        return p

    def assert_all_pushed(self):
        for img in self.load_report()["images"]:
            self.assertEqual(img["status"], "pushed", img["name"])
            self.assertTrue(img["verified"])
            self.assertEqual(self.registry_digest(img["references"][0]), img["digest"])

    def test_docker_host_with_tls_env(self):
        p = self.run_with(self.tls_env(), ".")
        self.assertEqual(p.returncode, 0, self.explain())
        self.assert_all_pushed()

    def test_engine_host_option(self):
        env = self.tls_env()
        env["DOCKER_HOST"] = "unix:///nonexistent/docker.sock"  # --engine-host wins
        p = self.run_with(env, "--engine-host", self.tcp, ".")
        self.assertEqual(p.returncode, 0, self.explain())
        self.assert_all_pushed()

    def test_context_with_tls(self):
        cfg = os.path.join(self.tmp, "docker-config")
        digest = hashlib.sha256(b"dray-tls").hexdigest()
        meta = os.path.join(cfg, "contexts", "meta", digest)
        tls = os.path.join(cfg, "contexts", "tls", digest, "docker")
        os.makedirs(meta)
        os.makedirs(tls)
        with open(os.path.join(meta, "meta.json"), "w") as f:
            json.dump({"Name": "dray-tls", "Metadata": {},
                       "Endpoints": {"docker": {"Host": self.tcp, "SkipTLSVerify": False}}}, f)
        for name in ("ca.pem", "cert.pem", "key.pem"):
            shutil.copy(os.path.join(self.certs, name), os.path.join(tls, name))
        with open(os.path.join(cfg, "config.json"), "w") as f:
            json.dump({"auths": {}}, f)
        env = self.env()
        env.pop("DOCKER_HOST")
        env["DOCKER_CONFIG"] = cfg
        p = self.run_with(env, "--context", "dray-tls", ".")
        self.assertEqual(p.returncode, 0, self.explain())
        self.assert_all_pushed()

    def test_tls_without_client_certificate_is_refused(self):
        env = self.env()
        env["DOCKER_HOST"] = self.tcp
        env["DOCKER_TLS_VERIFY"] = "1"
        env["DOCKER_CERT_PATH"] = os.path.join(self.tmp, "no-certs")
        os.makedirs(env["DOCKER_CERT_PATH"])
        p = self.run_with(env, ".")
        self.assertEqual(p.returncode, 2, self.explain())
        self.assertIn("127.0.0.1", p.stderr)

    def test_ssh_host_uses_the_cli_driver(self):
        # ssh:// cannot be spoken to over HTTP from here: dray pushes with the
        # CLI, which here fails to connect; the log shows which driver ran.
        env = self.env()
        env["DOCKER_HOST"] = "ssh://nobody@127.0.0.1:9"
        p = subprocess.run(self.dray_argv("push", "--retries", "0", "."), env=env, cwd=self.tmp,
                           capture_output=True, text=True, timeout=120)
        self.last = p
        self.assertEqual(p.returncode, 1, self.explain())
        for img in self.load_report()["images"]:
            self.assertEqual(img["status"], "failed")
            with open(img["log"]) as f:
                self.assertIn(f"$ {drayt.DOCKER} push", f.read())
        p = self.run_with(env, ".")
        self.assertEqual(p.returncode, 2, self.explain())  # --push-driver engine refuses
        self.assertIn("ssh://", p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
