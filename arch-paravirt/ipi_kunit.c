// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the packing of IPI destinations into KVM_HC_SEND_IPI
 * windows: dense, sparse, far apart, unsorted and large sets of APIC IDs,
 * and the native fallback when the host refuses a window.  Made-up CPUs
 * and APIC IDs; no hypercall is made.
 */

#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/slab.h>

#include "pvguest.h"

#define PVG_TEST_CPUS	1024
#define PVG_TEST_WINS	PVG_TEST_CPUS

/**
 * struct pvg_ipi_test - a made-up machine and what was sent to it
 * @ids: APIC ID of each CPU
 * @wins: the windows sent
 * @nr_wins: number of windows sent, failed ones included
 * @fail_at: the window (counting from 0) the host refuses, or -1
 * @native: CPUs that got the IPI natively
 */
struct pvg_ipi_test {
	u32 ids[PVG_TEST_CPUS];
	struct pvg_ipi_win wins[PVG_TEST_WINS];
	unsigned int nr_wins;
	int fail_at;
	DECLARE_BITMAP(native, PVG_TEST_CPUS);
};

static u32 pvg_test_id_of(unsigned int cpu, void *ctx)
{
	struct pvg_ipi_test *t = ctx;

	return t->ids[cpu];
}

static long pvg_test_send(const struct pvg_ipi_win *w, void *ctx)
{
	struct pvg_ipi_test *t = ctx;

	if (t->nr_wins >= PVG_TEST_WINS)
		return -E2BIG;
	t->wins[t->nr_wins++] = *w;
	return (int)t->nr_wins - 1 == t->fail_at ? -EINVAL : 0;
}

static void pvg_test_native(unsigned int cpu, void *ctx)
{
	struct pvg_ipi_test *t = ctx;

	__set_bit(cpu, t->native);
}

/* A machine whose APIC IDs are unique and far from the ones tests set. */
static struct pvg_ipi_test *pvg_test_alloc(struct kunit *test)
{
	struct pvg_ipi_test *t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, t);
	for (i = 0; i < PVG_TEST_CPUS; i++)
		t->ids[i] = 0x40000000U + i;
	t->fail_at = -1;
	return t;
}

/*
 * Send to @cpus (leaving out @skip) and check that every destination got
 * exactly one IPI, by a window or natively, and nothing else did; that
 * every window spans at most PVG_IPI_WIN_BITS IDs, starting and ending
 * with a destination.  Returns the number of windows sent.
 */
static unsigned int pvg_test_run(struct kunit *test, struct pvg_ipi_test *t,
				 const unsigned long *cpus, unsigned int skip)
{
	unsigned int cpu, i, got, want, n = 0, bad = 0;
	unsigned int first = 0, first_got = 0;
	long ret;

	ret = pvg_ipi_pack(cpus, PVG_TEST_CPUS, skip, pvg_test_id_of,
			   pvg_test_send, pvg_test_native, t);
	KUNIT_EXPECT_EQ(test, ret, t->fail_at >= 0 &&
			t->fail_at < (int)t->nr_wins ? -EINVAL : 0);

	for (i = 0; i < t->nr_wins; i++) {
		KUNIT_EXPECT_GE(test, t->wins[i].top, 0);
		KUNIT_EXPECT_LT(test, t->wins[i].top, PVG_IPI_WIN_BITS);
		KUNIT_EXPECT_TRUE(test, test_bit(0, t->wins[i].bits));
		KUNIT_EXPECT_TRUE(test, test_bit(t->wins[i].top, t->wins[i].bits));
	}
	for (cpu = 0; cpu < PVG_TEST_CPUS; cpu++) {
		got = test_bit(cpu, t->native);
		for (i = 0; i < t->nr_wins; i++)
			if ((int)i != t->fail_at &&
			    pvg_ipi_win_has(&t->wins[i], t->ids[cpu]))
				got++;
		want = test_bit(cpu, cpus) && cpu != skip;
		n += want;
		if (got != want && !bad++) {
			first = cpu;
			first_got = got;
		}
	}
	/* One report, not one per CPU: a flood of them stalls a slow guest. */
	KUNIT_EXPECT_EQ_MSG(test, bad, 0U,
			    "first: cpu %u, APIC ID %u, got %u IPIs", first,
			    t->ids[first], first_got);
	/* Each window holds at least one destination. */
	KUNIT_EXPECT_LE(test, t->nr_wins, n);
	return t->nr_wins;
}

/* CPU n gets APIC ID n; CPUs 0 to @n - 1 are the destinations. */
static void pvg_test_first_cpus(struct pvg_ipi_test *t, unsigned long *cpus,
				unsigned int n)
{
	unsigned int i;

	for (i = 0; i < PVG_TEST_CPUS; i++)
		t->ids[i] = i;
	bitmap_zero(cpus, PVG_TEST_CPUS);
	bitmap_set(cpus, 0, n);
}

static void pvg_test_ipi_dense(struct kunit *test)
{
	struct pvg_ipi_test *t = pvg_test_alloc(test);
	DECLARE_BITMAP(cpus, PVG_TEST_CPUS);

	pvg_test_first_cpus(t, cpus, 300);
	KUNIT_EXPECT_EQ(test, pvg_test_run(test, t, cpus, PVG_TEST_CPUS),
			DIV_ROUND_UP(300, PVG_IPI_WIN_BITS));
	KUNIT_EXPECT_EQ(test, t->wins[0].base, 0U);
	KUNIT_EXPECT_EQ(test, t->wins[1].base, (u32)PVG_IPI_WIN_BITS);
	KUNIT_EXPECT_EQ(test, t->wins[2].top, 300 - 1 - 2 * PVG_IPI_WIN_BITS);
}

static void pvg_test_ipi_edges(struct kunit *test)
{
	struct pvg_ipi_test *t = pvg_test_alloc(test);
	DECLARE_BITMAP(cpus, PVG_TEST_CPUS);

	/* IDs PVG_IPI_WIN_BITS - 1 apart share a window ... */
	t->ids[0] = 5;
	t->ids[1] = 5 + PVG_IPI_WIN_BITS - 1;
	bitmap_zero(cpus, PVG_TEST_CPUS);
	bitmap_set(cpus, 0, 2);
	KUNIT_EXPECT_EQ(test, pvg_test_run(test, t, cpus, PVG_TEST_CPUS), 1U);

	/* ... IDs PVG_IPI_WIN_BITS apart do not, in either order. */
	t = pvg_test_alloc(test);
	t->ids[0] = 5;
	t->ids[1] = 5 + PVG_IPI_WIN_BITS;
	KUNIT_EXPECT_EQ(test, pvg_test_run(test, t, cpus, PVG_TEST_CPUS), 2U);
	t = pvg_test_alloc(test);
	t->ids[0] = 5 + PVG_IPI_WIN_BITS;
	t->ids[1] = 5;
	KUNIT_EXPECT_EQ(test, pvg_test_run(test, t, cpus, PVG_TEST_CPUS), 2U);

	/* Nothing to send: no hypercall. */
	t = pvg_test_alloc(test);
	bitmap_zero(cpus, PVG_TEST_CPUS);
	KUNIT_EXPECT_EQ(test, pvg_test_run(test, t, cpus, PVG_TEST_CPUS), 0U);
}

static void pvg_test_ipi_sparse(struct kunit *test)
{
	static const u32 far[] = { 0, 1000, 5000, 1U << 20, 0xfffffff0U,
				   0xffffffffU };
	struct pvg_ipi_test *t = pvg_test_alloc(test);
	DECLARE_BITMAP(cpus, PVG_TEST_CPUS);
	unsigned int i;

	/* Far apart: one window each, except the last two that share one. */
	bitmap_zero(cpus, PVG_TEST_CPUS);
	for (i = 0; i < ARRAY_SIZE(far); i++) {
		t->ids[i * 7] = far[i];
		__set_bit(i * 7, cpus);
	}
	KUNIT_EXPECT_EQ(test, pvg_test_run(test, t, cpus, PVG_TEST_CPUS),
			(unsigned int)ARRAY_SIZE(far) - 1);

	/* Every other ID: two windows cover 2 * PVG_IPI_WIN_BITS IDs. */
	t = pvg_test_alloc(test);
	for (i = 0; i < PVG_TEST_CPUS; i++)
		t->ids[i] = 2 * i;
	bitmap_zero(cpus, PVG_TEST_CPUS);
	bitmap_set(cpus, 0, PVG_IPI_WIN_BITS);
	KUNIT_EXPECT_EQ(test, pvg_test_run(test, t, cpus, PVG_TEST_CPUS), 2U);
}

static void pvg_test_ipi_unsorted(struct kunit *test)
{
	struct pvg_ipi_test *t = pvg_test_alloc(test);
	DECLARE_BITMAP(cpus, PVG_TEST_CPUS);
	unsigned int i;

	/* Descending IDs grow the window downward: one window. */
	for (i = 0; i < PVG_IPI_WIN_BITS; i++)
		t->ids[i] = 1000 - i;
	bitmap_zero(cpus, PVG_TEST_CPUS);
	bitmap_set(cpus, 0, PVG_IPI_WIN_BITS);
	KUNIT_EXPECT_EQ(test, pvg_test_run(test, t, cpus, PVG_TEST_CPUS), 1U);
	KUNIT_EXPECT_EQ(test, t->wins[0].base, 1000U - PVG_IPI_WIN_BITS + 1);

	/* A shuffled large set, IDs spread over 4096: exact delivery. */
	t = pvg_test_alloc(test);
	for (i = 0; i < PVG_TEST_CPUS; i++)
		t->ids[i] = (i * 2654435761U) % 4096;
	bitmap_fill(cpus, PVG_TEST_CPUS);
	pvg_test_run(test, t, cpus, PVG_TEST_CPUS);
}

static void pvg_test_ipi_skip(struct kunit *test)
{
	struct pvg_ipi_test *t = pvg_test_alloc(test);
	DECLARE_BITMAP(cpus, PVG_TEST_CPUS);

	pvg_test_first_cpus(t, cpus, 4);
	KUNIT_EXPECT_EQ(test, pvg_test_run(test, t, cpus, 2), 1U);
	KUNIT_EXPECT_FALSE(test, pvg_ipi_win_has(&t->wins[0], 2));

	/* Only the skipped CPU: nothing is sent. */
	t = pvg_test_alloc(test);
	bitmap_zero(cpus, PVG_TEST_CPUS);
	__set_bit(3, cpus);
	KUNIT_EXPECT_EQ(test, pvg_test_run(test, t, cpus, 3), 0U);
}

static void pvg_test_ipi_fallback(struct kunit *test)
{
	/* CPUs 10..169 but 20, APIC ID 3 * CPU: windows of 42, 43, 43, 31. */
	static const unsigned int native[] = { 159, 117, 74, 31, 0 };
	DECLARE_BITMAP(cpus, PVG_TEST_CPUS);
	struct pvg_ipi_test *t;
	unsigned int i, fail;

	/* A refused window, first to last, or none: the rest goes native. */
	bitmap_zero(cpus, PVG_TEST_CPUS);
	bitmap_set(cpus, 10, 160);
	for (fail = 0; fail < ARRAY_SIZE(native); fail++) {
		t = pvg_test_alloc(test);
		for (i = 0; i < PVG_TEST_CPUS; i++)
			t->ids[i] = i * 3;
		t->fail_at = fail;
		pvg_test_run(test, t, cpus, 20);
		KUNIT_EXPECT_EQ(test, t->nr_wins, min(fail + 1, 4U));
		KUNIT_EXPECT_EQ(test, bitmap_weight(t->native, PVG_TEST_CPUS),
				native[fail]);
	}
}

static struct kunit_case pvg_ipi_test_cases[] = {
	KUNIT_CASE(pvg_test_ipi_dense),
	KUNIT_CASE(pvg_test_ipi_edges),
	KUNIT_CASE(pvg_test_ipi_sparse),
	KUNIT_CASE(pvg_test_ipi_unsorted),
	KUNIT_CASE(pvg_test_ipi_skip),
	KUNIT_CASE(pvg_test_ipi_fallback),
	{}
};

static struct kunit_suite pvg_ipi_test_suite = {
	.name = "pvguest-ipi",
	.test_cases = pvg_ipi_test_cases,
};

kunit_test_suite(pvg_ipi_test_suite);
