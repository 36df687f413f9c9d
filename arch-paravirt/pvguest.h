/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pvguest internal interfaces: hypervisor detection from the CPUID
 * hypervisor leaves and the report it produces, the operation switches,
 * and the packing of IPI destinations into KVM_HC_SEND_IPI windows.
 */
#ifndef _ARCH_X86_PVGUEST_PVGUEST_H
#define _ARCH_X86_PVGUEST_PVGUEST_H

#include <linux/bitmap.h>
#include <linux/bitops.h>
#include <linux/compiler.h>
#include <linux/types.h>

#define PVG_LEAF_FIRST		0x40000000U
#define PVG_LEAF_LAST		0x4000ff00U
#define PVG_LEAF_STEP		0x100U
#define PVG_SIG_LEN		12
#define PVG_MAX_SIGS		16

/**
 * enum pvg_rule - when a signature may make its hypervisor the active one
 * @PVG_RULE_ANY: at any base leaf; priority is the base leaf
 * @PVG_RULE_MIN_LEAVES: at any base leaf that has at least @pvg_hv.min_leaves
 *	leaves after it (computed modulo 2^32, as the stock kernel does)
 * @PVG_RULE_FIRST_BASE: only at 0x40000000
 * @PVG_RULE_HYPERV: only at 0x40000000, with a max leaf in the Hyper-V range
 *	and the HYPERCALL and VP_INDEX MSRs offered in leaf 0x40000003
 * @PVG_RULE_NONE: reported, never active (no guest support exists)
 *
 * These mirror the detect() callbacks of arch/x86/kernel/cpu/hypervisor.c so
 * that pvguest names the same hypervisor the stock kernel picks.
 */
enum pvg_rule {
	PVG_RULE_ANY,
	PVG_RULE_MIN_LEAVES,
	PVG_RULE_FIRST_BASE,
	PVG_RULE_HYPERV,
	PVG_RULE_NONE,
};

/**
 * struct pvg_hv - a hypervisor pvguest recognizes
 * @name: short name used in sysfs, e.g. "kvm"
 * @desc: human readable name for the boot log
 * @sigs: the 12-byte signatures it places in EBX:ECX:EDX (up to two)
 * @rule: when it may become the active hypervisor
 * @min_leaves: leaves needed past the base, for %PVG_RULE_MIN_LEAVES
 */
struct pvg_hv {
	const char *name;
	const char *desc;
	const char *sigs[2];
	enum pvg_rule rule;
	u32 min_leaves;
};

/**
 * struct pvg_sig - one signature found in the hypervisor CPUID range
 * @base: the base leaf (0x40000000, 0x40000100, ...)
 * @max_leaf: EAX of the base leaf, the highest leaf of this hypervisor
 * @raw: the 12 signature bytes, EBX then ECX then EDX
 * @hv: the recognized hypervisor, or NULL for an unknown signature
 * @priority: its claim to be the active hypervisor; 0 means none
 */
struct pvg_sig {
	u32 base;
	u32 max_leaf;
	char raw[PVG_SIG_LEN];
	const struct pvg_hv *hv;
	u32 priority;
};

/**
 * struct pvg_detect - result of one scan of the hypervisor CPUID range
 * @hypervisor_bit: CPUID.1:ECX[31] was set; without it nothing is scanned
 * @nr_sigs: number of valid entries in @sigs
 * @nr_dropped: signatures beyond %PVG_MAX_SIGS that were not recorded
 * @nr_garbage: non-empty leaves that do not look like a signature
 * @sigs: the signatures, in ascending base order
 * @active: the hypervisor in charge, or NULL
 * @features: for KVM, leaf base + 1 EAX (feature bits); 0 otherwise
 * @hints: for KVM, leaf base + 1 EDX (hint bits); 0 otherwise
 */
struct pvg_detect {
	bool hypervisor_bit;
	unsigned int nr_sigs;
	unsigned int nr_dropped;
	unsigned int nr_garbage;
	struct pvg_sig sigs[PVG_MAX_SIGS];
	const struct pvg_sig *active;
	u32 features;
	u32 hints;
};

/**
 * typedef pvg_cpuid_fn - reads one CPUID leaf (subleaf 0)
 * @ctx: caller's context
 * @leaf: the leaf to read
 * @regs: EAX, EBX, ECX, EDX on return
 */
typedef void (*pvg_cpuid_fn)(void *ctx, u32 leaf, u32 regs[4]);

/**
 * enum pvg_op_id - the privileged operations pvguest can switch
 * @PVG_OP_IPI: IPIs through KVM_HC_SEND_IPI
 * @PVG_OP_TLB: no flush IPI to preempted vCPUs (flag in steal-time area)
 * @PVG_OP_SPIN: paravirt spinlock wait (halt) and kick (KVM_HC_KICK_CPU)
 * @PVG_OP_YIELD: KVM_HC_SCHED_YIELD toward preempted IPI targets
 * @PVG_OP_STEAL: steal time accounting from the shared steal-time area
 * @PVG_OP_EOI: paravirt end of interrupt through shared memory
 * @PVG_OP_CLOCK: the kvmclock clocksource
 * @PVG_OP_POLLCTL: host halt polling control (cpuidle-haltpoll)
 * @PVG_OP_IODELAY: no port 0x80 write for io_delay
 * @PVG_NR_OPS: number of operations
 */
enum pvg_op_id {
	PVG_OP_IPI,
	PVG_OP_TLB,
	PVG_OP_SPIN,
	PVG_OP_YIELD,
	PVG_OP_STEAL,
	PVG_OP_EOI,
	PVG_OP_CLOCK,
	PVG_OP_POLLCTL,
	PVG_OP_IODELAY,
	PVG_NR_OPS
};

/**
 * struct pvg_op - an operation pvguest can switch
 * @name: its name in pvguest.disable= and in the report
 * @bits: the KVM feature bits it stands on
 * @impl: how it is carried out when paravirtual
 */
struct pvg_op {
	const char *name;
	u32 bits;
	const char *impl;
};

/**
 * struct pvg_env - what decides whether an operation is paravirtual
 * @pvguest_on: pvguest is in charge (no pvguest=off)
 * @hv_kvm: the active hypervisor is KVM
 * @kvm_guest: the kernel's KVM guest support runs (no nopv)
 * @offered: KVM feature bits the host offers
 * @hints: KVM hint bits
 * @disabled: operations disabled with pvguest.disable=, a bit per op
 * @ncpus: number of possible CPUs
 * @mwait: the guest may use MWAIT
 * @pvspin_built: the kernel has CONFIG_PARAVIRT_SPINLOCKS
 * @nopvspin: nopvspin is on the command line
 * @no_kvmclock: no-kvmclock is on the command line
 */
struct pvg_env {
	bool pvguest_on;
	bool hv_kvm;
	bool kvm_guest;
	u32 offered;
	u32 hints;
	unsigned long disabled;
	unsigned int ncpus;
	bool mwait;
	bool pvspin_built;
	bool nopvspin;
	bool no_kvmclock;
};

/**
 * struct pvg_op_state - how one operation is carried out, and why
 * @impl: "hypercall", "shared-memory", "msr", "no-op", "native" or "stock"
 * @reason: why it is native or stock; NULL otherwise
 */
struct pvg_op_state {
	const char *impl;
	const char *reason;
};

/* KVM_HC_SEND_IPI takes a bitmap of two longs: 128 APIC IDs on 64-bit. */
#define PVG_IPI_WIN_BITS	(2 * BITS_PER_LONG)

/**
 * struct pvg_ipi_win - the destinations of one KVM_HC_SEND_IPI hypercall
 * @bits: bit n set: APIC ID @base + n is a destination
 * @base: the lowest APIC ID of the window
 * @top: the highest bit set in @bits, or -1 while the window is empty
 */
struct pvg_ipi_win {
	unsigned long bits[2];
	u32 base;
	int top;
};

static inline void pvg_ipi_win_init(struct pvg_ipi_win *w)
{
	w->bits[0] = 0;
	w->bits[1] = 0;
	w->top = -1;
}

/**
 * pvg_ipi_win_add() - add an APIC ID to a window if it fits
 * @w: the window
 * @id: the APIC ID
 *
 * A window spans at most %PVG_IPI_WIN_BITS consecutive IDs.  It grows
 * upward and, for unsorted destinations, downward (moving @base down).
 *
 * Return: false when @id does not fit; @w is then unchanged.
 */
static inline bool pvg_ipi_win_add(struct pvg_ipi_win *w, u32 id)
{
	u32 shift;

	if (w->top < 0) {
		w->base = id;
		w->top = 0;
		__set_bit(0, w->bits);
		return true;
	}
	if (id >= w->base) {
		if (id - w->base >= PVG_IPI_WIN_BITS)
			return false;
		__set_bit(id - w->base, w->bits);
		w->top = max_t(int, w->top, id - w->base);
		return true;
	}
	shift = w->base - id;
	if (shift >= PVG_IPI_WIN_BITS - w->top)
		return false;
	bitmap_shift_left(w->bits, w->bits, shift, PVG_IPI_WIN_BITS);
	__set_bit(0, w->bits);
	w->base = id;
	w->top += shift;
	return true;
}

/* Whether @id is a destination of @w. */
static inline bool pvg_ipi_win_has(const struct pvg_ipi_win *w, u32 id)
{
	return w->top >= 0 && id >= w->base && id - w->base <= (u32)w->top &&
	       test_bit(id - w->base, w->bits);
}

/**
 * pvg_ipi_pack() - send an IPI to a set of CPUs, window by window
 * @cpus: bitmap of destination CPUs
 * @nbits: size of @cpus
 * @skip: a CPU to leave out even if set in @cpus (or @nbits for none)
 * @id_of: the APIC ID of a CPU
 * @send: send one window; a negative return is a failure
 * @native: send the IPI to one CPU without the hypercall
 * @ctx: passed to the callbacks
 *
 * Destinations are packed into as few windows as the CPU order allows.
 * When a window fails, its CPUs and all CPUs not sent yet get the IPI
 * through @native, so every destination gets exactly one IPI.  Inlined
 * so that the callbacks are direct calls in the kernel's sender and
 * made-up ones in the KUnit suite.
 *
 * Return: 0, or the failed @send's return value.
 */
static __always_inline long
pvg_ipi_pack(const unsigned long *cpus, unsigned int nbits, unsigned int skip,
	     u32 (*id_of)(unsigned int cpu, void *ctx),
	     long (*send)(const struct pvg_ipi_win *w, void *ctx),
	     void (*native)(unsigned int cpu, void *ctx), void *ctx)
{
	struct pvg_ipi_win w;
	unsigned int cpu, c;
	long ret;
	u32 id;

	pvg_ipi_win_init(&w);
	for_each_set_bit(cpu, cpus, nbits) {
		if (cpu == skip)
			continue;
		id = id_of(cpu, ctx);
		if (pvg_ipi_win_add(&w, id))
			continue;
		ret = send(&w, ctx);
		if (ret < 0)
			goto fallback;
		pvg_ipi_win_init(&w);
		pvg_ipi_win_add(&w, id);
	}
	if (w.top < 0)
		return 0;
	ret = send(&w, ctx);
	if (ret >= 0)
		return 0;
	cpu = nbits;
fallback:
	for_each_set_bit(c, cpus, nbits)
		if (c != skip && (c >= cpu || pvg_ipi_win_has(&w, id_of(c, ctx))))
			native(c, ctx);
	return ret;
}

void pvg_detect_scan(struct pvg_detect *d, bool hypervisor_bit,
		     pvg_cpuid_fn cpuid, void *ctx);
const char *pvg_detect_name(const struct pvg_detect *d);
int pvg_sig_format(const struct pvg_sig *s, char *buf, size_t size);
int pvg_features_format(const struct pvg_detect *d, char *buf, size_t size);

extern const struct pvg_op pvg_ops[PVG_NR_OPS];
int pvg_parse_ops(const char *list, unsigned long *mask, char *bad,
		  size_t badlen);
u32 pvg_op_bits(unsigned long ops);
struct pvg_op_state pvg_op_decide(enum pvg_op_id op, const struct pvg_env *env);
void pvg_ops_init(const struct pvg_detect *d);
int pvg_ops_format(char *buf, size_t size);

struct dentry;
void pvg_ipi_debugfs_init(struct dentry *dir);

#endif /* _ARCH_X86_PVGUEST_PVGUEST_H */
