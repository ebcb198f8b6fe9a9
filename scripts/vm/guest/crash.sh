#!/bin/sh
# shellcheck disable=SC3043 # busybox sh has "local"
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of scripts/vm/crash-test.sh (issue 11 item 8): a copy-up
# onto a persistent upper must survive a crash whole or not at all.  One
# guest boots twice on the same disk, /dev/vda, an empty ext4 that the
# host made (run.sh's RWLAYER_VM_DISK):
#
#   crash.sh write  make the lower tree on the disk and sync it, mount the
#                   union with its upper and work directories on the disk,
#                   copy up and change the files of plan(), and reset the
#                   machine (sysrq b) with copy-ups under way, no sync
#   crash.sh check  mount the disk (ext4 replays its journal), mount the
#                   union again and check every file of plan()
#
# After the crash a file must show its lower content or its whole new
# content, never an empty, short, zero-filled or mixed one; plan() says
# which of the two each file may show.  Output is TAP: the check boot
# prints one line per check, the write boot only what went wrong
# (crash-test.sh judges it by run.sh's verdict on the reset).

disk=/disk
lower=$disk/lower
upper=$disk/upper
work=$disk/work
union=/union
failed=0

ok() {
	echo "ok - $*"
}

not_ok() {
	echo "not ok - $*"
	failed=1
}

# The boot cannot go on.
fail() {
	not_ok "$*"
	exit 1
}

# The files, one "NAME KIND SIZE" line each, the same in both boots.
# NAME's first letter is its group:
#   a  copied up and changed, no fsync.  The fsyncs of group s come after
#      and commit ext4's journal with the renames of group a in it: each
#      copy of group a is in the upper for sure, and so must its data be
#      (the copy-up's own fsync).  The change may be lost.
#   s  copied up and changed, or created (nw), and fsynced through the
#      union: the new content for sure.
#   f  copied up and changed while the reset comes: either content.
# KIND says what the lower file is and what the change writes:
#   rw  SIZE random bytes; the change rewrites the first block
#   ap  SIZE random bytes, whole blocks; the change appends a block
#   sp  SIZE bytes, sparse: 1 MiB of data at 0 and in the middle, then a
#       hole to the end; the change rewrites the first block
#   nw  no lower file; the change creates the file, SIZE bytes
# A change is whole 4 KiB blocks at block boundaries, each of which ext4
# writes all or nothing: a lost change never leaves half a change.
plan() {
	local group spec n=0

	for group in a s f; do
		for spec in $(specs "$group"); do
			n=$((n + 1))
			echo "$group$n ${spec%:*} ${spec#*:}"
		done
	done
}

specs() {
	case $1 in
	a)
		echo rw:4096 rw:5000 rw:65536 rw:1048576 rw:1048700 rw:8388608 \
			ap:4096 ap:65536 ap:1048576 ap:8388608 sp:16777216
		for _ in $(seq 12); do
			echo rw:4096 ap:8192
		done
		;;
	s)
		echo rw:4096 rw:1048576 ap:65536 ap:4194304 sp:16777216 \
			nw:4096 nw:5000 nw:1048576
		;;
	f)
		for _ in $(seq 6); do
			echo rw:1048576 ap:2097152
		done
		echo rw:8388608
		;;
	esac
}

# The block NAME's change writes: its name over and over, unlike any other.
marker() {
	yes "rwlayer crash test: $1" | head -c 4096
}

# Write the change of file NAME (KIND, SIZE: plan()) to FILE: the union's
# file in the write boot, a copy of the lower file in the check boot (the
# content the change must give).  SYNC=fsync fsyncs it.
change() {
	local file="$1" name="$2" kind="$3" size="$4" sync="$5" seek=0

	case $kind in
	nw) yes "new file $name" | head -c "$size" > "/tmp/change.$name" ;;
	ap)
		seek=$((size / 4096))
		marker "$name" > "/tmp/change.$name"
		;;
	*) marker "$name" > "/tmp/change.$name" ;;
	esac
	dd if="/tmp/change.$name" of="$file" bs=4096 seek="$seek" \
		conv="notrunc${sync:+,$sync}" status=none
	rm -f "/tmp/change.$name"
}

make_lower() {
	local file="$1" kind="$2" size="$3"

	case $kind in
	nw) ;;
	sp)
		truncate -s "$size" "$file"
		head -c 1048576 /dev/urandom | dd of="$file" bs=1048576 conv=notrunc status=none
		head -c 1048576 /dev/urandom | dd of="$file" bs=1048576 \
			seek=$((size / 2097152)) conv=notrunc status=none
		;;
	*) head -c "$size" /dev/urandom > "$file" ;;
	esac
}

# ext4, virtio_blk and what they need (mkinitramfs.sh's load order),
# rwlayer, then the disk on $disk.
setup() {
	local mod tries=0

	while read -r mod; do
		insmod "/modules/$mod" || echo "# insmod $mod failed"
	done < /modules/load-order
	insmod /rwlayer.ko || fail "insmod rwlayer.ko"
	while [ ! -b /dev/vda ] && [ "$tries" -lt 100 ]; do
		usleep 100000
		tries=$((tries + 1))
	done
	mkdir -p "$disk"
	mount -t ext4 /dev/vda "$disk" || fail "mount the disk (/dev/vda, ext4)"
	plan > /tmp/plan
}

mount_union() {
	mkdir -p "$union"
	mount -t rwlayer -o "lower=$lower,upper=$upper,work=$work" none "$union"
}

# Copy up and change every file of group $1 through the union; $2=fsync
# fsyncs each change.
change_group() {
	local name kind size

	while read -r name kind size; do
		case $name in
		"$1"*) change "$union/$name" "$name" "$kind" "$size" "$2" ||
			fail "change $name" ;;
		esac
	done < /tmp/plan
}

uptime_s() {
	cut -d. -f1 /proc/uptime
}

write_boot() {
	local name kind size half start

	setup
	mkdir "$lower" "$upper" "$work"
	while read -r name kind size; do
		make_lower "$lower/$name" "$kind" "$size" || fail "make $lower/$name"
	done < /tmp/plan
	sync
	mount_union || fail "mount the union"
	# Only fsync and sync write data from now on: a copy-up that left its
	# data to writeback would lose it every time, however soon the reset.
	echo 0 > /proc/sys/vm/dirty_writeback_centisecs || fail "turn writeback off"
	start=$(uptime_s)
	change_group a ""
	change_group s fsync
	echo "# groups a and s changed in $(($(uptime_s) - start)) s"
	# The reset comes once half of group f is in the upper: the other
	# half is being copied up or not begun.
	half=$(grep '^f' /tmp/plan | sed -n 7p | cut -d' ' -f1)
	change_group f "" &
	while [ ! -e "$upper/$half" ] && kill -0 $! 2> /dev/null; do
		usleep 20000
	done
	# On the console, which is out before the reset; run.sh looks for it.
	echo "rwlayer-guest: planned reset (sysrq b) with $half copied up" > /dev/kmsg
	echo b > /proc/sysrq-trigger
	sleep 10
	fail "sysrq b reset the machine"
}

# What the union shows of NAME after the crash: new (the whole change is
# there), copy (an upper copy with exactly the lower content), lower (no
# upper copy) or bad (anything else: described on stderr).
outcome() {
	local name="$1" kind="$2" size="$3" file="$union/$1"

	rm -f /tmp/expect
	[ "$kind" = nw ] || cp "$lower/$name" /tmp/expect
	change /tmp/expect "$name" "$kind" "$size" ""
	if cmp -s "$file" /tmp/expect; then
		echo new
	elif [ "$kind" != nw ] && cmp -s "$file" "$lower/$name"; then
		if [ -e "$upper/$name" ]; then echo copy; else echo lower; fi
	else
		echo bad
		{
			echo "$name ($kind, $size bytes in the lower):"
			ls -ln "$file"
			cmp "$file" /tmp/expect
			[ "$kind" = nw ] || cmp "$file" "$lower/$name"
		} 2>&1 | sed 's/^/# /' >&2
	fi
}

# Check the files of group $1, which may show the outcomes $2; one TAP
# line with the count of each outcome, saying $3.
check_group() {
	local group="$1" allowed="$2" what="$3" name kind size o wrong=
	local n_new=0 n_copy=0 n_lower=0 n_bad=0

	while read -r name kind size; do
		case $name in
		"$group"*) ;;
		*) continue ;;
		esac
		o=$(outcome "$name" "$kind" "$size")
		case $o in
		new) n_new=$((n_new + 1)) ;;
		copy) n_copy=$((n_copy + 1)) ;;
		lower) n_lower=$((n_lower + 1)) ;;
		*) n_bad=$((n_bad + 1)) ;;
		esac
		case " $allowed " in
		*" $o "*) ;;
		*) wrong="$wrong $name:$o" ;;
		esac
	done < /tmp/plan
	what="$what ($n_new new, $n_copy copy, $n_lower lower, $n_bad bad)"
	if [ -z "$wrong" ]; then
		ok "$what"
	else
		not_ok "$what; not allowed:$wrong"
	fi
}

check_boot() {
	local left

	setup
	if dmesg | grep -q 'EXT4-fs (vda): recovery complete'; then
		ok "the reset left the upper's ext4 to journal recovery"
	else
		not_ok "the reset left the upper's ext4 to journal recovery (no \"recovery complete\" in dmesg)"
	fi
	left=$(find "$work" -mindepth 1 | wc -l)
	mount_union || fail "the union mounts over the upper the reset left"
	ok "the union mounts over the upper the reset left"
	if [ -z "$(find "$work" -mindepth 1)" ]; then
		ok "the mount emptied work/ ($left entries left by the reset)"
	else
		find "$work" -mindepth 1 | sed 's/^/# /'
		not_ok "the mount emptied work/ ($left entries left by the reset)"
	fi
	check_group a "copy new" "copy-ups before a journal commit: the whole copy"
	check_group s "new" "changes and new files fsynced through the union: all there"
	check_group f "lower copy new" "copy-ups under way at the reset: the lower or the whole copy"
	umount "$union" || not_ok "umount the union"
	umount "$disk" || not_ok "umount the disk"
	return "$failed"
}

case ${1:-} in
write) write_boot ;;
check) check_boot ;;
*) fail "usage: crash.sh write|check" ;;
esac
