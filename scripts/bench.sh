#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh (make bench): rwlayer against the bare lower and overlayfs.
#
# For every target kernel (scripts/kernels.sh, or RWLAYER_KERNELS): build
# rwlayer.ko (make modules-all) and rwl_bench, boot the kernel under QEMU
# TCG once (scripts/vm/run.sh KVER bench $BUILD/KVER/vm-bench) to run
# scripts/vm/guest/bench.sh, and print two tables of the medians, read
# workloads and write workloads, with the ratios rwlayer/bare and
# rwlayer/overlayfs; a ratio above its aim (rwlayer/bare > 1.10,
# rwlayer/overlayfs > 1.00) is marked "!".  The write table also gives
# the space the 1 GiB copies take (st_blocks); a sparse copy above twice
# its data is marked "!".  The tables also go to $BUILD/bench-KVER.txt.
#
# Missed aims are reported, not failed: exit 0 unless a build or a guest
# run failed or results are missing.
#
# Environment: BUILD, RWLAYER_KERNELS, RWL_BENCH_RUNS (timed runs per
# filesystem and read workload, odd, default 5), RWL_BENCH_WRUNS (write
# workloads, default 3), RWL_BENCH_GRUNS (copyup-1g, default 3),
# RWL_BENCH_WORKLOADS (a subset of the workloads, default all); these
# reach the guest through files in the initramfs.  RWLAYER_VM_MEM
# (default 4096 here: the 1 GiB files and their copies live on tmpfs in
# the guest), RWLAYER_VM_TIMEOUT (see run.sh), RWLAYER_VM_ICOUNT (default
# 1 here: the guest's clock counts instructions, one per nanosecond, so
# the tables are the same on a busy host as on a quiet one and two
# builds can be compared run against run; 0 times the TCG guest by the
# wall clock, which another guest or a build on the host can double).
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
export BUILD=${BUILD:-$repo/build}
# Under the instruction clock (RWLAYER_VM_ICOUNT=1) runs repeat within
# 0-3% (copyup-1g 8%, the pages it gets), so few runs give steady
# medians: 5 for the read workloads.  A write workload run costs a fresh
# union (mount, upper thrown away) and 20,000 operations: 3 runs, and 3
# of copyup-1g, which copies 1 GiB per run.  By the wall clock (0) a
# shared host needs more (9, 7, 3 were used).
runs=${RWL_BENCH_RUNS:-5}
wruns=${RWL_BENCH_WRUNS:-3}
gruns=${RWL_BENCH_GRUNS:-3}
read_workloads="stat-cold stat-warm open-read readdir seqread lookup-miss"
write_workloads="copyup-1g copyup-sparse create unlink rename-upper rename-lower"
export RWLAYER_VM_MEM=${RWLAYER_VM_MEM:-4096}
export RWLAYER_VM_ICOUNT=${RWLAYER_VM_ICOUNT:-1}

die() {
	echo "bench.sh: $*" >&2
	exit 1
}

for v in RWL_BENCH_RUNS:$runs RWL_BENCH_WRUNS:$wruns RWL_BENCH_GRUNS:$gruns; do
	case "${v#*:}" in
	'' | *[!0-9]*) die "${v%%:*} must be an odd number" ;;
	esac
	[ $((${v#*:} % 2)) -eq 1 ] || die "${v%%:*} must be an odd number"
done
if [ -n "${RWL_BENCH_WORKLOADS:-}" ]; then
	for w in $RWL_BENCH_WORKLOADS; do
		case " $read_workloads $write_workloads " in
		*" $w "*) ;;
		*) die "RWL_BENCH_WORKLOADS: unknown workload $w (know: $read_workloads $write_workloads)" ;;
		esac
	done
	sel() {
		local w out=

		for w in $1; do
			case " $RWL_BENCH_WORKLOADS " in
			*" $w "*) out="$out $w" ;;
			esac
		done
		echo "${out# }"
	}
	read_workloads=$(sel "$read_workloads")
	write_workloads=$(sel "$write_workloads")
fi

kernels=${RWLAYER_KERNELS:-$("$repo/scripts/kernels.sh")}
kernels=$(tr -s " \n" "  " <<< "$kernels" | sed "s/^ *//; s/ *$//")
[ -n "$kernels" ] || die "no target kernel installed (scripts/kernels.sh printed nothing)"
[ -x "$repo/scripts/vm/run.sh" ] || die "no VM runner scripts/vm/run.sh"

# Print the tables for one kernel from the guest's output.log.
table() {
	local kver=$1 log=$2

	tr -d '\r' < "$log" | LC_ALL=C awk -v kver="$kver" -v runs="$runs" \
		-v wruns="$wruns" -v gruns="$gruns" -v icount="$RWLAYER_VM_ICOUNT" \
		-v rwl="$read_workloads" -v wwl="$write_workloads" '
	function fmt(ns, unit) {
		if (unit == "s")
			return sprintf("%.3f s", ns / 1e9)
		if (unit == "ms")
			return sprintf(ns >= 1e8 ? "%.0f ms" : ns >= 1e7 ? "%.1f ms" : "%.2f ms", ns / 1e6)
		return sprintf(ns >= 1e5 ? "%.0f µs" : "%.1f µs", ns / 1e3)
	}
	function mib(blocks) {
		x = blocks * 512 / 1048576
		return sprintf(x >= 100 ? "%.0f MiB" : "%.1f MiB", x)
	}
	# printf pads by bytes (LC_ALL=C, also for gawk); µ is two.
	function cell(s, w) {
		return sprintf("%" (w + (index(s, "µ") > 0)) "s", s)
	}
	function header() {
		printf "\n%-13s %11s %11s %11s %9s %9s %7s\n", "workload", "bare", "overlayfs", "rwlayer", "rwl/bare", "rwl/ovl", "spread"
	}
	# One row of medians and ratios; counts into missing and over.
	function row(k,    b, o, r, m, unit, rb, ro, sb, so, sp, j, x) {
		if (!((k, "bare") in med) || !((k, "overlayfs") in med) || !((k, "rwlayer") in med)) {
			printf "%-13s %11s %11s %11s %9s %9s %7s\n", k, \
				(k, "bare") in med ? fmt(med[k, "bare"], "ms") : "-", \
				(k, "overlayfs") in med ? fmt(med[k, "overlayfs"], "ms") : "-", "-", "-", "-", "-"
			missing++
			return
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
		for (j = 1; j <= 3; j++) {
			x = (hi[k, fs[j]] - lo[k, fs[j]]) / med[k, fs[j]]
			if (x > sp) sp = x
		}
		printf "%-13s %s %s %s %9s %9s %6.0f%%\n", k, cell(fmt(b, unit), 11), cell(fmt(o, unit), 11), cell(fmt(r, unit), 11), sb, so, sp * 100
	}
	$1 == "RESULT" && NF >= 7 {
		med[$2, $3] = $4; lo[$2, $3] = $6; hi[$2, $3] = $7; nr[$2] = $5
	}
	# ALLOC workload label size blocks: the largest copy seen
	$1 == "ALLOC" && NF == 5 {
		if (!(($2, $3) in alloc) || $5 > alloc[$2, $3]) alloc[$2, $3] = $5
	}
	$1 == "KERNEL" { guest = $2 }
	$1 == "TIME" {
		if ($2 == "populate") pop = $3
		else if (index(" " wwl " ", " " $2 " ")) wwtime += $3
		else wtime += $3
	}
	$1 == "NOTE" && /slub_debug is on/ { slub = 1 }
	$1 == "NOTE" && /overlayfs: lowerdir=/ { ovl = $3 }
	$1 == "NOTE" && $2 == "memory:" { mem = $3 " " $4 }
	$1 == "NOTE" && $2 == "write" && $3 == "mount:" && $5 == "/mnt/ovl" { wovl = $7 }
	$1 == "NOTE" && $2 == "write" && $3 == "mount:" && $5 == "/mnt/rwl" { wrwl = $7 }
	END {
		split("bare overlayfs rwlayer", fs, " ")
		missing = 0; over = 0
		printf "rwlayer bench, kernel %s%s, QEMU TCG, 1 vCPU%s\n", kver, guest == kver ? "" : " (guest reports " (guest == "" ? "nothing" : guest) ")", mem == "" ? "" : ", " mem
		if (icount == 1)
			printf "clock: instructions (QEMU -icount shift=0: 1 ns = 1 guest instruction)\n"
		else
			printf "clock: wall (the TCG guest, as fast as the host lets it run)\n"
		if (slub) {
			printf "NOTE: the guest kernel ran with slub_debug: lookups, opens and other\n"
			printf "allocating paths are slowed, those of the stacked filesystems most\n"
		}
		nw = split(rwl, w, " ")
		if (nw) {
			printf "\nREAD: median of %s runs per filesystem, interleaved; lower on tmpfs\n", nr[w[1]] == "" ? runs : nr[w[1]]
			if (ovl != "")
				printf "overlayfs %s; rwlayer lower=/bench-lower\n", ovl
			header()
			for (i = 1; i <= nw; i++)
				row(w[i])
			printf "stat-cold drops dentries and inodes (drop_caches=2) before each run; a tmpfs\n"
			printf "keeps its own, so only the two unions are cold there\n"
		}
		nww = split(wwl, ww, " ")
		if (nww) {
			printf "\nWRITE: median of %s runs per filesystem (copyup-1g: %s), interleaved;\n", wruns, gruns
			printf "a fresh union per run, its upper and work on a tmpfs of their own; lower on tmpfs\n"
			printf "overlayfs %s\n", wovl == "" ? "-" : wovl
			printf "rwlayer   %s\n", wrwl == "" ? "-" : wrwl
			header()
			for (i = 1; i <= nww; i++)
				row(ww[i])
			na = 0
			for (i = 1; i <= nww; i++)
				if (ww[i] ~ /^copyup-/)
					a[++na] = ww[i]
			if (na) {
				printf "\n%-13s %11s %11s %11s   space the copy takes (st_blocks)\n", "copy", "bare", "overlayfs", "rwlayer"
				for (i = 1; i <= na; i++) {
					k = a[i]
					printf "%-13s", k
					for (j = 1; j <= 3; j++) {
						s = (k, fs[j]) in alloc ? mib(alloc[k, fs[j]]) : "-"
						# A sparse copy: 4 MiB of data in 1 GiB.
						if (k == "copyup-sparse" && (k, fs[j]) in alloc && alloc[k, fs[j]] * 512 > 2 * 4194304) {
							s = s " !"
							if (fs[j] == "rwlayer") over++
						} else
							s = s "  "
						printf " %s", cell(s, 11)
					}
					printf "\n"
				}
				printf "sparse: 1 GiB with 4 MiB of data in 16 extents; \"!\" = above twice the data\n"
			}
			printf "copyup-*: open(O_WRONLY) + close of a lower 1 GiB file: the copy-up;\n"
			printf "  bare: cp within the tmpfs (SEEK_DATA/SEEK_HOLE, copy_file_range, ftruncate)\n"
			printf "create: 20k x (open O_CREAT|O_EXCL, write 4 KiB, close) in 200 lower dirs\n"
			printf "unlink: 20k lower files (the unions leave whiteouts); rename-upper: 20k files\n"
			printf "  created in the upper, rename-lower: 20k lower files (copy-up + whiteout),\n"
			printf "  each within its directory.  Before the clock starts the 200 dirs are\n"
			printf "  copied up and the names to unlink or rename looked up (cached)\n"
		}
		printf "\n! = above the aim: rwlayer/bare <= 1.10, rwlayer/overlayfs <= 1.00 (%d missed)\n", over
		printf "spread = widest (max - min) / median of the three filesystems\n"
		printf "guest time: populate %s s, read workloads %.1f s, write workloads %.1f s\n", pop == "" ? "?" : pop, wtime, wwtime
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
	# The run counts and the workloads reach the guest script through
	# files in /bench.
	echo "$runs" > "$BUILD/bench/runs"
	echo "$wruns" > "$BUILD/bench/wruns"
	echo "$gruns" > "$BUILD/bench/gruns"
	echo "$read_workloads $write_workloads" > "$BUILD/bench/workloads"
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
