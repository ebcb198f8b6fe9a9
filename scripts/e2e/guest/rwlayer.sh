#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck disable=SC3043 # local: dash (the client's sh) has it
#
# rwlayer.sh: runs inside a diskless client booted with rwlayer=on from
# the client root that rwlayer was installed into (DKMS, make install,
# /etc/overlaytab + /etc/overlaytab.d/e2e.conf, update-initramfs: see
# rwlayer-install.sh).  The host names the sections to run in the file
# "sections" of the share (scripts/e2e/e2e.sh):
#
#   boot       multi-user reached, boot time and RPCs, no "Read-only file
#              system" in the journal, no failed unit
#   layers     the root is the union; the overlaytab's paths are writable,
#              others give EROFS; overlayctl status; rwlayerd took the
#              union over
#   limit      the e2e.conf limit (/srv/e2e-limit, 1M, warn 50%): status
#              exit 4 at the warning level, ENOSPC past the limit
#   isolation  with another client booted from the same export: each sees
#              only what it wrote itself (a barrier through the host)
#   update     the host changes files of the export (in place, by rename,
#              new, deleted) under a rule and outside one
#   nfs        the host kills the NFS server and starts it again
#   reboot     writes markers and reboots (the host boots it again with
#   pristine   "pristine": the markers are gone)
set -u
# shellcheck source=scripts/e2e/guest/lib.sh
. "$(dirname "$0")/lib.sh"

state=/run/rwlayer-e2e-state

# --- layers ----------------------------------------------------------

check_union() {
	local fstype

	fstype=$(awk '$2 == "/" { t = $3 } END { print t }' /proc/mounts)
	note "root: $(awk '$2 == "/" { print $1, $3, $4 }' /proc/mounts | tr '\n' '|')"
	check "/ is an rwlayer mount (top of /: $fstype) over $(root_lower_fstype)" \
		[ "$fstype" = rwlayer ]
}

check_writable() {
	local dir id

	for dir in /var/log /var/lib/dhcp /var/lib/dbus /tmp /var/tmp /etc/udev/rules.d; do
		check "$dir is writable" can_write "$dir"
	done
	# The identity file: written back unchanged.
	id=$(cat /etc/machine-id)
	if printf '%s\n' "$id" > /etc/machine-id && [ "$(cat /etc/machine-id)" = "$id" ]; then
		ok "/etc/machine-id is writable (id $id)"
	else
		not_ok "/etc/machine-id is writable"
	fi
	check "/etc/machine-id holds an id" [ "${#id}" = 32 ]
}

check_readonly() {
	gives_erofs "create /usr/e2e-probe" touch /usr/e2e-probe
	gives_erofs "open /etc/passwd for writing" sh -c ': >> /etc/passwd'
	gives_erofs "create /etc/e2e-probe" touch /etc/e2e-probe
	gives_erofs "remove /etc/issue" rm -f /etc/issue
	gives_erofs "mkdir /opt/e2e-probe" mkdir /opt/e2e-probe
	gives_erofs "create /root/e2e-probe" touch /root/e2e-probe
	gives_erofs "chmod /usr/bin/env" chmod 700 /usr/bin/env
	check "/etc/issue is still there" [ -s /etc/issue ]
}

check_status() {
	local out rc=0 rule

	out=$(overlayctl status 2>&1) || rc=$?
	echo "$out" | sed 's/^/#   /'
	check "overlayctl status exits 0 (got $rc)" [ "$rc" = 0 ]
	for rule in /var /var/tmp /tmp /var/lib/dbus /etc/udev/rules.d /etc/machine-id /srv/e2e-limit; do
		if echo "$out" | awk -v r="$rule" '$1 == "/" && $2 == r { found = 1 } END { exit !found }'; then
			ok "overlayctl status shows the rule $rule"
		else
			not_ok "overlayctl status shows the rule $rule"
		fi
	done
	# /var has been written to by the boot (journal, dhcp, ...).
	if echo "$out" | awk '$1 == "/" && $2 == "/var" && $4 !~ /^0B?\// { f = 1 } END { exit !f }'; then
		ok "overlayctl status shows /var in use"
	else
		not_ok "overlayctl status shows /var in use"
	fi
}

check_daemon() {
	local id list taken

	check "rwlayerd.service is active" systemctl -q is-active rwlayerd.service
	list=$(overlayctl list 2>&1)
	echo "$list" | sed 's/^/#   /'
	taken=$(journalctl -b -u rwlayerd.service -o cat --no-pager |
		sed -n 's/.*taking over rwlayer mount \([0-9]*\).*/\1/p' | tail -n 1)
	id=$(overlayctl --json list | tr ',{' '\n\n' | sed -n 's/.*"id": *\([0-9]*\).*/\1/p' | head -n 1)
	check "rwlayerd took over the initramfs's union (mount ${taken:-none}, listed ${id:-none})" \
		[ -n "$taken" -a "$taken" = "$id" ]
	check "one rwlayer mount, made with its upper in /run/rwlayer" \
		[ "$(overlayctl --json list | grep -o '"upper": *"/run/rwlayer/-/upper"' | wc -l)" = 1 ]
	if journalctl -b -u rwlayerd.service -o cat --no-pager | grep -q 'mounting rwlayer'; then
		not_ok "rwlayerd.service did not mount a second union"
	else
		ok "rwlayerd.service did not mount a second union"
	fi
}

# --- limit -----------------------------------------------------------

check_limit() {
	local dir=/srv/e2e-limit rc=0 err

	check "$dir starts empty" [ -z "$(ls -A "$dir")" ]
	check "write 600K below the 1M limit" dd if=/dev/zero of="$dir/a" bs=100K count=6 status=none
	overlayctl status "$dir" > /dev/null 2>&1 || rc=$?
	check "overlayctl status exits 4 at the warning level (got $rc)" [ "$rc" = 4 ]
	err=$(dd if=/dev/zero of="$dir/b" bs=600K count=1 status=none 2>&1)
	case "$err" in
	*"No space left on device"*) ok "a write past the 1M limit fails with ENOSPC" ;;
	*) not_ok "a write past the 1M limit fails with ENOSPC (got: ${err:-success})" ;;
	esac
	check "the refused write changed nothing" [ ! -s "$dir/b" ]
	check "the first file is intact" [ "$(stat -c %s "$dir/a")" = 614400 ]
	rm -f "$dir/a" "$dir/b"
	rc=0
	overlayctl status > /dev/null 2>&1 || rc=$?
	check "overlayctl status exits 0 again once freed (got $rc)" [ "$rc" = 0 ]
}

# --- isolation -------------------------------------------------------

check_isolation() {
	local me seen

	me=$(hostname)
	mkdir -p /var/lib/e2e-clients
	echo "$me" > "/var/lib/e2e-clients/$me"
	echo "$me" > /tmp/e2e-client
	request barrier-written 600 || not_ok "the other client wrote its files (barrier)"
	seen=$(ls /var/lib/e2e-clients | tr '\n' ' ')
	check "only this client's file in /var/lib/e2e-clients (saw: $seen)" [ "$seen" = "$me " ]
	check "/tmp holds this client's file" [ "$(cat /tmp/e2e-client)" = "$me" ]
	check "hostname is the one of the kernel command line" \
		grep -q "systemd.hostname=$me" /proc/cmdline
	# The host compares the two.
	metric machine_id "$(cat /etc/machine-id)"
	request barrier-checked 600 || not_ok "the other client checked its files (barrier)"
}

# --- image update ----------------------------------------------------

# read_file PATH: its content, or "ERROR: message" (stderr too).
read_file() {
	cat "$1" 2>&1 || true
}

# uptime: seconds since boot, to the hundredth (a builtin: no exec).
uptime_now() {
	local up rest

	read -r up rest < /proc/uptime
	echo "$up"
}

elapsed_since() {
	awk -v s="$1" -v e="$(uptime_now)" 'BEGIN { printf "%.0f\n", e - s }'
}

# wait_updates SECONDS NAME:PATH...: poll every second until each PATH
# reads v2; note when each did (seconds after the update), and which
# gave ESTALE (in "stale").
wait_updates() {
	local limit=$1 start item pending left got t
	shift

	start=$(uptime_now)
	pending="$*"
	stale=
	while [ -n "$pending" ]; do
		left=
		t=$(elapsed_since "$start")
		for item in $pending; do
			got=$(read_file "${item#*:}")
			case "$got" in *"Stale file handle"*) stale="$stale ${item%%:*}" ;; esac
			if [ "$got" = v2 ]; then
				eval "seen_${item%%:*}=$t"
			else
				left="$left $item"
			fi
		done
		pending=$left
		[ "$t" -lt "$limit" ] || break
		[ -z "$pending" ] || sleep 1
	done
}

# check_seen NAME WHAT: NAME read v2 within the time.
check_seen() {
	local t

	eval "t=\${seen_$1:-}"
	if [ -n "$t" ]; then
		ok "$2: the client sees the server's new content (after $t s)"
		metric "update_$1_s" "$t"
	else
		not_ok "$2: the client sees the server's new content (still '$(read_file "$3")')"
	fi
}

check_update() {
	local u=/srv/e2e-update r=/opt/e2e-update f old_fd new_fd errors

	# Read everything once so that it is cached, as a running system
	# would have it; keep b.txt open across the update.
	for f in a b c d h; do read_file "$u/$f.txt" > /dev/null; done
	for f in e f; do read_file "$r/$f.txt" > /dev/null; done
	check "the image's files read v1 before the update" \
		[ "$(cat $u/a.txt $u/b.txt $r/e.txt $r/f.txt)" = "$(printf 'v1\nv1\nv1\nv1')" ]
	exec 3< "$u/b.txt"
	exec 4< "$u/a.txt"
	echo client >> "$u/c.txt"
	echo client >> "$u/d.txt"
	check "g.txt is not in the image yet" [ ! -e "$u/g.txt" ]
	request update || { not_ok "the host updated the image"; return; }
	wait_updates 150 a:$u/a.txt b:$u/b.txt e:$r/e.txt f:$r/f.txt g:$u/g.txt
	check_seen a "a.txt rewritten in place, under a rule" "$u/a.txt"
	check_seen b "b.txt replaced by rename, under a rule" "$u/b.txt"
	check_seen e "e.txt rewritten in place, no rule" "$r/e.txt"
	check_seen f "f.txt replaced by rename, no rule" "$r/f.txt"
	check_seen g "g.txt new in the image" "$u/g.txt"
	check "no ESTALE while polling (${stale:-none})" [ -z "$stale" ]
	check "c.txt (changed by the client, then in place on the server) keeps the client's copy" \
		[ "$(read_file $u/c.txt)" = "$(printf 'v1\nclient')" ]
	check "d.txt (changed by the client, then renamed over on the server) keeps the client's copy" \
		[ "$(read_file $u/d.txt)" = "$(printf 'v1\nclient')" ]
	check "h.txt, removed from the image, is gone" sh -c "! ls $u | grep -qx h.txt"
	new_fd=$(cat <&4 2>&1 || true)
	old_fd=$(cat <&3 2>&1 || true)
	note "a.txt through a descriptor opened before the in-place update: '$new_fd'"
	note "b.txt through a descriptor opened before the rename: '$old_fd'"
	metric update_open_fd_in_place "$(echo "$new_fd" | tr ' ' _)"
	metric update_open_fd_renamed "$(echo "$old_fd" | tr ' ' _)"
	exec 3<&- 4<&-
	errors=$(journalctl -b -k -o cat --no-pager | grep -ci 'stale' || true)
	note "kernel log lines with 'stale': $errors"
	journalctl -b -k -o cat --no-pager | grep -i stale | head -n 5 | sed 's/^/#   /'
	journalctl -b -u rwlayerd.service -o cat --no-pager | grep -i stale | head -n 5 | sed 's/^/#   /'
	check "reading the updated files never gave ESTALE to a program" \
		sh -c "! cat $u/*.txt $r/*.txt 2>&1 | grep -q 'Stale file handle'"
}

# --- NFS server restart ----------------------------------------------

# The host kills ganesha 3 s after its answer and starts it again 20 s
# later.  During the outage the client may wait for the server whenever
# it needs something from it (an exec, a lookup): only shell builtins
# run until the reader below returns, so what needs no server shows.
check_nfs_restart() {
	local sum start t_tmp t_reader after bg bg_rc

	mkdir -p /var/lib/e2e-nfs
	head -c 1048576 /dev/urandom > /var/lib/e2e-nfs/before
	sum=$(md5sum < /var/lib/e2e-nfs/before)
	request nfs-outage || { not_ok "the host stopped the NFS server"; return; }
	sleep 5
	start=$(uptime_now)
	echo during > /tmp/e2e-during
	t_tmp=$(uptime_now)
	# Files the client never read: they must come from the server.
	(find /usr/share/doc -type f -name copyright -exec cat {} + | md5sum > "$state.bg") &
	bg=$!
	bg_rc=0
	wait "$bg" || bg_rc=$?
	t_reader=$(uptime_now)
	metric nfs_outage_tmp_write_s "$(awk -v s="$start" -v e="$t_tmp" 'BEGIN { printf "%.1f", e - s }')"
	metric nfs_outage_reader_s "$(awk -v s="$start" -v e="$t_reader" 'BEGIN { printf "%.1f", e - s }')"
	check "a reader started during the outage finished (status $bg_rc)" [ "$bg_rc" = 0 ]
	check "it waited for the server (about 15 s; took $(awk -v s="$start" -v e="$t_reader" 'BEGIN { printf "%.0f", e - s }') s)" \
		awk -v s="$start" -v e="$t_reader" 'BEGIN { exit !(e - s > 8) }'
	after=$(find /usr/share/doc -type f -name copyright -exec cat {} + | md5sum)
	check "what it read is what the server has" [ "$(cat "$state.bg")" = "$after" ]
	check "the file written before the outage is intact" [ "$(md5sum < /var/lib/e2e-nfs/before)" = "$sum" ]
	check "the file written during the outage is intact" [ "$(cat /tmp/e2e-during)" = during ]
	check "/var is writable after the restart" can_write /var/lib/e2e-nfs
	journalctl -b -k -o cat --no-pager | grep -E 'nfs: server .* (not responding|OK)' | sed 's/^/#   /'
}

# --- reboot ----------------------------------------------------------

before_reboot() {
	mkdir -p /var/lib/e2e-reboot
	echo marker > /var/lib/e2e-reboot/marker
	echo marker > /tmp/e2e-reboot-marker
	echo marker > /etc/udev/rules.d/99-e2e-marker.rules
	# The host hands it to the next boot as machine-id.before.
	echo "1..$n"
	echo "RWLAYER-REBOOT"
	# QEMU (-no-reboot) exits and the host boots the client again.
	# --force: services are not stopped (ifup@eth0 would take the
	# address the root lives on away: a hang with any NFS root, see
	# README), but every process is killed and systemd-shutdown unmounts
	# or remounts read-only what it can, the union included.
	systemctl reboot --force
	sleep 600
}

check_pristine() {
	check "/var/lib/e2e-reboot is gone after the reboot" [ ! -e /var/lib/e2e-reboot ]
	check "/tmp/e2e-reboot-marker is gone" [ ! -e /tmp/e2e-reboot-marker ]
	check "/etc/udev/rules.d/99-e2e-marker.rules is gone" [ ! -e /etc/udev/rules.d/99-e2e-marker.rules ]
	check "/srv/e2e-limit is empty again" [ -z "$(ls -A /srv/e2e-limit)" ]
	# systemd makes the id from the machine's DMI UUID (QEMU -uuid): the
	# same after a reboot, as on a real PC.
	note "machine-id now: $(cat /etc/machine-id), before: $(cat "$e2e_share/machine-id.before" 2> /dev/null)"
}

mkdir -p "$(dirname "$state")"
note "sections: $(sections)"
wants boot && { check_boot; check_journal assert; metric machine_id "$(cat /etc/machine-id)"; }
wants layers && { check_union; check_writable; check_readonly; check_status; check_daemon; }
wants limit && check_limit
wants isolation && check_isolation
wants update && check_update
wants nfs && check_nfs_restart
wants pristine && check_pristine
wants reboot && before_reboot
echo "1..$n"
exit "$failed"
