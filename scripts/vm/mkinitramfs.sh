#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# mkinitramfs.sh KVER OUTPUT
#
# Build the busybox initramfs that scripts/vm/run.sh boots.  Everything a
# guest needs is in the archive, so a guest never touches the host's files:
#
#   /bin/busybox + applet links   the whole userland (busybox-static)
#   /init                         scripts/vm/init
#   /rwlayer.ko                   $BUILD/KVER/rwlayer.ko (required)
#   /modules/*.ko                 the in-tree overlayfs, ext4, loop and
#                                 virtio_blk with their dependencies (those
#                                 not built in),
#                                 decompressed, from /lib/modules/KVER or,
#                                 for a debug kernel, scripts/debug-kernel.sh's
#                                 cache;
#   /modules/load-order           insmod these in this order
#   /selftests/                   $BUILD/selftests, if it was built (+ selftests/settings)
#   /bench/                       $BUILD/bench, if it was built
#   /sbin/overlayctl, rwlayerd    $BUILD/userspace, if it was built: the
#                                 ASan+UBSan builds (san/) when present;
#                                 with /sbin/jq and the shared libraries
#                                 all three need, at the host's paths
#   /guest/                       scripts/vm/guest/*
#
# OUTPUT is written as cpio newc, zstd-compressed (gzip when zstd is
# missing); both kernels decompress either.
set -eu

vm_dir=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$vm_dir/../.." && pwd)
BUILD=${BUILD:-$repo/build}
debug_kernels=${RWLAYER_CACHE:-/var/cache/rwlayer}/debug-kernel

die() {
	echo "mkinitramfs.sh: $*" >&2
	exit 1
}

# Busybox must be the static build: the archive has no libc.
add_busybox() {
	local root=$1 bb=/bin/busybox applet

	[ -x "$bb" ] || die "no $bb: apt-get install busybox-static"
	# A dynamic binary names its program interpreter (ld.so).
	! readelf -l "$bb" | grep -q 'program interpreter' ||
		die "$bb is not static: apt-get install busybox-static"
	install -D -m 0755 "$bb" "$root/bin/busybox"
	# --list-full gives each applet's canonical path (bin/ls, sbin/insmod..).
	for applet in $("$bb" --list-full); do
		[ -e "$root/$applet" ] && continue
		mkdir -p "$root/$(dirname "$applet")"
		ln -s /bin/busybox "$root/$applet"
	done
}

# The skeleton /init expects: mount points, a console node for the kernel
# to open before /init runs, and passwd/group so tests can name nobody.
add_skeleton() {
	local root=$1

	mkdir -p "$root"/{dev,proc,sys,tmp,run,mnt,srv,root,etc}
	# mktemp made $root 0700, and it becomes the guest's /.
	chmod 0755 "$root"
	chmod 1777 "$root/tmp"
	if [ "$(id -u)" = 0 ]; then
		mknod -m 0600 "$root/dev/console" c 5 1
		mknod -m 0666 "$root/dev/null" c 1 3
	fi
	printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' \
		'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' > "$root/etc/passwd"
	printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' > "$root/etc/group"
	install -m 0755 "$vm_dir/init" "$root/init"
}

# Copy one module file out of /lib/modules, decompressing .ko.xz/.ko.zst/
# .ko.gz (6.12 ships xz) so the guest's busybox insmod can load it.
copy_module() {
	local src=$1 dst=$2

	case "$src" in
	*.ko.xz)  xz -dc "$src" > "$dst" ;;
	*.ko.zst) zstd -qdc "$src" > "$dst" ;;
	*.ko.gz)  gzip -dc "$src" > "$dst" ;;
	*.ko)     cp "$src" "$dst" ;;
	*)        die "unknown module format: $src" ;;
	esac
}

# KVER's modules: Debian's in /lib/modules, a debug kernel's in the cache
# of scripts/debug-kernel.sh (run.sh boots its image from there too).
module_dir() {
	local debug=$debug_kernels/$1/modules/lib/modules/$1

	if [ -d "$debug" ]; then
		echo "$debug"
	else
		echo "/lib/modules/$1"
	fi
}

# A module plus whatever modules.dep says it needs, each once in
# load-order.  modules.dep lists a module's dependencies so that loading
# them right to left works, which is what modprobe does.  A module that
# is built in (not in modules.dep) is skipped.
add_module() {
	local root=$1 moddir=$2 path=$3 line deps rel name i

	line=$(grep -E "^kernel/$path\.ko(\.[a-z]+)?:" "$moddir/modules.dep") || return 0
	read -r -a deps <<< "${line#*:}"
	for ((i = ${#deps[@]} - 1; i >= -1; i--)); do
		if [ "$i" -ge 0 ]; then
			rel=${deps[i]}
		else
			rel=${line%%:*}
		fi
		name=$(basename "$rel")
		name=${name%%.ko*}.ko
		grep -Fqx "$name" "$root/modules/load-order" && continue
		copy_module "$moddir/$rel" "$root/modules/$name"
		echo "$name" >> "$root/modules/load-order"
	done
}

# The in-tree overlayfs (the differential tests' control), ext4 and loop
# for the tests that need a persistent upper (selftests/freeze.c), and the
# virtio disk of RWLAYER_VM_DISK (scripts/vm/run.sh, guest/crash.sh).
add_modules() {
	local root=$1 moddir

	moddir=$(module_dir "$2")
	grep -qE '^kernel/fs/overlayfs/overlay\.ko(\.[a-z]+)?:' "$moddir/modules.dep" ||
		die "overlay module not in $moddir/modules.dep"
	mkdir -p "$root/modules"
	: > "$root/modules/load-order"
	add_module "$root" "$moddir" fs/overlayfs/overlay
	# ext4 asks the crypto API for crc32c at mount: no modules.dep entry.
	add_module "$root" "$moddir" crypto/crc32c_generic
	add_module "$root" "$moddir" fs/ext4/ext4
	add_module "$root" "$moddir" drivers/block/loop
	add_module "$root" "$moddir" drivers/virtio/virtio_pci
	add_module "$root" "$moddir" drivers/block/virtio_blk
}

add_payload() {
	local root=$1 kver=$2 ko=$BUILD/$2/rwlayer.ko

	[ -f "$ko" ] || die "missing $ko: run 'make modules-all' (or make KVER=$kver) first"
	install -m 0644 "$ko" "$root/rwlayer.ko"
	if [ -d "$BUILD/selftests" ]; then
		cp -a "$BUILD/selftests" "$root/selftests"
		# kselftest's settings (timeout=N) live beside the sources;
		# guest/test.sh reads them.  Not executable, so not a test.
		if [ -f "$repo/selftests/settings" ] && [ ! -e "$root/selftests/settings" ]; then
			install -m 0644 "$repo/selftests/settings" "$root/selftests/settings"
		fi
	fi
	if [ -d "$BUILD/bench" ]; then
		cp -a "$BUILD/bench" "$root/bench"
	fi
	mkdir -p "$root/guest"
	cp "$vm_dir"/guest/* "$root/guest/"
	chmod 0755 "$root"/guest/*
}

# Copy ELF file @src to @dst in the archive, and with it its program
# interpreter and the shared libraries ldd resolves, each at the path the
# host has it under (symbolic links followed): the guest's loader finds
# them where the host's would.
add_elf() {
	local root=$1 src=$2 dst=$3 interp lib

	install -D -m 0755 "$src" "$root$dst"
	interp=$(readelf -l "$src" | sed -n 's/.*Requesting program interpreter: \(.*\)]$/\1/p')
	[ -n "$interp" ] || return 0
	if ldd "$src" | grep -q 'not found'; then
		ldd "$src" >&2
		die "$src: shared libraries missing on the host"
	fi
	for lib in "$interp" $(ldd "$src" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }'); do
		[ -e "$root$lib" ] || install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
	done
}

# overlayctl and rwlayerd for guest/userspace.sh, sanitized when the san/
# builds exist (make -C userspace .../san/overlayctl .../san/rwlayerd), and
# jq to check their JSON.  Without a build the guest script skips.
add_userspace() {
	local root=$1 dir=$BUILD/userspace prog src

	for prog in overlayctl rwlayerd; do
		src=$dir/san/$prog
		[ -x "$src" ] || src=$dir/$prog
		[ -x "$src" ] || continue
		add_elf "$root" "$src" "/sbin/$prog"
	done
	[ -e "$root/sbin/overlayctl" ] || return 0
	if command -v jq > /dev/null; then
		add_elf "$root" "$(command -v jq)" /usr/bin/jq
	else
		echo "mkinitramfs.sh: no jq on the host (apt-get install jq): the guest skips JSON checks" >&2
	fi
}

# cpio newc with every file owned by root, whoever builds it.
pack() {
	local root=$1 out=$2 compress

	if command -v zstd > /dev/null; then
		compress="zstd -q -T0 -3"
	else
		compress="gzip -6"
	fi
	(cd "$root" && find . -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc --owner=0:0 --quiet) | $compress > "$out.tmp"
	mv "$out.tmp" "$out"
}

main() {
	local kver=${1:-} out=${2:-}

	if [ -z "$kver" ] || [ -z "$out" ]; then
		die "usage: mkinitramfs.sh KVER OUTPUT"
	fi
	[ -d "$(module_dir "$kver")" ] || die "no /lib/modules/$kver"
	root=$(mktemp -d "${TMPDIR:-/tmp}/rwlayer-initramfs.XXXXXX")
	# root is global: the EXIT trap runs after main's locals are gone.
	trap 'rm -rf "$root"' EXIT
	add_skeleton "$root"
	add_busybox "$root"
	add_modules "$root" "$kver"
	add_payload "$root" "$kver"
	add_userspace "$root"
	mkdir -p "$(dirname "$out")"
	pack "$root" "$out"
}

main "$@"
