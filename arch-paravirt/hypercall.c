// SPDX-License-Identifier: GPL-2.0
/*
 * pvguest's KVM hypercall entry.  Every hypercall pvguest makes goes
 * through pvg_hypercall(), the only place in pvguest with hypercall
 * instructions: VMCALL, patched to VMMCALL on AMD hosts by alternatives,
 * with the KVM register convention (number in RAX, arguments in RBX, RCX,
 * RDX and RSI, result in RAX).  It counts every call and every failure.
 */

#include <linux/compiler.h>
#include <asm/alternative.h>
#include <asm/cpufeatures.h>
#include <asm/pvguest.h>

/**
 * pvg_hypercall() - make one KVM hypercall
 * @nr: the hypercall number (KVM_HC_*)
 * @a0: first argument
 * @a1: second argument
 * @a2: third argument
 * @a3: fourth argument
 *
 * Callable in any context, with interrupts on or off.
 *
 * Return: what the host returned; a negative KVM error code on failure.
 */
long notrace pvg_hypercall(unsigned long nr, unsigned long a0,
			   unsigned long a1, unsigned long a2,
			   unsigned long a3)
{
	long ret;

	asm volatile(ALTERNATIVE("vmcall", "vmmcall", X86_FEATURE_VMMCALL)
		     : "=a" (ret)
		     : "a" (nr), "b" (a0), "c" (a1), "d" (a2), "S" (a3)
		     : "memory");
	pvg_count(PVG_CNT_HYPERCALLS);
	if (unlikely(ret < 0))
		pvg_count(PVG_CNT_HC_ERRORS);
	return ret;
}
