#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh KVER MODE[:ARG] OUTDIR
#
# Boot Debian kernel KVER under QEMU TCG (KVM does not work on our hosts)
# with a busybox initramfs and run scripts/vm/guest/MODE.sh (with the
# argument ARG, if given) as the guest's only job.  The one VM runner for
# the tests and the benchmark.  KVER may also be the debug kernel that
# scripts/debug-kernel.sh built (e.g. 6.12.118-rwldebug): its image and
# modules come from that cache, and its command line turns on what it was
# built for (kernel_cmdline).
#
# OUTDIR gets initramfs.cpio.zst, console.log (ttyS0: the kernel console),
# output.log (ttyS1: the guest script's stdout+stderr and the
# "RWLAYER-EXIT <rc>" marker) and qemu.log (QEMU's own stderr).  The guest
# output is streamed to stdout while the guest runs.
#
# Exit 0 only if the marker arrived, the guest script exited 0, the guest
# powered off within a minute of the marker (else QEMU is stopped then,
# and OUTDIR/no-poweroff says so) and the kernel log holds no problem
# report (scan-console.sh).  A guest script may instead end the guest on
# purpose with a reset (guest/crash.sh): see planned_reset.
#
# Environment: BUILD (default <repo>/build), RWLAYER_VM_MEM (MiB, 2048),
# RWLAYER_VM_TIMEOUT (seconds of wall clock, 1500; 4500 for the debug
# kernel), RWLAYER_CACHE (where the debug kernel is, /var/cache/rwlayer),
# RWLAYER_VM_DISK (a raw image file the guest gets as /dev/vda; it keeps
# what the guest wrote, for a second boot), RWLAYER_VM_ICOUNT=1 (the
# guest's clocks count instructions: see start_qemu).
set -eu

vm_dir=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$vm_dir/../.." && pwd)
export BUILD=${BUILD:-$repo/build}
debug_kernels=${RWLAYER_CACHE:-/var/cache/rwlayer}/debug-kernel
mem=${RWLAYER_VM_MEM:-2048}
timeout_s=${RWLAYER_VM_TIMEOUT:-1500}
# Seconds QEMU may keep running after the guest's RWLAYER-EXIT marker.
poweroff_grace=60

die() {
	echo "run.sh: $*" >&2
	exit 1
}

# A debug kernel (scripts/debug-kernel.sh) has its image in its cache
# directory; a Debian kernel is in /boot.
debug_kernel() {
	[ -r "$debug_kernels/$1/bzImage" ]
}

kernel_image() {
	if debug_kernel "$1"; then
		echo "$debug_kernels/$1/bzImage"
	else
		echo "/boot/vmlinuz-$1"
	fi
}

# Checked before anything is built so a typo fails in a second.
check_args() {
	[ $# -eq 3 ] || die "usage: run.sh KVER MODE[:ARG] OUTDIR"
	[ -r "$(kernel_image "$1")" ] ||
		die "no kernel image /boot/vmlinuz-$1 (apt-get install linux-image-$1) nor $debug_kernels/$1 (scripts/debug-kernel.sh)"
	[ -f "$vm_dir/guest/${2%%:*}.sh" ] || die "no guest script scripts/vm/guest/${2%%:*}.sh"
	command -v qemu-system-x86_64 > /dev/null || die "qemu-system-x86_64 missing: apt-get install qemu-system-x86"
	case "$mem$timeout_s" in
	*[!0-9]*) die "RWLAYER_VM_MEM and RWLAYER_VM_TIMEOUT must be numbers" ;;
	esac
	case "${RWLAYER_VM_DISK:-}" in
	*,*) die "RWLAYER_VM_DISK: QEMU cannot take a ',' in its path" ;;
	esac
	[ -z "${RWLAYER_VM_DISK:-}" ] || [ -w "$RWLAYER_VM_DISK" ] ||
		die "RWLAYER_VM_DISK=$RWLAYER_VM_DISK is not a writable file"
}

# Debugging on, so memory errors show up in console.log:
#  panic_on_warn=1 oops=panic  the first WARN/oops ends the run visibly
#  panic=-1 (+ -no-reboot)     a panic stops QEMU instead of hanging
#  slub_debug=FZPU             red zones, poisoning, sanity checks, owners
#  kfence.sample_interval=10   KFENCE (6.12; 6.1 has it compiled out)
# RWLAYER_VM_DEBUG=0 drops the memory debugging, for benchmarks only:
# slub_debug alone makes allocation-heavy paths several times slower.
# The debug kernel has KASAN instead, which finds what those two find and
# more; there
#  kasan_multi_shot            every bad access is reported, not only the
#                              first (it also keeps panic_on_warn from
#                              stopping the run at the first report)
#  no_hash_pointers            real addresses in the reports
# Lockdep, DEBUG_ATOMIC_SLEEP and DEBUG_LIST need nothing; fault injection
# is set up at run time by the test that uses it (selftests/faults.c).
kernel_cmdline() {
	local kver=$1 mode=$2 debug="slub_debug=FZPU kfence.sample_interval=10"

	[ "${RWLAYER_VM_DEBUG:-1}" = 0 ] && debug=
	debug_kernel "$kver" && debug="kasan_multi_shot no_hash_pointers"
	echo "console=ttyS0 panic_on_warn=1 panic=-1 oops=panic $debug rwltest=$mode"
}

# TCG with one vCPU: -smp 2 is slower on 2 host cores.  -nodefaults drops
# the default NIC, VGA and serial; the only devices are two serial ports
# and RWLAYER_VM_DISK's virtio disk.  That disk has cache=unsafe: only the
# guest crashes, never the host, so what the guest wrote reaches the next
# boot once QEMU has it, and the guest's flushes need not reach the host's
# disk.  With RWLAYER_VM_ICOUNT=1 the guest's clocks advance one
# nanosecond per instruction (and skip idle time), so a guest's timings
# are its instruction counts: the same on a busy and on a quiet host
# (make bench).  qemu runs under timeout(1) in the background; its pid is
# qemu_pid.
start_qemu() {
	local kver=$1 mode=$2 out=$3 disk=() icount=()

	[ -z "${RWLAYER_VM_DISK:-}" ] ||
		disk=(-drive "file=$RWLAYER_VM_DISK,format=raw,if=virtio,cache=unsafe")
	[ "${RWLAYER_VM_ICOUNT:-0}" != 1 ] || icount=(-icount shift=0,sleep=off)
	: > "$out/console.log"
	: > "$out/output.log"
	timeout --kill-after=10 "$timeout_s" \
		qemu-system-x86_64 -accel tcg -cpu max -smp 1 -m "$mem" "${icount[@]}" \
		-kernel "$(kernel_image "$kver")" -initrd "$out/initramfs.cpio.zst" \
		-append "$(kernel_cmdline "$kver" "$mode")" \
		-display none -monitor none -no-reboot -nodefaults \
		-serial "file:$out/console.log" -serial "file:$out/output.log" \
		"${disk[@]}" < /dev/null > "$out/qemu.log" 2>&1 &
	qemu_pid=$!
}

# Follow output.log until QEMU exits (the guest wrote it without \r).  In
# the background, so that run.sh waits in `wait`, which a signal
# interrupts: the INT/TERM trap then stops QEMU at once.
stream_output() {
	tail -n +1 -s 0.2 -f --pid="$qemu_pid" "$1/output.log" &
	tail_pid=$!
}

# init powers the guest off right after its RWLAYER-EXIT marker.  A kernel
# that cannot power off (without ACPI, as the debug kernel once was) halts
# instead and QEMU would run on until the timeout: poweroff_grace seconds
# after the marker, stop QEMU and leave a note for verdict.
watch_poweroff() {
	local out=$1 waited=0

	while kill -0 "$qemu_pid" 2> /dev/null; do
		if [ "$waited" -gt 0 ] || grep -qa 'RWLAYER-EXIT [0-9]*$' "$out/output.log"; then
			waited=$((waited + 1))
			if [ "$waited" -gt "$poweroff_grace" ]; then
				: > "$out/no-poweroff"
				kill "$qemu_pid" 2> /dev/null || true
				return 0
			fi
		fi
		sleep 1
	done
}

# Guest-side timestamps that init logged on the console.
report_times() {
	local out=$1 wall=$2 booted ended

	booted=$(sed -n 's/.*rwlayer-init: init started at \([0-9.]*\)s.*/\1/p' "$out/console.log" | head -n 1)
	ended=$(sed -n 's/.*rwlayer-init: guest script exited [0-9]* at \([0-9.]*\)s.*/\1/p' "$out/console.log" | head -n 1)
	echo "run.sh: $kver/$mode: /init reached at ${booted:-?} s guest uptime," \
		"guest script done at ${ended:-?} s, ${wall} s wall clock in QEMU"
}

# Did the guest script end the guest with a reset on purpose (sysrq b,
# guest/crash.sh)?  It says so on the console, where the line is out
# before the reset (the result channel might not be), and the kernel's
# own "sysrq: Resetting" must follow; -no-reboot then ends QEMU.
planned_reset() {
	tr -d '\r' < "$1/console.log" | sed -n '/rwlayer-guest: planned reset/,$p' |
		grep -q 'sysrq: Resetting'
}

# Decide pass/fail from the QEMU exit status, the marker and the console.
verdict() {
	local out=$1 qrc=$2 marker rc failed=0 log_clean=1

	if [ -e "$out/no-poweroff" ]; then
		echo "run.sh: FAIL: $kver/$mode: the guest did not power off within ${poweroff_grace}s of its RWLAYER-EXIT (no ACPI power-off in the kernel?), QEMU stopped; end of console.log:" >&2
		tr -d '\r' < "$out/console.log" | tail -n 5 | sed 's/^/  | /' >&2
		failed=1
	elif [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
		echo "run.sh: FAIL: $kver/$mode: timed out after ${timeout_s}s (RWLAYER_VM_TIMEOUT), QEMU killed" >&2
		failed=1
	elif [ "$qrc" -ne 0 ]; then
		echo "run.sh: FAIL: $kver/$mode: QEMU exited with status $qrc:" >&2
		sed 's/^/  /' "$out/qemu.log" >&2
		failed=1
	fi
	if ! "$vm_dir/scan-console.sh" "$out/console.log" >&2; then
		echo "run.sh: FAIL: $kver/$mode: the guest kernel log has problem reports (above)" >&2
		failed=1 log_clean=0
	fi
	marker=$(grep -a -o 'RWLAYER-EXIT [0-9]*$' "$out/output.log" | tail -n 1 || true)
	if [ -z "$marker" ] && planned_reset "$out"; then
		echo "run.sh: $kver/$mode: the guest reset itself as planned (sysrq b)"
	elif [ -z "$marker" ]; then
		echo "run.sh: FAIL: $kver/$mode: no RWLAYER-EXIT marker, the guest did not finish" >&2
		# Without a kernel report the end of the console is the best clue.
		if [ "$log_clean" = 1 ]; then
			echo "end of console.log:" >&2
			tr -d '\r' < "$out/console.log" | tail -n 25 | sed 's/^/  | /' >&2
		fi
		failed=1
	else
		rc=${marker#RWLAYER-EXIT }
		if [ "$rc" != 0 ]; then
			echo "run.sh: FAIL: $kver/$mode: guest script exited with status $rc" >&2
			failed=1
		fi
	fi
	return "$failed"
}

# timeout(1) runs QEMU in its own process group, out of reach of a ^C;
# stop it (timeout passes the TERM on) and the tail with it.
cleanup() {
	local pid

	for pid in ${qemu_pid:-} ${tail_pid:-} ${watch_pid:-}; do
		kill "$pid" 2> /dev/null || true
	done
}

main() {
	local out start arg qrc=0

	check_args "$@"
	kver=$1 mode=$2 out=$3
	# The debug kernel runs the same tests several times slower.
	if debug_kernel "$kver" && [ -z "${RWLAYER_VM_TIMEOUT:-}" ]; then
		timeout_s=4500
	fi
	mkdir -p "$out"
	out=$(cd "$out" && pwd)
	rm -f "$out"/{console,output,qemu}.log "$out/no-poweroff"
	"$vm_dir/mkinitramfs.sh" "$kver" "$out/initramfs.cpio.zst"
	[ "$mode" = "${mode%%:*}" ] || arg=" ${mode#*:}"
	echo "run.sh: booting $kver, guest script ${mode%%:*}.sh${arg:-}, logs in $out"
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	start=$(date +%s.%N)
	start_qemu "$kver" "$mode" "$out"
	stream_output "$out"
	watch_poweroff "$out" &
	watch_pid=$!
	wait "$qemu_pid" || qrc=$?
	qemu_pid=
	wait "$watch_pid" || true
	watch_pid=
	# tail notices within 0.2 s that QEMU is gone, prints the rest, exits.
	wait "$tail_pid" || true
	tail_pid=
	report_times "$out" "$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')"
	if verdict "$out" "$qrc"; then
		echo "run.sh: PASS: $kver/$mode"
		return 0
	fi
	return 1
}

main "$@"
