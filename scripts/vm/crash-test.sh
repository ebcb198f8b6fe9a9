#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# crash-test.sh KVER [OUTDIR]
#
# Issue 11 item 8: is a copy-up onto a persistent upper durable?  Boots
# KVER twice (scripts/vm/run.sh) on one ext4 disk image: the first boot
# copies files up onto it and resets the machine (sysrq b) while copy-ups
# are under way, the second mounts it again (ext4 replays its journal)
# and checks that every file shows its lower content or its whole new
# content (scripts/vm/guest/crash.sh says what is checked and why).
#
# The host makes the ext4 (e2fsprogs' mkfs.ext4: a journal, 4 KiB blocks,
# mounted with ext4's defaults, data=ordered and delayed allocation);
# busybox's mke2fs makes no journal.
#
# Output is TAP, counted by scripts/check.sh: one line for each boot
# (run.sh's verdict on the first, which includes the planned reset and a
# clean kernel log; the second ran to the end and its kernel log is
# clean) and the second boot's own lines, streamed from the guest.
# OUTDIR (default $BUILD/KVER/vm-crash) gets run.sh's logs of each boot
# in write/ and check/, and the disk image upper.img, removed if all
# passed.  Exit status 0 if all passed.
#
# Environment: as run.sh; RWLAYER_VM_TIMEOUT defaults to 600 s per boot.
set -eu

vm_dir=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$vm_dir/../.." && pwd)
export BUILD=${BUILD:-$repo/build}
export RWLAYER_VM_TIMEOUT=${RWLAYER_VM_TIMEOUT:-600}

# A sparse 512 MiB image: the test writes about 120 MiB.  -b 4096: an
# image this small would get 1 KiB blocks, and crash.sh's changes are
# whole 4 KiB blocks.
make_disk() {
	rm -f "$1"
	truncate -s 512M "$1"
	mkfs.ext4 -q -F -b 4096 "$1"
}

# Did the guest in OUTDIR $1 get to its RWLAYER-EXIT, with a clean
# kernel log?  (Its exit status is its own TAP's business.)
ran_clean() {
	grep -qa 'RWLAYER-EXIT [0-9]*$' "$1/output.log" &&
		"$vm_dir/scan-console.sh" "$1/console.log" > /dev/null
}

main() {
	local kver=${1:-} out=${2:-} rc=0

	if [ -z "$kver" ] || [ $# -gt 2 ]; then
		echo "usage: crash-test.sh KVER [OUTDIR]" >&2
		exit 2
	fi
	out=${out:-$BUILD/$kver/vm-crash}
	mkdir -p "$out"
	out=$(cd "$out" && pwd)
	export RWLAYER_VM_DISK=$out/upper.img
	make_disk "$RWLAYER_VM_DISK"

	if ! "$vm_dir/run.sh" "$kver" crash:write "$out/write"; then
		echo "not ok - first boot: copy-ups, then the planned reset (sysrq b), kernel log clean (see $out/write)"
		exit 1
	fi
	echo "ok - first boot: copy-ups, then the planned reset (sysrq b), kernel log clean"

	"$vm_dir/run.sh" "$kver" crash:check "$out/check" || rc=1
	if ran_clean "$out/check"; then
		echo "ok - second boot: checked to the end, kernel log clean"
	else
		echo "not ok - second boot: checked to the end, kernel log clean (see $out/check)"
		rc=1
	fi
	[ "$rc" -ne 0 ] || rm -f "$RWLAYER_VM_DISK"
	return "$rc"
}

main "$@"
