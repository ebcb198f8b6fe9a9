#!/bin/sh
# shellcheck disable=SC3043 # busybox sh has "local"
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of `make check` (scripts/vm/run.sh KVER test OUTDIR): load
# rwlayer.ko and the in-tree overlayfs (the differential tests compare
# against it), run every kselftest program in /selftests and then
# guest/userspace.sh (overlayctl and rwlayerd end to end), then make sure
# the module leaves nothing behind.
#
# Long mode of randops: a file randops.long in the built selftests
# ($BUILD/selftests/randops.long, "OPS[:SEEDS[:FIRST]]") is read by
# randops itself, and makes this script run randops without the
# settings timeout (raise RWLAYER_VM_TIMEOUT on the host instead).
#
# Output is TAP: the programs print their own ("ok 1 fixture.test"), and
# this script adds "ok - ..." / "not ok - ..." lines for its own checks.
# Each program's output starts with "# rwlayer-test: NAME" and ends with
# "# rwlayer-test: NAME exited RC" so scripts/check.sh can tell which tests
# a program planned but never reported.  Runs under busybox sh.

failed=0

ok() {
	echo "ok - $*"
}

not_ok() {
	echo "not ok - $*"
	failed=1
}

# Indent a command's output as TAP comments.
comment() {
	sed 's/^/# /'
}

load_module() {
	if ! insmod /rwlayer.ko 2> /tmp/insmod.err; then
		comment < /tmp/insmod.err
		not_ok "insmod rwlayer.ko"
		exit 1
	fi
	ok "insmod rwlayer.ko"
	if grep -qw rwlayer /proc/filesystems; then
		ok "rwlayer in /proc/filesystems"
	else
		not_ok "rwlayer in /proc/filesystems"
	fi
}

# The in-tree overlay.ko and what it needs, in /modules/load-order order
# (scripts/vm/mkinitramfs.sh); a module that is built in or already
# loaded is fine.  A missing overlayfs only makes its tests skip.
load_overlay() {
	local mod name

	[ -f /modules/load-order ] || return 0
	while read -r mod; do
		[ -n "$mod" ] || continue
		# /proc/modules spells "-" in module names as "_"
		name=$(echo "${mod%.ko}" | tr - _)
		if grep -q "^$name " /proc/modules; then
			continue
		fi
		if ! insmod "/modules/$mod" 2> /tmp/insmod.err &&
			! grep -q "File exists" /tmp/insmod.err; then
			comment < /tmp/insmod.err
			echo "# insmod $mod failed"
		fi
	done < /modules/load-order
	if grep -qw overlay /proc/filesystems; then
		ok "overlay in /proc/filesystems"
	else
		not_ok "overlay in /proc/filesystems"
	fi
}

# kselftest's settings file ("timeout=N"), else 10 minutes per program: a
# hung test then fails alone instead of eating the whole VM timeout.
test_timeout() {
	local t

	t=$(sed -n 's/^timeout=\([0-9][0-9]*\)$/\1/p' /selftests/settings 2> /dev/null)
	echo "${t:-600}"
}

# Every executable directly in /selftests is one kselftest-harness program.
# Each runs in its own empty directory on tmpfs.  Exit status 0 is pass,
# 4 is skip, 1 means the harness reported failing tests; anything else
# (a signal, the timeout) is a failure the harness could not report.
run_tests() {
	local prog name rc limit count=0

	limit=$(test_timeout)
	for prog in /selftests/*; do
		if [ ! -f "$prog" ] || [ ! -x "$prog" ]; then
			continue
		fi
		name=${prog##*/}
		count=$((count + 1))
		mkdir -p "/tmp/work/$name"
		echo "# rwlayer-test: $name"
		if [ "$name" = randops ] && [ -f /selftests/randops.long ]; then
			echo "# randops long mode: $(cat /selftests/randops.long), no time limit"
			(cd "/tmp/work/$name" && exec "$prog")
		else
			(cd "/tmp/work/$name" && exec timeout "$limit" "$prog")
		fi
		rc=$?
		echo "# rwlayer-test: $name exited $rc"
		case "$rc" in
		0 | 4) ;;
		1) failed=1 ;;
		143) not_ok "$name finished within ${limit}s (killed by timeout)" ;;
		*) not_ok "$name exited with status $rc (crashed?)" ;;
		esac
		rm -rf "/tmp/work/$name" 2> /dev/null
	done
	if [ "$count" -eq 0 ]; then
		not_ok "test programs found in /selftests (run make selftests)"
	fi
}

# overlayctl and rwlayerd against the module (guest/userspace.sh), counted
# like one more test program; it skips when they are not in the initramfs.
run_userspace() {
	local rc limit

	limit=$(test_timeout)
	mkdir -p /tmp/work/userspace
	echo "# rwlayer-test: userspace"
	(cd /tmp/work/userspace && exec timeout "$limit" sh /guest/userspace.sh)
	rc=$?
	echo "# rwlayer-test: userspace exited $rc"
	case "$rc" in
	0 | 4) ;;
	1) failed=1 ;;
	143) not_ok "userspace.sh finished within ${limit}s (killed by timeout)" ;;
	*) not_ok "userspace.sh exited with status $rc" ;;
	esac
	rm -rf /tmp/work/userspace 2> /dev/null
}

# A test that forgets to unmount would keep the module busy; report it,
# then unmount so the rmmod check still says something.
check_no_mounts() {
	local left

	left=$(awk '$3 == "rwlayer" { print $2 }' /proc/mounts)
	if [ -z "$left" ]; then
		ok "no rwlayer mount left"
		return
	fi
	grep -w rwlayer /proc/mounts | comment
	not_ok "no rwlayer mount left"
	echo "$left" | sort -r | while read -r mnt; do
		umount -l "$mnt" || echo "# could not unmount $mnt"
	done
}

check_rmmod() {
	local refs

	refs=$(cat /sys/module/rwlayer/refcnt 2> /dev/null)
	[ "${refs:-0}" = 0 ] || echo "# rwlayer refcnt is $refs before rmmod"
	if rmmod rwlayer 2> /tmp/rmmod.err && ! grep -q '^rwlayer ' /proc/modules; then
		ok "rmmod clean"
	else
		comment < /tmp/rmmod.err
		not_ok "rmmod clean"
	fi
}

main() {
	echo "# rwlayer tests on $(uname -r)"
	load_module
	load_overlay
	run_tests
	run_userspace
	check_no_mounts
	check_rmmod
	return "$failed"
}

main
