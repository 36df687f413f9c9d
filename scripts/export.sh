#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Export the series of one base for mailing:
#   export.sh BASE OUTDIR
# Applies the series with git am to a git repository of the pristine Debian
# tree, writes git format-patch output with a cover letter (summary from
# patches/cover-letter.txt, diffstat, base-commit, the benchmark table when
# BENCH_OUT holds results) and each patch's scripts/get_maintainer.pl list.
# Finally it checks that the exported patches git am onto the pristine tree
# and give the same result.  Prints KTAP.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

base=${1:?usage: export.sh BASE OUTDIR}
out=$(realpath -m "${2:?usage: export.sh BASE OUTDIR}")
check_base "$base"
"$PVG_TOP/scripts/fetch-base.sh" "$base"
ver=$(cat "$PVG_CACHE/src/$base/version")
repo=$PVG_CACHE/git/$base
pdir=$PVG_TOP/patches/$base
g() { git -C "$repo" -c user.name="pvguest developers" -c user.email=pvguest@lists.pvguest.org \
	-c commit.gpgsign=false "$@"; }
echo "KTAP version 1"

# A git repository of the pristine tree, made once per Debian version with a
# fixed date, so its commit id is the same on every machine.
if [ "$(cat "$repo/.pvguest-version" 2>/dev/null)" != "$ver" ]; then
	stage "making a git repository of linux-source-$base $ver (once)"
	rm -rf "$repo"
	mkdir -p "$repo"
	cp -a "$PVG_CACHE/src/$base/linux-source-$base/." "$repo/"
	g init -q
	# Debian's tree ignores everything (/* in .gitignore): add by force.
	g add -A -f
	GIT_AUTHOR_DATE="2000-01-01 00:00:00 +0000" GIT_COMMITTER_DATE="2000-01-01 00:00:00 +0000" \
		g commit -q -m "Debian linux-source-$base $ver"
	g tag -f pristine >/dev/null
	echo "$ver" >"$repo/.pvguest-version"
	echo .pvguest-version >>"$repo/.git/info/exclude"
fi

stage "git am of the $base series"
g checkout -q -f -B pvguest pristine
g clean -q -fdx -e .pvguest-version
mapfile -t series < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$pdir/series")
err=
for p in "${series[@]}"; do
	if ! o=$(g am -q --whitespace=error-all "$pdir/$p" 2>&1); then
		err="$p: $o"
		g am --abort >/dev/null 2>&1 || true
		break
	fi
done
ktap_result "git am applies the $base series to the pristine tree" "$err"
[ -z "$err" ] || { ktap_end; exit 1; }

stage "git format-patch with a cover letter into $out"
rm -rf "$out"
mkdir -p "$out"
g format-patch -q --cover-letter --base=pristine --no-signature -o "$out" pristine..pvguest
cover=$(ls "$out"/0000-cover-letter.patch)
{
	sed -n '1p' "$PVG_TOP/patches/cover-letter.txt"
	echo
	sed '1,2d' "$PVG_TOP/patches/cover-letter.txt"
	echo
	echo "The series applies to Debian's linux-source-$base $ver; base-commit"
	echo "below is a git import of that tree (see make export in pvguest)."
	bench=${BENCH_OUT:-$PVG_TOP/out/bench/$base}
	if ls "$bench"/*.json >/dev/null 2>&1; then
		echo
		echo "Benchmarks (ratio > 1: pvguest is better):"
		python3 - "$bench" <<'PY'
import glob, json, sys
for f in sorted(glob.glob(sys.argv[1] + '/*.json')):
    for r in json.load(open(f)):
        print('  %-40s %10.3g %-8s vs %-8s %10.3g  ratio %.2f' % (
            r['name'], r['ours'], r['unit'], r['baseline'],
            r['baseline_value'], r['ratio']))
PY
	fi
} >"$out/blurb"
python3 - "$cover" "$out/blurb" <<'PY'
import sys
cover, blurb = sys.argv[1], open(sys.argv[2]).read()
subject, _, body = blurb.partition('\n\n')
s = open(cover).read()
s = s.replace('*** SUBJECT HERE ***', subject.strip())
s = s.replace('*** BLURB HERE ***', body.strip())
open(cover, 'w').write(s)
PY
rm "$out/blurb"
bad=$(grep -l '\*\*\* .* HERE \*\*\*' "$out"/*.patch || true)
ktap_result "cover letter filled in" "$bad"
m=0
for p in "$out"/*.patch; do
	[[ $p == *cover-letter* ]] || m=$((m + 1))
done
bad=$(grep -L "^Subject: \[PATCH [0-9]*/$m\]" "$out"/0*.patch | grep -v cover-letter || true)
ktap_result "patches numbered [PATCH n/$m]" "$bad"
grep -q '^base-commit: ' "$cover" && bad= || bad="no base-commit in the cover letter"
ktap_result "cover letter has diffstat and base-commit" "$bad"

stage "get_maintainer.pl for every patch"
err=
for p in "$out"/0*.patch; do
	case "$p" in *cover-letter*) continue ;; esac
	if ! (cd "$repo" && perl scripts/get_maintainer.pl --no-git --no-git-fallback \
		--no-rolestats "$p") >"${p%.patch}.cc" 2>/dev/null || [ ! -s "${p%.patch}.cc" ]; then
		err="$err $(basename "$p")"
	fi
done
ktap_result "get_maintainer.pl lists recipients for every patch" "$err"

# The exported files, not our own patch files, must rebuild the same tree.
g checkout -q -f -B export-check pristine
err=
for p in "$out"/0*.patch; do
	case "$p" in *cover-letter*) continue ;; esac
	o=$(g am -q "$p" 2>&1) || { err="$(basename "$p"): $o"; g am --abort >/dev/null 2>&1; break; }
done
[ -n "$err" ] || g diff --quiet pvguest export-check || err="tree differs from the series"
ktap_result "exported series git-am-applies to the pristine tree" "$err"
g checkout -q -f pvguest
info "series for $base in $out (send with: git send-email --to-cmd=... $out/*.patch)"
ktap_end
