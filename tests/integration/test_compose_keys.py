#!/usr/bin/env python3
"""Compose build keys against the real engine and registry: secrets (file and
environment) readable in RUN --mount=type=secret and absent from the pushed
layers, labels in the image's config, extra_hosts in a RUN step, target,
dockerfile_inline, and every build.tags reference pushed and verified."""
import gzip
import hashlib
import http.client
import io
import json
import os
import subprocess
import tarfile
import textwrap
import unittest

import drayt

SECRET_FILE = "file-secret-6f1d0c"
SECRET_ENV = "env-secret-93ab27"


class ComposeKeysTest(drayt.DrayTestCase):
    # ---- the registry's view of an image --------------------------------------

    def _get(self, path, accept=drayt.MANIFEST_ACCEPT):
        c = http.client.HTTPConnection(self.svc["registry"], timeout=30)
        c.request("GET", path, headers={"Accept": accept})
        r = c.getresponse()
        body = r.read()
        c.close()
        self.assertEqual(r.status, 200, path)
        return body

    def manifest(self, reference):
        repo, tag = reference.split("/", 1)[1].rsplit(":", 1)
        return repo, json.loads(self._get(f"/v2/{repo}/manifests/{tag}"))

    def config(self, reference):
        repo, m = self.manifest(reference)
        return json.loads(self._get(f"/v2/{repo}/blobs/{m['config']['digest']}", "*/*"))

    def files(self, reference):
        """{path: bytes} of every regular file in the image's layers, and the
        layers' raw (uncompressed) bytes together."""
        repo, m = self.manifest(reference)
        out, raw = {}, b""
        for layer in m["layers"]:
            blob = self._get(f"/v2/{repo}/blobs/{layer['digest']}", "*/*")
            data = gzip.decompress(blob) if blob[:2] == b"\x1f\x8b" else blob
            raw += data
            with tarfile.open(fileobj=io.BytesIO(data)) as t:
                for member in t.getmembers():
                    if member.isfile():
                        out[member.name.lstrip("./")] = t.extractfile(member).read()
        return out, raw

    def write(self, rel, text):
        path = os.path.join(self.tmp, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(textwrap.dedent(text))

    def test_keys_reach_the_build(self):
        drayt.write_image(self.tmp, "sec", [
            "FROM scratch",
            "COPY busybox /bin/busybox",
            "RUN --mount=type=secret,id=tok --mount=type=secret,id=envtok "
            '["/bin/busybox", "sh", "-c", "/bin/busybox md5sum /run/secrets/tok '
            '/run/secrets/envtok > /secrets.md5"]'])
        drayt.write_image(self.tmp, "hosts", [
            "FROM scratch",
            "COPY busybox /bin/busybox",
            'RUN ["/bin/busybox", "sh", "-c", "/bin/busybox cat /etc/hosts > /hosts.txt"]'])
        drayt.write_image(self.tmp, "staged", [
            "FROM scratch AS first",
            "COPY id.txt /first.txt",
            "FROM first AS second",
            "COPY id.txt /second.txt"])
        with open(os.path.join(self.tmp, "tok.txt"), "w") as f:
            f.write(SECRET_FILE)
        reg = self.registry
        self.write("compose.yaml", f"""\
            secrets:
              tok:
                file: ./tok.txt
              envtok:
                environment: DRAY_T_ENV_SECRET
            services:
              sec:
                image: {reg}/sec
                build:
                  context: sec
                  secrets: [tok, {{source: envtok, target: envtok}}]
                  labels:
                    org.example.team: builders
                    quoted: "two words"
              hosts:
                image: {reg}/hosts
                build:
                  context: hosts
                  extra_hosts: ["myhost.internal:10.1.2.3", "other=10.4.5.6"]
              staged:
                image: {reg}/staged:v1
                build:
                  context: staged
                  target: first
                  tags: ["{reg}/staged:also", "{reg}/staged-mirror:m"]
              inline:
                image: {reg}/inline
                build:
                  context: sec
                  dockerfile_inline: |
                    FROM scratch
                    COPY busybox /bin/inline-busybox
            """)
        env = self.env()
        env["DRAY_T_ENV_SECRET"] = SECRET_ENV
        p = self.run_with_env(env, "run", "--network", "none", "-f", "compose.yaml")
        self.assertEqual(p.returncode, 0, self.explain())
        report = self.load_report()
        images = {i["name"]: i for i in report["images"]}
        for name, img in images.items():
            self.assertEqual(img["status"], "pushed", name)
            self.assertTrue(img["verified"], name)

        # secrets: both readable in the RUN step, neither in any layer
        files, raw = self.files(f"{reg}/sec:latest")
        sums = files["secrets.md5"].decode()
        self.assertIn(hashlib.md5(SECRET_FILE.encode()).hexdigest(), sums)
        self.assertIn(hashlib.md5(SECRET_ENV.encode()).hexdigest(), sums)
        self.assertNotIn(SECRET_FILE.encode(), raw)
        self.assertNotIn(SECRET_ENV.encode(), raw)
        self.assertNotIn(SECRET_ENV, json.dumps(self.config(f"{reg}/sec:latest")))
        # labels: in the image's config
        labels = self.config(f"{reg}/sec:latest")["config"]["Labels"]
        self.assertEqual(labels.get("org.example.team"), "builders")
        self.assertEqual(labels.get("quoted"), "two words")

        # extra_hosts: in /etc/hosts during RUN
        files, _ = self.files(f"{reg}/hosts:latest")
        hosts = files["hosts.txt"].decode()
        self.assertRegex(hosts, r"10\.1\.2\.3\s+myhost\.internal")
        self.assertRegex(hosts, r"10\.4\.5\.6\s+other")

        # target: the first stage only; every build.tags reference pushed
        files, _ = self.files(f"{reg}/staged:v1")
        self.assertIn("first.txt", files)
        self.assertNotIn("second.txt", files)
        refs = images["staged"]["references"]
        self.assertEqual(refs, [f"{reg}/staged:v1", f"{reg}/staged:also",
                                f"{reg}/staged-mirror:m"])
        for ref in refs:
            self.assertEqual(self.registry_digest(ref), images["staged"]["digest"], ref)

        # dockerfile_inline: built from the text in the compose file
        files, _ = self.files(f"{reg}/inline:latest")
        self.assertIn("bin/inline-busybox", files)

    def test_unsupported_key_refused_at_plan_time(self):
        drayt.write_image(self.tmp, "app")
        self.write("compose.yaml", """\
            services:
              app:
                build:
                  context: app
                  cache_to: [type=inline]
            """)
        p = self.run_dray("plan", "-f", "compose.yaml")
        self.assertEqual(p.returncode, 2, self.explain())
        self.assertIn("compose.yaml:5: service \"app\": build.cache_to cannot be done by docker "
                      "build", p.stderr)
        p = self.run_dray("plan", "--ignore-unsupported", "-f", "compose.yaml")
        self.assertEqual(p.returncode, 0, self.explain())
        self.assertIn("build.cache_to ignored", p.stderr)

    def test_nothing_to_build(self):
        self.write("compose.yaml", "services:\n  db:\n    image: postgres:16\n")
        p = self.run_dray("run", "-f", "compose.yaml")
        self.assertEqual(p.returncode, 0, self.explain())
        self.assertIn("nothing to build in compose.yaml (no service has build:)", p.stderr)

    def test_two_files_merged_and_include(self):
        """-f base -f override and an include: built as merged, then pushed."""
        drayt.write_image(self.tmp, "web", [
            "FROM scratch", "ARG FLAVOUR", "COPY busybox /bin/busybox",
            'RUN ["/bin/busybox", "sh", "-c", "echo $FLAVOUR > /flavour"]'])
        drayt.write_image(os.path.join(self.tmp, "lib"), "src")
        reg = self.registry
        self.write("compose.yaml", f"""\
            include:
              - lib/compose.yaml
            services:
              web:
                image: {reg}/web:base
                build:
                  context: web
                  args: {{FLAVOUR: base}}
                  labels: {{from: base}}
            """)
        self.write("compose.prod.yaml", f"""\
            services:
              web:
                image: {reg}/web:prod
                build:
                  args: {{FLAVOUR: prod}}
                  labels: {{also: prod}}
            """)
        # paths of an included file are relative to it
        self.write("lib/compose.yaml", f"""\
            services:
              lib:
                image: {reg}/lib:1
                build: src
            """)
        p = self.run_dray("run", "--network", "none", "-f", "compose.yaml",
                          "-f", "compose.prod.yaml")
        self.assertEqual(p.returncode, 0, self.explain())
        images = {i["name"]: i for i in self.load_report()["images"]}
        self.assertEqual(sorted(images), ["lib", "web"])
        self.assertEqual(images["web"]["references"], [f"{reg}/web:prod"])
        files, _ = self.files(f"{reg}/web:prod")
        self.assertEqual(files["flavour"].decode().strip(), "prod")
        labels = self.config(f"{reg}/web:prod")["config"]["Labels"]
        self.assertEqual(labels, {"from": "base", "also": "prod"})
        self.assertEqual(self.registry_digest(f"{reg}/lib:1"), images["lib"]["digest"])
        files, _ = self.files(f"{reg}/lib:1")
        self.assertIn("id.txt", files)

    def test_project_from_the_environment_and_json_plan(self):
        """COMPOSE_FILE (two files), COMPOSE_PROFILES and COMPOSE_PROJECT_NAME
        reach the plan; plan --format json names every reference and the
        command that builds it."""
        drayt.write_image(self.tmp, "app")
        self.write("base.yaml", """\
            services:
              app:
                build: {context: app, args: {A: base}}
              tool:
                profiles: [tools]
                build: app
            """)
        self.write("more.yaml", """\
            services:
              app:
                build: {args: {A: more}, tags: ["${REG}/mirror:m"]}
            """)
        env = self.env()
        env["COMPOSE_FILE"] = "base.yaml:more.yaml"
        env["COMPOSE_PROFILES"] = "tools"
        env["COMPOSE_PROJECT_NAME"] = "Shop"
        env["REG"] = self.registry
        p = self.run_with_env(env, "plan", "--format", "json")
        self.assertEqual(p.returncode, 0, self.explain())
        doc = json.loads(p.stdout)
        self.assertEqual(doc["version"], 1)
        images = {i["name"]: i for i in doc["images"]}
        self.assertEqual(sorted(images), ["app", "tool"])
        app = images["app"]
        self.assertEqual(app["references"], [f"{self.registry}/shop-app:latest",
                                             f"{self.registry}/mirror:m"])
        self.assertEqual(app["args"], ["A=more"])
        self.assertEqual(app["build_command"][-1], os.path.join(self.tmp, "app"))
        self.assertIn(f"{self.registry}/mirror:m", app["build_command"])
        del env["COMPOSE_PROFILES"]
        p = self.run_with_env(env, "plan", "--format", "json")
        self.assertEqual([i["name"] for i in json.loads(p.stdout)["images"]], ["app"])

    def run_with_env(self, env, command, *args):
        """run_dray with ENV (the test's, changed) for dray."""
        p = subprocess.run(self.dray_argv(command, *args), env=env, cwd=self.tmp,
                           capture_output=True, text=True, timeout=300)
        self.last = p
        return p


if __name__ == "__main__":
    unittest.main()
