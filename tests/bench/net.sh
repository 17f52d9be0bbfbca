#!/usr/bin/env bash
# Network set-up cost per pod (not a test): runs net_bench, which unshares
# its own network and mount namespaces, so the host's network is untouched.
#   tests/bench/net.sh [BUILD_DIR] [N]     (root; N pods on one bridge, default 100)
set -euo pipefail
build=${1:-build}
n=${2:-100}
bench="$build/tests/bench/net_bench"
if [ ! -x "$bench" ]; then
  echo "net.sh: $bench missing: ninja -C $build tests/bench/net_bench" >&2
  exit 2
fi
root=$(mktemp -d /tmp/podrun-bench-net-XXXXXX)
trap 'rm -rf "$root"' EXIT
"$bench" "$root" "$n"
