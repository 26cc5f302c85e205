#!/usr/bin/env python3
"""--push-driver registry: dray reads each image from the real engine and
uploads its blobs to a real docker-registry itself.

- Pushed images are served by the registry with the digests dray reported,
  and an image pulled back by another engine (podman) has the local image ID;
  --skip-existing then pushes nothing.
- A base layer shared by 10 images reaches the registry once (the bytes the
  proxy forwarded are the unique blob bytes, not one byte more), and the
  registry's challenge (GET /v2/) is asked once, not once per blob.
- A front end that hangs 15% of connections for good and resets 5%: every
  image pushed and verified, exit 0 (with --retries 6: see the test); what
  dray wrote names upload sessions without the registry's signed state.
- A connection reset at the start of a chunk: the upload resumes from the
  registry's offset (counted in the report); reset in the middle of one:
  fewer than twice the blob's bytes reach the registry.
- A registry killed (SIGKILL) after the first image is pushed and restarted
  3 s later on the same port and storage: every image pushed and verified.
- A registry that answers 507: a clear error per image, exit 1, no manifest.
- A registry that wants Basic auth (config.json "auths"): pushed and
  verified, and the password is nowhere dray writes.
- Anonymous at GET /v2/, Basic credentials asked on writes only (the fault
  proxy's --auth-writes, as nginx's auth on POST/PUT/PATCH): the first
  writes are refused with the challenge, which dray answers and keeps; every
  image pushed in one attempt, a push that starts later not refused at all.
- Every layer upload stalls for good: each attempt ends "stalled" after two
  stall timeouts (one stalled request is tried again, not more).
- A registry that is dead: nothing listens on its port, or every connection
  is reset. With the default retries and retry delay, each push attempt
  ends within seconds (the upload's failure streak, upload.h; no retry
  loop nested in another), every image fails with the typed reason and an
  error naming the registry, exit 1, the whole run bounded.
"""
import base64
import os
import shutil
import subprocess
import time
import types
import unittest

import drayt
import services

STALL = 3


class RegistryPushTest(drayt.FaultTestCase):
    def push(self, *args, timeout=300):
        return self.run_dray("run", "--push-driver", "registry", "--network", "none",
                             "--stall-timeout", str(STALL), *args, ".", timeout=timeout)

    def write_blob_image(self, name, nbytes):
        """An image with a layer of NBYTES random (incompressible) bytes."""
        d = drayt.write_image(self.tmp, name, ["FROM scratch", "COPY busybox /bin/busybox",
                                               "COPY blob.bin /blob.bin"])
        with open(os.path.join(d, "blob.bin"), "wb") as f:
            f.write(os.urandom(nbytes))

    def write_basic_login(self, addr, user, password):
        """config.json "auths" for ADDR, as `docker login` leaves it."""
        self.write_docker_config({"auths": {addr: {
            "auth": base64.b64encode(f"{user}:{password}".encode()).decode()}}})

    def forwarded(self, proxy, method="PATCH"):
        """Request body bytes the proxy forwarded to the registry."""
        return sum(e["bytes"] for e in proxy.events("body")
                   if e["request"].startswith(method + " "))


    def test_pushed_images_pull_with_the_same_id(self):
        reg = self.start_registry()
        self.use_registry(reg.addr)
        names = self.write_images(3, blob=64 * 1024)
        p = self.push("-p", "2")
        self.assertEqual(p.returncode, 0, self.explain())
        report = self.load_report()
        self.assertEqual(sorted(i["name"] for i in report["images"]), sorted(names))
        self.check_report(report, reg)
        for img in report["images"]:
            m = reg.manifest(img["references"][0])
            self.assertEqual(m["mediaType"], "application/vnd.docker.distribution.manifest.v2+json")
            self.assertEqual(m["config"]["digest"], img["image_id"])  # the image ID survives
            self.assertEqual(len(m["layers"]), 3)

        # Again with --skip-existing: the registry's manifest has each local
        # image's config, so nothing is pushed (the engine's RepoDigests know
        # nothing of dray's own uploads).
        first = report
        p = self.push("-p", "2", "--skip-existing")
        self.assertEqual(p.returncode, 0, self.explain())
        report = self.load_report()
        for img in report["images"]:
            self.assertIs(img["up_to_date"], True, img["name"])
            before = [i for i in first["images"] if i["name"] == img["name"]][0]
            self.assertEqual(img["digest"], before["digest"])

        # Another engine pulls one back: the same image ID.
        podman = shutil.which("podman")
        if not podman:
            self.skipTest("podman is not installed: no second engine to pull with")
        ref = report["images"][0]["references"][0]
        root = os.path.join(self.tmp, "podman")
        base = [podman, "--root", os.path.join(root, "store"), "--runroot",
                os.path.join(root, "run"), "--storage-driver", "vfs"]
        pull = subprocess.run(base + ["pull", "--tls-verify=false", "-q", ref],
                              capture_output=True, text=True, timeout=120)
        self.assertEqual(pull.returncode, 0, pull.stderr)
        got = subprocess.run(base + ["image", "inspect", "--format", "{{.Id}}", ref],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(got.returncode, 0, got.stderr)
        self.assertEqual("sha256:" + got.stdout.strip(), report["images"][0]["image_id"])
        subprocess.run(base + ["rmi", "-a", "-f"], capture_output=True, timeout=60)

    def test_shared_base_is_uploaded_once(self):
        reg = self.start_registry()
        proxy = self.start_proxy(reg.addr)  # no faults: it counts what reaches the registry
        self.use_registry(proxy.addr)
        self.write_images(10)  # busybox (shared) and a small layer each
        p = self.push("-p", "4")
        self.assertEqual(p.returncode, 0, self.explain())
        report = self.load_report()
        self.check_report(report, reg)
        unique = {}
        for img in report["images"]:
            m = reg.manifest(img["references"][0])
            for blob in [m["config"]] + m["layers"]:
                unique[blob["digest"]] = blob["size"]
        base = max(unique.values())  # the busybox layer
        self.assertGreater(base, 500 * 1024)
        self.assertEqual(self.forwarded(proxy), sum(unique.values()))
        # Mounted where another repository had it: 9 mounts of the base at least.
        mounts = [e for e in proxy.events("request") if "mount=" in e["request"]]
        self.assertGreaterEqual(len(mounts), 9)
        # The registry's challenge is asked once, not before each of the 30
        # blobs (only pushes that start together may each ask it).
        pings = [e for e in proxy.events("request") if e["request"].startswith("GET /v2/ ")]
        self.assertGreaterEqual(len(pings), 1)
        self.assertLess(len(pings), 10)

    def test_hanging_and_resetting_front_end(self):
        reg = self.start_registry()
        proxy = self.start_proxy(reg.addr, "--hang-fraction", 0.15, "--reset-fraction", 0.05,
                                 "--seed", 8, lifetime=400)
        self.use_registry(proxy.addr)
        names = self.write_images(12, blob=256 * 1024)
        # A hung request after any other failure ends an attempt (upload.h's
        # streak). Measured here: 1 attempt in 3 fails, a retry (its blobs
        # mostly there already) about 1 in 6. Seven attempts make an image
        # that fails them all a chance of about 1e-5; with four, some runs
        # in a hundred lost one.
        p = self.push("-p", "3", "--retries", "6", "--retry-delay", "1", timeout=400)
        self.assertEqual(p.returncode, 0, self.explain())
        report = self.load_report()
        self.assertEqual(sorted(i["name"] for i in report["images"]), sorted(names))
        self.check_report(report, reg)
        # The proxy really hung and reset connections.
        self.assertGreater(len(proxy.events("hang")), 0)
        self.assertGreater(len(proxy.events("reset")), 0)
        # Failed requests were noted, naming upload sessions without the
        # registry's signed state (dray_http_url_shown).
        texts = self.outputs()
        self.assertTrue(any("/blobs/uploads/" in t for t in texts.values()))
        for name, text in texts.items():
            self.assertNotIn("_state=", text, name)

    def push_cut(self, reset_after):
        """A 20 MiB blob whose second 8 MiB chunk has its connection reset
        after RESET_AFTER of its bytes reached the registry: the image is
        pushed all the same. Returns the proxy, the report and the size."""
        reg = self.start_registry()
        proxy = self.start_proxy(reg.addr, "--reset-match", r"^Content-Range: 8388608-",
                                 "--reset-after", reset_after)
        self.use_registry(proxy.addr)
        size = 20 * 1024 * 1024
        self.write_blob_image("big", size)
        p = self.push()
        self.assertEqual(p.returncode, 0, self.explain())
        report = self.load_report()
        self.check_report(report, reg)
        self.assertEqual(len(proxy.events("cut")), 1)
        return proxy, report, size

    def test_reset_at_a_chunk_resumes(self):
        # Reset before the chunk reaches the registry: the session keeps
        # the first chunk, and the upload goes on from there.
        proxy, report, size = self.push_cut(0)
        self.assertGreaterEqual(report["resumed_uploads"], 1)
        self.assertGreaterEqual(report["bytes_saved_by_resume"], 8 * 1024 * 1024)
        self.assertEqual(report["images"][0]["resumed_uploads"], report["resumed_uploads"])
        self.assertIn("resumed where the registry had stopped", self.last.stdout)
        self.assertLess(self.forwarded(proxy), size + size // 10)

    def test_reset_mid_chunk_sends_less_than_twice(self):
        # Cut 4 MiB into the chunk: docker's registry then drops the session
        # (its state no longer matches what it holds), the upload starts
        # again, and still less than twice the blob reaches the registry.
        proxy, _, size = self.push_cut(4 * 1024 * 1024)
        self.assertLess(self.forwarded(proxy), 2 * size)

    def test_registry_killed_and_restarted(self):
        reg = self.start_registry()
        self.use_registry(reg.addr)
        names = self.write_images(6, blob=512 * 1024)
        proc = self.start_dray("run", "--push-driver", "registry", "-j", "2", "-p", "2",
                               "--network", "none", "--stall-timeout", str(STALL),
                               "--retries", "4", "--retry-delay", "1", ".")
        lines = []
        try:
            first = drayt.read_lines_until(proc, r"\bpushed\s+(\S+)", 120, lines)
            self.assertTrue(first, "".join(lines))
            reg.kill()
            time.sleep(3)
            reg.start()
            out, err = proc.communicate(timeout=180)
        finally:
            drayt.stop_process(proc)
        self.last = types.SimpleNamespace(stdout=out, stderr="".join(lines) + err)
        self.assertEqual(proc.returncode, 0, self.explain())
        report = self.load_report()
        self.assertEqual(sorted(i["name"] for i in report["images"]), sorted(names))
        self.check_report(report, reg)

    def test_basic_auth(self):
        user, password = "dtest-user", "Pw-" + os.urandom(8).hex()
        reg = self.start_registry(users={user: password})
        self.use_registry(reg.addr)
        self.write_basic_login(reg.addr, user, password)
        self.write_images(2)
        p = self.push("-p", "2")
        self.assertEqual(p.returncode, 0, self.explain())
        report = self.load_report()
        self.check_report(report, reg)
        for where, text in self.outputs().items():
            self.assertNotIn(password, text, where)

    def test_credentials_asked_on_writes_only(self):
        # Anonymous pull, credentials for writes (nginx's auth on POST/PUT/
        # PATCH in front of the registry): GET /v2/ asks for nothing, the
        # first write is refused with a Basic challenge, which dray answers
        # and keeps for the host.
        user, password = "dtest-writer", "Pw-" + os.urandom(8).hex()
        reg = self.start_registry()
        proxy = self.start_proxy(reg.addr, "--auth-writes", f"{user}:{password}")
        self.use_registry(proxy.addr)
        self.write_basic_login(proxy.addr, user, password)
        self.write_images(3)
        p = self.push("-p", "2")
        self.assertEqual(p.returncode, 0, self.explain())
        report = self.load_report()
        self.check_report(report, reg)
        for img in report["images"]:
            self.assertEqual(len([a for a in img["attempts"] if a["phase"] == "push"]), 1, img)
        # Refused only before the challenge was kept: the uploads that began
        # with the first two pushes; the third push starts after one of
        # them has ended, and writes with credentials from its first request.
        refused = proxy.events("unauthorized")
        self.assertGreaterEqual(len(refused), 1)
        last = max(report["images"], key=lambda i: i["attempts"][-1]["start"])["name"]
        self.assertEqual([e for e in refused if f"/{last}/" in e["request"]], [], refused)
        writes = [e for e in proxy.events("request") if f"/{last}/" in e["request"]
                  and e["request"].startswith(("POST ", "PUT ", "PATCH "))]
        self.assertGreater(len(writes), 0)
        for where, text in self.outputs().items():
            self.assertNotIn(password, text, where)

    def test_insufficient_storage_fails_without_a_manifest(self):
        reg = self.start_registry()
        proxy = self.start_proxy(reg.addr, "--status-first", 1000, "--status", 507,
                                 "--status-match", r"^POST .*/blobs/uploads/")
        self.use_registry(proxy.addr)
        self.write_images(2)
        p = self.push("--retries", "1", "--retry-delay", "1")
        self.assertEqual(p.returncode, 1, self.explain())
        report = self.load_report()
        self.check_report(report, reg, expect_pushed=False)
        for img in report["images"]:
            self.assertIn("HTTP 507", img["error"])
            self.assertIn("insufficient storage", img["error"])
        self.assertFalse([e for e in proxy.events("request") if "/manifests/" in e["request"]
                          and e["request"].startswith("PUT ")])

    def test_permanent_stall_ends_each_attempt(self):
        # Every layer upload stops after 64 KiB for good (held, not read):
        # the first stalled request is cut by the watchdog and tried again,
        # the second ends the attempt (the streak has lasted the stall
        # timeout): reason "stalled", each attempt about two stall timeouts.
        # One push at a time: two pushes sharing the busybox layer would
        # wait for each other's upload of it (blobtrack) before their own.
        reg = self.start_registry()
        proxy = self.start_proxy(reg.addr, "--stall-after", 65536, "--stall-count", 1000,
                                 "--stall-match", r"^PATCH ")
        self.use_registry(proxy.addr)
        self.write_images(2, blob=256 * 1024)
        t0 = time.time()
        p = self.push("-p", "1", "--retries", "1", "--retry-delay", "1", timeout=180)
        elapsed = time.time() - t0
        self.assertEqual(p.returncode, 1, self.explain())
        report = self.load_report()
        self.check_report(report, reg, expect_pushed=False)
        for img in report["images"]:
            self.assertEqual(img["reason"], "stalled", img)
            pushes = self.push_attempts(img)
            self.assertEqual(len(pushes), 2, img)
            for a in pushes:
                self.assertEqual(a["result"], "stalled", a)
                self.assertIn(f"no progress for {STALL} s", a["error"])
                took = a["end"] - a["start"]
                self.assertGreaterEqual(took, 2 * STALL - 0.5, a)
                self.assertLess(took, 2 * STALL + 4, a)
        self.assertLess(elapsed, 30 + 4 * (2 * STALL + 4) + 3)

    def push_to_dead(self, addr, reason, text, registry=None):
        """Two images pushed to ADDR, which never takes anything, with the
        default --retries (2), --retry-delay (2 s) and --stall-timeout (60 s):
        exit 1, each image failed with REASON after 3 attempts, its error
        naming ADDR and saying TEXT. Returns the run's wall time."""
        self.use_registry(addr)
        names = self.write_images(2)
        t0 = time.time()
        p = self.run_dray("run", "--push-driver", "registry", "--network", "none", ".",
                          timeout=600)
        elapsed = time.time() - t0
        self.assertEqual(p.returncode, 1, self.explain())
        report = self.load_report()
        self.assertEqual(report["exit_code"], 1)
        self.assertEqual(sorted(i["name"] for i in report["images"]), names)
        self.check_report(report, registry, expect_pushed=False)
        for img in report["images"]:
            self.assertEqual(img["reason"], reason, img)
            self.assertIn(addr, img["error"], img)
            self.assertIn(text, img["error"].lower(), img)
            self.assertIn(f"{img['name']}: ", p.stdout)  # the summary says why
            pushes = self.push_attempts(img)
            self.assertEqual(len(pushes), 3, img)  # the default budget: 1 + 2 retries
            for a in pushes:
                self.assertEqual(a["result"], reason, a)
                # A streak of fast failures: seconds, not the stall timeout.
                self.assertLess(a["end"] - a["start"], 5, a)
        # Builds (seconds), 3 short attempts per image, the scheduler's waits
        # of [1, 2) and [2, 4) s: far from the minutes a nested retry took.
        self.assertLess(elapsed, 45, report)
        print(f"\n{self.id()}: {elapsed:.1f} s wall, report {report['seconds']:.1f} s")
        return elapsed

    def test_nothing_listening_fails_fast(self):
        addr = f"127.0.0.1:{services.free_port()}"
        self.push_to_dead(addr, "network", "connect")

    def test_every_connection_reset_fails_fast(self):
        reg = self.start_registry()
        proxy = self.start_proxy(reg.addr, "--reset-first", 1000000)
        self.push_to_dead(proxy.addr, "reset", "connection reset", reg)
        # Nothing got past the proxy: every connection was reset.
        self.assertGreater(len(proxy.events("reset")), 0)
        self.assertEqual(proxy.events("body"), [])


if __name__ == "__main__":
    unittest.main()
