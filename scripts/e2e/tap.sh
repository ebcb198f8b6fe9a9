# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# tap.sh: sourced by the host side of the end-to-end tests (e2e.sh,
# dracut.sh, run.sh): their TAP numbering and the guest's results and
# metrics folded into it.

n_tests=0
n_failed=0

# tap ok|not_ok WHAT
tap() {
	n_tests=$((n_tests + 1))
	if [ "$1" = ok ]; then
		echo "ok $n_tests - $2"
	else
		n_failed=$((n_failed + 1))
		echo "not ok $n_tests - $2"
	fi
}

# collect_guest_tap CASE LOG: the guest's own TAP lines, renumbered and
# prefixed with the case; its "# " notes passed on as they are.
collect_guest_tap() {
	local case=$1 log=$2 verdict what

	while IFS=$'\t' read -r verdict what; do
		case "$verdict" in
		note) echo "$what" ;;
		*) tap "$verdict" "$case: $what" ;;
		esac
	done < <(tr -d '\r' < "$log" | sed -n \
		-e 's/^ok [0-9]* - \(.*\)/ok\t\1/p' \
		-e 's/^not ok [0-9]* - \(.*\)/not_ok\t\1/p' \
		-e 's/^\(# .*\)/note\t\1/p')
}

# metric LOG NAME: a "# metric NAME=VALUE" value from the guest, or "-".
metric() {
	local value

	value=$(tr -d '\r' < "$1" 2> /dev/null | sed -n "s/^# metric $2=//p" | tail -n 1)
	echo "${value:--}"
}
