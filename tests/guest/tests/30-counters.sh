#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Counters of the paravirtual operations, read from debugfs around an IPI-
# and flush-heavy workload (pvg-ipistorm, which checks its own results).
#   pvgtest.moves=C1,C2    counters that must grow under the workload
#   pvgtest.still=C1,C2    counters that must not grow ("all" for every one)
#   pvgtest.rounds=N       workload rounds (default 60: under nested KVM on
#                          TCG, long IPI storms can wedge the emulated L1)
#   pvgtest.inject=N       make the host refuse N KVM_HC_SEND_IPI hypercalls
#                          (debugfs inject_ipi_errors); exactly N errors and
#                          N native fallbacks must follow, and the workload
#                          must still get every IPI
#   pvgtest.inject_short=N make N KVM_HC_SEND_IPI hypercalls name a vCPU
#                          the host does not have (debugfs inject_ipi_short);
#                          exactly N short windows and N more native
#                          fallbacks must follow
. /tests/lib/ktap.sh

f=/sys/kernel/debug/pvguest/counters
check "$f exists and is readable" cat $f
[ -r $f ] || exit 0
n=$(grep -c . $f)
[ "$n" -eq 11 ] && pass "eleven counters" || fail "eleven counters" "$(cat $f | tr '\n' ';')"

# arm FILE N WHAT: write N to a debugfs fault injection file, which must
# read it back and refuse a negative count.
arm() {
	i=/sys/kernel/debug/pvguest/$1
	echo "$2" >$i && [ "$(cat $i)" = "$2" ] && pass "armed $2 $3" ||
		fail "armed $2 $3" "$i: $(cat $i 2>&1)"
	echo -1 >$i 2>/dev/null && fail "$i refuses -1" || pass "$i refuses -1"
}

cp $f /tmp/before
inject=$(param inject)
[ -z "$inject" ] || arm inject_ipi_errors "$inject" "refused PV IPI hypercalls"
short=$(param inject_short)
[ -z "$short" ] || arm inject_ipi_short "$short" "short PV IPI windows"
rounds=$(param rounds)
if out=$(pvg-ipistorm "${rounds:-60}" 2>&1); then
	pass "workload verified its own results ($out)"
else
	fail "workload verified its own results" "$out"
fi
# smp_call_function_many() on a strict subset: one mask send per round,
# each target checked to have run the function (pvg_bench.ko).  Fewer
# rounds when IPIs are native: every one is then a trapped ICR write, and
# long native IPI storms have reset the nested L2 under TCG.
many=100
[ "$(awk '$1 == "ipi" { print $2 }' /sys/kernel/pvguest/ops)" = hypercall ] || many=30
if [ "$(nproc)" -lt 3 ]; then
	many=0
	skip "smp_call_function_many workload" "needs 3 CPUs for a strict subset"
elif bench_module 2>/dev/null; then
	m=$PVG_BENCH/ipi_many
	echo $many >$m 2>/tmp/err && pass "smp_call_function_many workload checked itself ($(cat $m))" ||
		fail "smp_call_function_many workload checked itself" "$(cat /tmp/err) $(cat $m)"
else
	fail "pvg_bench.ko loads"
fi
cp $f /tmp/after
delta() {
	b=$(counter "$1" /tmp/before)
	a=$(counter "$1" /tmp/after)
	echo $((a - b))
}
echo "# counters after the workload: $(cat /tmp/after | tr '\n' ' ')"

for c in $(param moves | tr ',' ' '); do
	d=$(delta "$c")
	[ "$d" -gt 0 ] && pass "$c grew by $d" || fail "$c grew" "delta $d"
	# Every smp_call_function_many() round is at least one PV IPI send.
	case $c in ipi_calls | ipi_hypercalls)
		[ "$d" -ge $many ] && pass "$c grew by at least the $many mask rounds" ||
			fail "$c grew by at least the $many mask rounds" "delta $d" ;;
	esac
done
still=$(param still)
[ "$still" = all ] && still=$(cut -d' ' -f1 /tmp/after | tr '\n' ',')
for c in $(echo "$still" | tr ',' ' '); do
	d=$(delta "$c")
	[ "$d" -eq 0 ] && pass "$c stayed at its value" || fail "$c stayed at its value" "delta $d"
done
# Only the injected KVM_HC_SEND_IPI failures and short windows happen,
# each one delivered natively (the workload above would hang on a lost
# IPI).
grew_by() {
	d=$(delta $1)
	[ "$d" -eq "$2" ] && pass "$1 grew by exactly $2" || fail "$1 grew by exactly $2" "delta $d"
}
grew_by ipi_errors ${inject:-0}
grew_by ipi_short ${short:-0}
grew_by ipi_fallbacks $((${inject:-0} + ${short:-0}))
if [ -n "$inject" ]; then
	d=$(delta hypercall_errors)
	[ "$d" -ge "$inject" ] && pass "hypercall_errors counted the refusals" ||
		fail "hypercall_errors counted the refusals" "delta $d"
	dmesg | grep -q 'pvguest: ipi: KVM_HC_SEND_IPI failed' &&
		pass "the first fallback was logged" ||
		fail "the first fallback was logged" "$(dmesg | tail -3)"
fi
if [ -n "$short" ]; then
	dmesg | grep -q 'pvguest: ipi: the host delivered a KVM_HC_SEND_IPI to fewer' &&
		pass "the first short window was logged" ||
		fail "the first short window was logged" "$(dmesg | tail -3)"
fi
