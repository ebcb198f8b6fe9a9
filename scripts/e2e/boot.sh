#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# boot.sh RUNDIR OUTDIR KERNEL ROOT TEST [CLIENT]
#
# Boot one diskless client the way a real PC boots, under QEMU TCG, with
# the servers of servers.sh (RUNDIR) already running:
#   firmware PXE (SeaBIOS + iPXE ROM of the virtio NIC)
#   -> DHCP + TFTP from QEMU's user networking: pxelinux.0, then the
#      kernel and initrd of the client root's /boot
#   -> initramfs-tools mounts the root: ROOT=nfs (NFSv3 over TCP, klibc
#      nfsmount, what Debian's initramfs-tools does), ROOT=nfs4 (NFSv4.1,
#      the root's boot=nfs4 script) or ROOT=nbd (nbd-client's initramfs
#      script, ext4 image)
#   -> systemd; rwlayer-e2e.service runs scripts/e2e/guest/TEST.sh (over
#      virtio-9p) and powers off.
#
# KERNEL: 6.1, 6.12 or a full release present in the root's /boot.
# CLIENT: a number 1..99 (default 1); it picks the MAC address, the
# pxelinux config file and the hostname (client<N>), so several clients
# can boot at once from the same export.
#
# Network: user networking with restrict=on (the guest reaches nothing but
# QEMU's own DHCP/TFTP and the guestfwd targets).  The server address
# 10.0.2.100 exists only as guestfwd rules, each forwarding one TCP port to
# 127.0.0.1 in the servers' namespace, where QEMU runs.  `cmd:` forwards
# (a busybox nc per connection) because they reconnect after a server
# restart and do not need the server to be up when QEMU starts.
#
# OUTDIR gets console.log (ttyS0, kernel + systemd), output.log (ttyS1,
# the test's output and "RWLAYER-EXIT <status>"), qemu.log, tftp/.
# Exit 0 when the marker arrived with status 0 and the kernel log is clean
# (scripts/vm/scan-console.sh).
#
# Environment: RWLAYER_VM_MEM (MiB, default 1024), RWLAYER_E2E_TIMEOUT
# (seconds, default 900), RWLAYER_VM_DEBUG=0 (no memory debugging),
# RWLAYER_E2E_APPEND (extra kernel parameters), RWLAYER_E2E_GUEST_DIR (the
# directory shared as the tests, default scripts/e2e/guest).
set -eu

e2e_boot_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/e2e/servers.sh
. "$e2e_boot_dir/servers.sh"

e2e_guest_ip=10.0.2.100

e2e_boot_log() {
	echo "boot: $*" >&2
}

# e2e_kernel_release ROOT_DIR KERNEL: the release in ROOT_DIR/boot that
# KERNEL (6.1, 6.12 or a full release) names; the newest if several.
e2e_kernel_release() {
	local root=$1 want=$2 f rel best=

	for f in "$root"/boot/vmlinuz-*; do
		rel=${f##*/vmlinuz-}
		case "$rel" in
		"$want" | "$want".*) best=$rel ;;
		esac
	done
	[ -n "$best" ] || { e2e_boot_log "no kernel $want in $root/boot"; return 1; }
	echo "$best"
}

# Memory debugging as in scripts/vm/run.sh: the first WARN/oops ends the
# run; slub_debug and KFENCE make memory errors visible in console.log.
e2e_debug_params() {
	[ "${RWLAYER_VM_DEBUG:-1}" = 0 ] && return 0
	echo "panic_on_warn=1 oops=panic slub_debug=FZPU kfence.sample_interval=10"
}

# nfs.nfs4_unique_id: QEMU's DHCP gives no host name, so every client
# would present the same NFSv4.1 client owner ("Linux NFSv4.1 (none)")
# and clients running at once would take each other's state.
#
# The root's kernel parameters.  nfs: Debian's initramfs-tools NFS root,
# klibc nfsmount, NFSv2/3 only; with "tcp" it asks rpcbind (111) over TCP
# for mountd (20048) and nfs (2049): all three are forwarded.  nfs4: the
# client root's boot=nfs4 script (guest-files.sh), NFSv4.1, port 2049
# only.  nbd: nbd-client's initramfs script, export "root", reconnecting
# (-persist) after a server restart.
e2e_root_params() {
	case "$1" in
	nfs) echo "root=/dev/nfs nfsroot=$e2e_guest_ip:/client,tcp,v3" ;;
	nfs4) echo "root=/dev/nfs boot=nfs4 nfsroot=$e2e_guest_ip:/client" ;;
	nbd) echo "root=/dev/nbd0 nbdroot=$e2e_guest_ip,root,nbd0" ;;
	*) e2e_boot_log "unknown root kind '$1': nfs | nfs4 | nbd"; return 1 ;;
	esac
}

e2e_kernel_cmdline() {
	local root_kind=$1 test=$2 client=$3

	echo "console=ttyS0,115200 panic=-1 $(e2e_debug_params)" \
		"ip=dhcp net.ifnames=0 ro $(e2e_root_params "$root_kind")" \
		"systemd.hostname=client$client nfs.nfs4_unique_id=e2e-client$client" \
		"rwlayer.e2e=$test ${RWLAYER_E2E_APPEND:-}"
}

# The DMI system UUID: systemd derives the machine id of a client whose
# /etc/machine-id is empty from it, so each client needs its own (QEMU's
# default is the same for all).
e2e_client_uuid() {
	printf '52540012-0000-4000-8000-%s\n' "$(echo "$1" | tr -d ':')"
}

e2e_client_mac() {
	printf '52:54:00:12:34:%02x' "$((0x10 + $1))"
}

# The TFTP tree QEMU serves: pxelinux, its ldlinux.c32, the kernel and
# initrd, and a pxelinux config for this client's MAC address (pxelinux
# looks for pxelinux.cfg/01-<mac> first, as on a real network).
e2e_tftp_tree() {
	local tftp=$1 root=$2 rel=$3 cmdline=$4 mac=$5 cfg

	mkdir -p "$tftp/pxelinux.cfg"
	cp /usr/lib/PXELINUX/pxelinux.0 /usr/lib/syslinux/modules/bios/ldlinux.c32 "$tftp/"
	cp "$root/boot/vmlinuz-$rel" "$tftp/vmlinuz"
	cp "$root/boot/initrd.img-$rel" "$tftp/initrd.img"
	cfg=$tftp/pxelinux.cfg/01-$(echo "$mac" | tr ':' '-')
	cat > "$cfg" <<-EOF
		SERIAL 0 115200
		DEFAULT e2e
		PROMPT 0
		TIMEOUT 0
		LABEL e2e
		  KERNEL vmlinuz
		  INITRD initrd.img
		  APPEND $cmdline
	EOF
}

# One guestfwd per server port, each to 127.0.0.1 and nowhere else.
e2e_netdev() {
	local tftp=$1 port spec

	spec="user,id=net0,restrict=on,tftp=$tftp,bootfile=pxelinux.0"
	for port in "$e2e_rpcbind_port" "$e2e_mnt_port" "$e2e_nfs_port" "$e2e_nbd_port"; do
		spec="$spec,guestfwd=tcp:$e2e_guest_ip:$port-cmd:busybox nc 127.0.0.1 $port"
	done
	echo "$spec"
}

# QEMU inside the servers' namespace, under timeout(1); e2e_qemu_pid.
e2e_start_qemu() {
	local run=$1 out=$2 mac=$3 guest_dir=$4

	: > "$out/console.log"
	: > "$out/output.log"
	e2e_ns_spawn "$run" "$out/qemu.log" \
		timeout --kill-after=10 "${RWLAYER_E2E_TIMEOUT:-900}" \
		qemu-system-x86_64 -accel tcg -cpu max -smp 1 -m "${RWLAYER_VM_MEM:-1024}" \
		-display none -monitor none -no-reboot -nodefaults \
		-serial "file:$out/console.log" -serial "file:$out/output.log" \
		-netdev "$(e2e_netdev "$out/tftp")" \
		-device "virtio-net-pci,netdev=net0,mac=$mac" -uuid "$(e2e_client_uuid "$mac")" \
		-fsdev "local,id=e2e,path=$guest_dir,security_model=none,readonly=on" \
		-device virtio-9p-pci,fsdev=e2e,mount_tag=e2e \
		-boot n
	e2e_qemu_pid=$e2e_spawned
}

# e2e_boot_verdict OUTDIR QEMU_STATUS [MARKER]: 0 when the test ran to its
# marker with status 0 (or, with MARKER, printed MARKER on a line of its
# own and no exit marker: a test that rebooted the client) and the kernel
# log holds no problem report.
e2e_boot_verdict() {
	local out=$1 qrc=$2 want=${3:-} marker failed=0

	if [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
		e2e_boot_log "FAIL: timed out (RWLAYER_E2E_TIMEOUT), QEMU killed"
		failed=1
	elif [ "$qrc" -ne 0 ]; then
		e2e_boot_log "FAIL: QEMU exited with status $qrc: $(cat "$out/qemu.log")"
		failed=1
	fi
	if ! "$e2e_boot_dir/../vm/scan-console.sh" "$out/console.log" >&2; then
		e2e_boot_log "FAIL: the guest kernel log has problem reports (above)"
		failed=1
	fi
	marker=$(tr -d '\r' < "$out/output.log" | grep -a -o 'RWLAYER-EXIT [0-9]*$' | tail -n 1 || true)
	if [ -n "$want" ]; then
		if ! tr -d '\r' < "$out/output.log" | grep -aqx "$want"; then
			e2e_boot_log "FAIL: no $want marker; end of console.log:"
			tr -d '\r' < "$out/console.log" | tail -n 25 | sed 's/^/  | /' >&2
			failed=1
		elif [ -n "$marker" ]; then
			e2e_boot_log "FAIL: the guest test ended ($marker) instead of rebooting"
			failed=1
		fi
	elif [ -z "$marker" ]; then
		e2e_boot_log "FAIL: no RWLAYER-EXIT marker; end of console.log:"
		tr -d '\r' < "$out/console.log" | tail -n 25 | sed 's/^/  | /' >&2
		failed=1
	elif [ "${marker#RWLAYER-EXIT }" != 0 ]; then
		e2e_boot_log "FAIL: the guest test exited with status ${marker#RWLAYER-EXIT }"
		failed=1
	fi
	return "$failed"
}

# e2e_boot_start RUNDIR OUTDIR KERNEL ROOT TEST [CLIENT]: prepare the TFTP
# tree and start QEMU; e2e_qemu_pid and e2e_boot_t0 (date +%s.%N).
e2e_boot_start() {
	local run=$1 out=$2 kernel=$3 root_kind=$4 test=$5 client=${6:-1}
	local root rel mac guest_dir

	guest_dir=${RWLAYER_E2E_GUEST_DIR:-$e2e_boot_dir/guest}
	[ -f "$guest_dir/$test.sh" ] || { e2e_boot_log "no guest test $guest_dir/$test.sh"; return 1; }
	root=$(cat "$run/nfs.root") || { e2e_boot_log "servers not started for $run"; return 1; }
	rel=$(e2e_kernel_release "$root" "$kernel") || return 1
	mac=$(e2e_client_mac "$client")
	mkdir -p "$out"
	rm -rf "$out/tftp"
	e2e_tftp_tree "$out/tftp" "$root" "$rel" \
		"$(e2e_kernel_cmdline "$root_kind" "$test" "$client")" "$mac"
	e2e_boot_log "client$client: $rel, root over $root_kind, test $test, logs in $out"
	e2e_boot_t0=$(date +%s.%N)
	e2e_start_qemu "$run" "$out" "$mac" "$guest_dir"
}

# e2e_boot_seconds_since T0: wall clock seconds since T0, one decimal.
e2e_boot_seconds_since() {
	awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'
}

# e2e_boot RUNDIR OUTDIR KERNEL ROOT TEST [CLIENT]: boot and wait; sets
# e2e_boot_seconds (wall clock from QEMU start to power-off).
e2e_boot() {
	local out=$2 client=${6:-1} qrc=0

	e2e_boot_start "$@" || return 1
	wait "$e2e_qemu_pid" || qrc=$?
	e2e_qemu_pid=
	e2e_boot_seconds=$(e2e_boot_seconds_since "$e2e_boot_t0")
	e2e_boot_log "client$client: QEMU ran ${e2e_boot_seconds}s"
	e2e_boot_verdict "$out" "$qrc"
}

# Stop our QEMU (timeout passes the TERM on) when interrupted.
e2e_boot_cleanup() {
	[ -z "${e2e_qemu_pid:-}" ] || kill "$e2e_qemu_pid" 2> /dev/null || true
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	[ $# -ge 5 ] || e2e_srv_die "usage: boot.sh RUNDIR OUTDIR KERNEL nfs|nfs4|nbd TEST [CLIENT]"
	trap e2e_boot_cleanup EXIT
	trap 'exit 130' INT TERM
	e2e_boot "$@"
fi
