#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of `make bench` (scripts/bench.sh): the same workloads on the
# bare lower (tmpfs), the in-tree overlayfs and rwlayer, in one boot.
#
# The lower is populated on a tmpfs by /bench/rwl_bench and bind-mounted at
# /bench-lower.  overlayfs refuses a single lowerdir without an upperdir
# ("at least 2 lowerdir are needed while upperdir nonexistent", 6.1 and
# 6.12 alike), so if lowerdir=/bench-lower alone fails it gets an empty
# directory of the same tmpfs as its bottom layer: only the union's root is
# then merged, every directory the workloads touch still lives in one
# layer, and all layers being one filesystem keeps overlay's same-fs inode
# numbers.  rwlayer is mounted with lower=/bench-lower alone.
#
# rwl_bench interleaves the three filesystems within every round.  Output:
# RESULT lines (see rwl_bench.c), "KERNEL <release>", NOTE lines, and
# "TIME <workload> <seconds>".  Timed runs per filesystem and workload:
# RWL_BENCH_RUNS, else /bench/runs (written by scripts/bench.sh), else 5.
set -u

B=/bench/rwl_bench
RUNS=${RWL_BENCH_RUNS:-$(cat /bench/runs 2> /dev/null || echo 5)}
WORKLOADS="stat-cold stat-warm open-read readdir seqread lookup-miss"
FS=/bench-fs
LOWER=/bench-lower
OVL=/mnt/ovl
RWL=/mnt/rwl
failed=0

uptime_s() {
	read -r up _ < /proc/uptime
	echo "$up"
}

fail() {
	echo "bench: FAIL: $*"
	failed=1
}

die() {
	echo "bench: FAIL: $*"
	exit 1
}

echo "KERNEL $(uname -r)"
echo "NOTE cmdline: $(cat /proc/cmdline)"
case " $(cat /proc/cmdline) " in
*" slub_debug="*)
	echo "NOTE slub_debug is on: every slab allocation and free is checked," \
		"which weighs on the stacked filesystems (more objects per lookup) more than on the bare lower"
	;;
esac
[ -x "$B" ] || die "no $B in the initramfs (build it: make -C selftests/bench)"

mkdir -p "$FS" "$LOWER" "$OVL" "$RWL" || die "mkdir"
mount -t tmpfs -o size=1g,mode=0755 tmpfs "$FS" || die "mount tmpfs $FS"
mkdir -p "$FS/lower" "$FS/empty" || die "mkdir in $FS"
mount -o bind "$FS/lower" "$LOWER" || die "bind $FS/lower on $LOWER"

t0=$(uptime_s)
"$B" populate "$LOWER" || die "populate $LOWER"
echo "TIME populate $(awk -v a="$t0" -v b="$(uptime_s)" 'BEGIN { printf "%.1f", b - a }')"

for m in $(cat /modules/load-order); do
	insmod "/modules/$m" || die "insmod /modules/$m"
done
insmod /rwlayer.ko || die "insmod /rwlayer.ko"

if mount -t overlay -o lowerdir="$LOWER" overlay "$OVL" 2> /dev/null; then
	echo "NOTE overlayfs: lowerdir=$LOWER"
else
	mount -t overlay -o lowerdir="$LOWER:$FS/empty" overlay "$OVL" ||
		die "mount overlay"
	echo "NOTE overlayfs: lowerdir=$LOWER:$FS/empty (a single lowerdir needs an upperdir)"
fi
mount -t rwlayer -o lower="$LOWER" none "$RWL" || die "mount rwlayer"
echo "NOTE rwlayer: lower=$LOWER"
grep -E " ($OVL|$RWL) " /proc/mounts | sed 's/^/NOTE mount: /'

for w in $WORKLOADS; do
	t0=$(uptime_s)
	"$B" -r "$RUNS" "$w" bare="$LOWER" overlayfs="$OVL" rwlayer="$RWL" ||
		fail "workload $w"
	echo "TIME $w $(awk -v a="$t0" -v b="$(uptime_s)" 'BEGIN { printf "%.1f", b - a }')"
done

umount "$RWL" || fail "umount $RWL"
umount "$OVL" || fail "umount $OVL"
rmmod rwlayer || fail "rmmod rwlayer"
for m in $(sed -n '1!G;h;$p' /modules/load-order); do
	rmmod "${m%.ko}" || fail "rmmod ${m%.ko}"
done
umount "$LOWER" || fail "umount $LOWER"
umount "$FS" || fail "umount $FS"
exit "$failed"
