# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
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

# Compiler settings for kernel builds: ccache when present, hashing paths
# relative to the project so clones and trees share hits.
kernel_env() {
	PVG_CC=gcc
	if command -v ccache >/dev/null; then
		PVG_CC="ccache gcc"
		export CCACHE_BASEDIR=$PVG_TOP CCACHE_NOHASHDIR=1
	fi
}

# kmake SRC OBJ ARGS...: make in an out-of-tree build directory.
kmake() {
	local src=$1 obj=$2
	shift 2
	make -C "$src" O="$obj" CC="${PVG_CC:-gcc}" HOSTCC="${PVG_CC:-gcc}" "$@"
}

# kernel_configure SRC OBJ FRAGMENT...: tinyconfig, then the kernel's own
# kvm_guest.config, then the fragments, merged by merge_config.sh.
kernel_configure() {
	local src=$1 obj=$2
	shift 2
	mkdir -p "$obj"
	kmake "$src" "$obj" -s tinyconfig >/dev/null
	(cd "$src" && KCONFIG_CONFIG="$obj/.config" scripts/kconfig/merge_config.sh \
		-m -O "$obj" "$obj/.config" kernel/configs/kvm_guest.config \
		"$@" >"$obj/merge.log" 2>&1) ||
		{ cat "$obj/merge.log" >&2; die "merge_config.sh failed"; }
	kmake "$src" "$obj" -s olddefconfig >/dev/null
}

# kernel_configure_once SRC OBJ FRAGMENT...: kernel_configure, unless OBJ
# already holds the config of this tree and these fragments; fails when an
# option the fragments ask for did not land (merge_config.sh only warns).
kernel_configure_once() {
	local src=$1 obj=$2 stamp missing
	shift 2
	stamp=$( (cat "$src/.pvguest-stamp" "$@") | sha256sum | cut -c1-16)
	[ -f "$obj/.config" ] && [ "$(cat "$obj/.pvguest-config" 2>/dev/null)" = "$stamp" ] &&
		return 0
	stage "configuring $obj"
	kernel_configure "$src" "$obj" "$@"
	missing=$(config_missing "$obj/.config" "$@")
	if [ -n "$missing" ]; then
		printf '    requested but not in %s/.config:\n' "$obj" >&2
		printf '      %s\n' $missing >&2
		die "the config fragments ask for options that did not land (missing dependency?)"
	fi
	echo "$stamp" >"$obj/.pvguest-config"
}

# debian_config BASE: the path of the config of Debian's linux-image package
# built from the same linux-source version as BASE, downloaded once into
# the cache.
debian_config() {
	local base=$1 cdir=$PVG_CACHE/debian-config/$1 srcver pkg p v tmp
	srcver=$(cat "$PVG_CACHE/src/$base/version")
	mkdir -p "$cdir"
	if [ ! -f "$cdir/config" ] || [ "$(cat "$cdir/version" 2>/dev/null)" != "$srcver" ]; then
		stage "finding Debian's $base kernel config ($srcver)"
		pkg=
		for p in $(apt-cache search --names-only "^linux-image-${base//./\\.}[.0-9+a-z-]*-amd64\$" |
			   awk '{ print $1 }' | grep -v -e -unsigned -e -dbg -e -rt- -e -cloud- |
			   grep -vx "linux-image-$base-amd64"); do  # (that one is a metapackage)
			# Not piped into grep -q: with pipefail, SIGPIPE would fail the match.
			v=$(apt-cache show --no-all-versions "$p" 2>/dev/null | sed -n 's/^Version: //p')
			if [ "$v" = "$srcver" ]; then
				pkg=$p
				break
			fi
		done
		[ -n "$pkg" ] || die "no Debian linux-image-$base*-amd64 package of version $srcver"
		tmp=$(mktemp -d)
		(cd "$tmp" && apt-get -o APT::Sandbox::User="$(id -un)" download "$pkg=$srcver" >/dev/null) ||
			{ rm -rf "$tmp"; die "could not download $pkg=$srcver"; }
		dpkg-deb --fsys-tarfile "$tmp"/*.deb | tar -x -C "$tmp" --wildcards './boot/config-*'
		cp "$tmp"/boot/config-* "$cdir/config"
		echo "$srcver" >"$cdir/version"
		echo "$pkg" >"$cdir/package"
		rm -rf "$tmp"
	fi
	info "Debian config from $(cat "$cdir/package") $srcver"
	echo "$cdir/config"
}

# debian_configure BASE SRC OBJ [SCRIPTS_CONFIG_ARGS...]: Debian's config
# for BASE plus our options (and the extra scripts/config arguments) in OBJ.
debian_configure() {
	local base=$1 src=$2 obj=$3 cfg
	shift 3
	cfg=$(debian_config "$base")
	mkdir -p "$obj"
	cp "$cfg" "$obj/.config"
	# Debian signs with its own key; the build would want that file.
	"$src/scripts/config" --file "$obj/.config" --enable PVGUEST --module PVBALLOON \
		--module PVBLOCK --set-str SYSTEM_TRUSTED_KEYS "" \
		--set-str SYSTEM_REVOCATION_KEYS "" \
		--set-str MODULE_SIG_KEY "certs/signing_key.pem" "$@"
	kmake "$src" "$obj" -s olddefconfig >/dev/null 2>&1
}

# debian_ours_missing CONFIG: which of the options debian_configure sets for
# our drivers did not land in CONFIG; empty when all did.
debian_ours_missing() {
	local o
	for o in CONFIG_PVGUEST=y CONFIG_PVBALLOON=m CONFIG_PVBLOCK=m; do
		grep -qx "$o" "$1" || printf '%s did not land; ' "$o"
	done
}

# config_missing CONFIG FRAGMENT...: the requests of the fragments that did
# not land in CONFIG (merge_config.sh only warns about them).  The last
# fragment that sets an option decides its value.
config_missing() {
	local cfg=$1
	shift
	awk '
		FILENAME != cfgfile {
			if (match($0, /^CONFIG_[A-Za-z0-9_]+=/)) {
				opt = substr($0, 1, RLENGTH - 1); want[opt] = $0
			} else if (match($0, /^# CONFIG_[A-Za-z0-9_]+ is not set/)) {
				split($0, w, " "); want[w[2]] = $0
			}
			next
		}
		{ have[$0] = 1 }
		END {
			for (o in want) {
				v = want[o]
				if (v ~ /is not set$/) {
					if ((o "=y") in have || (o "=m") in have) print v
				} else if (!(v in have)) print v
			}
		}' cfgfile="$cfg" "$@" "$cfg" | sort
}

# KTAP output of the gate scripts.  ktap_result DESC [FINDINGS]: "ok" when
# FINDINGS is empty, else "not ok" with up to 20 lines of findings as
# diagnostics.  ktap_end prints the plan and returns non-zero on a failure.
PVG_KTAP_N=0
PVG_KTAP_FAILED=0
ktap_result() {
	PVG_KTAP_N=$((PVG_KTAP_N + 1))
	if [ -z "${2:-}" ]; then
		echo "ok $PVG_KTAP_N $1"
	else
		echo "not ok $PVG_KTAP_N $1"
		printf '%s\n' "$2" | head -20 | sed 's/^/# /'
		PVG_KTAP_FAILED=1
	fi
}
ktap_end() {
	echo "1..$PVG_KTAP_N"
	return $PVG_KTAP_FAILED
}

# our_dirs SRC BASE: the in-tree directories of our code (from patches/map)
# that exist in the tree SRC and that we add (not in the pristine BASE tree,
# which rules out shared places such as Documentation or arch/x86/include).
our_dirs() {
	awk '!/^#/ && NF == 2 { print $2 }' "$PVG_TOP/patches/map" |
		while read -r d; do
			if [ -d "$1/$d" ] && [ ! -d "$PVG_CACHE/src/$2/linux-source-$2/$d" ]; then
				echo "$d"
			fi
		done
}
