#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Smoke test of the VM runner itself: the guest boots, the payload is in
# the initramfs and the in-tree overlay module loads.  No rwlayer code runs.
set -e
echo "# guest kernel $(uname -r), $(nproc) cpu, $(free -m | awk '/Mem:/ { print $2 }') MiB"
test -f /rwlayer.ko
echo "ok - rwlayer.ko is in the initramfs"
for m in $(cat /modules/load-order); do
	insmod "/modules/$m"
done
grep -qw overlay /proc/filesystems
echo "ok - overlay.ko loads"
