#!/usr/bin/env bash
# tests/bench/startup.sh [BUILD_DIR] [RUNS]: how long `podrun up -d` takes
# until every container is Running, and `podrun down` until all is gone, for
# a 1-container and a 3-container busybox pod; median and spread over RUNS
# (default 20) runs, beside floors measured in the same run: fork+exec of a
# static binary, and `unshare --fork --pid --mount --net --uts --ipc
# --mount-proc` of it. Not a timed test: it prints a table.
#
# It re-executes itself inside `unshare --mount --net`, with its own --root,
# --run-dir and netns dir under /tmp, so it touches nothing of the host; all
# it made is removed on exit. Needs root.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build}
runs=${2:-20}
podrun=$build/pod/cli/podrun

if [ "$(id -u)" -ne 0 ]; then
  echo "startup.sh: needs root" >&2
  exit 2
fi
if [ ! -x "$podrun" ]; then
  echo "startup.sh: no podrun at '$podrun'; build first" >&2
  exit 2
fi
if [ -z "${PODRUN_BENCH_INSIDE:-}" ]; then
  exec env PODRUN_BENCH_INSIDE=1 unshare --mount --net --propagation private \
    "$0" "$build" "$runs"
fi

tmp=$(mktemp -d /tmp/podrun-bench.XXXXXX)
cleanup() {
  for p in one three; do
    "$podrun" --root "$tmp/root" --run-dir "$tmp/run" down "$p" >/dev/null 2>&1 || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
export PODRUN_NETNS_DIR=$tmp/netns
"$top/.ci/busybox-image" "$podrun" "$tmp/root" >/dev/null

cat >"$tmp/one.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: one
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: a
    image: busybox
    command: [sh, -c, 'trap "exit 0" TERM; sleep 600 & wait']
YAML
cat >"$tmp/three.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: three
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: a
    image: busybox
    command: [sh, -c, 'trap "exit 0" TERM; sleep 600 & wait']
  - name: b
    image: busybox
    command: [sh, -c, 'trap "exit 0" TERM; sleep 600 & wait']
  - name: c
    image: busybox
    command: [sh, -c, 'trap "exit 0" TERM; sleep 600 & wait']
YAML

python3 - "$podrun" "$tmp" "$runs" <<'PY'
import statistics, subprocess, sys, time

podrun, tmp, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
base = [podrun, "--root", f"{tmp}/root", "--run-dir", f"{tmp}/run"]

def timed(cmd):
    t = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    dt = (time.perf_counter() - t) * 1000
    if r.returncode != 0:
        sys.exit(f"startup.sh: {' '.join(cmd)} failed: {r.stdout.decode()}")
    return dt

def pod(name):
    ups, downs = [], []
    for _ in range(runs):
        ups.append(timed(base + ["up", "-d", f"{tmp}/{name}.yaml"]))
        downs.append(timed(base + ["down", name]))
    return ups, downs

static = "/bin/busybox"
fork_exec = [timed([static, "true"]) for _ in range(runs)]
unshare = [timed(["unshare", "--fork", "--pid", "--mount", "--net", "--uts", "--ipc",
                  "--mount-proc", static, "true"]) for _ in range(runs)]
one_up, one_down = pod("one")
three_up, three_down = pod("three")

floor = statistics.median(fork_exec)
ufloor = statistics.median(unshare)
def row(label, xs):
    xs = sorted(xs)
    med = statistics.median(xs)
    p10, p90 = xs[len(xs) // 10], xs[(len(xs) * 9) // 10 - (1 if len(xs) % 10 == 0 else 0)]
    print(f"{label:<34} {med:9.2f} {xs[0]:9.2f} {p10:9.2f} {p90:9.2f} {xs[-1]:9.2f}"
          f" {med / floor:9.1f}x {med / ufloor:9.1f}x")

print(f"{runs} runs each, milliseconds (wall clock, including the podrun CLI process)")
print(f"{'':<34} {'median':>9} {'min':>9} {'p10':>9} {'p90':>9} {'max':>9}"
      f" {'/fork':>10} {'/unshare':>10}")
row("floor: fork+exec static binary", fork_exec)
row("floor: unshare pid,mnt,net,uts,ipc", unshare)
row("1 container: up -d until Running", one_up)
row("1 container: down", one_down)
row("3 containers: up -d until Running", three_up)
row("3 containers: down", three_down)
PY
