# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# dracut-root.sh: sourced by dracut.sh, after client-root.sh and
# rwlayer-install.sh.  The client root with dracut making the initramfs
# instead of initramfs-tools, and rwlayer installed into it as an admin
# of a dracut system does it:
#
#   apt-get install dracut dracut-network nfs-common   (initramfs-tools goes:
#                                                     the two conflict)
#   DKMS, make -C userspace install, make boot-install, the overlaytab,
#   systemctl enable rwlayerd.service   (rwlayer-install.sh's functions)
#   /etc/dracut.conf.d/10-e2e-diskless.conf (see e2e_drc_write_conf)
#   /etc/dracut.conf.d/50-rwlayer.conf: add_dracutmodules+=" rwlayer "
#   dracut --force --kver KVER, for both kernels
#
# Two cached stages beside the client root, each built in a temporary
# directory renamed at the end:
#   ROOT-dracutpkgs-KEY  the root + the dracut packages (network
#                        download; rarely changes)
#   ROOT-dracut-KEY      a copy of it + rwlayer, KEY covering the source
#                        files (e2e_rwl_files) and the functions used
# NFS only: no ext4 image.

e2e_drc_pkgs="dracut dracut-network nfs-common"

# The initramfs every client of the image gets, so not host-only (dracut
# would look at the image server's hardware).  drivers= replaces the
# generic set of kernel-modules (every disk controller and file system:
# 60 of 180 MB) with the client's virtio PCI network card; dracut's
# network module still brings every wired network driver, the nfs module
# NFS.  network-legacy (dhclient): left to itself, dracut 059 picks
# systemd-networkd, which configures the interface but never runs the
# netroot hooks, so the NFS root is never mounted.  No modules for local
# storage stacks (nbd: the NBD root is initramfs-tools' variant).
e2e_drc_write_conf() {
	mkdir -p "$1/etc/dracut.conf.d"
	cat > "$1/etc/dracut.conf.d/10-e2e-diskless.conf" <<-'EOF'
		# SPDX-License-Identifier: GPL-2.0
		# scripts/e2e: an initramfs for diskless clients, root over NFS.
		hostonly="no"
		drivers="virtio_pci virtio_net"
		add_dracutmodules+=" network-legacy nfs "
		omit_dracutmodules+=" nbd iscsi fcoe fcoe-uefi nvmf lvm dm mdraid crypt dmraid multipath btrfs resume plymouth "
	EOF
}

e2e_drc_pkgs_key() {
	{
		e2e_root_key
		echo "$e2e_drc_pkgs"
		declare -f e2e_drc_pkgs_populate
	} | sha256sum | cut -c1-16
}

e2e_drc_pkgs_populate() {
	local base=$1 tmp=$2 log=$3

	cp -a "$base/." "$tmp/"
	block_services "$tmp"
	# INITRD=No: dracut's package trigger would make both initramfs
	# images now; the next stage makes them with rwlayer.
	# shellcheck disable=SC2086 # word list
	chroot_run "$tmp" env INITRD=No apt-get -q -y -o Dpkg::Use-Pty=0 \
		--no-install-recommends install $e2e_drc_pkgs >> "$log" 2>&1 ||
		{ tail -n 30 "$log" >&2; e2e_die "installing $e2e_drc_pkgs failed (log: $log)"; }
	chroot_apt "$tmp" clean >> "$log" 2>&1
	rm -f "$tmp/usr/sbin/policy-rc.d"
}

# What an admin adds to enable the module (it is never included unless
# asked for: its check() returns 255).
e2e_drc_enable() {
	cat > "$1/etc/dracut.conf.d/50-rwlayer.conf" <<-'EOF'
		# rwlayer over the network root when the kernel command line says rwlayer=on
		add_dracutmodules+=" rwlayer "
	EOF
}

# A mount the initramfs makes below the root before the hook runs (an
# x-initrd.mount entry of the root's fstab, mounted by systemd in the
# initramfs): the hook must carry it onto the union (guest/dracut.sh).
e2e_drc_initrd_mount() {
	mkdir -p "$1/srv/e2e-initrd"
	echo "tmpfs /srv/e2e-initrd tmpfs x-initrd.mount,mode=0755,size=1M 0 0" >> "$1/etc/fstab"
}

# dracut for each kernel of the root (those with a /boot/vmlinuz).
e2e_drc_initrds() {
	local root=$1 log=$2 image kver

	for image in "$root"/boot/vmlinuz-*; do
		kver=${image##*/vmlinuz-}
		e2e_log "dracut for $kver"
		chroot_run "$root" dracut --force --kver "$kver" "/boot/initrd.img-$kver" >> "$log" 2>&1 ||
			{ tail -n 30 "$log" >&2; e2e_die "dracut for $kver failed (log: $log)"; }
		if ! chroot_run "$root" lsinitrd "/boot/initrd.img-$kver" | grep -q 'pre-pivot/[0-9]*-rwlayer-root.sh'; then
			e2e_die "the initramfs for $kver has no rwlayer hook (lsinitrd /boot/initrd.img-$kver)"
		fi
	done
}

e2e_drc_key() {
	local src=$1 pkgs_key=$2 f

	{
		echo "$pkgs_key"
		e2e_rwl_files "$src" | while read -r f; do
			echo "$f $(sha256sum < "$src/$f")"
		done
		declare -f e2e_drc_populate e2e_drc_write_conf e2e_drc_enable e2e_drc_initrds \
			e2e_drc_initrd_mount \
			e2e_rwl_copy_sources e2e_rwl_dkms e2e_rwl_make_install \
			e2e_rwl_configure e2e_rwl_test_tab e2e_rwl_fstab e2e_image_updated
	} | sha256sum | cut -c1-16
}

e2e_drc_populate() {
	local pkgs=$1 src=$2 tmp=$3 log=$4 version

	version=$(e2e_rwl_version "$src")
	cp -a "$pkgs/." "$tmp/"
	block_services "$tmp"
	e2e_rwl_copy_sources "$src" "$tmp/usr/src/${e2e_rwl_name:?}-$version"
	e2e_rwl_dkms "$tmp" "$version" "$log"
	e2e_rwl_make_install "$src" "$tmp" "$log"
	e2e_rwl_configure "$src" "$tmp"
	e2e_drc_initrd_mount "$tmp"
	e2e_drc_write_conf "$tmp"
	e2e_drc_enable "$tmp"
	e2e_drc_initrds "$tmp" "$log"
	e2e_image_updated "$tmp"
	rm -f "$tmp/usr/sbin/policy-rc.d"
}

# e2e_drc_stage DEST FUNC ARGS...: unless DEST exists, FUNC ARGS... TMP
# LOG in a temporary directory renamed to DEST when FUNC succeeded.
e2e_drc_stage() {
	local dest=$1 func=$2 tmp log
	shift 2

	[ -d "$dest" ] && return 0
	log=${e2e_cache:?}/dracut-root.log
	tmp=$(mktemp -d "$e2e_cache/tmp.XXXXXX")
	"$func" "$@" "$tmp" "$log"
	chmod 755 "$tmp"
	mv "$tmp" "$dest"
}

# e2e_dracut_root ROOT SRC: print the dracut variant of ROOT with rwlayer
# from the source tree SRC.
e2e_dracut_root() {
	local base=$1 src pkgs dest start=$SECONDS

	src=$(cd "$2" && pwd) || e2e_die "no source tree $2"
	[ -f "$src/dkms.conf" ] || e2e_die "$src has no dkms.conf: not an rwlayer tree"
	: > "${e2e_cache:?}/dracut-root.log"
	pkgs=$base-dracutpkgs-$(e2e_drc_pkgs_key)
	if [ ! -d "$pkgs" ]; then
		e2e_log "installing $e2e_drc_pkgs (log: $e2e_cache/dracut-root.log)"
		e2e_drc_stage "$pkgs" e2e_drc_pkgs_populate "$base"
	fi
	dest=$base-dracut-$(e2e_drc_key "$src" "${pkgs##*-}")
	if [ ! -d "$dest" ]; then
		e2e_log "installing rwlayer, dracut initramfs (log: $e2e_cache/dracut-root.log)"
		e2e_drc_stage "$dest" e2e_drc_populate "$pkgs" "$src"
	fi
	e2e_remove_variants "$base-dracutpkgs-" "$pkgs"
	e2e_remove_variants "$base-dracut-" "$dest"
	e2e_log "dracut variant ready in $((SECONDS - start)) s: $dest"
	echo "$dest"
}
