#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Paravirtual operation switches: /sys/kernel/pvguest/ops against the
# scenario's expectations and against what the stock KVM guest code
# printed while it set the operations up.
#   pvgtest.ops=OP:IMPL,...        expected implementation per operation
#   pvgtest.opsreason=OP:WORD,...  a word the reason of OP must contain
#   pvgtest.oplog=TEXT             a boot log line that must be present
. /tests/lib/ktap.sh

f=/sys/kernel/pvguest/ops
check "$f exists and is readable" cat $f
[ -r $f ] || exit 0
n=$(grep -c . $f)
[ "$n" -eq 9 ] && pass "nine operations listed" || fail "nine operations listed" "$(cat $f | tr '\n' ';')"

impl() { awk -v op="$1" '$1 == op { print $2 }' $f; }
reason() { awk -v op="$1" '$1 == op { $1 = ""; $2 = ""; print }' $f | sed 's/^ *//'; }

for e in $(param ops | tr ',' ' '); do
	op=${e%%:*}
	want=${e#*:}
	got=$(impl "$op")
	[ "$got" = "$want" ] && pass "$op is $want" ||
		fail "$op is $want" "ops says: $(grep "^$op " $f)"
done
for e in $(param opsreason | tr ',' ' '); do
	op=${e%%:*}
	word=${e#*:}
	case "$(reason "$op")" in
	*"$word"*) pass "$op native because of '$word'" ;;
	*) fail "$op native because of '$word'" "ops says: $(grep "^$op " $f)" ;;
	esac
done

# Every native operation says why, and the boot log says the same.
bad=$(awk '($2 == "native" || $2 == "stock") && NF < 3' $f)
[ -z "$bad" ] && pass "every native operation has a reason" ||
	fail "every native operation has a reason" "$bad"
missing=
while read -r op im rest; do
	dmesg | grep -q "pvguest: $op: $im" || missing="$missing $op"
done <$f
[ -z "$missing" ] && pass "boot log has one line per operation" ||
	fail "boot log has one line per operation" "missing:$missing"

# The stock KVM guest code announces some operations; it must agree.
agree() {
	op=$1
	msg=$2
	case "$(impl "$op")" in
	native) dmesg | grep -q "$msg" && r=1 || r=0 ;;
	stock) r=0 ;;
	*) dmesg | grep -q "$msg" && r=0 || r=1 ;;
	esac
	[ $r -eq 0 ] && pass "stock code agrees on $op ('$msg')" ||
		fail "stock code agrees on $op ('$msg')" "ops: $(grep "^$op " $f)" \
			"log: $(dmesg | grep -c "$msg") matching lines"
}
if [ "$(cat /sys/kernel/pvguest/hypervisor)" = kvm ]; then
	agree ipi "setup PV IPIs"
	agree tlb "KVM setup pv remote TLB flush"
	agree yield "setup PV sched yield"
	agree spin "PV spinlocks enabled"
	agree clock "kvm-clock: Using msrs"
fi

msg=$(param oplog | tr '+' ' ')
if [ -n "$msg" ]; then
	dmesg | grep -q "$msg" && pass "boot log says '$msg'" ||
		fail "boot log says '$msg'" "$(dmesg | grep pvguest | tail -3)"
fi

# pvguest=off: the stock code's choices stand, reported as such.
if grep -q 'pvguest=off' /proc/cmdline; then
	n=$(awk '$2 != "stock"' $f | grep -c .)
	[ "$n" -eq 0 ] && pass "pvguest=off reports every operation as stock" ||
		fail "pvguest=off reports every operation as stock" "$(cat $f | tr '\n' ';')"
fi
