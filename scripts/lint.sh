#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The lint gate of one base, on a built test kernel:
#   - checkpatch.pl --strict on every patch of the series: no ERROR or
#     WARNING; a CHECK must be justified in patches/checkpatch-justified
#   - scripts/kernel-doc -Wall on our source files
#   - W=1 and sparse (C=2) builds of our directories: no warning there
#   - coccicheck MODE=report on our directories: no report
# Usage: lint.sh BASE.  Prints one KTAP result per check on stdout (with
# the findings as diagnostics); exits non-zero when any check fails.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

base=${1:?usage: lint.sh BASE}
check_base "$base"
lock_base "$base"
src=$(base_src "$base")
obj=$(base_obj "$base" test)
[ -f "$obj/.config" ] || die "build the test kernel of $base first (make build BASE=$base CONFIG=test)"
pdir=$PVG_TOP/patches/$base
justified=$PVG_TOP/patches/checkpatch-justified
bad=()
problem() { bad+=("$@"); }
# result DESC: one KTAP result for the findings gathered since the last one.
result() {
	ktap_result "$1" "$([ ${#bad[@]} -eq 0 ] || printf '%s\n' "${bad[@]}")"
	bad=()
}
echo "KTAP version 1"

# Our in-tree directories, from the one map.
dirs=$(our_dirs "$src" "$base")

stage "lint $base: checkpatch --strict on the series"
while read -r p; do
	out=$(cd "$src" && perl scripts/checkpatch.pl --strict --no-tree --terse \
		--show-types "$pdir/$p" 2>&1 || true)
	while IFS= read -r line; do
		case "$line" in
		*": ERROR:"* | *": WARNING:"*) problem "${line#*: }" ;;
		*": CHECK:"*)
			type=$(echo "$line" | sed 's/.*: CHECK:\([A-Z_]*\):.*/\1/')
			grep -q "^$p $type " "$justified" 2>/dev/null ||
				problem "${line#*: } (not justified in patches/checkpatch-justified)" ;;
		esac
	done <<<"$out"
	result "checkpatch --strict $p"
done < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$pdir/series")

stage "lint $base: kernel-doc -Wall"
for d in $dirs; do
	files=$(find "$src/$d" -name '*.[ch]' | sort)
	[ -n "$files" ] || continue
	# Older kernel-doc (6.1) has no -Wall; its -v turns on the same checks.
	kdflags=-Wall
	grep -q 'Wall' "$src/scripts/kernel-doc" || kdflags=-v
	out=$(cd "$src" && perl scripts/kernel-doc $kdflags -none $files 2>&1 |
		grep -v ': info: ' || true)
	[ -z "$out" ] || problem "$out"
	result "kernel-doc -Wall $d"
done

# Rebuild our objects with extra checks; only warnings from our files count.
for mode in W=1 C=2; do
	stage "lint $base: make $mode on $(echo $dirs)"
	if [ $mode = C=2 ] && ! command -v sparse >/dev/null; then
		die "sparse is not installed (apt-get install sparse)"
	fi
	for d in $dirs; do
		out=$(make -s -C "$src" O="$obj" $mode "$d/" 2>&1) ||
			{ problem "make $mode $d/ failed:" "$out"; result "make $mode $d"; continue; }
		mine=$(echo "$out" | grep -E "^([./a-z0-9_-]*/)?$d/[^:]*:[0-9]+:[0-9]+: (warning|error)" || true)
		[ -z "$mine" ] || problem "$mine"
		result "make $mode $d"
	done
done

stage "lint $base: coccicheck on $(echo $dirs)"
command -v spatch >/dev/null || die "coccinelle is not installed (apt-get install coccinelle)"
for d in $dirs; do
	if ! out=$(make -s -C "$src" O="$obj" coccicheck MODE=report M="$d" J=2 2>&1); then
		problem "coccicheck did not run on $d:" "$(echo "$out" | tail -5)"
	else
		mine=$(echo "$out" | grep -E "^$d/[^ ]*:[0-9]+" || true)
		[ -z "$mine" ] || problem "$mine"
	fi
	result "coccicheck $d"
done

ktap_end
