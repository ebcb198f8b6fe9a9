#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck disable=SC3043 # local: dash (the client's sh) has it
#
# baseline.sh: runs inside a diskless client booted from the stock client
# root (no rwlayer).  Checks that the boot got as far as it should and
# reports what rwlayer is meant to improve: how long the boot took, how
# many NFS RPCs (or NBD reads) it cost, and how many "Read-only file
# system" errors the journal holds.  TAP on stdout; measurements as
# "# metric NAME=VALUE" lines that scripts/e2e/run.sh collects.
set -u
# shellcheck source=scripts/e2e/guest/lib.sh
. "$(dirname "$0")/lib.sh"

check_root() {
	local fstype opts

	fstype=$(awk '$2 == "/" { t = $3 } END { print t }' /proc/mounts)
	opts=$(awk '$2 == "/" { o = $4 } END { print o }' /proc/mounts)
	note "root: $fstype $opts"
	case "$fstype,$opts" in
	nfs*,ro* | ext4,ro*) ok "root is $fstype, read-only" ;;
	*) not_ok "root is nfs or ext4, read-only (got $fstype $opts)" ;;
	esac
}

check_boot
check_root
# The baseline problem: every write to the image fails with EROFS.
gives_erofs "writing /var/lib" touch /var/lib/e2e-probe
check_journal report
echo "1..$n"
exit "$failed"
