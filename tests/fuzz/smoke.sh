#!/bin/sh
# A short, bounded libFuzzer run for the test suite: new inputs go to a
# temporary corpus that is removed afterwards; crashes land in the build dir.
# usage: smoke.sh FUZZER DICT ARTIFACT_DIR SEED_DIR...
set -eu
fuzzer=$1
dict=$2
artifacts=$3
shift 3
work=$(mktemp -d /tmp/podrun-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM
mkdir -p "$artifacts"
"$fuzzer" -runs=50000 -max_total_time=30 -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -print_final_stats=1 -dict="$dict" -artifact_prefix="$artifacts/" "$work" "$@"
