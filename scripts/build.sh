#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Configure and build one kernel out of tree: build/<base>/obj-<config>/.
#   build.sh BASE CONFIG [EXTRA_FRAGMENT...]
# CONFIG is "guest" (small, for make run) or "test" (guest + KUnit and
# debug options).  The configuration is tinyconfig, then the kernel's own
# kvm_guest.config, then our fragments, merged with merge_config.sh.  Every
# option our fragments request must land in .config: merge_config only
# warns, we fail.  Modules are installed into <obj>/modroot.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

base=${1:?usage: build.sh BASE CONFIG [FRAGMENT...]}
cfg=${2:?usage: build.sh BASE CONFIG [FRAGMENT...]}
shift 2
check_base "$base"
lock_base "$base"
frags=("$PVG_TOP/scripts/configs/guest.config")
case "$cfg" in
guest) ;;
test) frags+=("$PVG_TOP/scripts/configs/test.config") ;;
*) die "unknown CONFIG '$cfg' (guest or test)" ;;
esac
frags+=("$@")
name=$cfg
[ $# -eq 0 ] || name=$cfg-$(cat "$@" | sha256sum | cut -c1-8)

"$PVG_TOP/scripts/prepare-tree.sh" "$base"
src=$(base_src "$base")
obj=$(base_obj "$base" "$name")
mkdir -p "$obj"

kernel_env
kernel_configure_once "$src" "$obj" "${frags[@]}"

stage "building $base/$name kernel (log: $obj/build.log)"
start=$(date +%s)
if ! kmake "$src" "$obj" -j"$(nproc)" bzImage modules >"$obj/build.log" 2>&1; then
	grep -E 'error|Error' "$obj/build.log" | head -40 >&2
	tail -20 "$obj/build.log" >&2
	die "kernel build failed for $base/$name"
fi
grep -E ': warning:' "$obj/build.log" | sed 's/^/    /' >&2 || true
rm -rf "$obj/modroot"
if grep -q '^CONFIG_MODULES=y' "$obj/.config"; then
	kmake "$src" "$obj" -s modules_install INSTALL_MOD_PATH="$obj/modroot" \
		INSTALL_MOD_STRIP=1 >/dev/null
fi
info "built $(kmake "$src" "$obj" -s kernelrelease) in $(($(date +%s) - start)) s"
