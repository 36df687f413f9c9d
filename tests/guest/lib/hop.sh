# SPDX-License-Identifier: GPL-2.0
# The steps of the lifecycle chain (pvgtest.chain=, see /init): each
# hop_NAME STAGE takes the guest through one event the paravirtual state
# must survive.  A step that fails says why on stdout and returns 1;
# hop_kexec and hop_crash do not return when they work: the next kernel's
# init carries on at pvgtest.stage=STAGE.
#   suspend  suspend to RAM with pm_test=core: devices, non-boot CPUs and
#            the syscore steps (where the KVM guest code parks its shared
#            areas) go down and come back, without the final sleep
#   kexec    kexec_file_load() this kernel (/boot/vmlinuz, the scenario's
#            "initrd kernel" host request) and reboot into it
#   crash    load it as the crash kernel, then panic (sysrq c) on CPU 0
#   kexec-nopv, crash-nopv
#            the same into a kernel booted with nopv, which registers no
#            shared area of its own: its tests then show whether this one
#            unregistered its areas (see next_cmdline)

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
		echo "unknown lifecycle step '$1' (known: suspend kexec crash kexec-nopv crash-nopv)"
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
	p=/sys/power
	echo 1 >/sys/module/suspend/parameters/pm_test_delay
	n=$(cat $p/suspend_stats/success)
	echo core >$p/pm_test || return 1
	if ! echo mem >$p/state; then
		echo none >$p/pm_test
		echo "writing mem to $p/state failed"
		dmesg | tail -5
		return 1
	fi
	echo none >$p/pm_test
	if [ "$(cat $p/suspend_stats/success)" -ne $((n + 1)) ]; then
		echo "$p/suspend_stats/success did not count the suspend"
		return 1
	fi
}

# hop_run HOP STAGE: step HOP, the STAGE-th of the chain.
hop_run() {
	case $1 in
	suspend) hop_suspend ;;
	kexec | kexec-nopv) hop_kexec "$2" "$1" ;;
	crash | crash-nopv) hop_crash "$2" "$1" ;;
	*) hop_ready "$1" ;;
	esac
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
