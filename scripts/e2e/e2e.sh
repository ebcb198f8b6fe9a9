#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# e2e.sh [GROUP...]: `make e2e`, rwlayer's diskless clients end to end.
#
# Builds (or reuses) the client root, installs rwlayer into a copy of it
# as an admin would (client-root.sh install-rwlayer: DKMS for both
# kernels, make install, /etc/overlaytab, update-initramfs), builds the
# overlayfs baseline variant (client-root.sh overlayfs), starts the
# servers in their namespace and PXE-boots clients with rwlayer=on, each
# running guest/rwlayer.sh with the sections the group asks for:
#
#   main       6.1, NFSv4.1: boot, layers, limit, image update (the host
#              edits the export while the client runs), NFS server killed
#              and restarted, then a clean reboot and the same client
#              booted again: its changes are gone (pristine)
#   pair       6.12 over NFSv4.1 and 6.1 over NFSv3, at once, from the
#              same export: boot, layers, limit, isolation
#   nbd        6.1 over NBD: boot, layers, limit
#   overlayfs  6.1, NFSv4.1, the overlayfs variant (guest/overlayfs.sh):
#              the baseline for boot time and RPCs
#   smoke      (not by default) 6.1, NFSv4.1: boot, layers, limit
#
# Default: all four, as few boots as that takes (6 QEMU runs), one guest
# at a time except for the pair.  The host serves the guests' requests
# (RWLAYER-REQUEST lines on their output, answered with share/ack/NAME;
# see guest/lib.sh) while they run.  After the rwlayer groups the export
# is checked to be untouched.
#
# Output: TAP ("ok N - CASE: what"), then a table of boot time to
# multi-user.target, NFS RPCs (or NBD reads) during boot, "Read-only file
# system" lines in the journal, failed units and QEMU wall clock per boot,
# and "N passed, N failed".  Exit status non-zero when anything failed.
#
# Logs: $BUILD/e2e/rwlayer/<case>/ (console.log, output.log, qemu.log,
# share/) and $BUILD/e2e/rwlayer/servers/.  Environment: BUILD,
# RWLAYER_E2E_GROUPS (instead of arguments), RWLAYER_E2E_REBOOT_TIMEOUT
# (seconds from the reboot request to QEMU's exit, default 90), and those
# of boot.sh, servers.sh and client-root.sh.
set -eu

e2e_main_dir=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$e2e_main_dir/../.." && pwd)
out_base=${BUILD:-$repo/build}/e2e/rwlayer
srv_run=$out_base/servers

# shellcheck source=scripts/e2e/client-root.sh
. "$e2e_main_dir/client-root.sh"
# shellcheck source=scripts/e2e/rwlayer-install.sh
. "$e2e_main_dir/rwlayer-install.sh"
# shellcheck source=scripts/e2e/overlayfs-root.sh
. "$e2e_main_dir/overlayfs-root.sh"
# shellcheck source=scripts/e2e/boot.sh
. "$e2e_main_dir/boot.sh"
# shellcheck source=scripts/e2e/tap.sh
. "$e2e_main_dir/tap.sh"

summary=()

# tap_if WHAT CMD...: ok when CMD succeeds.
tap_if() {
	local what=$1
	shift

	if "$@"; then
		tap ok "$what"
	else
		tap not_ok "$what"
	fi
}

# --- the image update (guest/rwlayer.sh, section update) -------------

# Files in the export that the host changes while a client runs: under
# /srv/e2e-update (a union rule in e2e.conf) and /opt/e2e-update (no
# rule).  Made before the clients boot, so they are part of the image.
update_prepare() {
	local root=$1 f

	update_cleanup "$root"
	mkdir -p "$root/srv/e2e-update" "$root/opt/e2e-update"
	for f in a b c d h; do printf 'v1\n' > "$root/srv/e2e-update/$f.txt"; done
	for f in e f; do printf 'v1\n' > "$root/opt/e2e-update/$f.txt"; done
}

# In place (same inode, truncated and written) and by rename (a new
# inode: what rsync, dpkg and most image tools do), a new file and a
# removed one.
update_apply() {
	local u=$1/srv/e2e-update o=$1/opt/e2e-update

	printf 'v2\n' > "$u/a.txt"
	printf 'v2\n' > "$u/b.txt.new" && mv "$u/b.txt.new" "$u/b.txt"
	printf 'v2\n' > "$u/c.txt"
	printf 'v2\n' > "$u/d.txt.new" && mv "$u/d.txt.new" "$u/d.txt"
	printf 'v2\n' > "$u/g.txt"
	rm "$u/h.txt"
	printf 'v2\n' > "$o/e.txt"
	printf 'v2\n' > "$o/f.txt.new" && mv "$o/f.txt.new" "$o/f.txt"
}

update_cleanup() {
	rm -rf "$1/srv/e2e-update" "$1/opt/e2e-update"
}

# --- clients ---------------------------------------------------------

# Per running client (slot): case name, output dir, share, QEMU pid,
# start time, requests handled so far, when it asked to reboot.
declare -a c_case c_out c_share c_pid c_t0 c_secs c_handled c_reboot_at c_qrc
declare -A barrier_waiting

# make_share SHARE SECTIONS: the directory the guest reads its tests from
# (virtio-9p, read-only for the guest): the guest scripts, the sections
# to run, and ack/ for the host's answers.
make_share() {
	local share=$1 sections=$2

	rm -rf "$share"
	mkdir -p "$share/ack"
	cp "$e2e_main_dir"/guest/*.sh "$share/"
	echo "$sections" > "$share/sections"
}

# start_client SLOT CASE KERNEL ROOT CLIENT TEST SECTIONS [APPEND]
start_client() {
	local slot=$1 case=$2 kernel=$3 root_kind=$4 client=$5 test=$6 sections=$7
	local append=${8:-rwlayer=on} out

	out=$out_base/$(echo "$case" | tr -cs 'A-Za-z0-9.\n' '-')
	c_case[slot]=$case
	c_out[slot]=$out
	c_share[slot]=$out/share
	c_handled[slot]=0
	c_reboot_at[slot]=
	c_qrc[slot]=
	rm -rf "$out"
	mkdir -p "$out"
	make_share "$out/share" "$sections"
	echo "# booting $case: $sections"
	RWLAYER_E2E_APPEND=$append RWLAYER_E2E_GUEST_DIR=$out/share \
		e2e_boot_start "$srv_run" "$out" "$kernel" "$root_kind" "$test" "$client"
	c_pid[slot]=$e2e_qemu_pid
	c_t0[slot]=$e2e_boot_t0
}

ack() {
	local slot=$1 name=$2 answer=$3 share=${c_share[$1]}

	echo "$answer" > "$share/ack/.$name"
	mv "$share/ack/.$name" "$share/ack/$name"
	echo "# ${c_case[$slot]}: $name: $answer"
}

# A barrier is passed when every running client asked for it.
serve_barrier() {
	local slot=$1 name=$2 s all=1

	barrier_waiting[$name]="${barrier_waiting[$name]:-} $slot"
	for s in "${!c_pid[@]}"; do
		[ -n "${c_pid[$s]}" ] || continue
		case " ${barrier_waiting[$name]} " in *" $s "*) ;; *) all= ;; esac
	done
	[ -n "$all" ] || return 0
	for s in ${barrier_waiting[$name]}; do
		ack "$s" "$name" "passed"
	done
}

serve_request() {
	local slot=$1 name=$2 root

	root=$(cat "$srv_run/nfs.root")
	case "$name" in
	update)
		if update_apply "$root"; then
			ack "$slot" update "done"
		else
			ack "$slot" update "failed: editing the export"
		fi
		;;
	nfs-outage)
		# The answer first: the guest reads it (and runs sleep, from the
		# server) before the server goes.
		ack "$slot" nfs-outage "SIGKILL in ${nfs_kill_after} s, start again ${nfs_down_for} s later"
		scheduled+=("$((SECONDS + nfs_kill_after)) nfs_kill" \
			"$((SECONDS + nfs_kill_after + nfs_down_for)) nfs_start")
		;;
	barrier-*) serve_barrier "$slot" "$name" ;;
	*) ack "$slot" "$name" "failed: unknown request" ;;
	esac
}

# New requests in a client's output; a reboot request starts its clock.
poll_client() {
	local slot=$1 log=${c_out[$1]}/output.log requests count name

	mapfile -t requests < <(tr -d '\r' < "$log" | sed -n 's/^RWLAYER-REQUEST \([A-Za-z0-9_-]*\)$/\1/p')
	count=${#requests[@]}
	while [ "${c_handled[$slot]}" -lt "$count" ]; do
		name=${requests[${c_handled[$slot]}]}
		c_handled[slot]=$((c_handled[slot] + 1))
		serve_request "$slot" "$name"
	done
	if [ -z "${c_reboot_at[$slot]}" ] && tr -d '\r' < "$log" | grep -aqx RWLAYER-REBOOT; then
		c_reboot_at[slot]=$SECONDS
	fi
	if [ -n "${c_reboot_at[$slot]}" ] &&
		[ $((SECONDS - c_reboot_at[slot])) -gt "${RWLAYER_E2E_REBOOT_TIMEOUT:-90}" ]; then
		echo "# ${c_case[$slot]}: the reboot takes too long: QEMU stopped"
		kill "${c_pid[$slot]}" 2> /dev/null || true
	fi
}

# Host actions due at a time (SECONDS), "TIME FUNCTION".
scheduled=()
nfs_kill_after=3
nfs_down_for=20

nfs_kill() {
	e2e_srv_kill "$srv_run" nfs
	echo "# ganesha killed (SIGKILL)"
}

nfs_start() {
	if (e2e_nfs_start "$srv_run"); then
		echo "# ganesha started again"
	else
		echo "# ganesha did not start again (log: $srv_run/ganesha.log)"
	fi
}

run_scheduled() {
	local item left=()

	for item in "${scheduled[@]}"; do
		if [ "${item%% *}" -le "$SECONDS" ]; then
			"${item#* }"
		else
			left+=("$item")
		fi
	done
	scheduled=("${left[@]}")
}

# Serve every running client until all QEMUs have exited.
serve_clients() {
	local slot running

	while :; do
		running=0
		for slot in "${!c_pid[@]}"; do
			[ -n "${c_pid[$slot]}" ] || continue
			poll_client "$slot"
			if kill -0 "${c_pid[$slot]}" 2> /dev/null; then
				running=1
			else
				c_secs[slot]=$(e2e_boot_seconds_since "${c_t0[$slot]}")
				c_qrc[slot]=0
				wait "${c_pid[$slot]}" || c_qrc[slot]=$?
				c_pid[slot]=
				poll_client "$slot"
			fi
		done
		run_scheduled
		[ "$running" = 1 ] || break
		sleep 0.5
	done
	# A server stopped for a client that has gone comes back anyway.
	while [ "${#scheduled[@]}" -gt 0 ]; do
		run_scheduled
		sleep 0.5
	done
	barrier_waiting=()
}

# finish_client SLOT [MARKER]: count what the boot reported.
finish_client() {
	local slot=$1 marker=${2:-} case=${c_case[$1]} out=${c_out[$1]} log

	log=$out/output.log
	collect_guest_tap "$case" "$log"
	if e2e_boot_verdict "$out" "${c_qrc[$slot]}" "$marker" 2> "$out/verdict.log"; then
		tap ok "$case: guest ran to ${marker:-its end}"
	else
		sed 's/^/# /' "$out/verdict.log"
		tap not_ok "$case: guest ran to ${marker:-its end} (see $out)"
	fi
	if "$e2e_main_dir/../vm/scan-console.sh" "$out/console.log" > /dev/null 2>&1; then
		tap ok "$case: guest kernel log clean"
	else
		tap not_ok "$case: guest kernel log clean (see $out/console.log)"
	fi
	if [ -n "${c_reboot_at[$slot]}" ]; then
		echo "# $case: from the reboot request to QEMU's exit: $((SECONDS - c_reboot_at[slot])) s"
	fi
	summary+=("$(printf '%-24s %8s %9s %9s %6s %6s %8s' "$case" \
		"$(metric "$log" boot_to_multi_user_s)" \
		"$(metric "$log" nfs_rpcs)" "$(metric "$log" nbd_reads)" \
		"$(metric "$log" journal_erofs_errors)" "$(metric "$log" failed_units)" \
		"${c_secs[$slot]}")")
}

# run_one CASE KERNEL ROOT CLIENT TEST SECTIONS [APPEND] [MARKER]
run_one() {
	start_client 0 "$1" "$2" "$3" "$4" "$5" "$6" "${7:-rwlayer=on}" || {
		tap not_ok "$1: QEMU started"
		return 0
	}
	serve_clients
	finish_client 0 "${8:-}"
}

# --- groups ----------------------------------------------------------

group_main() {
	run_one "6.1/nfs4 rwlayer" 6.1 nfs4 1 rwlayer \
		"boot layers limit update nfs reboot" rwlayer=on RWLAYER-REBOOT
	# The same client again: a power-on after the clean reboot.
	run_one_after_reboot "${c_out[0]}"
}

run_one_after_reboot() {
	local before=$1/output.log

	start_client 0 "6.1/nfs4 rwlayer, rebooted" 6.1 nfs4 1 rwlayer "boot layers pristine" || {
		tap not_ok "6.1/nfs4 rwlayer, rebooted: QEMU started"
		return 0
	}
	metric "$before" machine_id > "${c_share[0]}/machine-id.before"
	serve_clients
	finish_client 0
}

group_pair() {
	local id0 id1

	if ! start_client 0 "6.12/nfs4 rwlayer, pair" 6.12 nfs4 2 rwlayer "boot layers limit isolation" ||
		! start_client 1 "6.1/nfs rwlayer, pair" 6.1 nfs 3 rwlayer "boot layers limit isolation"; then
		tap not_ok "pair: both QEMUs started"
		return 0
	fi
	serve_clients
	finish_client 0
	finish_client 1
	unset 'c_pid[1]'
	id0=$(metric "${c_out[0]}/output.log" machine_id)
	id1=$(metric "${c_out[1]}/output.log" machine_id)
	tap_if "pair: the two clients have their own machine-id ($id0, $id1)" \
		[ "$id0" != - -a "$id0" != "$id1" ]
}

# Not in the default run: one boot, for a quick look.
group_smoke() {
	run_one "6.1/nfs4 rwlayer, smoke" 6.1 nfs4 1 rwlayer "boot layers limit"
}

group_nbd() {
	run_one "6.1/nbd rwlayer" 6.1 nbd 4 rwlayer "boot layers limit"
}

group_overlayfs() {
	local ovl

	ovl=$(e2e_overlayfs_root "$(e2e_root_dir)")
	e2e_srv_signal "$srv_run" nfs TERM
	e2e_nfs_start "$srv_run" "$ovl"
	run_one "6.1/nfs4 overlayfs" 6.1 nfs4 5 overlayfs "boot" rwlayer=off
}

# --- main ------------------------------------------------------------

print_summary() {
	local line

	echo "1..$n_tests"
	echo "# memory debugging ${RWLAYER_VM_DEBUG:-1}; boot = CLOCK_MONOTONIC at multi-user.target,"
	echo "# rpcs = NFS RPCs of the root mount when the boot finished, qemu = wall clock"
	echo "# case                      boot[s]  nfs_rpcs nbd_reads  erofs failed  qemu[s]"
	for line in "${summary[@]}"; do
		echo "# $line"
	done
	echo "# e2e wall time: $((SECONDS / 60)) min $((SECONDS % 60)) s"
	echo "$((n_tests - n_failed)) passed, $n_failed failed"
}

cleanup() {
	local slot

	for slot in "${!c_pid[@]}"; do
		[ -z "${c_pid[$slot]}" ] || kill "${c_pid[$slot]}" 2> /dev/null || true
	done
	e2e_srv_stop "$srv_run" 2> /dev/null || true
	[ -z "${rwl_root:-}" ] || update_cleanup "$rwl_root"
}

main() {
	local group stamp changed
	local -a groups

	if [ $# -gt 0 ]; then
		groups=("$@")
	else
		read -r -a groups <<< "${RWLAYER_E2E_GROUPS:-main pair nbd overlayfs}"
	fi
	for group in "${groups[@]}"; do
		declare -F "group_$group" > /dev/null || e2e_die "unknown group '$group': main pair nbd overlayfs smoke"
	done
	# One run at a time on this machine: the runs share the cached roots
	# (the update test edits the export) and the two cores.
	mkdir -p "$e2e_cache"
	exec 9> "$e2e_cache/e2e.lock"
	if ! flock -n 9; then
		echo "# waiting for another e2e run to finish ($e2e_cache/e2e.lock)"
		flock 9
	fi
	build_root > /dev/null
	rwl_root=$(e2e_rwlayer_root "$(e2e_root_dir)" "$repo")
	mkdir -p "$out_base"
	e2e_srv_stop "$srv_run" 2> /dev/null || true
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	update_prepare "$rwl_root"
	stamp=$out_base/export.stamp
	touch "$stamp"
	e2e_srv_start "$srv_run" "$rwl_root" "$rwl_root.ext4"
	for group in "${groups[@]}"; do
		[ "$group" = overlayfs ] && continue
		"group_$group"
	done
	# Nothing a client did reached the server's tree (the export is
	# read-only; the boot script moves nothing, links nothing).
	changed=$(find "$rwl_root" -newer "$stamp" \
		! -path "$rwl_root/srv/e2e-update*" ! -path "$rwl_root/opt/e2e-update*" | head -n 5)
	tap_if "the exported tree is unchanged by the clients${changed:+ (changed: $changed)}" \
		[ -z "$changed" ]
	case " ${groups[*]} " in *" overlayfs "*) group_overlayfs ;; esac
	print_summary
	[ "$n_failed" = 0 ] && [ "$n_tests" -gt 0 ]
}

main "$@"
