#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# nested-run.sh - boot a test kernel (L2) under KVM inside an L1 that runs
# under QEMU TCG (see nested-l1.sh for why), and pass its verdict through.
#
# The L2 kernel, initrd and settings are packed as /l2/* into a cpio that is
# appended to l1-base.cpio.gz; the L1 /init starts QEMU/KVM on them.
# Host serial ports: ttyS0 = L1 console, ttyS1 = L2 console, ttyS2 = L2 ttyS1.
#
# Exit status: the host QEMU's status unchanged, i.e. (v << 1) | 1 when the
# L2 guest wrote v (1..0x7b) to isa-debug-exit; L1 itself reports v = 0x7c
# (L2 QEMU failed to start), 0x7d (no /dev/kvm in L1) or 0x7e (L2 stopped
# without a verdict). 124: timeout, 0: L1 died, 1: host QEMU error,
# 2: usage error, 4: the L1 kernel reported a lockup, stall or panic, or
# stopped (no heartbeat), 6: no output from L1 or L2 for --idle seconds,
# L1's heartbeat aside (even, as 4 and 124 are: an odd status is a verdict).
set -euo pipefail

die() { echo "nested-run: error: $*" >&2; exit 2; }
usage() {
	cat <<EOF
usage: $0 --l1-dir DIR --l2-kernel FILE --l2-initrd FILE --l2-append CMDLINE
          --l2-console FILE --l2-data FILE --l1-console FILE
          [--l2-cpu CPU (host)] [--l2-smp N (4)] [--l2-mem MIB (256)]
          [--l2-qemu-arg ARG]... [--timeout SECONDS (300)]
          [--idle SECONDS (0: off)]
   or: $0 --l1-failed L1-CONSOLE-FILE
EOF
	exit "$1"
}

l1_beat='^l1: alive '
l1_broken='soft lockup - CPU#|self-detected stall|Kernel panic - not syncing|stack guard page was hit'

# l1_failed FILE: true, with the report in $bad, when FILE (L1's console)
# has one of those reports and no "l1: verdict" line.
l1_failed() {
	bad=$(grep -a -m 1 -E "$l1_broken" "$1" 2>/dev/null) &&
		! grep -a -q '^l1: verdict' "$1"
}

# nested-run.sh --l1-failed FILE: no boot; whether the L1 console FILE
# shows the L1 kernel failing, by the rule of the watch below: the report
# on stdout and status 0, or status 1.  pvgtest.py asks after a boot that
# ended without a verdict, for a report that came with QEMU's exit.
if [[ ${1:-} == --l1-failed ]]; then
	(($# == 2)) || die "--l1-failed takes one file"
	l1_failed "$2" || exit 1
	printf '%s\n' "${bad%$'\r'}"
	exit 0
fi

declare -A o=([l2-cpu]=host [l2-smp]=4 [l2-mem]=256 [timeout]=300 [idle]=0)
qargs=()
while (($#)); do
	case $1 in
	-h | --help) usage 0 ;;
	--*=*) set -- "${1%%=*}" "${1#*=}" "${@:2}"; continue ;;
	esac
	(($# >= 2)) || die "$1 needs a value"
	case $1 in
	--l2-qemu-arg) qargs+=("$2") ;;
	--l1-dir | --l2-kernel | --l2-initrd | --l2-append | --l2-cpu | --l2-smp | \
		--l2-mem | --l2-console | --l2-data | --l1-console | --timeout | \
		--idle) o[${1#--}]=$2 ;;
	*) echo "nested-run: unknown option $1" >&2; usage 2 ;;
	esac
	shift 2
done
for k in l1-dir l2-kernel l2-initrd l2-append l2-console l2-data l1-console; do
	[[ -v o[$k] ]] || { echo "nested-run: --$k is required" >&2; usage 2; }
done
l1dir=${o[l1-dir]} append=${o[l2-append]} cpu=${o[l2-cpu]} tmo=${o[timeout]}
for f in "$l1dir/l1-vmlinuz" "$l1dir/l1-base.cpio.gz" "${o[l2-kernel]}" "${o[l2-initrd]}"; do
	[[ -f $f ]] || die "$f not found"
done
for k in l2-smp l2-mem timeout; do
	[[ ${o[$k]} =~ ^[1-9][0-9]*$ ]] || die "--$k takes a positive number"
done
[[ ${o[idle]} =~ ^(0|[1-9][0-9]*)$ ]] || die "--idle takes a number of seconds, 0 for off"
idle=${o[idle]}
for a in "$append" "$cpu" "${qargs[@]}"; do
	[[ $a != *$'\n'* ]] || die "arguments must not contain newlines"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nested-run.XXXXXX")
qpid=''
# shellcheck disable=SC2317  # invoked from the trap
cleanup() {
	[[ -z $qpid ]] || kill "$qpid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Initrd = l1-base (decompressed here: gunzip under TCG costs L1 ~1.5 s)
# + payload as uncompressed newc cpio, 4-byte aligned (the kernel only
# looks for a cpio header at aligned offsets).
p=$tmp/root/l2
mkdir -p "$p"
cp "${o[l2-kernel]}" "$p/bzImage"
cp "${o[l2-initrd]}" "$p/initrd"
printf '%s\n' "$append" >"$p/cmdline"
printf '%s\n' "$cpu" >"$p/cpu"
echo "${o[l2-smp]}" >"$p/smp"
echo "${o[l2-mem]}" >"$p/mem"
: >"$p/qemu-args"
((${#qargs[@]} == 0)) || printf '%s\n' "${qargs[@]}" >"$p/qemu-args"
gzip -dc "$l1dir/l1-base.cpio.gz" >"$tmp/initrd"
truncate -s "%4" "$tmp/initrd"
(cd "$tmp/root" && find . | cpio -o -H newc -R 0:0 --quiet) >>"$tmp/initrd"

# The watcher below reads L1's console: no verdict of an earlier run there.
: >"${o[l1-console]}"
chr() { printf 'file,id=%s,path=%s' "$1" "${2//,/,,}"; }
timeout -k 10 "$tmo" qemu-system-x86_64 -accel tcg,thread=multi -cpu max \
	-smp 2 -m 2048 -nic none -display none -no-reboot \
	-kernel "$l1dir/l1-vmlinuz" -initrd "$tmp/initrd" \
	-append "console=ttyS0 panic=-1 quiet" \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
	-chardev "$(chr s0 "${o[l1-console]}")" -serial chardev:s0 \
	-chardev "$(chr s1 "${o[l2-console]}")" -serial chardev:s1 \
	-chardev "$(chr s2 "${o[l2-data]}")" -serial chardev:s2 &
qpid=$!

# L1's init prints "l1: verdict V" just before it reports V through
# isa-debug-exit.  The TCG-emulated L1 has been seen to wedge in between,
# with L2's verdict already out; pass that verdict on after PVG_L1_GRACE
# seconds (default 15) instead of waiting for the timeout.
# The L1 kernel itself has been seen to lock up (a CPU stuck in KVM_RUN
# for minutes) or to crash; L2 then stops too, for reasons of its host.
# Stop L1 at its first such report (l1_broken, at the top) and exit with
# 4.  A panic reboots L1 at once, and with -no-reboot its QEMU exits,
# maybe between two looks: so the exit status is decided by L1's console
# once QEMU is gone.
# A guest wedged by its host (see pvgtest.boot_retrying()) prints nothing
# more, on either console, until the timeout: with --idle, stop L1 once
# none of the three logs has grown for that many seconds, L1's heartbeat
# lines left out, and exit 6.
# L1's init prints "l1: alive ..." every 10 s while L2 runs.  Once it has,
# L1's console silent for PVG_L1_STILL seconds (default 60) means the L1
# machine stopped under L2, whatever L2 printed last: stop it, exit 4.
grace=${PVG_L1_GRACE:-15}
still=${PVG_L1_STILL:-60}

# logged: the bytes in the three logs so far, L1's heartbeat left out.
logged() {
	local f n
	n=$(grep -a -v "$l1_beat" "${o[l1-console]}" 2>/dev/null | wc -c)
	for f in "${o[l2-console]}" "${o[l2-data]}"; do
		[[ ! -f $f ]] || n=$((n + $(stat -c %s "$f")))
	done
	echo "$n"
}

size=-1 since=$SECONDS idled='' l1size=-1 l1since=$SECONDS stopped=''
while kill -0 "$qpid" 2>/dev/null; do
	if l1_failed "${o[l1-console]}"; then
		kill "$qpid" 2>/dev/null
		break
	fi
	now=$(stat -c %s "${o[l1-console]}" 2>/dev/null || echo 0)
	if ((now != l1size)); then
		l1size=$now l1since=$SECONDS
	elif ((SECONDS - l1since >= still)) &&
		grep -a -q "$l1_beat" "${o[l1-console]}" &&
		! grep -a -q '^l1: verdict' "${o[l1-console]}"; then
		stopped=1
		kill "$qpid" 2>/dev/null
		break
	fi
	now=$(logged)
	if ((now != size)); then
		size=$now since=$SECONDS
	elif ((idle && SECONDS - since >= idle)); then
		idled=1
		kill "$qpid" 2>/dev/null
		break
	fi
	v=$(sed -n 's/^l1: verdict \(0x[0-9a-f]*\|[0-9]*\)\r*$/\1/p' \
		"${o[l1-console]}" 2>/dev/null | tail -n 1) || true
	if [[ -n $v ]]; then
		for ((i = 0; i < 2 * grace; i++)); do
			kill -0 "$qpid" 2>/dev/null || break
			sleep 0.5
		done
		if kill -0 "$qpid" 2>/dev/null; then
			echo "nested-run: L1 hung after reporting verdict $v; stopped it" >&2
			kill "$qpid" 2>/dev/null
			wait "$qpid" 2>/dev/null || true
			qpid=''
			exit $(((v << 1) | 1))
		fi
		break
	fi
	sleep 1
done
rc=0
wait "$qpid" 2>/dev/null || rc=$?
qpid=''
if l1_failed "${o[l1-console]}"; then
	echo "nested-run: the L1 kernel failed (${bad%$'\r'}) and stopped" >&2
	exit 4
fi
if [[ -n $stopped ]]; then
	echo "nested-run: the L1 kernel stopped (no heartbeat for ${still} s; last: $(grep -a "$l1_beat" "${o[l1-console]}" | tail -n 1 | tr -d '\r'))" >&2
	exit 4
fi
if [[ -n $idled ]]; then
	echo "nested-run: no output from L1 or L2 for ${idle} s (L1's heartbeat aside); stopped L1" >&2
	exit 6
fi
exit "$rc"
