#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the test guest's initramfs for one built kernel:
#   mkinitramfs.sh OBJDIR OUTPUT
# Debian's static busybox, our init and in-guest tests (tests/guest/), eight
# small static helpers (pvg-exit, pvg-cpuid, the pvg-ipistorm workload, the
# pvg-memtouch memory toucher of the balloon tests, the pvg-uevent listener
# and pvg-blkio O_DIRECT reader and writer of the block tests, pvg-msr and
# pvg-kexec of the lifecycle tests), the
# kernel's modules and our out-of-tree benchmark module (tests/modules/,
# built here against OBJDIR, installed as /lib/pvg_bench.ko).
#
# Also (re)builds the block tools layer, $PVG_BUILD/tools/initramfs-block.cpio.gz:
# fio, e2fsprogs and util-linux's blkdiscard with the shared libraries they
# need.  Debian's fio links some 80 MiB of libraries (ceph, gluster, rdma),
# too much to unpack into every guest (the tcg scenario has 256 MiB), so
# it is a separate archive that only the scenarios asking for it get
# appended to their initramfs ("initrd block" in NAME.host; the kernel
# unpacks concatenated archives one after the other).
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
helpers='pvg-exit pvg-cpuid pvg-ipistorm pvg-memtouch pvg-uevent pvg-blkio pvg-msr pvg-kexec'
for t in $helpers; do
	if [ ! -x "$tools/$t" ] || [ "$PVG_TOP/tests/guest/$t.c" -nt "$tools/$t" ]; then
		gcc -static -O2 -Wall -Werror -pthread -o "$tools/$t" "$PVG_TOP/tests/guest/$t.c" ||
			die "cannot build $t (static glibc from libc6-dev is needed)"
	fi
done

# The benchmark module, built in build/<base>/testmod-obj-<config>/ from a
# copy of tests/modules/.  Rebuilt only when the kernel was relinked or the
# sources changed; kbuild's own dependencies decide what to recompile.
build_testmod() {
	local mdir=$1 f
	[ -f "$obj/Module.symvers" ] || die "$obj is not built (no Module.symvers)"
	mkdir -p "$mdir"
	for f in pvg_bench.c Makefile; do
		cmp -s "$PVG_TOP/tests/modules/$f" "$mdir/$f" ||
			cp "$PVG_TOP/tests/modules/$f" "$mdir/$f"
	done
	if [ -f "$mdir/pvg_bench.ko" ] && [ "$mdir/pvg_bench.ko" -nt "$obj/vmlinux" ] &&
		[ "$mdir/pvg_bench.ko" -nt "$mdir/pvg_bench.c" ] &&
		[ "$mdir/pvg_bench.ko" -nt "$mdir/Makefile" ]; then
		return 0
	fi
	kernel_env
	if ! make -C "$obj" M="$mdir" CC="$PVG_CC" HOSTCC="$PVG_CC" modules \
		>"$mdir/build.log" 2>&1; then
		cat "$mdir/build.log" >&2
		die "cannot build tests/modules/pvg_bench.ko against $obj"
	fi
	grep -E ': warning:' "$mdir/build.log" | sed 's/^/    /' >&2 || true
	touch "$mdir/pvg_bench.ko"
}

testmod=
if grep -q '^CONFIG_MODULES=y' "$obj/.config" 2>/dev/null; then
	obj=$(cd "$obj" && pwd)
	testmod=$(dirname "$obj")/testmod-$(basename "$obj")
	# Not while a kernel build writes this build directory: take the base's
	# lock (build.sh's) unless our caller holds it, for the build only.
	base=$(basename "$(dirname "$obj")")
	(
		case " $PVG_BASES " in
		*" $base "*) lock_base "$base" ;;
		esac
		build_testmod "$testmod"
	)
fi

# The block tools layer.  Binaries keep their host paths (/usr/bin/fio,
# /usr/sbin/mkfs.ext4 ...: a test adds /usr/sbin to PATH, and names a tool
# busybox also has by its full path, since busybox sh prefers its applets),
# and so do the libraries ldd lists and the ELF interpreter, which the
# guest's loader then finds in its default directories or through the
# libraries' own RUNPATH (ceph's).  Rebuilt only when a file it holds or
# this script is newer, or the list of files changed.
block_layer() {
	local layer=$tools/initramfs-block.cpio.gz b f lroot list
	local bins="fio mkfs.ext4 e2fsck resize2fs blkdiscard"
	list=$(
		for b in $bins; do
			f=$(PATH=/usr/sbin:/usr/bin:/sbin:/bin command -v "$b") ||
				die "$b missing: run scripts/deps.sh build (fio, e2fsprogs, util-linux)"
			echo "$f"
			ldd "$f" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
		done | sort -u
		echo /etc/mke2fs.conf
	)
	if [ -f "$layer" ] && [ "$(cat "$layer.list" 2>/dev/null)" = "$list" ] &&
		[ -z "$(find $list "$0" -newer "$layer" 2>/dev/null)" ]; then
		return 0
	fi
	lroot=$(mktemp -d)
	for f in $list; do
		[ -e "$f" ] || die "$f missing (needed by the block tools)"
		mkdir -p "$lroot$(dirname "$f")"
		cp -L "$f" "$lroot$f"
	done
	(cd "$lroot" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
		gzip -1 >"$layer.tmp"
	rm -rf "$lroot"
	echo "$list" >"$layer.list"
	mv "$layer.tmp" "$layer"
}
block_layer

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,usr/bin,proc,sys,dev,tmp,tests,lib}
cp $busybox "$root/bin/busybox"
for t in $helpers; do cp "$tools/$t" "$root/usr/bin/"; done
install -m 755 "$PVG_TOP/tests/guest/init" "$root/init"
cp -r "$PVG_TOP/tests/guest/lib" "$root/tests/"
cp "$PVG_TOP"/tests/guest/tests/*.sh "$root/tests/"
cp -r "$PVG_TOP/tests/guest/bench" "$root/tests/"
[ -d "$obj/modroot/lib/modules" ] && cp -a "$obj/modroot/lib/modules" "$root/lib/"
[ -z "$testmod" ] || cp "$testmod/pvg_bench.ko" "$root/lib/"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
	gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
