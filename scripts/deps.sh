#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# deps.sh: install, from Debian's archive, everything that builds and tests
# rwlayer on a Debian 12 machine.  Idempotent and quick when nothing is
# missing: installed packages are skipped (dpkg-query) and apt-get update
# runs only when something has to be installed (or the kernel packages
# cannot be resolved from the cached package lists).
#
# Run it (needs root), or source it for its functions:
#   deps_all              everything `make check` needs (what running it does)
#   deps_demo             what `make demo` needs
#   deps_e2e              what the end-to-end tests (scripts/e2e/) need
#   deps_debug            what the debug kernel lane needs (scripts/debug-kernel.sh,
#                         make check-debug); not part of deps_all
#   deps_ensure PKG...    install those of PKG that are missing
#
# The two target kernels: Debian 12's own 6.1 (linux-image-amd64 from
# bookworm or bookworm-security) and 6.12 from bookworm-backports, each as
# the image and headers package the amd64 meta-package of that suite
# depends on today (e.g. linux-image-6.12.95+deb12-amd64).
set -eu

deps_backports=/etc/apt/sources.list.d/bookworm-backports.sources
deps_updated=

deps_log() {
	echo "deps: $*" >&2
}

# Packages besides the kernels.  libmnl/libnl/pkg-config build the
# userspace tools, clang and libclang-rt-dev (its libFuzzer and sanitizer
# runtimes, only recommended by clang) their fuzz harness, python3-yaml
# checks the netlink spec, man-db/groff-base check the man pages, jq goes
# into the test guest to read overlayctl's JSON, e2fsprogs makes the
# crash test's ext4 image.
deps_base_pkgs="qemu-system-x86 busybox-static linux-source-6.1 sparse dkms
	cpio xz-utils zstd kmod libmnl-dev libnl-3-dev libnl-route-3-dev
	pkg-config clang libclang-rt-dev python3-yaml man-db groff-base
	bsdextrautils jq
	bash-completion e2fsprogs
	build-essential"
deps_demo_pkgs="libmnl-dev libnl-3-dev libnl-route-3-dev pkg-config
	build-essential"
# The end-to-end tests: debootstrap builds the client root; ganesha
# (+ rpcbind for NFSv3) and nbd-server serve it; QEMU's PXE ROMs
# (ipxe-qemu) and pxelinux boot it; busybox nc is the guestfwd command;
# e2fsprogs makes the NBD image; iproute2 sets up the namespace.
deps_e2e_pkgs="debootstrap nfs-ganesha nfs-ganesha-vfs rpcbind nbd-server
	pxelinux syslinux-common qemu-system-x86 ipxe-qemu busybox-static
	e2fsprogs iproute2"
# The debug kernel lane builds a kernel from Debian's linux-source-6.12
# (bookworm-security); flex, bison, bc and libelf-dev (objtool) build it.
deps_debug_pkgs="linux-source-6.12 flex bison bc libelf-dev build-essential"

deps_apt_get() {
	DEBIAN_FRONTEND=noninteractive apt-get -q -y -o Dpkg::Use-Pty=0 "$@"
}

# At most once per run: a warm machine never reaches the network.
deps_update() {
	[ -z "$deps_updated" ] || return 0
	deps_log "apt-get update"
	deps_apt_get update
	deps_updated=1
}

# 6.12 comes from bookworm-backports, which a fresh machine lacks.  Same
# mirror and key as Debian's own entry (debian.sources).
deps_add_backports() {
	[ -e "$deps_backports" ] && return 0
	grep -rqs '^Suites:.*bookworm-backports' /etc/apt/sources.list.d/ && return 0
	grep -qs '^deb .*bookworm-backports' /etc/apt/sources.list && return 0
	deps_log "adding $deps_backports"
	cat > "$deps_backports" <<-EOF
		Types: deb
		URIs: http://deb.debian.org/debian
		Suites: bookworm-backports
		Components: main
		Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
	EOF
	deps_updated=
	deps_update
}

# deps_missing PKG...: print the packages that are not installed.
deps_missing() {
	local pkg

	for pkg in "$@"; do
		[ "$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2> /dev/null)" = installed ] ||
			echo "$pkg"
	done
}

# deps_kernel_pkgs stable|backports: the image and headers packages that
# linux-image-amd64 of that suite depends on.  apt-cache madison lists
# versions newest first, so the first matching line is the one apt picks.
deps_kernel_pkgs() {
	local which=$1 version depends

	version=$(apt-cache madison linux-image-amd64 2> /dev/null |
		awk -F' *[|] *' -v w="$which" '
			w == "backports" && $3 ~ /bookworm-backports/ { print $2; exit }
			w == "stable" && $3 ~ /bookworm[-a-z]*\// && $3 !~ /backports/ { print $2; exit }')
	[ -n "$version" ] || return 1
	depends=$(apt-cache show "linux-image-amd64=$version" |
		sed -n 's/^Depends: *\(linux-image-[^ ,]*\).*/\1/p' | head -n 1)
	[ -n "$depends" ] || return 1
	echo "$depends ${depends/linux-image-/linux-headers-}"
}

# deps_ensure [-t SUITE] PKG...: install what is missing, from SUITE if set.
deps_ensure() {
	local -a target=() missing

	if [ "${1:-}" = -t ]; then
		target=(-t "$2")
		shift 2
	fi
	mapfile -t missing < <(deps_missing "$@")
	[ "${#missing[@]}" -gt 0 ] || return 0
	[ "$(id -u)" = 0 ] || { deps_log "missing ${missing[*]}; run as root"; return 1; }
	deps_update
	deps_log "installing ${missing[*]}"
	deps_apt_get install --no-install-recommends "${target[@]}" "${missing[@]}"
}

# deps_resolve stable|backports: set deps_pkgs from the cached lists, and
# refresh them only if that fails.  (A global, not $(...): deps_update must
# remember that it ran, and its output must not end up in a variable.)
deps_resolve() {
	deps_pkgs=$(deps_kernel_pkgs "$1") && return 0
	deps_update
	deps_pkgs=$(deps_kernel_pkgs "$1") && return 0
	deps_log "cannot find linux-image-amd64 for $1 in the apt sources"
	return 1
}

deps_kernel_61() {
	deps_resolve stable || return 1
	# shellcheck disable=SC2086 # two package names
	deps_ensure linux-image-amd64 linux-headers-amd64 $deps_pkgs
}

deps_kernel_612() {
	deps_add_backports
	deps_resolve backports || return 1
	# shellcheck disable=SC2086 # two package names
	deps_ensure -t bookworm-backports $deps_pkgs
}

deps_all() {
	# shellcheck disable=SC2086 # word lists
	deps_ensure $deps_base_pkgs
	deps_kernel_61
	deps_kernel_612
	deps_e2e
	deps_log "all dependencies installed"
}

# The demo's client root brings its own kernels (DKMS builds the module
# there); this machine builds the tools and serves the client.
deps_demo() {
	# shellcheck disable=SC2086 # word list
	deps_ensure $deps_demo_pkgs
	deps_e2e
	deps_log "all dependencies installed"
}

# Installing these packages enables and starts their system services,
# which would serve on every interface of the host.  The tests run their
# own instances in a namespace; the host's stay off.
deps_e2e_quiet_services() {
	[ -d /run/systemd/system ] || return 0
	systemctl disable --now nfs-ganesha.service nfs-ganesha-lock.service \
		rpcbind.service rpcbind.socket nbd-server.service > /dev/null 2>&1 || true
}

# The client's kernels come from the client root's own apt, not the host.
deps_e2e() {
	local -a missing

	# shellcheck disable=SC2086 # word list
	mapfile -t missing < <(deps_missing $deps_e2e_pkgs)
	[ "${#missing[@]}" -eq 0 ] && return 0
	deps_ensure "${missing[@]}"
	deps_e2e_quiet_services
	deps_log "all end-to-end test dependencies installed"
}

# The debug kernel lane: the kernel's source and its build tools, and
# what the guests need (QEMU, busybox, the selftests' headers...), but not
# Debian's two kernels.  Only scripts/debug-kernel.sh and check-debug call
# it: make check never builds that kernel, so deps_all leaves it out.
deps_debug() {
	# shellcheck disable=SC2086 # word lists
	deps_ensure $deps_base_pkgs $deps_debug_pkgs
}

# Executed rather than sourced: install everything.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	deps_all
fi
