#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# pvguest benchmarks, run by /init for pvgtest.mode=bench (scripts/bench.py
# boots the same kernel as pvguest, stock and nopv and compares).  Each
# suite runs once to warm up, then pvgtest.runs times; each measured run
# prints "BENCH <suite> <metric> <value>" on stdout, each failure
# "BENCH error <suite>: <what>", and the last line is "BENCH done".
# Exit status 0 when every run worked and checked its own results.
#
#   ipi       ns_per_op     smp_call_function() to all other CPUs (pvg_bench.ko)
#   ipi_many  ns_per_op     smp_call_function_many() on a strict subset
#   tlb       rounds_per_s  pvg-ipistorm: mprotect/munmap shootdowns, membarrier
#   lock      ops_per_s     one kthread per CPU on one spinlock (pvg_bench.ko)
#   balloon   balloon.sh: inflate/deflate times and RSS returned, through
#             the host agent (scripts/bench-balloon.py; not in the default)
#   block     block.sh: fio on two virtio-blk disks with the driver of
#             pvgtest.blkbench (scripts/bench-block.py; not in the default)
#
# Kernel parameters:
#   pvgtest.runs=N          measured runs of each suite (default 5)
#   pvgtest.suites=a,b      a subset of the suites (default all)
#   pvgtest.ipi_rounds=N    IPI rounds a run (default 200: long IPI storms
#                           without PV IPIs can reset the nested L2)
#   pvgtest.tlb_rounds=N    pvg-ipistorm rounds a run (default 40: long IPI
#                           storms can wedge a nested L1 under TCG)
#   pvgtest.lock_ms=N       milliseconds a lock run (default 1000)
. /tests/lib/ktap.sh

runs=$(param runs)
runs=${runs:-5}
suites=$(param suites | tr ',' ' ')
suites=${suites:-ipi ipi_many tlb lock}
ipi_rounds=$(param ipi_rounds)
tlb_rounds=$(param tlb_rounds)
lock_ms=$(param lock_ms)
d=$PVG_BENCH
cnt=/sys/kernel/debug/pvguest/counters
errors=0

error() {
	echo "BENCH error $*"
	echo "pvg-bench: error: $*" >&2
	errors=$((errors + 1))
}

# kbench SUITE ARG: one run of a pvg_bench.ko benchmark; sets $line.
kbench() {
	line=
	if ! { echo "$2" >"$d/$1"; } 2>/tmp/bench-err; then
		error "$1: writing $2 to $d/$1 failed: $(cat /tmp/bench-err)" \
			"$(cat "$d/$1" 2>/dev/null)"
		return 1
	fi
	line=$(cat "$d/$1")
}

# measure SUITE: one run; sets $metric and $value.
measure() {
	case $1 in
	ipi | ipi_many)
		metric=ns_per_op
		kbench "$1" "${ipi_rounds:-200}" || return 1
		;;
	lock)
		metric=ops_per_s
		kbench lock "${lock_ms:-1000}" || return 1
		;;
	tlb)
		metric=rounds_per_s
		if ! line=$(pvg-ipistorm "${tlb_rounds:-40}" 2>&1); then
			error "tlb: pvg-ipistorm failed: $(echo "$line" | tail -3 | tr '\n' ' ')"
			return 1
		fi
		;;
	*)
		error "$1: unknown suite"
		return 1
		;;
	esac
	value=$(field "$metric" "$line")
	e=$(field errors "$line")
	if [ -z "$value" ] || [ "${e:-0}" != 0 ]; then
		error "$1: $line"
		return 1
	fi
	echo "pvg-bench: $line" >&2
}

echo "BENCH info cpus $(grep -c ^processor /proc/cpuinfo)"
echo "BENCH info hypervisor $(cat /sys/kernel/pvguest/hypervisor 2>/dev/null || echo unknown)"
echo "BENCH info cmdline $(cat /proc/cmdline)"
# Only the suites that use pvg_bench.ko need it loaded.
case " $suites " in
*" ipi "* | *" ipi_many "* | *" lock "*)
	if ! bench_module 2>/tmp/bench-err; then
		error "module: insmod /lib/pvg_bench.ko failed: $(cat /tmp/bench-err)"
	fi
	;;
esac

for s in $suites; do
	case $s in
	balloon | block)
		sh /tests/bench/$s.sh || errors=$((errors + 1))
		continue
		;;
	esac
	echo "pvg-bench: $s: warm-up and $runs runs" >&2
	measure "$s" || continue
	cat $cnt >/tmp/cnt.before 2>/dev/null
	i=0
	while [ $i -lt "$runs" ]; do
		i=$((i + 1))
		measure "$s" || break
		echo "BENCH $s $metric $value"
	done
	# What the measured runs made the paravirtual operations do.  The IPI
	# counters are pvguest's sender's (0 under stock and nopv); the others
	# are counted in the stock KVM guest code, under pvguest and stock.
	if [ -r $cnt ]; then
		line=
		for c in ipi_calls ipi_hypercalls tlb_flush_skipped yields spin_kicks spin_waits; do
			line="$line $c=$(($(counter $c $cnt) - $(counter $c /tmp/cnt.before)))"
		done
		echo "BENCH info counters $s$line"
	fi
done
echo "BENCH done"
[ $errors -eq 0 ]
