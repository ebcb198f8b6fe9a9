#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# demo.sh (make demo): one diskless client, booted the way a real PC
# boots, with rwlayer's writable layers over its read-only NFS root.
#
#   dependencies   scripts/deps.sh (QEMU, debootstrap, nfs-ganesha, ...)
#   client root    scripts/e2e/client-root.sh: Debian bookworm, cached in
#                  /var/cache/rwlayer/e2e (the first run takes ~10 minutes,
#                  later runs reuse it), rwlayer installed into it through
#                  DKMS and `make install` as an admin would
#   servers        nfs-ganesha exporting it read-only, in a network
#                  namespace that has only lo
#   client         PXE boot under QEMU (TCG, no KVM needed), root over
#                  NFSv4.1, rwlayer=on; scripts/e2e/guest/demo.sh shows
#                  overlayctl status, a write to /var/log, an EROFS on
#                  /usr, overlayctl diff /var; then the client powers off
#                  and the servers stop.
#
# Nothing is mounted, loaded or served on this machine's own network.
# Environment: BUILD, RWLAYER_DEMO_KERNEL (6.1 or 6.12, default 6.1), and
# those of scripts/e2e/boot.sh.
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
export BUILD=${BUILD:-$repo/build}
cd "$repo"
# shellcheck source=scripts/deps.sh
. scripts/deps.sh

run=$BUILD/demo/servers
out=$BUILD/demo/client

stop_servers() {
	scripts/e2e/servers.sh stop "$run" > /dev/null 2>&1 || true
}

main() {
	local root kernel=${RWLAYER_DEMO_KERNEL:-6.1} rc=0

	echo "== dependencies"
	deps_demo
	echo "== the client root (cached; the first build takes ~10 minutes)"
	root=$(scripts/e2e/client-root.sh install-rwlayer "$repo" | tail -n 1)
	echo "   $root"
	echo "== NFS server (nfs-ganesha, read-only export, loopback-only namespace)"
	mkdir -p "$run"
	trap stop_servers EXIT
	scripts/e2e/servers.sh start "$run" "$root" "$root.ext4"
	echo "== PXE-booting a diskless client: kernel $kernel, root over NFSv4.1, rwlayer=on"
	RWLAYER_E2E_APPEND=rwlayer=on scripts/e2e/boot.sh "$run" "$out" "$kernel" nfs4 demo ||
		rc=$?
	tr -d '\r' < "$out/output.log" | grep -av '^RWLAYER-' || true
	echo
	if [ "$rc" = 0 ]; then
		echo "== the client powered off; the servers stop.  Logs: $out"
	else
		echo "== something went wrong (exit $rc); logs: $out (console.log, output.log)"
	fi
	return "$rc"
}

main "$@"
