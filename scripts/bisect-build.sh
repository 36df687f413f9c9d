#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Bisectability: build the kernel after every patch of the series of one
# base, in the test configuration with every option that exists at that
# step:
#   bisect-build.sh BASE
# The work tree is re-prepared in place with the first N patches (under the
# base lock) and built in a copy of the test build directory, so each step
# rebuilds only what its patch changed; the full series is restored at the
# end.  Needs the test kernel built first.  Prints KTAP, one result per
# patch.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

base=${1:?usage: bisect-build.sh BASE}
check_base "$base"
lock_base "$base"
"$PVG_TOP/scripts/fetch-base.sh" "$base"
pdir=$PVG_TOP/patches/$base
src=$(base_src "$base")
obj=$(base_obj "$base" bisect)
frags=("$PVG_TOP/scripts/configs/guest.config" "$PVG_TOP/scripts/configs/test.config")
kernel_env
[ -f "$(base_obj "$base" test)/vmlinux" ] ||
	die "build the test kernel of $base first (make build BASE=$base CONFIG=test)"
rm -rf "$obj"
cp -a "$(base_obj "$base" test)" "$obj"

mapfile -t series < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$pdir/series")
echo "KTAP version 1"
echo "1..${#series[@]}"
n=0
fail=0
restore() { "$PVG_TOP/scripts/prepare-tree.sh" "$base" >/dev/null 2>&1 || true; }
trap restore EXIT
for p in "${series[@]}"; do
	n=$((n + 1))
	stage "bisect $base: step $n/${#series[@]}, $p"
	start=$(date +%s)
	if ! out=$("$PVG_TOP/scripts/prepare-tree.sh" "$base" "$n" 2>&1); then
		echo "not ok $n builds after $p"
		echo "$out" | tail -5 | sed 's/^/# /'
		fail=1
		break
	fi
	if kernel_configure "$src" "$obj" "${frags[@]}" 2>"$obj.err" &&
	   kmake "$src" "$obj" -j"$(nproc)" vmlinux modules >"$obj.log" 2>&1; then
		echo "ok $n builds after $p ($(($(date +%s) - start)) s)"
	else
		echo "not ok $n builds after $p"
		grep -E 'error|Error' "$obj.log" "$obj.err" 2>/dev/null | head -10 | sed 's/^/# /'
		fail=1
	fi
done
rm -rf "$obj" "$obj.log" "$obj.err"
exit $fail
