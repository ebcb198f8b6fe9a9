#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh: `make check`, every test we have, on every target kernel.
#
#   per kernel   build (W=1, sparse)          make modules-all KERNELS=KVER
#   once         build selftests, checkpatch  make selftests, make style
#   once         userspace unit tests, fuzz   make -C userspace tests fuzz
#   per kernel   DKMS add/build/install/remove scripts/dkms.sh test KVER
#   per kernel   the tests in a QEMU guest    scripts/vm/run.sh KVER test
#   per kernel   copy-up across a guest crash scripts/vm/crash-test.sh KVER
#   debug kernel build and the guest tests    (if built) scripts/debug-kernel.sh
#   once         diskless clients end to end  scripts/e2e/e2e.sh (make e2e)
#
# The debug kernel lane (README "Debug kernel lane") runs only when
# scripts/debug-kernel.sh has built that kernel (make debug-kernel, about
# 25 minutes); otherwise one line says it was skipped.  make check never
# builds it.  `check.sh --debug` (make check-debug) runs that lane alone,
# building the kernel first when it is missing or outdated: the module
# against it (W=1, sparse), the selftests and the userspace tools, and the
# same guest tests, whose kernel log must also be free of KASAN, lockdep
# and sleep-in-atomic reports (scan-console.sh).
#
# In the guest every top-level TAP result counts as one check (the
# kselftest programs' "ok N name", test.sh's own "ok - what"), "# SKIP"
# results count as skipped, and "guest kernel log clean" is one more check
# per kernel, as is each TAP result of the crash test.  A test program
# that planned more tests than it reported, or a guest that never
# finished, adds a failure.  Nothing stops at the first failure:
# everything runs and is reported.  The last line of output is "N passed,
# N failed" (", N skipped" when some were); the exit status is non-zero
# if anything failed or nothing passed.
#
# Environment: RWLAYER_KERNELS="KVER ..." (default: scripts/kernels.sh),
# RWLAYER_SKIP_DKMS=1, RWLAYER_SKIP_E2E=1, RWLAYER_SKIP_DEBUG=1 (no debug
# kernel lane in make check), BUILD, and run.sh's
# RWLAYER_VM_MEM/RWLAYER_VM_TIMEOUT.
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
export BUILD=${BUILD:-$repo/build}
logs=$BUILD/check
cd "$repo"

declare -A n_pass n_fail n_skip
groups=()
failures=()

# result PASS|FAIL|SKIP GROUP DESCRIPTION: count one check and say so.
result() {
	local verdict=$1 group=$2 what=$3

	if [ -z "${n_pass[$group]+set}" ]; then
		n_pass[$group]=0 n_fail[$group]=0 n_skip[$group]=0
		groups+=("$group")
	fi
	case "$verdict" in
	PASS) n_pass[$group]=$((n_pass[$group] + 1)) ;;
	FAIL) n_fail[$group]=$((n_fail[$group] + 1)); failures+=("$group: $what") ;;
	SKIP) n_skip[$group]=$((n_skip[$group] + 1)) ;;
	esac
	echo "$verdict: [$group] $what"
}

# step GROUP DESCRIPTION LOGNAME CMD...: run CMD with its output in
# $logs/LOGNAME.log, shown only when it fails, and count the outcome.
step() {
	local group=$1 what=$2 log=$logs/$3.log start
	shift 3

	echo "== $what"
	start=$SECONDS
	if "$@" > "$log" 2>&1; then
		result PASS "$group" "$what ($((SECONDS - start)) s)"
		return 0
	fi
	tail -n 80 "$log" | sed 's/^/  | /'
	result FAIL "$group" "$what (log: $log)"
	return 1
}

target_kernels() {
	if [ -n "${RWLAYER_KERNELS:-}" ]; then
		echo "$RWLAYER_KERNELS" | tr ' ' '\n' | grep .
	else
		scripts/kernels.sh
	fi
}

# Turn a guest's output.log into "VERDICT<tab>description" lines.  Only
# top-level results count; the harness's own "#" lines and nested,
# indented TAP do not.
parse_tap() {
	awk '
	function emit(v, d) { printf "%s\t%s\n", v, d }
	function close_prog() {
		if (prog == "")
			return
		if (!ended)
			emit("FAIL", prog ": did not finish (guest died or hung?)")
		else if (plan > seen)
			emit("FAIL", prog ": " plan - seen " of " plan " planned tests never reported")
		prog = ""
	}
	{ sub(/\r$/, "") }
	/^# rwlayer-test: [^ ]+ exited / { ended = 1; next }
	/^# rwlayer-test: [^ ]+$/ { close_prog(); prog = $3; plan = 0; seen = 0; ended = 0; next }
	/^1\.\.[0-9]+/ { if (prog != "") plan = substr($1, 4) + 0; next }
	/^(not )?ok [0-9]+/ || /^(not )?ok - / {
		line = $0
		v = (line ~ /^not ok/) ? "FAIL" : "PASS"
		if (line ~ /# *[Ss][Kk][Ii][Pp]/)
			v = "SKIP"
		sub(/^(not )?ok /, "", line)
		if (line ~ /^- /) {
			sub(/^- /, "", line)
			emit(v, "guest: " line)
		} else {
			seen++
			sub(/^[0-9]+ *(- )?/, "", line)
			emit(v, prog ": " line)
		}
	}
	END { close_prog() }
	' "$1"
}

# Build the tools (the guests get them too) and run their unit tests,
# built with ASan and UBSan, and the bash completion's test; each test
# program's TAP counts like a guest's.
userspace_tests() {
	local out=$BUILD/userspace log=$logs/userspace-tests.log t name rc verdict what

	step userspace "build userspace and its ASan+UBSan unit tests" userspace-build \
		make --no-print-directory -C userspace OUTPUT="$out" all tests || return 0
	: > "$log"
	for t in "$out"/san/*_test "$repo/scripts/check-completion.sh"; do
		name=${t##*/}
		rc=0
		echo "# rwlayer-test: $name" >> "$log"
		(cd userspace && "$t") >> "$log" 2>&1 || rc=$?
		echo "# rwlayer-test: $name exited $rc" >> "$log"
		[ "$rc" = 0 ] || result FAIL userspace "$name exited with status $rc (log: $log)"
	done
	while IFS=$'\t' read -r verdict what; do
		result "$verdict" userspace "$what"
	done < <(parse_tap "$log")
	step userspace "overlaytab parser fuzz (bounded)" userspace-fuzz \
		make --no-print-directory -C userspace OUTPUT="$out" fuzz || true
}

# Boot KVER and run scripts/vm/guest/test.sh; count what it reported.
vm_tests() {
	local kver=$1 out=$BUILD/$1/vm-test verdict what

	echo "== tests in a QEMU guest: $kver"
	scripts/vm/run.sh "$kver" test "$out" || true
	if [ -f "$out/output.log" ]; then
		while IFS=$'\t' read -r verdict what; do
			result "$verdict" "$kver" "$what"
		done < <(parse_tap "$out/output.log")
	fi
	if ! grep -qa 'RWLAYER-EXIT [0-9]*$' "$out/output.log" 2> /dev/null; then
		result FAIL "$kver" "guest ran to the end (no RWLAYER-EXIT; see $out)"
	fi
	if [ -f "$out/console.log" ]; then
		if scripts/vm/scan-console.sh "$out/console.log" > /dev/null; then
			result PASS "$kver" "guest kernel log clean"
		else
			result FAIL "$kver" "guest kernel log clean (see $out/console.log)"
		fi
	fi
}

# The crash test of copy-up onto an ext4 upper (scripts/vm/crash-test.sh,
# two boots): each of its TAP results counts as one check of KVER's group.
crash_tests() {
	local kver=$1 log=$logs/crash-$1.log verdict what rc=0

	echo "== copy-up across a guest crash: $kver (log: $log)"
	scripts/vm/crash-test.sh "$kver" > "$log" 2>&1 || rc=$?
	while IFS=$'\t' read -r verdict what; do
		result "$verdict" "$kver" "crash: $what"
	done < <(sed -n -e 's/^ok - \(.*\)/PASS\t\1/p' -e 's/^not ok - \(.*\)/FAIL\t\1/p' "$log")
	if [ "$rc" -ne 0 ] && ! grep -q '^not ok - ' "$log"; then
		tail -n 40 "$log" | sed 's/^/  | /'
		result FAIL "$kver" "crash: crash-test.sh ran (status $rc, log: $log)"
	fi
}

# The debug kernel lane for KVER, the debug kernel: the module built
# against it and the guest tests on it.  vm_tests' "guest kernel log
# clean" is where KASAN, lockdep and the rest are caught.
debug_lane() {
	local kver=$1

	if ! step "$kver" "build $kver (W=1, sparse)" "build-$kver" \
		make --no-print-directory modules-all KERNELS="$kver"; then
		result SKIP "$kver" "tests in a QEMU guest (the module did not build)"
		return 0
	fi
	vm_tests "$kver"
}

# make check's part of the lane: run it if the debug kernel is built and
# current, else say in one line that it was skipped and how to build it.
debug_lane_if_built() {
	local kver

	[ -z "${RWLAYER_SKIP_DEBUG:-}" ] || return 0
	if ! kver=$(scripts/debug-kernel.sh kver); then
		echo "== debug kernel lane skipped: no current debug kernel" \
			"(make debug-kernel builds it, about 25 minutes; make check-debug runs the lane)"
		return 0
	fi
	debug_lane "$kver"
}

# The diskless clients end to end (scripts/e2e/e2e.sh, `make e2e`): each of
# its TAP results counts as one check of the group "e2e".  Its own table
# of boot times and RPCs is kept in the log.
e2e_tests() {
	local log=$logs/e2e.log verdict what rc=0

	if [ -n "${RWLAYER_SKIP_E2E:-}" ]; then
		result SKIP e2e "diskless clients end to end (RWLAYER_SKIP_E2E set)"
		return 0
	fi
	echo "== diskless clients end to end (log: $log)"
	scripts/e2e/e2e.sh > "$log" 2>&1 || rc=$?
	while IFS=$'\t' read -r verdict what; do
		result "$verdict" e2e "$what"
	done < <(sed -n -e 's/^ok [0-9]* - \(.*\)/PASS\t\1/p' \
		-e 's/^not ok [0-9]* - \(.*\)/FAIL\t\1/p' "$log")
	grep '^# ' "$log" | sed -n '/^# case /,$p' | sed 's/^/  /'
	if ! grep -q '^[0-9]* passed, [0-9]* failed$' "$log"; then
		tail -n 40 "$log" | sed 's/^/  | /'
		result FAIL e2e "e2e.sh ran to its summary (status $rc, log: $log)"
	fi
}

summary() {
	local g total_p=0 total_f=0 total_s=0 line

	echo
	echo "== summary"
	for g in "${groups[@]}"; do
		printf '  %-24s %d passed, %d failed, %d skipped\n' \
			"$g" "${n_pass[$g]}" "${n_fail[$g]}" "${n_skip[$g]}"
		total_p=$((total_p + n_pass[$g]))
		total_f=$((total_f + n_fail[$g]))
		total_s=$((total_s + n_skip[$g]))
	done
	if [ "${#failures[@]}" -gt 0 ]; then
		echo "failed:"
		printf '  %s\n' "${failures[@]}"
	fi
	echo "time: $((SECONDS / 60)) min $((SECONDS % 60)) s"
	line="$total_p passed, $total_f failed"
	[ "$total_s" -eq 0 ] || line="$line, $total_s skipped"
	echo "$line"
	[ "$total_f" -eq 0 ] && [ "$total_p" -gt 0 ]
}

main() {
	local kernels k
	declare -A built

	# The README promises one command on a fresh machine; on a warm one
	# this is a few dpkg queries.
	if [ -z "${RWLAYER_SKIP_DEPS:-}" ]; then
		# shellcheck source=scripts/deps.sh
		. scripts/deps.sh
		deps_all
	fi
	mkdir -p "$logs"
	mapfile -t kernels < <(target_kernels)
	if [ "${#kernels[@]}" -eq 0 ]; then
		echo "check.sh: no target kernel (scripts/kernels.sh found none; run scripts/deps.sh)" >&2
	fi
	for k in "${kernels[@]}"; do
		step "$k" "build $k (W=1, sparse)" "build-$k" \
			make --no-print-directory modules-all KERNELS="$k" && built[$k]=1
	done
	step common "build selftests" selftests make --no-print-directory selftests || true
	step common "checkpatch (make style)" style make --no-print-directory style || true
	step common "netlink spec matches the uapi header and policies" spec \
		python3 scripts/check-spec.py || true
	step common "man pages render without warnings in 80 columns" man scripts/check-man.sh || true
	userspace_tests
	for k in "${kernels[@]}"; do
		if [ -n "${RWLAYER_SKIP_DKMS:-}" ]; then
			result SKIP "$k" "dkms $k (RWLAYER_SKIP_DKMS set)"
			continue
		fi
		step "$k" "dkms add/build/install/remove $k" "dkms-$k" scripts/dkms.sh test "$k" || true
	done
	for k in "${kernels[@]}"; do
		if [ -z "${built[$k]:-}" ]; then
			result SKIP "$k" "tests in a QEMU guest (the module did not build)"
			continue
		fi
		vm_tests "$k"
		crash_tests "$k"
	done
	debug_lane_if_built
	e2e_tests
	summary
}

# check.sh --debug (make check-debug): the debug kernel lane alone, with
# the kernel built first if it is missing or outdated (cached: seconds when
# it is current), and what the guest gets besides the module.
main_debug() {
	local kver

	if [ -z "${RWLAYER_SKIP_DEPS:-}" ]; then
		# shellcheck source=scripts/deps.sh
		. scripts/deps.sh
		deps_debug
	fi
	mkdir -p "$logs"
	step debug "the debug kernel (scripts/debug-kernel.sh; the first build takes about 25 minutes)" \
		debug-kernel env RWLAYER_SKIP_DEPS=1 scripts/debug-kernel.sh build || true
	step common "build selftests" selftests make --no-print-directory selftests || true
	step userspace "build userspace (ASan+UBSan builds for the guest)" userspace-build \
		make --no-print-directory -C userspace OUTPUT="$BUILD/userspace" all tests || true
	if kver=$(scripts/debug-kernel.sh kver); then
		debug_lane "$kver"
	fi
	summary
}

case "${1:-}" in
"") main ;;
--debug) main_debug ;;
*) echo "usage: check.sh [--debug]" >&2; exit 2 ;;
esac
