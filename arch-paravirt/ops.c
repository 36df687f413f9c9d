// SPDX-License-Identifier: GPL-2.0
/*
 * pvguest paravirtual operations under KVM: a boot switch per operation
 * and a report of how each one is carried out.
 *
 * The KVM guest code decides every paravirtual operation from the feature
 * bits of CPUID leaf KVM_CPUID_FEATURES, read through
 * kvm_arch_para_features().  pvguest.disable= clears the bits of the named
 * operations there, so the KVM guest code keeps them native, one by one;
 * pvguest=off leaves every bit alone.  /sys/kernel/pvguest/ops then tells,
 * per operation, how it is done and, when native, why, and
 * /sys/kernel/debug/pvguest/counters counts what the operations did.
 */

#define pr_fmt(fmt) "pvguest: " fmt

#include <linux/bitops.h>
#include <linux/cpumask.h>
#include <linux/debugfs.h>
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/kvm_para.h>
#include <linux/seq_file.h>
#include <linux/string.h>
#include <asm/cpufeature.h>
#include <asm/hypervisor.h>
#include <asm/pvguest.h>
#include <asm/qspinlock.h>

#include "pvguest.h"

const struct pvg_op pvg_ops[PVG_NR_OPS] = {
	[PVG_OP_IPI] = { "ipi", BIT(KVM_FEATURE_PV_SEND_IPI), "hypercall" },
	[PVG_OP_TLB] = { "tlb", BIT(KVM_FEATURE_PV_TLB_FLUSH), "shared-memory" },
	[PVG_OP_SPIN] = { "spin", BIT(KVM_FEATURE_PV_UNHALT), "hypercall" },
	[PVG_OP_YIELD] = { "yield", BIT(KVM_FEATURE_PV_SCHED_YIELD),
			   "hypercall" },
	[PVG_OP_STEAL] = { "steal", BIT(KVM_FEATURE_STEAL_TIME),
			   "shared-memory" },
	[PVG_OP_EOI] = { "eoi", BIT(KVM_FEATURE_PV_EOI), "shared-memory" },
	[PVG_OP_CLOCK] = { "clock", BIT(KVM_FEATURE_CLOCKSOURCE) |
			   BIT(KVM_FEATURE_CLOCKSOURCE2) |
			   BIT(KVM_FEATURE_CLOCKSOURCE_STABLE_BIT),
			   "shared-memory" },
	[PVG_OP_POLLCTL] = { "pollctl", BIT(KVM_FEATURE_POLL_CONTROL), "msr" },
	[PVG_OP_IODELAY] = { "iodelay", BIT(KVM_FEATURE_NOP_IO_DELAY),
			     "no-op" },
};

static const char * const pvg_counter_names[PVG_NR_COUNTERS] = {
	[PVG_CNT_IPI_CALLS] = "ipi_calls",
	[PVG_CNT_IPI_HYPERCALLS] = "ipi_hypercalls",
	[PVG_CNT_IPI_ERRORS] = "ipi_errors",
	[PVG_CNT_TLB_SKIPPED] = "tlb_flush_skipped",
	[PVG_CNT_SPIN_KICKS] = "spin_kicks",
	[PVG_CNT_SPIN_WAITS] = "spin_waits",
	[PVG_CNT_YIELDS] = "yields",
	[PVG_CNT_IPI_FALLBACKS] = "ipi_fallbacks",
	[PVG_CNT_IPI_SHORT] = "ipi_short",
	[PVG_CNT_HYPERCALLS] = "hypercalls",
	[PVG_CNT_HC_ERRORS] = "hypercall_errors",
};

DEFINE_PER_CPU(struct pvg_counters, pvg_counters);

static bool pvg_on __ro_after_init = true;
static unsigned long pvg_disabled __ro_after_init;
static bool pvg_no_kvmclock __initdata;
static struct pvg_op_state pvg_state[PVG_NR_OPS] __ro_after_init;

/**
 * pvg_parse_ops() - parse a comma-separated list of operation names
 * @list: the list, e.g. "ipi,tlb"; "all" names every operation
 * @mask: set to the operations named, a bit per &enum pvg_op_id
 * @bad: receives the first unknown name (truncated to @badlen)
 * @badlen: size of @bad
 *
 * Empty items are ignored.  Unknown names do not stop the parse.
 *
 * Return: the number of unknown names.
 */
int pvg_parse_ops(const char *list, unsigned long *mask, char *bad,
		  size_t badlen)
{
	const char *p = list, *end;
	int unknown = 0;
	unsigned int i;
	size_t len;

	*mask = 0;
	if (badlen)
		bad[0] = '\0';
	while (*p) {
		end = strchrnul(p, ',');
		len = end - p;
		for (i = 0; len && i < PVG_NR_OPS; i++) {
			if (strlen(pvg_ops[i].name) == len &&
			    !strncmp(p, pvg_ops[i].name, len))
				break;
		}
		if (len == 3 && !strncmp(p, "all", 3))
			*mask = GENMASK(PVG_NR_OPS - 1, 0);
		else if (len && i < PVG_NR_OPS)
			*mask |= BIT(i);
		else if (len && !unknown++ && badlen)
			strscpy(bad, p, min(len + 1, badlen));
		p = *end ? end + 1 : end;
	}
	return unknown;
}

/**
 * pvg_op_bits() - the KVM feature bits behind a set of operations
 * @ops: a bit per &enum pvg_op_id
 *
 * Return: the feature bits to hide from the KVM guest code.
 */
u32 pvg_op_bits(unsigned long ops)
{
	u32 bits = 0;
	int i;

	for_each_set_bit(i, &ops, PVG_NR_OPS)
		bits |= pvg_ops[i].bits;
	return bits;
}

static bool pvg_offers(const struct pvg_env *env, enum pvg_op_id op)
{
	return env->offered & pvg_ops[op].bits & ~pvg_op_bits(env->disabled);
}

/**
 * pvg_op_decide() - how an operation is carried out, and why
 * @op: the operation
 * @env: the facts it depends on
 *
 * Mirrors the conditions of the KVM guest code in arch/x86/kernel/kvm.c
 * and kvmclock.c, so that the report says what that code does.
 *
 * Return: the implementation and, when native or stock, the reason.
 */
struct pvg_op_state pvg_op_decide(enum pvg_op_id op, const struct pvg_env *env)
{
	struct pvg_op_state st = { "native", NULL };
	bool realtime = env->hints & BIT(KVM_HINTS_REALTIME);

	if (!env->pvguest_on) {
		st.impl = "stock";
		st.reason = "pvguest=off: the stock KVM guest code decides";
	} else if (!env->hv_kvm) {
		st.reason = "no hypercall interface";
	} else if (!env->kvm_guest) {
		st.reason = "KVM guest support off (nopv)";
	} else if (!(env->offered & pvg_ops[op].bits)) {
		st.reason = "host does not offer it";
	} else if (env->disabled & BIT(op)) {
		st.reason = "disabled on command line";
	} else if ((op == PVG_OP_TLB || op == PVG_OP_YIELD) &&
		   !pvg_offers(env, PVG_OP_STEAL)) {
		st.reason = "needs steal time";
	} else if ((op == PVG_OP_TLB || op == PVG_OP_YIELD ||
		    op == PVG_OP_SPIN) && realtime) {
		st.reason = "host hints dedicated CPUs (KVM_HINTS_REALTIME)";
	} else if ((op == PVG_OP_TLB || op == PVG_OP_YIELD) && env->mwait) {
		st.reason = "guest uses MWAIT";
	} else if ((op == PVG_OP_TLB || op == PVG_OP_YIELD ||
		    op == PVG_OP_SPIN || op == PVG_OP_IPI) && env->ncpus == 1) {
		st.reason = "single CPU";
	} else if (op == PVG_OP_SPIN && !env->pvspin_built) {
		st.reason = "kernel built without CONFIG_PARAVIRT_SPINLOCKS";
	} else if (op == PVG_OP_SPIN && env->nopvspin) {
		st.reason = "nopvspin on command line";
	} else if (op == PVG_OP_CLOCK && env->no_kvmclock) {
		st.reason = "no-kvmclock on command line";
	} else {
		st.impl = pvg_ops[op].impl;
	}
	return st;
}

/*
 * Called by kvm_arch_para_features(): the feature bits the KVM guest code
 * gets to see.  Runs from early boot on, after the early parameters.
 */
u32 pvg_kvm_features(u32 offered)
{
	return pvg_on ? offered & ~pvg_op_bits(pvg_disabled) : offered;
}

/*
 * Called by the KVM guest code when it sets up PV IPIs (the host offers
 * them and pvguest.disable= does not name them): pvguest's senders take
 * over unless pvguest=off.
 */
bool pvg_owns_ipi(void)
{
	return pvg_on;
}

static int __init pvg_parse_on(char *arg)
{
	if (kstrtobool(arg ?: "", &pvg_on))
		pr_err("pvguest=%s: expected on or off; pvguest stays %s\n",
		       arg ?: "", pvg_on ? "on" : "off");
	return 0;
}
early_param("pvguest", pvg_parse_on);

static int __init pvg_parse_disable(char *arg)
{
	char bad[16];
	int n;

	n = pvg_parse_ops(arg ?: "", &pvg_disabled, bad, sizeof(bad));
	if (n)
		pr_err("pvguest.disable: ignoring %d unknown operation name(s), first '%s'; known: ipi tlb spin yield steal eoi clock pollctl iodelay all\n",
		       n, bad);
	return 0;
}
early_param("pvguest.disable", pvg_parse_disable);

static int __init pvg_parse_no_kvmclock(char *arg)
{
	pvg_no_kvmclock = true;
	return 0;
}
early_param("no-kvmclock", pvg_parse_no_kvmclock);

static bool __init pvg_nopvspin(void)
{
#ifdef CONFIG_PARAVIRT_SPINLOCKS
	return nopvspin;
#else
	return false;
#endif
}

/**
 * pvg_ops_init() - decide and log how each operation is carried out
 * @d: the boot-time detection result
 */
void __init pvg_ops_init(const struct pvg_detect *d)
{
	bool kvm = d->active && !strcmp(d->active->hv->name, "kvm");
	struct pvg_env env = {
		.pvguest_on = pvg_on,
		.hv_kvm = kvm,
		.kvm_guest = kvm && x86_hyper_type == X86_HYPER_KVM,
		.offered = d->features,
		.hints = d->hints,
		.disabled = pvg_disabled,
		.ncpus = num_possible_cpus(),
		.mwait = boot_cpu_has(X86_FEATURE_MWAIT),
		.pvspin_built = IS_ENABLED(CONFIG_PARAVIRT_SPINLOCKS),
		.nopvspin = pvg_nopvspin(),
		.no_kvmclock = pvg_no_kvmclock,
	};
	int i;

	for (i = 0; i < PVG_NR_OPS; i++) {
		pvg_state[i] = pvg_op_decide(i, &env);
		if (pvg_state[i].reason)
			pr_info("%s: %s (%s)\n", pvg_ops[i].name,
				pvg_state[i].impl, pvg_state[i].reason);
		else
			pr_info("%s: %s\n", pvg_ops[i].name, pvg_state[i].impl);
	}
}

/**
 * pvg_ops_format() - format /sys/kernel/pvguest/ops
 * @buf: output buffer
 * @size: its size
 *
 * Return: the number of characters written.
 */
int pvg_ops_format(char *buf, size_t size)
{
	int i, n = 0;

	for (i = 0; i < PVG_NR_OPS; i++)
		n += scnprintf(buf + n, size - n, "%s %s%s%s\n", pvg_ops[i].name,
			       pvg_state[i].impl ?: "native",
			       pvg_state[i].reason ? " " : "",
			       pvg_state[i].reason ?: "");
	return n;
}

static int pvg_counters_show(struct seq_file *m, void *v)
{
	unsigned long sum;
	int c, cpu;

	for (c = 0; c < PVG_NR_COUNTERS; c++) {
		sum = 0;
		for_each_possible_cpu(cpu)
			sum += per_cpu(pvg_counters, cpu).n[c];
		seq_printf(m, "%s %lu\n", pvg_counter_names[c], sum);
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pvg_counters);

static int __init pvg_debugfs_init(void)
{
	struct dentry *dir = debugfs_create_dir("pvguest", NULL);

	debugfs_create_file("counters", 0444, dir, NULL, &pvg_counters_fops);
	pvg_ipi_debugfs_init(dir);
	return 0;
}
late_initcall(pvg_debugfs_init);
