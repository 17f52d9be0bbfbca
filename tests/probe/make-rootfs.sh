#!/bin/sh
# make-rootfs.sh DIR PROBE: lays out the minimal root filesystem of the test
# images: /probe (the static multi-call probe), one symlink per probe command
# under /bin (so `command: [hostname]` works too), and the empty directories
# the runtime mounts over. No shell: every check runs the probe itself.
# Import it with: podrun image import probe:latest DIR --entrypoint /probe
set -eu

if [ $# -ne 2 ]; then
        echo "usage: $0 DIR PROBE" >&2
        exit 2
fi
dir=$1
probe=$2

mkdir -p "$dir"
install -m 0755 "$probe" "$dir/probe"
for d in bin proc sys dev etc tmp; do
        mkdir -p "$dir/$d"
done
chmod 1777 "$dir/tmp"
# The command list comes from the probe's own help, so a new command gets
# its link without editing this script.
"$probe" --help | sed -n 's/^  \([a-z][a-z0-9-]*\).*/\1/p' | while read -r cmd; do
        ln -sf ../probe "$dir/bin/$cmd"
done
printf 'root:x:0:0:root:/:/probe\nnobody:x:65534:65534:nobody:/:/probe\n' >"$dir/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$dir/etc/group"
