#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# demo.sh (make demo): install what is missing, build rwlayer.ko for
# Debian's 6.1 kernel, boot that kernel under QEMU and run
# scripts/vm/guest/demo.sh there: two trees, one rwlayer mount, what it
# shows.  Nothing is mounted or loaded on this machine itself.
#
# Environment: BUILD, RWLAYER_DEMO_KERNEL (default: the 6.1 kernel from
# scripts/kernels.sh), and run.sh's RWLAYER_VM_MEM/RWLAYER_VM_TIMEOUT.
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
export BUILD=${BUILD:-$repo/build}
cd "$repo"
# shellcheck source=scripts/deps.sh
. scripts/deps.sh

die() {
	echo "demo.sh: $*" >&2
	exit 1
}

demo_kernel() {
	local kver=${RWLAYER_DEMO_KERNEL:-}

	[ -n "$kver" ] || kver=$(scripts/kernels.sh | grep '^6\.1\.' | head -n 1 || true)
	[ -n "$kver" ] || die "no Debian 6.1 kernel with headers installed (scripts/deps.sh installs one)"
	echo "$kver"
}

main() {
	local kver

	echo "== dependencies"
	deps_demo
	kver=$(demo_kernel)
	echo "== building rwlayer.ko for $kver"
	make --no-print-directory modules-all KERNELS="$kver"
	echo "== booting $kver under QEMU (TCG, no KVM needed; takes a few seconds)"
	RWLAYER_VM_TIMEOUT=${RWLAYER_VM_TIMEOUT:-300} \
		scripts/vm/run.sh "$kver" demo "$BUILD/$kver/vm-demo"
}

main "$@"
