# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# overlayfs-root.sh: sourced by client-root.sh (`client-root.sh
# overlayfs`).  The baseline rwlayer is measured against: the stock client
# root plus what admins do today for a read-only network root, a tmpfs
# and one overlayfs mount per writable directory, set up by a small
# initramfs-tools boot script (init-bottom, as rwlayer's), bind-mounted
# files for the per-client identity files.  The same paths as the
# shipped overlaytab: /var (which holds /var/log, /var/lib/dhcp,
# /var/lib/dbus), /etc/udev/rules.d, /tmp and /var/tmp (tmpfs), and
# /etc/machine-id, /etc/resolv.conf, /etc/adjtime.
#
# Cached as ROOT-overlayfs-KEY, KEY a hash of these functions; built in
# a temporary directory renamed at the end.  NFS only (no ext4 image).

e2e_ovl_key() {
	declare -f e2e_ovl_write_boot_script e2e_ovl_populate e2e_image_updated | sha256sum | cut -c1-16
}

# The boot script uses klibc's tools (no busybox in the image): one
# directory per mkdir -p (with two, klibc's mkdir -p left the second
# missing and overlayfs failed with ENOENT).
e2e_ovl_write_boot_script() {
	local root=$1

	echo overlay >> "$root/etc/initramfs-tools/modules"
	mkdir -p "$root/etc/initramfs-tools/scripts/init-bottom"
	cat > "$root/etc/initramfs-tools/scripts/init-bottom/overlays" <<-'EOF'
		#!/bin/sh
		# SPDX-License-Identifier: GPL-2.0
		# Writable directories over a read-only network root: a tmpfs
		# in /run (moved to the root's /run by init) holds one overlayfs
		# upper per directory, and the files bind-mounted over the
		# identity files.  klibc's tools only: no tr, no cp.
		PREREQ=""
		prereqs() { echo "$PREREQ"; }
		case "$1" in prereqs) prereqs; exit 0 ;; esac
		. /scripts/functions

		base=/run/overlays
		overlay_dir() {
			name=$2
			mkdir -p "$base/$name/upper"
			mkdir -p "$base/$name/work"
			opts="lowerdir=${rootmnt}$1,upperdir=$base/$name/upper,workdir=$base/$name/work"
			mount -t overlay -o "$opts" "overlay-$name" "${rootmnt}$1" ||
				panic "overlays: cannot mount $1 ($opts; $(ls -d "${rootmnt}$1" "$base/$name"/*))"
		}
		writable_file() {
			[ -e "${rootmnt}$1" ] || return 0
			name=$2
			cat "${rootmnt}$1" > "$base/files/$name"
			mount -o bind "$base/files/$name" "${rootmnt}$1" || panic "overlays: cannot bind $1"
		}

		mkdir -p $base
		mount -t tmpfs -o mode=0755,size=512M overlays $base || panic "overlays: no tmpfs"
		mkdir -p $base/files
		overlay_dir /var var
		overlay_dir /etc/udev/rules.d udev-rules
		mount -t tmpfs -o mode=1777,size=128M tmp "${rootmnt}/tmp"
		mount -t tmpfs -o mode=1777,size=128M var-tmp "${rootmnt}/var/tmp"
		writable_file /etc/machine-id machine-id
		writable_file /etc/resolv.conf resolv.conf
		writable_file /etc/adjtime adjtime
	EOF
	chmod 755 "$root/etc/initramfs-tools/scripts/init-bottom/overlays"
}

e2e_ovl_populate() {
	local base=$1 tmp=$2 log=$3

	cp -a "$base/." "$tmp/"
	block_services "$tmp"
	e2e_ovl_write_boot_script "$tmp"
	chroot_run "$tmp" update-initramfs -u -k all >> "$log" 2>&1 ||
		e2e_die "update-initramfs failed (log: $log)"
	e2e_image_updated "$tmp"
	rm -f "$tmp/usr/sbin/policy-rc.d"
}

# e2e_overlayfs_root ROOT: print the overlayfs variant of ROOT.
e2e_overlayfs_root() {
	local base=$1 dest tmp log start=$SECONDS

	dest=$base-overlayfs-$(e2e_ovl_key)
	if [ ! -d "$dest" ]; then
		log=${e2e_cache:?}/overlayfs-root.log
		: > "$log"
		tmp=$(mktemp -d "${e2e_cache:?}/tmp.XXXXXX")
		e2e_ovl_populate "$base" "$tmp" "$log"
		chmod 755 "$tmp"
		mv "$tmp" "$dest"
		e2e_log "overlayfs variant built in $((SECONDS - start)) s: $dest"
	fi
	e2e_remove_variants "$base-overlayfs-" "$dest"
	echo "$dest"
}
