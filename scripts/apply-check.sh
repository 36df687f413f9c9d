#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The by-hand ways of applying a series, as the README documents them:
#   apply-check.sh BASE
# "quilt push -a" at fuzz 0 on a copy of the pristine tree must give
# exactly the tree that prepare-tree.sh makes.  (git am is checked by
# export.sh.)  Prints KTAP.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

base=${1:?usage: apply-check.sh BASE}
check_base "$base"
"$PVG_TOP/scripts/prepare-tree.sh" "$base"
src=$(base_src "$base")
q=$PVG_BUILD/$base/quilt-check
echo "KTAP version 1"
echo "1..2"
if out=$("$PVG_TOP/scripts/quilt-tree.sh" "$base" "$q" 2>&1); then
	echo "ok 1 quilt push -a --fuzz=0 applies the $base series"
	diffs=$(for p in $(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$PVG_TOP/patches/$base/series"); do
		sed -n 's#^+++ b/\([^\t]*\).*#\1#p' "$PVG_TOP/patches/$base/$p"
	done | sort -u | while read -r f; do
		cmp -s "$q/$f" "$src/$f" || echo "$f"
	done)
	if [ -z "$diffs" ]; then
		echo "ok 2 quilt's tree equals the prepared tree"
	else
		echo "not ok 2 quilt's tree equals the prepared tree"
		echo "$diffs" | sed 's/^/# differs: /'
	fi
else
	echo "not ok 1 quilt push -a --fuzz=0 applies the $base series"
	echo "$out" | tail -10 | sed 's/^/# /'
	echo "ok 2 quilt's tree equals the prepared tree # SKIP quilt failed"
fi
rm -rf "$q"
