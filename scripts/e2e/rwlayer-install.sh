# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# rwlayer-install.sh: sourced by client-root.sh (`client-root.sh
# install-rwlayer SRC`).  Installs rwlayer from a source tree into a copy
# of the client root exactly as an admin does on an image server:
#
#   cp the module sources to ROOT/usr/src/rwlayer-VERSION (as scripts/dkms.sh)
#   chroot ROOT dkms add rwlayer/VERSION
#   chroot ROOT dkms build + install, for each kernel that has headers
#   make -C SRC/userspace install DESTDIR=ROOT   (built on the host: same
#                                                 Debian, same libmnl0)
#   make -C SRC boot-install DESTDIR=ROOT        (when the initramfs-tools
#                                                 hook exists in SRC)
#   chroot ROOT systemctl enable rwlayerd.service (when installed)
#   /etc/overlaytab = the shipped example (userspace/etc/overlaytab), and
#   /etc/overlaytab.d/e2e.conf with what the tests need
#   /etc/fstab: the root "rw" (see e2e_rwl_fstab)
#   chroot ROOT update-initramfs -u -k all
#   chroot ROOT systemd-update-done (see e2e_image_updated)
#
# The result is cached as ROOT-rwlayer-KEY (+ .ext4), KEY being a hash of
# the source files and of these functions, and built in a temporary
# directory renamed at the end.

e2e_rwl_name=rwlayer

# The files of SRC that go into the client: the module sources (what
# scripts/dkms.sh copies), the userspace tree and the boot scripts.
e2e_rwl_files() {
	(cd "$1" && find Kbuild Makefile dkms.conf COPYING kmod userspace scripts/systemd \
		scripts/initramfs-tools scripts/dracut -type f \
		! -name '*.o' ! -name '*.ko' ! -name '.*.cmd' 2> /dev/null | sort)
}

e2e_rwl_key() {
	local src=$1 f

	{
		e2e_rwl_files "$src" | while read -r f; do
			echo "$f $(sha256sum < "$src/$f")"
		done
		declare -f e2e_rwl_copy_sources e2e_rwl_dkms e2e_rwl_make_install \
			e2e_rwl_configure e2e_rwl_test_tab e2e_rwl_fstab \
			e2e_rwl_fstab_image e2e_rwl_populate e2e_image_updated
	} | sha256sum | cut -c1-16
}

# PACKAGE_VERSION of dkms.conf, which must equal kmod/VERSION (as
# scripts/dkms.sh checks).
e2e_rwl_version() {
	local src=$1 conf tree

	tree=$(tr -d '[:space:]' < "$src/kmod/VERSION")
	conf=$(sed -n 's/^PACKAGE_VERSION="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$src/dkms.conf")
	if [ -z "$tree" ] || [ "$conf" != "$tree" ]; then
		e2e_die "dkms.conf PACKAGE_VERSION '$conf' differs from kmod/VERSION '$tree'"
	fi
	echo "$tree"
}

# Same selection as scripts/dkms.sh copy_tree: never objects of an
# in-tree build.
e2e_rwl_copy_sources() {
	local src=$1 dest=$2 f

	mkdir -p "$dest"
	cp "$src"/{Kbuild,Makefile,dkms.conf,COPYING} "$dest/"
	(cd "$src" && find kmod -type f \( -name '*.[ch]' -o -name VERSION \
		-o -name 'Kbuild*' -o -name 'Makefile*' \)) |
		while read -r f; do
			install -D -m 0644 "$src/$f" "$dest/$f"
		done
}

# dkms build + install for every kernel of the root that has headers.
e2e_rwl_dkms() {
	local root=$1 version=$2 log=$3 dir kver

	chroot_run "$root" dkms add "$e2e_rwl_name/$version" >> "$log" 2>&1 ||
		e2e_die "dkms add failed (log: $log)"
	for dir in "$root"/lib/modules/*; do
		kver=${dir##*/}
		[ -e "$dir/build/Makefile" ] || continue
		e2e_log "dkms build + install $e2e_rwl_name/$version for $kver"
		if ! chroot_run "$root" dkms build "$e2e_rwl_name/$version" -k "$kver" >> "$log" 2>&1; then
			cat "$root/var/lib/dkms/$e2e_rwl_name/$version/build/make.log" >&2 2> /dev/null || true
			e2e_die "dkms build for $kver failed (log: $log)"
		fi
		chroot_run "$root" dkms install "$e2e_rwl_name/$version" -k "$kver" >> "$log" 2>&1 ||
			e2e_die "dkms install for $kver failed (log: $log)"
	done
}

# Userspace built on the host (the client runs the same Debian release);
# the boot integration once the lead's hook exists.
e2e_rwl_make_install() {
	local src=$1 root=$2 log=$3 build

	build=$(mktemp -d)
	make -C "$src/userspace" OUTPUT="$build" DESTDIR="$root" install >> "$log" 2>&1 ||
		{ rm -rf "$build"; e2e_die "make -C userspace install failed (log: $log)"; }
	rm -rf "$build"
	if [ -f "$src/scripts/initramfs-tools/hooks/rwlayer" ]; then
		make -C "$src" DESTDIR="$root" boot-install >> "$log" 2>&1 ||
			e2e_die "make boot-install failed (log: $log)"
	fi
	if [ -f "$root/lib/systemd/system/rwlayerd.service" ] ||
		[ -f "$root/usr/lib/systemd/system/rwlayerd.service" ]; then
		chroot_run "$root" systemctl enable rwlayerd.service >> "$log" 2>&1 ||
			e2e_die "systemctl enable rwlayerd.service failed (log: $log)"
	fi
}

# The rules the tests add to the shipped table, as a drop-in (the way a
# site adds its own): a small limit to see it enforced, and a directory
# the host updates while a client runs (rwlayer.sh, section update).
e2e_rwl_test_tab() {
	cat <<-EOF
		# SPDX-License-Identifier: GPL-2.0
		# scripts/e2e: rules the end-to-end tests need besides overlaytab's.
		# PATH             KIND    OPTIONS
		/srv/e2e-limit     empty   size=1M,warn=50%,mode=1777
		/srv/e2e-update    union
	EOF
}

# The root's fstab entry must not say "ro" with rwlayer: systemd-remount-fs
# remounts / with the fstab's options, and a read-only remount of the union
# makes every rule read-only (EROFS everywhere).  The NFS export and the
# NBD device stay read-only whatever the entry says; the union is what /
# is.  Arguments: nfs|nbd.
e2e_rwl_fstab() {
	case "$1" in
	nfs) echo "${e2e_server_ip:?}:${e2e_nfs_export:?} / nfs rw 0 0" ;;
	nbd) echo "/dev/nbd0 / ext4 rw 0 0" ;;
	esac
}

# The NBD image's own fstab (build_image wrote the stock one).
e2e_rwl_fstab_image() {
	local image=$1 fstab

	fstab=$(mktemp)
	e2e_rwl_fstab nbd > "$fstab"
	debugfs -w -f - "$image" > /dev/null 2>&1 <<-EOF
		rm /etc/fstab
		write $fstab /etc/fstab
		sif /etc/fstab mode 0100644
	EOF
	rm -f "$fstab"
}

e2e_rwl_configure() {
	local src=$1 root=$2

	install -D -m 0644 "$src/userspace/etc/overlaytab" "$root/etc/overlaytab"
	mkdir -p "$root/etc/overlaytab.d"
	e2e_rwl_test_tab > "$root/etc/overlaytab.d/e2e.conf"
	e2e_rwl_fstab nfs > "$root/etc/fstab"
}

e2e_rwl_populate() {
	local base=$1 src=$2 tmp=$3 log=$4 version

	version=$(e2e_rwl_version "$src")
	cp -a "$base/." "$tmp/"
	block_services "$tmp"
	e2e_rwl_copy_sources "$src" "$tmp/usr/src/$e2e_rwl_name-$version"
	e2e_rwl_dkms "$tmp" "$version" "$log"
	e2e_rwl_make_install "$src" "$tmp" "$log"
	e2e_rwl_configure "$src" "$tmp"
	chroot_run "$tmp" update-initramfs -u -k all >> "$log" 2>&1 ||
		e2e_die "update-initramfs failed (log: $log)"
	e2e_image_updated "$tmp"
	rm -f "$tmp/usr/sbin/policy-rc.d"
}

# e2e_rwlayer_root ROOT SRC: print the root with rwlayer installed.
e2e_rwlayer_root() {
	local base=$1 src dest tmp log start=$SECONDS

	src=$(cd "$2" && pwd) || e2e_die "no source tree $2"
	[ -f "$src/dkms.conf" ] || e2e_die "$src has no dkms.conf: not an rwlayer tree"
	dest=$base-rwlayer-$(e2e_rwl_key "$src")
	if [ ! -d "$dest" ]; then
		log=${e2e_cache:?}/rwlayer-install.log
		: > "$log"
		tmp=$(mktemp -d "${e2e_cache:?}/tmp.XXXXXX")
		e2e_rwl_populate "$base" "$src" "$tmp" "$log"
		chmod 755 "$tmp"
		mv "$tmp" "$dest"
	fi
	if [ ! -f "$dest.ext4" ]; then
		build_image "$dest" "$dest.ext4.tmp"
		e2e_rwl_fstab_image "$dest.ext4.tmp"
		mv "$dest.ext4.tmp" "$dest.ext4"
	fi
	e2e_remove_variants "$base-rwlayer-" "$dest"
	e2e_log "rwlayer installed in $((SECONDS - start)) s: $dest"
	echo "$dest"
}
