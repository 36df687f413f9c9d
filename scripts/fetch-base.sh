#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Fetch Debian's linux-source-<base> package and unpack it once into the
# cache as a pristine tree: cache/src/<base>/linux-source-<base>/.  The
# package version is recorded; a newer Debian upload replaces the tree.
# Works as an ordinary user: apt-get download needs no root.  The pristine
# tree is never written to: work trees are hard-linked copies of it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

base=${1:?usage: fetch-base.sh BASE}
check_base "$base"
pkg=linux-source-$base
dir=$PVG_CACHE/src/$base
mkdir -p "$dir" "$PVG_CACHE/debs"

ver=$(apt-cache policy "$pkg" 2>/dev/null | awk '/Candidate:/ { print $2 }')
if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
	die "Debian package $pkg is unknown to apt (run 'apt-get update' as root; it is in bookworm and bookworm-backports/security)"
fi
if [ -f "$dir/version" ] && [ "$(cat "$dir/version")" = "$ver" ] &&
   [ -f "$dir/$pkg/Makefile" ]; then
	exit 0
fi

stage "fetching $pkg $ver"
deb=$(ls "$PVG_CACHE/debs/${pkg}_${ver//:/%3a}_"*.deb 2>/dev/null | head -1 || true)
if [ -z "$deb" ]; then
	(cd "$PVG_CACHE/debs" && apt-get -o APT::Sandbox::User="$(id -un)" download "$pkg=$ver" >/dev/null) ||
		die "could not download $pkg=$ver"
	deb=$(ls "$PVG_CACHE/debs/${pkg}_"*.deb | head -1)
fi

stage "unpacking $pkg (takes about a minute)"
tmp=$dir/tmp.$$
rm -rf "$tmp" "${dir:?}/$pkg" "$dir/version"
mkdir -p "$tmp"
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" "./usr/src/$pkg.tar.xz"
tar -xJf "$tmp/usr/src/$pkg.tar.xz" -C "$dir"
rm -rf "$tmp"
[ -f "$dir/$pkg/Makefile" ] || die "$deb did not contain a kernel tree"
echo "$ver" >"$dir/version"
info "$pkg $ver ready in $dir/$pkg"
