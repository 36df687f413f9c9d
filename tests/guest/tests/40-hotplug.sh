#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# CPU hotplug and an overcommitted lock workload under the paravirtual
# operations.  Runs when the scenario asks for it:
#   pvgtest.hotplug=CPU    take CPU offline and back online; every online
#                          CPU must answer call-function IPIs before, while
#                          and after (pvg_bench.ko checks each CPU ran)
#   pvgtest.lock_ms=N      one kthread per CPU on one spinlock for N ms; the
#                          lock count must add up, and with PV spinlocks on
#                          (pvgtest.lockmoves=spin_kicks,...) those counters
#                          must grow
. /tests/lib/ktap.sh

cpu=$(param hotplug)
lock_ms=$(param lock_ms)
if [ -z "$cpu" ] && [ -z "$lock_ms" ]; then
	skip "hotplug and lock workload" "not asked for by this scenario"
	exit 0
fi
d=$PVG_BENCH
c=/sys/kernel/debug/pvguest/counters
[ -d $d ] || check "pvg_bench.ko loads" bench_module
[ -d $d ] || exit 0

# ipi WHEN: 200 call-function rounds to every other online CPU, each of
# which pvg_bench.ko checks ran the function every round.
ipi() {
	if echo 200 >$d/ipi 2>/tmp/err; then
		r=$(cat $d/ipi)
		[ "$(field cpus "$r")" -eq "$(nproc)" ] &&
			pass "every other online CPU answered IPIs $1 ($r)" ||
			fail "every other online CPU answered IPIs $1" "$r"
	else
		fail "every other online CPU answered IPIs $1" "$(cat /tmp/err) $(cat $d/ipi)"
	fi
}

if [ -n "$cpu" ]; then
	o=/sys/devices/system/cpu/cpu$cpu/online
	ipi "before hotplug"
	echo 0 >$o && [ "$(cat $o)" = 0 ] && pass "cpu$cpu went offline" ||
		fail "cpu$cpu went offline" "online: $(cat /sys/devices/system/cpu/online)"
	ipi "with cpu$cpu offline"
	echo 1 >$o && [ "$(cat $o)" = 1 ] && pass "cpu$cpu came back online" ||
		fail "cpu$cpu came back online" "online: $(cat /sys/devices/system/cpu/online)"
	ipi "with cpu$cpu back"
fi

if [ -n "$lock_ms" ]; then
	cp $c /tmp/lock-before
	if echo "$lock_ms" >$d/lock 2>/tmp/err; then
		pass "lock workload counted every acquisition ($(cat $d/lock))"
	else
		fail "lock workload counted every acquisition" "$(cat /tmp/err) $(cat $d/lock)"
	fi
	for n in $(param lockmoves | tr ',' ' '); do
		b=$(counter "$n" /tmp/lock-before)
		a=$(counter "$n" $c)
		[ $((a - b)) -gt 0 ] && pass "$n grew under lock contention by $((a - b))" ||
			fail "$n grew under lock contention" "delta $((a - b))"
	done
fi
