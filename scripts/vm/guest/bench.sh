#!/bin/sh
# shellcheck disable=SC3043 # busybox sh has "local"
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of `make bench` (scripts/bench.sh): the same workloads on the
# bare lower (tmpfs), the in-tree overlayfs and rwlayer, in one boot.
#
# The lower is populated on a tmpfs by /bench/rwl_bench and bind-mounted at
# /bench-lower.
#
# Read workloads: overlayfs refuses a single lowerdir without an upperdir
# ("at least 2 lowerdir are needed while upperdir nonexistent", 6.1 and
# 6.12 alike), so if lowerdir=/bench-lower alone fails it gets an empty
# directory of the same tmpfs as its bottom layer: only the union's root is
# then merged, every directory the workloads touch still lives in one
# layer, and all layers being one filesystem keeps overlay's same-fs inode
# numbers.  rwlayer is mounted with lower=/bench-lower alone.
#
# Write workloads (rwl_bench populate-write adds /bench-lower/w): every run
# gets a fresh union through rwl_bench's hook, which is this script called
# as "bench.sh hook setup|cleanup WORKLOAD LABEL DIR": setup mounts a new
# tmpfs for the upper and work directories at /bench-up/LABEL and the union
# on DIR (overlayfs lowerdir=/bench-lower,upperdir=,workdir=; rwlayer
# lower=/bench-lower,upper=,work=,rule=/w:union); cleanup reports the
# copy's size and st_blocks after a copy-up workload ("ALLOC WORKLOAD LABEL
# SIZE BLOCKS"), then unmounts both.  The bare target is /bench-lower
# itself (no union is mounted while it runs): its cleanup reports the copy
# and puts the tree back (rwl_bench reset-write), so the unions always see
# the populated lower.
#
# rwl_bench interleaves the three filesystems within every round.  Output:
# RESULT lines (see rwl_bench.c), ALLOC lines, "KERNEL <release>", NOTE
# lines, and "TIME <workload> <seconds>".  Timed runs per filesystem and
# workload: RWL_BENCH_RUNS, else /bench/runs (written by scripts/bench.sh),
# else 5; for the write workloads /bench/wruns (else 5), for copyup-1g
# /bench/gruns (else 3).  /bench/workloads, if there, selects workloads.
set -u

B=/bench/rwl_bench
READ_WORKLOADS="stat-cold stat-warm open-read readdir seqread lookup-miss"
WRITE_WORKLOADS="copyup-1g copyup-sparse create unlink rename-upper rename-lower"
FS=/bench-fs
LOWER=/bench-lower
UP=/bench-up
OVL=/mnt/ovl
RWL=/mnt/rwl
GIB=1073741824
failed=0

# hook setup|cleanup WORKLOAD LABEL DIR: see above.  Exit 0 on success.
hook() {
	local phase="$1" w="$2" label="$3" dir="$4" up rc

	case "$label" in
	bare)
		[ "$phase" = cleanup ] || return 0
		alloc "$w" "$label" "$dir/w" .copy || return 1
		"$B" reset-write "$dir"
		;;
	overlayfs | rwlayer)
		up=$UP/$label
		if [ "$phase" = setup ]; then
			mkdir -p "$up" || return 1
			mount -t tmpfs -o size=2g,mode=0755 tmpfs "$up" || return 1
			mkdir "$up/upper" "$up/work" || return 1
			if [ "$label" = overlayfs ]; then
				mount -t overlay -o "lowerdir=$LOWER,upperdir=$up/upper,workdir=$up/work" \
					overlay "$dir"
			else
				mount -t rwlayer -o "lower=$LOWER,upper=$up/upper,work=$up/work,rule=/w:union" \
					none "$dir"
			fi
			return
		fi
		rc=0
		alloc "$w" "$label" "$up/upper/w" "" || rc=1
		umount "$dir" || rc=1
		umount "$up" || rc=1
		return "$rc"
		;;
	*)
		echo "bench: hook: unknown label $label"
		return 1
		;;
	esac
}

# alloc WORKLOAD LABEL DIR SUFFIX: after a copy-up workload, print the
# copy's size and st_blocks (512-byte units) and check the size.
alloc() {
	local f s

	case "$1" in
	copyup-1g) f=$3/big1g$4 ;;
	copyup-sparse) f=$3/sparse1g$4 ;;
	*) return 0 ;;
	esac
	s=$(stat -c '%s %b' "$f") || {
		echo "bench: FAIL: $2: no copy $f after $1"
		return 1
	}
	echo "ALLOC $1 $2 $s"
	[ "${s% *}" = "$GIB" ] || {
		echo "bench: FAIL: $2: $f has size ${s% *}, want $GIB"
		return 1
	}
}

if [ "${1:-}" = hook ]; then
	shift
	hook "$@"
	exit
fi

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

# selected WORKLOAD: whether /bench/workloads (if any) names it.
selected() {
	[ -z "$SELECT" ] && return 0
	case " $SELECT " in
	*" $1 "*) return 0 ;;
	esac
	return 1
}

# run WORKLOAD RUNS [-p HOOK] TARGET...
run() {
	w=$1 n=$2
	shift 2
	t0=$(uptime_s)
	"$B" -r "$n" "$@" || fail "workload $w"
	echo "TIME $w $(awk -v a="$t0" -v b="$(uptime_s)" 'BEGIN { printf "%.1f", b - a }')"
}

RUNS=${RWL_BENCH_RUNS:-$(cat /bench/runs 2> /dev/null || echo 5)}
WRUNS=$(cat /bench/wruns 2> /dev/null || echo 5)
GRUNS=$(cat /bench/gruns 2> /dev/null || echo 3)
SELECT=$(tr -s ' \n' '  ' 2> /dev/null < /bench/workloads || true)
reads=''
writes=''
for w in $READ_WORKLOADS; do
	selected "$w" && reads="$reads $w"
done
for w in $WRITE_WORKLOADS; do
	selected "$w" && writes="$writes $w"
done

echo "KERNEL $(uname -r)"
echo "NOTE cmdline: $(cat /proc/cmdline)"
echo "NOTE memory: $(awk '/^MemTotal:/ { printf "%d MiB", $2 / 1024 }' /proc/meminfo)"
case " $(cat /proc/cmdline) " in
*" slub_debug="*)
	echo "NOTE slub_debug is on: every slab allocation and free is checked," \
		"which weighs on the stacked filesystems (more objects per lookup) more than on the bare lower"
	;;
esac
[ -x "$B" ] || die "no $B in the initramfs (build it: make -C selftests/bench)"
echo "NOTE runs: read $RUNS, write $WRUNS, copyup-1g $GRUNS"

mkdir -p "$FS" "$LOWER" "$OVL" "$RWL" "$UP" || die "mkdir"
# The lower: 1.4 GiB with the write tree, and the bare copy-up's copy.
mount -t tmpfs -o size=4g,mode=0755 tmpfs "$FS" || die "mount tmpfs $FS"
mkdir -p "$FS/lower" "$FS/empty" || die "mkdir in $FS"
mount -o bind "$FS/lower" "$LOWER" || die "bind $FS/lower on $LOWER"

t0=$(uptime_s)
"$B" populate "$LOWER" || die "populate $LOWER"
if [ -n "$writes" ]; then
	"$B" populate-write "$LOWER" || die "populate-write $LOWER"
fi
echo "TIME populate $(awk -v a="$t0" -v b="$(uptime_s)" 'BEGIN { printf "%.1f", b - a }')"

for m in $(cat /modules/load-order); do
	insmod "/modules/$m" || die "insmod /modules/$m"
done
insmod /rwlayer.ko || die "insmod /rwlayer.ko"

if [ -n "$reads" ]; then
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

	for w in $reads; do
		run "$w" "$RUNS" "$w" bare="$LOWER" overlayfs="$OVL" rwlayer="$RWL"
	done

	umount "$RWL" || fail "umount $RWL"
	umount "$OVL" || fail "umount $OVL"
fi

if [ -n "$writes" ]; then
	# Touch all free memory once: the first touch of a guest page costs
	# QEMU a host page fault, and the runs that allocated most (the 1 GiB
	# copies) came out slower the first time round.
	t0=$(uptime_s)
	avail=$(awk '/^MemAvailable:/ { print int($2 / 1024) - 512 }' /proc/meminfo)
	mkdir -p "$UP/touch" && mount -t tmpfs -o "size=${avail}m" tmpfs "$UP/touch" &&
		dd if=/dev/zero of="$UP/touch/zero" bs=1M count="$avail" 2> /dev/null
	umount "$UP/touch" || die "umount $UP/touch"
	echo "NOTE touched ${avail} MiB in $(awk -v a="$t0" -v b="$(uptime_s)" 'BEGIN { printf "%.1f", b - a }') s"

	# One trial mount of each union, to show the options and to leave
	# a union that cannot take an upper out (its rows then show "-").
	targets="bare=$LOWER"
	for label in overlayfs rwlayer; do
		dir=$OVL
		[ "$label" = rwlayer ] && dir=$RWL
		if hook setup probe "$label" "$dir"; then
			grep -E " $dir " /proc/mounts | sed "s/^/NOTE write mount: /"
			targets="$targets $label=$dir"
			hook cleanup probe "$label" "$dir" || die "unmount the trial $label"
		else
			fail "$label: cannot mount with an upper; no write results for it"
			dmesg | tail -n 5 | sed 's/^/NOTE dmesg: /'
			umount "$dir" 2> /dev/null
			umount "$UP/$label" 2> /dev/null
		fi
	done
	for w in $writes; do
		n=$WRUNS
		[ "$w" = copyup-1g ] && n=$GRUNS
		# shellcheck disable=SC2086 # targets is a list
		run "$w" "$n" -p "sh /guest/bench.sh hook" "$w" $targets
	done
fi

rmmod rwlayer || fail "rmmod rwlayer"
for m in $(sed -n '1!G;h;$p' /modules/load-order); do
	rmmod "${m%.ko}" || fail "rmmod ${m%.ko}"
done
umount "$LOWER" || fail "umount $LOWER"
umount "$FS" || fail "umount $FS"
exit "$failed"
