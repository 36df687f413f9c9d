#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Generate the patches that add pvguest's own files to a kernel tree.
#
# Each patches/gen/NNNN-name.msg holds the changelog of one patch and, in a
# "Files:" header, the source files it adds; patches/map says where they go
# in the tree.  The patch is written in git format-patch form into every
# patches/<base>/ directory, whose series must list it.  Every file of the
# source folders belongs to exactly one generated patch.  A folder's
# MAINTAINERS file is a section that is merged, in alphabetical place, into
# the base's own MAINTAINERS, so the patch differs per base in that hunk;
# the base sources are fetched for it.
#
#   refresh.sh           rewrite the generated patches
#   refresh.sh --check   fail if the committed patches differ from the output
set -euo pipefail
. "$(dirname "$0")/lib.sh"

check=false
[ "${1:-}" = --check ] && check=true
cd "$PVG_TOP"

declare -a map_src=() map_dst=()
while read -r src dst; do
	case "$src" in '' | '#'*) continue ;; esac
	map_src+=("${src%/}")
	map_dst+=("${dst%/}")
done <patches/map

# In-tree path of a source file: longest matching prefix in patches/map.
tree_path() {
	local f=$1 best=-1 len=0 i
	for i in "${!map_src[@]}"; do
		case "$f" in
		"${map_src[$i]}"/*)
			if [ ${#map_src[$i]} -gt $len ]; then
				best=$i len=${#map_src[$i]}
			fi ;;
		esac
	done
	[ $best -ge 0 ] || die "$f is under no folder of patches/map"
	echo "${map_dst[$best]}/${f#"${map_src[$best]}"/}"
}

header() { sed -n "s/^$1: //p;/^\$/q" "$2"; }

# Insert the section in file $1 into MAINTAINERS file $2, before the first
# section whose title sorts after its title.
merge_maintainers() {
	awk -v secfile="$1" '
		BEGIN { while ((getline l < secfile) > 0) sec = sec l "\n"
			split(sec, w, "\n"); title = w[1] }
		{ line[NR] = $0 }
		END {
			for (i = 1; i <= NR; i++) {
				if (!done && line[i] != "" && line[i - 1] == "" &&
				    line[i + 1] ~ /^[A-Z]:\t/ && seen++ && toupper(line[i]) > toupper(title)) {
					printf "%s\n", sec; done = 1
				}
				print line[i]
			}
			if (!done) printf "\n%s", sec
		}' "$2" >"$2.new"
	mv "$2.new" "$2"
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
declare -A owner=()

generate() {
	local base=$1 out=$2 msg name subject files date from f dst body
	"$PVG_TOP/scripts/fetch-base.sh" "$base"
	rm -rf "$work/tree"
	git init -q "$work/tree"
	cp "$PVG_CACHE/src/$base/linux-source-$base/MAINTAINERS" "$work/tree/"
	(cd "$work/tree" && git add MAINTAINERS &&
	 git -c user.name=pvguest -c user.email=pvguest@invalid \
		-c commit.gpgsign=false commit -q -m base)
	owner=()
	for msg in patches/gen/*.msg; do
		name=$(basename "$msg" .msg)
		subject=$(header Subject "$msg")
		files=$(header Files "$msg")
		date=$(header Date "$msg")
		from=$(header From "$msg")
		from=${from:-pvguest developers <pvguest@lists.pvguest.org>}
		[ -n "$subject" ] && [ -n "$files" ] && [ -n "$date" ] ||
			die "$msg needs Files:, Date: and Subject: headers"
		for f in $files; do
			[ -f "$f" ] || die "$msg lists $f, which does not exist"
			[ -z "${owner[$f]:-}" ] || die "$f is in both ${owner[$f]} and $name"
			owner[$f]=$name
			if [ "$(basename "$f")" = MAINTAINERS ]; then
				merge_maintainers "$f" "$work/tree/MAINTAINERS"
				continue
			fi
			dst=$work/tree/$(tree_path "$f")
			mkdir -p "$(dirname "$dst")"
			cp "$f" "$dst"
		done
		body=$(sed '1,/^$/d' "$msg")
		(
			cd "$work/tree"
			git add -A
			GIT_AUTHOR_NAME=${from% <*} GIT_AUTHOR_EMAIL=${from##*<} \
			GIT_COMMITTER_NAME=${from% <*} GIT_COMMITTER_EMAIL=${from##*<} \
			GIT_AUTHOR_DATE=$date GIT_COMMITTER_DATE=$date \
				git -c commit.gpgsign=false commit -q -F - <<<"$subject

$body"
			git -c diff.noprefix=false format-patch -q --zero-commit \
				--no-signature --stdout -1 >"$out/$name.patch"
		)
	done
}

status=0
for base in $PVG_BASES; do
	mkdir -p "$work/$base"
	generate "$base" "$work/$base"
	for p in "$work/$base"/*.patch; do
		name=$(basename "$p")
		grep -qx "$name" "patches/$base/series" 2>/dev/null ||
			die "patches/$base/series does not list the generated $name"
		if $check; then
			if ! cmp -s "$p" "patches/$base/$name"; then
				echo "pvguest: patches/$base/$name differs from its sources; run 'make refresh' and commit" >&2
				status=1
			fi
		elif ! cmp -s "$p" "patches/$base/$name"; then
			cp "$p" "patches/$base/$name"
			info "wrote patches/$base/$name"
		fi
	done
done

# Every file of the mapped folders must belong to a generated patch.
for i in "${!map_src[@]}"; do
	[ -d "${map_src[$i]}" ] || continue
	while IFS= read -r f; do
		[ -n "${owner[$f]:-}" ] || die "$f is in no patches/gen/*.msg Files: list"
	done < <(find "${map_src[$i]}" -type f ! -name '.*' | sort)
done

exit $status
