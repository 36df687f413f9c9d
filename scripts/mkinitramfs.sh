#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the test guest's initramfs for one built kernel:
#   mkinitramfs.sh OBJDIR OUTPUT
# Debian's static busybox, our init and in-guest tests (tests/guest/), two
# small static helpers (pvg-exit, pvg-cpuid, the pvg-ipistorm workload) and
# the kernel's modules.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

obj=${1:?usage: mkinitramfs.sh OBJDIR OUTPUT}
out=${2:?usage: mkinitramfs.sh OBJDIR OUTPUT}
busybox=/bin/busybox
[ -x $busybox ] || die "$busybox missing: install busybox-static"
ldd $busybox >/dev/null 2>&1 &&
	die "$busybox is not static: install busybox-static"

tools=$PVG_BUILD/tools
mkdir -p "$tools"
for t in pvg-exit pvg-cpuid pvg-ipistorm; do
	if [ ! -x "$tools/$t" ] || [ "$PVG_TOP/tests/guest/$t.c" -nt "$tools/$t" ]; then
		gcc -static -O2 -Wall -Werror -pthread -o "$tools/$t" "$PVG_TOP/tests/guest/$t.c" ||
			die "cannot build $t (static glibc from libc6-dev is needed)"
	fi
done

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,usr/bin,proc,sys,dev,tmp,tests,lib}
cp $busybox "$root/bin/busybox"
cp "$tools/pvg-exit" "$tools/pvg-cpuid" "$tools/pvg-ipistorm" "$root/usr/bin/"
install -m 755 "$PVG_TOP/tests/guest/init" "$root/init"
cp -r "$PVG_TOP/tests/guest/lib" "$root/tests/"
cp "$PVG_TOP"/tests/guest/tests/*.sh "$root/tests/"
[ -d "$obj/modroot/lib/modules" ] && cp -a "$obj/modroot/lib/modules" "$root/lib/"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
	gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
