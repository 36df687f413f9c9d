#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# A quilt-managed copy of one base with the whole series pushed, for
# editing the hand-kept glue patches:
#   quilt-tree.sh BASE [DIR]       (DIR defaults to build/<base>/quilt)
# Then, in DIR: quilt pop/push to a patch, quilt edit FILE, quilt refresh.
# The copy is a real copy (no hard links to the pristine tree), since
# editors write files in place.  Also the "quilt push -a" flow of the
# README, checked by make check.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

base=${1:?usage: quilt-tree.sh BASE [DIR]}
check_base "$base"
dir=${2:-$PVG_BUILD/$base/quilt}
command -v quilt >/dev/null || die "quilt is not installed (apt-get install quilt)"
"$PVG_TOP/scripts/fetch-base.sh" "$base"

rm -rf "$dir"
mkdir -p "$(dirname "$dir")"
cp -a "$PVG_CACHE/src/$base/linux-source-$base" "$dir"
ln -s "$PVG_TOP/patches/$base" "$dir/patches"
cat >"$dir/.quiltrc" <<'RC'
QUILT_DIFF_ARGS="--no-timestamps --no-index -p ab --color=never"
QUILT_REFRESH_ARGS="--no-timestamps --no-index -p ab --diffstat --sort"
QUILT_DIFF_OPTS="-p"
QUILT_PUSH_ARGS="--fuzz=0"
RC
if ! out=$(cd "$dir" && quilt --quiltrc .quiltrc push -a --fuzz=0 2>&1); then
	printf '%s\n' "$out" | tail -20 >&2
	die "quilt push -a failed on $base"
fi
if printf '%s\n' "$out" | grep -E 'offset|fuzz' >&2; then
	die "quilt push -a on $base needed offset or fuzz"
fi
info "quilt tree of $base ready: $dir ($(cd "$dir" && quilt --quiltrc .quiltrc applied | wc -l) patches applied)"
