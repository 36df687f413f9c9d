#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Balloon benchmark, run by run.sh for the suite "balloon"
# (scripts/bench-balloon.py boots the same kernel once per driver and asks
# the host agent to act).  The guest loads and binds the driver under test,
# then, after a warm-up run, pvgtest.runs times:
#   touch and verify all free memory but 24 MiB (populate), free it,
#   so the host has populated every page the balloon may take: with only
#   the 1 GiB it inflates touched, the RSS it returns depends on which free
#   pages the driver happens to pick (stock: 0.92 of a byte per byte in the
#   first run, 0.09 in later ones), not on whether it discards them;
#   inflate by pvgtest.balloon_mib (balloon-timed to RAM - MiB): host ms
#   from the QMP balloon command to query-balloon showing the target;
#   read QEMU's RSS before and after: bytes returned per inflated byte;
#   deflate back (balloon-timed to RAM): host milliseconds.
# Output, per measured run:
#   BENCH balloon_inflate ms N
#   BENCH balloon_deflate ms N
#   BENCH balloon_rss bytes_per_byte X
# and "BENCH error balloon: ..." for anything that did not work.
#
# Kernel parameters:
#   pvgtest.balloon=DRIVER    virtio_balloon or pvballoon
#   pvgtest.runs=N            measured runs (default 5)
#   pvgtest.balloon_mib=N     MiB inflated (default 1024)
. /tests/lib/ktap.sh

MiB=1048576
runs=$(param runs)
runs=${runs:-5}
mib=$(param balloon_mib)
mib=${mib:-1024}
drv=$(param balloon)
errors=0

error() {
	echo "BENCH error balloon: $*"
	echo "pvg-bench: error: balloon: $*" >&2
	errors=$((errors + 1))
}

if [ -z "$drv" ]; then
	error "no driver named (pvgtest.balloon=)"
	exit 1
fi
if ! host_ok; then
	error "host agent: $reply"
	exit 1
fi
if ! balloon_use "$drv"; then
	error "$reply"
	exit 1
fi
echo "BENCH info balloon $reply"
host query-balloon && ram=$(field actual "$reply")
if [ -z "$ram" ] || [ "$ram" -le $((mib * MiB)) ]; then
	error "query-balloon: guest RAM '$ram' is not more than $mib MiB: $reply"
	exit 1
fi
target=$((ram - mib * MiB))

# one: a run; sets $inflate_ms, $deflate_ms and $rss_per_byte.
one() {
	if ! out=$(populate 2>&1); then
		error "populating free memory (pvg-memtouch): $out"
		return 1
	fi
	host rss && r0=$(field kib "$reply") || { error "rss: $reply"; return 1; }
	if ! host balloon-timed $target 120; then
		error "inflating to $target: $reply"
		return 1
	fi
	inflate_ms=$(field ms "$reply")
	inflated=$((ram - $(field actual "$reply")))
	host rss && r1=$(field kib "$reply") || { error "rss: $reply"; return 1; }
	if ! host balloon-timed "$ram" 120; then
		error "deflating to $ram: $reply"
		return 1
	fi
	deflate_ms=$(field ms "$reply")
	rss_per_byte=$(awk -v d=$((r0 - r1)) -v b=$inflated 'BEGIN { printf "%.4f", d * 1024 / b }')
	echo "pvg-bench: balloon: inflate $inflate_ms ms, deflate $deflate_ms ms," \
		"RSS $r0 -> $r1 KiB for $((inflated / MiB)) MiB" >&2
}

echo "pvg-bench: balloon: $drv, warm-up and $runs runs of $mib MiB" >&2
one || exit 1
i=0
while [ $i -lt "$runs" ]; do
	i=$((i + 1))
	one || break
	echo "BENCH balloon_inflate ms $inflate_ms"
	echo "BENCH balloon_deflate ms $deflate_ms"
	echo "BENCH balloon_rss bytes_per_byte $rss_per_byte"
done
[ $errors -eq 0 ]
