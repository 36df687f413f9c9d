# SPDX-License-Identifier: GPL-2.0
# Helpers for the in-guest test scripts (busybox sh): KTAP results, kernel
# parameters, and reading what pvguest and pvg_bench.ko report.  A test
# script prints result lines "ok N desc" / "not ok N desc"; the init script
# wraps them into a subtest with its plan.

ktap_n=0

# pass DESC / fail DESC [DIAGNOSTIC...] / skip DESC REASON
pass() { ktap_n=$((ktap_n + 1)); echo "ok $ktap_n $1"; }
fail() {
	local diag
	ktap_n=$((ktap_n + 1))
	echo "not ok $ktap_n $1"
	shift
	# Not "d" or any other name a test may use: this runs in its shell.
	for diag in "$@"; do echo "# $diag"; done
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

# param NAME: value of pvgtest.NAME= on the kernel command line, or empty;
# after a reboot step, on the command line hop_resume (lib/hop.sh) made.
param() {
	for w in $(cat "${PVGTEST_CMDLINE:-/proc/cmdline}"); do
		case "$w" in "pvgtest.$1="*) echo "${w#*=}"; return ;; esac
	done
}

# field NAME LINE: the value of NAME=VALUE in a line of such pairs.
field() { echo "$2" | tr ' ,' '\n\n' | sed -n "s/^$1=//p"; }

# counter NAME FILE: the value of NAME in a file of "NAME VALUE" lines (a
# copy of pvguest's debugfs counters, /proc/vmstat, a driver's stats).
counter() { awk -v c="$1" '$1 == c { print $2 }' "$2"; }
# mem KEY: a /proc/meminfo value in KiB.  vmev NAME: a /proc/vmstat value.
mem() { counter "$1:" /proc/meminfo; }
vmev() { counter "$1" /proc/vmstat; }

# PV_AREAS: OP:MSR of each KVM shared-memory area a CPU registers with the
# host (kvmclock, steal time, PV EOI), under the operation names of
# /sys/kernel/pvguest/ops.
PV_AREAS="clock:0x4b564d01 steal:0x4b564d03 eoi:0x4b564d04"

# bench_module: load pvg_bench.ko (tests/modules/) unless it is loaded.
PVG_BENCH=/sys/kernel/debug/pvg_bench
bench_module() { [ -d $PVG_BENCH ] || insmod /lib/pvg_bench.ko; }

# host CMD ARG...: ask the host agent (scripts/hostagent.py) to act, e.g.
# "host balloon-timed 536870912 60".  Sets $reply to the reply without its
# "ok"/"err" and returns 0 for ok, 1 for err, 2 when there is no agent (the
# scenario did not ask for one: no pvgtest.hostagent=) or it did not answer
# in time.  Requests carry a tag (#N) so a late reply to an earlier request
# that timed out is never taken for this one's; a timeout's message shows
# the other lines that came meanwhile.  Requests that do not wait on the
# guest get $host_timeout seconds (default 30).
host() {
	local tty t tag end left line others=
	reply=
	tty=$(param hostagent)
	if [ -z "$tty" ]; then
		reply="no host agent (the scenario has no NAME.host asking for one)"
		return 2
	fi
	if [ -z "$pvg_host_fd" ]; then
		stty -F /dev/$tty raw -echo 2>/dev/null
		if ! exec 7<>/dev/$tty; then
			reply="cannot open /dev/$tty"
			return 2
		fi
		pvg_host_fd=7
	fi
	# Waits get their own time on top of the host's round trip.
	case $1 in
	wait-balloon | balloon-timed | wait-rss-below | device-del) t=$((${3:-0} + 20)) ;;
	balloon-storm) t=$((${4:-0} * ${5:-0} / 1000 + 20)) ;;
	*) t=${host_timeout:-30} ;;
	esac
	# The tag survives subshells ($(...)): it lives in a file.
	tag=$(($(cat /tmp/.host-tag 2>/dev/null || echo 0) + 1))
	echo $tag >/tmp/.host-tag
	echo "#$tag $*" >&7
	end=$(($(cut -d. -f1 /proc/uptime) + t))
	while :; do
		left=$((end - $(cut -d. -f1 /proc/uptime)))
		if [ $left -le 0 ] || ! read -r -t $left line <&7; then
			reply="no reply from the host agent in $t s to: $*${others:+ (other lines meanwhile: $others)}"
			return 2
		fi
		line=$(echo "$line" | tr -d '\r')
		case "$line" in
		"#$tag ok") reply=; return 0 ;;
		"#$tag ok "*) reply=${line#"#$tag ok "}; return 0 ;;
		"#$tag err"*) reply=${line#"#$tag err"}; reply=${reply# }; return 1 ;;
		*) others="$others${others:+ | }$line" ;;
		esac
	done
}

# host_ok: the host agent is there and answers (for a clean skip if not).
host_ok() { host ping && [ "$reply" = pong ]; }

# virtio_use DRIVER ID WHAT: load DRIVER (modprobe, unless it is built in
# or loaded) and bind every virtio device of device ID (0x0002 block,
# 0x0005 balloon; WHAT names it in messages) to it, taking each from
# another driver if need be.  Sets $virtio_devs (virtioN ...) and $reply;
# returns 0, 1 on a failure, 2 when the kernel has no DRIVER at all
# (neither in modules.dep nor built in).
virtio_use() {
	local d dev cur taken= vd=/sys/bus/virtio/devices dd=/sys/bus/virtio/drivers
	local mods=/lib/modules/$(uname -r)
	virtio_devs=
	for d in $vd/virtio*; do
		[ "$(cat "$d/device" 2>/dev/null)" = "$2" ] && virtio_devs="$virtio_devs ${d##*/}"
	done
	virtio_devs=${virtio_devs# }
	if [ -z "$virtio_devs" ]; then
		reply="no $3 device (virtio devices: $(ls $vd | tr '\n' ' '))"
		return 1
	fi
	if [ ! -d $dd/$1 ]; then
		if ! grep -qE "(^|/)$1\.ko" $mods/modules.dep $mods/modules.builtin 2>/dev/null; then
			reply="this kernel has no $1 (not in modules.dep nor modules.builtin)"
			return 2
		fi
		if ! reply=$(modprobe "$1" 2>&1) || [ ! -d $dd/$1 ]; then
			reply="modprobe $1 failed: $reply"
			return 1
		fi
	fi
	for dev in $virtio_devs; do
		cur=$(basename "$(readlink $vd/$dev/driver 2>/dev/null)")
		[ "$cur" = "$1" ] && continue
		[ -n "$cur" ] && echo "$dev" >$dd/$cur/unbind && taken="$taken $cur"
		echo "$dev" >$dd/$1/bind 2>/dev/null
		cur=$(basename "$(readlink $vd/$dev/driver 2>/dev/null)")
		if [ "$cur" != "$1" ]; then
			reply="binding $dev to $1 failed: bound to '$cur'; $(dmesg | tail -3 | tr '\n' ' ')"
			return 1
		fi
	done
	reply="$virtio_devs bound to $1${taken:+ (taken from$taken)}"
}

# balloon_use DRIVER: virtio_use for the virtio-balloon device (virtio_balloon
# or pvballoon); sets $balloon_dev (virtioN) too.
balloon_use() {
	balloon_dev=
	virtio_use "$1" 0x0005 virtio-balloon || return
	balloon_dev=${virtio_devs%% *}
}

# balloon_actual: query-balloon's guest RAM size in bytes (the host agent's
# "actual"); nothing, and the reason on stderr, when the agent fails.
balloon_actual() {
	host query-balloon || { echo "query-balloon: $reply" >&2; return 1; }
	field actual "$reply"
}

# populate: touch all free memory but 24 MiB and free it again, so that the
# host has populated every page a balloon may take.  Two passes: pages just
# freed can sit on per-CPU lists that MemAvailable does not count, and the
# first pass's allocations use them up.  Returns pvg-memtouch's failure.
populate() {
	local avail n pid i rc=0
	avail() { echo $(($(mem MemAvailable) / 1024 - 24)); }
	memtouch_bg -q -p -w "$(avail)"
	n=$(avail)
	[ $n -gt 0 ] && { pvg-memtouch -q -p $n || rc=1; }
	kill -USR1 $pid 2>/dev/null
	wait $pid || { rc=1; cat /tmp/memtouch.out >&2; }
	return $rc
}

# memtouch_bg ARGS...: start pvg-memtouch ARGS in the background (output in
# /tmp/memtouch.out) and wait up to 2 minutes until it has its memory.
# Sets pid; returns 0 once it is ready, 1 if it died or never got there.
memtouch_bg() {
	rm -f /tmp/ready
	pvg-memtouch -r /tmp/ready "$@" >/tmp/memtouch.out 2>&1 &
	pid=$!
	i=0
	while [ ! -e /tmp/ready ] && kill -0 $pid 2>/dev/null && [ $i -lt 600 ]; do
		sleep 0.2
		i=$((i + 1))
	done
	[ -e /tmp/ready ]
}

# disk_by_serial SERIAL: the name of the disk (vda, pvdb, ...) whose
# /sys/block/NAME/serial is SERIAL (virtio-blk's serial= property), waiting
# up to 10 s for it to appear; nothing and status 1 when there is none.
# Disks are found by serial because probe order is not device order.
disk_by_serial() {
	local d i=0
	while [ $i -lt 50 ]; do
		for d in /sys/block/*; do
			[ "$(cat "$d/serial" 2>/dev/null)" = "$1" ] && echo "${d##*/}" && return 0
		done
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}
