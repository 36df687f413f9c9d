# SPDX-License-Identifier: GPL-2.0
# Helpers for the in-guest test scripts (busybox sh): KTAP results, kernel
# parameters, and reading what pvguest and pvg_bench.ko report.  A test
# script prints result lines "ok N desc" / "not ok N desc"; the init script
# wraps them into a subtest with its plan.

ktap_n=0

# pass DESC / fail DESC [DIAGNOSTIC...] / skip DESC REASON
pass() { ktap_n=$((ktap_n + 1)); echo "ok $ktap_n $1"; }
fail() {
	ktap_n=$((ktap_n + 1))
	echo "not ok $ktap_n $1"
	shift
	for d in "$@"; do echo "# $d"; done
}
skip() { ktap_n=$((ktap_n + 1)); echo "ok $ktap_n $1 # SKIP $2"; }

# check DESC COMMAND...: one result from a command's exit status.
check() {
	desc=$1
	shift
	if out=$("$@" 2>&1); then
		pass "$desc"
	else
		fail "$desc" "command: $*" "$(echo "$out" | tail -5)"
	fi
}

# param NAME: value of pvgtest.NAME= on the kernel command line, or empty.
param() {
	for w in $(cat /proc/cmdline); do
		case "$w" in "pvgtest.$1="*) echo "${w#*=}"; return ;; esac
	done
}

# field NAME LINE: the value of NAME=VALUE in a line of such pairs.
field() { echo "$2" | tr ' ,' '\n\n' | sed -n "s/^$1=//p"; }

# counter NAME FILE: one counter from a copy of pvguest's debugfs counters.
counter() { awk -v c="$1" '$1 == c { print $2 }' "$2"; }

# bench_module: load pvg_bench.ko (tests/modules/) unless it is loaded.
PVG_BENCH=/sys/kernel/debug/pvg_bench
bench_module() { [ -d $PVG_BENCH ] || insmod /lib/pvg_bench.ko; }
