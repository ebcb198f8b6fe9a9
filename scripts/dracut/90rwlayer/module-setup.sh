#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# dracut module rwlayer: the same job as the initramfs-tools hook and boot
# script (scripts/initramfs-tools): stack rwlayer over the read-only root
# before pivot, with the rules of the overlaytab.  Installed as
# /usr/lib/dracut/modules.d/90rwlayer.  Enabled by the admin:
#   echo 'add_dracutmodules+=" rwlayer "' > /etc/dracut.conf.d/rwlayer.conf
# (or dracut --add rwlayer), then the kernel parameter rwlayer=on.
#
# Tested end to end by scripts/e2e/dracut.sh (Debian 12, dracut 059,
# NFSv4.1 root through dracut's nfs and network-legacy modules).

# Only when asked for (dracut --add rwlayer, or add_dracutmodules+=).
check() {
	require_binaries rwlayerd || return 1
	return 255
}

depends() {
	echo base
}

# The module comes from DKMS (/lib/modules/$kernel/updates/dkms), for
# the kernel the image is made for, not the running one.
installkernel() {
	# shellcheck disable=SC2154 # kernel is dracut's
	if ! hostonly='' instmods rwlayer; then
		derror "rwlayer: no rwlayer module for ${kernel}: dkms install rwlayer/VERSION -k ${kernel}"
		return 1
	fi
}

# overlayctl is not needed to boot; it is there for the emergency shell.
# The overlaytab is copied as a fallback only: the hook prefers the
# root's own, so an edit on the image server needs no new initramfs.
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
	# 60: after usrmount's 50-mount-usr.sh (see rwlayer-root.sh).
	inst_hook pre-pivot 60 "$moddir/rwlayer-root.sh"
}
