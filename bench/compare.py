#!/usr/bin/env python3
"""compare.py — dray against the alternatives a team could run instead, on a
real engine and a real registry behind an uplink model. Figures, not tests.

    bench/compare.py [--workload push-heavy|build-heavy|overloaded|refusing] [-n N]
                     [--methods dray,seq,xargs,compose,build-only] [--repeat R]
                     [--dray PATH] [--keep DIR]

Methods dray-registry / dray-engine choose dray's push driver, dray-pN its
pushers (e.g. dray-registry-p3); dray alone runs its defaults.

Starts a private dockerd and docker-registry (tests/integration/services.py)
and tests/tools/faultproxy.py in front of the registry: --rate caps the bytes
all uploads together may send a second (an uplink), and for the overloaded
workload --overload 3 gives uploads beyond 3 at once no bytes until the count
drops (what makes real pushes hang at "Waiting"); for the refusing workload
--overload 3 --overload-refuse answers those uploads 503 instead (a registry
with a limit on uploads at once). For each method it makes
fresh content (nothing cached, nothing already in the registry), clears the
engine's images and build cache, then builds and pushes:

  N images, each FROM a base image the same run builds (B MB of its own),
  with a RUN step of S CPU-seconds (sha256 of zeros, calibrated here) and a
  unique incompressible layer of M MB.

Methods: dray with its defaults; a sequential build-and-push loop; xargs -P 8
of build-and-push; docker-compose build --parallel then docker-compose push;
and a build-only run (all builds, no push: the engine's floor). push-only
builds the images first, untimed, then times `dray push` of them alone: with
build-only it gives the CPU floor, (CPU-seconds of build-only + of push-only)
/ CPUs, what the same work needs of this machine's cores. Every pushed
tag is checked in the registry afterwards. Per method it prints wall seconds,
the floor max(build-only seconds, (N*M + B) / rate), the ratio, the bytes that
reached the registry (request bodies the proxy forwarded), and for dray its
own CPU seconds and peak RSS.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
SERVICES = os.path.join(SRC, "tests", "integration", "services.py")
PROXY = os.path.join(SRC, "tests", "tools", "faultproxy.py")
DOCKER = "/usr/bin/docker"
MB = 1_000_000

WORKLOADS = {
    # S CPU-seconds per image, M MB unique per image, B MB base, rate MB/s, K
    "push-heavy": dict(S=0.5, M=20, B=50, rate=20, K=0),
    "build-heavy": dict(S=3.0, M=3, B=50, rate=40, K=0),
    "overloaded": dict(S=0.5, M=20, B=50, rate=20, K=3),
    # uploads beyond K refused with 503 (a limit on uploads at once) instead
    "refusing": dict(S=0.5, M=20, B=50, rate=20, K=3, refuse=True),
}


def sh(argv, **kw):
    return subprocess.run(argv, check=True, **kw)


def calibrate():
    """Bytes of zeros busybox sha256sum hashes in one CPU-second here."""
    n = 200 * MB
    c0 = os.times()
    sh(["/bin/sh", "-c", f"head -c {n} /dev/zero | busybox sha256sum >/dev/null"])
    c1 = os.times()
    cpu = (c1.children_user - c0.children_user) + (c1.children_system - c0.children_system)
    return int(n / max(cpu, 0.05))


def write_tree(root, n, w, zeros_per_sec, base_ref):
    """Fresh content: the base and N images FROM it."""
    os.makedirs(os.path.join(root, "base"))
    shutil.copy("/bin/busybox", os.path.join(root, "base", "busybox"))
    with open(os.path.join(root, "base", "base.bin"), "wb") as f:
        f.write(os.urandom(int(w["B"] * MB)))
    with open(os.path.join(root, "base", "Dockerfile"), "w") as f:
        f.write("FROM scratch\nCOPY busybox /bin/busybox\nCOPY base.bin /base.bin\n")
    work = int(w["S"] * zeros_per_sec)
    for i in range(n):
        d = os.path.join(root, f"img{i:03d}")
        os.makedirs(d)
        with open(os.path.join(d, "unique.bin"), "wb") as f:
            f.write(os.urandom(int(w["M"] * MB)))
        with open(os.path.join(d, "Dockerfile"), "w") as f:
            f.write(f"FROM {base_ref}\nCOPY unique.bin /unique.bin\n"
                    f'RUN ["/bin/busybox", "sh", "-c", "/bin/busybox head -c {work} /dev/zero'
                    f' | /bin/busybox sha256sum > /work.txt"]\n')
    return ["base"] + [f"img{i:03d}" for i in range(n)]


def clear_engine():
    ids = subprocess.run([DOCKER, "images", "-aq"], capture_output=True, text=True).stdout.split()
    if ids:
        subprocess.run([DOCKER, "rmi", "-f", *sorted(set(ids))], capture_output=True)
    subprocess.run([DOCKER, "builder", "prune", "-af"], capture_output=True)


class Proxy:
    def __init__(self, target, rate, overload, log, refuse=False):
        argv = [sys.executable, PROXY, "--target", target, "--rate", str(rate),
                "--lifetime", "7200", "--log", log]
        if overload:
            argv += ["--overload", str(overload)]
        if refuse:
            argv += ["--overload-refuse", "--status", "503", "--retry-after", "1"]
        self.log = log
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        self.addr = "127.0.0.1:" + self.p.stdout.readline().split()[1]

    def blob_bytes(self):
        total = 0
        with open(self.log) as f:
            for line in f:
                e = json.loads(line)
                if e["event"] == "body" and "/blobs/" in e["request"]:
                    total += e["bytes"]
        return total

    def refused(self):
        """Requests the overload model answered 503."""
        with open(self.log) as f:
            return sum(1 for line in f if json.loads(line)["event"] == "status")

    def uplink(self, t0, rate):
        """When the uplink carried bytes: (first second, last second, seconds
        of transfer at the full rate), counted from T0."""
        secs = {}
        with open(self.log) as f:
            for line in f:
                e = json.loads(line)
                if e["event"] == "uplink":
                    secs[e["second"]] = secs.get(e["second"], 0) + e["bytes"]
        if not secs:
            return None
        return (min(secs) - t0, max(secs) + 1 - t0, sum(secs.values()) / rate)

    def stop(self):
        self.p.terminate()
        self.p.wait()


def registry_has(registry, repo, tag="latest"):
    import http.client
    host, port = registry.split(":")
    c = http.client.HTTPConnection(host, int(port), timeout=10)
    c.request("HEAD", f"/v2/{repo}/manifests/{tag}", headers={
        "Accept": "application/vnd.oci.image.manifest.v1+json, "
                  "application/vnd.docker.distribution.manifest.v2+json"})
    r = c.getresponse()
    r.read()
    return r.status == 200 and r.getheader("Docker-Content-Digest")


class Watch:
    """Polls a process's own CPU time and peak RSS from /proc until it ends."""

    def __init__(self, pid):
        self.pid, self.cpu, self.rss = pid, 0.0, 0
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        tick = os.sysconf("SC_CLK_TCK")
        while True:
            try:
                with open(f"/proc/{self.pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                with open(f"/proc/{self.pid}/status") as f:
                    for line in f:
                        if line.startswith("VmHWM:"):
                            self.rss = max(self.rss, int(line.split()[1]) * 1024)
                if fields[0] == "Z":
                    return
                self.cpu = (int(fields[11]) + int(fields[12])) / tick
            except (OSError, IndexError, ValueError):
                return
            time.sleep(0.1)


def cpu_snapshot():
    """(machine busy and total jiffies, {process name: CPU jiffies of the
    processes alive now})."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    total, idle = sum(v[:8]), v[3] + v[4]
    procs = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                head, rest = f.read().rsplit(")", 1)
            name = head.split("(", 1)[1]
            fields = rest.split()
            procs[(pid, name)] = int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            continue
    return total - idle, total, procs


def cpu_report(before, after):
    """Where the CPU went between two snapshots: machine use, and CPU
    seconds by process name (processes alive at the end; for those that
    ended, their parent's share is lost)."""
    tick = os.sysconf("SC_CLK_TCK")
    busy = (after[0] - before[0]) / max(after[1] - before[1], 1)
    by = {}
    for key, t in after[2].items():
        by[key[1]] = by.get(key[1], 0) + (t - before[2].get(key, 0)) / tick
    top = sorted(by.items(), key=lambda kv: -kv[1])[:6]
    used = (after[0] - before[0]) / tick
    return (f"CPU busy {busy:.0%} ({used:.1f} CPU-s); "
            + ", ".join(f"{n} {t:.1f} s" for n, t in top if t >= 0.1), used)


def dray_options(name):
    """dray's options for a method: "dray" (the defaults), "dray-registry" /
    "dray-engine" (--push-driver), any of them with "-pN" (--pushers N) and
    "-jN" (--builders N)."""
    opts = []
    for part in name.split("-")[1:]:
        if part in ("registry", "engine", "cli"):
            opts += ["--push-driver", part]
        elif part.startswith("p") and part[1:].isdigit():
            opts += ["--pushers", part[1:]]
        elif part.startswith("j") and part[1:].isdigit():
            opts += ["--builders", part[1:]]
        else:
            raise SystemExit(f"compare.py: unknown method {name}")
    return opts


def run_method(name, root, names, reg_ns, dray, env):
    """Build and push (or only build) every image of ROOT; wall seconds."""
    refs = {n: f"{reg_ns}/{n}:latest" for n in names}
    stats = {}
    t0 = time.time()
    if name.startswith("dray"):
        p = subprocess.Popen([dray, "run", root, "--engine-cmd", DOCKER, "--registry", reg_ns,
                              "--network", "none", "--progress", "quiet",
                              "--log-dir", os.path.join(root, ".logs"),
                              "--report", os.path.join(root, "report.json"),
                              *dray_options(name)],
                             env=env, stdout=subprocess.DEVNULL)
        w = Watch(p.pid)
        p.wait()
        w.t.join()
        if p.returncode != 0:
            raise RuntimeError(f"dray exited {p.returncode}")
        with open(os.path.join(root, "report.json")) as f:
            r = json.load(f)
        stats = {"cpu": w.cpu, "rss": w.rss, "limits": r.get("limits")}
    elif name == "push-only":
        # the images were built before the clock started (main)
        sh([dray, "push", root, "--engine-cmd", DOCKER, "--registry", reg_ns,
            "--progress", "quiet", "--log-dir", os.path.join(root, ".logs"),
            "--report", os.path.join(root, "report.json")],
           env=env, stdout=subprocess.DEVNULL)
    elif name == "seq":
        for n in names:
            sh([DOCKER, "build", "-q", "--network", "none", "-t", refs[n], os.path.join(root, n)],
               env=env, stdout=subprocess.DEVNULL)
            sh([DOCKER, "push", "-q", refs[n]], env=env, stdout=subprocess.DEVNULL)
    elif name in ("xargs", "build-only"):
        build = f"{DOCKER} build -q --network none -t {reg_ns}/$0:latest {root}/$0 >/dev/null"
        step = build if name == "build-only" else build + f" && {DOCKER} push -q {reg_ns}/$0:latest >/dev/null"
        # the base first: the others are built FROM it
        sh(["/bin/sh", "-c", step, "base"], env=env)
        sh(["/bin/sh", "-c", "printf '%s\\n' \"$@\" | xargs -P 8 -n 1 /bin/sh -c '" +
            step.replace("'", "'\\''") + "'", "xargs", *names[1:]], env=env)
    elif name == "compose":
        with open(os.path.join(root, "docker-compose.yml"), "w") as f:
            f.write("version: '3.8'\nservices:\n")
            for n in names:
                f.write(f"  {n}:\n    image: {refs[n]}\n    build:\n      context: ./{n}\n"
                        f"      network: none\n")
        # Its CLI builds (BuildKit, as the others) with Debian's docker first
        # on PATH: a newer client elsewhere may want buildx.
        cenv = dict(env, COMPOSE_DOCKER_CLI_BUILD="1", DOCKER_BUILDKIT="1",
                    PATH="/usr/bin:" + env.get("PATH", ""))
        for step in (["build", "base"], ["build", "--parallel"], ["push"]):
            p = subprocess.run(["docker-compose", *step], cwd=root, env=cenv,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            if p.returncode != 0:
                raise RuntimeError("docker-compose %s: %s" % (" ".join(step),
                                                              p.stderr.strip()[-300:]))
    wall = time.time() - t0
    return wall, stats


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workload", default="push-heavy", choices=sorted(WORKLOADS))
    ap.add_argument("-n", type=int, default=30)
    ap.add_argument("--methods", default="build-only,dray,seq,xargs,compose")
    ap.add_argument("--dray", default=os.path.join(SRC, "build", "dray"))
    ap.add_argument("--repeat", type=int, default=1, metavar="R",
                    help="run the list of methods R times over, alternating (the spread "
                         "between single runs on a small machine is ~10%%)")
    ap.add_argument("--keep", metavar="DIR",
                    help="copy each dray method's report (METHOD.json) and per-image logs "
                         "(METHOD.logs/), and the proxy's log (METHOD.proxy.log) into DIR")
    a = ap.parse_args()
    w = WORKLOADS[a.workload]
    if os.geteuid() != 0:
        sys.exit("compare.py: run as root (it starts dockerd)")
    state = tempfile.mkdtemp(prefix="dray-compare.")
    env = dict(os.environ, DRAY_TEST_STATE=state, DOCKER_BUILDKIT="1")
    subprocess.run([sys.executable, SERVICES, "start"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    try:
        with open(os.path.join(state, "services.json")) as f:
            svc = json.load(f)
        env["DOCKER_HOST"] = svc["docker_host"]
        zeros = calibrate()
        floor_push = (a.n * w["M"] + w["B"]) / w["rate"]
        unique = (a.n * w["M"] + w["B"]) * MB
        print(f"workload {a.workload}: N={a.n}, S={w['S']} CPU-s, M={w['M']} MB, "
              f"B={w['B']} MB, uplink {w['rate']} MB/s"
              + (f", uploads beyond {w['K']} at once "
                 + ("refused (503)" if w.get("refuse") else "stall") if w["K"] else "")
              + f"; unique layer bytes {unique / MB:.0f} MB; push floor {floor_push:.1f} s")
        build_only = None
        cpu_need = {}
        runs, seen = [], {}
        for m in a.methods.split(",") * a.repeat:  # a method named twice runs twice
            seen[m] = seen.get(m, 0) + 1
            runs.append((m, m if seen[m] == 1 else f"{m}-r{seen[m]}"))
        for m, tag in runs:
            if m == "compose" and not shutil.which("docker-compose"):
                print(f"{m:16s} skipped: docker-compose is not installed "
                      "(apt-get install docker-compose)")
                continue
            clear_engine()
            log = os.path.join(state, f"proxy-{tag}.log")
            proxy = Proxy(svc["registry"], w["rate"] * MB, w["K"], log, w.get("refuse", False))
            root = os.path.join(state, tag)
            ns = f"{proxy.addr}/{tag}"
            names = write_tree(root, a.n, w, zeros, f"{ns}/base:latest")
            if m == "push-only":
                run_method("build-only", root, names, ns, a.dray, env)  # not timed
            t0 = time.time()
            cpu0 = cpu_snapshot()
            try:
                wall, stats = run_method(m, root, names, ns, a.dray, env)
            except (subprocess.CalledProcessError, RuntimeError) as e:
                print(f"{tag:16s} FAILED: {e}")
                proxy.stop()
                continue
            cpu = cpu_report(cpu0, cpu_snapshot())
            sent = proxy.blob_bytes()
            refused = proxy.refused() if w.get("refuse") else 0
            proxy.stop()
            link = proxy.uplink(t0, w["rate"] * MB)
            if a.keep:
                os.makedirs(a.keep, exist_ok=True)
                shutil.copy(log, os.path.join(a.keep, tag + ".proxy.log"))
                if os.path.exists(os.path.join(root, "report.json")):
                    shutil.copy(os.path.join(root, "report.json"), os.path.join(a.keep, tag + ".json"))
                if os.path.isdir(os.path.join(root, ".logs")):  # dray's per-image logs
                    shutil.copytree(os.path.join(root, ".logs"), os.path.join(a.keep, tag + ".logs"),
                                    dirs_exist_ok=True)
            if m == "build-only":
                build_only = wall
                cpu_need["build"] = cpu[1]
                print(f"{tag:16s} {wall:7.1f} s  (the engine's floor for these builds)")
                print(f"{'':16s} {cpu[0]}")
                continue
            if m == "push-only":
                cpu_need["push"] = cpu[1]
                print(f"{tag:16s} {wall:7.1f} s  (dray push of the images built before; "
                      f"{sent / MB:.0f} MB)")
                print(f"{'':16s} {cpu[0]}")
                if "build" in cpu_need:
                    print(f"{'':16s} CPU floor: (build-only {cpu_need['build']:.1f} + push-only "
                          f"{cpu_need['push']:.1f} CPU-s) / {os.cpu_count()} CPUs = "
                          f"{(cpu_need['build'] + cpu_need['push']) / os.cpu_count():.1f} s")
                continue
            missing = [n for n in names if not registry_has(svc["registry"], f"{tag}/{n}")]
            floor = max(build_only or 0, floor_push)
            extra = ""
            if stats:
                extra = (f"  dray CPU {stats['cpu']:.2f} s, peak RSS {stats['rss'] / 2**20:.1f} MiB"
                         f", limits {[(l['builders'], l['pushers']) for l in stats['limits'] or []]}")
            print(f"{tag:16s} {wall:7.1f} s  floor {floor:6.1f} s  ratio {wall / floor:5.2f}  "
                  f"to registry {sent / MB:7.0f} MB ({sent / unique:5.2f}x unique)"
                  + (f"  MISSING {len(missing)}" if missing else "  all verified")
                  + (f"  {refused} uploads refused" if w.get("refuse") else "") + extra)
            print(f"{'':16s} {cpu[0]}")
            if len(cpu_need) == 2:
                cpu_floor = (cpu_need["build"] + cpu_need["push"]) / os.cpu_count()
                print(f"{'':16s} against the CPU floor {cpu_floor:.1f} s: "
                      f"{wall / max(cpu_floor, floor):.2f}x max(floor, CPU floor)")
            if link:
                first, last, busy = link
                print(f"{'':16s} uplink: first byte at {first:.0f} s, last at {last:.0f} s; "
                      f"busy {busy:.1f} s of the {last - first:.0f} s between "
                      f"({busy / max(last - first, 1):.0%})")
    finally:
        subprocess.run([sys.executable, SERVICES, "stop"], env=env, stdout=subprocess.DEVNULL)
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
