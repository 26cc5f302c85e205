#!/usr/bin/env python3
"""--engine-cmd podman: the CLI paths work with podman too. podman builds into
its own store (vfs, in this test's folder), so dray pushes with
"podman push --digestfile" whatever the Docker engine says; the registry must
then serve the digests dray reports.

With --push-driver registry dray reads each image with "podman save
--format docker-archive" and uploads its blobs itself: the registry's config
digest is podman's image ID, a base shared by several images reaches the
registry once, and --skip-existing then pushes nothing."""
import http.client
import json
import os
import shutil
import subprocess
import unittest

import drayt


class PodmanEnv:
    """podman with a vfs store and a registries.conf of the test's own."""

    def env(self):
        env = super().env()
        store = os.path.join(self.tmp, "podman")
        conf = os.path.join(self.tmp, "storage.conf")
        with open(conf, "w") as f:
            f.write(f'[storage]\ndriver = "vfs"\nrunroot = "{store}/run"\ngraphroot = "{store}/graph"\n')
        regs = os.path.join(self.tmp, "registries.conf")
        with open(regs, "w") as f:  # a loopback registry speaks plain HTTP
            f.write(f'[[registry]]\nlocation = "{self.svc["registry"]}"\ninsecure = true\n')
        env["CONTAINERS_STORAGE_CONF"] = conf
        env["CONTAINERS_REGISTRIES_CONF"] = regs
        return env

    def dray_argv(self, command, *args):
        argv = super().dray_argv(command, *args)
        argv[argv.index("--engine-cmd") + 1] = "podman"
        return argv

    def tearDown(self):
        # vfs layers are plain folders; podman may leave them read-only.
        store = os.path.join(self.tmp, "podman")
        for root, dirs, _ in os.walk(store):
            for d in dirs:
                try:
                    os.chmod(os.path.join(root, d), 0o755)
                except OSError:
                    pass
        super().tearDown()

    def podman(self, *args):
        p = subprocess.run(["podman", *args], env=self.env(), capture_output=True, text=True,
                           timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout


@unittest.skipIf(shutil.which("podman") is None, "podman not installed")
class PodmanTest(PodmanEnv, drayt.DrayTestCase):
    def test_build_and_push_with_podman(self):
        drayt.write_image(self.tmp, "base", [
            "FROM scratch", "COPY busybox /bin/busybox", "COPY id.txt /id.txt",
            'RUN ["/bin/busybox", "sh", "-c", "echo podman > /built-by"]'])
        drayt.write_child_image(self.tmp, "child", f"{self.registry}/base:latest")
        drayt.write_image(self.tmp, "solo")
        p = self.run_dray("run", "-j", "2", "-p", "2", "--network", "none", ".")
        self.assertEqual(p.returncode, 0, self.explain())
        report = self.load_report()
        images = {i["name"]: i for i in report["images"]}
        self.assertEqual(images["child"]["depends_on"], ["base"])
        for name, img in images.items():
            self.assertEqual(img["status"], "pushed", name)
            self.assertRegex(img["image_id"] or "", r"^sha256:[0-9a-f]{64}$")
            self.assertEqual(self.registry_digest(img["references"][0]), img["digest"], name)
            self.assertTrue(img["verified"], name)
        with open(images["base"]["log"]) as f:
            log = f.read()
        self.assertIn("podman build", log)
        self.assertIn("podman push --digestfile", log)

        # Again with --skip-existing: podman pushed each image's config as it
        # is, so the registry's manifests have podman's image IDs: no push.
        # (push: a rebuild may miss podman's cache and make a new image ID)
        p = self.run_dray("push", "-p", "2", "--skip-existing", ".")
        self.assertEqual(p.returncode, 0, self.explain())
        for img in self.load_report()["images"]:
            self.assertIs(img["up_to_date"], True, img["name"])
            self.assertEqual(img["digest"], images[img["name"]]["digest"], img["name"])

    def registry_index(self, reference):
        """The manifest list / OCI index the registry serves for REFERENCE,
        and its Content-Type and Docker-Content-Digest."""
        host, rest = reference.split("/", 1)
        repo, tag = rest.rsplit(":", 1)
        c = http.client.HTTPConnection(host, timeout=10)
        c.request("GET", f"/v2/{repo}/manifests/{tag}", headers={"Accept": ", ".join([
            "application/vnd.oci.image.index.v1+json",
            "application/vnd.docker.distribution.manifest.list.v2+json"])})
        r = c.getresponse()
        body = r.read()
        c.close()
        self.assertEqual(r.status, 200, reference)
        return json.loads(body), r.getheader("Content-Type"), r.getheader("Docker-Content-Digest")

    def test_multi_platform_manifest_list(self):
        """Two platforms, no emulation (FROM scratch + COPY): one index per
        image listing both, pushed to every tag and verified; the report's
        digest is the index's. One image from build.platforms, one from
        --platform; an image built twice is still a list of two (podman's
        list of the first run is not added to)."""
        drayt.write_image(self.tmp, "app")
        drayt.write_image(self.tmp, "tool")
        with open(os.path.join(self.tmp, "compose.yaml"), "w") as f:
            f.write(
                "services:\n"
                "  app:\n"
                f"    image: {self.registry}/app:1\n"
                "    build:\n"
                "      context: ./app\n"
                "      no_cache: true\n"  # podman 4 reuses a platform's cache for another
                "      platforms: [linux/amd64, linux/arm64]\n"
                f"      tags: [\"{self.registry}/app:edge\"]\n"
                "  tool:\n"
                f"    image: {self.registry}/tool:1\n"
                "    build: ./tool\n")
        for attempt in range(2):
            p = self.run_dray("run", "-f", "compose.yaml", "--no-cache",
                              "--platform", "linux/arm64,linux/amd64")
            self.assertEqual(p.returncode, 0, self.explain())
            images = {i["name"]: i for i in self.load_report()["images"]}
            for name, refs in (("app", ["app:1", "app:edge"]), ("tool", ["tool:1"])):
                img = images[name]
                self.assertEqual(img["status"], "pushed", name)
                self.assertTrue(img["verified"], name)
                self.assertEqual(sorted(img["references"]),
                                 [f"{self.registry}/{r}" for r in refs], name)
                for ref in img["references"]:
                    index, ctype, digest = self.registry_index(ref)
                    self.assertIn(ctype, ("application/vnd.oci.image.index.v1+json",
                                          "application/vnd.docker.distribution.manifest.list.v2+json"))
                    self.assertEqual(digest, img["digest"], ref)
                    platforms = sorted(f'{m["platform"]["os"]}/{m["platform"]["architecture"]}'
                                       for m in index["manifests"])
                    self.assertEqual(platforms, ["linux/amd64", "linux/arm64"], (ref, attempt))
            with open(images["app"]["log"]) as f:
                log = f.read()
            self.assertIn("podman build", log)
            self.assertIn(f"--manifest {self.registry}/app:1", log)
            self.assertIn(f"podman manifest push --all --digestfile", log)
            self.assertIn(f"docker://{self.registry}/app:edge", log)

    def test_engine_driver_refused_for_podman(self):
        drayt.write_image(self.tmp, "x")
        p = self.run_dray("run", "--push-driver", "engine", ".")
        self.assertEqual(p.returncode, 2)
        self.assertIn("podman", p.stderr)


@unittest.skipIf(shutil.which("podman") is None, "podman not installed")
class PodmanRegistryPushTest(PodmanEnv, drayt.FaultTestCase):

    def test_registry_driver_pushes_podman_images(self):
        reg = self.start_registry()
        proxy = self.start_proxy(reg.addr)  # no faults: it counts what reaches the registry
        self.use_registry(proxy.addr)
        drayt.write_image(self.tmp, "base", [
            "FROM scratch", "COPY busybox /bin/busybox", "COPY id.txt /id.txt",
            'RUN ["/bin/busybox", "sh", "-c", "echo podman > /built-by"]'])
        for name in ("child1", "child2", "child3"):
            drayt.write_child_image(self.tmp, name, f"{self.registry}/base:latest")
        p = self.run_dray("run", "--push-driver", "registry", "-j", "2", "-p", "3",
                          "--network", "none", "--stall-timeout", "10", ".")
        self.assertEqual(p.returncode, 0, self.explain())
        report = self.load_report()
        self.assertEqual(len(report["images"]), 4)
        self.check_report(report, reg)
        unique = {}
        base_layers = None
        for img in report["images"]:
            ref = img["references"][0]
            m = reg.manifest(ref)
            # The manifest podman's own push would send: the type it keeps
            # for the image (OCI for what it builds).
            kept = self.podman("image", "inspect", "--format", "{{.ManifestType}}", ref).strip()
            self.assertEqual(kept, "application/vnd.oci.image.manifest.v1+json")
            self.assertEqual(m["mediaType"], kept)
            # The config went up byte for byte: its digest is podman's image ID.
            local = "sha256:" + self.podman("image", "inspect", "--format", "{{.Id}}",
                                            ref).strip()
            self.assertEqual(m["config"]["digest"], local, ref)
            self.assertEqual(img["image_id"], local, ref)
            layers = [b["digest"] for b in m["layers"]]
            if img["name"] == "base":
                base_layers = layers
            for blob in [m["config"]] + m["layers"]:
                unique[blob["digest"]] = blob["size"]
            with open(img["log"]) as f:
                log = f.read()
            self.assertIn("podman build", log)
            self.assertNotIn("podman push", log)
        for img in report["images"]:  # every child holds the base's layers
            m = reg.manifest(img["references"][0])
            self.assertEqual([b["digest"] for b in m["layers"]][:len(base_layers)], base_layers)
        # Each unique blob reached the registry once: the shared base too.
        self.assertGreater(max(unique.values()), 500 * 1024)  # busybox
        self.assertEqual(sum(e["bytes"] for e in proxy.events("body")
                             if e["request"].startswith("PATCH ")), sum(unique.values()))

        # Again with --skip-existing: the registry's manifests have podman's
        # image IDs as their configs, so nothing is pushed.
        first = {i["name"]: i["digest"] for i in report["images"]}
        # (push: a rebuild may miss podman's cache and make a new image ID)
        p = self.run_dray("push", "--push-driver", "registry", "--skip-existing", "-p", "3", ".")
        self.assertEqual(p.returncode, 0, self.explain())
        for img in self.load_report()["images"]:
            self.assertIs(img["up_to_date"], True, img["name"])
            self.assertEqual(img["digest"], first[img["name"]], img["name"])

    def test_registry_driver_refuses_a_manifest_list(self):
        """podman keeps an image for several platforms as a list, which only
        its CLI pushes: refused with a word on what to use, nothing pushed."""
        reg = self.start_registry()
        self.use_registry(reg.addr)
        drayt.write_image(self.tmp, "multi")
        p = self.run_dray("run", "--push-driver", "registry", "--retries", "0", "--no-cache",
                          "--platform", "linux/amd64,linux/arm64", ".")
        self.assertEqual(p.returncode, 1, self.explain())
        self.assertIn("not a manifest list", p.stdout + p.stderr)
        self.assertIn("--push-driver cli", p.stdout + p.stderr)
        self.check_report(self.load_report(), reg, expect_pushed=False)

    def test_registry_driver_missing_image(self):
        """An image podman does not have: a clear error, the push fails."""
        reg = self.start_registry()
        self.use_registry(reg.addr)
        drayt.write_image(self.tmp, "x")
        p = self.run_dray("push", "--push-driver", "registry", ".")
        self.assertNotEqual(p.returncode, 0, self.explain())
        self.assertIn("image not known", p.stdout + p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
