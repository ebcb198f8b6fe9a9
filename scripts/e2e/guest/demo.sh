#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck disable=SC3043 # local: dash (the client's sh) has it
#
# demo.sh: `make demo`, inside the diskless client.  Shows what the client
# got: its read-only NFS root, the rwlayer union over it, the layers'
# status, and a short walk-through.  Plain text for a person to read; the
# exit status says whether the walk-through went as it should.
set -u

failed=0

say() {
	printf '\n== %s\n' "$*"
}

# show CMD...: print the command as typed, then run it.
show() {
	echo "client# $*"
	"$@" 2>&1
}

expect_erofs() {
	local err

	echo "client# $*"
	if err=$("$@" 2>&1); then
		echo "(unexpected: that worked)"
		failed=1
	else
		echo "$err"
		case "$err" in
		*"Read-only file system"*) ;;
		*) failed=1 ;;
		esac
	fi
}

say "the client booted over the network: $(hostname), kernel $(uname -r)"
echo "what / is made of (/proc/mounts):"
awk '$2 == "/" { printf "  %-10s %-8s %.60s\n", $1, $3, $4 }' /proc/mounts

say "its writable layers (overlayctl status)"
show overlayctl status || failed=1

say "writing where the rules allow: /var/log"
# shellcheck disable=SC2016 # expanded by the shell that show runs
show sh -c 'echo "hello from $(hostname)" >> /var/log/demo.log' || failed=1
show cat /var/log/demo.log || failed=1

say "writing anywhere else fails, the server's image is safe: /usr"
expect_erofs touch /usr/demo-file
expect_erofs sh -c 'echo x >> /etc/passwd'

say "what this client changed under /var, against the image (overlayctl diff)"
show overlayctl diff /var || failed=1

say "rwlayerd, which set up the layers at boot and watches them"
show systemctl --no-pager --lines=0 status rwlayerd.service | head -n 4

exit "$failed"
