#!/bin/sh
# shellcheck disable=SC3043 # dracut's sh (dash or busybox) has local
# SPDX-License-Identifier: GPL-2.0
#
# dracut pre-pivot hook: rwlayer over $NEWROOT (the root, read-only: NFS,
# NBD or a local disk), before systemd or init runs from it.  The
# server's tree stays as it is: nothing moved, no symlinks.
#
# Kernel command line, as for the initramfs-tools boot script (see
# overlaytab(5)):
#   rwlayer=on|required   on: a failure leaves the root read-only and boots
#                         on; required: a failure stops the boot (dracut's
#                         die: halt, or the shell with rd.shell)
#   rwlayer.tab=PATH      the overlaytab, a path inside the root (default
#                         /etc/overlaytab; the initramfs's copy when the
#                         root has none)
#   rwlayer.size=SIZE     size of the tmpfs upper, overriding @upper's
#
# The upper lives in /run/rwlayer, which the switch to the root takes
# along with /run: rwlayerd.service takes the union over from there.
#
# Sourced by dracut-pre-pivot with dracut-lib.sh loaded: getarg, info,
# warn, die.  Priority 60: after usrmount's 50-mount-usr.sh, so that a
# separate /usr is mounted (and carried onto the union) by then.

# shellcheck source=/dev/null
command -v getarg > /dev/null || . /lib/dracut-lib.sh

rwlayer_failed() {
	if [ "$rwlayer_mode" = required ]; then
		die "rwlayer: $* (rwlayer=required)"
	fi
	warn "rwlayer: $*; the root stays read-only"
}

# The root's own overlaytab unless rwlayer.tab= names another; the copy
# dracut made when the root has none.
rwlayer_config() {
	local tab="$1"

	if [ -f "$NEWROOT${tab:-/etc/overlaytab}" ]; then
		echo "$NEWROOT${tab:-/etc/overlaytab}"
	elif [ -z "$tab" ] && [ -f /etc/overlaytab ]; then
		echo /etc/overlaytab
	fi
}

# Mounts already made below $NEWROOT (a separate /usr, x-initrd.mount
# entries of the root's fstab, fstab-sys) would be hidden under the
# union: they are moved aside before it is made and back onto it after.
# Only the outermost ones move (a mount carries those below it along).
#
# systemd's initramfs makes every mount shared, and the kernel moves no
# mount whose parent is shared (EINVAL): the root's mount and the tmpfs
# that holds them meanwhile are made private first.  switch-root makes
# every mount private anyway before it moves the root.
rwlayer_held=/run/rwlayer/held

rwlayer_submounts() {
	local dev mnt rest outers='' outer inner

	# shellcheck disable=SC2034 # dev, rest: the other columns
	while read -r dev mnt rest; do
		case "$mnt" in
		"$NEWROOT"/*) ;;
		*) continue ;;
		esac
		inner=
		for outer in $outers; do
			case "$mnt" in "$outer"/*) inner=1 ;; esac
		done
		[ -z "$inner" ] || continue
		echo "${mnt#"$NEWROOT"}"
		outers="$outers $mnt"
	done < /proc/mounts
}

rwlayer_hold_submounts() {
	local subs sub n=0

	rwlayer_moved=
	subs=$(rwlayer_submounts)
	[ -n "$subs" ] || return 0
	mkdir -p "$rwlayer_held"
	if ! mount -t tmpfs -o mode=0700,size=64k rwlayer-held "$rwlayer_held" ||
		! mount --make-private "$rwlayer_held" ||
		! mount --make-private "$NEWROOT"; then
		warn "rwlayer: cannot prepare $rwlayer_held: the union will hide the mounts below $NEWROOT"
		return 0
	fi
	for sub in $subs; do
		n=$((n + 1))
		mkdir -p "$rwlayer_held/$n"
		if ! mount --move "$NEWROOT$sub" "$rwlayer_held/$n"; then
			warn "rwlayer: cannot move $NEWROOT$sub aside: the union will hide it"
			continue
		fi
		rwlayer_moved="$rwlayer_moved $n:$sub"
	done
}

# Back onto the union (or onto the bare root if the union was not made).
rwlayer_restore_submounts() {
	local held stuck=

	[ -n "$rwlayer_moved" ] || return 0
	for held in $rwlayer_moved; do
		if ! mount --move "$rwlayer_held/${held%%:*}" "$NEWROOT${held#*:}"; then
			warn "rwlayer: cannot move $NEWROOT${held#*:} back: it stays in $rwlayer_held/${held%%:*}"
			stuck=1
		fi
	done
	[ -n "$stuck" ] || umount "$rwlayer_held" || warn "rwlayer: cannot unmount $rwlayer_held"
}

rwlayer_main() {
	local config size tab

	rwlayer_mode=$(getarg rwlayer=)
	case "$rwlayer_mode" in
	on | required) ;;
	*) return 0 ;;
	esac
	tab=$(getarg rwlayer.tab=)
	config=$(rwlayer_config "$tab")
	if [ -z "$config" ]; then
		rwlayer_failed "no overlaytab (${tab:-/etc/overlaytab} in $NEWROOT)"
		return 0
	fi
	if ! modprobe rwlayer; then
		rwlayer_failed "cannot load the rwlayer module"
		return 0
	fi
	set -- --oneshot --no-netwatch --root "$NEWROOT" --config "$config"
	size=$(getarg rwlayer.size=)
	[ -n "$size" ] && set -- "$@" --upper-size "$size"
	rwlayer_hold_submounts
	if ! rwlayerd "$@"; then
		rwlayer_restore_submounts
		rwlayer_failed "rwlayerd could not set up the layers (see above)"
		return 0
	fi
	rwlayer_restore_submounts
	info "rwlayer: writable layers over $NEWROOT"
}

rwlayer_main
