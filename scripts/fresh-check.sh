#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fresh-check.sh [TARGET...]: run make TARGET (default: check) the way a
# freshly installed Debian 12 machine would, in a clean root: debootstrap
# bookworm into $RWLAYER_FRESH_ROOT (default /var/tmp/rwlayer-fresh, made
# anew every run), add git and make only (README: the base system has
# neither), clone this repository's HEAD into it and
# run the README's command there as root, so that everything it needs
# must come from scripts/deps.sh.  The root gets /proc, /sys, /dev and
# the host's resolv.conf; its package archive is Debian's, like the
# host's; services that packages would start stay off (policy-rc.d).
#
# The log is $RWLAYER_FRESH_ROOT.log; the last line printed is make's
# last line ("N passed, N failed" for check) and the exit status is
# make's.  Takes about as long as make check on a new machine plus the
# debootstrap (a few minutes): nothing is cached from the host.
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
root=${RWLAYER_FRESH_ROOT:-/var/tmp/rwlayer-fresh}
log=$root.log
mirror=http://deb.debian.org/debian
targets=("${@:-check}")
mounted=()

die() {
	echo "fresh-check.sh: $*" >&2
	exit 1
}

# shellcheck disable=SC2317 # run by the EXIT trap
unmount_all() {
	local i

	for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
		umount -l "${mounted[i]}" 2> /dev/null || true
	done
}

# mount_into_root DIR MOUNT-ARGS...: mount on DIR of the root.
mount_into_root() {
	mkdir -p "$root/$1"
	mount "${@:2}" "$root/$1"
	mounted+=("$root/$1")
}

in_root() {
	chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		DEBIAN_FRONTEND=noninteractive "$@"
}

[ "$(id -u)" = 0 ] || die "run as root (debootstrap, chroot, mounts)"
command -v debootstrap > /dev/null || die "debootstrap missing: apt-get install debootstrap"
trap unmount_all EXIT

rm -rf --one-file-system "$root"
echo "fresh-check.sh: debootstrap bookworm into $root (log: $log)"
debootstrap bookworm "$root" "$mirror" > "$log" 2>&1 || die "debootstrap failed (see $log)"

# A machine's / is a mount: unshare --mount (the e2e servers) sets its
# propagation, which fails (EINVAL) on a directory that is not one.
mount --bind "$root" "$root"
mounted+=("$root")
mount_into_root proc -t proc proc
mount_into_root sys -t sysfs sys
mount_into_root dev --rbind /dev
cp /etc/resolv.conf "$root/etc/resolv.conf"
# What the installer writes: the release, its security and its updates.
cat > "$root/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb http://deb.debian.org/debian-security bookworm-security main
deb $mirror bookworm-updates main
EOF
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"

echo "fresh-check.sh: git, make, and a clone of $(git -C "$repo" rev-parse --short HEAD)"
{
	in_root apt-get -q -y update
	in_root apt-get -q -y install git make
} >> "$log" 2>&1 || die "installing git and make failed (see $log)"
git clone -q "$repo" "$root/root/rwlayer"

echo "fresh-check.sh: make ${targets[*]} in the fresh root"
set +e
in_root make -C /root/rwlayer "${targets[@]}" 2>&1 | tee -a "$log" | tail -n 1
exit "${PIPESTATUS[0]}"
