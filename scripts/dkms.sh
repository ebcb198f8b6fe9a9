#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# dkms.sh install [KVER...]   what an admin does: the sources to
#                             /usr/src/rwlayer-VERSION, dkms add, then dkms
#                             build + install for each kernel (default: all
#                             of scripts/kernels.sh)
# dkms.sh remove              dkms remove --all, delete /usr/src/rwlayer-VERSION
# dkms.sh test [KVER...]      install, check what got installed, remove
#                             again: the machine is left as it was.  Used
#                             by `make check`; the exit status says it all.
#
# Every command starts by removing what an earlier run of this VERSION may
# have left, so they can be repeated.  Needs root.
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
name=rwlayer
dkms_tree=/var/lib/dkms

die() {
	echo "dkms.sh: $*" >&2
	exit 1
}

# dkms.conf carries the version as a literal; it must match kmod/VERSION,
# which the module itself reports.
read_version() {
	local conf tree

	tree=$(tr -d '[:space:]' < "$repo/kmod/VERSION")
	conf=$(sed -n 's/^PACKAGE_VERSION="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$repo/dkms.conf")
	[ -n "$tree" ] || die "kmod/VERSION is empty"
	[ "$conf" = "$tree" ] ||
		die "dkms.conf says PACKAGE_VERSION=\"$conf\" but kmod/VERSION says $tree: make them agree"
	version=$tree
	src=/usr/src/$name-$version
}

# Only what the build needs: Kbuild, Makefile, dkms.conf, COPYING and the
# sources in kmod/ (never objects from an in-tree build).
copy_tree() {
	local f

	rm -rf "$src"
	mkdir -p "$src"
	cp "$repo"/{Kbuild,Makefile,dkms.conf,COPYING} "$src/" || return 1
	(cd "$repo" && find kmod -type f \( -name '*.[ch]' -o -name VERSION \
		-o -name 'Kbuild*' -o -name 'Makefile*' \)) |
	while read -r f; do
		install -D -m 0644 "$repo/$f" "$src/$f" || exit 1
	done
}

is_added() {
	[ -n "$(dkms status "$name/$version" 2> /dev/null)" ]
}

remove_all() {
	if is_added; then
		dkms remove "$name/$version" --all || return 1
	fi
	rm -rf "$src"
}

# dkms keeps the failing build's make.log; show it before it is removed.
build_one() {
	local kver=$1

	if ! dkms build "$name/$version" -k "$kver"; then
		cat "$dkms_tree/$name/$version/build/make.log" >&2 2> /dev/null || true
		return 1
	fi
	dkms install "$name/$version" -k "$kver"
}

# Explicit returns: test_all calls this in a || list, where set -e is off.
install_all() {
	local kver

	remove_all || return 1
	copy_tree || return 1
	dkms add "$name/$version" || return 1
	for kver in "$@"; do
		echo "dkms.sh: $name/$version for $kver"
		build_one "$kver" || return 1
	done
}

# The module landed in updates/dkms (compressed or not, as dkms decides
# from the kernel's modules.dep), was built for this kernel, and depmod
# knows it: modinfo -k resolves the name to that file.
verify_one() {
	local kver=$1 file magic resolved

	file=$(find "/lib/modules/$kver/updates/dkms" -name "$name.ko*" 2> /dev/null | head -n 1)
	[ -n "$file" ] || { echo "dkms.sh: no $name.ko under /lib/modules/$kver/updates/dkms" >&2; return 1; }
	magic=$(modinfo -F vermagic "$file")
	[ "${magic%% *}" = "$kver" ] ||
		{ echo "dkms.sh: $file has vermagic '$magic', not $kver" >&2; return 1; }
	resolved=$(modinfo -k "$kver" -F filename "$name")
	[ "$resolved" = "$file" ] ||
		{ echo "dkms.sh: modinfo -k $kver $name finds '$resolved', not $file (depmod?)" >&2; return 1; }
	echo "dkms.sh: ok: $file, vermagic $magic"
}

# dkms generates a module signing key (mok.key/mok.pub) on first use.  A
# test run must not leave one behind, but an admin's own key stays.
test_all() {
	local kver had_key=0 rc=0

	[ -e "$dkms_tree/mok.key" ] && had_key=1
	install_all "$@" || rc=1
	if [ "$rc" = 0 ]; then
		for kver in "$@"; do
			verify_one "$kver" || rc=1
		done
	fi
	remove_all || rc=1
	if [ "$had_key" = 0 ]; then
		rm -f "$dkms_tree/mok.key" "$dkms_tree/mok.pub"
	fi
	rmdir "$dkms_tree/$name" 2> /dev/null || true
	for kver in "$@"; do
		if [ -n "$(find "/lib/modules/$kver/updates/dkms" -name "$name.ko*" 2> /dev/null)" ]; then
			echo "dkms.sh: $name.ko still installed for $kver after dkms remove" >&2
			rc=1
		fi
	done
	if [ "$rc" = 0 ]; then
		echo "dkms.sh: PASS: add/build/install/remove of $name/$version for: $*"
	else
		echo "dkms.sh: FAIL: $name/$version for: $*" >&2
	fi
	return "$rc"
}

main() {
	local cmd=${1:-}
	local -a kernels

	[ $# -ge 1 ] || die "usage: dkms.sh install|test [KVER...] | remove"
	shift
	[ "$(id -u)" = 0 ] || die "needs root"
	command -v dkms > /dev/null || die "dkms missing: apt-get install dkms"
	read_version
	kernels=("$@")
	[ "${#kernels[@]}" -gt 0 ] || mapfile -t kernels < <("$repo/scripts/kernels.sh")
	case "$cmd" in
	install) install_all "${kernels[@]}" ;;
	remove)  remove_all ;;
	test)    test_all "${kernels[@]}" ;;
	*)       die "unknown command '$cmd': install|test [KVER...] | remove" ;;
	esac
}

main "$@"
