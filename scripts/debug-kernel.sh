#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# debug-kernel.sh [build|kver]
#
# The debug kernel lane's kernel.  Debian's kernels have no KASAN, no
# lockdep and no fault injection, so this builds one from Debian's own
# linux-source-6.12 (bookworm-security): `make allnoconfig` plus
# scripts/debug-kernel.config, which holds what the QEMU test guest needs
# and the debugging (KASAN, PROVE_LOCKING, DEBUG_ATOMIC_SLEEP, DEBUG_LIST,
# FAILSLAB, FAIL_PAGE_ALLOC, fault injection in debugfs).  Every option of
# the fragment is checked in the final .config: a silently dropped one is
# an error that names it.
#
#   build   build the kernel unless the cached one is current (the
#           default; `make debug-kernel`), then print its KVER
#   kver    print the KVER of the cached kernel if it is current, exit 1
#           if there is none (check.sh asks this; it never builds)
#
# The KVER is the source's version with "-rwldebug" (6.12.118-rwldebug).
# The cache, $RWLAYER_CACHE/debug-kernel (default /var/cache/rwlayer),
# holds per KVER what scripts/vm/run.sh, mkinitramfs.sh and the Makefile
# look up when given that KVER:
#
#   KVER/bzImage                 the kernel image
#   KVER/build/                  the tree to build external modules against
#                                (like Debian's linux-headers: modules_prepare
#                                output, Module.symvers, .config)
#   KVER/modules/lib/modules/KVER/   the in-tree modules (overlay.ko), depmod'ed
#   KVER/System.map, KVER/config, KVER/build.log
#   KVER/build-seconds           wall clock of the (last attempt of the) build
#
# KVER is a symbolic link to builds/KEY/, KEY being a hash of the
# linux-source-6.12 package version, the config fragment and this script:
# when one of them changes the kernel is built again, and the older builds
# are removed once the new one is complete.  A failed build keeps its
# work tree (work-KEY/) so the next attempt continues where it stopped.
# README ("Debug kernel lane") says how long a build takes; make runs
# under nice.
#
# Environment: RWLAYER_CACHE, RWLAYER_SKIP_DEPS=1 (do not run deps.sh).
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
fragment=$repo/scripts/debug-kernel.config
cache=${RWLAYER_CACHE:-/var/cache/rwlayer}/debug-kernel
tarball=/usr/src/linux-source-6.12.tar.xz
suffix=-rwldebug

die() {
	echo "debug-kernel.sh: $*" >&2
	exit 1
}

log() {
	echo "debug-kernel.sh: $*" >&2
}

# The cache key: what the kernel is built from.  Empty (and status 1)
# without linux-source-6.12, which then has to be installed first.
cache_key() {
	local version

	version=$(dpkg-query -W -f='${Version}' linux-source-6.12 2> /dev/null) || return 1
	[ -n "$version" ] && [ -r "$tarball" ] || return 1
	{
		echo "linux-source-6.12 $version"
		cat "$fragment" "$repo/scripts/debug-kernel.sh"
	} | sha256sum | cut -c1-16
}

# The KVER of the current complete build, if there is one.
current_kver() {
	local key dir

	key=$(cache_key) || return 1
	dir=$cache/builds/$key
	[ -e "$dir/complete" ] || return 1
	cat "$dir/kver"
}

# Every CONFIG_ line of the fragment, set or "is not set", must be in the
# final .config exactly: Kconfig drops an option whose dependencies are
# off without a word.
check_config() {
	local config=$1 line sym now missing=0

	while IFS= read -r line; do
		case "$line" in
		CONFIG_* | "# CONFIG_"*" is not set") ;;
		*) continue ;;
		esac
		grep -qxF -- "$line" "$config" && continue
		sym=$(grep -oE 'CONFIG_[A-Za-z0-9_]+' <<< "$line" | head -n 1)
		now=$(grep -E "^(# )?${sym}[= ]" "$config" || echo "absent")
		log "the final .config lost \"$line\": it has \"$now\""
		missing=1
	done < "$fragment"
	[ "$missing" = 0 ] || die "options of $fragment did not survive allnoconfig: add their dependencies"
}

# Unpack the source once per key (about 20 s); the tarball's top
# directory is linux-source-6.12.
unpack() {
	local work=$1

	[ -e "$work/src/.unpacked" ] && return 0
	rm -rf "$work/src"
	mkdir -p "$work/src"
	log "unpacking $tarball"
	tar -C "$work/src" --strip-components=1 -xJf "$tarball"
	touch "$work/src/.unpacked"
}

# allnoconfig with the fragment as its preset, then the image, the modules
# and what external modules need.  make is incremental: a second attempt
# in the same work tree only does what is left.
compile() {
	local work=$1 jobs

	jobs=$(nproc)
	nice -n 10 make -C "$work/src" O="$work/obj" -s allnoconfig \
		KCONFIG_ALLCONFIG="$fragment"
	check_config "$work/obj/.config"
	nice -n 10 make -C "$work/obj" -j"$jobs" bzImage modules
	rm -rf "$work/out"
	mkdir -p "$work/out"
	nice -n 10 make -C "$work/obj" -s modules_install \
		INSTALL_MOD_PATH="$work/out/modules" INSTALL_MOD_STRIP=1
	# The kernel's own recipe for linux-headers packages: the part of the
	# source and object trees that `make M=...` reads.
	nice -n 10 make -C "$work/obj" -s run-command \
		KBUILD_RUN_COMMAND="$work/src/scripts/package/install-extmod-build $work/out/build"
	cp "$work/obj/.config" "$work/out/build/.config"
}

# Move a finished build into builds/KEY, point KVER at it, and drop what
# older keys left behind (builds and work trees).
publish() {
	local work=$1 key=$2 seconds=$3 kver dir old

	kver=$(cat "$work/obj/include/config/kernel.release")
	case "$kver" in
	*"$suffix") ;;
	*) die "kernel release is $kver, expected a name ending in $suffix" ;;
	esac
	[ -d "$work/out/modules/lib/modules/$kver" ] || die "no modules for $kver in $work/out"
	dir=$cache/builds/$key
	rm -rf "$dir"
	mv "$work/out" "$dir"
	# modules_install links build to the object tree, which goes away.
	ln -sfn ../../../../build "$dir/modules/lib/modules/$kver/build"
	cp "$work/obj/arch/x86/boot/bzImage" "$dir/bzImage"
	cp "$work/obj/System.map" "$dir/System.map"
	cp "$work/obj/.config" "$dir/config"
	cp "$work/build.log" "$dir/build.log"
	echo "$seconds" > "$dir/build-seconds"
	echo "$kver" > "$dir/kver"
	touch "$dir/complete"
	ln -sfn "builds/$key" "$cache/$kver.tmp"
	mv -T "$cache/$kver.tmp" "$cache/$kver"
	rm -rf "$work"
	for old in "$cache"/builds/* "$cache"/work-*; do
		if [ ! -e "$old" ] || [ "$old" = "$dir" ]; then
			continue
		fi
		log "removing the outdated $old"
		rm -rf "$old"
	done
	find "$cache" -maxdepth 1 -type l ! -exec test -e {} \; -delete
}

# The EXIT trap of a failed build: the end of its log, and where it is.
build_failed() {
	tail -n 40 "$1/build.log" | sed 's/^/  | /' >&2
	log "the build failed (log: $1/build.log); the next run continues it"
}

build() {
	local key kver work start seconds

	if [ -z "${RWLAYER_SKIP_DEPS:-}" ]; then
		# shellcheck source=scripts/deps.sh
		. "$repo/scripts/deps.sh"
		deps_debug
	fi
	key=$(cache_key) || die "no $tarball: apt-get install linux-source-6.12"
	mkdir -p "$cache/builds"
	# One build at a time: a second caller waits, then finds it done.
	exec 9> "$cache/.lock"
	flock 9
	if kver=$(current_kver); then
		log "$kver is current ($cache/$kver, built in $(cat "$cache/$kver/build-seconds") s)"
		echo "$kver"
		return 0
	fi
	work=$cache/work-$key
	mkdir -p "$work"
	log "building the debug kernel in $work (log: $work/build.log)"
	start=$SECONDS
	# Not under `if` or `||`, which would switch set -e off inside.
	trap 'build_failed "$work"' EXIT
	unpack "$work" > "$work/build.log" 2>&1
	compile "$work" >> "$work/build.log" 2>&1
	trap - EXIT
	seconds=$((SECONDS - start))
	publish "$work" "$key" "$seconds"
	kver=$(current_kver)
	log "built $kver in $((seconds / 60)) min $((seconds % 60)) s: $cache/$kver"
	echo "$kver"
}

main() {
	case "${1:-build}" in
	build) build ;;
	kver) current_kver ;;
	*) die "usage: debug-kernel.sh [build|kver]" ;;
	esac
}

main "$@"
