#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# virtio-balloon: the driver under test against a real QEMU, which the
# test drives through the host agent (scripts/hostagent.py, "host" in
# ktap.sh): QMP balloon targets, query-balloon, guest stats, and the QEMU
# process's RSS.  Runs when the scenario asks for it:
#   pvgtest.balloon=DRIVER   pvballoon or virtio_balloon: load it (modprobe,
#                            unless built in) and bind the balloon device to
#                            it, taking it from another driver if needed
# The scenario's balloon device must be id=balloon0 with deflate-on-oom and
# free-page-reporting on.  Generic checks (host RSS, query-balloon, the
# guest's memory, pvg-memtouch) run for both drivers; pvballoon's own
# interfaces (sysfs target_bytes/size_bytes, debugfs stats) only for it.
. /tests/lib/ktap.sh

drv=$(param balloon)
if [ -z "$drv" ]; then
	skip "balloon" "not asked for by this scenario (pvgtest.balloon=)"
	exit 0
fi
MiB=1048576
D=/sys/bus/virtio/drivers

# ooms: kernel reports of an OOM kill so far.
ooms() { dmesg | grep -cE 'Out of memory|oom-kill|Killed process'; }
# timed DESC BYTES: set the target and wait until QEMU reports it reached.
timed() {
	if host balloon-timed "$2" 90; then
		pass "$1 in $(field ms "$reply") ms (host time)"
	else
		fail "$1" "$reply" "$(pvg_state)"
		return 1
	fi
}
mib() { echo $(($1 / MiB)); }

if ! host_ok; then
	fail "host agent answers" "$reply"
	exit 0
fi
pass "host agent answers"

# The balloon device and its driver.
balloon_use "$drv"
case $? in
0) pass "$reply" ;;
2)
	fail "$drv is in this kernel" "$reply"
	exit 0
	;;
*)
	fail "$drv drives the balloon device" "$reply"
	exit 0
	;;
esac
dev=$balloon_dev
bound() { basename "$(readlink "/sys/bus/virtio/devices/$dev/driver" 2>/dev/null)"; }
echo "# features $(cat /sys/bus/virtio/devices/$dev/features)"

# pvballoon's own interfaces: sysfs and debugfs statistics.
pv=
[ "$drv" = pvballoon ] && pv=1
sysd=$D/$drv/$dev/pvballoon
stats=/sys/kernel/debug/pvballoon/$dev/stats
pvsys() { cat "$sysd/$1" 2>/dev/null; }
pvstat() { counter "$1" $stats 2>/dev/null; }
pvg_state() {
	[ -n "$pv" ] || return 0
	echo "pvballoon: target_bytes=$(pvsys target_bytes) size_bytes=$(pvsys size_bytes)" \
		"stats: $(tr '\n' ' ' <$stats 2>/dev/null)"
}
# pvcheck DESC CONDITION...: a pvballoon-only result (none for stock).
pvcheck() {
	[ -n "$pv" ] || return 0
	desc=$1
	shift
	if [ ! -r $stats ] || [ ! -r $sysd/size_bytes ]; then
		fail "pvballoon: $desc" "pvballoon shows no $stats or $sysd"
	elif eval "$*"; then
		pass "pvballoon: $desc"
	else
		fail "pvballoon: $desc" "failed: $*" "$(pvg_state)"
	fi
}

ram=$(balloon_actual)
if [ -z "$ram" ] || [ "$ram" -lt $((768 * MiB)) ]; then
	fail "query-balloon shows the guest's RAM" "actual=$ram"
	exit 0
fi
pass "query-balloon shows $(mib "$ram") MiB: nothing inflated"
pvcheck "nothing held at start" '[ "$(pvsys size_bytes)" = 0 ]'
half=$((ram / 2))

# 1. Inflate to half the RAM.  First touch nearly all free memory so that
# the host has populated the guest's RAM; the RSS is read right after the
# free, before free page reporting (2 s delay) can give any of it back.
check "pvg-memtouch populates all free memory but 24 MiB" populate
host rss && r0=$(field kib "$reply")
if timed "inflated to $(mib $half) MiB" $half; then
	host rss && r1=$(field kib "$reply")
	got=$(balloon_actual)
	inflated=$(((ram - got) / 1024))
	drop=$((r0 - r1))
	[ $((drop * 100)) -ge $((inflated * 95)) ] &&
		pass "host RSS fell by $((drop / 1024)) MiB, at least 95% of the $((inflated / 1024)) MiB inflated" ||
		fail "host RSS fell by at least 95% of the inflated memory" \
			"RSS $r0 -> $r1 KiB: -$drop KiB for $inflated KiB inflated"
	pvcheck "size_bytes and target_bytes are $(((ram - half) / MiB)) MiB" \
		'[ "$(pvsys size_bytes)" = $((ram - half)) ] && [ "$(pvsys target_bytes)" = $((ram - half)) ]'
	pvcheck "stats size_pages matches size_bytes" \
		'[ $(($(pvstat size_pages) * 4096)) = "$(pvsys size_bytes)" ]'
fi

# 2. Guest stats through QMP against /proc/meminfo.  The driver samples the
# same counters (si_meminfo, si_mem_available) when the host polls, up to a
# second before the reply; per-CPU page lists being drained and the test
# shell's own forks move free memory by a few MiB in that time (6 MiB seen
# right after an inflation).  So: /proc/meminfo is read just before and just
# after the request, and each stat must lie within 16 MiB (1.6% of the
# guest) of that bracket; MemTotal changes only by ballooning, which is idle
# here: within the bracket exactly.
f0=$(mem MemFree) a0=$(mem MemAvailable) t0=$(mem MemTotal)
if host guest-stats balloon0 20; then
	st=$reply
	f1=$(mem MemFree) a1=$(mem MemAvailable) t1=$(mem MemTotal)
	echo "# guest-stats: $st"
	within() {
		v=$(($(field "$1" "$st") / 1024))
		lo=$2 hi=$3
		[ "$lo" -gt "$hi" ] && lo=$3 hi=$2
		if [ "$v" -ge $((lo - $4)) ] && [ "$v" -le $((hi + $4)) ]; then
			pass "$1 agrees with $5 ($v KiB, meminfo $2..$3 KiB)"
		else
			fail "$1 agrees with $5" "$v KiB, meminfo $2..$3 KiB, tolerance $4 KiB"
		fi
	}
	within stat-free-memory "$f0" "$f1" 16384 MemFree
	within stat-available-memory "$a0" "$a1" 16384 MemAvailable
	within stat-total-memory "$t0" "$t1" 0 MemTotal
else
	fail "guest-stats through QMP" "$reply"
fi

# 3. Deflate back: the memory is the guest's again.
if timed "deflated to $(mib "$ram") MiB" "$ram"; then
	n=$((half / MiB + 128))
	o=$(ooms)
	check "pvg-memtouch allocates, touches and verifies $n MiB" pvg-memtouch -q $n
	[ "$(ooms)" = "$o" ] && pass "no OOM kill while using the deflated memory" ||
		fail "no OOM kill while using the deflated memory" "$(dmesg | grep -E 'Killed process|oom-kill' | tail -2)"
	pvcheck "size_bytes is 0 after deflating" '[ "$(pvsys size_bytes)" = 0 ]'
fi

# 4. Deflate on OOM: with half the RAM in the balloon, a program needs
# 128 MiB more than is free.  It must get it (deflate-on-oom) and not be
# OOM-killed, and while it holds the memory the balloon must not take it
# back (no inflate/OOM loop), nor start a loop once it is freed.
if timed "inflated to $(mib $half) MiB again" $half; then
	o=$(ooms)
	n=$(($(mem MemFree) / 1024 + 128))
	if memtouch_bg -s 8 $n; then
		pass "pvg-memtouch got $n MiB, 128 MiB beyond free memory"
		a=$(balloon_actual)
		lowest=$a
		for i in 1 2 3 4 5; do
			sleep 1
			v=$(balloon_actual)
			[ -n "$v" ] && [ "$v" -lt "$lowest" ] && lowest=$v
		done
		[ "$lowest" -ge $((a - 4 * MiB)) ] &&
			pass "the balloon does not grow back while the memory is in use ($(mib "$a") MiB guest RAM)" ||
			fail "the balloon does not grow back while the memory is in use" \
				"guest RAM $(mib "$a") MiB after the OOM, down to $(mib "$lowest") MiB within 5 s"
		pvcheck "deflated on OOM (oom_ or shrinker_deflated_pages > 0)" \
			'[ $(($(pvstat oom_deflated_pages) + $(pvstat shrinker_deflated_pages))) -gt 0 ]'
		pvcheck "holdoff_active while the memory is in use" '[ "$(pvstat holdoff_active)" = 1 ]'
	else
		fail "pvg-memtouch got $n MiB, 128 MiB beyond free memory" "$(cat /tmp/memtouch.out)"
	fi
	wait $pid && pass "pvg-memtouch verified its $n MiB and exited" ||
		fail "pvg-memtouch verified its $n MiB and exited" "$(cat /tmp/memtouch.out)" \
			"$(dmesg | grep -E 'Killed process|oom-kill' | tail -2)"
	[ "$(ooms)" = "$o" ] && pass "no OOM kill with the balloon inflated" ||
		fail "no OOM kill with the balloon inflated" "$(dmesg | grep -E 'Killed process|oom-kill' | tail -2)"
	# Once freed, the balloon may go back to its target, but not back and
	# forth: at most one change of direction in 6 s.
	prev=$(balloon_actual) dir=0 turns=0 seen=$prev
	for i in 1 2 3 4 5 6; do
		sleep 1
		v=$(balloon_actual)
		[ -n "$v" ] || continue
		d=0
		[ "$v" -gt "$prev" ] && d=1
		[ "$v" -lt "$prev" ] && d=-1
		[ $d -ne 0 ] && [ $dir -ne 0 ] && [ $d -ne $dir ] && turns=$((turns + 1))
		[ $d -ne 0 ] && dir=$d
		prev=$v seen="$seen $v"
	done
	[ $turns -le 1 ] && pass "no inflate/deflate loop after the memory is freed" ||
		fail "no inflate/deflate loop after the memory is freed" "guest RAM each second: $seen"
	[ "$(ooms)" = "$o" ] || fail "no OOM kill after the memory is freed" "$(dmesg | grep -E 'Killed process|oom-kill' | tail -2)"
	timed "deflated to $(mib "$ram") MiB after the OOM" "$ram"
fi

# 5. Free page reporting: memory the guest frees goes back to the host
# without any balloon target (the scenario turns free-page-reporting on).
feat=$(cat /sys/bus/virtio/devices/$dev/features)
if [ "$(echo "$feat" | cut -c6)" != 1 ]; then
	fail "free page reporting negotiated (feature bit 5)" "features $feat"
else
	pass "free page reporting negotiated (feature bit 5)"
	rep0=$(pvstat reported_pages)
	memtouch_bg -w 512
	host rss && peak=$(field kib "$reply")
	kill -USR1 $pid 2>/dev/null
	wait $pid && pass "pvg-memtouch touched, verified and freed 512 MiB" ||
		fail "pvg-memtouch touched, verified and freed 512 MiB" "$(cat /tmp/memtouch.out)"
	want=$((peak - 512 * 1024 * 80 / 100))
	if host wait-rss-below $want 30; then
		pass "host RSS fell by 80% of the 512 MiB freed within $(field ms "$reply") ms ($peak -> $(field kib "$reply") KiB)"
	else
		fail "host RSS fell by 80% of the 512 MiB freed within 30 s" "peak $peak KiB: $reply"
	fi
	pvcheck "reported_pages grew" '[ "$(pvstat reported_pages)" -gt "${rep0:-0}" ]'
fi

# 6. Unbind, rebind and rmmod with the balloon inflated: every page comes
# back to the guest, and a new probe inflates to the host's target again.
# free_kib: free memory in KiB, MemFree plus the pages on the per-CPU free
# lists (the pageset counts of /proc/zoneinfo, in 4 KiB pages), which
# MemFree leaves out: a page the balloon gives back can wait there for
# seconds, and 6.12's lists held over 10 MiB of them in one check.
free_kib() {
	echo $(($(mem MemFree) + $(awk '/^ +count:/ { n += $2 } END { print n * 4 }' /proc/zoneinfo)))
}

# freed_back WHAT: every page is back.  Exactly, by the kernel's own balloon
# counters (/proc/vmstat balloon_inflate == balloon_deflate: both drivers
# count every 4 KiB page they take and give back); and in free memory
# (free_kib), which grew by what the balloon held, less 8 MiB of slack for
# the shell's own allocations, with MemTotal what it was before inflating.
# Up to 10 s is allowed for the pages to come back.
freed_back() {
	i=0
	while :; do
		f=$(free_kib) t=$(mem MemTotal)
		[ $((f - fb)) -ge $((held / 1024 - 8192)) ] && [ "$t" = "$tbase" ] && break
		[ $i -ge 50 ] && break
		sleep 0.2
		i=$((i + 1))
	done
	bi=$(vmev balloon_inflate) bd=$(vmev balloon_deflate)
	[ $((f - fb)) -ge $((held / 1024 - 8192)) ] && [ "$t" = "$tbase" ] &&
		[ -n "$bi" ] && [ "$bi" = "$bd" ] &&
		pass "$1: all $((held / MiB)) MiB back (balloon_inflate = balloon_deflate = $bi, free +$(((f - fb) / 1024)) MiB after $((i * 200)) ms, MemTotal $t KiB)" ||
		fail "$1: all $((held / MiB)) MiB back" "free (MemFree and per-CPU lists) $fb -> $f KiB for $held bytes held" \
			"MemTotal $t KiB, $tbase before inflating" \
			"vmstat balloon_inflate $bi, balloon_deflate $bd"
}
tbase=$(mem MemTotal)
if timed "inflated to $(mib $half) MiB before unbinding" $half; then
	held=$((ram - $(balloon_actual)))
	fb=$(free_kib)
	echo "$dev" >$D/$drv/unbind
	[ -z "$(bound)" ] && pass "unbound $dev from $drv" || fail "unbound $dev from $drv" "bound to $(bound)"
	freed_back "unbind"
	v=$(balloon_actual)
	[ "$v" = "$ram" ] && pass "query-balloon shows all $(mib "$ram") MiB after unbind" ||
		fail "query-balloon shows all $(mib "$ram") MiB after unbind" "actual=$v"
	echo "$dev" >$D/$drv/bind
	[ "$(bound)" = "$drv" ] && pass "bound $dev to $drv again" || fail "bound $dev to $drv again" "bound to '$(bound)'"
	host wait-balloon $half 90 && pass "rebound driver inflated to the target again" ||
		fail "rebound driver inflated to the target again" "$reply"
	if [ ! -e /sys/module/$drv/refcnt ]; then
		skip "rmmod $drv while inflated" "$drv is built in"
	else
		held=$((ram - $(balloon_actual)))
		fb=$(free_kib)
		check "rmmod $drv while inflated" rmmod "$drv"
		freed_back "rmmod"
		check "modprobe $drv again" modprobe "$drv"
		[ "$(bound)" = "$drv" ] || echo "$dev" >$D/$drv/bind 2>/dev/null
		[ "$(bound)" = "$drv" ] && pass "$drv bound $dev after modprobe" || fail "$drv bound $dev after modprobe" "bound to '$(bound)'"
		host wait-balloon $half 90 && pass "reloaded driver inflated to the target again" ||
			fail "reloaded driver inflated to the target again" "$reply"
	fi
	timed "deflated to $(mib "$ram") MiB after rebinding" "$ram"
fi

# 7. Hostile host: a target of 1 MiB, far more than the guest can give.
# The guest must stay usable (a verified workload, no OOM kill) and the
# balloon stop short; then targets alternating every millisecond for 2 s,
# and a last target that must be reached.
o=$(ooms)
pvc0=$(pvstat target_clamped)
if host balloon $MiB; then
	pass "host asks for a 1 MiB guest"
	sleep 5
	check "a 64 MiB workload runs and verifies under a 1 MiB target" pvg-memtouch -q 64
	sleep 1
	v=$(balloon_actual)
	[ -n "$v" ] && [ "$v" -ge $((32 * MiB)) ] &&
		pass "the balloon stopped short: the guest kept $(mib "$v") MiB" ||
		fail "the balloon stopped short" "guest RAM $v bytes"
	echo "# MemFree $(mem MemFree) kB MemAvailable $(mem MemAvailable) kB with a 1 MiB target"
	pvcheck "target_clamped counted the impossible target" \
		'[ "$(pvstat target_clamped)" -gt "${pvc0:-0}" ]'
	[ "$(ooms)" = "$o" ] && pass "no OOM kill under a 1 MiB target" ||
		fail "no OOM kill under a 1 MiB target" "$(dmesg | grep -E 'Killed process|oom-kill' | tail -2)"
else
	fail "host asks for a 1 MiB guest" "$reply"
fi
pvt0=$(pvstat target_changes)
if host balloon-storm $half "$ram" 1 2000; then
	pass "2000 targets alternating every 1 ms ($reply)"
	timed "a last target of $(mib $((ram * 3 / 4))) MiB reached after the storm" $((ram * 3 / 4))
	check "a 64 MiB workload runs and verifies after the storm" pvg-memtouch -q 64
	pvcheck "target_changes counted the storm" \
		'[ "$(pvstat target_changes)" -gt "${pvt0:-0}" ]'
else
	fail "2000 targets alternating every 1 ms" "$reply"
fi
[ "$(ooms)" = "$o" ] && pass "no OOM kill under the hostile host" ||
	fail "no OOM kill under the hostile host" "$(dmesg | grep -E 'Killed process|oom-kill' | tail -2)"

# A host that never acknowledges (pvballoon's fault injection: requests go
# into the ring but the host is never notified).  The resize must pause
# after ack_timeout_ms, counted and logged once, with the guest usable and
# the balloon's size unchanged; once the injection is off, the held-back
# requests reach the host and the target is reached.
inj=/sys/kernel/debug/pvballoon/$dev/inject_nokick
tmo=/sys/module/pvballoon/parameters/ack_timeout_ms
if [ -n "$pv" ] && [ -w "$inj" ] && [ -w "$tmo" ]; then
	tmo0=$(cat $tmo)
	echo 1000 >$tmo
	at0=$(pvstat ack_timeouts)
	a0=$(balloon_actual)
	echo 1000000 >$inj
	host balloon $half
	sleep 4
	check "a 64 MiB workload runs while the host does not answer" pvg-memtouch -q 64
	a1=$(balloon_actual)
	pvcheck "silent host: ack_timeouts counted ($at0 -> $(pvstat ack_timeouts))" \
		'[ "$(pvstat ack_timeouts)" -gt "$at0" ]'
	pvcheck "silent host: the size the host sees did not move ($a0 -> $a1)" \
		'[ "$a1" = "$a0" ]'
	pvcheck "silent host: logged once" \
		'[ "$(dmesg | grep -c "has not acknowledged")" = 1 ]'
	echo 0 >$inj
	if host wait-balloon $half 60; then
		pass "silent host: the target is reached once it answers"
	else
		fail "silent host: the target is reached once it answers" "$reply" "$(pvg_state)"
	fi
	echo "$tmo0" >$tmo
fi
timed "deflated to $(mib "$ram") MiB at the end" "$ram"
echo "# $(pvg_state)"
