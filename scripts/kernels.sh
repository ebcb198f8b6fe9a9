#!/bin/sh
# Print the installed Debian target kernels (6.1 and 6.12), one release per
# line, that have both an image in /boot and headers to build against.
set -eu
for series in 6.1 6.12; do
	for dir in /lib/modules/"$series".*; do
		[ -d "$dir" ] || continue
		kver=${dir##*/}
		[ -r "/boot/vmlinuz-$kver" ] || continue
		[ -e "$dir/build/Makefile" ] || continue
		echo "$kver"
	done | sort -V | tail -n 1
done
