#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The KVM shared-memory areas, read back from the host's side of the
# contract: the MSR through which each CPU registers an area with KVM
# (kvmclock, steal time, PV EOI) holds the area's guest-physical address
# with bit 0 set while the area is registered, and 0 when it is not.  So
# on every online CPU:
#   ops "shared-memory"  the MSR has bit 0 set, and no two CPUs share an
#                        address (each CPU has its own area)
#   ops "native"         the MSR is 0, or KVM does not have it (TCG), or
#                        it holds the firmware's area below 1 MiB: SeaBIOS
#                        registers a kvmclock area on the boot CPU for its
#                        own timing and leaves it; a kernel that does not
#                        use kvmclock does not take it over
#   ops "stock"          the stock code decides: not checked
# Run again after suspend, kexec and kdump by the lifecycle scenario, this
# shows that every area came back, on every CPU, in the next kernel too.
. /tests/lib/ktap.sh

f=/sys/kernel/pvguest/ops
[ -r $f ] || { fail "$f is readable"; exit 0; }
if [ ! -c /dev/cpu/0/msr ]; then
	fail "/dev/cpu/0/msr exists (CONFIG_X86_MSR)"
	exit 0
fi
# The msr driver has a device for each online CPU, and only for those.
online=$(ls /dev/cpu/[0-9]*/msr | cut -d/ -f4 | sort -n | tr '\n' ' ')
online=${online% }

# area OP MSR: check one operation's MSR on every online CPU.
area() {
	op=$1
	msr=$2
	impl=$(awk -v op="$op" '$1 == op { print $2 }' $f)
	bad=
	fw=
	seen=
	for c in $online; do
		v=$(pvg-msr "$c" "$msr" 2>/tmp/msr-err)
		rc=$?
		case $impl in
		shared-memory)
			if [ $rc -ne 0 ]; then
				bad="$bad cpu$c:$(cat /tmp/msr-err)"
			elif [ $((v & 1)) -ne 1 ]; then
				bad="$bad cpu$c:$v"
			else
				a=$((v & ~63))
				case " $seen " in
				*" $a "*) bad="$bad cpu$c:shares-$v" ;;
				esac
				seen="$seen $a"
			fi ;;
		native)
			[ $rc -eq 0 ] && [ $((v)) -ne 0 ] || continue
			if [ $((v & ~63)) -lt $((0x100000)) ]; then
				fw="$fw cpu$c:$v"
			else
				bad="$bad cpu$c:$v"
			fi ;;
		esac
	done
	case $impl in
	shared-memory)
		[ -z "$bad" ] &&
			pass "$op: MSR $msr registered, one area per CPU, on CPUs $online" ||
			fail "$op: MSR $msr registered, one area per CPU, on CPUs $online" "$bad" ;;
	native)
		[ -z "$fw" ] || echo "# $op: the firmware's own area below 1 MiB, left registered:$fw"
		[ -z "$bad" ] && pass "$op: MSR $msr not registered by the kernel on any CPU" ||
			fail "$op: MSR $msr not registered by the kernel on any CPU" "$bad" ;;
	*)
		skip "$op: MSR $msr" "ops says '$impl': the stock code decides" ;;
	esac
}

for e in $PV_AREAS; do
	area "${e%%:*}" "${e#*:}"
done
