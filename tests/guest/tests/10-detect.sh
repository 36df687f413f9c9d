#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Hypervisor detection: /sys/kernel/pvguest against a user-space CPUID
# oracle (pvg-cpuid) and against the scenario's expectations, passed on the
# kernel command line:
#   pvgtest.hv=NAME              the active hypervisor
#   pvgtest.sigs=BASE:NAME,...   signatures that must be listed
#   pvgtest.feat=A,B,...         features that must be reported
#   pvgtest.nofeat=A,B,...       features that must not be reported
. /tests/lib/ktap.sh

d=/sys/kernel/pvguest
for f in hypervisor signatures features; do
	check "$d/$f exists and is readable" cat "$d/$f"
done
[ -r $d/hypervisor ] || exit 0
hv=$(cat $d/hypervisor)

want=$(param hv)
if [ -n "$want" ]; then
	[ "$hv" = "$want" ] && pass "hypervisor is $want" ||
		fail "hypervisor is $want" "sysfs says '$hv'"
else
	skip "hypervisor matches the scenario" "no pvgtest.hv given"
fi

# Every printable signature the CPU shows is listed, with base and max leaf,
# and nothing else is.
# Compare whole lines without the name: a signature may contain spaces.
sed 's/ [^ ]*$//' $d/signatures >/tmp/listed
pvg-cpuid --scan | grep ' printable$' | sed 's/ printable$//' >/tmp/oracle
if cmp -s /tmp/oracle /tmp/listed; then
	pass "signatures match CPUID ($(wc -l </tmp/listed) found)"
else
	fail "signatures match CPUID" "cpuid: $(cat /tmp/oracle | tr '\n' ';')" \
		"sysfs: $(cat /tmp/listed | tr '\n' ';')"
fi

for s in $(param sigs | tr ',' ' '); do
	base=${s%%:*}
	name=${s#*:}
	if grep -q "^$base .* $name\$" $d/signatures; then
		pass "signature $name at $base"
	else
		fail "signature $name at $base" "$(cat $d/signatures | tr '\n' ';')"
	fi
done

# Features: the KVM leaf decoded by name, checked bit by bit against CPUID.
if [ "$hv" = kvm ]; then
	base=$(grep ' kvm$' $d/signatures | tail -1 | cut -d' ' -f1)
	eax=$(pvg-cpuid $((base + 1)) | cut -d' ' -f1)
	edx=$(pvg-cpuid $((base + 1)) | cut -d' ' -f4)
	bits=0
	for i in $(seq 0 31); do
		[ $(((eax >> i) & 1)) -eq 1 ] && bits=$((bits + 1))
		[ $(((edx >> i) & 1)) -eq 1 ] && bits=$((bits + 1))
	done
	n=$(grep -c . $d/features)
	[ "$n" -eq "$bits" ] && pass "one feature line per CPUID bit ($bits)" ||
		fail "one feature line per CPUID bit" "cpuid eax=$eax edx=$edx has $bits bits, sysfs lists $n"
else
	n=$(grep -c . $d/features)
	[ "$n" -eq 0 ] && pass "no features decoded for $hv" ||
		fail "no features decoded for $hv" "$(cat $d/features | tr '\n' ' ')"
fi
for f in $(param feat | tr ',' ' '); do
	grep -qx "$f" $d/features && pass "feature $f reported" ||
		fail "feature $f reported" "features: $(cat $d/features | tr '\n' ' ')"
done
for f in $(param nofeat | tr ',' ' '); do
	grep -qx "$f" $d/features && fail "feature $f not reported" \
		"features: $(cat $d/features | tr '\n' ' ')" || pass "feature $f not reported"
done

# One boot line sums it up, and it agrees with the stock kernel's pick.
line=$(dmesg | grep 'pvguest: hypervisor ' | head -1)
case "$line" in
*"pvguest: hypervisor $hv "*|*"pvguest: hypervisor $hv;"*) pass "boot log names $hv" ;;
*) fail "boot log names $hv" "log: $line" ;;
esac
case $hv in
kvm) stock=KVM ;;
hyperv) stock="Microsoft Hyper-V" ;;
xen) stock="Xen HVM" ;;
vmware) stock=VMware ;;
acrn) stock=ACRN ;;
jailhouse) stock=Jailhouse ;;
*) stock= ;;
esac
# nopv: the stock kernel skips its guest support and names no hypervisor.
grep -qw nopv /proc/cmdline && stock=
got=$(dmesg | sed -n 's/.*Hypervisor detected: //p' | head -1)
[ "$got" = "$stock" ] && pass "stock kernel agrees ('${got:-no stock guest support}')" ||
	fail "stock kernel agrees" "stock says '$got', pvguest says '$hv'"

# The report is read-only: a write is refused, and the value is unchanged.
if echo kvm 2>/dev/null >$d/hypervisor; then
	fail "writing $d/hypervisor is refused"
else
	[ "$(cat $d/hypervisor)" = "$hv" ] && pass "writing $d/hypervisor is refused" ||
		fail "writing $d/hypervisor is refused" "value changed"
fi
