// SPDX-License-Identifier: GPL-2.0
/*
 * pvguest's paravirtual IPIs under KVM.  One KVM_HC_SEND_IPI hypercall
 * delivers an IPI to every destination in a window of 128 consecutive APIC
 * IDs (64 on 32-bit), instead of one trapping ICR write per destination.
 * Destinations are packed into as few windows as their order allows, any
 * APIC ID spread works, and a window the host refuses is delivered through
 * the native APIC driver: counted, and logged once.
 *
 * The KVM guest code installs these senders in place of its own when
 * pvguest is in charge (pvg_owns_ipi()).
 */

#define pr_fmt(fmt) "pvguest: " fmt

#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/init.h>
#include <linux/irqflags.h>
#include <linux/jump_label.h>
#include <linux/kvm_para.h>
#include <linux/printk.h>
#include <linux/smp.h>
#include <asm/apic.h>
#include <asm/pvguest.h>
#include <asm/smp.h>

#include "pvguest.h"

/*
 * Fault injection: the next pvg_ipi_inject sends carry a shorthand in the
 * ICR, which KVM refuses, so that the fallback runs against a real host.
 */
static DEFINE_STATIC_KEY_FALSE(pvg_ipi_inject_key);
static atomic_t pvg_ipi_inject = ATOMIC_INIT(0);

static u32 pvg_ipi_apic_id(unsigned int cpu, void *ctx)
{
	return per_cpu(x86_cpu_to_apicid, cpu);
}

static long pvg_ipi_send_win(const struct pvg_ipi_win *w, void *ctx)
{
	unsigned long icr = *(unsigned long *)ctx;
	long ret;

	if (static_branch_unlikely(&pvg_ipi_inject_key) &&
	    atomic_dec_if_positive(&pvg_ipi_inject) >= 0)
		icr |= APIC_DEST_ALLBUT;
	ret = pvg_hypercall(KVM_HC_SEND_IPI, w->bits[0], w->bits[1], w->base,
			    icr);
	pvg_count(ret < 0 ? PVG_CNT_IPI_ERRORS : PVG_CNT_IPI_HYPERCALLS);
	return ret;
}

static void pvg_ipi_native(unsigned int cpu, void *ctx)
{
	unsigned long icr = *(unsigned long *)ctx;

	apic->send_IPI(cpu, icr & APIC_VECTOR_MASK);
}

static void pvg_ipi_send(const struct cpumask *mask, int vector,
			 unsigned int skip)
{
	unsigned long icr, flags;
	long ret;

	if (cpumask_empty(mask))
		return;
	/* The native fallback takes the vector back out of the ICR. */
	icr = vector == NMI_VECTOR ? APIC_DM_NMI | NMI_VECTOR :
				     APIC_DM_FIXED | vector;

	local_irq_save(flags);
	pvg_count(PVG_CNT_IPI_CALLS);
	ret = pvg_ipi_pack(cpumask_bits(mask), nr_cpu_ids, skip,
			   pvg_ipi_apic_id, pvg_ipi_send_win, pvg_ipi_native,
			   &icr);
	if (unlikely(ret < 0)) {
		pvg_count(PVG_CNT_IPI_FALLBACKS);
		pr_warn_once("ipi: KVM_HC_SEND_IPI failed (%ld), IPI sent natively; counted in ipi_fallbacks\n",
			     ret);
	}
	local_irq_restore(flags);
}

/**
 * pvg_send_ipi_mask() - send an IPI to a set of CPUs through KVM_HC_SEND_IPI
 * @mask: the destination CPUs
 * @vector: the vector, or NMI_VECTOR for an NMI
 */
void pvg_send_ipi_mask(const struct cpumask *mask, int vector)
{
	pvg_ipi_send(mask, vector, nr_cpu_ids);
}

/**
 * pvg_send_ipi_mask_allbutself() - the same, leaving out the calling CPU
 * @mask: the destination CPUs
 * @vector: the vector, or NMI_VECTOR for an NMI
 */
void pvg_send_ipi_mask_allbutself(const struct cpumask *mask, int vector)
{
	pvg_ipi_send(mask, vector, smp_processor_id());
}

static int pvg_ipi_inject_get(void *data, u64 *val)
{
	*val = atomic_read(&pvg_ipi_inject);
	return 0;
}

static int pvg_ipi_inject_set(void *data, u64 val)
{
	if (val > INT_MAX)
		return -EINVAL;
	atomic_set(&pvg_ipi_inject, val);
	if (val)
		static_branch_enable(&pvg_ipi_inject_key);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(pvg_ipi_inject_fops, pvg_ipi_inject_get,
			 pvg_ipi_inject_set, "%llu\n");

/**
 * pvg_ipi_debugfs_init() - add the IPI fault injection file
 * @dir: pvguest's debugfs directory
 */
void __init pvg_ipi_debugfs_init(struct dentry *dir)
{
	debugfs_create_file_unsafe("inject_ipi_errors", 0600, dir, NULL,
				   &pvg_ipi_inject_fops);
}
