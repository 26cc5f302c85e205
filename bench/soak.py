#!/usr/bin/env python3
"""soak.py — interrupt `dray run` at random moments, against a real dockerd
and docker-registry, and check that nothing is lost.

    bench/soak.py [-n ROUNDS] [--images N] [--seed S] [--dray PATH] [--keep]

As root. Starts a private dockerd and docker-registry through
tests/integration/services.py (its own state folder; stopped at the end),
makes N small images (FROM scratch + busybox, a RUN step and a fresh 1 MB
layer of their own each round, so every round builds and pushes for real),
then per round:

  1. `dray run` into a namespace of its own (REGISTRY/soakR), SIGINT after a
     random delay (0 .. the time a whole run takes, measured first), and
     in half the rounds a second SIGINT 0..2 s later (cancel);
  2. checks: exit code 130 or 0; no process left that dray started (this
     script is the children's subreaper, so an orphan would come back to it;
     /proc is also searched for a command line naming the round's
     namespace); every image the report says is pushed is served by the
     registry under each tag with the digest the report gives;
  3. reruns with --skip-existing, uninterrupted: exit 0, every image pushed
     or up-to-date, and the registry serves every tag of every image with
     the digest that report gives.

Prints one line per round and a summary; exits 1 if any round failed. Not
part of the test suite (it takes minutes): see bench/README.md.
"""
import argparse
import ctypes
import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SERVICES = os.path.join(ROOT, "tests", "integration", "services.py")
DOCKER = "/usr/bin/docker" if os.access("/usr/bin/docker", os.X_OK) else "docker"
MANIFEST_ACCEPT = ", ".join([
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
])
PR_SET_CHILD_SUBREAPER = 36


def become_subreaper():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def children_of(pid):
    """PIDs whose parent is PID (from /proc), with their command lines."""
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            ppid = int(stat[stat.rindex(")") + 2:].split()[1])
            if ppid != pid:
                continue
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                out[int(entry)] = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except (OSError, ValueError, IndexError):
            pass
    return out


def processes_naming(text):
    """PIDs (not this one) whose command line contains TEXT."""
    found = {}
    needle = text.encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if needle in cmd:
            found[int(entry)] = cmd.replace(b"\0", b" ").decode(errors="replace").strip()
    return found


def reap_zombies():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def registry_digest(addr, repo, tag):
    c = http.client.HTTPConnection(addr, timeout=10)
    c.request("HEAD", f"/v2/{repo}/manifests/{tag}", headers={"Accept": MANIFEST_ACCEPT})
    r = c.getresponse()
    r.read()
    c.close()
    return r.getheader("Docker-Content-Digest") if r.status == 200 else None


def make_images(work, n, round_no):
    """N contexts under WORK, with fresh content for round ROUND_NO."""
    for i in range(n):
        d = os.path.join(work, f"img{i}")
        os.makedirs(d, exist_ok=True)
        if not os.path.exists(os.path.join(d, "busybox")):
            shutil.copy("/bin/busybox", os.path.join(d, "busybox"))
        with open(os.path.join(d, "blob"), "wb") as f:
            f.write(os.urandom(1024 * 1024))
        with open(os.path.join(d, "id.txt"), "w") as f:
            f.write(f"img{i} round {round_no} {uuid.uuid4()}\n")
        with open(os.path.join(d, "Dockerfile"), "w") as f:
            f.write("FROM scratch\nCOPY busybox /bin/busybox\nCOPY blob /blob\n"
                    "COPY id.txt /id.txt\n"
                    'RUN ["/bin/busybox", "sh", "-c", "sleep 0.5; date > /built"]\n')


def dray_cmd(args, work, ns, registry, logs, report, extra=()):
    return [args.dray, "run", work, "--engine-cmd", DOCKER, "--registry", f"{registry}/{ns}",
            "--network", "none", "-j", "3", "-p", "2", "--progress", "plain",
            "--log-dir", logs, "--report", report, *extra]


def check_report(report_path, registry, ns, images, complete):
    """Problems (strings) between the report at REPORT_PATH and what the
    registry serves; with COMPLETE every image must be pushed."""
    problems = []
    try:
        with open(report_path) as f:
            report = json.load(f)
    except (OSError, ValueError) as e:
        return [f"report {report_path}: {e}"], None
    by_name = {img["name"]: img for img in report.get("images", [])}
    if set(by_name) != {f"img{i}" for i in range(images)}:
        problems.append(f"report names {sorted(by_name)}")
    pushed = 0
    for name, img in sorted(by_name.items()):
        status = img.get("status")
        if status in ("pushed", "up-to-date"):
            pushed += 1
            for tag in img.get("tags", []):
                want = (img.get("tag_digests") or {}).get(tag)
                got = registry_digest(registry, f"{ns}/{name}", tag)
                if not want:
                    problems.append(f"{name}:{tag} reported {status} without a digest")
                elif got != want:
                    problems.append(f"{name}:{tag} reported {status} with {want}, "
                                    f"registry serves {got}")
        elif complete:
            problems.append(f"{name}: {status} after the rerun ({img.get('error')})")
    return problems, pushed


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", "--rounds", type=int, default=50)
    ap.add_argument("--images", type=int, default=6)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--dray", default=os.path.join(ROOT, "build", "dray"))
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    args = ap.parse_args()
    args.dray = os.path.abspath(args.dray)
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)

    state = tempfile.mkdtemp(prefix="dray-soak.")
    env = dict(os.environ, DRAY_TEST_STATE=state, PYTHONDONTWRITEBYTECODE="1")
    subprocess.run([sys.executable, SERVICES, "start"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    failures = 0
    try:
        # A copy: a rebuild of the tree during the soak must not change it.
        shutil.copy2(args.dray, os.path.join(state, "dray"))
        args.dray = os.path.join(state, "dray")
        with open(os.path.join(state, "services.json")) as f:
            svc = json.load(f)
        registry = svc["registry"]
        run_env = dict(os.environ, DOCKER_HOST=svc["docker_host"], DOCKER_BUILDKIT="1")
        # From here on, an orphan of dray's comes back to this process.
        become_subreaper()
        work = os.path.join(state, "work", "images")

        # How long one whole run takes: the range of the random delays.
        make_images(work, args.images, 0)
        t0 = time.time()
        rc = subprocess.run(dray_cmd(args, work, "soak-calibrate", registry,
                                     os.path.join(state, "work", "logs-cal"),
                                     os.path.join(state, "work", "cal.json")),
                            env=run_env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL).returncode
        full = time.time() - t0
        if rc != 0:
            raise SystemExit(f"soak: the uninterrupted calibration run exited {rc}")
        print(f"soak: seed {seed}, {args.images} images, one run takes {full:.1f} s; "
              f"{args.rounds} rounds", flush=True)

        outcomes = {0: 0, 130: 0}
        for r in range(1, args.rounds + 1):
            ns = f"soak{r}"
            logs = os.path.join(state, "work", f"logs{r}")
            report = os.path.join(state, "work", f"report{r}.json")
            make_images(work, args.images, r)
            delay = rng.uniform(0, full)
            twice = rng.random() < 0.5
            gap = rng.uniform(0, 2) if twice else None
            problems = []
            sent = 0

            proc = subprocess.Popen(dray_cmd(args, work, ns, registry, logs, report),
                                    env=run_env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            try:
                proc.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGINT)
                sent = 1
                if twice:
                    try:
                        proc.wait(timeout=gap)
                    except subprocess.TimeoutExpired:
                        proc.send_signal(signal.SIGINT)
                        sent = 2
            try:
                rc = proc.wait(timeout=180)
            except subprocess.TimeoutExpired:
                problems.append("dray did not end within 180 s of the interrupt")
                proc.kill()
                rc = proc.wait()
            if rc not in (0, 130) or (rc == 130 and not sent):
                problems.append(f"exit code {rc}")
            else:
                outcomes[rc] += 1

            # Nothing dray started may outlive it.
            left = children_of(os.getpid())
            left.update(processes_naming(f"{registry}/{ns}/"))
            if left:
                problems.append(f"left behind: {left}")
                for pid in left:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
            reap_zombies()

            found, pushed = check_report(report, registry, ns, args.images, complete=False)
            problems += found

            # The rerun completes the set.
            report2 = os.path.join(state, "work", f"report{r}-rerun.json")
            rc2 = subprocess.run(dray_cmd(args, work, ns, registry, logs + "-rerun", report2,
                                          ("--skip-existing",)),
                                 env=run_env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, timeout=600).returncode
            if rc2 != 0:
                problems.append(f"rerun exit code {rc2}")
            found, _ = check_report(report2, registry, ns, args.images, complete=True)
            problems += found
            reap_zombies()

            if not sent:
                sig = f"done before the SIGINT due at {delay:.2f} s"
            else:
                sig = f"SIGINT at {delay:.2f} s" + (f" and {gap:.2f} s later" if sent == 2 else "")
            print(f"round {r:3}: {sig}: exit {rc}, {pushed}/{args.images} pushed before; "
                  f"rerun exit {rc2}: " + ("ok" if not problems else "FAILED"), flush=True)
            for p in problems:
                print(f"    {p}", flush=True)
            failures += bool(problems)

        print(f"soak: {args.rounds - failures}/{args.rounds} rounds ok "
              f"(exit 130: {outcomes[130]}, exit 0: {outcomes[0]}); seed {seed}", flush=True)
    finally:
        subprocess.run([sys.executable, SERVICES, "stop"], env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if args.keep:
            print(f"soak: work folder kept: {state}")
        else:
            shutil.rmtree(state, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
