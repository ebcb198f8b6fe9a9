#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# client-root.sh [build]            build (or reuse) the diskless client root
# client-root.sh path               print the cached root directory
# client-root.sh image              print the ext4 image of that root (NBD)
# client-root.sh install-rwlayer SRC
#                                   install rwlayer from the source tree SRC
#                                   into a copy of the root the way an admin
#                                   does on an image server (DKMS, make
#                                   install, update-initramfs); prints the
#                                   new root directory
# client-root.sh overlayfs          the overlayfs baseline variant of the
#                                   root (overlayfs-root.sh); prints it
#
# The client root is what an image server exports: Debian bookworm
# (debootstrap --variant=minbase) plus systemd, udev, dbus, ifupdown +
# isc-dhcp-client, nbd-client, initramfs-tools, both target kernels
# (linux-image-amd64 = 6.1, and 6.12 from bookworm-backports) with headers,
# dkms and build-essential, then the diskless configuration of
# guest-files.sh.  Cached under $RWLAYER_E2E_CACHE (/var/cache/rwlayer/e2e)
# in two stages keyed by what defines them (see e2e_base_key), each built
# in a temporary directory that is renamed into place only when complete,
# so an interrupted build never leaves a half root behind.  Build output:
# $RWLAYER_E2E_CACHE/build.log.  Measured: base 4.5 min (network: ~170 MB),
# root stage + image 1.5 min; about 1.4 GB each.
#
# Sourced by the other e2e scripts for e2e_root_dir/e2e_root_image.
# Needs root (debootstrap, chroot).
set -eu

e2e_cache=${RWLAYER_E2E_CACHE:-/var/cache/rwlayer/e2e}
e2e_script=$(readlink -f "${BASH_SOURCE[0]}")
e2e_dir=$(dirname "$e2e_script")

# Packages for the minbase root.  ifupdown + isc-dhcp-client is the
# classic Debian diskless client (it writes /var/lib/dhcp, one of the
# paths rwlayer has to make writable); nbd-client brings its own
# initramfs-tools hook for the NBD root; procps/iproute2 for the tests;
# libmnl0 and libnl-route-3-200 are what overlayctl and rwlayerd link
# with (the packages an rwlayer .deb would depend on).
e2e_root_pkgs="systemd-sysv udev dbus ifupdown isc-dhcp-client iproute2
	initramfs-tools nbd-client kmod procps libmnl0 libnl-3-200 libnl-route-3-200"
# Installed with apt in the chroot (debootstrap cannot pick a suite per
# package): the 6.1 kernel, DKMS and the toolchain it needs.
e2e_chroot_pkgs="linux-image-amd64 linux-headers-amd64 dkms build-essential"

# The guest's fixed view of the world (QEMU user networking): the
# servers' address as the guest sees it, and the ports guestfwd forwards.
e2e_server_ip=10.0.2.100
e2e_nfs_export=/client

# shellcheck source=scripts/e2e/guest-files.sh
. "$e2e_dir/guest-files.sh"

e2e_log() {
	echo "client-root: $*" >&2
}

e2e_die() {
	e2e_log "$*"
	exit 1
}

# The Debian mirror the host's apt uses (deb822 or one-line format), so the
# client root comes from the same archive as the host.
e2e_mirror() {
	local uri

	uri=$(awk '/^URIs:/ { u = $2 } /^Suites:/ && / bookworm( |$)/ { print u; exit }' \
		/etc/apt/sources.list.d/*.sources 2> /dev/null || true)
	[ -n "$uri" ] || uri=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' \
		/etc/apt/sources.list 2> /dev/null || true)
	echo "${uri:-http://deb.debian.org/debian}"
}

# Two stages, each cached under a key of what defines its content (the
# functions' text as bash prints it, so comments do not count, plus the
# package lists and the mirror):
#   base-KEY   debootstrap + packages: slow (network), rarely changes
#   root-KEY   a copy of the base + the diskless configuration and the
#              initramfs built with it: about a minute
#   root-KEY.ext4  the same tree as an ext4 image (NBD)
e2e_base_key() {
	{
		declare -f populate_base install_packages write_sources \
			block_services configure_initramfs backports_kernel_pkgs
		echo "$e2e_root_pkgs $e2e_chroot_pkgs $(e2e_mirror)"
	} | sha256sum | cut -c1-16
}

e2e_root_key() {
	{
		e2e_base_key
		declare -f configure_root build_image e2e_fstab_for_nbd \
			e2e_fstab write_network write_identity write_test_driver \
			write_nfs4_boot_script \
			e2e_write_guest_files
	} | sha256sum | cut -c1-16
}

e2e_base_dir() {
	echo "$e2e_cache/base-$(e2e_base_key)"
}

e2e_root_dir() {
	echo "$e2e_cache/root-$(e2e_root_key)"
}

e2e_root_image() {
	echo "$(e2e_root_dir).ext4"
}

# chroot_run ROOT CMD...: run CMD in ROOT with /proc, /sys and /dev
# mounted, in a private mount namespace so that nothing stays mounted
# (and nothing leaks onto the host) whatever happens.
chroot_run() {
	local root=$1
	shift

	# shellcheck disable=SC2016 # expanded by the inner shell
	unshare --mount --propagation private -- /bin/sh -c '
		root=$1; shift
		mount -t proc proc "$root/proc" &&
		mount -t sysfs sysfs "$root/sys" &&
		mount --rbind /dev "$root/dev" &&
		exec chroot "$root" /usr/bin/env -i \
			PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C \
			DEBIAN_FRONTEND=noninteractive "$@"' sh "$root" "$@"
}

chroot_apt() {
	local root=$1
	shift

	chroot_run "$root" apt-get -q -y -o Dpkg::Use-Pty=0 \
		--no-install-recommends "$@"
}

# The same suites as the host: bookworm (+ updates, security) and
# bookworm-backports for the 6.12 kernel.
write_sources() {
	local root=$1 mirror

	mirror=$(e2e_mirror)
	rm -f "$root/etc/apt/sources.list"
	cat > "$root/etc/apt/sources.list.d/debian.sources" <<-EOF
		Types: deb
		URIs: $mirror
		Suites: bookworm bookworm-updates bookworm-backports
		Components: main
		Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

		Types: deb
		URIs: ${mirror%/debian}/debian-security
		Suites: bookworm-security
		Components: main
		Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
	EOF
}

# No daemon may start inside the chroot during package installation.
block_services() {
	printf '#!/bin/sh\nexit 101\n' > "$1/usr/sbin/policy-rc.d"
	chmod 755 "$1/usr/sbin/policy-rc.d"
}

# The 6.12 image and headers package that bookworm-backports'
# linux-image-amd64 depends on (a versioned name: the meta-package name is
# taken by 6.1).
backports_kernel_pkgs() {
	local root=$1 version image

	version=$(chroot_run "$root" apt-cache madison linux-image-amd64 |
		awk -F' *[|] *' '$3 ~ /bookworm-backports/ { print $2; exit }')
	[ -n "$version" ] || e2e_die "no linux-image-amd64 in bookworm-backports"
	image=$(chroot_run "$root" apt-cache show "linux-image-amd64=$version" |
		sed -n 's/^Depends: *\(linux-image-[^ ,]*\).*/\1/p' | head -n 1)
	[ -n "$image" ] || e2e_die "cannot resolve linux-image-amd64=$version"
	echo "$image ${image/linux-image-/linux-headers-}"
}

# A small initramfs with network drivers and NFS (MODULES=netboot) loads
# quicker over TFTP than MODULES=most.
configure_initramfs() {
	sed -i 's/^MODULES=.*/MODULES=netboot/' "$1/etc/initramfs-tools/initramfs.conf"
}

install_packages() {
	local root=$1 bpo

	write_sources "$root"
	block_services "$root"
	configure_initramfs "$root"
	chroot_apt "$root" update
	# shellcheck disable=SC2086 # word list
	chroot_apt "$root" install $e2e_chroot_pkgs
	bpo=$(backports_kernel_pkgs "$root")
	# shellcheck disable=SC2086 # two package names
	chroot_apt "$root" install -t bookworm-backports $bpo
	chroot_apt "$root" clean
	rm -f "$root/usr/sbin/policy-rc.d"
}

# comma_list WORD...: WORD,WORD,... (debootstrap's --include syntax)
comma_list() {
	local IFS=,

	echo "$*"
}

# debootstrap, then packages.  Output goes to LOG: stdout of this script
# is the root's path.
populate_base() {
	local base=$1 log=$2 mirror

	mirror=$(e2e_mirror)
	e2e_log "debootstrap minbase bookworm from $mirror (log: $log)"
	# shellcheck disable=SC2086 # word list
	debootstrap --variant=minbase --include="$(comma_list $e2e_root_pkgs)" \
		bookworm "$base" "$mirror" >> "$log" 2>&1 ||
		{ tail -n 30 "$log" >&2; e2e_die "debootstrap failed (log: $log)"; }
	e2e_log "installing kernels, headers, dkms, build-essential"
	install_packages "$base" >> "$log" 2>&1 ||
		{ tail -n 30 "$log" >&2; e2e_die "package installation failed (log: $log)"; }
}

# The diskless configuration on a copy of the base, then each kernel's
# initramfs again with it (nbd-client's hook, MODULES=netboot).
configure_root() {
	local root=$1 log=$2

	e2e_log "diskless configuration"
	block_services "$root"
	e2e_write_guest_files "$root" "$e2e_server_ip" "$e2e_nfs_export"
	chroot_run "$root" update-initramfs -u -k all >> "$log" 2>&1 ||
		{ tail -n 30 "$log" >&2; e2e_die "update-initramfs failed (log: $log)"; }
	rm -f "$root/usr/sbin/policy-rc.d"
}

# mke2fs -d copies a directory into a new file system without a loop
# device.  Sized at 1.3 x the content + 256 MiB so the lead can still add
# DKMS builds to a copy.
build_image() {
	local root=$1 image=$2 kib

	kib=$(du -sk "$root" | cut -f1)
	kib=$((kib * 13 / 10 + 262144))
	rm -f "$image.tmp"
	mke2fs -q -t ext4 -L e2e-root -d "$root" "$image.tmp" "${kib}k" >&2
	e2e_fstab_for_nbd "$image.tmp"
	mv "$image.tmp" "$image"
}

# The image carries the NBD root's fstab, the directory the NFS one.
# debugfs edits the file inside the image (still no loop device).
e2e_fstab_for_nbd() {
	local image=$1 fstab

	fstab=$(mktemp)
	e2e_fstab nbd > "$fstab"
	debugfs -w -f - "$image" > /dev/null 2>&1 <<-EOF
		rm /etc/fstab
		write $fstab /etc/fstab
		sif /etc/fstab mode 0100644
	EOF
	rm -f "$fstab"
}

# e2e_stage DIR FUNC: unless DIR exists, run FUNC TMP LOG in a temporary
# directory beside it and rename that to DIR when FUNC succeeded.
e2e_stage() {
	local dir=$1 func=$2 tmp

	[ -d "$dir" ] && return 0
	tmp=$(mktemp -d "$e2e_cache/tmp.XXXXXX")
	"$func" "$tmp" "$e2e_cache/build.log"
	chmod 755 "$tmp"
	mv "$tmp" "$dir"
}

# The root stage starts from a copy of the base (cp -a keeps owners,
# modes, hard links, device nodes).
copy_and_configure() {
	local root=$1 log=$2

	cp -a "$(e2e_base_dir)/." "$root/"
	configure_root "$root" "$log"
}

# Reuse the cached root when its key matches; build what is missing.
# Stale stages (other keys) are removed: they are about 1 GB each.
build_root() {
	local root start=$SECONDS

	root=$(e2e_root_dir)
	if [ -d "$root" ] && [ -f "$root.ext4" ]; then
		echo "$root"
		return 0
	fi
	[ "$(id -u)" = 0 ] || e2e_die "needs root"
	command -v debootstrap > /dev/null || e2e_die "debootstrap missing: scripts/deps.sh (deps_e2e)"
	mkdir -p "$e2e_cache"
	: > "$e2e_cache/build.log"
	e2e_stage "$(e2e_base_dir)" populate_base
	e2e_stage "$root" copy_and_configure
	if [ ! -f "$root.ext4" ]; then
		e2e_log "ext4 image for NBD"
		build_image "$root" "$root.ext4"
	fi
	remove_stale "$(e2e_base_dir)" "$root"
	e2e_log "client root ready in $((SECONDS - start)) s: $root"
	echo "$root"
}

remove_stale() {
	local base=$1 root=$2 old

	for old in "$e2e_cache"/base-* "$e2e_cache"/root-* "$e2e_cache"/tmp.*; do
		[ -e "$old" ] || continue
		case "$old" in "$base" | "$root" | "$root".* | "$root"-*) continue ;; esac
		e2e_log "removing stale $old"
		rm -rf "$old"
	done
}

# e2e_image_updated ROOT: what an image server does after each change of
# the image: stamp /etc/.updated and /var/.updated with /usr's time, as
# systemd-update-done would (Debian 12 does not ship it).  Without the
# stamps systemd-sysusers.service (ConditionNeedsUpdate=/etc) runs at
# every boot of every client, since systemd finds /etc writable (with
# rwlayer /etc holds file rules) and /usr newer, and fails taking
# /etc/.pwd.lock (EROFS).  Its work was done on the server by dpkg.
e2e_image_updated() {
	local root=$1 dir nsec

	nsec=$(stat -c %.9Y "$root/usr" | tr -d .)
	for dir in etc var; do
		cat > "$root/$dir/.updated" <<-EOF
			# This file was created by the image server (see systemd-update-done).
			# Its only purpose is to hold a timestamp of the time this directory
			# was updated. See man:systemd-update-done.service(8).
			TIMESTAMP_NSEC=$nsec
		EOF
		touch -r "$root/usr" "$root/$dir/.updated"
	done
}

# e2e_remove_variants PREFIX KEEP: variants of the root built from other
# sources (2-3 GB each) go once unused for a day (several source trees,
# several people, may share the cache; using one touches it).
e2e_remove_variants() {
	local prefix=$1 keep=$2 old

	touch "$keep"
	for old in "$prefix"*; do
		[ -e "$old" ] || continue
		case "$old" in "$keep" | "$keep".*) continue ;; esac
		[ -n "$(find "$old" -maxdepth 0 -mmin +1440)" ] || continue
		e2e_log "removing $old (unused for a day)"
		rm -rf "$old" "$old.ext4"
	done
}

e2e_root_main() {
	local cmd=${1:-build}

	case "$cmd" in
	build) build_root ;;
	path) e2e_root_dir ;;
	image) e2e_root_image ;;
	install-rwlayer)
		[ $# -eq 2 ] || e2e_die "usage: client-root.sh install-rwlayer SRC"
		# shellcheck source=scripts/e2e/rwlayer-install.sh
		. "$e2e_dir/rwlayer-install.sh"
		e2e_rwlayer_root "$(build_root)" "$2"
		;;
	overlayfs)
		# shellcheck source=scripts/e2e/overlayfs-root.sh
		. "$e2e_dir/overlayfs-root.sh"
		e2e_overlayfs_root "$(build_root)"
		;;
	*) e2e_die "unknown command '$cmd': build | path | image | install-rwlayer SRC | overlayfs" ;;
	esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	e2e_root_main "$@"
fi
