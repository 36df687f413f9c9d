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

# host CMD ARG...: ask the host agent (scripts/hostagent.py) to act, e.g.
# "host balloon-timed 536870912 60".  Sets $reply to the reply without its
# "ok"/"err" and returns 0 for ok, 1 for err, 2 when there is no agent (the
# scenario did not ask for one: no pvgtest.hostagent=) or it did not answer
# in time.  Requests carry a tag (#N) so a late reply to an earlier request
# that timed out is never taken for this one's.
host() {
	local tty t tag end left line
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
	wait-balloon | balloon-timed | wait-rss-below) t=$((${3:-0} + 20)) ;;
	balloon-storm) t=$((${4:-0} * ${5:-0} / 1000 + 20)) ;;
	*) t=30 ;;
	esac
	# The tag survives subshells ($(...)): it lives in a file.
	tag=$(($(cat /tmp/.host-tag 2>/dev/null || echo 0) + 1))
	echo $tag >/tmp/.host-tag
	echo "#$tag $*" >&7
	end=$(($(cut -d. -f1 /proc/uptime) + t))
	while :; do
		left=$((end - $(cut -d. -f1 /proc/uptime)))
		if [ $left -le 0 ] || ! read -r -t $left line <&7; then
			reply="no reply from the host agent in $t s to: $*"
			return 2
		fi
		line=$(echo "$line" | tr -d '\r')
		case "$line" in
		"#$tag ok") reply=; return 0 ;;
		"#$tag ok "*) reply=${line#"#$tag ok "}; return 0 ;;
		"#$tag err"*) reply=${line#"#$tag err"}; reply=${reply# }; return 1 ;;
		esac
	done
}

# host_ok: the host agent is there and answers (for a clean skip if not).
host_ok() { host ping && [ "$reply" = pong ]; }
