#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scan-console.sh CONSOLE_LOG
#
# Fail (exit 1) when a guest's kernel log holds any kernel problem report,
# and print the offending lines plus the first report in full.  Used by
# scripts/vm/run.sh for every guest and by scripts/check.sh for its
# "guest kernel log clean" check.  Exit 2 when the log is missing.
set -eu

# One extended regex per kind of report.  Case matters: these are the
# kernel's own spellings, and lower-case "warning"/"bug" occur in harmless
# boot messages.
patterns=(
	'WARNING:'                       # WARN_ON() and friends
	'(^|[^A-Za-z_])BUG([^A-Za-z_]|$)' # BUG:, kernel BUG at, slab "BUG cache (...)"
	'Oops'
	'KFENCE'
	'general protection'
	'Kernel panic'
	'Call Trace'
	'Redzone'                        # slub_debug=Z
	'Poison overwritten'             # slub_debug=P
	'Object already free'
	'Freepointer corrupt'
	'Padding overwritten'
	'Objects remaining'              # cache destroyed with live objects
	'still has objects'
	'list_add corruption'            # CONFIG_DEBUG_LIST
	'list_del corruption'
	'UBSAN'
	'refcount_t'
	'INFO: task .* blocked for more than'
	'self-detected stall'
)

main() {
	local log=${1:-} re first

	[ -n "$log" ] || { echo "usage: scan-console.sh CONSOLE_LOG" >&2; exit 2; }
	[ -f "$log" ] || { echo "scan-console.sh: no $log" >&2; exit 2; }
	re=$(IFS='|'; echo "${patterns[*]}")
	# The guest console ends lines with \r\n; strip \r before matching.
	if ! tr -d '\r' < "$log" | grep -q -E -- "$re"; then
		return 0
	fi
	echo "kernel problem reports in $log:"
	tr -d '\r' < "$log" | grep -n -E -- "$re" | head -n 40 | sed 's/^/  /'
	first=$(tr -d '\r' < "$log" | grep -n -m 1 -E -- "$re" | cut -d: -f1)
	echo "first report in context:"
	tr -d '\r' < "$log" | sed -n "$((first > 5 ? first - 5 : 1)),$((first + 60))p" | sed 's/^/  | /'
	return 1
}

main "$@"
