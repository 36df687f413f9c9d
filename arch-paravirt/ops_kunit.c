// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for pvguest's operation switches: parsing pvguest.disable=
 * and deciding how each operation is carried out.
 */

#include <kunit/test.h>
#include <linux/bits.h>
#include <linux/kvm_para.h>

#include "pvguest.h"

static void pvg_test_parse_list(struct kunit *test)
{
	unsigned long mask;
	char bad[16];

	KUNIT_EXPECT_EQ(test, pvg_parse_ops("ipi,tlb", &mask, bad, sizeof(bad)), 0);
	KUNIT_EXPECT_EQ(test, mask, BIT(PVG_OP_IPI) | BIT(PVG_OP_TLB));
	KUNIT_EXPECT_STREQ(test, bad, "");

	/* Empty items are ignored; order does not matter. */
	KUNIT_EXPECT_EQ(test, pvg_parse_ops(",iodelay,,spin,", &mask, bad,
					    sizeof(bad)), 0);
	KUNIT_EXPECT_EQ(test, mask, BIT(PVG_OP_IODELAY) | BIT(PVG_OP_SPIN));

	KUNIT_EXPECT_EQ(test, pvg_parse_ops("", &mask, bad, sizeof(bad)), 0);
	KUNIT_EXPECT_EQ(test, mask, 0UL);

	KUNIT_EXPECT_EQ(test, pvg_parse_ops("all", &mask, bad, sizeof(bad)), 0);
	KUNIT_EXPECT_EQ(test, mask, GENMASK(PVG_NR_OPS - 1, 0));
}

static void pvg_test_parse_bad(struct kunit *test)
{
	unsigned long mask;
	char bad[8];

	/* Unknown names are counted, the first one reported, the rest kept. */
	KUNIT_EXPECT_EQ(test, pvg_parse_ops("ipi,bogus,yield,ip", &mask, bad,
					    sizeof(bad)), 2);
	KUNIT_EXPECT_EQ(test, mask, BIT(PVG_OP_IPI) | BIT(PVG_OP_YIELD));
	KUNIT_EXPECT_STREQ(test, bad, "bogus");

	/* Prefixes and longer names do not match; long names are truncated. */
	KUNIT_EXPECT_EQ(test, pvg_parse_ops("ipis,clockwork", &mask, bad,
					    sizeof(bad)), 2);
	KUNIT_EXPECT_EQ(test, mask, 0UL);
	KUNIT_EXPECT_STREQ(test, bad, "ipis");
	KUNIT_EXPECT_EQ(test, pvg_parse_ops("averyverylongname", &mask, bad,
					    sizeof(bad)), 1);
	KUNIT_EXPECT_STREQ(test, bad, "averyve");
	KUNIT_EXPECT_EQ(test, pvg_parse_ops("IPI", &mask, bad, sizeof(bad)), 1);
}

static void pvg_test_bits(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, pvg_op_bits(BIT(PVG_OP_IPI)),
			(u32)BIT(KVM_FEATURE_PV_SEND_IPI));
	KUNIT_EXPECT_EQ(test, pvg_op_bits(BIT(PVG_OP_CLOCK)),
			(u32)(BIT(KVM_FEATURE_CLOCKSOURCE) |
			      BIT(KVM_FEATURE_CLOCKSOURCE2) |
			      BIT(KVM_FEATURE_CLOCKSOURCE_STABLE_BIT)));
	KUNIT_EXPECT_EQ(test, pvg_op_bits(0), 0U);
}

/* QEMU -cpu host on a KVM host, 4 vCPUs. */
static const struct pvg_env pvg_host_env = {
	.pvguest_on = true,
	.hv_kvm = true,
	.kvm_guest = true,
	.offered = 0x01007afb,
	.ncpus = 4,
	.pvspin_built = true,
};

static void pvg_expect(struct kunit *test, const struct pvg_env *env,
		       enum pvg_op_id op, const char *impl, const char *reason)
{
	struct pvg_op_state st = pvg_op_decide(op, env);

	KUNIT_EXPECT_STREQ_MSG(test, st.impl, impl, "op %s", pvg_ops[op].name);
	if (reason)
		KUNIT_EXPECT_STREQ_MSG(test, st.reason ?: "(none)", reason,
				       "op %s", pvg_ops[op].name);
	else
		KUNIT_EXPECT_NULL_MSG(test, st.reason, "op %s",
				      pvg_ops[op].name);
}

static void pvg_test_decide_host(struct kunit *test)
{
	pvg_expect(test, &pvg_host_env, PVG_OP_IPI, "hypercall", NULL);
	pvg_expect(test, &pvg_host_env, PVG_OP_TLB, "shared-memory", NULL);
	pvg_expect(test, &pvg_host_env, PVG_OP_SPIN, "hypercall", NULL);
	pvg_expect(test, &pvg_host_env, PVG_OP_YIELD, "hypercall", NULL);
	pvg_expect(test, &pvg_host_env, PVG_OP_CLOCK, "shared-memory", NULL);
	pvg_expect(test, &pvg_host_env, PVG_OP_POLLCTL, "msr", NULL);
	pvg_expect(test, &pvg_host_env, PVG_OP_IODELAY, "no-op", NULL);
}

static void pvg_test_decide_reasons(struct kunit *test)
{
	struct pvg_env env = pvg_host_env;

	env.disabled = BIT(PVG_OP_IPI);
	pvg_expect(test, &env, PVG_OP_IPI, "native", "disabled on command line");
	pvg_expect(test, &env, PVG_OP_TLB, "shared-memory", NULL);

	/* Without steal time there is no preempted flag to use. */
	env.disabled = BIT(PVG_OP_STEAL);
	pvg_expect(test, &env, PVG_OP_TLB, "native", "needs steal time");
	pvg_expect(test, &env, PVG_OP_YIELD, "native", "needs steal time");
	pvg_expect(test, &env, PVG_OP_SPIN, "hypercall", NULL);

	env = pvg_host_env;
	env.offered &= ~BIT(KVM_FEATURE_PV_SEND_IPI);
	pvg_expect(test, &env, PVG_OP_IPI, "native", "host does not offer it");

	env = pvg_host_env;
	env.hints = BIT(KVM_HINTS_REALTIME);
	pvg_expect(test, &env, PVG_OP_SPIN, "native",
		   "host hints dedicated CPUs (KVM_HINTS_REALTIME)");
	pvg_expect(test, &env, PVG_OP_IPI, "hypercall", NULL);

	env = pvg_host_env;
	env.ncpus = 1;
	pvg_expect(test, &env, PVG_OP_IPI, "native", "single CPU");
	pvg_expect(test, &env, PVG_OP_STEAL, "shared-memory", NULL);

	env = pvg_host_env;
	env.nopvspin = true;
	env.no_kvmclock = true;
	pvg_expect(test, &env, PVG_OP_SPIN, "native", "nopvspin on command line");
	pvg_expect(test, &env, PVG_OP_CLOCK, "native",
		   "no-kvmclock on command line");
}

static void pvg_test_decide_not_kvm(struct kunit *test)
{
	struct pvg_env env = pvg_host_env;

	env.pvguest_on = false;
	pvg_expect(test, &env, PVG_OP_IPI, "stock",
		   "pvguest=off: the stock KVM guest code decides");

	env = (struct pvg_env){ .pvguest_on = true, .ncpus = 2 };
	pvg_expect(test, &env, PVG_OP_TLB, "native", "no hypercall interface");

	env = pvg_host_env;
	env.kvm_guest = false;
	pvg_expect(test, &env, PVG_OP_EOI, "native",
		   "KVM guest support off (nopv)");
}

static struct kunit_case pvg_ops_cases[] = {
	KUNIT_CASE(pvg_test_parse_list),
	KUNIT_CASE(pvg_test_parse_bad),
	KUNIT_CASE(pvg_test_bits),
	KUNIT_CASE(pvg_test_decide_host),
	KUNIT_CASE(pvg_test_decide_reasons),
	KUNIT_CASE(pvg_test_decide_not_kvm),
	{}
};

static struct kunit_suite pvg_ops_suite = {
	.name = "pvguest-ops",
	.test_cases = pvg_ops_cases,
};

kunit_test_suite(pvg_ops_suite);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests for pvguest operation switches");
