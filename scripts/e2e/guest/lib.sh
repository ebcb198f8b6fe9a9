# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh disable=SC3043 # local: dash (the client's sh) has it
#
# lib.sh: sourced by the guest tests (baseline.sh, rwlayer.sh,
# overlayfs.sh), which run inside a booted diskless client with their
# output on ttyS1 (see guest-files.sh, the test driver).  TAP results,
# "# metric NAME=VALUE" lines for the host's table, and requests to the
# host: a line "RWLAYER-REQUEST NAME" on the output, answered by the host
# with the file ack/NAME in the share these scripts are read from.

# shellcheck disable=SC2034 # failed: read by the scripts that source this
n=0
failed=0
e2e_share=$(cd "$(dirname "$0")" && pwd)

ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}

not_ok() {
	n=$((n + 1))
	failed=1
	echo "not ok $n - $1"
}

# check WHAT CMD...: ok when CMD succeeds.
check() {
	local what="$1"
	shift

	if "$@"; then
		ok "$what"
	else
		not_ok "$what"
	fi
}

note() {
	echo "# $*"
}

metric() {
	echo "# metric $1=$2"
}

# request NAME [TIMEOUT]: ask the host to do NAME and wait for its answer
# (the content of ack/NAME, printed).  Fails when none came in TIMEOUT
# seconds (default 120) or the host answered "failed ...".
request() {
	local name="$1" limit=$((${2:-120} * 2)) waited=0 answer

	echo "RWLAYER-REQUEST $name"
	until [ -e "$e2e_share/ack/$name" ]; do
		waited=$((waited + 1))
		if [ "$waited" -gt "$limit" ]; then
			note "no answer from the host to request $name"
			return 1
		fi
		sleep 0.5
	done
	answer=$(cat "$e2e_share/ack/$name")
	note "host: $name: $answer"
	case "$answer" in failed*) return 1 ;; esac
	return 0
}

# sections: the parts of a test the host asked for in this boot.
sections() {
	cat "$e2e_share/sections" 2> /dev/null
}

wants() {
	case " $(sections) " in *" $1 "*) return 0 ;; esac
	return 1
}

# Microseconds of CLOCK_MONOTONIC (0 = kernel start) at which a unit
# became active, as seconds.
active_seconds() {
	systemctl show -P ActiveEnterTimestampMonotonic "$1" |
		awk '{ printf "%.1f", $1 / 1000000 }'
}

# The NFS client's RPC calls so far, all mounts (the root is the only
# one).  Not /proc/self/mountstats: with rwlayer the initramfs's NFS
# mount stays under the union, outside the system's root after
# switch_root, and mountstats lists only mounts below the root.
root_nfs_rpcs() {
	awk '$1 == "rpc" { print $2 }' /proc/net/rpc/nfs
}

# The file system the root came over: nfs or nfs4 when the NFS client has
# made calls, ext4 when an NBD device is in use.
root_lower_fstype() {
	if [ "$(root_nfs_rpcs 2> /dev/null || echo 0)" -gt 0 ]; then
		awk '$1 == "proc4" { for (i = 3; i <= NF; i++) n += $i }
			END { print (n > 0 ? "nfs4" : "nfs") }' /proc/net/rpc/nfs
	elif [ "$(cat /sys/block/nbd0/size 2> /dev/null || echo 0)" -gt 0 ]; then
		echo ext4
	fi
}

# Waits for the boot to finish, then: multi-user reached, boot time and
# the root's RPCs (or NBD reads) so far.
check_boot() {
	local state

	state=$(systemctl is-system-running --wait)
	note "system state: $state"
	if systemctl -q is-active multi-user.target; then
		ok "reached multi-user.target (state $state)"
	else
		not_ok "reached multi-user.target (state $state)"
	fi
	metric boot_to_multi_user_s "$(active_seconds multi-user.target)"
	case "$(root_lower_fstype)" in
	nfs*) metric nfs_rpcs "$(root_nfs_rpcs)" ;;
	ext4) metric nbd_reads "$(awk '{ print $1 }' /sys/block/nbd0/stat)" ;;
	esac
	systemd-analyze time 2> /dev/null | sed 's/^/# /'
}

# The journal's "Read-only file system" lines and the failed units, as
# metrics and listed; with "assert", each must be zero.
check_journal() {
	local mode="${1:-report}" count failed_units

	count=$(journalctl -b --no-pager -o cat | grep -c 'Read-only file system')
	metric journal_erofs_errors "$count"
	journalctl -b --no-pager -o short-monotonic |
		awk '/Read-only file system/ && n++ < 30 { print "# erofs: " $0 }'
	failed_units=$(systemctl --failed --no-legend --plain | awk '{ print $1 }')
	metric failed_units "$(echo "$failed_units" | grep -c .)"
	for unit in $failed_units; do
		note "failed: $unit"
		systemctl status --no-pager -n 10 "$unit" 2>&1 | sed 's/^/#   /'
	done
	[ "$mode" = assert ] || return 0
	check "journal has no 'Read-only file system' line ($count)" [ "$count" = 0 ]
	check "no failed units (${failed_units:-none})" [ -z "$failed_units" ]
}

# can_write DIR: make, read back and remove a file in DIR.
can_write() {
	local f=$1/.e2e-write-probe.$$

	echo "probe $$" > "$f" && [ "$(cat "$f")" = "probe $$" ] && rm "$f"
}

# gives_erofs WHAT CMD...: CMD fails with "Read-only file system".
gives_erofs() {
	local what=$1 err
	shift

	err=$("$@" 2>&1)
	case "$err" in
	*"Read-only file system"*) ok "$what: EROFS" ;;
	*) not_ok "$what: EROFS (got: ${err:-success})" ;;
	esac
}
