#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Counters of the paravirtual operations, read from debugfs around an IPI-
# and flush-heavy workload (pvg-ipistorm, which checks its own results).
#   pvgtest.moves=C1,C2    counters that must grow under the workload
#   pvgtest.still=C1,C2    counters that must not grow ("all" for every one)
#   pvgtest.rounds=N       workload rounds (default 60: under nested KVM on
#                          TCG, long IPI storms can wedge the emulated L1)
. /tests/lib/ktap.sh

f=/sys/kernel/debug/pvguest/counters
check "$f exists and is readable" cat $f
[ -r $f ] || exit 0
n=$(grep -c . $f)
[ "$n" -eq 7 ] && pass "seven counters" || fail "seven counters" "$(cat $f | tr '\n' ';')"

cp $f /tmp/before
rounds=$(param rounds)
if out=$(pvg-ipistorm "${rounds:-60}" 2>&1); then
	pass "workload verified its own results ($out)"
else
	fail "workload verified its own results" "$out"
fi
cp $f /tmp/after
delta() {
	b=$(awk -v c="$1" '$1 == c { print $2 }' /tmp/before)
	a=$(awk -v c="$1" '$1 == c { print $2 }' /tmp/after)
	echo $((a - b))
}
echo "# counters after the workload: $(cat /tmp/after | tr '\n' ' ')"

for c in $(param moves | tr ',' ' '); do
	d=$(delta "$c")
	[ "$d" -gt 0 ] && pass "$c grew by $d" || fail "$c grew" "delta $d"
done
still=$(param still)
[ "$still" = all ] && still=$(cut -d' ' -f1 /tmp/after | tr '\n' ',')
for c in $(echo "$still" | tr ',' ' '); do
	d=$(delta "$c")
	[ "$d" -eq 0 ] && pass "$c stayed at its value" || fail "$c stayed at its value" "delta $d"
done
# No KVM_HC_SEND_IPI hypercall may fail, whatever the scenario.
d=$(delta ipi_errors)
[ "$d" -eq 0 ] && pass "no failed PV IPI hypercall" || fail "no failed PV IPI hypercall" "delta $d"
