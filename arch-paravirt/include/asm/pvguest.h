/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pvguest hooks called from the stock KVM guest code: the feature bits it
 * may use, pvguest's own paravirtual operations it installs, and per-CPU
 * counters of what the paravirtual operations do.
 */
#ifndef _ASM_X86_PVGUEST_H
#define _ASM_X86_PVGUEST_H

#include <linux/cpumask.h>
#include <linux/percpu.h>
#include <linux/types.h>

/**
 * enum pvg_counter - events counted in the paravirtual operations
 * @PVG_CNT_IPI_CALLS: IPI sends through KVM_HC_SEND_IPI
 * @PVG_CNT_IPI_HYPERCALLS: KVM_HC_SEND_IPI hypercalls that succeeded, one
 *	per destination window
 * @PVG_CNT_IPI_ERRORS: KVM_HC_SEND_IPI hypercalls that failed
 * @PVG_CNT_TLB_SKIPPED: flush IPIs not sent to a preempted vCPU
 * @PVG_CNT_SPIN_KICKS: KVM_HC_KICK_CPU hypercalls to wake a lock waiter
 * @PVG_CNT_SPIN_WAITS: lock waits that went to the paravirtual halt
 * @PVG_CNT_YIELDS: KVM_HC_SCHED_YIELD hypercalls toward preempted vCPUs
 * @PVG_CNT_IPI_FALLBACKS: IPI sends finished natively after a failed
 *	or short KVM_HC_SEND_IPI
 * @PVG_CNT_IPI_SHORT: KVM_HC_SEND_IPI hypercalls the host delivered to
 *	fewer vCPUs than asked
 * @PVG_CNT_HYPERCALLS: hypercalls made through pvg_hypercall()
 * @PVG_CNT_HC_ERRORS: those that returned an error
 * @PVG_NR_COUNTERS: number of counters
 */
enum pvg_counter {
	PVG_CNT_IPI_CALLS,
	PVG_CNT_IPI_HYPERCALLS,
	PVG_CNT_IPI_ERRORS,
	PVG_CNT_TLB_SKIPPED,
	PVG_CNT_SPIN_KICKS,
	PVG_CNT_SPIN_WAITS,
	PVG_CNT_YIELDS,
	PVG_CNT_IPI_FALLBACKS,
	PVG_CNT_IPI_SHORT,
	PVG_CNT_HYPERCALLS,
	PVG_CNT_HC_ERRORS,
	PVG_NR_COUNTERS
};

/*
 * pvguest's IPI senders for the APIC driver; only referenced when
 * pvg_owns_ipi() is true, which it never is without CONFIG_PVGUEST.
 */
void pvg_send_ipi_mask(const struct cpumask *mask, int vector);
void pvg_send_ipi_mask_allbutself(const struct cpumask *mask, int vector);

#ifdef CONFIG_PVGUEST
/**
 * struct pvg_counters - one CPU's event counts
 * @n: a count per &enum pvg_counter
 */
struct pvg_counters {
	unsigned long n[PVG_NR_COUNTERS];
};

DECLARE_PER_CPU(struct pvg_counters, pvg_counters);

u32 pvg_kvm_features(u32 offered);
bool pvg_owns_ipi(void);
long pvg_hypercall(unsigned long nr, unsigned long a0, unsigned long a1,
		   unsigned long a2, unsigned long a3);

/* One increment of this CPU's counter: safe in any context. */
static inline void pvg_count(enum pvg_counter c)
{
	this_cpu_inc(pvg_counters.n[c]);
}
#else
static inline u32 pvg_kvm_features(u32 offered)
{
	return offered;
}

static inline bool pvg_owns_ipi(void)
{
	return false;
}

static inline void pvg_count(enum pvg_counter c)
{
}
#endif

#endif /* _ASM_X86_PVGUEST_H */
