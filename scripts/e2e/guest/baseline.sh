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

n=0
failed=0

ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}

not_ok() {
	n=$((n + 1))
	failed=1
	echo "not ok $n - $1"
}

metric() {
	echo "# metric $1=$2"
}

# Microseconds of CLOCK_MONOTONIC (0 = kernel start) at which a unit
# became active, as seconds.
active_seconds() {
	systemctl show -P ActiveEnterTimestampMonotonic "$1" |
		awk '{ printf "%.1f", $1 / 1000000 }'
}

# Sum of the per-operation RPC counts of the NFS mount on /.
root_nfs_rpcs() {
	awk '
	/^device / { inroot = ($5 == "/" && $8 ~ /^nfs/); ops = 0; next }
	inroot && /per-op statistics/ { ops = 1; next }
	inroot && ops && NF > 2 && $1 ~ /:$/ { n += $2 }
	END { print n + 0 }' /proc/self/mountstats
}

check_boot() {
	local state

	# Waits for the boot transaction to finish: running or degraded.
	state=$(systemctl is-system-running --wait)
	echo "# system state: $state"
	if systemctl -q is-active multi-user.target; then
		ok "reached multi-user.target (state $state)"
	else
		not_ok "reached multi-user.target (state $state)"
	fi
	metric boot_to_multi_user_s "$(active_seconds multi-user.target)"
	systemd-analyze time 2> /dev/null | sed 's/^/# /'
}

check_root() {
	local fstype opts

	fstype=$(awk '$2 == "/" { t = $3 } END { print t }' /proc/mounts)
	opts=$(awk '$2 == "/" { o = $4 } END { print o }' /proc/mounts)
	echo "# root: $fstype $opts"
	case "$fstype,$opts" in
	nfs*,ro* | ext4,ro*) ok "root is $fstype, read-only" ;;
	*) not_ok "root is nfs or ext4, read-only (got $fstype $opts)" ;;
	esac
	case "$fstype" in
	nfs*) metric nfs_rpcs "$(root_nfs_rpcs)" ;;
	ext4) metric nbd_reads "$(awk '{ print $1 }' /sys/block/nbd0/stat)" ;;
	esac
}

# The baseline problem: every write to the image fails with EROFS.
check_erofs() {
	local err

	err=$(touch /var/lib/e2e-probe 2>&1)
	case "$err" in
	*"Read-only file system"*) ok "writing /var/lib fails with EROFS" ;;
	*) not_ok "writing /var/lib fails with EROFS (got: ${err:-success})" ;;
	esac
}

report_journal() {
	local count

	count=$(journalctl -b --no-pager -o cat | grep -c 'Read-only file system')
	metric journal_erofs_errors "$count"
	journalctl -b --no-pager -o short-monotonic |
		awk '/Read-only file system/ && n++ < 30 { print "# erofs: " $0 }'
	metric failed_units "$(systemctl --failed --no-legend --plain | wc -l)"
	systemctl --failed --no-legend --plain | sed 's/^/# failed: /'
}

check_boot
check_root
check_erofs
report_journal
echo "1..$n"
exit "$failed"
