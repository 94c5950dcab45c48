#!/usr/bin/env python3
"""Edit-to-new-code-served for the Go example, appdeck next to dev_appserver.py.

Each round edits the example's main.go (a new word in its greeting) and
times, from the moment the file is written, until a request answers with
the new text. The baseline, measured in the same run on the same files,
is `go build` of the same edit: appdeck's goal is that build time plus at
most 100 ms. Run from the repository root:

    python3 bench/edit_to_served.py [--edits 7] [--no-devappserver]

It builds appdeck, makes one copy of examples/demo/default per contender
(with a go.mod and runtime go124, which dev_appserver.py needs), runs
appdeck and dev_appserver.py side by side and edits the copies in turn,
so that the machine's load weighs on each alike. It prints each one's
median with its overhead over the build, and appdeck's edit-to-served
time minus its own build of that edit (read from its log).
"""

import argparse
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MARK = "This is service"


def free_port():
    while True:
        port = random.randint(20000, 50000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port


def get(url, timeout=60):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")
    except OSError as e:
        return 0, str(e)


def edit(app, pristine, n):
    """Writes the n-th edit of main.go and returns the text it serves."""
    word = "Edit %d." % n
    with open(os.path.join(app, "main.go"), "w") as f:
        f.write(pristine.replace(MARK, word + " " + MARK))
    return word


def wait_for(url, want, deadline=120):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        status, body = get(url)
        if status == 200 and want in body:
            return
        time.sleep(0.005)
    raise SystemExit("%s never served %r (last: %s %r)" % (url, want, status, body[:200]))


def time_edit(url, app, pristine, n):
    word = edit(app, pristine, n)
    start = time.monotonic()
    wait_for(url, word)
    return (time.monotonic() - start) * 1000


def time_build(app, pristine, n, out):
    edit(app, pristine, n)
    start = time.monotonic()
    subprocess.run(["go", "build", "-o", out, "."], cwd=app, check=True)
    return (time.monotonic() - start) * 1000


def stop(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def make_app(work, name, pristine, yaml):
    app = os.path.join(work, name)
    os.mkdir(app)
    with open(os.path.join(app, "app.yaml"), "w") as f:
        f.write(yaml)
    with open(os.path.join(app, "go.mod"), "w") as f:
        f.write("module example.com/bench\n\ngo 1.24\n")
    edit(app, pristine, 0)
    return app


def built_times(log):
    """appdeck's own build times, from its service log (--log-dir)."""
    times = []
    with open(log) as f:
        for line in f:
            m = re.search(r"appdeck built in ([0-9.]+)(ms|s)$", line.strip())
            if m:
                times.append(float(m.group(1)) * (1 if m.group(2) == "ms" else 1000))
    return times


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--edits", type=int, default=7)
    p.add_argument("--no-devappserver", action="store_true")
    args = p.parse_args()

    work = tempfile.mkdtemp(prefix="appdeck-bench-")
    procs = []
    try:
        appdeck = os.path.join(work, "appdeck-bin")
        subprocess.run(["go", "build", "-o", appdeck, "."], cwd=ROOT, check=True)
        src = os.path.join(ROOT, "examples", "demo", "default")
        with open(os.path.join(src, "main.go")) as f:
            pristine = f.read()
        with open(os.path.join(src, "app.yaml")) as f:
            yaml = f.read().replace("runtime: go125", "runtime: go124")

        # One copy of the app per contender, all running at once, edited
        # in turn, so that the machine's load weighs on each alike.
        targets = []
        base = make_app(work, "baseline", pristine, yaml)
        app = make_app(work, "appdeck", pristine, yaml)
        port = free_port()
        logs = os.path.join(work, "logs")
        procs.append(subprocess.Popen(
            [appdeck, "--headless", "--port", str(port), "--admin-port", "0", "--log-dir", logs, "app.yaml"],
            cwd=app, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True))
        targets.append(("appdeck", "http://127.0.0.1:%d/" % port, app))
        dev = shutil.which("dev_appserver.py")
        if dev and not args.no_devappserver:
            dapp = make_app(work, "devappserver", pristine, yaml)
            port, admin, api = free_port(), free_port(), free_port()
            env = dict(os.environ, CLOUDSDK_PYTHON="/usr/bin/python3")
            procs.append(subprocess.Popen(
                ["/usr/bin/python3", dev, "--port=%d" % port, "--admin_port=%d" % admin, "--api_port=%d" % api, "app.yaml"],
                cwd=dapp, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True))
            targets.append(("dev_appserver.py", "http://127.0.0.1:%d/" % port, dapp))
        for _, url, _ in targets:
            wait_for(url, MARK, deadline=180)

        results = {"go build (baseline)": []}
        for name, _, _ in targets:
            results[name] = []
        for n in range(1, args.edits + 1):
            results["go build (baseline)"].append(time_build(base, pristine, n, os.path.join(work, "bin")))
            for name, url, dir in targets:
                results[name].append(time_edit(url, dir, pristine, n))
                time.sleep(0.5)  # let the old instances drain
        own = built_times(os.path.join(logs, "default.log"))[1:]

        build = statistics.median(results["go build (baseline)"])
        print("edit-to-new-code-served, Go example, %d edits each, interleaved (median, ms):" % args.edits)
        for name, times in results.items():
            med = statistics.median(times)
            extra = "" if name.startswith("go build") else "   build + %.0f ms (%.2f× the build)" % (med - build, med / build)
            print("  %-20s %6.0f   [%s]%s" % (name, med, " ".join("%.0f" % t for t in times), extra))
        if own:
            over = [t - b for t, b in zip(results["appdeck"], own)]
            print("  appdeck's own go build: median %.0f ms; edit-to-served minus its own build: median %.0f ms [%s]" % (
                statistics.median(own), statistics.median(over), " ".join("%.0f" % t for t in over)))
    finally:
        for proc in procs:
            stop(proc)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
