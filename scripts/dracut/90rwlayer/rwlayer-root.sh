#!/bin/sh
# shellcheck disable=SC3043 # dracut's sh (dash or busybox) has local
# SPDX-License-Identifier: GPL-2.0
#
# dracut pre-pivot hook: rwlayer over $NEWROOT.  The kernel command line
# is the one of the initramfs-tools boot script: rwlayer=on|required,
# rwlayer.tab=PATH (inside the root), rwlayer.size=SIZE.  See overlaytab(5).

# shellcheck source=/dev/null
command -v getarg > /dev/null || . /lib/dracut-lib.sh

rwlayer_failed() {
	if [ "$rwlayer_mode" = required ]; then
		die "rwlayer: $* (rwlayer=required)"
	fi
	warn "rwlayer: $*; the root stays read-only"
}

rwlayer_config() {
	local tab

	tab=$(getarg rwlayer.tab=)
	if [ -f "$NEWROOT${tab:-/etc/overlaytab}" ]; then
		echo "$NEWROOT${tab:-/etc/overlaytab}"
	elif [ -z "$tab" ] && [ -f /etc/overlaytab ]; then
		echo /etc/overlaytab
	fi
}

rwlayer_main() {
	local config size

	rwlayer_mode=$(getarg rwlayer=)
	case "$rwlayer_mode" in
	on | required) ;;
	*) return 0 ;;
	esac
	config=$(rwlayer_config)
	if [ -z "$config" ]; then
		rwlayer_failed "no overlaytab"
		return 0
	fi
	if ! modprobe rwlayer; then
		rwlayer_failed "cannot load the rwlayer module"
		return 0
	fi
	set -- --oneshot --no-netwatch --root "$NEWROOT" --config "$config"
	size=$(getarg rwlayer.size=)
	[ -n "$size" ] && set -- "$@" --upper-size "$size"
	if ! rwlayerd "$@"; then
		rwlayer_failed "rwlayerd could not set up the layers"
		return 0
	fi
	info "rwlayer: writable layers over $NEWROOT"
}

rwlayer_main
