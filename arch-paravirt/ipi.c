// SPDX-License-Identifier: GPL-2.0
/*
 * pvguest's paravirtual IPIs under KVM.  One KVM_HC_SEND_IPI hypercall
 * delivers an IPI to every destination in a window of 128 consecutive APIC
 * IDs (64 on 32-bit), instead of one trapping ICR write per destination.
 * Destinations are packed into as few windows as their order allows, any
 * APIC ID spread works, and a window the host refuses, or delivers to
 * fewer vCPUs than it holds, is delivered again through the native APIC
 * driver: counted, and logged once.
 *
 * The KVM guest code installs these senders in place of its own when
 * pvguest is in charge (pvg_owns_ipi()).
 */

#define pr_fmt(fmt) "pvguest: " fmt

#include <linux/atomic.h>
#include <linux/bitmap.h>
#include <linux/debugfs.h>
#include <linux/errno.h>
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
 * Fault injection, so that the fallbacks run against a real host: the
 * next pvg_ipi_inject windows carry a shorthand in the ICR, which KVM
 * refuses; after them, the next pvg_ipi_inject_short windows carry one
 * more destination, the top APIC ID of the window, which no vCPU of a
 * small guest has, so that KVM delivers to one vCPU fewer than asked.
 */
static DEFINE_STATIC_KEY_FALSE(pvg_ipi_inject_key);
static atomic_t pvg_ipi_inject = ATOMIC_INIT(0);
static atomic_t pvg_ipi_inject_short = ATOMIC_INIT(0);

static u32 pvg_ipi_apic_id(unsigned int cpu, void *ctx)
{
	return per_cpu(x86_cpu_to_apicid, cpu);
}

/*
 * Send one window.  KVM answers with the number of vCPUs that took the
 * IPI, and skips without an error a destination missing from its APIC
 * map.  The guest cannot tell which ones were skipped, so a short answer
 * is treated as a failure: the whole window is sent again through the
 * native APIC driver, for which KVM looks the destinations up afresh.  A
 * second fixed-vector IPI to a CPU that had the first is harmless, a
 * lost one hangs smp_call_function_many().  NMIs are not sent twice.
 */
static long pvg_ipi_send_win(const struct pvg_ipi_win *w, void *ctx)
{
	unsigned long icr = *(unsigned long *)ctx;
	unsigned long bits[2] = { w->bits[0], w->bits[1] };
	long ret;

	if (static_branch_unlikely(&pvg_ipi_inject_key)) {
		if (atomic_dec_if_positive(&pvg_ipi_inject) >= 0)
			icr |= APIC_DEST_ALLBUT;
		else if (atomic_dec_if_positive(&pvg_ipi_inject_short) >= 0)
			__set_bit(PVG_IPI_WIN_BITS - 1, bits);
	}
	ret = pvg_hypercall(KVM_HC_SEND_IPI, bits[0], bits[1], w->base, icr);
	if (ret < 0) {
		pvg_count(PVG_CNT_IPI_ERRORS);
		return ret;
	}
	pvg_count(PVG_CNT_IPI_HYPERCALLS);
	if (unlikely(ret < (long)bitmap_weight(bits, PVG_IPI_WIN_BITS)) &&
	    (icr & APIC_DM_NMI) != APIC_DM_NMI) {
		pvg_count(PVG_CNT_IPI_SHORT);
		return -EREMOTEIO;
	}
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
		if (ret == -EREMOTEIO)
			pr_warn_once("ipi: the host delivered a KVM_HC_SEND_IPI to fewer vCPUs than asked, IPI sent natively again; counted in ipi_short\n");
		else
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

/* @data is the atomic_t count of the injection file. */
static int pvg_ipi_inject_get(void *data, u64 *val)
{
	*val = atomic_read(data);
	return 0;
}

static int pvg_ipi_inject_set(void *data, u64 val)
{
	if (val > INT_MAX)
		return -EINVAL;
	atomic_set(data, val);
	if (val)
		static_branch_enable(&pvg_ipi_inject_key);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(pvg_ipi_inject_fops, pvg_ipi_inject_get,
			 pvg_ipi_inject_set, "%llu\n");

/**
 * pvg_ipi_debugfs_init() - add the IPI fault injection files
 * @dir: pvguest's debugfs directory
 */
void __init pvg_ipi_debugfs_init(struct dentry *dir)
{
	debugfs_create_file_unsafe("inject_ipi_errors", 0600, dir,
				   &pvg_ipi_inject, &pvg_ipi_inject_fops);
	debugfs_create_file_unsafe("inject_ipi_short", 0600, dir,
				   &pvg_ipi_inject_short, &pvg_ipi_inject_fops);
}
