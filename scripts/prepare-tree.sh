#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Prepare the working tree of one base: a hard-linked copy of the pristine
# Debian source with patches/<base>/series applied at fuzz 0.  Any fuzz,
# offset or reject fails and names the patch and the file.  The tree is
# rebuilt only when the series changed, and files whose content did not
# change keep their old timestamps so incremental builds stay incremental.
#   prepare-tree.sh BASE [N]     N: apply only the first N patches (bisect)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

base=${1:?usage: prepare-tree.sh BASE}
check_base "$base"
lock_base "$base"
"$PVG_TOP/scripts/fetch-base.sh" "$base"

pristine=$PVG_CACHE/src/$base/linux-source-$base
pdir=$PVG_TOP/patches/$base
src=$(base_src "$base")
series=$pdir/series
[ -f "$series" ] || die "no series file $series"

mapfile -t patches < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$series")
if [ -n "${2:-}" ]; then
	patches=("${patches[@]:0:$2}")
fi
stamp=$( (cat "$PVG_CACHE/src/$base/version"; printf '%s\n' "${patches[@]}";
	  for p in "${patches[@]}"; do cat "$pdir/$p"; done) | sha256sum | cut -c1-16)
if [ -f "$src/.pvguest-stamp" ] && [ "$(cat "$src/.pvguest-stamp")" = "$stamp" ]; then
	exit 0
fi

stage "preparing $base tree: applying ${#patches[@]} patches at fuzz 0"
new=$src.new
rm -rf "$new"
mkdir -p "$(dirname "$src")"
cp -al "$pristine" "$new"
for p in "${patches[@]}"; do
	[ -f "$pdir/$p" ] || die "series lists $p, which is not in $pdir"
	if ! out=$(cd "$new" && patch -p1 --fuzz=0 --no-backup-if-mismatch \
			--forward --batch -i "$pdir/$p" 2>&1); then
		printf '%s\n' "$out" | sed 's/^/    /' >&2
		rm -rf "$new"
		die "patches/$base/$p does not apply to linux-source-$base"
	fi
	bad=$(printf '%s\n' "$out" | awk '
		/^patching file /  { file = $3 }
		/offset|fuzz|FAILED|reject|malformed|Reversed/ { print file ": " $0 }')
	if [ -n "$bad" ]; then
		printf '    %s\n' "$bad" >&2
		rm -rf "$new"
		die "patches/$base/$p applies only with offset or fuzz; refresh it"
	fi
	info "applied $p"
done

# Keep the timestamps of files the patches left as they were last time.
if [ -d "$src" ]; then
	for p in "${patches[@]}"; do
		sed -n 's#^+++ b/\([^\t]*\).*#\1#p' "$pdir/$p"
	done | sort -u | while read -r f; do
		if [ -f "$src/$f" ] && cmp -s "$src/$f" "$new/$f"; then
			touch -r "$src/$f" "$new/$f"
		fi
	done
	rm -rf "$src"
fi
echo "$stamp" >"$new/.pvguest-stamp"
mv "$new" "$src"
