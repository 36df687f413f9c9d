# SPDX-License-Identifier: GPL-2.0
# Shared helpers for pvguest's scripts: messages, paths and small checks.
# Sourced, never run.

PVG_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PVG_CACHE=${PVG_CACHE:-$PVG_TOP/cache}
PVG_BUILD=${PVG_BUILD:-$PVG_TOP/build}
PVG_BASES="6.1 6.12"

# A banner per stage, so a user sees where a long run is.
stage() { printf '\n==> [%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
info() { printf '    %s\n' "$*" >&2; }
die() { printf 'pvguest: error: %s\n' "$*" >&2; exit 1; }

check_base() {
	case " $PVG_BASES " in
	*" $1 "*) ;;
	*) die "unknown BASE '$1' (choose one of: $PVG_BASES)" ;;
	esac
}

# Working tree and build directories of one base.
base_src() { echo "$PVG_BUILD/$1/src"; }
base_obj() { echo "$PVG_BUILD/$1/obj-$2"; }

# Serialize everything that writes a base's tree or build directories: a
# tree must not be re-prepared under a running build.  Nested calls inherit
# the lock through PVG_LOCKED.
lock_base() {
	[ "${PVG_LOCKED:-}" = "$1" ] && return 0
	mkdir -p "$PVG_BUILD"
	exec 9>"$PVG_BUILD/.lock-$1"
	if ! flock -n 9; then
		info "waiting for another pvguest job on base $1"
		flock 9
	fi
	export PVG_LOCKED=$1
}
