// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for pvguest hypervisor detection.  Every case feeds the
 * scanner a made-up set of CPUID leaves; no real CPUID is executed.
 */

#include <kunit/test.h>
#include <linux/string.h>

#include "pvguest.h"

struct pvg_fake_leaf {
	u32 leaf;
	u32 regs[4];
	bool set;
};

/**
 * struct pvg_fake_cpu - a CPU as the scanner sees it
 * @leaves: the leaves it answers; any other leaf reads as @other
 * @other: the answer to leaves not in @leaves
 * @reads: number of CPUID reads the scanner made
 */
struct pvg_fake_cpu {
	struct pvg_fake_leaf leaves[8];
	u32 other[4];
	unsigned int reads;
};

/* Builds the register image of a base leaf: EAX max leaf, EBX:ECX:EDX sig. */
static void pvg_fake_sig(struct pvg_fake_cpu *cpu, unsigned int slot,
			 u32 base, const char *sig, u32 max_leaf)
{
	struct pvg_fake_leaf *l = &cpu->leaves[slot];

	l->leaf = base;
	l->regs[0] = max_leaf;
	memcpy(&l->regs[1], sig, PVG_SIG_LEN);
	l->set = true;
}

static void pvg_fake_regs(struct pvg_fake_cpu *cpu, unsigned int slot,
			  u32 leaf, u32 eax, u32 edx)
{
	struct pvg_fake_leaf *l = &cpu->leaves[slot];

	l->leaf = leaf;
	l->regs[0] = eax;
	l->regs[3] = edx;
	l->set = true;
}

/**
 * struct pvg_kt - per-test state, too large for the stack
 * @cpu: the fake CPU
 * @d: the scan result
 * @buf: formatting buffer
 */
struct pvg_kt {
	struct pvg_fake_cpu cpu;
	struct pvg_detect d;
	char buf[512];
};

static int pvg_kt_init(struct kunit *test)
{
	test->priv = kunit_kzalloc(test, sizeof(struct pvg_kt), GFP_KERNEL);
	return test->priv ? 0 : -ENOMEM;
}

static void pvg_fake_cpuid(void *ctx, u32 leaf, u32 regs[4])
{
	struct pvg_fake_cpu *cpu = ctx;
	unsigned int i;

	cpu->reads++;
	for (i = 0; i < ARRAY_SIZE(cpu->leaves); i++) {
		if (cpu->leaves[i].set && cpu->leaves[i].leaf == leaf) {
			memcpy(regs, cpu->leaves[i].regs, 4 * sizeof(u32));
			return;
		}
	}
	memcpy(regs, cpu->other, 4 * sizeof(u32));
}

static void pvg_test_bare_metal(struct kunit *test)
{
	struct pvg_kt *t = test->priv;

	pvg_fake_sig(&t->cpu, 0, 0x40000000, "KVMKVMKVM\0\0\0", 0x40000001);
	pvg_detect_scan(&t->d, false, pvg_fake_cpuid, &t->cpu);
	KUNIT_EXPECT_STREQ(test, pvg_detect_name(&t->d), "none");
	KUNIT_EXPECT_EQ(test, t->d.nr_sigs, 0U);
	/* Without the hypervisor bit the range must not even be read. */
	KUNIT_EXPECT_EQ(test, t->cpu.reads, 0U);
}

static void pvg_test_empty_leaves(struct kunit *test)
{
	struct pvg_kt *t = test->priv;

	pvg_detect_scan(&t->d, true, pvg_fake_cpuid, &t->cpu);
	KUNIT_EXPECT_STREQ(test, pvg_detect_name(&t->d), "unknown");
	KUNIT_EXPECT_EQ(test, t->d.nr_sigs, 0U);
	KUNIT_EXPECT_EQ(test, t->d.nr_garbage, 0U);
	/* 256 base leaves from 0x40000000 to 0x4000ff00. */
	KUNIT_EXPECT_EQ(test, t->cpu.reads, 256U);
}

static void pvg_test_tcg(struct kunit *test)
{
	struct pvg_kt *t = test->priv;

	pvg_fake_sig(&t->cpu, 0, 0x40000000, "TCGTCGTCGTCG", 0x40000001);
	pvg_detect_scan(&t->d, true, pvg_fake_cpuid, &t->cpu);
	KUNIT_EXPECT_STREQ(test, pvg_detect_name(&t->d), "tcg");
	KUNIT_ASSERT_EQ(test, t->d.nr_sigs, 1U);
	KUNIT_EXPECT_EQ(test, t->d.features, 0U);
	pvg_sig_format(&t->d.sigs[0], t->buf, sizeof(t->buf));
	KUNIT_EXPECT_STREQ(test, t->buf,
			   "0x40000000 \"TCGTCGTCGTCG\" 0x40000001 tcg\n");
	KUNIT_EXPECT_EQ(test, pvg_features_format(&t->d, t->buf, sizeof(t->buf)), 0);
}

static void pvg_test_kvm_features(struct kunit *test)
{
	struct pvg_kt *t = test->priv;

	pvg_fake_sig(&t->cpu, 0, 0x40000000, "KVMKVMKVM\0\0\0", 0x40000001);
	/* CLOCKSOURCE, PV_UNHALT, PV_SEND_IPI, bit 30 unnamed; REALTIME. */
	pvg_fake_regs(&t->cpu, 1, 0x40000001,
		      BIT(0) | BIT(7) | BIT(11) | BIT(30), BIT(0));
	pvg_detect_scan(&t->d, true, pvg_fake_cpuid, &t->cpu);
	KUNIT_EXPECT_STREQ(test, pvg_detect_name(&t->d), "kvm");
	KUNIT_EXPECT_EQ(test, t->d.features, BIT(0) | BIT(7) | BIT(11) | BIT(30));
	KUNIT_EXPECT_EQ(test, t->d.hints, BIT(0));
	pvg_features_format(&t->d, t->buf, sizeof(t->buf));
	KUNIT_EXPECT_STREQ(test, t->buf,
			   "CLOCKSOURCE\nPV_UNHALT\nPV_SEND_IPI\nFEATURE_BIT30\nHINTS_REALTIME\n");
	pvg_sig_format(&t->d.sigs[0], t->buf, sizeof(t->buf));
	KUNIT_EXPECT_STREQ(test, t->buf,
			   "0x40000000 \"KVMKVMKVM\" 0x40000001 kvm\n");
}

/* QEMU with hv-* flags: Hyper-V at the first base, KVM moved up one. */
static void pvg_test_hyperv_and_kvm(struct kunit *test)
{
	struct pvg_kt *t = test->priv;

	pvg_fake_sig(&t->cpu, 0, 0x40000000, "Microsoft Hv", 0x4000000b);
	pvg_fake_regs(&t->cpu, 1, 0x40000003, BIT(5) | BIT(6), 0);
	pvg_fake_sig(&t->cpu, 2, 0x40000100, "KVMKVMKVM\0\0\0", 0x40000101);
	pvg_fake_regs(&t->cpu, 3, 0x40000101, BIT(11), 0);
	pvg_detect_scan(&t->d, true, pvg_fake_cpuid, &t->cpu);
	KUNIT_ASSERT_EQ(test, t->d.nr_sigs, 2U);
	KUNIT_EXPECT_STREQ(test, t->d.sigs[0].hv->name, "hyperv");
	KUNIT_EXPECT_EQ(test, t->d.sigs[0].base, 0x40000000U);
	KUNIT_EXPECT_EQ(test, t->d.sigs[0].priority, 0x40000000U);
	KUNIT_EXPECT_STREQ(test, t->d.sigs[1].hv->name, "kvm");
	KUNIT_EXPECT_EQ(test, t->d.sigs[1].base, 0x40000100U);
	/* As in the stock kernel, the higher base wins. */
	KUNIT_EXPECT_STREQ(test, pvg_detect_name(&t->d), "kvm");
	KUNIT_EXPECT_EQ(test, t->d.features, BIT(11));
}

/* Hyper-V alone but without VP_INDEX: stock refuses it, so do we. */
static void pvg_test_hyperv_incomplete(struct kunit *test)
{
	struct pvg_kt *t = test->priv;

	pvg_fake_sig(&t->cpu, 0, 0x40000000, "Linux KVM Hv", 0x4000000b);
	pvg_fake_regs(&t->cpu, 1, 0x40000003, BIT(5), 0);
	pvg_detect_scan(&t->d, true, pvg_fake_cpuid, &t->cpu);
	KUNIT_ASSERT_EQ(test, t->d.nr_sigs, 1U);
	KUNIT_EXPECT_STREQ(test, t->d.sigs[0].hv->name, "hyperv");
	KUNIT_EXPECT_EQ(test, t->d.sigs[0].priority, 0U);
	KUNIT_EXPECT_STREQ(test, pvg_detect_name(&t->d), "unknown");
}

/* Hyper-V anywhere but the first base is not eligible either. */
static void pvg_test_hyperv_high_base(struct kunit *test)
{
	struct pvg_kt *t = test->priv;

	pvg_fake_sig(&t->cpu, 0, 0x40000200, "Microsoft Hv", 0x4000020b);
	pvg_fake_regs(&t->cpu, 1, 0x40000003, BIT(5) | BIT(6), 0);
	pvg_detect_scan(&t->d, true, pvg_fake_cpuid, &t->cpu);
	KUNIT_EXPECT_EQ(test, t->d.sigs[0].priority, 0U);
	KUNIT_EXPECT_STREQ(test, pvg_detect_name(&t->d), "unknown");
}

/* Every non-empty leaf reads as noise, as out-of-range leaves can. */
static void pvg_test_garbage(struct kunit *test)
{
	struct pvg_kt *t = test->priv;

	t->cpu.other[0] = 0xd;
	t->cpu.other[1] = 0x340;
	t->cpu.other[2] = 0x1;
	pvg_detect_scan(&t->d, true, pvg_fake_cpuid, &t->cpu);
	KUNIT_EXPECT_EQ(test, t->d.nr_sigs, 0U);
	KUNIT_EXPECT_EQ(test, t->d.nr_garbage, 256U);
	KUNIT_EXPECT_STREQ(test, pvg_detect_name(&t->d), "unknown");
}

/* Unknown but printable signatures are reported raw, escaped. */
static void pvg_test_unknown_signature(struct kunit *test)
{
	struct pvg_kt *t = test->priv;

	pvg_fake_sig(&t->cpu, 0, 0x40000000, "My\"Hyp\\v1\0\0\0", 0x40000003);
	pvg_fake_sig(&t->cpu, 1, 0x40000100, "ab\0cdefghijk", 0x40000101);
	pvg_detect_scan(&t->d, true, pvg_fake_cpuid, &t->cpu);
	/* The second has a NUL before the end: noise, not a signature. */
	KUNIT_ASSERT_EQ(test, t->d.nr_sigs, 1U);
	KUNIT_EXPECT_EQ(test, t->d.nr_garbage, 1U);
	KUNIT_EXPECT_NULL(test, t->d.sigs[0].hv);
	pvg_sig_format(&t->d.sigs[0], t->buf, sizeof(t->buf));
	KUNIT_EXPECT_STREQ(test, t->buf,
			   "0x40000000 \"My\\\"Hyp\\\\v1\" 0x40000003 unknown\n");
	KUNIT_EXPECT_STREQ(test, pvg_detect_name(&t->d), "unknown");
}

/* Old KVM leaves EAX at 0; stock still takes it, and so do we. */
static void pvg_test_max_below_base(struct kunit *test)
{
	struct pvg_kt *t = test->priv;

	pvg_fake_sig(&t->cpu, 0, 0x40000100, "KVMKVMKVM\0\0\0", 0);
	pvg_fake_sig(&t->cpu, 1, 0x40000200, "XenVMMXenVMM", 0x40000201);
	pvg_detect_scan(&t->d, true, pvg_fake_cpuid, &t->cpu);
	KUNIT_ASSERT_EQ(test, t->d.nr_sigs, 2U);
	KUNIT_EXPECT_EQ(test, t->d.sigs[0].priority, 0x40000100U);
	/* Xen needs two leaves past its base; it offers one. */
	KUNIT_EXPECT_EQ(test, t->d.sigs[1].priority, 0U);
	KUNIT_EXPECT_STREQ(test, pvg_detect_name(&t->d), "kvm");
}

/* The last base leaf is scanned; a byte-swapped Parallels id is known. */
static void pvg_test_last_leaf_and_variants(struct kunit *test)
{
	struct pvg_kt *t = test->priv;

	pvg_fake_sig(&t->cpu, 0, 0x40000000, " lrpepyh vr ", 0x40000010);
	pvg_fake_sig(&t->cpu, 1, 0x4000ff00, "VBoxVBoxVBox", 0x4000ff01);
	pvg_detect_scan(&t->d, true, pvg_fake_cpuid, &t->cpu);
	KUNIT_ASSERT_EQ(test, t->d.nr_sigs, 2U);
	KUNIT_EXPECT_STREQ(test, t->d.sigs[0].hv->name, "parallels");
	KUNIT_EXPECT_STREQ(test, t->d.sigs[1].hv->name, "virtualbox");
	KUNIT_EXPECT_STREQ(test, pvg_detect_name(&t->d), "virtualbox");
}

/* VMware is only eligible at the first base, where it then wins ties. */
static void pvg_test_vmware_rule(struct kunit *test)
{
	struct pvg_kt *t = test->priv;

	pvg_fake_sig(&t->cpu, 0, 0x40000100, "VMwareVMware", 0x40000110);
	pvg_detect_scan(&t->d, true, pvg_fake_cpuid, &t->cpu);
	KUNIT_EXPECT_STREQ(test, pvg_detect_name(&t->d), "unknown");

	memset(&t->cpu, 0, sizeof(t->cpu));
	pvg_fake_sig(&t->cpu, 0, 0x40000000, "VMwareVMware", 0x40000010);
	pvg_detect_scan(&t->d, true, pvg_fake_cpuid, &t->cpu);
	KUNIT_EXPECT_STREQ(test, pvg_detect_name(&t->d), "vmware");
}

/* The same signature everywhere: recorded up to the limit, rest counted. */
static void pvg_test_too_many(struct kunit *test)
{
	struct pvg_kt *t = test->priv;

	memcpy(&t->cpu.other[1], "ACRNACRNACRN", PVG_SIG_LEN);
	t->cpu.other[0] = 0x40000001;
	pvg_detect_scan(&t->d, true, pvg_fake_cpuid, &t->cpu);
	KUNIT_EXPECT_EQ(test, t->d.nr_sigs, (unsigned int)PVG_MAX_SIGS);
	KUNIT_EXPECT_EQ(test, t->d.nr_dropped, 256U - PVG_MAX_SIGS);
	/* Highest recorded base wins. */
	KUNIT_EXPECT_EQ(test, t->d.active->base,
			PVG_LEAF_FIRST + (PVG_MAX_SIGS - 1) * PVG_LEAF_STEP);
}

static struct kunit_case pvg_detect_cases[] = {
	KUNIT_CASE(pvg_test_bare_metal),
	KUNIT_CASE(pvg_test_empty_leaves),
	KUNIT_CASE(pvg_test_tcg),
	KUNIT_CASE(pvg_test_kvm_features),
	KUNIT_CASE(pvg_test_hyperv_and_kvm),
	KUNIT_CASE(pvg_test_hyperv_incomplete),
	KUNIT_CASE(pvg_test_hyperv_high_base),
	KUNIT_CASE(pvg_test_garbage),
	KUNIT_CASE(pvg_test_unknown_signature),
	KUNIT_CASE(pvg_test_max_below_base),
	KUNIT_CASE(pvg_test_last_leaf_and_variants),
	KUNIT_CASE(pvg_test_vmware_rule),
	KUNIT_CASE(pvg_test_too_many),
	{}
};

static struct kunit_suite pvg_detect_suite = {
	.name = "pvguest-detect",
	.init = pvg_kt_init,
	.test_cases = pvg_detect_cases,
};

kunit_test_suite(pvg_detect_suite);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests for pvguest hypervisor detection");
