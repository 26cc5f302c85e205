"""Shared helpers of the integration tests: the services the fixture started,
image trees written FROM scratch with busybox, running dray, asking the
registry over its HTTP API, and finding processes a run may have left."""
import http.client
import json
import os
import threading
import socket
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
        # Nothing from the outside decides a setting or the output's shape:
        # no DRAY_* variables, no CI markers, a config folder of the test's own.
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("DRAY_", "GITHUB_")) or k in ("DRAY_BIN", "DRAY_TEST_STATE",
                                                                "DRAY_SOURCE_DIR", "DRAY_SANITIZED")}
        for k in ("NO_COLOR", "CLICOLOR_FORCE", "FORCE_COLOR"):
            env.pop(k, None)
        env["XDG_CONFIG_HOME"] = os.path.join(self.tmp, "config")
        env["DOCKER_HOST"] = self.svc["docker_host"]
        env["DOCKER_BUILDKIT"] = "1"
        # Every process dray starts inherits this: how leftovers are found.
        env["DRAY_TEST_MARKER"] = self.marker
        return env

    def dray_argv(self, command, *args):
        if command == "plan":  # plan takes only what shapes the plan (src/cli.c)
            return [DRAY, command, "--registry", self.registry, *args]
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


# ---- fault tests: a registry of the test's own, the fault proxy ---------------
# (test_fault_*.py) A real docker-registry per test on a free loopback port with
# storage of its own, optionally behind tests/tools/faultproxy.py; every
# process is stopped by its PID when the test ends.
import base64 as _base64
import re as _re
import selectors as _selectors
import sys as _sys

import services as _services

TOOLS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools")
FAULTPROXY = os.path.join(TOOLS, "faultproxy.py")


def stop_process(proc, timeout=10):
    """Stop the subprocess.Popen PROC by its PID: SIGTERM, then SIGKILL."""
    if proc is None or proc.poll() is not None:
        return
    try:
        proc.terminate()
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass


def basic_auth(user, password):
    return "Basic " + _base64.b64encode(f"{user}:{password}".encode()).decode()


class Registry:
    """A docker-registry on 127.0.0.1:PORT (a free port unless given) with the
    storage FOLDER/data; with USERS {name: password} it requires Basic auth
    (an htpasswd file made by htpasswd -Bbn, from apache2-utils)."""

    def __init__(self, folder, users=None, port=None):
        os.makedirs(folder, exist_ok=True)
        self.folder = folder
        self.port = port or _services.free_port()
        self.addr = f"127.0.0.1:{self.port}"
        self.conf = os.path.join(folder, "registry.yml")
        self.log = os.path.join(folder, "registry.log")
        self.proc = None
        self.users = dict(users or {})
        _services.write_registry_config(self.conf, os.path.join(folder, "data"), self.addr)
        if self.users:
            htpasswd = os.path.join(folder, "htpasswd")
            with open(htpasswd, "w") as f:
                for user, password in self.users.items():
                    f.write(subprocess.run(["htpasswd", "-Bbn", user, password], check=True,
                                           capture_output=True, text=True).stdout.strip() + "\n")
            with open(self.conf, "a") as f:
                f.write(f"auth:\n  htpasswd:\n    realm: dray-test\n    path: {htpasswd}\n")

    def answers(self):
        try:
            c = http.client.HTTPConnection(self.addr, timeout=2)
            c.request("GET", "/v2/")
            r = c.getresponse()
            r.read()
            c.close()
            return r.status in (200, 401)
        except OSError:
            return False

    def start(self, timeout=30):
        self.proc = _services.spawn(["docker-registry", "serve", self.conf], self.log)
        deadline = time.time() + timeout
        while not self.answers():
            if self.proc.poll() is not None or time.time() > deadline:
                with open(self.log, errors="replace") as f:
                    raise RuntimeError(f"registry {self.addr} did not start:\n{f.read()[-3000:]}")
            time.sleep(0.1)
        return self

    def kill(self):
        """SIGKILL, as a crash would."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def stop(self):
        stop_process(self.proc)

    def _auth_header(self):
        if not self.users:
            return {}
        user, password = next(iter(self.users.items()))
        return {"Authorization": basic_auth(user, password)}

    def manifest(self, reference):
        """The image manifest (parsed JSON: Docker v2 schema 2 or OCI) this
        registry serves for REFERENCE's repository and tag, whatever host
        REFERENCE names."""
        _, rest = reference.split("/", 1)
        repo, tag = rest.rsplit(":", 1)
        c = http.client.HTTPConnection(self.addr, timeout=10)
        c.request("GET", f"/v2/{repo}/manifests/{tag}",
                  headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json, "
                                     "application/vnd.oci.image.manifest.v1+json",
                           **self._auth_header()})
        r = c.getresponse()
        body = r.read()
        c.close()
        if r.status != 200:
            raise AssertionError(f"{reference}: HTTP {r.status}")
        return json.loads(body)

    def digest(self, reference):
        """Docker-Content-Digest this registry serves for REFERENCE's repository
        and tag (whatever host REFERENCE names: a proxy's, say), or None."""
        _, rest = reference.split("/", 1)
        repo, tag = rest.rsplit(":", 1)
        c = http.client.HTTPConnection(self.addr, timeout=10)
        c.request("HEAD", f"/v2/{repo}/manifests/{tag}",
                  headers={"Accept": MANIFEST_ACCEPT, **self._auth_header()})
        r = c.getresponse()
        r.read()
        c.close()
        return r.getheader("Docker-Content-Digest") if r.status == 200 else None


class Dockerd:
    """A private dockerd of a test's own (socket, data root, exec root and
    pidfile of its own, as the fixture's), for runs over several engines.
    It runs in a session of its own; stop() ends it by PID, kill() as a
    crash would (SIGKILL to its whole session: its containerd too)."""

    def __init__(self, folder, name):
        self.folder = os.path.join(folder, name)
        # Unix socket paths are short: the socket and exec root go under /tmp.
        self.short = tempfile.mkdtemp(prefix="dray-e-")
        os.makedirs(self.folder, exist_ok=True)
        self.sock = os.path.join(self.short, "docker.sock")
        self.host = "unix://" + self.sock
        self.log = os.path.join(self.folder, "dockerd.log")
        self.proc = None

    def start(self, timeout=90):
        dockerd = _services.find_program("dockerd", "/usr/bin/dockerd", "/usr/sbin/dockerd")
        self.proc = _services.spawn([
            dockerd, "--iptables=false", "--ip6tables=false", "--bridge=none",
            "--data-root", os.path.join(self.folder, "data"),
            "--exec-root", os.path.join(self.short, "exec"),
            "--pidfile", os.path.join(self.short, "dockerd.pid"),
            "-H", self.host], self.log)
        deadline = time.time() + timeout
        while not _services.engine_ping(self.sock):
            if self.proc.poll() is not None or time.time() > deadline:
                with open(self.log, errors="replace") as f:
                    raise RuntimeError(f"dockerd {self.host} did not start:\n{f.read()[-3000:]}")
            time.sleep(0.2)
        return self

    def pause(self):
        """SIGSTOP: the engine hangs (connections are accepted, nothing answers)."""
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self):
        os.kill(self.proc.pid, signal.SIGCONT)

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=10)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.resume()  # a paused engine cannot stop
            _services.stop_pid(self.proc.pid, "dockerd", timeout=30)
            self.proc.wait(timeout=10)
        # What a killed engine left: its containerd, then its mounts.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, AttributeError):
            pass
        with open("/proc/mounts") as f:
            mounts = [line.split()[1] for line in f]
        for m in sorted(mounts, key=len, reverse=True):
            if m.startswith((self.folder, self.short)):
                subprocess.run(["umount", "-l", m], capture_output=True)
        shutil.rmtree(self.short, ignore_errors=True)
        shutil.rmtree(self.folder, ignore_errors=True)


class FaultProxy:
    """tests/tools/faultproxy.py in front of TARGET (HOST:PORT) with ARGS; it
    ends by itself after LIFETIME seconds, and is stopped by PID before."""

    def __init__(self, target, log, *args, lifetime=240):
        self.log = log
        self.proc = subprocess.Popen(
            [_sys.executable, FAULTPROXY, "--target", target, "--lifetime", str(lifetime),
             "--log", log, *[str(a) for a in args]],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, start_new_session=True)
        sel = _selectors.DefaultSelector()
        sel.register(self.proc.stdout, _selectors.EVENT_READ)
        line = self.proc.stdout.readline() if sel.select(timeout=20) else ""
        sel.close()
        m = _re.match(r"listening (\d+)", line)
        if not m:
            stop_process(self.proc)
            raise RuntimeError(f"faultproxy did not start: {line!r}")
        self.port = int(m.group(1))
        self.addr = f"127.0.0.1:{self.port}"

    def events(self, kind=None):
        out = []
        if os.path.exists(self.log):
            with open(self.log) as f:
                for line in f:
                    e = json.loads(line)
                    if kind is None or e["event"] == kind:
                        out.append(e)
        return out

    def stop(self):
        stop_process(self.proc, timeout=5)
        if self.proc.stdout:
            self.proc.stdout.close()


def random_text(nbytes):
    """NBYTES of random hex: a file that makes a layer of its own."""
    return os.urandom(nbytes // 2 + 1).hex()[:nbytes]


class FaultTestCase(DrayTestCase):
    """A DrayTestCase with a registry (and proxies) of its own, an empty
    DOCKER_CONFIG of its own, and checks of the report against what the
    registry really serves."""

    def setUp(self):
        super().setUp()
        self._procs = []
        self.extra_env = {}
        self.docker_config = os.path.join(self.tmp, "docker-config")
        self.write_docker_config({})

    def tearDown(self):
        for p in reversed(self._procs):
            try:
                p.stop()
            except Exception as e:  # keep stopping the others
                print(f"stopping {p}: {e}", file=_sys.stderr)
        super().tearDown()

    def env(self):
        env = super().env()
        env["DOCKER_CONFIG"] = self.docker_config
        env.update(self.extra_env)
        return env

    def write_docker_config(self, config):
        os.makedirs(self.docker_config, exist_ok=True)
        with open(os.path.join(self.docker_config, "config.json"), "w") as f:
            json.dump(config, f)

    def start_registry(self, users=None, port=None, name="registry"):
        reg = Registry(os.path.join(self.tmp, name), users=users, port=port)
        self._procs.append(reg)
        return reg.start()

    def start_proxy(self, target, *args, name="proxy", lifetime=240):
        proxy = FaultProxy(target, os.path.join(self.tmp, name + ".log"), *args, lifetime=lifetime)
        self._procs.append(proxy)
        return proxy

    def use_registry(self, addr):
        """Images are named ADDR/NAMESPACE/NAME (ADDR: a registry or a proxy)."""
        self.registry = f"{addr}/{self.ns}"

    def write_images(self, n, blob=0, prefix="img"):
        """N images; with BLOB, each has a random layer of BLOB bytes besides
        the shared busybox layer."""
        names = [f"{prefix}{i}" for i in range(n)]
        for name in names:
            if blob:
                write_image(self.tmp, name, [
                    "FROM scratch", "COPY busybox /bin/busybox", "COPY id.txt /id.txt",
                    "COPY blob.txt /blob.txt"], extra_files={"blob.txt": random_text(blob)})
            else:
                write_image(self.tmp, name)
        return names

    def push_attempts(self, img):
        return [a for a in img["attempts"] if a["phase"] == "push"]

    def check_report(self, report, registry, expect_pushed=True):
        """Every image ended pushed and verified, the registry itself (not a
        proxy) serving the reported digest of every tag; or (EXPECT_PUSHED
        false) ended failed with a reason, an error, and nothing served.
        Nothing is reported pushed that the registry does not serve.
        REGISTRY None: there is none to ask (nothing ever listened)."""
        for img in report["images"]:
            name = img["name"]
            pushes = self.push_attempts(img)
            self.assertEqual(len(pushes), img["push_attempts"], name)
            self.assertEqual([a["number"] for a in pushes], list(range(1, len(pushes) + 1)), name)
            for a in pushes[:-1]:
                self.assertNotEqual(a["result"], "ok", name)
                self.assertTrue(a["error"], name)
            if img["status"] == "pushed":
                self.assertTrue(expect_pushed, f"{name} pushed: {img}")
                self.assertIs(img["verified"], True, name)
                self.assertEqual(pushes[-1]["result"], "ok", name)
                self.assertIsNone(img["reason"], name)
                for tag, ref in zip(img["tags"], img["references"]):
                    self.assertEqual(img["tag_digests"][tag], registry.digest(ref), ref)
                self.assertEqual(img["digest"], img["tag_digests"][img["tags"][0]])
            else:
                self.assertFalse(expect_pushed, f"{name} {img['status']}: {img['error']}")
                self.assertEqual(img["status"], "failed", name)
                self.assertTrue(img["reason"], name)
                self.assertTrue(img["error"], name)
                self.assertEqual(pushes[-1]["result"], img["reason"], name)
                self.assertIsNot(img["verified"], True, name)
                for ref in img["references"] if registry is not None else []:
                    self.assertIsNone(registry.digest(ref), ref)
        want = len(report["images"])
        self.assertEqual(report["counts"]["done" if expect_pushed else "failed"], want)

    def outputs(self):
        """Everything dray wrote: stdout, stderr, the report, the logs."""
        p = self.last
        texts = {"stdout": p.stdout, "stderr": p.stderr}
        if os.path.exists(self.report):
            with open(self.report, errors="replace") as f:
                texts["report"] = f.read()
        logs = os.path.join(self.tmp, "logs")
        for fn in sorted(os.listdir(logs)) if os.path.isdir(logs) else []:
            with open(os.path.join(logs, fn), errors="replace") as f:
                texts["logs/" + fn] = f.read()
        return texts


def read_lines_until(proc, pattern, timeout, lines):
    """Read PROC's stderr lines (kept in LINES) until one matches PATTERN;
    returns the match or None at TIMEOUT or EOF."""
    sel = _selectors.DefaultSelector()
    sel.register(proc.stderr, _selectors.EVENT_READ)
    deadline = time.time() + timeout
    try:
        while time.time() < deadline:
            if not sel.select(timeout=max(0.05, min(1, deadline - time.time()))):
                continue
            line = proc.stderr.readline()
            if not line:
                return None
            lines.append(line)
            m = _re.search(pattern, line)
            if m:
                return m
        return None
    finally:
        sel.close()


class ThrottledProxy:
    """A TCP proxy on 127.0.0.1 in front of TARGET (HOST:PORT) that forwards
    what the client sends at most RATE bytes a second per connection (the
    answers at full speed): a push of a few MB takes seconds instead of
    milliseconds. Threads of this process; stop() closes everything."""

    def __init__(self, target, rate):
        host, port = target.rsplit(":", 1)
        self.target = (host, int(port))
        self.rate = rate
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.addr = "127.0.0.1:%d" % self.listener.getsockname()[1]
        self.socks = []
        self.lock = threading.Lock()
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=10)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self.lock:
                if self.stopped:
                    client.close()
                    upstream.close()
                    return
                self.socks += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, self.rate),
                             daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, None),
                             daemon=True).start()

    @staticmethod
    def _pump(src, dst, rate):
        start, sent = time.monotonic(), 0
        try:
            while True:
                data = src.recv(16384)
                if not data:
                    break
                dst.sendall(data)
                if rate:
                    sent += len(data)
                    ahead = sent / rate - (time.monotonic() - start)
                    if ahead > 0:
                        time.sleep(ahead)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self):
        with self.lock:
            self.stopped = True
            socks, self.socks = self.socks, []
        self.listener.close()
        for s in socks:
            s.close()
