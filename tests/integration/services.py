#!/usr/bin/env python3
"""Start or stop the real services the integration tests use.

    services.py start   # a private dockerd and a docker-registry on loopback
    services.py stop    # stop both by PID, remove their state

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


def registry_ping(addr):
    try:
        c = http.client.HTTPConnection(addr, timeout=2)
        c.request("GET", "/v2/")
        r = c.getresponse()
        r.read()
        c.close()
        return r.status == 200
    except OSError:
        return False


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


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in ("start", "stop"):
        raise SystemExit("usage: services.py start|stop")
    start() if sys.argv[1] == "start" else stop()
