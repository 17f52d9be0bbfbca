#!/usr/bin/env bash
# Log throughput (not a test): 256 MiB of short lines through logs_writer
# (bench_logs reads a pipe in 64 KiB reads, as the supervisor does, and
# writes CRI lines with kubelet's rotation), against the same bytes piped
# into a file by cat, in the same run and on the same file system. Prints
# both rates and their ratio (aim: at least 0.80).
#   tests/bench/logs.sh [BUILD_DIR] [MIB] [LINE_BYTES]
set -eu  # no pipefail: yes(1) ends on SIGPIPE by design
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build}
mib=${2:-256}
width=${3:-100}
bench="$build/tests/bench/bench_logs"
if [ ! -x "$bench" ]; then
  echo "logs.sh: $bench missing: ninja -C $build tests/bench/bench_logs" >&2
  exit 2
fi
tmp=$(mktemp -d /tmp/podrun-bench-logs-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
bytes=$((mib * 1024 * 1024))
# One short line, repeated by yes(1): the generator costs both sides alike.
line=$(printf '%*s' $((width - 1)) '' | tr ' ' 'x')

now() { date +%s.%N; }
rate() { echo "scale=1; $bytes / 1048576 / ($2 - $1)" | bc; }

# CPU seconds (user + sys) of each whole pipeline, generator included: on a
# busy machine the wall clock is noise, the CPU time much less so.
TIMEFORMAT='%3U %3S'
cats=() logs=() cpus_cat=() cpus_logs=()
for round in 1 2 3 4 5; do
  rm -rf "$tmp/cat.out" "$tmp/logs"
  sync
  t0=$(now)
  { time yes "$line" | head -c "$bytes" | cat > "$tmp/cat.out"; } 2> "$tmp/cat.cpu"
  t1=$(now)
  rm -f "$tmp/cat.out"
  sync
  t2=$(now)
  { time yes "$line" | head -c "$bytes" | "$bench" "$tmp/logs" > "$tmp/bench.txt"; } 2> "$tmp/logs.cpu"
  t3=$(now)
  c=$(rate "$t0" "$t1")
  l=$(rate "$t2" "$t3")
  cats+=("$c")
  logs+=("$l")
  cc=$(awk '{print $1 + $2}' "$tmp/cat.cpu")
  lc=$(awk '{print $1 + $2}' "$tmp/logs.cpu")
  cpus_cat+=("$cc")
  cpus_logs+=("$lc")
  echo "round $round: cat $c MiB/s (cpu ${cc}s), logs_writer $l MiB/s (cpu ${lc}s; $(cat "$tmp/bench.txt"))"
done
median() { printf '%s\n' "$@" | sort -n | sed -n 3p; }
ls -l "$tmp/logs" | tail -n +2 | awk '{print "  " $5, $9}'
mc=$(median "${cats[@]}")
ml=$(median "${logs[@]}")
echo "median of 5: cat $mc MiB/s, logs_writer $ml MiB/s, ratio $(echo "scale=2; $ml / $mc" | bc)"
ccpu=$(median "${cpus_cat[@]}")
lcpu=$(median "${cpus_logs[@]}")
echo "median CPU: cat ${ccpu}s, logs_writer ${lcpu}s, throughput per CPU second ratio $(echo "scale=2; $ccpu / $lcpu" | bc)"
