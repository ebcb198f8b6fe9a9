#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# dracut.sh [KERNEL...]   boot and check
# dracut.sh build         only build (or reuse) the variant; prints it
#
# The dracut module (scripts/dracut/90rwlayer) end
# to end.  Builds (or reuses) the client root and its dracut variant
# (dracut-root.sh: dracut instead of initramfs-tools, rwlayer through DKMS
# and make install, add_dracutmodules+=" rwlayer "), starts the servers
# and PXE-boots one client per KERNEL (6.1, 6.12 or a full release;
# default 6.1), one at a time, with an NFSv4.1 root mounted by dracut's
# nfs module and rwlayer=on.  The client runs guest/dracut.sh.
#
# Output: TAP ("ok N - KERNEL/nfs4 dracut: what"), a table of boot time
# to multi-user.target, NFS RPCs, "Read-only file system" lines in the
# journal, failed units and QEMU wall clock, then "N passed, N failed".
# Exit status non-zero when anything failed.
#
# Logs: $BUILD/e2e/dracut/<kernel>/ (console.log, output.log, qemu.log)
# and $BUILD/e2e/dracut/servers/; the variant's build log:
# $RWLAYER_E2E_CACHE/dracut-root.log.  Environment: BUILD, and those of
# boot.sh, servers.sh and client-root.sh.  Needs root.
set -eu

e2e_drc_dir=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$e2e_drc_dir/../.." && pwd)
out_base=${BUILD:-$repo/build}/e2e/dracut
srv_run=$out_base/servers

# shellcheck source=scripts/e2e/client-root.sh
. "$e2e_drc_dir/client-root.sh"
# shellcheck source=scripts/e2e/rwlayer-install.sh
. "$e2e_drc_dir/rwlayer-install.sh"
# shellcheck source=scripts/e2e/dracut-root.sh
. "$e2e_drc_dir/dracut-root.sh"
# shellcheck source=scripts/e2e/boot.sh
. "$e2e_drc_dir/boot.sh"
# shellcheck source=scripts/e2e/tap.sh
. "$e2e_drc_dir/tap.sh"

# dracut's syntax for the root (dracut.cmdline(7)): root=nfs4:SERVER:PATH:OPTIONS,
# mounted by its nfs module with mount.nfs.  vers=4.1 as in the
# initramfs-tools cases (boot.sh).  Replaces boot.sh's function: every
# boot of this script is of this kind.
e2e_root_params() {
	echo "root=nfs4:$e2e_guest_ip:$e2e_nfs_export:vers=4.1"
}

summary=()

# boot_one KERNEL: boot, wait, report.
boot_one() {
	local kernel=$1 case="$1/nfs4 dracut" out qrc=0 secs log

	out=$out_base/$kernel
	log=$out/output.log
	rm -rf "$out"
	mkdir -p "$out"
	if ! RWLAYER_E2E_APPEND=rwlayer=on e2e_boot_start "$srv_run" "$out" "$kernel" nfs4 dracut 1; then
		tap not_ok "$case: QEMU started"
		return 0
	fi
	wait "$e2e_qemu_pid" || qrc=$?
	e2e_qemu_pid=
	secs=$(e2e_boot_seconds_since "$e2e_boot_t0")
	collect_guest_tap "$case" "$log"
	if e2e_boot_verdict "$out" "$qrc" 2> "$out/verdict.log"; then
		tap ok "$case: guest ran to its end"
	else
		sed 's/^/# /' "$out/verdict.log"
		tap not_ok "$case: guest ran to its end (see $out)"
	fi
	if "$e2e_drc_dir/../vm/scan-console.sh" "$out/console.log" > /dev/null 2>&1; then
		tap ok "$case: guest kernel log clean"
	else
		tap not_ok "$case: guest kernel log clean (see $out/console.log)"
	fi
	summary+=("$(printf '%-20s %8s %9s %6s %6s %8s' "$case" \
		"$(metric "$log" boot_to_multi_user_s)" "$(metric "$log" nfs_rpcs)" \
		"$(metric "$log" journal_erofs_errors)" "$(metric "$log" failed_units)" "$secs")")
}

print_summary() {
	local line

	echo "1..$n_tests"
	echo "# variant built or reused in ${build_seconds} s: $drc_root"
	echo "# memory debugging ${RWLAYER_VM_DEBUG:-1}; boot = CLOCK_MONOTONIC at multi-user.target,"
	echo "# rpcs = NFS RPCs when the boot finished, qemu = wall clock"
	echo "# case                  boot[s]  nfs_rpcs  erofs failed  qemu[s]"
	for line in "${summary[@]}"; do
		echo "# $line"
	done
	echo "# wall time: $((SECONDS / 60)) min $((SECONDS % 60)) s"
	echo "$((n_tests - n_failed)) passed, $n_failed failed"
}

cleanup() {
	e2e_boot_cleanup
	e2e_srv_stop "$srv_run" 2> /dev/null || true
}

main() {
	local kernel start
	local -a kernels=("$@")

	[ ${#kernels[@]} -gt 0 ] || kernels=(6.1)
	# One run at a time, as e2e.sh: the runs share the cached roots and
	# the two cores.
	mkdir -p "${e2e_cache:?}"
	exec 9> "$e2e_cache/e2e.lock"
	if ! flock -n 9; then
		echo "# waiting for another e2e run to finish ($e2e_cache/e2e.lock)" >&2
		flock 9
	fi
	start=$SECONDS
	build_root > /dev/null
	drc_root=$(e2e_dracut_root "$(e2e_root_dir)" "$repo")
	build_seconds=$((SECONDS - start))
	if [ "${kernels[*]}" = build ]; then
		echo "$drc_root"
		return 0
	fi
	mkdir -p "$out_base"
	e2e_srv_stop "$srv_run" 2> /dev/null || true
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	# The NBD server needs an image: the stock root's (no client uses it).
	e2e_srv_start "$srv_run" "$drc_root" "$(e2e_root_image)"
	for kernel in "${kernels[@]}"; do
		boot_one "$kernel"
	done
	print_summary
	[ "$n_failed" = 0 ] && [ "$n_tests" -gt 0 ]
}

main "$@"
