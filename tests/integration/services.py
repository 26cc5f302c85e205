#!/usr/bin/env python3
"""Start or stop the real services the integration tests use.

    services.py start   # a private dockerd and a docker-registry on loopback
    services.py stop    # stop both by PID, remove their state
    services.py fake-registry-start | fake-registry-stop
                        # tests/tools/fake_registry.py (Bearer/Basic tokens)
                        # on a loopback port, stopped by PID
    services.py unit PROGRAM [ARGS...]
                        # run a unit test program with DRAY_TEST_* pointing
                        # at what is up: DRAY_TEST_DOCKER_HOST (the engine),
                        # DRAY_TEST_REGISTRY and DRAY_TEST_REGISTRY_REF (the
                        # registry, holding an image pushed for the test),
                        # DRAY_TEST_FAKE_REGISTRY (the fake registry)

State lives in $DRAY_TEST_STATE (the build tree); sockets and dockerd's
exec-root live in a short folder under the temp dir, because unix socket
paths are limited to 107 bytes. services.json there tells tests where things
are. Nothing here touches the machine's own docker or registry.
"""
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

STATE = os.environ.get("DRAY_TEST_STATE") or os.path.join(tempfile.gettempdir(), "dray-test-state")
SHORT = os.path.join(tempfile.gettempdir(),
                     "dray-" + hashlib.sha256(os.path.abspath(STATE).encode()).hexdigest()[:10])
INFO = os.path.join(STATE, "services.json")


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=5):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.unix_path)
        self.sock = s


def engine_ping(sock_path):
    try:
        c = UnixHTTPConnection(sock_path, timeout=2)
        c.request("GET", "/_ping")
        r = c.getresponse()
        ok = r.status == 200
        c.close()
        return ok
    except OSError:
        return False


def answers_200(addr, method, path):
    """Whether the HTTP server at ADDR answers METHOD PATH with 200."""
    try:
        c = http.client.HTTPConnection(addr, timeout=2)
        c.request(method, path)
        r = c.getresponse()
        r.read()
        c.close()
        return r.status == 200
    except OSError:
        return False


def registry_ping(addr):
    return answers_200(addr, "GET", "/v2/")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(pred, what, timeout, proc=None, log=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.2)
    tail = ""
    if log and os.path.exists(log):
        with open(log, errors="replace") as f:
            tail = "".join(f.readlines()[-30:])
    raise SystemExit(f"services: {what} did not come up within {timeout}s\n{tail}")


def spawn(argv, log):
    # Own session, no inherited pipes: ctest must not wait for the daemons.
    with open(log, "ab") as out, open(os.devnull, "rb") as devnull:
        return subprocess.Popen(argv, stdin=devnull, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, close_fds=True)


def write_registry_config(path, root, addr):
    with open(path, "w") as f:
        f.write(f"""version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: {root}
  delete:
    enabled: true
http:
  addr: {addr}
""")


def pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def stop_pid(pid, name, timeout=20):
    if not pid or not pid_alive(pid):
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.time() + timeout
    while time.time() < deadline and pid_alive(pid):
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.2)
    if pid_alive(pid):
        print(f"services: {name} ({pid}) ignored SIGTERM, killing", file=sys.stderr)
        os.kill(pid, signal.SIGKILL)


def make_tls(folder):
    """A CA, a server certificate for 127.0.0.1 and a client certificate, as
    DOCKER_CERT_PATH expects them (ca.pem, cert.pem, key.pem)."""
    os.makedirs(folder, exist_ok=True)

    def ossl(*args):
        subprocess.run(["openssl", *args], cwd=folder, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=dray test CA",
         "-keyout", "ca-key.pem", "-out", "ca.pem")
    for name, ext in (("server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth"),
                      ("client", "extendedKeyUsage=clientAuth")):
        ossl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN=dray test {name}",
             "-keyout", f"{name}-key.pem", "-out", f"{name}.csr")
        with open(os.path.join(folder, f"{name}.ext"), "w") as f:
            f.write(ext.replace("\\n", "\n") + "\n")
        ossl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem",
             "-CAcreateserial", "-days", "2", "-extfile", f"{name}.ext", "-out", f"{name}-cert.pem")
    # The client side under the names the docker CLI looks for.
    shutil.copy(os.path.join(folder, "client-cert.pem"), os.path.join(folder, "cert.pem"))
    shutil.copy(os.path.join(folder, "client-key.pem"), os.path.join(folder, "key.pem"))


def stop():
    if os.path.exists(INFO):
        with open(INFO) as f:
            info = json.load(f)
        stop_pid(info.get("registry_pid"), "docker-registry")
        stop_pid(info.get("dockerd_pid"), "dockerd", timeout=30)
        os.remove(INFO)
    # dockerd unmounts its layers on a clean stop; then the folders can go.
    shutil.rmtree(SHORT, ignore_errors=True)
    shutil.rmtree(os.path.join(STATE, "docker-data"), ignore_errors=True)
    shutil.rmtree(os.path.join(STATE, "registry-data"), ignore_errors=True)
    shutil.rmtree(os.path.join(STATE, "certs"), ignore_errors=True)


def find_program(name, *candidates):
    for c in candidates:
        if os.access(c, os.X_OK):
            return c
    p = shutil.which(name)
    if not p:
        raise SystemExit(f"services: {name} not found (apt-get install {name_to_pkg(name)})")
    return p


def name_to_pkg(name):
    return {"dockerd": "docker.io", "docker-registry": "docker-registry"}.get(name, name)


def start():
    stop()  # leftovers of an interrupted earlier run
    os.makedirs(STATE, exist_ok=True)
    os.makedirs(SHORT, exist_ok=True)
    if not os.access("/bin/busybox", os.X_OK):
        raise SystemExit("services: /bin/busybox missing (apt-get install busybox-static)")

    dockerd = find_program("dockerd", "/usr/bin/dockerd", "/usr/sbin/dockerd")
    registry = find_program("docker-registry", "/usr/bin/docker-registry")
    sock = os.path.join(SHORT, "docker.sock")
    dlog = os.path.join(STATE, "dockerd.log")
    # The engine also listens on loopback TCP with mutual TLS, for the tests
    # of tcp:// endpoints, DOCKER_TLS_VERIFY / DOCKER_CERT_PATH and contexts.
    certs = os.path.join(STATE, "certs")
    make_tls(certs)
    tcp_port = free_port()
    d = spawn([dockerd, "--iptables=false", "--ip6tables=false", "--bridge=none",
               "--data-root", os.path.join(STATE, "docker-data"),
               "--exec-root", os.path.join(SHORT, "exec"),
               "--pidfile", os.path.join(SHORT, "dockerd.pid"),
               "--tlsverify", "--tlscacert", os.path.join(certs, "ca.pem"),
               "--tlscert", os.path.join(certs, "server-cert.pem"),
               "--tlskey", os.path.join(certs, "server-key.pem"),
               "-H", "unix://" + sock, "-H", f"tcp://127.0.0.1:{tcp_port}"], dlog)

    port = free_port()
    addr = f"127.0.0.1:{port}"
    rconf = os.path.join(STATE, "registry.yml")
    write_registry_config(rconf, os.path.join(STATE, "registry-data"), addr)
    rlog = os.path.join(STATE, "registry.log")
    r = spawn([registry, "serve", rconf], rlog)

    info = {"docker_host": "unix://" + sock, "docker_sock": sock, "registry": addr,
            "docker_tcp": f"tcp://127.0.0.1:{tcp_port}", "docker_certs": certs,
            "dockerd_pid": d.pid, "registry_pid": r.pid, "state": STATE}
    with open(INFO, "w") as f:
        json.dump(info, f, indent=2)
    wait_for(lambda: engine_ping(sock), "dockerd", 90, d, dlog)
    wait_for(lambda: registry_ping(addr), "docker-registry", 30, r, rlog)
    print(f"services: dockerd at unix://{sock} (pid {d.pid}), registry at {addr} (pid {r.pid})")


# ---- the fake registry (tests/tools/fake_registry.py) ------------------------

FAKE_INFO = os.path.join(STATE, "fake_registry.json")
FAKE_REGISTRY = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                             "tools", "fake_registry.py")


def fake_registry_stop():
    if os.path.exists(FAKE_INFO):
        with open(FAKE_INFO) as f:
            info = json.load(f)
        stop_pid(info.get("pid"), "fake_registry.py", timeout=10)
        os.remove(FAKE_INFO)


def fake_registry_start():
    fake_registry_stop()  # a leftover of an interrupted earlier run
    os.makedirs(STATE, exist_ok=True)
    log = os.path.join(STATE, "fake_registry.log")
    if os.path.exists(log):
        os.remove(log)
    # It ends by itself after --lifetime, should the stop never come.
    p = spawn([sys.executable, FAKE_REGISTRY, "--lifetime", "3600"], log)
    with open(FAKE_INFO, "w") as f:
        json.dump({"pid": p.pid}, f)
    port = []

    def listening():
        with open(log, errors="replace") as f:
            for line in f:
                if line.startswith("listening "):
                    port.append(int(line.split()[1]))
                    return True
        return False

    wait_for(listening, "fake_registry.py", 20, p, log)
    addr = f"127.0.0.1:{port[0]}"
    wait_for(lambda: fake_registry_answers(addr), "fake_registry.py", 20, p, log)
    with open(FAKE_INFO, "w") as f:
        json.dump({"pid": p.pid, "addr": addr}, f)
    print(f"services: fake registry at {addr} (pid {p.pid})")


def fake_registry_answers(addr):
    return answers_200(addr, "HEAD", "/v2/open/x/manifests/v1")


# ---- unit tests against the services -----------------------------------------

def push_sample_image(addr, repo="dray-unit/sample", tag="v1"):
    """Put a small image (one layer, one config) into the registry at ADDR
    over the distribution API, so that ADDR/REPO:TAG exists; returns that
    reference. No engine needed; pushing the same again is harmless."""
    import gzip
    import io
    import tarfile

    def blob_put(data):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        c = http.client.HTTPConnection(addr, timeout=20)
        c.request("POST", f"/v2/{repo}/blobs/uploads/")
        r = c.getresponse()
        r.read()
        if r.status != 202:
            raise SystemExit(f"services: upload to {addr}/{repo}: HTTP {r.status}")
        loc = r.getheader("Location")
        loc = loc.split(addr, 1)[1] if "://" in loc else loc
        sep = "&" if "?" in loc else "?"
        c.request("PUT", f"{loc}{sep}digest={digest}", body=data,
                  headers={"Content-Type": "application/octet-stream"})
        r = c.getresponse()
        r.read()
        c.close()
        if r.status != 201:
            raise SystemExit(f"services: blob {digest} to {addr}/{repo}: HTTP {r.status}")
        return digest

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        body = b"dray unit test layer\n"
        ti = tarfile.TarInfo("hello.txt")
        ti.size = len(body)
        ti.mtime = 0
        tar.addfile(ti, io.BytesIO(body))
    diff_id = "sha256:" + hashlib.sha256(raw.getvalue()).hexdigest()
    layer = gzip.compress(raw.getvalue(), mtime=0)
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": [diff_id]},
                         "config": {}}).encode()
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": blob_put(config), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": blob_put(layer), "size": len(layer)}],
    }).encode()
    c = http.client.HTTPConnection(addr, timeout=20)
    c.request("PUT", f"/v2/{repo}/manifests/{tag}", body=manifest,
              headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    r = c.getresponse()
    r.read()
    c.close()
    if r.status != 201:
        raise SystemExit(f"services: manifest {addr}/{repo}:{tag}: HTTP {r.status}")
    return f"{addr}/{repo}:{tag}"


def unit(argv):
    """Run the unit test program ARGV with the DRAY_TEST_* settings of the
    services that are up; its exit status is ours."""
    env = dict(os.environ)
    if os.path.exists(INFO):
        with open(INFO) as f:
            info = json.load(f)
        env["DRAY_TEST_DOCKER_HOST"] = info["docker_host"]
        env["DRAY_TEST_REGISTRY"] = info["registry"]
        env["DRAY_TEST_REGISTRY_REF"] = push_sample_image(info["registry"])
    if os.path.exists(FAKE_INFO):
        with open(FAKE_INFO) as f:
            env["DRAY_TEST_FAKE_REGISTRY"] = json.load(f)["addr"]
    for k in sorted(k for k in env if k.startswith("DRAY_TEST_") and k != "DRAY_TEST_STATE"):
        print(f"services: {k}={env[k]}", flush=True)
    return subprocess.run(argv, env=env).returncode


if __name__ == "__main__":
    commands = {"start": start, "stop": stop, "fake-registry-start": fake_registry_start,
                "fake-registry-stop": fake_registry_stop}
    if len(sys.argv) >= 3 and sys.argv[1] == "unit":
        sys.exit(unit(sys.argv[2:]))
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        raise SystemExit("usage: services.py start|stop|fake-registry-start|fake-registry-stop"
                         "|unit PROGRAM [ARGS...]")
    commands[sys.argv[1]]()
