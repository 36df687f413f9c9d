#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# nested-l1.sh OUTDIR - build the L1 "nested KVM host" used by nested-run.sh.
#
# This machine has no VMX/SVM, so to run a guest under real KVM we nest:
# QEMU TCG with -cpu max emulates an AMD CPU with SVM + nested paging, a
# Debian cloud kernel boots in it as L1, loads kvm/kvm-amd, and runs the
# host's own qemu-system-x86_64 with -enable-kvm to boot the test kernel (L2).
#
# Output (rebuilt only when the kernel package, QEMU, busybox, pvg-exit.c or
# this script change):
#   OUTDIR/l1-vmlinuz        Debian linux-image-*-cloud-amd64 kernel
#   OUTDIR/l1-base.cpio.gz   busybox, kvm modules, qemu + libs + firmware,
#                            /init (below) and /usr/bin/pvg-exit
#   OUTDIR/debs/             cached .deb downloads
# The L2 payload is a second cpio appended to the initrd by nested-run.sh.
set -euo pipefail

say() { echo "==> $*"; }
die() { echo "nested-l1: error: $*" >&2; exit 1; }

[[ $# -eq 1 && $1 != -* ]] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
out=$1
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
exit_src=$repo/tests/guest/pvg-exit.c
qemu=/usr/bin/qemu-system-x86_64
bb=/bin/busybox
meta=linux-image-cloud-amd64

for t in apt-cache apt-get dpkg-deb dpkg-query modinfo ldd cpio gzip gcc sha256sum; do
	command -v "$t" >/dev/null || die "'$t' not found"
done
[[ -x $qemu ]] || die "$qemu missing (apt-get install qemu-system-x86)"
if [[ ! -x $bb ]] || ldd "$bb" >/dev/null 2>&1; then
	die "$bb missing or not static (apt-get install busybox-static)"
fi
[[ -f $exit_src ]] || die "$exit_src missing"

# Resolve the versioned kernel package behind the metapackage.
pkg=$(apt-cache depends "$meta" 2>/dev/null |
	awk '/Depends: linux-image-[0-9]/ { print $2; exit }') || true
[[ -n $pkg ]] || die "apt-cache does not know $meta (try: apt-get update)"
ver=$(apt-cache show --no-all-versions "$pkg" 2>/dev/null |
	awk '/^Version:/ { print $2; exit }') || true
[[ -n $ver ]] || die "no candidate version for $pkg (try: apt-get update)"

stamp="$pkg $ver $(dpkg-query -W qemu-system-x86 qemu-system-data seabios \
	busybox-static 2>/dev/null | tr '\t\n' '= ')"
stamp+="$(cat "${BASH_SOURCE[0]}" "$exit_src" | sha256sum | cut -c1-16)"
if [[ -f $out/l1-vmlinuz && -f $out/l1-base.cpio.gz &&
	"$(cat "$out/.stamp" 2>/dev/null)" == "$stamp" ]]; then
	say "L1 up to date ($pkg $ver)"
	exit 0
fi

mkdir -p "$out/debs"
deb=$out/debs/${pkg}_${ver}_amd64.deb
if [[ ! -s $deb ]]; then
	say "downloading $pkg $ver"
	dl=$(mktemp -d "$out/debs/.dl.XXXXXX")
	# As root, apt's _apt sandbox user may not be able to write to $dl.
	(cd "$dl" && apt-get download -qq -o APT::Sandbox::User="$(id -un)" \
		"$pkg=$ver") >&2 || { rm -rf "$dl"; die "download of $pkg failed (network/apt sources?)"; }
	mv "$dl"/*.deb "$deb" && rm -rf "$dl"
fi

work=$(mktemp -d "$out/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT
say "unpacking $(basename "$deb")"
dpkg-deb -x "$deb" "$work/deb" || die "cannot unpack $deb"
kimg=$(echo "$work"/deb/boot/vmlinuz-*)
moddir=$(echo "$work"/deb/lib/modules/*/kernel)
[[ -f $kimg && -d $moddir ]] || die "unexpected layout in $deb"

r=$work/root
mkdir -p "$r"/{bin,dev,proc,sys,tmp,etc,lib/modules,usr/bin,usr/share/qemu} \
	"$r/usr/lib/x86_64-linux-gnu/qemu"
cp "$bb" "$r/bin/busybox"

# kvm-amd plus its dependencies (depth first => load order), decompressed
# here because busybox insmod does not handle .ko.xz/.ko.zst.
order=()
addmod() {
	local m=$1 f d
	[[ " ${order[*]} " == *" $m "* ]] && return
	f=$(find "$moddir" \( -name "$m.ko*" -o -name "${m//-/_}.ko*" \) | head -1)
	[[ -n $f ]] || die "module $m not found in $pkg"
	for d in $(modinfo -F depends "$f" | tr , ' '); do addmod "$d"; done
	case $f in
	*.ko) cp "$f" "$r/lib/modules/$m.ko" ;;
	*.ko.xz) xz -dc "$f" >"$r/lib/modules/$m.ko" ;;
	*.ko.zst) zstd -qdc "$f" >"$r/lib/modules/$m.ko" ;;
	*.ko.gz) gzip -dc "$f" >"$r/lib/modules/$m.ko" ;;
	*) die "unknown module format: $f" ;;
	esac
	order+=("$m")
}
addmod kvm-amd
printf '%s\n' "${order[@]}" >"$r/etc/l1-modules"
say "modules: ${order[*]}"

# QEMU, every library it links (incl. the dynamic loader) and the firmware
# it loads for "-kernel" on the pc machine (seabios, linuxboot_dma, kvmvapic).
# No iPXE option ROMs: L2 must run with -nic none (or romfile=).
cp "$qemu" "$r/usr/bin/"
qdir=/usr/lib/x86_64-linux-gnu/qemu
for f in $(ldd "$qemu" "$qdir"/accel-tcg-*.so | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\/.*[^:]$/ { print $1 }' | sort -u); do
	mkdir -p "$r/${f%/*}"
	cp -L "$f" "$r/$f"
done
cp "$qdir"/accel-tcg-*.so "$r/$qdir/"
cp -rL /usr/share/seabios "$r/usr/share/"
for f in linuxboot.bin linuxboot_dma.bin kvmvapic.bin pvh.bin multiboot.bin \
	multiboot_dma.bin bios-microvm.bin qboot.rom sgabios.bin; do
	cp -L "/usr/share/qemu/$f" "$r/usr/share/qemu/"
done

say "building pvg-exit"
gcc -static -O2 -o "$r/usr/bin/pvg-exit" "$exit_src"

cat >"$r/init" <<'EOF'
#!/bin/busybox sh
# L1 init: load KVM, boot the L2 payload from /l2/ under KVM, forward verdict.
/bin/busybox --install -s /bin
export PATH=/bin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev

verdict() {
	echo "l1: verdict $1"
	pvg-exit "$1"
	echo "l1: pvg-exit failed, powering off"
	poweroff -f
}

while read -r m; do
	insmod "/lib/modules/$m.ko" || echo "l1: insmod $m failed"
done </etc/l1-modules
if [ ! -c /dev/kvm ]; then
	echo "l1: /dev/kvm missing (svm in cpuinfo: $(grep -c -w svm /proc/cpuinfo) cpus)"
	dmesg | grep -i -E 'kvm|svm' | tail -n 5
	verdict 0x7d
fi
for f in bzImage initrd cmdline qemu-args cpu smp mem; do
	[ -f "/l2/$f" ] || { echo "l1: L2 payload file /l2/$f missing"; verdict 0x7c; }
done

# L2 ttyS0 -> L1 ttyS1, L2 ttyS1 -> L1 ttyS2; raw so bytes pass unchanged
# (termios set here survives the close, QEMU reopens the tty).
stty -F /dev/ttyS1 raw -echo 115200
stty -F /dev/ttyS2 raw -echo 115200
# vapic=false: with kvmvapic (TPR patching for old Windows) QEMU round-trips
# the vCPU registers through KVM after the L2 kernel ran LTR, so TR comes
# back typed "busy"; the L0 TCG I/O-bitmap check only accepts a non-busy TSS
# and ioperm()+outb in L2 user space (pvg-exit) would #GP.
# debug-threads=on names the vCPU threads ("CPU 1/KVM") for the heartbeat.
set -- -enable-kvm -cpu "$(cat /l2/cpu)" -smp "$(cat /l2/smp)" -m "$(cat /l2/mem)" \
	-name l2,debug-threads=on -nic none -display none -no-reboot -global apic-common.vapic=false \
	-kernel /l2/bzImage -initrd /l2/initrd -append "$(cat /l2/cmdline)" \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
	-chardev file,id=l2s0,path=/dev/ttyS1 -serial chardev:l2s0 \
	-chardev file,id=l2s1,path=/dev/ttyS2 -serial chardev:l2s1
while IFS= read -r a || [ -n "$a" ]; do
	set -- "$@" "$a"
done </l2/qemu-args
# An L2 vCPU that triple-faults is reset, and with -no-reboot its QEMU
# then exits with status 0 without a word.  KVM traces the exit that
# tells it so (SVM's shutdown intercept, exit code 0x7f; the emulated L1
# CPU is AMD) with the vCPU, its RIP and the event it was taking: keep
# that one exit and print it after a stop without a verdict.
t=/sys/kernel/tracing
mount -t tracefs tracefs $t 2>/dev/null
if echo 'exit_reason == 0x7f' >$t/events/kvm/kvm_exit/filter &&
	echo 1 >$t/events/kvm/kvm_exit/enable; then
	shutdowns() { sed -n 's/^.*kvm_exit: \(.*reason shutdown.*\)$/l1: L2 shutdown: \1/p' $t/trace; }
else
	shutdowns() { echo "l1: cannot trace KVM exits; no shutdown report"; }
fi
printf 'l1: running: qemu-system-x86_64'
printf " '%s'" "$@"
echo
# A heartbeat every 10 s while L2 runs, with the CPU time (clock ticks)
# L2's QEMU has had so far: the host (nested-run.sh) tells an L1 that
# stopped under a silent L2 from an L2 that is stuck on a running L1.
#
# Once L2 has sent nothing on either serial port for 40 s, each heartbeat
# also says, for every L2 vCPU, what its QEMU thread did over about half
# a second: its state (and where it sleeps), the clock ticks it ran, the KVM
# exits it took and the last of them (reason and L2 RIP, from a tracing
# instance of its own).  A vCPU halted for good, one looping on exits in
# L1, and one running L2 code can then be told apart after a wedge.
tx_l2() {
	awk '/^[12]: / { for (i = 1; i <= NF; i++)
		if ($i ~ /^tx:/) n += substr($i, 4) } END { print n + 0 }' \
		/proc/tty/driver/serial
}
ti=$t/instances/l2-beat
# stat_ticks DIR: "STATE TICKS" of the task /proc/.../DIR, TICKS the user
# and system time it has had (its name, in brackets, may hold spaces).
stat_ticks() {
	local s
	s=$(cat $1/stat 2>/dev/null) || return 1
	set -- ${s##*) }
	echo "$1 $((${12} + ${13}))"
}
vcpu_ticks() {
	for d in /proc/$q/task/*; do
		read -r c <$d/comm 2>/dev/null || continue
		case $c in
		"CPU "*/KVM) ;;
		*) continue ;;
		esac
		c=${c#CPU } s=$(stat_ticks $d) || continue
		echo "${c%/KVM} $s $(cat $d/wchan 2>/dev/null)"
	done
}
vcpu_report() {
	local trace=$ti/trace t0 t1
	mkdir $ti 2>/dev/null
	read -r t0 _ </proc/uptime
	vcpu_ticks >/tmp/ticks0
	echo 2>/dev/null >$trace
	echo 2>/dev/null 1 >$ti/events/kvm/kvm_exit/enable || trace=/dev/null
	sleep 0.5
	echo 2>/dev/null 0 >$ti/events/kvm/kvm_exit/enable
	vcpu_ticks >/tmp/ticks1
	read -r t1 _ </proc/uptime
	# The shell may sleep for longer than asked: say how long it was.
	awk -v head="l1: alive ${t1%.*} s, L2 silent $1 s" -v t0=$t0 -v t1=$t1 \
		-v traced=$([ $trace = /dev/null ] || echo 1) '
	FILENAME == "/tmp/ticks0" { n0[$1] = $3; next }
	FILENAME == "/tmp/ticks1" { st[$1] = $2; n1[$1] = $3; w[$1] = $4; next }
	/kvm_exit: vcpu / {
		for (i = 1; i < NF; i++) {
			if ($i == "vcpu") v = $(i + 1)
			if ($i == "reason") r = $(i + 1)
			if ($i == "rip") p = $(i + 1)
		}
		n[v]++
		last[v] = r " at rip " p
	}
	END {
		for (v in n1) {
			s = st[v]
			if (s != "R" && w[v] != "" && w[v] != "0")
				s = s " in " w[v]
			line = sprintf("%s, vcpu %s: %s, %d ticks in %.2f s", head,
				v, s, n1[v] - n0[v], t1 - t0)
			line = line (traced ? sprintf(", %d exits", n[v]) :
				", exits not traced")
			if (n[v])
				line = line ", last " last[v]
			print line
		}
	}' /tmp/ticks0 /tmp/ticks1 $trace | sort
}
qemu-system-x86_64 "$@" &
q=$!
# The serial ports are first counted at the first heartbeat, and the
# tracing instance is made only for a report, so that until then the
# heartbeat only sleeps.  L1 has stopped dead in L2's first seconds, and
# died of stack guard page panics, with nothing more of it running: such
# stops are the L1 kernel's own, not the heartbeat's.
(
	tx='' quiet=0
	while sleep 10; do
		s=$(stat_ticks /proc/$q) || exit 0
		echo "l1: alive $(cut -d. -f1 /proc/uptime) s, L2 QEMU cpu ${s#* } ticks"
		now=$(tx_l2)
		if [ "$now" != "$tx" ]; then
			tx=$now quiet=0
			continue
		fi
		quiet=$((quiet + 10))
		[ $quiet -lt 40 ] || vcpu_report $quiet
	done
) &
beat=$!
wait $q
s=$?
kill $beat 2>/dev/null
echo "l1: L2 qemu exit status $s"
[ $((s % 2)) -eq 1 ] || shutdowns
if [ "$s" -eq 1 ]; then
	verdict 0x7c
elif [ $((s % 2)) -eq 1 ]; then
	verdict $(((s - 1) / 2))
else
	verdict 0x7e
fi
EOF
chmod 755 "$r/init"

say "packing initramfs"
(cd "$r" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
	gzip >"$work/l1-base.cpio.gz"
mv "$work/l1-base.cpio.gz" "$out/l1-base.cpio.gz"
cp "$kimg" "$out/l1-vmlinuz"
echo "$stamp" >"$out/.stamp"
say "done: $out/l1-vmlinuz $out/l1-base.cpio.gz ($(du -h "$out/l1-base.cpio.gz" | cut -f1))"
