#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Make sure the Debian packages pvguest needs are installed.  As root, the
# missing ones are installed with apt-get; otherwise the exact command is
# printed and we stop.  Usage: deps.sh [GROUP...]; groups: build, run,
# check, deb, image.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

declare -A need=(
	[build]="gcc make flex bison bc cpio kmod libelf-dev libssl-dev xz-utils rsync ccache perl python3 patch quilt busybox-static libc6-dev fio e2fsprogs util-linux"
	[run]="qemu-system-x86 qemu-utils busybox-static python3 cpio gzip"
	[check]="qemu-system-x86 qemu-utils python3 quilt sparse coccinelle ocaml-nox git dwarves"
	[deb]="dpkg-dev fakeroot debhelper"
	[image]="mmdebstrap ovmf grub-efi-amd64-bin mtools dosfstools fdisk e2fsprogs qemu-system-x86 qemu-utils"
)

groups=("$@")
[ ${#groups[@]} -gt 0 ] || groups=(build run check)
pkgs=()
for g in "${groups[@]}"; do
	[ -n "${need[$g]:-}" ] || die "unknown dependency group '$g'"
	read -ra p <<<"${need[$g]}"
	pkgs+=("${p[@]}")
done

missing=()
for p in $(printf '%s\n' "${pkgs[@]}" | sort -u); do
	dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	printf 'pvguest: missing Debian packages. Install them as root with:\n\n' >&2
	printf '    apt-get install -y --no-install-recommends %s\n\n' "${missing[*]}" >&2
	exit 1
fi
stage "installing missing packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; then
	apt-get update >/dev/null || die "apt-get update failed"
	apt-get install -y --no-install-recommends "${missing[@]}" ||
		die "apt-get install failed for: ${missing[*]}"
fi
