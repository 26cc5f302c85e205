"""Shared helpers of the integration tests: the services the fixture started,
image trees written FROM scratch with busybox, running dray, asking the
registry over its HTTP API, and finding processes a run may have left."""
import http.client
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
import uuid

STATE = os.environ.get("DRAY_TEST_STATE") or os.path.join(tempfile.gettempdir(), "dray-test-state")
DRAY = os.environ.get("DRAY_BIN", "dray")
# Debian's client: it has BuildKit built in. A newer /usr/local/bin/docker
# without buildx may shadow it on PATH.
DOCKER = "/usr/bin/docker" if os.access("/usr/bin/docker", os.X_OK) else "docker"

MANIFEST_ACCEPT = ", ".join([
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
])


def services():
    with open(os.path.join(STATE, "services.json")) as f:
        return json.load(f)


def write_image(root, name, lines=None, extra_files=None):
    """A folder ROOT/NAME with a Dockerfile FROM scratch + busybox and a file
    unique to it, so that each image pushes a layer of its own."""
    d = os.path.join(root, name)
    os.makedirs(d, exist_ok=True)
    shutil.copy("/bin/busybox", os.path.join(d, "busybox"))
    with open(os.path.join(d, "id.txt"), "w") as f:
        f.write(f"{name} {uuid.uuid4()}\n")
    for fname, content in (extra_files or {}).items():
        with open(os.path.join(d, fname), "w") as f:
            f.write(content)
    body = lines if lines is not None else [
        "FROM scratch", "COPY busybox /bin/busybox", "COPY id.txt /id.txt"]
    with open(os.path.join(d, "Dockerfile"), "w") as f:
        f.write("\n".join(body) + "\n")
    return d


def write_child_image(root, name, base_ref, run=None):
    """An image built FROM another image of the same run."""
    lines = [f"FROM {base_ref}", "COPY id.txt /id-child.txt"]
    if run:
        lines.append(f'RUN ["/bin/busybox", "sh", "-c", "{run}"]')
    return write_image(root, name, lines)


class DrayTestCase(unittest.TestCase):
    """Each test gets a fresh folder and a registry namespace of its own."""

    def setUp(self):
        self.svc = services()
        self.tmp = tempfile.mkdtemp(prefix="dray-it-")
        self.ns = f"{self.id().split('.')[-1].replace('_', '-')}-{uuid.uuid4().hex[:6]}".lower()
        self.registry = f"{self.svc['registry']}/{self.ns}"
        self.marker = uuid.uuid4().hex
        self.report = os.path.join(self.tmp, "report.json")

    def tearDown(self):
        if os.environ.get("DRAY_KEEP_TEST_DIRS"):
            print("kept", self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def env(self):
        env = dict(os.environ)
        env["DOCKER_HOST"] = self.svc["docker_host"]
        env["DOCKER_BUILDKIT"] = "1"
        # Every process dray starts inherits this: how leftovers are found.
        env["DRAY_TEST_MARKER"] = self.marker
        return env

    def dray_argv(self, command, *args):
        return [DRAY, command, "--engine-cmd", DOCKER, "--registry", self.registry,
                "--log-dir", os.path.join(self.tmp, "logs"), "--report", self.report,
                "--progress", "plain", *args]

    def run_dray(self, command, *args, timeout=300):
        p = subprocess.run(self.dray_argv(command, *args), env=self.env(), cwd=self.tmp,
                           capture_output=True, text=True, timeout=timeout)
        self.last = p
        return p

    def start_dray(self, command, *args):
        return subprocess.Popen(self.dray_argv(command, *args), env=self.env(), cwd=self.tmp,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def load_report(self):
        with open(self.report) as f:
            return json.load(f)

    def explain(self):
        p = getattr(self, "last", None)
        return f"\n--- stdout\n{p.stdout}\n--- stderr\n{p.stderr}" if p else ""

    # ---- the registry, over its HTTP API ------------------------------------

    def registry_digest(self, reference):
        """Docker-Content-Digest of REFERENCE (host:port/repo:tag), or None."""
        host, rest = reference.split("/", 1)
        repo, tag = rest.rsplit(":", 1)
        c = http.client.HTTPConnection(host, timeout=10)
        c.request("HEAD", f"/v2/{repo}/manifests/{tag}", headers={"Accept": MANIFEST_ACCEPT})
        r = c.getresponse()
        r.read()
        c.close()
        if r.status != 200:
            return None
        return r.getheader("Docker-Content-Digest")

    def registry_tags(self, repo):
        c = http.client.HTTPConnection(self.svc["registry"], timeout=10)
        c.request("GET", f"/v2/{repo}/tags/list")
        r = c.getresponse()
        body = r.read()
        c.close()
        if r.status != 200:
            return []
        return json.loads(body).get("tags") or []

    # ---- processes -------------------------------------------------------------

    def marked_processes(self):
        """PIDs of live processes that carry this test's marker: anything dray
        started (and what those started) inherits it."""
        found = []
        needle = f"DRAY_TEST_MARKER={self.marker}".encode()
        for pid in os.listdir("/proc"):
            if not pid.isdigit() or int(pid) == os.getpid():
                continue
            try:
                with open(f"/proc/{pid}/environ", "rb") as f:
                    env = f.read()
                with open(f"/proc/{pid}/stat") as f:
                    state = f.read().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if needle in env.split(b"\0") and state != "Z":
                found.append(int(pid))
        return found


def max_overlap(intervals):
    """Largest number of [start, end) intervals open at one moment."""
    points = []
    for s, e in intervals:
        points.append((s, 1))
        points.append((e, -1))
    points.sort(key=lambda p: (p[0], p[1]))  # an end before a start at the same instant
    cur = best = 0
    for _, d in points:
        cur += d
        best = max(best, cur)
    return best


def interrupt(proc, times=1, gap=0.3):
    for i in range(times):
        if i:
            time.sleep(gap)
        proc.send_signal(signal.SIGINT)
