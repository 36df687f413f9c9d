# SPDX-License-Identifier: GPL-2.0
# The steps of the lifecycle chain (pvgtest.chain=, see /init): each
# hop_NAME STAGE takes the guest through one event the paravirtual state
# must survive.  A step that fails says why on stdout and returns 1;
# hop_reboot, hop_kexec and hop_crash do not return when they work: the
# next kernel's init carries on at pvgtest.stage=STAGE.
#   suspend  suspend to RAM with pm_test=core: devices, non-boot CPUs and
#            the syscore steps (where the KVM guest code parks its shared
#            areas) go down and come back, without the final sleep
#   sleep    suspend to RAM for real (ACPI S3): the machine sleeps until
#            the RTC alarm wakes it SLEEP_S seconds later, and the CPUs
#            come back from a reset, through the firmware's resume path
#   reboot   reboot(2) through the kernel's restart path, which takes the
#            paravirtual state down on every CPU, and a reset of the
#            machine (QEMU with -action reboot=reset); the same command
#            line boots again, and learns its stage from pstore (below)
#   kexec    kexec_file_load() this kernel (/boot/vmlinuz, the scenario's
#            "initrd kernel" host request) and reboot into it
#   crash    load it as the crash kernel, then panic (sysrq c) on CPU 0
#   kexec-nopv, crash-nopv
#            the same into a kernel booted with nopv, which registers no
#            shared area of its own: its tests then show whether this one
#            unregistered its areas (see next_cmdline)

WAKEALARM=/sys/class/rtc/rtc0/wakealarm
# Seconds from setting the RTC alarm to its ring: between SLEEP_S - 1 and
# SLEEP_S, as the RTC counts whole seconds; the way down to S3 takes a
# fraction of one of them, and the machine sleeps the rest.
SLEEP_S=4
# The time slept before the sleep step, for 80-lifecycle.sh (asleep_ms).
ASLEEP_BEFORE=/tmp/pvgtest-asleep-ms

# asleep_ms: milliseconds this kernel has spent suspended.  CLOCK_BOOTTIME
# (/proc/uptime) counts them, CLOCK_MONOTONIC (/proc/timer_list) does not.
asleep_ms() {
	awk -v boot="$(cut -d' ' -f1 /proc/uptime)" '/^now at / {
		printf "%d\n", boot * 1000 - $3 / 1000000
		exit
	}' /proc/timer_list
}

# hop_ready HOP: whether step HOP can run in this guest; says why not on
# stdout and returns 1.
hop_ready() {
	case $1 in
	suspend)
		if [ ! -w /sys/power/pm_test ]; then
			echo "no /sys/power/pm_test (CONFIG_PM_DEBUG)"
			return 1
		fi
		if ! grep -qw mem /sys/power/state; then
			echo "no suspend to RAM: /sys/power/state offers '$(cat /sys/power/state)'"
			return 1
		fi ;;
	sleep)
		if [ ! -w $WAKEALARM ]; then
			echo "no RTC wake alarm: no $WAKEALARM (CONFIG_RTC_DRV_CMOS)"
			return 1
		fi
		if ! grep -qw deep /sys/power/mem_sleep 2>/dev/null; then
			echo "no S3: /sys/power/mem_sleep offers '$(cat /sys/power/mem_sleep 2>&1)'"
			return 1
		fi ;;
	reboot)
		if [ ! -c /dev/pmsg0 ] || [ ! -d /sys/fs/pstore ]; then
			echo "no /dev/pmsg0 or pstore: no ramoops (pvgtest adds CFreboot.boot to a chain with a reboot step)"
			return 1
		fi ;;
	kexec | crash | kexec-nopv | crash-nopv)
		if [ ! -r /boot/vmlinuz ]; then
			echo "no /boot/vmlinuz: the scenario needs 'initrd kernel' in NAME.host"
			return 1
		fi
		if [ "${1%-nopv}" = crash ] && [ "$(cat /sys/kernel/kexec_crash_size)" -eq 0 ]; then
			echo "no crash kernel area: the scenario needs crashkernel= in NAME.boot"
			return 1
		fi ;;
	*)
		echo "unknown lifecycle step '$1' (known: suspend sleep reboot kexec crash kexec-nopv crash-nopv)"
		return 1 ;;
	esac
}

# next_cmdline STAGE HOP: this kernel's command line for the next one.
# The crash kernel gets no crashkernel= of its own; a failure so far
# (init's $verdict) travels on as pvgtest.failed=1.  After a HOP-nopv step
# the next kernel boots with nopv and expects kvmclock, steal time and
# PV EOI to be native instead of this kernel's expectations: KVM resets
# those MSRs on INIT, but nothing resets the CPU that runs the kexec or
# the panic (CPU 0), so an area this kernel left registered there is
# still registered in the next one, and 25-shared.sh finds it.
next_cmdline() {
	step=${2%-nopv}
	for w in $(cat /proc/cmdline); do
		case $w in
		pvgtest.stage=* | pvgtest.failed=*) ;;
		crashkernel=*) [ "$step" = crash ] || printf '%s ' "$w" ;;
		pvguest=* | pvgtest.ops=* | pvgtest.opsreason=* | pvgtest.oplog=* | \
			pvgtest.moves=* | pvgtest.still=*)
			[ "$step" != "$2" ] || printf '%s ' "$w" ;;
		*) printf '%s ' "$w" ;;
		esac
	done
	[ "$step" = "$2" ] || printf 'nopv pvgtest.ops=steal:native,eoi:native,clock:native '
	printf 'pvgtest.stage=%s' "$1"
	[ "$verdict" = 0x10 ] || printf ' pvgtest.failed=1'
}

# next_initrd: this guest's root file system, as the next kernel's
# initramfs (/tmp/next.cpio.gz); the mounted /proc, /sys, /dev and /tmp
# stay out.
next_initrd() {
	(cd / && find . -xdev | cpio -o -H newc 2>/dev/null | gzip -1) >/tmp/next.cpio.gz ||
		{ echo "cannot pack the root file system"; return 1; }
}

hop_suspend() {
	hop_ready suspend || return 1
	echo 1 >/sys/module/suspend/parameters/pm_test_delay
	echo core >/sys/power/pm_test || return 1
	suspend_to_ram suspend
	rc=$?
	echo none >/sys/power/pm_test
	return $rc
}

# hop_sleep: suspend to RAM with nothing held back, and an RTC alarm to
# wake up from it.  The time slept so far is left in $ASLEEP_BEFORE.
hop_sleep() {
	hop_ready sleep || return 1
	if ! echo deep >/sys/power/mem_sleep; then
		echo "cannot choose S3: writing deep to /sys/power/mem_sleep failed"
		return 1
	fi
	asleep_ms >$ASLEEP_BEFORE
	if ! echo 0 >$WAKEALARM || ! echo +$SLEEP_S >$WAKEALARM; then
		echo "cannot set the RTC wake alarm ($WAKEALARM)"
		return 1
	fi
	suspend_to_ram sleep || { echo 0 >$WAKEALARM; return 1; }
}

# suspend_to_ram WHAT: write mem to /sys/power/state, for the suspend or
# the sleep step (WHAT, in messages), and check that the kernel counted it
# as a suspend that succeeded.
suspend_to_ram() {
	p=/sys/power
	n=$(cat $p/suspend_stats/success)
	if ! echo mem >$p/state; then
		echo "writing mem to $p/state failed"
		dmesg | tail -5
		return 1
	fi
	if [ "$(cat $p/suspend_stats/success)" -ne $((n + 1)) ]; then
		echo "$p/suspend_stats/success did not count the $1"
		return 1
	fi
}

# hop_run HOP STAGE: step HOP, the STAGE-th of the chain.
hop_run() {
	case $1 in
	suspend) hop_suspend ;;
	sleep) hop_sleep ;;
	reboot) hop_reboot "$2" ;;
	kexec | kexec-nopv) hop_kexec "$2" "$1" ;;
	crash | crash-nopv) hop_crash "$2" "$1" ;;
	*) hop_ready "$1" ;;
	esac
}

# hop_reboot STAGE: leave the next stage and the verdict so far in pstore's
# pmsg record, where hop_resume finds them after the reset, and reboot.
hop_reboot() {
	hop_ready reboot || return 1
	{
		printf 'pvgtest.stage=%s' "$1"
		[ "$verdict" = 0x10 ] || printf ' pvgtest.failed=1'
	} >/dev/pmsg0 || { echo "cannot write /dev/pmsg0"; return 1; }
	# In the kernel log, so in the shutdown dump the next kernel reads.
	echo "<4>pvgtest: reboot step $1" >/dev/kmsg
	reboot -f
	echo "reboot -f returned: $?"
	return 1
}

# hop_resume: run by init before anything else.  A kernel booted by a reset
# after the reboot step has the first boot's command line; the pvgtest.stage=
# and pvgtest.failed= that hop_reboot left in pstore are put in its place,
# in $PVGTEST_CMDLINE, which param() reads (lib/ktap.sh).  The record is
# erased as it is taken, so a reset later on is not taken for a step: a
# kernel that finds no stage, in a chain with a reboot step, after another
# kernel ran in this machine (pstore holds its console), was reset without
# asking, by the host (an L2 triple fault under nested KVM; see
# scripts/nested-l1.sh) or by a panic.  It says so and powers off without a
# verdict, which the host reads as a guest that stopped (and looks for the
# cause on the console and, nested, in L1's shutdown report).
hop_resume() {
	local p=/sys/fs/pstore next w
	case ",$(param chain)," in *,reboot,*) ;; *) return 0 ;; esac
	[ -z "$(param stage)" ] || return 0
	if [ -f $p/pmsg-ramoops-0 ]; then
		next=$(cat $p/pmsg-ramoops-0)
		rm -f $p/pmsg-ramoops-0
		for w in $(cat /proc/cmdline); do
			case $w in
			pvgtest.stage=* | pvgtest.failed=*) ;;
			*) printf '%s ' "$w" ;;
			esac
		done >/tmp/cmdline
		echo "$next" >>/tmp/cmdline
		export PVGTEST_CMDLINE=/tmp/cmdline
		echo "pvgtest: booted by the reboot step: $next" >/dev/console
	elif ls $p/console-ramoops* >/dev/null 2>&1; then
		echo "pvgtest: this machine was reset, but not by a reboot step; stopping" >/dev/console
		poweroff -f
	fi
}

# hop_kexec STAGE HOP, hop_crash STAGE HOP: HOP is the step's name in the
# chain, with or without -nopv.
hop_kexec() {
	hop_ready "$2" && next_initrd || return 1
	pvg-kexec exec /boot/vmlinuz /tmp/next.cpio.gz "$(next_cmdline "$1" "$2")"
	return 1
}

hop_crash() {
	hop_ready "$2" && next_initrd || return 1
	pvg-kexec crash /boot/vmlinuz /tmp/next.cpio.gz "$(next_cmdline "$1" "$2")" ||
		return 1
	if [ "$(cat /sys/kernel/kexec_crash_loaded)" != 1 ]; then
		echo "the crash kernel was loaded but kexec_crash_loaded says no"
		return 1
	fi
	sync
	# Crash on the boot CPU: a crash kernel started on another CPU cannot
	# bring the crashed boot CPU back (6.12 leaves it out), and the tests
	# after the crash want every CPU.
	taskset -c 0 sh -c 'echo c >/proc/sysrq-trigger'
	echo "the panic did not start the crash kernel"
	return 1
}
