#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scan-console.sh CONSOLE_LOG
#
# Fail (exit 1) when a guest's kernel log holds any kernel problem report,
# and print the offending lines plus the first report in full.  Used by
# scripts/vm/run.sh for every guest and by scripts/check.sh for its
# "guest kernel log clean" check.  Exit 2 when the log is missing.
#
# Fault injection (the debug kernel, selftests/faults.c) prints every
# failure it forces, with a stack dump:
#
#   FAULT_INJECTION: forcing a failure.
#   name failslab, interval 1, probability 0, space 0, times 1
#   CPU: 0 UID: 0 PID: 91 Comm: faults Not tainted 6.12.118-rwldebug #1
#   Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS ...
#   Call Trace:
#    <TASK>
#    dump_stack_lvl+0x... ... entry_SYSCALL_64_after_hwframe+0x76/0x7e
#   RIP: 0033:0x... (the user registers)
#    </TASK>
#
# That is a test doing its job, not a problem: such a block is dropped
# before matching, line by line as long as the lines are the parts of a
# stack dump, so a report that follows it is still seen.
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
	# The debug kernel (scripts/debug-kernel.sh).  Most of these come
	# after "BUG:" or "WARNING:" already; named for the reader, and in
	# case a kernel words its header differently.
	'BUG: KASAN'
	'possible circular locking dependency'   # lockdep
	'possible recursive locking'
	'inconsistent lock state'
	'possible irq lock inversion'
	'bad unlock balance'
	'held lock freed'
	'lock held when returning to user space'
	'Invalid wait context'
	'suspicious RCU usage'
	'trying to register non-static key'
	'turning off the locking correctness validator'
	'sleeping function called from invalid context' # DEBUG_ATOMIC_SLEEP
)

# The console without \r (the guest ends lines with \r\n) and with the
# lines of forced failures' stack dumps emptied (see the top of this
# file), so that line numbers stay those of the log.
clean_log() {
	tr -d '\r' < "$1" | awk '
	function dump_part(line) {
		sub(/^\[ *[0-9]+\.[0-9]+\] /, "", line)	# printk time
		sub(/^ +/, "", line)
		return line ~ /^name [a-z_]+, interval / ||
			line ~ /^(CPU|Tainted|Hardware name|Workqueue): / ||
			line ~ /^(Call Trace:|<\/?(TASK|IRQ|NMI|SOFTIRQ)>)/ ||
			line ~ /^(\? )?[A-Za-z0-9_.]+\+0x[0-9a-f]+\/0x[0-9a-f]+/ ||
			line ~ /^(RIP|Code|RSP|RAX|RDX|RBP|R10|R13): /
	}
	/FAULT_INJECTION: forcing a failure/ { injected = 1; print ""; next }
	injected && dump_part($0) { if ($0 ~ /<\/TASK>/) injected = 0; print ""; next }
	{ injected = 0; print }
	'
}

main() {
	local log=${1:-} re first

	[ -n "$log" ] || { echo "usage: scan-console.sh CONSOLE_LOG" >&2; exit 2; }
	[ -f "$log" ] || { echo "scan-console.sh: no $log" >&2; exit 2; }
	re=$(IFS='|'; echo "${patterns[*]}")
	if ! clean_log "$log" | grep -q -E -- "$re"; then
		return 0
	fi
	echo "kernel problem reports in $log:"
	clean_log "$log" | grep -n -E -- "$re" | head -n 40 | sed 's/^/  /'
	first=$(clean_log "$log" | grep -n -m 1 -E -- "$re" | cut -d: -f1)
	echo "first report in context:"
	tr -d '\r' < "$log" | sed -n "$((first > 5 ? first - 5 : 1)),$((first + 60))p" | sed 's/^/  | /'
	return 1
}

main "$@"
