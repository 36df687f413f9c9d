/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pvguest internal interfaces: hypervisor detection from the CPUID
 * hypervisor leaves and the report it produces.
 */
#ifndef _ARCH_X86_PVGUEST_PVGUEST_H
#define _ARCH_X86_PVGUEST_PVGUEST_H

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

void pvg_detect_scan(struct pvg_detect *d, bool hypervisor_bit,
		     pvg_cpuid_fn cpuid, void *ctx);
const char *pvg_detect_name(const struct pvg_detect *d);
int pvg_sig_format(const struct pvg_sig *s, char *buf, size_t size);
int pvg_features_format(const struct pvg_detect *d, char *buf, size_t size);

#endif /* _ARCH_X86_PVGUEST_PVGUEST_H */
