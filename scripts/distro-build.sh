#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Compile our code in Debian's own kernel configuration, not only in our
# small test config:
#   distro-build.sh BASE
# Takes /boot/config-* from the Debian linux-image package built from the
# same linux-source version, enables our options, prepares the build,
# compiles our directories with W=1 and every existing C file our patches
# change as Debian would.  A full kernel build is not needed.  Prints KTAP;
# fails on any warning in those files.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

base=${1:?usage: distro-build.sh BASE}
check_base "$base"
lock_base "$base"
"$PVG_TOP/scripts/prepare-tree.sh" "$base"
src=$(base_src "$base")
obj=$(base_obj "$base" debian)
mkdir -p "$obj"
echo "KTAP version 1"

kernel_env
stage "configuring $base with Debian's config plus our options"
debian_configure "$base" "$src" "$obj"
ktap_result "Debian $base config takes CONFIG_PVGUEST=y, CONFIG_PVBALLOON=m and CONFIG_PVBLOCK=m" \
	"$(debian_ours_missing "$obj/.config")"

stage "building our directories in Debian's $base config (prepare takes a while)"
if ! out=$(kmake "$src" "$obj" -s -j"$(nproc)" prepare 2>&1); then
	ktap_result "make prepare in Debian's config" "$(echo "$out" | tail -10)"
	ktap_end
	exit 1
fi
dirs=$(our_dirs "$src" "$base")
for d in $dirs; do
	if out=$(kmake "$src" "$obj" -s -j"$(nproc)" W=1 "$d/" 2>&1); then
		mine=$(echo "$out" | grep -E "$d/[^:]*:[0-9]+:[0-9]+: (warning|error)" || true)
		ktap_result "make W=1 $d in Debian's config" "$mine"
	else
		ktap_result "make W=1 $d in Debian's config" "$(echo "$out" | tail -10)"
	fi
done
# Every existing C file our patches change, built as Debian builds it.
ours=$(printf '%s|' $dirs)
for f in $(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$PVG_TOP/patches/$base/series" |
	   while read -r p; do sed -n 's#^+++ b/\([^\t]*\.c\)$#\1#p' "$PVG_TOP/patches/$base/$p"; done |
	   sort -u | grep -vE "^(${ours%|})/"); do
	if out=$(kmake "$src" "$obj" -s "${f%.c}.o" 2>&1); then
		ktap_result "make ${f%.c}.o in Debian's config" \
			"$(echo "$out" | grep -E "$f:[0-9]+:[0-9]+: (warning|error)" || true)"
	else
		ktap_result "make ${f%.c}.o in Debian's config" "$(echo "$out" | tail -10)"
	fi
done
ktap_end
