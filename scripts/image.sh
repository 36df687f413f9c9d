#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# A bootable Debian 12 guest disk image with the pvguest kernel package:
#   image.sh DEBDIR OUTPUT
# DEBDIR holds the packages of make deb (scripts/deb.sh).  The settings
# come from the environment (the make variables of the same names):
#   IMAGE_SIZE      disk size, with a K, M or G suffix (default 2G)
#   IMAGE_FORMAT    raw or qcow2 (default raw)
#   IMAGE_PASSWORD  root's password; empty (the default) lets root log in
#                   on the console without one: fine on a test machine,
#                   never for an image that leaves it
#   IMAGE_MIRROR    Debian archive (default http://deb.debian.org/debian)
# The disk is GPT: an EFI system partition holding a standalone GRUB, which
# finds the root filesystem by UUID and reads /boot/grub/grub.cfg there,
# and an ext4 root filesystem.  Boot it with UEFI firmware (OVMF), as
# make run IMAGE=... does.  The root filesystem is on the virtio-blk disk,
# driven by pvblock; pvballoon drives the balloon; fstrim.timer runs weekly
# so that freed blocks go back to the host; systemd-networkd asks DHCP for
# an address on every Ethernet interface.  Needs root: mmdebstrap builds
# the system in a chroot.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

debdir=${1:?usage: image.sh DEBDIR OUTPUT}
output=${2:?usage: image.sh DEBDIR OUTPUT}
size=${IMAGE_SIZE:-2G}
format=${IMAGE_FORMAT:-raw}
password=${IMAGE_PASSWORD:-}
mirror=${IMAGE_MIRROR:-http://deb.debian.org/debian}
esp_mb=32

[ "$(id -u)" -eq 0 ] ||
	die "make image needs root: mmdebstrap installs Debian into a chroot (run it as root or with sudo)"
case "$password" in
*$'\n'*) die "IMAGE_PASSWORD must not hold a newline (chpasswd reads one user:password line)" ;;
esac
case "$format" in
raw | qcow2) ;;
*) die "IMAGE_FORMAT '$format' is not raw or qcow2" ;;
esac
size_mb=$(numfmt --from=iec --to-unit=Mi "${size^^}" 2>/dev/null) ||
	die "IMAGE_SIZE '$size' is not a size such as 2G or 1536M"
[ "$size_mb" -ge 1024 ] || die "IMAGE_SIZE '$size' is too small: Debian with the kernel wants at least 1G"
for t in mmdebstrap sfdisk mkfs.ext4 mkfs.vfat mcopy grub-mkstandalone qemu-img; do
	command -v "$t" >/dev/null || die "$t is missing: run make deps (group image)"
done
[ -d /usr/lib/grub/x86_64-efi ] || die "GRUB's EFI modules are missing: install grub-efi-amd64-bin"
release=$(cat "$debdir/RELEASE" 2>/dev/null) ||
	die "no kernel packages in $debdir: run make deb first"
kdeb=$(ls "$debdir"/linux-image-"$release"_*.deb 2>/dev/null | head -1)
[ -n "$kdeb" ] || die "$debdir has no linux-image-$release package: run make deb again"

[ ! -d "$output" ] || die "IMAGE_OUT '$output' is a directory; give the path of the image file"
outdir=$(dirname "$output")
mkdir -p "$outdir"
output=$(cd "$outdir" && pwd)/$(basename "$output")
work=$(mktemp -d "$outdir/.image.XXXXXX")
trap 'rm -rf "$work"' EXIT
# The raw disk is sparse; the chroot and a qcow2 copy need real room.
free_mb=$(df -Pm "$outdir" | awk 'NR == 2 { print $4 }')
need_mb=1536
[ "$format" = raw ] || need_mb=$((need_mb + size_mb))
[ "$free_mb" -ge "$need_mb" ] ||
	die "only ${free_mb} MiB free in $outdir; building the image needs about ${need_mb} MiB"

start=$(date +%s)
uuid=$(cat /proc/sys/kernel/random/uuid)
root=$work/root
log=$output.mmdebstrap.log
stage "installing Debian 12 and $release into a chroot (mirror $mirror)"
# The kernel package goes in after our files, so that its initramfs has
# pvblock and the udev rule that names pvblock disks.
mmdebstrap --variant=minbase --components=main \
	--include=systemd-sysv,udev,kmod,initramfs-tools,zstd,linux-base,e2fsprogs,util-linux,login,passwd,procps,iproute2,systemd-resolved,ca-certificates,less,apt \
	--customize-hook="sync-in '$PVG_TOP/scripts/image/rootfs' /" \
	--customize-hook="copy-in '$kdeb' /tmp" \
	--customize-hook='chroot "$1" dpkg -i /tmp/'"$(basename "$kdeb")" \
	--customize-hook='rm -f "$1"/tmp/*.deb' \
	bookworm "$root" "$mirror" >"$log" 2>&1 ||
	{ tail -25 "$log" >&2; die "mmdebstrap failed: its last lines are above, all of them in $log"; }
[ -e "$root/boot/initrd.img-$release" ] || die "the kernel package made no initramfs"
[ -L "$root/vmlinuz" ] && [ -L "$root/initrd.img" ] ||
	die "/vmlinuz and /initrd.img were not made by the kernel package's hooks"

stage "configuring the system"
echo pvguest >"$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tpvguest\n' >"$root/etc/hosts"
printf 'UUID=%s\t/\text4\terrors=remount-ro\t0\t1\n' "$uuid" >"$root/etc/fstab"
mkdir -p "$root/boot/grub"
cat >"$root/boot/grub/grub.cfg" <<EOF
# pvguest image: read by the GRUB on the EFI system partition.  The kernel
# package points /vmlinuz and /initrd.img at the newest kernel.
set timeout=1
menuentry 'Debian GNU/Linux, pvguest kernel' {
	search --no-floppy --fs-uuid --set=root $uuid
	linux /vmlinuz root=UUID=$uuid ro console=tty0 console=ttyS0,115200n8
	initrd /initrd.img
}
EOF
for unit in fstrim.timer systemd-networkd.service; do
	chroot "$root" systemctl enable "$unit" >/dev/null 2>&1 || die "could not enable $unit"
done
if [ -n "$password" ]; then
	printf 'root:%s\n' "$password" | chroot "$root" chpasswd || die "could not set root's password"
	info "root logs in with the password of IMAGE_PASSWORD"
else
	chroot "$root" passwd -d root >/dev/null || die "could not clear root's password"
	info "root logs in without a password (IMAGE_PASSWORD is empty)"
fi
: >"$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"

stage "writing the EFI system partition (standalone GRUB)"
cat >"$work/grub-early.cfg" <<EOF
search --no-floppy --fs-uuid --set=root $uuid
set prefix=(\$root)/boot/grub
configfile (\$root)/boot/grub/grub.cfg
EOF
grub-mkstandalone -O x86_64-efi -o "$work/BOOTX64.EFI" --locales= --fonts= --themes= \
	--modules="part_gpt ext2 search search_fs_uuid configfile linux normal echo test efi_gop" \
	"boot/grub/grub.cfg=$work/grub-early.cfg" || die "grub-mkstandalone failed"
mkfs.vfat -n ESP -C "$work/esp.img" $((esp_mb * 1024)) >/dev/null
mmd -i "$work/esp.img" ::/EFI ::/EFI/BOOT
mcopy -i "$work/esp.img" "$work/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI

stage "writing the $size disk: GPT, EFI system partition, ext4 root $uuid"
disk=$work/disk.raw
truncate -s "${size_mb}M" "$disk"
# 1 MiB before the first partition, and 1 MiB at the end for the backup GPT.
root_mb=$((size_mb - esp_mb - 2))
sfdisk --quiet "$disk" <<EOF
label: gpt
start=1MiB, size=${esp_mb}MiB, type=U, name="EFI system"
start=$((esp_mb + 1))MiB, size=${root_mb}MiB, type=L, name="pvguest root"
EOF
dd if="$work/esp.img" of="$disk" bs=1M seek=1 conv=notrunc,sparse status=none
mkfs.ext4 -q -F -L pvguest-root -U "$uuid" -d "$root" \
	-E offset=$(((esp_mb + 1) * 1024 * 1024)) "$disk" "${root_mb}M" ||
	die "mkfs.ext4 failed (is the image too small for the system?)"
rm -rf "$root"

if [ "$format" = qcow2 ]; then
	qemu-img convert -O qcow2 "$disk" "$work/disk.qcow2" || die "qemu-img convert failed"
	disk=$work/disk.qcow2
fi
mv "$disk" "$output"
echo "$uuid" >"$output.uuid"
info "$output: $format, $size, root UUID $uuid, kernel $release"
info "built in $(($(date +%s) - start)) s; boot it with: make run IMAGE=$output"
