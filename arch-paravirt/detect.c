// SPDX-License-Identifier: GPL-2.0
/*
 * pvguest hypervisor detection.
 *
 * Hypervisors announce themselves with a 12-byte signature in EBX:ECX:EDX of
 * CPUID leaf 0x40000000 and, when they emulate another hypervisor's
 * interface, again at 0x40000100, 0x40000200 and so on.  EAX of each base
 * leaf holds the highest leaf of that hypervisor.  This file scans the whole
 * range, names every signature it finds and picks the hypervisor in charge
 * with the rule the stock kernel applies in init_hypervisor_platform(): the
 * highest claim wins and, on a tie, the earlier table entry.
 *
 * The scan takes its CPUID reads from a callback so that KUnit can feed it
 * made-up leaves.
 */

#define pr_fmt(fmt) "pvguest: " fmt

#include <linux/bitmap.h>
#include <linux/kernel.h>
#include <linux/string.h>

#include "pvguest.h"

#define PVG_HYPERV_MIN_LEAF	0x40000005U
#define PVG_HYPERV_MAX_LEAF	0x4000ffffU
#define PVG_HYPERV_FEATURES	0x40000003U
#define PVG_HYPERV_NEEDED	(BIT(5) | BIT(6))	/* HYPERCALL, VP_INDEX */
#define PVG_MIN_PRINTABLE	4

/*
 * Stock hypervisors first, in the order of arch/x86/kernel/cpu/hypervisor.c
 * (Xen, VMware, Hyper-V, KVM, Jailhouse, ACRN), so that ties resolve the same
 * way; the ones the stock kernel does not know follow.
 */
static const struct pvg_hv pvg_hvs[] = {
	{ "xen", "Xen", { "XenVMMXenVMM" }, PVG_RULE_MIN_LEAVES, 2 },
	{ "vmware", "VMware", { "VMwareVMware" }, PVG_RULE_FIRST_BASE },
	{ "hyperv", "Microsoft Hyper-V", { "Microsoft Hv", "Linux KVM Hv" },
	  PVG_RULE_HYPERV },
	{ "kvm", "KVM", { "KVMKVMKVM\0\0\0" }, PVG_RULE_ANY },
	{ "jailhouse", "Jailhouse", { "Jailhouse\0\0\0" }, PVG_RULE_ANY },
	{ "acrn", "ACRN", { "ACRNACRNACRN" }, PVG_RULE_ANY },
	{ "tcg", "QEMU TCG", { "TCGTCGTCGTCG" }, PVG_RULE_ANY },
	{ "bhyve", "bhyve", { "bhyve bhyve " }, PVG_RULE_ANY },
	{ "virtualbox", "VirtualBox", { "VBoxVBoxVBox" }, PVG_RULE_ANY },
	{ "parallels", "Parallels", { " prl hyperv ", " lrpepyh vr " },
	  PVG_RULE_ANY },
	{ "qnx", "QNX hypervisor", { " QNXQVMBSQG " }, PVG_RULE_ANY },
	{ "apple", "Apple Virtualization", { "VirtualApple" }, PVG_RULE_ANY },
	{ "xta", "Microsoft x86-to-ARM", { "MicrosoftXTA" }, PVG_RULE_NONE },
	{ "lmhs", "Lockheed Martin LMHS", { "SRESRESRESRE" }, PVG_RULE_NONE },
	{ "haxm", "Intel HAXM", { "HAXMHAXMHAXM" }, PVG_RULE_NONE },
	{ "openbsd-vmm", "OpenBSD vmm", { "OpenBSDVMM58" }, PVG_RULE_NONE },
};

static const char * const pvg_kvm_feature_names[32] = {
	[0] = "CLOCKSOURCE",
	[1] = "NOP_IO_DELAY",
	[2] = "MMU_OP",
	[3] = "CLOCKSOURCE2",
	[4] = "ASYNC_PF",
	[5] = "STEAL_TIME",
	[6] = "PV_EOI",
	[7] = "PV_UNHALT",
	[9] = "PV_TLB_FLUSH",
	[10] = "ASYNC_PF_VMEXIT",
	[11] = "PV_SEND_IPI",
	[12] = "POLL_CONTROL",
	[13] = "PV_SCHED_YIELD",
	[14] = "ASYNC_PF_INT",
	[15] = "MSI_EXT_DEST_ID",
	[16] = "HC_MAP_GPA_RANGE",
	[17] = "MIGRATION_CONTROL",
	[24] = "CLOCKSOURCE_STABLE",
};

static const char * const pvg_kvm_hint_names[32] = {
	[0] = "HINTS_REALTIME",
};

static bool pvg_sig_empty(const char *raw)
{
	return !memchr_inv(raw, 0, PVG_SIG_LEN);
}

/*
 * A signature is printable ASCII, optionally padded with NULs at the end.
 * Anything else in a hypervisor leaf is noise, e.g. what an Intel CPU
 * returns for an out-of-range leaf.
 */
static bool pvg_sig_plausible(const char *raw)
{
	unsigned int i, len = PVG_SIG_LEN, visible = 0;

	while (len && !raw[len - 1])
		len--;
	for (i = 0; i < len; i++) {
		if (raw[i] < 0x20 || raw[i] > 0x7e)
			return false;
		if (raw[i] != ' ')
			visible++;
	}
	return visible >= PVG_MIN_PRINTABLE;
}

static const struct pvg_hv *pvg_hv_lookup(const char *raw)
{
	unsigned int i, j;

	for (i = 0; i < ARRAY_SIZE(pvg_hvs); i++)
		for (j = 0; j < ARRAY_SIZE(pvg_hvs[i].sigs); j++)
			if (pvg_hvs[i].sigs[j] &&
			    !memcmp(pvg_hvs[i].sigs[j], raw, PVG_SIG_LEN))
				return &pvg_hvs[i];
	return NULL;
}

static u32 pvg_priority(const struct pvg_sig *s, pvg_cpuid_fn cpuid,
			void *ctx)
{
	u32 regs[4];

	if (!s->hv)
		return 0;

	switch (s->hv->rule) {
	case PVG_RULE_ANY:
		return s->base;
	case PVG_RULE_MIN_LEAVES:
		/* Unsigned on purpose: the stock check wraps the same way. */
		return s->max_leaf - s->base >= s->hv->min_leaves ? s->base : 0;
	case PVG_RULE_FIRST_BASE:
		return s->base == PVG_LEAF_FIRST ? s->base : 0;
	case PVG_RULE_HYPERV:
		if (s->base != PVG_LEAF_FIRST ||
		    s->max_leaf < PVG_HYPERV_MIN_LEAF ||
		    s->max_leaf > PVG_HYPERV_MAX_LEAF)
			return 0;
		cpuid(ctx, PVG_HYPERV_FEATURES, regs);
		if ((regs[0] & PVG_HYPERV_NEEDED) != PVG_HYPERV_NEEDED)
			return 0;
		return s->base;
	case PVG_RULE_NONE:
		break;
	}
	return 0;
}

/**
 * pvg_detect_scan() - scan the hypervisor CPUID range
 * @d: the result, overwritten
 * @hypervisor_bit: whether CPUID.1:ECX[31] is set
 * @cpuid: reads a CPUID leaf
 * @ctx: passed to @cpuid
 *
 * Records every plausible signature between 0x40000000 and 0x4000ff00, picks
 * the active hypervisor and, when that is KVM, reads its feature leaf.
 */
void pvg_detect_scan(struct pvg_detect *d, bool hypervisor_bit,
		     pvg_cpuid_fn cpuid, void *ctx)
{
	u32 leaf, regs[4], best = 0;
	struct pvg_sig *s;

	memset(d, 0, sizeof(*d));
	d->hypervisor_bit = hypervisor_bit;
	if (!hypervisor_bit)
		return;

	for (leaf = PVG_LEAF_FIRST; leaf <= PVG_LEAF_LAST; leaf += PVG_LEAF_STEP) {
		char raw[PVG_SIG_LEN];

		cpuid(ctx, leaf, regs);
		memcpy(raw, &regs[1], 4);
		memcpy(raw + 4, &regs[2], 4);
		memcpy(raw + 8, &regs[3], 4);
		if (pvg_sig_empty(raw))
			continue;
		if (!pvg_sig_plausible(raw)) {
			d->nr_garbage++;
			continue;
		}
		if (d->nr_sigs == PVG_MAX_SIGS) {
			d->nr_dropped++;
			continue;
		}
		s = &d->sigs[d->nr_sigs++];
		s->base = leaf;
		s->max_leaf = regs[0];
		memcpy(s->raw, raw, PVG_SIG_LEN);
		s->hv = pvg_hv_lookup(raw);
		s->priority = pvg_priority(s, cpuid, ctx);
	}

	/* Highest priority wins; on a tie the earlier table entry does. */
	for (s = d->sigs; s < d->sigs + d->nr_sigs; s++) {
		if (!s->priority)
			continue;
		if (s->priority > best ||
		    (s->priority == best && s->hv < d->active->hv)) {
			best = s->priority;
			d->active = s;
		}
	}

	if (d->active && !strcmp(d->active->hv->name, "kvm")) {
		cpuid(ctx, d->active->base + 1, regs);
		d->features = regs[0];
		d->hints = regs[3];
	}
}

/**
 * pvg_detect_name() - the name reported in /sys/kernel/pvguest/hypervisor
 * @d: a scan result
 *
 * Return: the active hypervisor's name, "none" when the CPU does not run
 * under a hypervisor, "unknown" when it does but no signature qualifies.
 */
const char *pvg_detect_name(const struct pvg_detect *d)
{
	if (!d->hypervisor_bit)
		return "none";
	return d->active ? d->active->hv->name : "unknown";
}

/**
 * pvg_sig_format() - format one line of /sys/kernel/pvguest/signatures
 * @s: the signature
 * @buf: output buffer
 * @size: its size
 *
 * The line is: base leaf, the signature in double quotes (trailing NULs
 * dropped, other NULs, quotes and backslashes escaped), max leaf, name
 * ("unknown" for a signature pvguest does not recognize).
 *
 * Return: the number of characters written, as scnprintf().
 */
int pvg_sig_format(const struct pvg_sig *s, char *buf, size_t size)
{
	char text[PVG_SIG_LEN * 4 + 1];
	unsigned int i, len = PVG_SIG_LEN, n = 0;

	while (len && !s->raw[len - 1])
		len--;
	for (i = 0; i < len; i++) {
		char c = s->raw[i];

		if (c == '"' || c == '\\')
			n += scnprintf(text + n, sizeof(text) - n, "\\%c", c);
		else if (c < 0x20 || c > 0x7e)
			n += scnprintf(text + n, sizeof(text) - n, "\\x%02x",
				       (u8)c);
		else
			text[n++] = c;
	}
	text[n] = '\0';

	return scnprintf(buf, size, "0x%08x \"%s\" 0x%08x %s\n", s->base, text,
			 s->max_leaf, s->hv ? s->hv->name : "unknown");
}

static int pvg_bits_format(u32 word, const char * const names[32],
			   const char *unknown, char *buf, size_t size)
{
	unsigned long bits = word;
	int bit, n = 0;

	for_each_set_bit(bit, &bits, 32) {
		if (names[bit])
			n += scnprintf(buf + n, size - n, "%s\n", names[bit]);
		else
			n += scnprintf(buf + n, size - n, "%s%d\n", unknown, bit);
	}
	return n;
}

/**
 * pvg_features_format() - format /sys/kernel/pvguest/features
 * @d: a scan result
 * @buf: output buffer
 * @size: its size
 *
 * One feature per line, by name: the KVM feature bits of leaf base + 1 EAX
 * and the hint bits of its EDX.  Bits without a name show as FEATURE_BIT<n>
 * or HINT_BIT<n>.  Other hypervisors' features are not decoded (yet), so the
 * file is empty for them.
 *
 * Return: the number of characters written.
 */
int pvg_features_format(const struct pvg_detect *d, char *buf, size_t size)
{
	int n;

	n = pvg_bits_format(d->features, pvg_kvm_feature_names, "FEATURE_BIT",
			    buf, size);
	n += pvg_bits_format(d->hints, pvg_kvm_hint_names, "HINT_BIT",
			     buf + n, size - n);
	return n;
}
