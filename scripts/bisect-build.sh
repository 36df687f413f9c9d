#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Bisectability: apply the series of one base one patch at a time and
# build the kernel after each step, in the test configuration with every
# option that exists at that step:
#   bisect-build.sh BASE
# One source tree and one build directory are reused, so each step after
# the first is an incremental build.  Prints KTAP, one result per patch.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

base=${1:?usage: bisect-build.sh BASE}
check_base "$base"
lock_base "$base"
"$PVG_TOP/scripts/fetch-base.sh" "$base"
pdir=$PVG_TOP/patches/$base
src=$PVG_BUILD/$base/bisect-src
obj=$(base_obj "$base" bisect)
frags=("$PVG_TOP/scripts/configs/guest.config" "$PVG_TOP/scripts/configs/test.config")
kernel_env

rm -rf "$src"
cp -al "$PVG_CACHE/src/$base/linux-source-$base" "$src"
mapfile -t series < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$pdir/series")
echo "KTAP version 1"
echo "1..${#series[@]}"
n=0
fail=0
for p in "${series[@]}"; do
	n=$((n + 1))
	stage "bisect $base: step $n/${#series[@]}, $p"
	if ! out=$(cd "$src" && patch -p1 --fuzz=0 --no-backup-if-mismatch --batch -s -i "$pdir/$p" 2>&1); then
		echo "not ok $n builds after $p"
		echo "$out" | head -5 | sed 's/^/# /'
		fail=1
		break
	fi
	start=$(date +%s)
	if kernel_configure "$src" "$obj" "${frags[@]}" 2>"$obj.err" &&
	   kmake "$src" "$obj" -j"$(nproc)" vmlinux modules >"$obj.log" 2>&1; then
		echo "ok $n builds after $p ($(($(date +%s) - start)) s)"
	else
		echo "not ok $n builds after $p"
		grep -E 'error|Error' "$obj.log" "$obj.err" 2>/dev/null | head -10 | sed 's/^/# /'
		fail=1
	fi
done
rm -rf "$src"
exit $fail
