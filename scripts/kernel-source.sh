#!/bin/sh
# Print a directory holding the parts of Debian's linux-source-6.1 that the
# build and tests use (checkpatch, kselftest headers), extracting them from
# /usr/src/linux-source-6.1.tar.xz once into a cache outside the tree.
set -eu
cache=${RWLAYER_CACHE:-/var/cache/rwlayer}
dir=$cache/linux-source-6.1
stamp=$dir/.rwlayer-extracted
tarball=/usr/src/linux-source-6.1.tar.xz
if [ ! -e "$stamp" ] || [ "$tarball" -nt "$stamp" ]; then
	[ -r "$tarball" ] || { echo "missing $tarball: apt-get install linux-source-6.1" >&2; exit 1; }
	mkdir -p "$cache"
	tar -C "$cache" -xJf "$tarball" --wildcards \
		'linux-source-6.1/tools/testing/selftests/kselftest*.h' \
		'linux-source-6.1/scripts/checkpatch.pl' \
		'linux-source-6.1/scripts/spelling.txt' \
		'linux-source-6.1/scripts/const_structs.checkpatch' >&2
	touch "$stamp"
fi
echo "$dir"
