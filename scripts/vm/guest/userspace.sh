#!/bin/sh
# shellcheck disable=SC3043 # busybox sh has "local"
# shellcheck disable=SC2016 # jq programs and su -c scripts expand later
# SPDX-License-Identifier: GPL-2.0
#
# overlayctl(8) and rwlayerd(8) end to end against the loaded module, run
# by guest/test.sh after the selftests.  scripts/vm/mkinitramfs.sh puts the
# programs in /sbin (the ASan+UBSan builds when they were made) with the
# libraries they need, and jq to read their JSON.
#
# Every check is one TAP line, "ok N - what", under the plan "1..PLAN";
# a failing check is followed by the last command's exit status and output
# as "#" comments.  Exit 0 when all passed, 1 when one failed, 4 when the
# programs are not in the initramfs (one "ok - ... # SKIP" line).
#
# What runs where, below the test's working directory $W:
#   lower/      the read-only layer of the overlayctl mount
#   rw/         a tmpfs with upper/ and work/
#   ro/         a second rwlayer mount without an upper (read-only)
#   sysroot/    a system root with etc/overlaytab, for rwlayerd --root
#   server/     a bind mount of sysroot/: its content as the server sees
#               it, also once rwlayerd's union covers sysroot/
# The overlayctl checks use the rwlayer mount (rule=none) at /mnt: short
# names, as on a real system, for the 80 columns of the status table.
# The module is unloaded and loaded again at the end, for the "module not
# loaded" answers; everything mounted here is unmounted before that.

PLAN=98
W=$(pwd)
M=/mnt
S=$W/sysroot
n=0
failed=0
rc=0
holder=
daemon=
monitors=

# Every sanitizer report, of any run (in the background, as nobody,
# stderr dropped), lands in $W/sanitizer/ for the last check; the exit
# status tells it from the programs' own 1 too.
export ASAN_OPTIONS="exitcode=86:detect_leaks=1:log_path=$W/sanitizer/asan"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=87:log_path=$W/sanitizer/ubsan"

comment() {
	sed 's/^/# /'
}

# t WHAT: count the status of the command just before as one check.
t() {
	local status=$?

	n=$((n + 1))
	if [ "$status" = 0 ]; then
		echo "ok $n - $*"
		return 0
	fi
	echo "not ok $n - $*"
	failed=1
	echo "# last command: $last (exit $rc)"
	head -n 20 "$W/out" 2> /dev/null | comment
	head -n 20 "$W/err" 2> /dev/null | comment
	return 1
}

# run CMD...: stdout in $W/out, stderr in $W/err, exit status in $rc.
run() {
	last="$*"
	"$@" > "$W/out" 2> "$W/err"
	rc=$?
}

# as_nobody CMD...: CMD as uid/gid 65534, environment kept.
as_nobody() {
	su -s /bin/sh -c 'exec "$0" "$@"' nobody -- "$@"
}

# jqt [--arg NAME VALUE...] [-s] FILTER < JSON: jq -e, output dropped.
jqt() {
	jq -e "$@" > /dev/null 2>> "$W/err"
}

# wait_for FILE PATTERN: until grep -E finds PATTERN, at most 15 s.
wait_for() {
	local i=0

	while [ "$i" -lt 75 ]; do
		grep -qE "$2" "$1" 2> /dev/null && return 0
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}

# The st_dev of the mount at $1 as mountinfo's "major:minor" field.
mount_dev() {
	awk -v m="$1" '$5 == m { d = $3 } END { print d }' /proc/self/mountinfo
}

# The fstype of the topmost mount at $1.
mount_type() {
	awk -v m="$1" '$5 == m { for (i = 7; $i != "-"; i++); t = $(i + 1) } END { print t }' \
		/proc/self/mountinfo
}

# rule_json PATH: `overlayctl --json rule show PATH` into $W/rule.json.
rule_json() {
	overlayctl --json rule show "$1" > "$W/rule.json" 2> /dev/null
}

# rule_field PATH KEY: one number of a rule, empty without the rule.
rule_field() {
	rule_json "$1" && jq -r ".$2" < "$W/rule.json"
}

# The kernel's rules of the mount at $1 as "path kind max_bytes warn".
rules_of() {
	overlayctl --json status "$1" 2> /dev/null |
		jq -r '.mounts[0].rules[] | "\(.path) \(.kind) \(.max_bytes) \(.warn)"' | sort
}

make_lower() {
	mkdir -p "$W/lower/etc" "$W/lower/var/log" "$W/lower/var/lib" \
		"$W/lower/tmp" "$W/lower/data" "$W/lower/srv" "$W/lower/usr"
	echo guest > "$W/lower/etc/hostname"
	echo welcome > "$W/lower/etc/motd"
	echo "old line" > "$W/lower/var/log/old.log"
	echo keep > "$W/lower/var/lib/keep"
	echo junk > "$W/lower/tmp/junk"
	mkdir -p "$W/rw" "$W/ro"
	mount -t tmpfs -o size=64m rwlayer-test "$W/rw" &&
		mkdir "$W/rw/upper" "$W/rw/work" &&
		mount -t rwlayer -o "lower=$W/lower,upper=$W/rw/upper,work=$W/rw/work,rule=none" \
			none "$M"
}

# The last check counts the files in $W/sanitizer/: make sure a report
# would be written there.  ASan's exit statistics take the same way.
test_sanitizer_channel() {
	if ! grep -q __asan_init /sbin/overlayctl; then
		echo "ok $((n += 1)) - sanitizer reports reach log_path # SKIP not an ASan build"
		return
	fi
	mkdir -p "$W/probe"
	ASAN_OPTIONS="log_path=$W/probe/asan:atexit=1" overlayctl version > /dev/null 2>&1
	cat "$W"/probe/asan.* 2> /dev/null | grep -q 'AddressSanitizer exit stats'
	t "sanitizer reports reach log_path (ASan's exit statistics did)"
}

# ---- read-only commands on a mount without rules ----

test_version() {
	run overlayctl version
	[ "$rc" = 0 ] && grep -q '^overlayctl [0-9]' "$W/out" &&
		grep -q '^rwlayer module .' "$W/out" &&
		grep -q '^features:.* runtime-rules' "$W/out" &&
		grep -q '^max rules per mount: [1-9]' "$W/out"
	t "version: tool and module versions, features, rule limit"
	run overlayctl version --json
	[ "$rc" = 0 ] && jqt '(.overlayctl | type == "string") and (.module | length > 0)
		and (.features | type == "number") and (.feature_names | index("events"))
		and .max_rules > 0' < "$W/out"
	t "version --json: overlayctl, module, features, feature_names, max_rules"
	run overlayctl frobnicate
	[ "$rc" = 1 ] && grep -qx "overlayctl: unknown command 'frobnicate'; try 'overlayctl help'" "$W/err"
	t "an unknown command: exit 1, says so"
	run unshare -n overlayctl status
	[ "$rc" = 1 ] && grep -q "the rwlayer module is loaded, but its netlink family exists only in the initial network namespace" "$W/err"
	t "in another network namespace: exit 1, the family is missing there (not 'not loaded')"
}

test_empty_mount() {
	local dev

	run overlayctl status
	[ "$rc" = 0 ] && head -n 1 "$W/out" | grep -q '^MOUNT  *RULE  *KIND  *USED/LIMIT  *INODES  *COPY-UPS  *WHITEOUTS$' &&
		grep -qE "^$M  +-  +-  +-  +-  +-  +-$" "$W/out"
	t "status of a mount without rules: one '-' row, exit 0"
	dev=$(mount_dev "$M")
	run overlayctl list
	[ "$rc" = 0 ] && grep -qE "^[0-9]+: $M \(dev $dev\), 0 rules$" "$W/out" &&
		grep -qx "    upper   $W/rw/upper" "$W/out" &&
		grep -qx "    work    $W/rw/work" "$W/out" &&
		grep -q "^    options lower=$W/lower,upper=.*,rule=none$" "$W/out"
	t "list: id, mount point, device $dev, upper, work, options"
	grep -qx "    lowers  $W/lower" "$W/out"
	t "list: the lower layer is the directory the mount was made with"
	run overlayctl list --json
	[ "$rc" = 0 ] && jqt --arg m "$M" --arg w "$W" --arg dev "$dev" \
		'[.[] | select(.mountpoint == $m)] | length == 1 and (.[0] | .id > 0
		and .dev == $dev and (.lowers | length == 1) and .upper == $w + "/rw/upper"
		and .work == $w + "/rw/work" and (.options | type == "string")
		and .read_only == false and .num_rules == 0)' < "$W/out"
	t "list --json: id, mountpoint, dev, lowers, upper, work, options, read_only, num_rules"
	run touch "$M/var/x"
	[ "$rc" != 0 ] && grep -q 'Read-only file system' "$W/err"
	t "rule=none: a write anywhere is EROFS"
}

# ---- rule add | set | del, seen through the filesystem ----

test_rules() {
	run overlayctl rule add "$M/var" union size=64K warn=50%
	[ "$rc" = 0 ] && [ ! -s "$W/err" ]
	t "rule add /var union size=64K warn=50%"
	run touch "$M/var/new"
	[ "$rc" = 0 ] && [ -f "$W/rw/upper/var/new" ]
	t "a file can be created under /var, in the upper"
	run touch "$M/etc/new"
	[ "$rc" != 0 ] && grep -q 'Read-only file system' "$W/err"
	t "outside the rule (/etc) a create is still EROFS"
	run dd if=/dev/zero of="$M/var/big" bs=4k count=32
	[ "$rc" != 0 ] && grep -q 'No space left on device' "$W/err"
	t "the 64K limit: writing 128K fails with ENOSPC"
	rule_json "$M/var" &&
		jqt '.max_bytes == 65536 and .warn == 50 and .errors > 0 and .bytes <= 65536' < "$W/rule.json"
	t "rule show --json: max_bytes 65536, warn 50, the refused write counted in errors"
	run overlayctl rule set "$M/var" size=1M
	[ "$rc" = 0 ] && dd if=/dev/zero of="$M/var/big" bs=4k count=32 2> "$W/err" &&
		[ "$(stat -c %s "$M/var/big")" = 131072 ]
	t "rule set size=1M: the 128K write now succeeds"
	run overlayctl rule show "$M/var"
	[ "$rc" = 0 ] && grep -qx "rule /var on $M (mount [0-9]*)" "$W/out" &&
		grep -qx '    kind        union' "$W/out" &&
		grep -qE '^    size        [0-9.]+K of 1M' "$W/out" &&
		grep -qx '    warn        50%' "$W/out"
	t "rule show: kind, size of limit, warn"
	run overlayctl rule add "$M/tmp" empty size=1M mode=1777
	[ "$rc" = 0 ] && [ "$(stat -c %a "$M/tmp")" = 1777 ] && [ -z "$(ls -A "$M/tmp")" ] &&
		touch "$M/tmp/scratch"
	t "rule add /tmp empty mode=1777: empty, sticky, writable"
	run overlayctl rule add "$M/etc/hostname" file
	[ "$rc" = 0 ] && echo client > "$M/etc/hostname" && [ "$(cat "$M/etc/hostname")" = client ] &&
		! touch "$M/etc/motd" 2> /dev/null
	t "rule add file /etc/hostname: it is writable, its neighbour is not"
	run overlayctl rule add "$M/var" empty
	[ "$rc" = 1 ] && grep -q "^overlayctl: rule add $M/var: File exists" "$W/err"
	t "rule add of an existing rule: EEXIST, exit 1"
	run overlayctl rule add "$M/opt" sideways
	[ "$rc" = 1 ] && grep -q "'sideways' is not a kind" "$W/err"
	t "rule add with an unknown kind: exit 1, says so"
	run overlayctl rule set "$M/var" color=blue
	[ "$rc" = 1 ] && grep -q "'color': not an option here" "$W/err"
	t "rule set with an unknown option: exit 1, says so"
	run overlayctl rule del "$M/etc/hostname"
	[ "$rc" = 0 ] && ! sh -c "echo again > '$M/etc/hostname'" 2> /dev/null &&
		[ "$(cat "$M/etc/hostname")" = client ]
	t "rule del /etc/hostname: read-only again, the written content stays visible"
	run overlayctl rule del "$M/etc/hostname"
	[ "$rc" = 1 ] && grep -q "^overlayctl: rule del $M/etc/hostname: No such file or directory" "$W/err"
	t "rule del of a path without a rule: ENOENT, exit 1"
	run overlayctl rule add /proc/x union
	[ "$rc" = 2 ] && grep -q '/proc/x: not on an rwlayer mount' "$W/err"
	t "rule add outside any rwlayer mount: exit 2, says so"
}

# ---- how a PATH finds its mount ----

test_paths() {
	mkdir -p "$W/varbind" "$W/with space"
	mount -o bind "$M/var" "$W/varbind"
	run overlayctl rule show "$W/varbind"
	[ "$rc" = 0 ] && grep -qx "rule /var on $M (mount [0-9]*)" "$W/out"
	t "a bind mount of /var: PATH maps to the rule /var, the mount point is $M"
	umount "$W/varbind"
	run sh -c "cd '$M/etc' && exec overlayctl rule show ../var/./"
	[ "$rc" = 0 ] && grep -qx "rule /var on $M (mount [0-9]*)" "$W/out"
	t "a relative PATH with .. and . is folded: ../var/./ from $M/etc"
	mount -t rwlayer -o "lower=$W/lower" none "$W/with space"
	run overlayctl status "$W/with space"
	[ "$rc" = 3 ] && grep -q "^$W/with space  " "$W/out"
	t "a mount point with a space (\\040 in mountinfo) is found and shown"
	umount "$W/with space"
	run unshare -m sh -c "umount $M && exec overlayctl status"
	[ "$rc" = 0 ] && grep -qE "^\?  +/var  +union  " "$W/out" && {
		run unshare -m sh -c "umount $M && exec overlayctl list"
		[ "$rc" = 0 ] && grep -qE "^[0-9]+: \(not in this mount namespace\)" "$W/out"
	}
	t "a mount not in this mount namespace: status shows '?', list says so"
}

# ---- status: the table and its exit codes ----

test_status() {
	local all

	overlayctl rule add "$M/etc/udev/rules.d" union size=1G inodes=50k 2> /dev/null
	overlayctl rule add "$M/var/lib/dbus" union size=512M 2> /dev/null
	run overlayctl status
	[ "$rc" = 0 ] && [ "$(wc -l < "$W/out")" = 5 ] &&
		awk 'length > 80 { bad = 1 } END { exit bad }' "$W/out"
	t "status: a header and 4 rules, every line within 80 columns, exit 0 (healthy)"
	grep -qE "^$M  +/var  +union  +128K/1M  +[0-9]+/-  +[0-9]+  +0$" "$W/out"
	t "status: the /var row shows 128K/1M used, no inode limit"
	run overlayctl rule add "$M/data" union size=64K warn=50%
	dd if=/dev/zero of="$M/data/fill" bs=4k count=10 2> /dev/null
	run overlayctl status
	[ "$rc" = 4 ] && grep -qx "$M: rule /data is at 50% or more of a limit" "$W/out"
	t "status: a rule at its warn level: exit 4 and a note"
	run overlayctl status "$M/var"
	[ "$rc" = 0 ] && [ "$(wc -l < "$W/out")" = 3 ] && grep -qE "^$M  +/var  " "$W/out" &&
		grep -qE "^$M  +/var/lib/dbus  " "$W/out"
	t "status PATH: the governing rule and those below it; a healthy subset exits 0"
	run overlayctl status --json
	[ "$rc" = 4 ] && jqt --arg m "$M" '.exit_status == 4 and
		([.mounts[] | select(.mountpoint == $m) | .rules[] | .path] | sort ==
		 ["/data", "/etc/udev/rules.d", "/tmp", "/var", "/var/lib/dbus"]) and
		([.mounts[].rules[] | select(.path == "/data")][0] | .over_warn == true and .max_bytes == 65536)' \
		< "$W/out"
	t "status --json: mounts, rules in path order, over_warn, exit_status 4"
	run overlayctl -j -p list
	[ "$rc" = 0 ] && [ "$(wc -l < "$W/out")" -gt 10 ] && jqt 'length == 1' < "$W/out"
	t "-j -p list: indented JSON, still valid"
	mount -t rwlayer -o "lower=$W/lower" none "$W/ro"
	run overlayctl status
	all=$rc
	run overlayctl status "$W/ro"
	[ "$all" = 3 ] && [ "$rc" = 3 ] && grep -qx "$W/ro: read-only mount (no upper layer)" "$W/out"
	t "status with a read-only mount: exit 3 (before 4), a note"
	run overlayctl list
	grep -qE "^[0-9]+: $W/ro \(dev [0-9:]+\), read-only, 0 rules$" "$W/out" &&
		grep -qx '    upper   -' "$W/out"
	t "list: the read-only mount, no upper"
	umount "$W/ro"
	run overlayctl status /proc
	[ "$rc" = 2 ] && grep -q '/proc: not on an rwlayer mount' "$W/err"
	t "status PATH not on an rwlayer mount: exit 2"
	overlayctl rule del "$M/etc/udev/rules.d" 2> /dev/null
	overlayctl rule del "$M/var/lib/dbus" 2> /dev/null
}

# ---- monitor: events of a rule change and of a threshold ----

# start_monitor NAME [--json]: overlayctl monitor in the background,
# output in $W/NAME.out and .err, its pid in $started.
start_monitor() {
	local name=$1

	shift
	overlayctl monitor "$@" > "$W/$name.out" 2> "$W/$name.err" &
	started=$!
	monitors="$monitors $started"
}

# Both monitors joined the group once a rule change shows up in both.
monitors_ready() {
	local i=0

	while [ "$i" -lt 30 ]; do
		overlayctl rule set "$M/var" warn=50% 2> /dev/null
		if grep -q rule-changed "$W/mon.out" 2> /dev/null &&
			grep -q rule-changed "$W/monj.out" 2> /dev/null; then
			return 0
		fi
		sleep 0.5
		i=$((i + 1))
	done
	return 1
}

test_monitor() {
	local mon_pid monj_pid mon_rc monj_rc

	start_monitor mon
	mon_pid=$started
	start_monitor monj --json
	monj_pid=$started
	monitors_ready
	t "monitor: running, a rule change arrives as rule-changed"
	overlayctl rule add "$M/srv" union size=64K warn=50% 2> /dev/null
	dd if=/dev/zero of="$M/srv/fill" bs=4k count=10 2> /dev/null
	wait_for "$W/mon.out" "threshold" && wait_for "$W/monj.out" '"threshold"'
	mount -t rwlayer -o "lower=$W/lower" none "$W/ro" && umount "$W/ro"
	wait_for "$W/mon.out" "unmount" && wait_for "$W/monj.out" '"unmount"'
	kill -TERM "$mon_pid" "$monj_pid"
	wait "$mon_pid"
	mon_rc=$?
	wait "$monj_pid"
	monj_rc=$?
	monitors=
	cat "$W/mon.err" "$W/monj.err" > "$W/err"
	cp "$W/mon.out" "$W/out"
	last="overlayctl monitor"
	grep -qE "^\[[-0-9]+ [:0-9]+\] rule-added $M/srv mount [0-9]+$" "$W/mon.out"
	t "monitor: rule add shows as 'rule-added $M/srv mount N'"
	grep -qE "^\[[-0-9 :]+\] threshold $M/srv 50% bytes [0-9]+K/64K mount [0-9]+$" "$W/mon.out"
	t "monitor: crossing warn=50% shows as a threshold line"
	grep -qE "^\[[-0-9 :]+\] mount mount [0-9]+ (at [^ ]+ )?dev [0-9]+:[0-9]+$" "$W/mon.out" &&
		grep -qE "^\[[-0-9 :]+\] unmount mount [0-9]+ (at [^ ]+ )?dev [0-9]+:[0-9]+$" "$W/mon.out"
	t "monitor: a mount and its unmount show with their device numbers"
	rc=$mon_rc
	[ "$mon_rc" = 0 ] && [ "$monj_rc" = 0 ] && [ ! -s "$W/err" ]
	t "monitor: SIGTERM ends it with exit 0, nothing on stderr"
	cp "$W/monj.out" "$W/out"
	last="overlayctl monitor --json"
	(while read -r line; do
		echo "$line" | jqt '(.time | test("^[0-9-]+T[0-9:]+[+-][0-9]{2}:[0-9]{2}$"))
			and (.event | type == "string") and .mount_id > 0' || exit 1
	done < "$W/monj.out") &&
		jqt --arg m "$M" -s '[.[] | select(.event == "rule-added")][0] |
			.rule == "/srv" and .mountpoint == $m' < "$W/monj.out" &&
		jqt -s '[.[] | select(.event == "threshold")][0] | .rule == "/srv" and
			.percent == 50 and .limit == "bytes" and .max_bytes == 65536 and .bytes >= 32768' \
			< "$W/monj.out"
	t "monitor --json: one object per line; rule-added and threshold with their fields"
}

# ---- reset, diff ----

# wait_open_file RULE: until the module counts an open file under it.
wait_open_file() {
	local i=0

	while [ "$i" -lt 75 ]; do
		[ "$(rule_field "$1" open_files)" -gt 0 ] 2> /dev/null && return 0
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}

test_reset() {
	mkdir "$M/var/mnt-below"
	mount -t tmpfs below "$M/var/mnt-below"
	run overlayctl reset "$M/var"
	[ "$rc" = 1 ] && grep -q "mounted below it" "$W/err" &&
		grep -q "^  $M/var/mnt-below\$" "$W/err" &&
		grep -q " $M/var/mnt-below " /proc/mounts
	t "reset with a filesystem mounted below: refused, exit 1, it stays mounted"
	umount "$M/var/mnt-below"
	rmdir "$M/var/mnt-below"
	echo held > "$M/var/held"
	# shellcheck disable=SC2217 # sleep holds the file open, that is all
	sleep 600 < "$M/var/held" &
	holder=$!
	wait_open_file "$M/var"
	run overlayctl reset "$M/var"
	[ "$rc" = 1 ] && grep -q "^overlayctl: reset $M/var: Device or resource busy" "$W/err" &&
		[ -f "$M/var/held" ]
	t "reset with a file open inside: EBUSY, exit 1, nothing discarded"
	run overlayctl reset "$M/var" --force
	[ "$rc" = 0 ] && [ ! -e "$M/var/held" ] && [ ! -e "$M/var/big" ] &&
		[ "$(cat "$M/var/log/old.log")" = "old line" ] && [ -d "$M/var/lib" ]
	t "reset --force: the upper content is gone, the lower content is back"
	kill "$holder"
	wait "$holder" 2> /dev/null
	holder=
	run touch "$M/var/after-reset"
	[ "$rc" = 0 ] && [ "$(rule_field "$M/var" bytes)" = 0 ]
	t "after the reset /var is still a writable rule, its usage back to 0"
	touch "$M/tmp/scratch2"
	run overlayctl reset "$M/tmp"
	[ "$rc" = 0 ] && [ -d "$M/tmp" ] && [ -z "$(ls -A "$M/tmp")" ] &&
		[ "$(stat -c %a "$M/tmp")" = 1777 ]
	t "reset of an empty rule: empty again, mode kept"
}

test_diff() {
	rm -f "$M/var/after-reset"
	echo new > "$M/var/added"
	echo "new line" >> "$M/var/log/old.log"
	rm "$M/var/lib/keep"
	run overlayctl diff "$M/var"
	[ "$rc" = 0 ] && grep -qx "A $M/var/added" "$W/out" &&
		grep -qx "C $M/var/log/old.log" "$W/out" &&
		grep -qx "D $M/var/lib/keep" "$W/out" &&
		! grep -vE "^[ACD] $M/var/" "$W/out" | grep -q . &&
		sort -c -k2 "$W/out" 2> /dev/null
	t "diff /var: A added, C changed, D deleted, sorted by path"
	run overlayctl diff "$M/var" --json
	[ "$rc" = 0 ] && jqt --arg m "$M" 'map({(.path): .change}) | add |
		.[$m + "/var/added"] == "A" and .[$m + "/var/log/old.log"] == "C"
		and .[$m + "/var/lib/keep"] == "D"' < "$W/out"
	t "diff --json: path and change objects"
	run overlayctl diff "$M/tmp"
	[ "$rc" = 0 ] && grep -qx "D $M/tmp/junk" "$W/out"
	t "diff of an empty rule: the hidden lower entry is D"
}

# diff's logic apart from GET_MOUNT's LOWERS: the guest's / as the lower
# is named "/" whichever way the module finds the name.
test_diff_root() {
	local R=$W/rootu

	mkdir -p "$R" "$W/rw/upper2" "$W/rw/work2"
	mount -t rwlayer -o "lower=/,upper=$W/rw/upper2,work=$W/rw/work2,rule=none" none "$R"
	overlayctl rule add "$R/etc" union 2> "$W/err" &&
		overlayctl rule add "$R/guest" empty 2>> "$W/err" &&
		echo "extra:x:1000:1000::/:/bin/false" >> "$R/etc/passwd" &&
		echo new > "$R/etc/added" && rm "$R/etc/group"
	run overlayctl diff "$R/etc"
	[ "$rc" = 0 ] && [ "$(grep -v "^C $R/etc$" "$W/out")" = "A $R/etc/added
D $R/etc/group
C $R/etc/passwd" ]
	t "diff on a mount of /: A added, D deleted, C changed, nothing else"
	run overlayctl diff "$R/guest"
	[ "$rc" = 0 ] && [ "$(wc -l < "$W/out")" = "$(ls -A /guest | wc -l)" ] &&
		grep -qx "D $R/guest/userspace.sh" "$W/out"
	t "diff of an empty rule over /guest: each hidden lower entry is D"
	umount "$R"
}

# ---- apply and check ----

write_tab() {
	cat > "$W/tab" <<- EOF
		# the overlayctl test mount
		@mount $M
		$M/var     union  size=2M,warn=50%
		$M/tmp     empty  size=1M,mode=1777
		$M/srv     union  size=64K,warn=50%
		$M/home    union  inodes=1k
	EOF
}

test_check() {
	write_tab
	run overlayctl check "$W/tab"
	[ "$rc" = 0 ] && grep -qx "$W/tab: ok, 4 rules for the mount at $M" "$W/out"
	t "check: a valid file, exit 0, rule count"
	printf '%s\n' "@mount $M" "$M/a  union  size=1M" "$M/b  sideways" \
		"$M/c  union  size=lots" > "$W/bad.tab"
	run overlayctl check "$W/bad.tab"
	[ "$rc" = 1 ] && grep -qE "^$W/bad.tab:3:[0-9]+: unknown kind 'sideways'" "$W/err" &&
		grep -qE "^$W/bad.tab:4:[0-9]+: " "$W/err" && [ "$(wc -l < "$W/err")" = 2 ]
	t "check: every bad line as file:line:col, exit 1"
	run overlayctl check "$W/missing.tab"
	[ "$rc" = 1 ] && grep -q "$W/missing.tab" "$W/err"
	t "check of a missing file: exit 1, names it"
}

test_apply() {
	local before

	write_tab
	before=$(rules_of "$M")
	run overlayctl apply --dry-run "$W/tab"
	[ "$rc" = 0 ] && [ "$(rules_of "$M")" = "$before" ] &&
		grep -qxe "- $M/data union size=64K warn=50%" "$W/out"
	t "apply --dry-run: prints the plan, changes nothing"
	run overlayctl apply "$W/tab"
	[ "$rc" = 0 ] && grep -qxe "- $M/data union size=64K warn=50%" "$W/out" &&
		grep -qx "+ $M/home union inodes=1k" "$W/out" &&
		grep -qE "^~ $M/var size 1M -> 2M" "$W/out" && [ "$(wc -l < "$W/out")" = 3 ]
	t "apply: the plan is -data, ~var, +home"
 [ "$(rules_of "$M")" = "/home union 0 0
/srv union 65536 50
/tmp empty 1048576 0
/var union 2097152 50" ]
	t "apply: the kernel's rules are now the table's"
	run overlayctl apply "$W/tab"
	[ "$rc" = 0 ] && grep -qx "$M: the rules are up to date" "$W/out" && [ "$(wc -l < "$W/out")" = 1 ]
	t "apply again: up to date, nothing to do"
	sed "s|$M|$W/lower|g" "$W/tab" > "$W/nowhere.tab"
	run overlayctl apply "$W/nowhere.tab"
	[ "$rc" = 2 ] && grep -qx "overlayctl: apply: no rwlayer mount at $W/lower" "$W/err"
	t "apply for a @mount without an rwlayer mount: exit 2, says so"
	before=$(rules_of "$M")
	{
		cat "$W/tab"
		echo "$M/new  union"
		echo "$M/var  union  size=nonsense"
	} > "$W/bad.tab"
	run overlayctl apply "$W/bad.tab"
	[ "$rc" = 1 ] && grep -qE "^$W/bad.tab:8:[0-9]+: " "$W/err" && [ ! -s "$W/out" ] &&
		[ "$(rules_of "$M")" = "$before" ]
	t "apply of a file with one bad line: the error, no plan, nothing changed"
	# Only the kernel knows that /etc/motd is a file, where an empty
	# rule cannot be: the add fails after the ~ /srv, which is undone.
	{
		cat "$W/tab"
		echo "$M/etc/motd  empty"
	} | sed "s|^$M/srv .*|$M/srv union size=128K,warn=50%|" > "$W/fail.tab"
	run overlayctl apply "$W/fail.tab"
	[ "$rc" = 1 ] && grep -qE "^~ $M/srv size 64K -> 128K" "$W/out" &&
		grep -qE "^overlayctl: apply failed: \+ $M/etc/motd: Not a directory: .+" "$W/err" &&
		grep -q "rolled back 1 change" "$W/err" && [ "$(rules_of "$M")" = "$before" ]
	t "apply refused by the kernel midway: rolled back, rules as before"
}

# ---- an unprivileged user ----

test_unprivileged() {
	local root_rc

	overlayctl status > /dev/null 2>&1
	root_rc=$?
	run as_nobody overlayctl status
	[ "$rc" = "$root_rc" ] && grep -qE "^$M  +/var  " "$W/out"
	t "nobody: status works (exit $root_rc as for root)"
	run as_nobody overlayctl list --json
	[ "$rc" = 0 ] && jqt --arg m "$M" 'map(select(.mountpoint == $m)) | length == 1' < "$W/out"
	t "nobody: list works"
	run as_nobody overlayctl rule add "$M/opt" union
	[ "$rc" = 1 ] && grep -q "^overlayctl: rule add $M/opt: Operation not permitted.*CAP_SYS_ADMIN" "$W/err" &&
		! overlayctl rule show "$M/opt" > /dev/null 2>&1
	t "nobody: rule add is EPERM with a message, no rule added"
	run as_nobody overlayctl rule set "$M/var" size=4M
	[ "$rc" = 1 ] && grep -q "^overlayctl: rule set $M/var: Operation not permitted.*CAP_SYS_ADMIN" "$W/err" &&
		[ "$(rule_field "$M/var" max_bytes)" = 2097152 ]
	t "nobody: rule set is EPERM, the limit unchanged"
	run as_nobody overlayctl rule del "$M/var"
	[ "$rc" = 1 ] && grep -q "^overlayctl: rule del $M/var: Operation not permitted.*CAP_SYS_ADMIN" "$W/err" &&
		overlayctl rule show "$M/var" > /dev/null 2>&1
	t "nobody: rule del is EPERM, the rule stays"
	echo precious > "$M/var/precious"
	run as_nobody overlayctl reset "$M/var" --force
	[ "$rc" = 1 ] && grep -q "^overlayctl: reset $M/var: Operation not permitted.*CAP_SYS_ADMIN" "$W/err" &&
		[ -f "$M/var/precious" ]
	t "nobody: reset is EPERM, the content stays"
	sed "s|^$M/home .*|$M/home union inodes=2k|" "$W/tab" > "$W/nobody.tab"
	chmod 0644 "$W/nobody.tab"
	run as_nobody overlayctl apply "$W/nobody.tab"
	[ "$rc" = 1 ] && grep -q "Operation not permitted.*CAP_SYS_ADMIN" "$W/err" &&
		[ "$(rule_field "$M/home" max_inodes)" = 1000 ]
	t "nobody: apply is EPERM, nothing changed"
	run as_nobody overlayctl monitor
	[ "$rc" = 1 ] && grep -q "^overlayctl: monitor: joining the \"events\" group: Operation not permitted.*CAP_SYS_ADMIN" "$W/err"
	t "nobody: monitor is EPERM (events need CAP_SYS_ADMIN)"
}

# ---- rwlayerd ----

# The overlaytab of the test root, rules in the order of the arguments:
# "var" (/var 256K), "var512" (/var 512K), "srv" (/srv), "broken".
# Written in place, as an editor on the server would: the union shows
# the new content of the lower file.
write_sysroot_tab() {
	{
		echo "# the rwlayerd test root"
		echo "@upper tmpfs size=8M"
		for rule in "$@"; do
			case "$rule" in
			var) echo "/var              union  size=256K,warn=50%" ;;
			var512) echo "/var              union  size=512K,warn=50%" ;;
			srv) echo "/srv              union  size=1M" ;;
			broken) echo "/broken           nosuchkind" ;;
			esac
		done
		echo "/tmp              empty  mode=1777"
		echo "/etc/machine-id   file"
	} > "$W/server/etc/overlaytab"
}

make_sysroot() {
	mkdir -p "$S/etc" "$S/var/log" "$S/tmp" "$S/usr/bin" "$S/srv" "$W/server"
	echo "booted" > "$S/var/log/boot.log"
	echo stale > "$S/tmp/stale"
	: > "$S/etc/machine-id"
	mount -o bind "$S" "$W/server"
}

# The rules of the union at $S, as rules_of prints them.
sysroot_rules() {
	rules_of "$S"
}

test_rwlayerd_oneshot() {
	run rwlayerd --root relative --oneshot
	[ "$rc" = 2 ] && grep -q 'not an absolute path' "$W/err"
	t "rwlayerd: a relative --root is a usage error, exit 2"
	make_sysroot
	write_sysroot_tab var broken
	run rwlayerd --oneshot --root "$S" --no-netwatch
	[ "$rc" = 1 ] && grep -qE "^rwlayerd: error: $S/etc/overlaytab:4:[0-9]+: unknown kind" "$W/err" &&
		[ "$(mount_type "$S")" != rwlayer ]
	t "rwlayerd --oneshot with a bad overlaytab: file:line:col, exit 1, nothing mounted"
	write_sysroot_tab var
	run rwlayerd --oneshot --root "$S" --no-netwatch
	[ "$rc" = 0 ] && [ "$(mount_type "$S")" = rwlayer ] &&
		[ "$(mount_type /run/rwlayer/-)" = tmpfs ] &&
		grep -q 'size=8192k' /proc/mounts
	t "rwlayerd --oneshot --root: rwlayer on the root, a tmpfs upper of 8M"
	[ "$(sysroot_rules)" = "/etc/machine-id file 0 0
/tmp empty 0 0
/var union 262144 50" ]
	t "rwlayerd --oneshot: the overlaytab's rules are in the kernel"
	echo "written" > "$S/var/log/new.log" && echo "0123456789abcdef" > "$S/etc/machine-id" &&
		[ "$(stat -c %a "$S/tmp")" = 1777 ] && [ ! -e "$S/tmp/stale" ] &&
		! touch "$S/usr/bin/tool" 2> /dev/null && [ "$(cat "$S/var/log/boot.log")" = booted ]
	t "the root: /var and /etc/machine-id writable, /tmp empty, /usr EROFS"
	run rwlayerd --oneshot --root "$S" --no-netwatch
	[ "$rc" = 0 ] && grep -q "taking over rwlayer mount" "$W/err" &&
		grep -q "match the table" "$W/err" &&
		[ "$(awk -v m="$S" '$2 == m' /proc/mounts | wc -l)" = 1 ]
	t "rwlayerd --oneshot again: takes the mount over, nothing to change"
}

# start_daemon LOG: rwlayerd in the foreground, logging to LOG.
start_daemon() {
	env -u NOTIFY_SOCKET rwlayerd --foreground --root "$S" --no-netwatch 2> "$1" &
	daemon=$!
	wait_for "$1" "rwlayerd: running"
}

# stop_daemon: SIGTERM; the exit status in $rc.
stop_daemon() {
	kill -TERM "$daemon"
	wait "$daemon"
	rc=$?
	daemon=
}

test_rwlayerd_daemon() {
	local tmp_inodes

	last="rwlayerd --foreground"
	start_daemon "$W/d1.log"
	cp "$W/d1.log" "$W/err"
	grep -q "taking over rwlayer mount" "$W/err" && grep -q "match the table" "$W/err" &&
		! grep -qi notify "$W/err"
	t "rwlayerd --foreground: takes the mount over, runs, says nothing of notify"
	dd if=/dev/zero of="$S/var/fill" bs=4k count=40 2> /dev/null
	wait_for "$W/d1.log" "warning: /var: space use crossed 50% of the limit \(1[0-9.]*K of 256K\)"
	cp "$W/d1.log" "$W/err"
	t "rwlayerd: the threshold event is logged on stderr with the system path"
	echo keep > "$S/tmp/keep"
	tmp_inodes=$(rule_field "$S/tmp" inodes)
	write_sysroot_tab var512 srv
	kill -HUP "$daemon"
	wait_for "$W/d1.log" "reload: 2 changes applied"
	cp "$W/d1.log" "$W/err"
	t "SIGHUP: the edited overlaytab is applied (2 changes)"
	grep 'reload: plan: ' "$W/d1.log" > "$W/out"
	[ "$(wc -l < "$W/out")" = 2 ] && grep -q 'reload: plan: + /srv union size=1M$' "$W/out" &&
		grep -q 'reload: plan: ~ /var size 256K -> 512K$' "$W/out" &&
		! grep -q 'rule-removed' "$W/d1.log"
	t "SIGHUP: only the difference: + /srv, ~ /var, nothing removed"
	[ "$(sysroot_rules)" = "/etc/machine-id file 0 0
/srv union 1048576 0
/tmp empty 0 0
/var union 524288 50" ] && [ "$(rule_field "$S/tmp" inodes)" = "$tmp_inodes" ]
	t "SIGHUP: the kernel has the new rules; /tmp's counters untouched"
	[ "$(cat "$S/tmp/keep")" = keep ] && [ "$(cat "$S/etc/machine-id")" = 0123456789abcdef ] &&
		[ "$(cat "$S/var/log/new.log")" = written ] && touch "$S/srv/now-writable"
	t "SIGHUP: files under untouched rules survive, /srv is writable"
	write_sysroot_tab var512 srv broken
	kill -HUP "$daemon"
	wait_for "$W/d1.log" "keeping the current rules"
	cp "$W/d1.log" "$W/err"
	grep -qE "error: $S/etc/overlaytab:[0-9]+:[0-9]+: unknown kind" "$W/err" &&
		kill -0 "$daemon" && [ "$(sysroot_rules | wc -l)" = 4 ]
	t "SIGHUP with a broken overlaytab: logged, rules kept, still running"
	write_sysroot_tab var512 srv
	stop_daemon
	cp "$W/d1.log" "$W/err"
	[ "$rc" = 0 ] && grep -q "SIGTERM from pid [0-9]*: exiting; the layers stay mounted" "$W/err" &&
		[ "$(mount_type "$S")" = rwlayer ]
	t "SIGTERM: exit 0, the union stays mounted"
	last="rwlayerd --foreground (restart)"
	start_daemon "$W/d2.log"
	cp "$W/d2.log" "$W/err"
	grep -q "taking over rwlayer mount" "$W/err" &&
		grep -q "the kernel's 4 rules match the table" "$W/err" &&
		[ "$(cat "$S/tmp/keep")" = keep ] && [ -f "$S/srv/now-writable" ] &&
		touch "$S/var/log/after-restart" &&
		[ "$(awk -v m="$S" '$2 == m' /proc/mounts | wc -l)" = 1 ]
	t "restart: the running union is taken over unchanged, its files intact"
	umount "$S"
	wait_for "$W/d2.log" "error: rwlayer mount [0-9]+ \(device [0-9:]+\) unmounted: the rules of the overlaytab are gone with it"
	cp "$W/d2.log" "$W/err"
	t "the union unmounted under the daemon: logged as an error"
	umount /run/rwlayer/-/lower
	umount /run/rwlayer/-
	run rwlayerd --oneshot --root "$S" --no-netwatch
	kill -HUP "$daemon"
	wait_for "$W/d2.log" "reload: the kernel's 4 rules match the table"
	cp "$W/d2.log" "$W/err"
	[ "$rc" = 0 ] && grep -qE "rwlayer mount [0-9]+ \(device [0-9:]+\) mounted" "$W/err" &&
		! grep -q "no rwlayer mount there any more" "$W/err"
	t "made again by --oneshot: SIGHUP finds the new union, its rules match"
	stop_daemon
	cp "$W/d2.log" "$W/err"
	[ "$rc" = 0 ]
	t "restart: SIGTERM, exit 0"
}

# rwlayerd making a union over a directory other than / by itself, with
# an extra @lower above the directory's own content.
test_rwlayerd_target() {
	mkdir -p "$W/svc/data" "$W/extra/data"
	echo base > "$W/svc/data/base"
	echo extra > "$W/extra/data/extra"
	printf '%s\n' "@mount $W/svc" "@lower $W/extra" "$W/svc/data  union  size=1M" \
		> "$W/svc.tab"
	run rwlayerd --oneshot --config "$W/svc.tab" --no-netwatch
	[ "$rc" = 0 ] && [ "$(mount_type "$W/svc")" = rwlayer ] &&
		[ "$(cat "$W/svc/data/base")" = base ] && [ "$(cat "$W/svc/data/extra")" = extra ] &&
		echo new > "$W/svc/data/new" && ! touch "$W/svc/other" 2> /dev/null
	t "rwlayerd --oneshot --config with @mount DIR and @lower: both layers, the rule"
	run overlayctl list --json
	jqt --arg m "$W/svc" '.[] | select(.mountpoint == $m) | .num_rules == 1 and
		(.options | test("^lower=.*/extra:/run/rwlayer/tmp-work-userspace-svc/lower,upper=/run/rwlayer/tmp-work-userspace-svc/upper,"))' \
		< "$W/out"
	t "rwlayerd: lower=EXTRA:TARGET bound read-only at /run/rwlayer/<escaped target>/lower, the upper beside it"
	run overlayctl diff "$W/svc/data"
	[ "$rc" = 0 ] && [ "$(cat "$W/out")" = "A $W/svc/data/new" ]
	t "diff of a union over its own mount point: only what was written (the lower is reachable)"
	umount "$W/svc"
	umount "/run/rwlayer/tmp-work-userspace-svc/lower"
	umount "/run/rwlayer/tmp-work-userspace-svc"
	rmdir "/run/rwlayer/tmp-work-userspace-svc"
}

# ---- the end: no mounts, no module ----

unmount_all() {
	umount "$S" 2> /dev/null
	umount "$W/server" 2> /dev/null
	umount /run/rwlayer/-/lower 2> /dev/null
	umount /run/rwlayer/- 2> /dev/null
	rmdir /run/rwlayer/- 2> /dev/null
	umount "$W/ro" 2> /dev/null
	umount "$M" 2> /dev/null
	umount "$W/rw" 2> /dev/null
}

test_no_module() {
	unmount_all
	run overlayctl status
	[ "$rc" = 2 ] && grep -qx 'overlayctl: no rwlayer mounts' "$W/err"
	t "status without any rwlayer mount: exit 2"
	run rmmod rwlayer
	[ "$rc" = 0 ]
	t "rmmod rwlayer: the tools left no reference behind"
	run overlayctl status
	[ "$rc" = 1 ] && grep -q 'the rwlayer module is not loaded' "$W/err"
	t "status without the module: exit 1, 'module is not loaded'"
	run rwlayerd --oneshot --root "$S" --no-netwatch
	[ "$rc" = 1 ] && grep -q 'the rwlayer module is not loaded' "$W/err"
	t "rwlayerd without the module: exit 1, says so"
	insmod /rwlayer.ko
}

cleanup() {
	local pid

	for pid in $holder $daemon $monitors; do
		kill "$pid" 2> /dev/null
	done
	unmount_all
}

main() {
	if [ ! -x /sbin/overlayctl ] || [ ! -x /sbin/rwlayerd ]; then
		echo "ok - overlayctl and rwlayerd end to end # SKIP not in the initramfs" \
			"(build them: make -C userspace OUTPUT=\$BUILD/userspace all)"
		return 4
	fi
	command -v jq > /dev/null || echo "# no jq in the initramfs (apt-get install jq on the host): the JSON checks fail"
	echo "1..$PLAN"
	trap cleanup EXIT
	mkdir -m 1777 "$W/sanitizer"
	if ! make_lower 2> "$W/err"; then
		comment < "$W/err"
		echo "# cannot set up the test mount; nothing else runs"
		return 1
	fi
	test_sanitizer_channel
	test_version
	test_empty_mount
	test_rules
	test_paths
	test_status
	test_monitor
	test_reset
	test_diff
	test_diff_root
	test_check
	test_apply
	test_unprivileged
	test_rwlayerd_oneshot
	test_rwlayerd_daemon
	test_rwlayerd_target
	test_no_module
	[ -z "$(ls -A "$W/sanitizer")" ]
	t "no ASan/UBSan report from any overlayctl or rwlayerd run"
	for report in "$W"/sanitizer/*; do
		[ -f "$report" ] && head -n 40 "$report" | comment
	done
	if [ "$n" != "$PLAN" ]; then
		echo "# ran $n checks, planned $PLAN"
		failed=1
	fi
	return "$failed"
}

main
