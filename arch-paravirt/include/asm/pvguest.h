/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pvguest hooks called from the stock KVM guest code: the feature bits it
 * may use, and per-CPU counters of the paravirtual operations it performs.
 */
#ifndef _ASM_X86_PVGUEST_H
#define _ASM_X86_PVGUEST_H

#include <linux/percpu.h>
#include <linux/types.h>

/**
 * enum pvg_counter - events counted in the paravirtual operations
 * @PVG_CNT_IPI_CALLS: IPI sends through KVM_HC_SEND_IPI
 * @PVG_CNT_IPI_HYPERCALLS: KVM_HC_SEND_IPI hypercalls (destination windows)
 * @PVG_CNT_IPI_ERRORS: KVM_HC_SEND_IPI hypercalls that failed
 * @PVG_CNT_TLB_SKIPPED: flush IPIs not sent to a preempted vCPU
 * @PVG_CNT_SPIN_KICKS: KVM_HC_KICK_CPU hypercalls to wake a lock waiter
 * @PVG_CNT_SPIN_WAITS: lock waits that went to the paravirtual halt
 * @PVG_CNT_YIELDS: KVM_HC_SCHED_YIELD hypercalls toward preempted vCPUs
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
	PVG_NR_COUNTERS
};

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

static inline void pvg_count(enum pvg_counter c)
{
}
#endif

#endif /* _ASM_X86_PVGUEST_H */
