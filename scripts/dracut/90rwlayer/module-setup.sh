#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# dracut module rwlayer: the same job as the initramfs-tools hook and boot
# script (scripts/initramfs-tools): stack rwlayer over the read-only root
# before pivot, with the rules of the overlaytab.  Installed as
# /usr/lib/dracut/modules.d/90rwlayer.

# Only when asked for (dracut --add rwlayer, or add_dracutmodules+=).
check() {
	require_binaries rwlayerd || return 1
	return 255
}

depends() {
	echo base
}

installkernel() {
	hostonly='' instmods rwlayer
}

install() {
	inst_multiple rwlayerd overlayctl
	[ -f /etc/overlaytab ] && inst_simple /etc/overlaytab
	if [ -d /etc/overlaytab.d ]; then
		local conf
		for conf in /etc/overlaytab.d/*.conf; do
			[ -f "$conf" ] && inst_simple "$conf"
		done
	fi
	# shellcheck disable=SC2154 # moddir is dracut's
	inst_hook pre-pivot 50 "$moddir/rwlayer-root.sh"
}
