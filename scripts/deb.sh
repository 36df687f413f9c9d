#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Debian binary packages of a pvguest kernel (the kernel's bindeb-pkg):
#   deb.sh BASE [guest|debian] [OUTDIR]
# "guest" (the default) is the small guest config plus what a Debian 12
# userland needs (scripts/configs/image.config, and image-BASE.config when
# there is one): a few minutes to build.
# "debian" is Debian's own config of the same linux-source version plus our
# options, without debug info: every driver Debian ships, and an hour or
# more on a small machine.  The kernel release ends in -pvguest and the
# package version is the Debian source version plus "+pvguest", so the
# packages install beside Debian's own kernels.  OUTDIR (default
# out/deb/BASE) receives the .deb files, a .changes file and PACKAGES, the
# list of what was built.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

base=${1:?usage: deb.sh BASE [guest|debian] [OUTDIR]}
src_cfg=${2:-guest}
out=${3:-$PVG_TOP/out/deb/$base}
check_base "$base"
case "$src_cfg" in
guest | debian) ;;
*) die "unknown CONFIG_SOURCE '$src_cfg' (guest or debian)" ;;
esac
for t in dpkg-buildpackage fakeroot; do
	command -v "$t" >/dev/null || die "$t is missing: run make deps (or apt-get install dpkg-dev fakeroot)"
done
lock_base "$base"
"$PVG_TOP/scripts/prepare-tree.sh" "$base"
src=$(base_src "$base")
# bindeb-pkg writes its packages into the parent of the build directory;
# each package build has a directory of its own so that only its files
# are picked up.
pkgdir=$PVG_BUILD/$base/deb-$src_cfg
obj=$pkgdir/obj
mkdir -p "$obj"
srcver=$(cat "$PVG_CACHE/src/$base/version")

# Room for the build: the small config needs about 2 GiB, Debian's much more.
need_mb=2048
[ "$src_cfg" = guest ] || need_mb=20480
free_mb=$(df -Pm "$pkgdir" | awk 'NR == 2 { print $4 }')
[ "$free_mb" -ge "$need_mb" ] ||
	die "only ${free_mb} MiB free under $pkgdir; building the $src_cfg packages needs about ${need_mb} MiB"

kernel_env
if [ "$src_cfg" = guest ]; then
	frags=("$PVG_TOP/scripts/configs/guest.config" "$PVG_TOP/scripts/configs/image.config")
	# Options only one base needs or has.
	[ ! -f "$PVG_TOP/scripts/configs/image-$base.config" ] ||
		frags+=("$PVG_TOP/scripts/configs/image-$base.config")
	kernel_configure_once "$src" "$obj" "${frags[@]}"
else
	cstamp=$( (cat "$src/.pvguest-stamp"; cat "$(debian_config "$base")") | sha256sum | cut -c1-16)
	if [ "$(cat "$obj/.pvguest-config" 2>/dev/null)" != "$cstamp" ]; then
		stage "configuring $base for packaging: Debian's config plus our options"
		info "this builds every driver Debian ships: expect an hour or more on 2 cores"
		debian_configure "$base" "$src" "$obj" --set-str LOCALVERSION "-pvguest" \
			--disable DEBUG_INFO --disable DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT \
			--disable DEBUG_INFO_DWARF5 --disable DEBUG_INFO_BTF --enable DEBUG_INFO_NONE
		missing=$(debian_ours_missing "$obj/.config")
		grep -qx 'CONFIG_LOCALVERSION="-pvguest"' "$obj/.config" ||
			missing="${missing}CONFIG_LOCALVERSION=\"-pvguest\" did not land"
		[ -z "$missing" ] || die "in $obj/.config: $missing"
		echo "$cstamp" >"$obj/.pvguest-config"
	fi
fi

stage "building Debian packages of the $base kernel ($src_cfg config; log: $pkgdir/deb.log)"
start=$(date +%s)
rm -f "$pkgdir"/*.deb "$pkgdir"/*.changes "$pkgdir"/*.buildinfo
# -d: the build dependencies are checked by make deps (group deb), not by
# dpkg-checkbuilddeps.
if ! kmake "$src" "$obj" -j"$(nproc)" bindeb-pkg KDEB_PKGVERSION="$srcver+pvguest" \
	DPKG_FLAGS=-d >"$pkgdir/deb.log" 2>&1; then
	grep -E 'error|Error' "$pkgdir/deb.log" | head -20 >&2
	tail -20 "$pkgdir/deb.log" >&2
	die "bindeb-pkg failed for $base ($src_cfg config)"
fi
# Known only once the build has read the config.
release=$(cat "$obj/include/config/kernel.release")
ls "$pkgdir"/linux-image-"$release"_*.deb >/dev/null 2>&1 ||
	die "bindeb-pkg did not produce linux-image-$release (see $pkgdir/deb.log)"

# OUTDIR may be a user's own folder: replace only what an earlier run put
# there.
mkdir -p "$out"
rm -f "$out"/linux-*+pvguest_*.deb "$out"/linux-upstream_*+pvguest_*.changes "$out/PACKAGES" "$out/RELEASE"
cp "$pkgdir"/*.deb "$pkgdir"/*.changes "$out/"
(cd "$out" && for d in linux-*+pvguest_*.deb; do
	dpkg-deb --show --showformat='${Package} ${Version}\n' "$d"
done) >"$out/PACKAGES"
echo "$release" >"$out/RELEASE"
info "built in $(($(date +%s) - start)) s:"
sed 's/^/      /' "$out/PACKAGES" >&2
info "packages in $out"
