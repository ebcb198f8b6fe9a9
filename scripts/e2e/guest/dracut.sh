#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck disable=SC3043 # local: dash (the client's sh) has it
#
# dracut.sh: runs inside a diskless client of the dracut variant of the
# client root (dracut-root.sh), booted with rwlayer=on and an NFSv4.1
# root mounted by dracut's nfs module.  Checks that the dracut module
# 90rwlayer made the union in the initramfs (pre-pivot hook over
# $NEWROOT) and that the system came up on it as with initramfs-tools:
# / is the union, a mount the initramfs made below the root was carried
# onto it, the overlaytab's paths are writable, others give EROFS,
# rwlayerd.service took the union over, the journal has no "Read-only
# file system" line.
set -u
# shellcheck source=scripts/e2e/guest/lib.sh
. "$(dirname "$0")/lib.sh"

# The initramfs was dracut's (its units ran), it mounted the root over
# NFSv4 and the rwlayer hook ran in it: its info() line goes to the
# journal as output of dracut-pre-pivot.service.
check_initramfs() {
	local hook

	check "dracut's pre-pivot hooks ran (dracut-pre-pivot.service in the journal)" \
		sh -c 'journalctl -b -u dracut-pre-pivot.service -o cat --no-pager | grep -q .'
	check "the root came over NFSv4 ($(root_lower_fstype))" [ "$(root_lower_fstype)" = nfs4 ]
	hook=$(journalctl -b -u dracut-pre-pivot.service -o cat --no-pager |
		grep -x 'rwlayer: writable layers over /sysroot')
	check "the dracut hook stacked rwlayer over /sysroot (${hook:-no such line})" [ -n "$hook" ]
	journalctl -b -u dracut-pre-pivot.service -o cat --no-pager | sed 's/^/#   /'
	note "routes: $(ip -4 route | tr '\n' '|')"
}

# The tmpfs of the root's fstab with x-initrd.mount (dracut-root.sh) is
# mounted by systemd in the initramfs below /sysroot before the hook: it
# must be carried onto the union, not hidden under it and mounted again
# by the system's systemd (mount ids are reused: the journal tells).
check_initrd_mount() {
	local fstype journal

	fstype=$(awk '$2 == "/srv/e2e-initrd" { t = $3 } END { print t }' /proc/mounts)
	journal=$(journalctl -b -o cat --no-pager _PID=1)
	printf '%s\n' "$journal" | grep -F 'e2e\x2dinitrd.mount' | sed 's/^/#   /'
	check "the initramfs mounted /sysroot/srv/e2e-initrd" \
		pid1_logged 'Mounted sysroot-srv-e2e\x2dinitrd.mount'
	check "that mount was carried onto the union (/srv/e2e-initrd: ${fstype:-not mounted})" \
		initrd_mount_carried
}

# Of check_initrd_mount, with its $journal and $fstype; called through
# check.
# shellcheck disable=SC2317
pid1_logged() {
	printf '%s\n' "$journal" | grep -qF "$1"
}

# shellcheck disable=SC2317
initrd_mount_carried() {
	[ "$fstype" = tmpfs ] && ! pid1_logged 'Mounting srv-e2e\x2dinitrd.mount'
}

check_union() {
	local fstype rc=0 out

	fstype=$(awk '$2 == "/" { t = $3 } END { print t }' /proc/mounts)
	note "root: $(awk '$2 == "/" { print $1, $3, $4 }' /proc/mounts | tr '\n' '|')"
	check "/ is an rwlayer mount (top of /: $fstype) over $(root_lower_fstype)" \
		[ "$fstype" = rwlayer ]
	out=$(overlayctl status 2>&1) || rc=$?
	echo "$out" | sed 's/^/#   /'
	check "overlayctl status exits 0 (got $rc)" [ "$rc" = 0 ]
}

check_paths() {
	local dir

	for dir in /var/log /var/lib/dhcp /tmp /var/tmp /etc/udev/rules.d; do
		check "$dir is writable" can_write "$dir"
	done
	gives_erofs "create /usr/e2e-probe" touch /usr/e2e-probe
	gives_erofs "create /etc/e2e-probe" touch /etc/e2e-probe
}

# rwlayerd.service took over the union the initramfs made (the same
# mount id), and made no second one.
check_daemon() {
	local id taken

	check "rwlayerd.service is active" systemctl -q is-active rwlayerd.service
	overlayctl list 2>&1 | sed 's/^/#   /'
	taken=$(journalctl -b -u rwlayerd.service -o cat --no-pager |
		sed -n 's/.*taking over rwlayer mount \([0-9]*\).*/\1/p' | tail -n 1)
	id=$(overlayctl --json list | tr ',{' '\n' | sed -n 's/.*"id": *\([0-9]*\).*/\1/p' | head -n 1)
	check "rwlayerd took over the initramfs's union (mount ${taken:-none}, listed ${id:-none})" \
		[ -n "$taken" -a "$taken" = "$id" ]
	check "one rwlayer mount, its upper in /run/rwlayer" \
		[ "$(overlayctl --json list | grep -o '"upper": *"/run/rwlayer/-/upper"' | wc -l)" = 1 ]
}

check_boot
check_journal report
check "journal has no 'Read-only file system' line" \
	sh -c '! journalctl -b -o cat --no-pager | grep -q "Read-only file system"'
check_initramfs
check_union
check_initrd_mount
check_paths
check_daemon
echo "1..$n"
exit "$failed"
