#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh [CASE...]: the end-to-end baseline test.  Builds (or reuses) the
# client root, starts the servers in their namespace, and boots the stock
# client root (no rwlayer) once per CASE, each running
# scripts/e2e/guest/baseline.sh.  A CASE is KERNEL/ROOT, ROOT being nfs
# (NFSv3), nfs4 (NFSv4.1) or nbd (default: $RWLAYER_E2E_CASES or "6.1/nfs
# 6.1/nfs4 6.1/nbd 6.12/nfs4").  One guest at a time: the host has two cores.
#
# Output: TAP.  Every result the guest reports counts, prefixed with the
# case; per case also "guest finished" and "guest kernel log clean".  Then
# a table of the measurements (boot time to multi-user.target, NFS RPCs or
# NBD reads during boot, "Read-only file system" errors in the journal,
# failed units, QEMU wall clock) and the line "N passed, N failed".  Exit
# status non-zero when anything failed.
#
# Logs: $BUILD/e2e/<kernel>-<root>/ (console.log, output.log, qemu.log)
# and $BUILD/e2e/servers/ (ganesha, nbd-server, rpcbind).
# Environment: BUILD (default <repo>/build), RWLAYER_E2E_CASES, and those
# of boot.sh and client-root.sh.
set -eu

e2e_run_dir=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$e2e_run_dir/../.." && pwd)
out_base=${BUILD:-$repo/build}/e2e
srv_run=$out_base/servers

# shellcheck source=scripts/e2e/client-root.sh
. "$e2e_run_dir/client-root.sh"
# shellcheck source=scripts/e2e/boot.sh
. "$e2e_run_dir/boot.sh"
# shellcheck source=scripts/e2e/tap.sh
. "$e2e_run_dir/tap.sh"

summary=()

run_case() {
	local case=$1 kernel=${1%/*} root_kind=${1#*/} out log rc=0

	out=$out_base/$kernel-$root_kind
	log=$out/output.log
	echo "# booting $case"
	e2e_boot "$srv_run" "$out" "$kernel" "$root_kind" baseline 1 || rc=$?
	if [ -f "$log" ]; then
		collect_guest_tap "$case" "$log"
	fi
	if grep -qa 'RWLAYER-EXIT [0-9]*' "$log" 2> /dev/null; then
		tap ok "$case: guest finished"
	else
		tap not_ok "$case: guest finished (see $out)"
	fi
	if "$e2e_run_dir/../vm/scan-console.sh" "$out/console.log" > /dev/null 2>&1; then
		tap ok "$case: guest kernel log clean"
	else
		tap not_ok "$case: guest kernel log clean (see $out/console.log)"
	fi
	[ "$rc" = 0 ] || echo "# $case: boot.sh reported a failure (above)"
	summary+=("$(printf '%-10s %8s %10s %8s %6s %6s %8s' "$case" \
		"$(metric "$log" boot_to_multi_user_s)" \
		"$(metric "$log" nfs_rpcs)" "$(metric "$log" nbd_reads)" \
		"$(metric "$log" journal_erofs_errors)" "$(metric "$log" failed_units)" \
		"${e2e_boot_seconds:--}")")
}

print_summary() {
	local line

	echo "1..$n_tests"
	echo "# stock client root (no rwlayer), memory debugging ${RWLAYER_VM_DEBUG:-1}:"
	echo "# case       boot[s] nfs_rpcs nbd_reads erofs failed  qemu[s]"
	for line in "${summary[@]}"; do
		echo "# $line"
	done
	echo "$((n_tests - n_failed)) passed, $n_failed failed"
}

cleanup() {
	e2e_boot_cleanup
	e2e_srv_stop "$srv_run" 2> /dev/null || true
}

main() {
	local root case
	local -a cases

	if [ $# -gt 0 ]; then
		cases=("$@")
	else
		read -r -a cases <<< "${RWLAYER_E2E_CASES:-6.1/nfs 6.1/nfs4 6.1/nbd 6.12/nfs4}"
	fi
	root=$(build_root)
	mkdir -p "$out_base"
	# A run killed before its cleanup leaves a namespace: stop it first.
	e2e_srv_stop "$srv_run" 2> /dev/null || true
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	e2e_srv_start "$srv_run" "$root" "$root.ext4"
	for case in "${cases[@]}"; do
		run_case "$case"
	done
	print_summary
	[ "$n_failed" = 0 ] && [ "$n_tests" -gt 0 ]
}

main "$@"
