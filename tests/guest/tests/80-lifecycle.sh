#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Where the lifecycle chain (pvgtest.chain=suspend,sleep,reboot,kexec,crash; see
# /init and /tests/lib/hop.sh) stands: before the first step, that each step
# can run; after a step, that it really happened.  Run again after every step
# when pvgtest.after= names it.  After kexec-nopv or crash-nopv this kernel
# runs with nopv and registers no shared area: the MSRs of CPU 0, the CPU
# the step ran on and the one CPU KVM did not reset on the way (INIT
# clears them on the others), then hold whatever the previous kernel left,
# and must be 0.
. /tests/lib/ktap.sh
. /tests/lib/hop.sh

chain=$(param chain | tr ',' ' ')
if [ -z "$chain" ]; then
	skip "lifecycle chain" "not asked for by this scenario"
	exit 0
fi
# Steps done, as /init counts them (pvgtest.stage= is where this kernel
# started).
stage=${PVGTEST_STAGE:-0}

if [ "$stage" -eq 0 ]; then
	for hop in $chain; do
		why=$(hop_ready "$hop") && pass "lifecycle step $hop can run here" ||
			fail "lifecycle step $hop can run here" "$why"
	done
	exit 0
fi

hop=$(echo $chain | cut -d' ' -f"$stage")
case ${hop%-nopv} in
suspend)
	n=$(cat /sys/power/suspend_stats/success)
	[ "$n" -ge 1 ] && pass "a suspend completed ($n in this boot)" ||
		fail "a suspend completed" "suspend_stats/success $n"
	dmesg | grep -q 'suspend debug: Waiting' &&
		pass "the suspend went down to the syscore level (pm_test=core)" ||
		fail "the suspend went down to the syscore level (pm_test=core)" \
			"$(dmesg | grep -i -E 'PM:|suspend' | tail -5)"
	;;
sleep)
	n=$(cat /sys/power/suspend_stats/success)
	[ "$n" -ge 1 ] && pass "a sleep completed ($n suspends in this boot)" ||
		fail "a sleep completed" "suspend_stats/success $n"
	# What only a real S3 logs: the ACPI code of the kernel going down to
	# S3 and coming back through the firmware's resume path.
	log=$(dmesg | grep -E 'ACPI: PM: (Preparing to enter|Waking up from) system sleep state S3|ACPI: PM: Low-level resume complete')
	[ "$(echo "$log" | grep -c .)" -ge 3 ] &&
		pass "the machine went down to ACPI S3 and resumed from it" ||
		fail "the machine went down to ACPI S3 and resumed from it" \
			"$(dmesg | grep -i -E 'ACPI: PM|PM: suspend' | tail -5)"
	# CLOCK_BOOTTIME counted the time asleep and CLOCK_MONOTONIC did not:
	# a second or more (of the SLEEP_S the alarm was set to), where a
	# suspend that stops short of sleeping (pm_test) shows none.
	before=$(cat $ASLEEP_BEFORE 2>/dev/null)
	now=$(asleep_ms)
	if [ -n "$before" ] && [ $((now - before)) -ge 1000 ]; then
		pass "the machine slept until the RTC woke it ($((now - before)) ms)"
	else
		fail "the machine slept until the RTC woke it" \
			"time asleep: ${before:-unknown} ms before the step, $now ms after"
	fi
	;;
kexec | crash)
	grep -q "pvgtest.stage=$stage" /proc/cmdline &&
		pass "this kernel was started by the $hop step" ||
		fail "this kernel was started by the $hop step" "$(cat /proc/cmdline)"
	;;
esac
case ${hop%-nopv} in
reboot)
	# The reset boots the first command line again; the stage came from
	# pstore (hop_resume in /tests/lib/hop.sh).
	if [ -n "$PVGTEST_CMDLINE" ] && ! grep -q 'pvgtest\.stage=' /proc/cmdline; then
		pass "this kernel was started by a reset after the reboot step"
	else
		fail "this kernel was started by a reset after the reboot step" \
			"command line: $(cat /proc/cmdline)" "stage from pstore: ${PVGTEST_CMDLINE:-none}"
	fi
	# The kernel log of the kernel before, as the kernel's restart path
	# handed it to ramoops (KMSG_DUMP_SHUTDOWN) just before the reset: it
	# logged the step (hop_reboot) and then the restart.  Not the console
	# record: the reset can cut the console's last line short.
	d=$(ls /sys/fs/pstore/dmesg-ramoops-* 2>/dev/null)
	if [ -n "$d" ] && grep -q "pvgtest: reboot step $stage\$" $d &&
		grep -q 'reboot: Restarting system' $d; then
		pass "the kernel before rebooted through the kernel's restart path"
	else
		fail "the kernel before rebooted through the kernel's restart path" \
			"pstore: $(ls /sys/fs/pstore 2>&1)" \
			"${d:+$(cat $d 2>&1 | tail -3)}"
	fi
	;;
kexec)
	[ ! -e /proc/vmcore ] && pass "not a crash kernel (no /proc/vmcore)" ||
		fail "not a crash kernel (no /proc/vmcore)" ;;
crash)
	# The crashed kernel's memory, as an ELF core file, is the proof that
	# this is the kdump kernel it loaded.
	if [ -r /proc/vmcore ] &&
		[ "$(dd if=/proc/vmcore bs=4 count=1 2>/dev/null | tail -c 3)" = ELF ]; then
		pass "/proc/vmcore holds the crashed kernel's ELF core"
	else
		fail "/proc/vmcore holds the crashed kernel's ELF core" \
			"$(ls -l /proc/vmcore 2>&1)"
	fi
	;;
esac

case $hop in
*-nopv)
	if grep -qw nopv /proc/cmdline; then
		pass "this kernel booted with nopv"
	else
		fail "this kernel booted with nopv" "$(cat /proc/cmdline)"
		exit 0
	fi
	left=
	for e in $PV_AREAS; do
		if ! v=$(pvg-msr 0 "${e#*:}" 2>&1); then
			left="$left ${e%%:*}:unreadable($v)"
		elif [ $((v)) -ne 0 ]; then
			left="$left ${e%%:*}=$v"
		fi
	done
	[ -z "$left" ] &&
		pass "the $hop step left no kvmclock, steal-time or PV EOI area registered on CPU 0" ||
		fail "the $hop step left no kvmclock, steal-time or PV EOI area registered on CPU 0" \
			"MSRs of CPU 0:$left"
	;;
esac
