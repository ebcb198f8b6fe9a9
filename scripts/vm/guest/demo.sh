#!/bin/sh
# shellcheck disable=SC3043 # busybox sh has "local"
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of `make demo`: what rwlayer does, in one screen.  A diskless
# client mounts the server's shared root read-only; a small per-host tree
# on top overrides a few files.  rwlayer merges them into one tree, then
# adds a writable upper in RAM where the rules allow writes.
set -eu

say() {
	echo
	echo "==> $*"
}

# Show a command, then run it.
show() {
	echo "# $*"
	"$@"
}

# The shared root as a server would export it, and one host's overrides.
# Both on tmpfs here; on a real client the root would be NFS or NBD.
make_trees() {
	mount -t tmpfs -o mode=0755 tmpfs /srv
	mkdir -p /srv/root/etc /srv/root/usr/bin /srv/root/var/log /srv/override/etc
	echo "lab-image" > /srv/root/etc/hostname
	echo 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"' > /srv/root/etc/os-release
	echo "Welcome to the lab. This image is shared by every PC." > /srv/root/etc/motd
	echo "proc /proc proc defaults 0 0" > /srv/root/etc/fstab
	printf '#!/bin/sh\necho hello from the shared root\n' > /srv/root/usr/bin/hello
	chmod 0755 /srv/root/usr/bin/hello
	echo "lab-pc-17" > /srv/override/etc/hostname
	echo "0f1e2d3c4b5a69788796a5b4c3d2e1f0" > /srv/override/etc/machine-id
}

# Which layer a merged name comes from: the leftmost lower that has it.
origin() {
	local name="$1" layer

	for layer in /srv/override /srv/root; do
		if [ -e "$layer/$name" ]; then
			echo "$layer"
			return
		fi
	done
}

main() {
	local f

	echo "rwlayer demo on Linux $(uname -r)"
	make_trees

	say "Two trees: the shared root (the server's image) and one host's overrides"
	show find /srv/root /srv/override -type f

	say "Load the module"
	show insmod /rwlayer.ko
	grep -w rwlayer /proc/filesystems

	say "Stack them: the leftmost lower is on top"
	mkdir -p /mnt/root
	show mount -t rwlayer -o lower=/srv/override:/srv/root none /mnt/root
	show grep rwlayer /proc/mounts

	say "The merged /etc: every name once"
	show ls -l /mnt/root/etc
	for f in hostname machine-id motd os-release fstab; do
		printf '  %-12s from %s\n' "$f" "$(origin "etc/$f")"
	done

	say "A file the host overrides: the upper layer wins"
	printf '  shared root:  %s\n' "$(cat /srv/root/etc/hostname)"
	printf '  override:     %s\n' "$(cat /srv/override/etc/hostname)"
	printf '  merged view:  %s\n' "$(cat /mnt/root/etc/hostname)"

	say "Everything else comes from the shared root"
	show cat /mnt/root/etc/motd
	show /mnt/root/usr/bin/hello

	say "Without an upper layer the union is read-only"
	echo "# touch /mnt/root/etc/x"
	if touch /mnt/root/etc/x 2>&1; then
		echo "unexpected: the write succeeded"
		exit 1
	fi
	show umount /mnt/root

	say "Add an upper in RAM and rules: /var and /tmp writable, one file in /etc"
	mount -t tmpfs -o mode=0755,size=64m tmpfs /run
	mkdir -p /run/rw/upper /run/rw/work
	show mount -t rwlayer -o lower=/srv/override:/srv/root,upper=/run/rw/upper,work=/run/rw/work,rule=/var:union:size=16M:inodes=1000,rule=/tmp:empty:size=8M,rule=/etc/machine-id:file none /mnt/root
	show grep rwlayer /proc/mounts

	say "Writes where the rules allow them go to the upper"
	show sh -c 'echo "booted" >> /mnt/root/var/log/syslog'
	show sh -c 'echo "4d3c2b1a00000000000000000000beef" > /mnt/root/etc/machine-id'
	show sh -c 'echo scratch > /mnt/root/tmp/scratch'
	show find /run/rw/upper
	show stat -f -c "%n: %b blocks of %S bytes, %f free, %c inodes, %d free" /mnt/root/var

	say "Everywhere else: Read-only file system"
	for f in /mnt/root/usr/bin/evil /mnt/root/etc/motd; do
		echo "# echo x > $f"
		if sh -c "echo x > $f" 2>&1; then
			echo "unexpected: the write succeeded"
			exit 1
		fi
	done

	say "The server's trees are untouched"
	show find /srv/root /srv/override -newer /srv/root/etc/fstab -type f
	show cat /srv/override/etc/machine-id

	say "Clean up"
	show umount /mnt/root
	show rmmod rwlayer
	if grep -q '^rwlayer ' /proc/modules; then
		echo "unexpected: rwlayer is still loaded"
		exit 1
	fi
	echo "rwlayer unloaded; demo done."
}

main
