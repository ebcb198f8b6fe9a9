#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh (make bench): rwlayer against the bare lower and overlayfs.
#
# For every target kernel (scripts/kernels.sh, or RWLAYER_KERNELS): build
# rwlayer.ko (make modules-all) and rwl_bench, boot the kernel under QEMU
# TCG once (scripts/vm/run.sh KVER bench $BUILD/KVER/vm-bench) to run
# scripts/vm/guest/bench.sh, and print a table of the medians with the
# ratios rwlayer/bare and rwlayer/overlayfs; a ratio above its aim
# (rwlayer/bare > 1.10, rwlayer/overlayfs > 1.00) is marked "!".  The table
# also goes to $BUILD/bench-KVER.txt.
#
# Missed aims are reported, not failed: exit 0 unless a build or a guest
# run failed or results are missing.
#
# Environment: BUILD, RWLAYER_KERNELS, RWL_BENCH_RUNS (timed runs per
# filesystem and workload, odd, default 9; it reaches the guest through
# the initramfs), RWLAYER_VM_MEM, RWLAYER_VM_TIMEOUT (see run.sh).
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
export BUILD=${BUILD:-$repo/build}
# 9 rather than rwl_bench's 5: a TCG guest on a shared 2-core host sees
# single runs take twice as long, and ratios near 1.00 need a steady median;
# a whole guest run is then about 2.5 minutes per kernel.
runs=${RWL_BENCH_RUNS:-9}
workloads="stat-cold stat-warm open-read readdir seqread lookup-miss"

die() {
	echo "bench.sh: $*" >&2
	exit 1
}

case "$runs" in
'' | *[!0-9]*) die "RWL_BENCH_RUNS must be an odd number" ;;
esac
[ $((runs % 2)) -eq 1 ] || die "RWL_BENCH_RUNS must be an odd number"

kernels=${RWLAYER_KERNELS:-$("$repo/scripts/kernels.sh")}
kernels=$(tr -s " \n" "  " <<< "$kernels" | sed "s/^ *//; s/ *$//")
[ -n "$kernels" ] || die "no target kernel installed (scripts/kernels.sh printed nothing)"
[ -x "$repo/scripts/vm/run.sh" ] || die "no VM runner scripts/vm/run.sh"

# Print the table for one kernel from the guest's output.log.
table() {
	local kver=$1 log=$2

	tr -d '\r' < "$log" | LC_ALL=C awk -v kver="$kver" -v runs="$runs" -v wl="$workloads" '
	function fmt(ns, unit) {
		if (unit == "s")
			return sprintf("%.3f s", ns / 1e9)
		if (unit == "ms")
			return sprintf(ns >= 1e8 ? "%.0f ms" : ns >= 1e7 ? "%.1f ms" : "%.2f ms", ns / 1e6)
		return sprintf(ns >= 1e5 ? "%.0f µs" : "%.1f µs", ns / 1e3)
	}
	# printf pads by bytes (LC_ALL=C, also for gawk); µ is two.
	function cell(s, w) {
		return sprintf("%" (w + (index(s, "µ") > 0)) "s", s)
	}
	$1 == "RESULT" && NF >= 7 {
		med[$2, $3] = $4; lo[$2, $3] = $6; hi[$2, $3] = $7; nruns = $5
	}
	$1 == "KERNEL" { guest = $2 }
	$1 == "TIME" { if ($2 == "populate") pop = $3; else wtime += $3 }
	$1 == "NOTE" && /slub_debug is on/ { slub = 1 }
	$1 == "NOTE" && /overlayfs: lowerdir=/ { ovl = $3 }
	END {
		nw = split(wl, w, " ")
		printf "rwlayer bench, kernel %s%s, QEMU TCG, 1 vCPU\n", kver, guest == kver ? "" : " (guest reports " (guest == "" ? "nothing" : guest) ")"
		printf "median of %s runs per filesystem, interleaved; lower on tmpfs\n", nruns == "" ? runs : nruns
		if (ovl != "")
			printf "overlayfs %s; rwlayer lower=/bench-lower\n", ovl
		if (slub) {
			printf "NOTE: the guest kernel ran with slub_debug: lookups, opens and other\n"
			printf "allocating paths are slowed, those of the stacked filesystems most\n"
		}
		printf "\n%-12s %11s %11s %11s %9s %9s %7s\n", "workload", "bare", "overlayfs", "rwlayer", "rwl/bare", "rwl/ovl", "spread"
		missing = 0; over = 0
		for (i = 1; i <= nw; i++) {
			k = w[i]
			if (!((k, "bare") in med) || !((k, "overlayfs") in med) || !((k, "rwlayer") in med)) {
				printf "%-12s %11s %11s %11s %9s %9s %7s\n", k, "-", "-", "-", "-", "-", "-"
				missing++
				continue
			}
			b = med[k, "bare"]; o = med[k, "overlayfs"]; r = med[k, "rwlayer"]
			m = b; if (o < m) m = o; if (r < m) m = r
			unit = m >= 1e9 ? "s" : m >= 1e6 ? "ms" : "us"
			rb = b > 0 ? r / b : 0; ro = o > 0 ? r / o : 0
			sb = sprintf("%.2f", rb); so = sprintf("%.2f", ro)
			# Marked on the printed (rounded) ratio, so 1.10 is never marked.
			if (sb + 0 > 1.10) { sb = sb " !"; over++ } else sb = sb "  "
			if (so + 0 > 1.00) { so = so " !"; over++ } else so = so "  "
			# spread: the widest (max - min) / median of the three
			sp = 0
			split("bare overlayfs rwlayer", fs, " ")
			for (j = 1; j <= 3; j++) {
				x = (hi[k, fs[j]] - lo[k, fs[j]]) / med[k, fs[j]]
				if (x > sp) sp = x
			}
			printf "%-12s %s %s %s %9s %9s %6.0f%%\n", k, cell(fmt(b, unit), 11), cell(fmt(o, unit), 11), cell(fmt(r, unit), 11), sb, so, sp * 100
		}
		printf "\n! = above the aim: rwlayer/bare <= 1.10, rwlayer/overlayfs <= 1.00 (%d missed)\n", over
		printf "spread = widest (max - min) / median of the three filesystems\n"
		printf "stat-cold drops dentries and inodes (drop_caches=2) before each run; a tmpfs\n"
		printf "keeps its own, so only the two unions are cold there\n"
		printf "guest time: populate %s s, workloads %.1f s\n", pop == "" ? "?" : pop, wtime
		if (missing) {
			printf "%d workload(s) without results\n", missing
			exit 1
		}
	}'
}

echo "bench.sh: building rwlayer.ko for: $kernels"
make -C "$repo" --no-print-directory modules-all KERNELS="$kernels"
make -C "$repo/selftests/bench" --no-print-directory OUTPUT="$BUILD/bench"

failed=0
summary=
for kver in $kernels; do
	out=$BUILD/$kver/vm-bench
	rm -rf "$out"
	start=$(date +%s)
	load0=$(cut -d' ' -f1-3 /proc/loadavg)
	rc=0
	# RWL_BENCH_RUNS reaches the guest script through a file in /bench.
	echo "$runs" > "$BUILD/bench/runs"
	# RWLAYER_VM_DEBUG=0: ask the runner for a kernel without slub_debug
	# and KFENCE, which slow every allocation and so the stacked
	# filesystems most; the table says when the guest still had them.
	RWLAYER_VM_DEBUG=${RWLAYER_VM_DEBUG:-0} \
		RWLAYER_VM_TIMEOUT=${RWLAYER_VM_TIMEOUT:-1500} \
		"$repo/scripts/vm/run.sh" "$kver" bench "$out" || rc=$?
	secs=$(($(date +%s) - start))
	if [ "$rc" -ne 0 ]; then
		echo "bench.sh: $kver: the guest run failed (status $rc), logs in $out" >&2
		failed=1
	fi
	if [ ! -f "$out/output.log" ]; then
		echo "bench.sh: $kver: no $out/output.log" >&2
		failed=1
		continue
	fi
	trc=0
	{
		table "$kver" "$out/output.log" || trc=$?
		echo "run: ${secs} s wall clock (boot, populate, workloads);" \
			"host load average $load0 before, $(cut -d' ' -f1-3 /proc/loadavg) after"
	} > "$BUILD/bench-$kver.txt"
	[ "$trc" -eq 0 ] || failed=1
	echo
	cat "$BUILD/bench-$kver.txt"
	summary="$summary $BUILD/bench-$kver.txt"
done

if [ -n "$summary" ]; then
	echo
	echo "bench.sh: tables in$summary"
fi
if [ "$failed" -ne 0 ]; then
	echo "bench.sh: FAILED (see above)" >&2
	exit 1
fi
exit 0
