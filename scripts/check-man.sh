#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check-man.sh: every man page renders without groff/man warnings and no
# rendered line is wider than the 80-column terminal it is read on.
set -eu

cd "$(dirname "$0")/../userspace/man"
status=0
for page in *.[0-9]; do
	bad=0
	warnings=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 \
		man --warnings -E UTF-8 -l -Tutf8 -Z "$page" 2>&1 > /dev/null)
	if [ -n "$warnings" ]; then
		echo "$page: $warnings"
		bad=1
	fi
	# ASCII output: awk counts bytes, and tabs expanded (col -x).
	wide=$(LC_ALL=C.UTF-8 MANWIDTH=80 man -E ascii -l "$page" 2> /dev/null |
		col -bx | awk 'length > 80 { n++ } END { print n + 0 }')
	if [ "$wide" != 0 ]; then
		echo "$page: $wide rendered lines over 80 columns"
		bad=1
	fi
	[ "$bad" = 1 ] && status=1 || echo "$page: ok"
done
exit "$status"
