#!/usr/bin/env python3
"""--engine-cmd podman: the CLI paths work with podman too. podman builds into
its own store (vfs, in this test's folder), so dray pushes with
"podman push --digestfile" whatever the Docker engine says; the registry must
then serve the digests dray reports."""
import os
import shutil
import unittest

import drayt


@unittest.skipIf(shutil.which("podman") is None, "podman not installed")
class PodmanTest(drayt.DrayTestCase):
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

    def test_engine_driver_refused_for_podman(self):
        drayt.write_image(self.tmp, "x")
        p = self.run_dray("run", "--push-driver", "engine", ".")
        self.assertEqual(p.returncode, 2)
        self.assertIn("podman", p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
