# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# guest-files.sh: sourced by client-root.sh.  The files that turn a
# debootstrapped Debian into a diskless client root, plus the test driver
# that the e2e tests control the client with.  Part of the root's cache
# key: editing this file rebuilds the root.
#
# The test driver: rwlayer-e2e.service runs when the kernel command line
# holds rwlayer.e2e=NAME.  It mounts the host's scripts/e2e/guest over
# virtio-9p (tag "e2e", read-only), runs NAME.sh there with its output on
# the second serial port (ttyS1), writes "RWLAYER-EXIT <status>" and powers
# the client off.  The test scripts thus live in the source tree, not in
# the cached root, and the client needs no login or password.

# e2e_fstab nfs|nbd: the root's fstab entry.  Read-only like the export;
# no fsck (pass 0): the NBD device is read-only too.  Nothing but "ro":
# systemd-remount-fs remounts / with these options, and the kernel keeps
# the rest of what the initramfs mounted with (NFSv3 or v4.1, nolock).
e2e_fstab() {
	case "$1" in
	nfs) echo "${e2e_server_ip:?}:${e2e_nfs_export:?} / nfs ro 0 0" ;;
	nbd) echo "/dev/nbd0 / ext4 ro 0 0" ;;
	esac
}

# Classic Debian diskless networking: the initramfs configured eth0 (the
# root depends on it); ifupdown then runs dhclient on it, which keeps the
# same address from QEMU's DHCP server.  net.ifnames=0 on the kernel
# command line makes the name eth0.
write_network() {
	local root=$1

	cat > "$root/etc/network/interfaces" <<-EOF
		# Diskless client: eth0 carries the root file system.
		auto lo
		iface lo inet loopback

		allow-hotplug eth0
		iface eth0 inet dhcp
	EOF
	cat > "$root/etc/hosts" <<-EOF
		127.0.0.1	localhost
		::1		localhost ip6-localhost ip6-loopback
	EOF
	# A default name; each client gets its own with systemd.hostname= on
	# its kernel command line (pxelinux config per MAC address).
	echo diskless > "$root/etc/hostname"
}

# One image, many clients: an empty machine-id makes systemd make one per
# client (from the DMI system UUID, else at random) instead of every
# client sharing the image's.  D-Bus's copy goes too: systemd would take
# the id from /var/lib/dbus/machine-id first.
write_identity() {
	local root=$1

	: > "$root/etc/machine-id"
	rm -f "$root/var/lib/dbus/machine-id" "$root/var/lib/systemd/random-seed"
}

write_test_driver() {
	local root=$1

	mkdir -p "$root/usr/local/sbin"
	cat > "$root/usr/local/sbin/rwlayer-e2e-driver" <<-'EOF'
		#!/bin/sh
		# SPDX-License-Identifier: GPL-2.0
		# Run the e2e test named by rwlayer.e2e= on the kernel command line
		# from the host's virtio-9p share; results on ttyS1, then power off.
		out=/dev/ttyS1
		name=$(sed -n 's/.*rwlayer\.e2e=\([A-Za-z0-9_-]*\).*/\1/p' /proc/cmdline)
		dir=/run/rwlayer-e2e
		mkdir -p "$dir"
		if ! modprobe 9pnet_virtio || ! modprobe 9p ||
			! mount -t 9p -o trans=virtio,version=9p2000.L,ro e2e "$dir"; then
			echo "rwlayer-e2e-driver: cannot mount the 9p share 'e2e' on $dir" > "$out"
			rc=125
		elif [ ! -f "$dir/$name.sh" ]; then
			echo "rwlayer-e2e-driver: no test '$name' ($dir/$name.sh)" > "$out"
			rc=125
		else
			sh "$dir/$name.sh" > "$out" 2>&1
			rc=$?
		fi
		# Closing the tty waits until the UART has sent everything, so
		# the marker is out before the forced power-off.
		echo "RWLAYER-EXIT $rc" > "$out"
		# Forced: a clean shutdown would run ifdown on eth0 while the
		# root still depends on it.  Tests that want a clean shutdown do
		# it themselves.
		systemctl poweroff --force --force
	EOF
	chmod 755 "$root/usr/local/sbin/rwlayer-e2e-driver"
	# Type=simple: the test script waits for the boot to finish
	# (systemctl is-system-running --wait); a oneshot in the boot
	# transaction would wait for itself.
	cat > "$root/etc/systemd/system/rwlayer-e2e.service" <<-EOF
		[Unit]
		Description=rwlayer end-to-end test driver (rwlayer.e2e= on the kernel command line)
		ConditionKernelCommandLine=rwlayer.e2e
		After=basic.target

		[Service]
		Type=simple
		ExecStart=/usr/local/sbin/rwlayer-e2e-driver

		[Install]
		WantedBy=multi-user.target
	EOF
	mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
	ln -sf ../rwlayer-e2e.service "$root/etc/systemd/system/multi-user.target.wants/rwlayer-e2e.service"
}

# NFSv4.1 root with initramfs-tools: its nfs boot script mounts with
# klibc nfsmount, which speaks NFSv2/3 only.  initramfs-tools runs
# /scripts/$BOOT, and copies /etc/initramfs-tools/scripts/ into the
# initramfs: boot=nfs4 selects this script, which mounts with klibc
# mount(8) -- it passes the text options to the kernel, whose NFS client
# does NFSv4.1 by itself (the kernel wants addr= when it gets no helper).
# mount_top/premount/bottom stay those of /scripts/nfs (sourced before).
# vers=4.1, not 4.2: ganesha 4.3 + the 6.12 client read zeros with 4.2.
write_nfs4_boot_script() {
	local root=$1

	mkdir -p "$root/etc/initramfs-tools/scripts"
	cat > "$root/etc/initramfs-tools/scripts/nfs4" <<-'EOF'
		# SPDX-License-Identifier: GPL-2.0
		# initramfs-tools boot script for boot=nfs4:
		# nfsroot=SERVER:PATH[,OPTIONS] mounted as NFSv4.1, read-only.
		nfs4_mount_root_impl()
		{
			local server path opts

			configure_networking
			server=${NFSROOT%%:*}
			path=${NFSROOT#*:}
			opts=ro,vers=4.1,addr=$server
			case "$path" in
			*,*) opts=$opts,${path#*,}; path=${path%%,*} ;;
			esac
			modprobe nfsv4
			mount -t nfs4 -o "$opts" "$server:$path" "${rootmnt?}"
		}

		mountroot()
		{
			local tries=0

			nfs_top
			wait_for_udev 10
			nfs_premount
			until nfs4_mount_root_impl; do
				tries=$((tries + 1))
				[ "$tries" -lt "${ROOTDELAY:-180}" ] || panic "NFSv4.1 root $NFSROOT: mount failed"
				sleep 1
			done
		}
	EOF
}

# e2e_write_guest_files ROOT SERVER_IP NFS_EXPORT
e2e_write_guest_files() {
	local root=$1

	e2e_server_ip=$2 e2e_nfs_export=$3
	e2e_fstab nfs > "$root/etc/fstab"
	write_network "$root"
	write_identity "$root"
	write_nfs4_boot_script "$root"
	write_test_driver "$root"
}
