#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check-completion.sh: overlayctl's bash completion offers what
# overlayctl(8) documents, word by word.  TAP; needs bash-completion.
set -u

# shellcheck source=/dev/null
. /usr/share/bash-completion/bash_completion
# shellcheck source=/dev/null
. "$(dirname "$0")/../userspace/completion/overlayctl"

# Outside a real completion bash refuses compopt; what it sets (no space
# after "size=") is not what is tested here.
# shellcheck disable=SC2317 # called by the completion function
compopt() {
	:
}

n=0 failed=0

# expect "LINE" WORD...: completing LINE (cursor at its end) offers exactly
# the WORDs, in any order.
expect() {
	local line=$1 got want
	shift

	read -r -a COMP_WORDS <<< "$line"
	[[ $line == *' ' ]] && COMP_WORDS+=("")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE=$line
	COMP_POINT=${#line}
	COMPREPLY=()
	_overlayctl overlayctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | xargs)
	want=$(printf '%s\n' "$@" | sort | xargs)
	n=$((n + 1))
	if [ "$got" = "$want" ]; then
		echo "ok $n - '$line' offers: $want"
	else
		echo "not ok $n - '$line' offers: $want (got: $got)"
		failed=1
	fi
}

expect "overlayctl " status list rule reset diff monitor apply check version help
expect "overlayctl re" reset
expect "overlayctl --j" --json
expect "overlayctl rule " add del set show
expect "overlayctl rule add /srv/x " union empty file
expect "overlayctl rule add /srv/x empty m" mode=
expect "overlayctl rule set /var w" warn=
expect "overlayctl reset /var -" --force
expect "overlayctl apply --dry" --dry-run
expect "overlayctl apply --var h" hostname=
expect "overlayctl monitor -" --json --pretty
expect "overlayctl help di" diff
echo "1..$n"
exit "$failed"
