#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# overlayfs.sh: runs inside a diskless client of the overlayfs variant of
# the client root (overlayfs-root.sh): what admins do today without
# rwlayer, a tmpfs and one overlayfs mount per writable directory, made in
# the initramfs.  Reports the same measurements as rwlayer.sh's boot
# section (boot time, RPCs, the journal) for the comparison table, and
# checks that the variant does what it claims, so that the comparison is
# with a working setup.
set -u
# shellcheck source=scripts/e2e/guest/lib.sh
. "$(dirname "$0")/lib.sh"

check_boot
check_journal report
for dir in /var/log /var/lib/dhcp /var/lib/dbus /tmp /var/tmp /etc/udev/rules.d; do
	check "$dir is writable" can_write "$dir"
done
check "/var is an overlay mount" \
	[ "$(awk '$2 == "/var" { t = $3 } END { print t }' /proc/mounts)" = overlay ]
gives_erofs "create /usr/e2e-probe" touch /usr/e2e-probe
note "mounts: $(grep -c . /proc/mounts)"
echo "1..$n"
exit "$failed"
