#!/usr/bin/env bash
# tests/bench/memory.sh [BUILD_DIR] [MIB]: what an idle pod costs in memory,
# and log throughput through a real pod. Not a timed test: it prints tables.
#
# 1. Memory: PSS (proportional set size, /proc/<pid>/smaps_rollup) of the
#    supervisor and the infra of an idle 1-container pod (aim: under 1 MiB
#    together), split into anonymous and file-backed pages, beside floors
#    measured in the same run: a static `busybox sleep` and a dynamically
#    linked coreutils `sleep`. The container itself is the user's and is not
#    counted.
# 2. Log throughput: a container writing MIB (default 256) MiB of 100-byte
#    lines to its CRI log, against the same bytes piped into a file, in the
#    same run and on the same file system. The lines are made once into a
#    file (in the page cache) that the container cats from a hostPath
#    volume, and that `busybox cat | cat > file` copies for the floor, so that the
#    generator is the same on both sides and never the bottleneck (busybox
#    `yes | head -c` is). Two pod figures: the span between the first and
#    the last CRI line's timestamp (the supervisor's reading), and the wall
#    clock of `up -d` until the pod completed (pod start and stop included).
#
# It re-executes itself inside `unshare --mount --net`, with its own --root,
# --run-dir and netns dir under /tmp, so it touches nothing of the host; all
# it made is removed on exit. Needs root.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build}
mib=${2:-256}
podrun=$build/pod/cli/podrun

if [ "$(id -u)" -ne 0 ]; then
  echo "memory.sh: needs root" >&2
  exit 2
fi
if [ ! -x "$podrun" ]; then
  echo "memory.sh: no podrun at '$podrun'; build first" >&2
  exit 2
fi
if [ -z "${PODRUN_BENCH_INSIDE:-}" ]; then
  exec env PODRUN_BENCH_INSIDE=1 unshare --mount --net --propagation private \
    "$0" "$build" "$mib"
fi

tmp=$(mktemp -d /tmp/podrun-bench-mem.XXXXXX)
floor_pids=()
cleanup() {
  for p in idle flood; do
    "$podrun" --root "$tmp/root" --run-dir "$tmp/run" down "$p" >/dev/null 2>&1 || true
  done
  for p in "${floor_pids[@]}"; do
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  rm -rf "$tmp"
  find /sys/fs/cgroup -maxdepth 6 -type d -name "$PODRUN_CGROUP_PARENT" -exec rmdir {} + \
    2>/dev/null || true
}
trap cleanup EXIT
export PODRUN_NETNS_DIR=$tmp/netns
export PODRUN_CGROUP_PARENT=podrun-bench-mem-$$
pr() { "$podrun" --root "$tmp/root" --run-dir "$tmp/run" "$@"; }
"$top/.ci/busybox-image" "$podrun" "$tmp/root" >/dev/null

cat >"$tmp/idle.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: idle
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: a
    image: busybox
    command: [sleep, '600']
YAML
line=$(printf '%*s' 99 '' | tr ' ' 'x')
bytes=$((mib * 1024 * 1024))
cat >"$tmp/flood.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: flood
spec:
  restartPolicy: Never
  containers:
  - name: a
    image: busybox
    command: [cat, /data/lines]
    volumeMounts:
    - {name: data, mountPath: /data, readOnly: true}
  volumes:
  - name: data
    hostPath: {path: $tmp/data, type: Directory}
YAML
mkdir "$tmp/data"
/bin/busybox yes "$line" | head -c "$bytes" >"$tmp/data/lines" || true
cat "$tmp/data/lines" >/dev/null

state() { python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
  "$tmp/run/pods/$1/state.json" "$2"; }
# Pss, Pss_Anon and Pss_File of a pid, in KiB.
pss() { awk '/^Pss:/ {t=$2} /^Pss_Anon:/ {a=$2} /^Pss_File:/ {f=$2} END {print t, a, f}' \
  "/proc/$1/smaps_rollup"; }
row() { read -r t a f <<<"$2"; printf '%-40s %9s %9s %9s\n' "$1" "$t" "$a" "$f"; }

# ---- memory -----------------------------------------------------------------
/bin/busybox sleep 600 & floor_pids+=($!)
/usr/bin/sleep 600 & floor_pids+=($!)
pr up -d "$tmp/idle.yaml" >/dev/null
sup=$(state idle 's["supervisor"]["pid"]')
infra=$(state idle 's["infra"]["pid"]')
sleep 1 # idle: let the start-up's transient pages go
echo "memory of an idle 1-container pod, KiB (PSS from smaps_rollup)"
printf '%-40s %9s %9s %9s\n' "" "Pss" "Pss_Anon" "Pss_File"
row "floor: static busybox sleep" "$(pss "${floor_pids[0]}")"
row "floor: dynamic coreutils sleep" "$(pss "${floor_pids[1]}")"
s=$(pss "$sup")
i=$(pss "$infra")
row "supervisor (pid $sup)" "$s"
row "infra podrun-pause (pid $infra)" "$i"
read -r st sa sf <<<"$s"
read -r it ia if_ <<<"$i"
row "supervisor + infra" "$((st + it)) $((sa + ia)) $((sf + if_))"
printf '%-40s %9s\n' "supervisor VmRSS" "$(awk '/^VmRSS:/ {print $2}' "/proc/$sup/status")"
printf '%-40s %9s\n' "aim: supervisor + infra Pss under" "1024"
pr down idle >/dev/null

# ---- log throughput -----------------------------------------------------------
now() { date +%s.%N; }
echo
echo "log throughput: $mib MiB of 100-byte lines, MiB/s (median of 3)"
cats=() spans=() walls=() cris=()
for round in 1 2 3; do
  rm -f "$tmp/cat.out"
  sync
  t0=$(now)
  # The container's generator, then read(2)/write(2) into the file, as the
  # supervisor does (busybox cat would sendfile).
  /bin/busybox cat "$tmp/data/lines" | cat >"$tmp/cat.out"
  t1=$(now)
  rm -f "$tmp/cat.out"
  sync
  t2=$(now)
  pr up -d --log-max-size 2Gi --log-max-files 1 "$tmp/flood.yaml" >/dev/null
  sup=$(state flood 's["supervisor"]["pid"]')
  # Until it exits, zombie or not: its orphan is reaped late by this
  # machine's PID 1, which is not an init.
  while st=$(cut -d' ' -f3 "/proc/$sup/stat" 2>/dev/null) && [ "$st" != Z ]; do
    sleep 0.01
  done
  t3=$(now)
  log=$(state flood 's["containers"][0]["logDir"]')/0.log
  got=$(wc -l <"$log")
  # head -c cuts the last line short; the supervisor writes it as F at EOF.
  if [ "$got" -ne $(((bytes + 99) / 100)) ]; then
    echo "memory.sh: $got lines in the CRI file, not $(((bytes + 99) / 100))" >&2
    exit 1
  fi
  span=$(python3 - "$log" <<'PY'
import sys, datetime
def t(l):
    s = l.split(b" ", 1)[0].decode()
    d = datetime.datetime.strptime(s[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return d.timestamp() + int(s[20:29]) / 1e9
with open(sys.argv[1], "rb") as f:
    first = f.readline()
    f.seek(-4096, 2)
    last = f.read().splitlines()[-1]
print(f"{t(last) - t(first):.3f}")
PY
)
  size=$(stat -c %s "$log")
  pr down flood >/dev/null
  rate() { echo "scale=1; $mib / $1" | bc; }
  cats+=("$(rate "$(echo "$t1 - $t0" | bc)")")
  spans+=("$(rate "$span")")
  walls+=("$(rate "$(echo "$t3 - $t2" | bc)")")
  cris+=("$(echo "scale=1; $size / 1048576 / $span" | bc)")
  echo "round $round: pipe into a file ${cats[-1]}, pod (first to last line) ${spans[-1]}," \
    "pod (up -d to completed) ${walls[-1]}"
done
median() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
mc=$(median "${cats[@]}")
ms=$(median "${spans[@]}")
mw=$(median "${walls[@]}")
mr=$(median "${cris[@]}")
printf '%-40s %9s %9s\n' "" "MiB/s" "ratio"
printf '%-40s %9s %9s\n' "floor: busybox cat | cat > file" "$mc" "1.00"
printf '%-40s %9s %9s\n' "pod: first to last CRI line" "$ms" "$(echo "scale=2; $ms / $mc" | bc)"
printf '%-40s %9s %9s\n' "pod: up -d until completed" "$mw" "$(echo "scale=2; $mw / $mc" | bc)"
printf '%-40s %9s %9s\n' "aim" "" "0.80"
echo "(the CRI file is bigger than the text: 41 bytes of framing per line;"
echo " written at $mr MiB/s of file, $(echo "scale=2; $mr / $mc" | bc) of the floor's rate)"
