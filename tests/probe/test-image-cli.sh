#!/bin/sh
# test-image-cli.sh PODRUN PROBE MAKE_ROOTFS: builds the probe test image the
# way integration tests do and drives `podrun image` end to end in a private
# --root: import from a directory and a tarball, ls, rm, help, and the exit
# codes of usage and runtime errors. Everything lives in one temporary
# directory, removed on exit.
set -eu

podrun=$1
probe=$2
make_rootfs=$3
tmp=$(mktemp -d /tmp/podrun-image-cli.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root

fail() {
        echo "FAIL: $*" >&2
        exit 1
}

# expect STATUS CMD...: runs CMD, keeps its output in $out, checks the status.
expect() {
        want=$1
        shift
        set +e
        out=$("$@" 2>&1)
        got=$?
        set -e
        [ "$got" -eq "$want" ] || fail "'$*' exited $got, wanted $want: $out"
}

"$make_rootfs" "$tmp/rootfs" "$probe"
[ -x "$tmp/rootfs/probe" ] || fail "no /probe in the rootfs"
[ "$(readlink "$tmp/rootfs/bin/hostname")" = ../probe ] || fail "no hostname link"

expect 0 "$podrun" --root "$root" image import probe:latest "$tmp/rootfs" \
        --entrypoint /probe --cmd '["sleep", "inf"]' --env A=1
[ "$out" = probe:latest ] || fail "import printed '$out'"

expect 0 "$podrun" --root "$root" image ls --json
echo "$out" | grep -q '"ref":"docker.io/library/probe:latest"' || fail "ls --json: $out"
expect 0 "$podrun" --root "$root" image ls
echo "$out" | head -1 | grep -q '^REPOSITORY *TAG *IMAGE ID *CREATED *SIZE$' || fail "header: $out"
echo "$out" | grep -q '^probe  *latest  *[0-9a-f]\{12\} ' || fail "ls row: $out"

# The stored rootfs runs: the probe, through its command link, as root.
rootfs=$(ls -d "$root"/images/*/rootfs)
[ "$(chroot "$rootfs" /bin/echo stored)" = stored ] || fail "stored probe does not run"
grep -q '"Entrypoint":\[' "$root"/images/*/image.json || fail "config not stored"

# A tarball of the same tree.
tar -C "$tmp/rootfs" -czf "$tmp/probe.tgz" .
expect 0 "$podrun" --root "$root" image import localhost:5000/probe:tgz "$tmp/probe.tgz"
expect 0 "$podrun" --root "$root" image ls
echo "$out" | grep -q '^localhost:5000/probe  *tgz ' || fail "tarball image not listed: $out"

# Usage errors exit 2 and say why; runtime errors exit 1 and name the object.
expect 2 "$podrun" --root "$root" image import Probe "$tmp/rootfs"
echo "$out" | grep -q "repository name must be lowercase" || fail "$out"
expect 2 "$podrun" --root "$root" image import probe
expect 2 "$podrun" --root "$root" image import --cmd '["x"' probe "$tmp/rootfs"
expect 2 "$podrun" --root "$root" image
expect 2 "$podrun" --root "$root" image frobnicate
expect 1 "$podrun" --root "$root" image import probe:x "$tmp/missing"
echo "$out" | grep -q "image 'probe:x'" || fail "$out"
expect 0 "$podrun" --root "$root" image import --help
echo "$out" | grep -q "^Usage: podrun image import" || fail "$out"
expect 0 "$podrun" --root "$root" image --help

# A pod in the run dir that uses the image keeps it, unless --force.
id=$(basename "$(dirname "$rootfs")")
mkdir -p "$tmp/run/pods/web"
printf '{"version": 1, "name": "web", "containers": [{"name": "app", "imageID": "%s"}]}\n' \
        "$id" >"$tmp/run/pods/web/state.json"
expect 1 "$podrun" --root "$root" --run-dir "$tmp/run" image rm probe
[ "$out" = "podrun: image 'probe' is in use by pod 'web'; run 'podrun down web' first, or use --force" ] ||
        fail "rm in use: $out"
expect 1 "$podrun" --root "$root" --run-dir "$tmp/run" image import probe "$tmp/rootfs"
[ "$out" = "podrun: image 'probe' is in use by pod 'web'; run 'podrun down web' first, or use --force" ] ||
        fail "import over in use: $out"
[ -d "$rootfs" ] || fail "the pod's image content went"
expect 0 "$podrun" --root "$root" --run-dir "$tmp/run" image rm --force "$(echo "$id" | cut -c1-12)"
expect 1 "$podrun" --root "$root" --run-dir "$tmp/run" image rm probe
[ "$out" = "podrun: image 'probe' not found" ] || fail "rm missing: $out"
expect 0 "$podrun" --root "$root" --run-dir "$tmp/run" image rm localhost:5000/probe:tgz
expect 0 "$podrun" --root "$root" image ls --json
[ "$out" = "[
]" ] || [ "$out" = "[]" ] || fail "store not empty: $out"
[ "$(ls -A "$root/images")" = ".lock
refs.json" ] || fail "left in the store: $(ls -A "$root/images")"
echo "ok"
