// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for pvballoon's protocol arithmetic: the page number arrays
 * sent to the virtio-balloon device, the clamping of the host's target and
 * the byte layout of the statistics.
 */

#include <kunit/test.h>
#include <linux/slab.h>

#include "pvballoon.h"

#define ROOM	2048

static __virtio32 *pvballoon_test_array(struct kunit *test)
{
	__virtio32 *pfns = kunit_kcalloc(test, ROOM, sizeof(*pfns), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, pfns);
	return pfns;
}

/* A 2 MiB chunk becomes 512 consecutive little-endian page numbers. */
static void pvballoon_test_pfns_chunk(struct kunit *test)
{
	__virtio32 *pfns = pvballoon_test_array(test);
	const u8 *raw = (const u8 *)pfns;
	unsigned int n, i;

	n = pvballoon_put_pfns(pfns, 0, ROOM, 0x40000, PVBALLOON_HUGE_PAGES,
			       true);
	KUNIT_ASSERT_EQ(test, n, PVBALLOON_HUGE_PAGES * PVBALLOON_PAGES_PER_PAGE);
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_EQ(test, __virtio32_to_cpu(true, pfns[i]),
				0x40000 * PVBALLOON_PAGES_PER_PAGE + i);
	/* Device byte order, whatever the CPU's: 0x00040000 is 00 00 04 00. */
	KUNIT_EXPECT_EQ(test, raw[0], 0x00);
	KUNIT_EXPECT_EQ(test, raw[2], 0x04);
	KUNIT_EXPECT_EQ(test, raw[3], 0x00);
	KUNIT_EXPECT_EQ(test, raw[4], 0x01);
}

/* Chunks and single pages mix in one request and fill it exactly. */
static void pvballoon_test_pfns_mixed(struct kunit *test)
{
	__virtio32 *pfns = pvballoon_test_array(test);
	unsigned int n = 0, want = 0;

	while (n + PVBALLOON_HUGE_PAGES * PVBALLOON_PAGES_PER_PAGE <= ROOM - 3) {
		n = pvballoon_put_pfns(pfns, n, ROOM, 0x1000 + n,
				       PVBALLOON_HUGE_PAGES, true);
		want += PVBALLOON_HUGE_PAGES * PVBALLOON_PAGES_PER_PAGE;
		KUNIT_ASSERT_EQ(test, n, want);
	}
	while (n < ROOM) {
		n = pvballoon_put_pfns(pfns, n, ROOM, 7, 1, true);
		want += PVBALLOON_PAGES_PER_PAGE;
		KUNIT_ASSERT_EQ(test, n, want);
	}
	KUNIT_EXPECT_EQ(test, __virtio32_to_cpu(true, pfns[ROOM - 1]),
			7 * PVBALLOON_PAGES_PER_PAGE +
			PVBALLOON_PAGES_PER_PAGE - 1);
	/* Full: nothing more goes in, nothing is overwritten. */
	KUNIT_EXPECT_EQ(test, pvballoon_put_pfns(pfns, n, ROOM, 9, 1, true), n);
	KUNIT_EXPECT_EQ(test, __virtio32_to_cpu(true, pfns[ROOM - 1]),
			7 * PVBALLOON_PAGES_PER_PAGE +
			PVBALLOON_PAGES_PER_PAGE - 1);
}

/* A chunk that does not fit whole is refused whole. */
static void pvballoon_test_pfns_no_room(struct kunit *test)
{
	__virtio32 *pfns = pvballoon_test_array(test);

	pfns[ROOM - 100] = __cpu_to_virtio32(true, 0xdead);
	KUNIT_EXPECT_EQ(test, pvballoon_put_pfns(pfns, ROOM - 100, ROOM, 1,
						 PVBALLOON_HUGE_PAGES, true),
			ROOM - 100);
	KUNIT_EXPECT_EQ(test, __virtio32_to_cpu(true, pfns[ROOM - 100]), 0xdead);
	/* A used count beyond the room never wraps into a huge room. */
	KUNIT_EXPECT_EQ(test, pvballoon_put_pfns(pfns, ROOM + 1, ROOM, 1, 1,
						 true), ROOM + 1);
	KUNIT_EXPECT_EQ(test, pvballoon_put_pfns(pfns, 0, ROOM, 1, ULONG_MAX,
						 true), 0);
}

/* Page numbers that do not fit the device's 32 bits are refused. */
static void pvballoon_test_pfns_too_high(struct kunit *test)
{
	__virtio32 *pfns = pvballoon_test_array(test);
	unsigned long last = U32_MAX / PVBALLOON_PAGES_PER_PAGE;

	KUNIT_EXPECT_EQ(test, pvballoon_put_pfns(pfns, 0, ROOM, last, 1, true),
			PVBALLOON_PAGES_PER_PAGE);
	KUNIT_EXPECT_EQ(test, __virtio32_to_cpu(true, pfns[0]),
			last * PVBALLOON_PAGES_PER_PAGE);
	KUNIT_EXPECT_EQ(test, pvballoon_put_pfns(pfns, 0, ROOM, last + 1, 1,
						 true), 0);
	KUNIT_EXPECT_EQ(test, pvballoon_put_pfns(pfns, 0, ROOM, last - 1,
						 PVBALLOON_HUGE_PAGES, true), 0);
	KUNIT_EXPECT_EQ(test, pvballoon_put_pfns(pfns, 0, ROOM, ULONG_MAX, 1,
						 true), 0);
}

/* Targets the guest can meet are taken as they are. */
static void pvballoon_test_goal_plain(struct kunit *test)
{
	unsigned long ppp = PVBALLOON_PAGES_PER_PAGE;
	bool clamped = true;

	/* Empty balloon, 512 MiB asked, 900 MiB available, 32 MiB kept. */
	KUNIT_EXPECT_EQ(test, pvballoon_goal(131072 * ppp, 0, 230400, 8192,
					     &clamped), 131072UL);
	KUNIT_EXPECT_FALSE(test, clamped);
	/* Shrinking is never clamped, even with nothing available. */
	KUNIT_EXPECT_EQ(test, pvballoon_goal(0, 131072, 0, 8192, &clamped), 0UL);
	KUNIT_EXPECT_FALSE(test, clamped);
	KUNIT_EXPECT_EQ(test, pvballoon_goal(1000 * ppp, 5000, 0, 8192,
					     &clamped), 1000UL);
	KUNIT_EXPECT_FALSE(test, clamped);
}

/* Targets above what the guest has stop at the reserve. */
static void pvballoon_test_goal_above_ram(struct kunit *test)
{
	bool clamped = false;

	/* All of a 1 GiB guest, and more: keep 32 MiB available. */
	KUNIT_EXPECT_EQ(test, pvballoon_goal(262144, 0, 250000, 8192,
					     &clamped), 250000UL - 8192);
	KUNIT_EXPECT_TRUE(test, clamped);
	KUNIT_EXPECT_EQ(test, pvballoon_goal(U32_MAX, 0, 250000, 8192,
					     &clamped), 250000UL - 8192);
	KUNIT_EXPECT_TRUE(test, clamped);
	/* Already holding some: grows by what is left above the reserve. */
	KUNIT_EXPECT_EQ(test, pvballoon_goal(U32_MAX, 100000, 50000, 8192,
					     &clamped), 100000UL + 50000 - 8192);
	KUNIT_EXPECT_TRUE(test, clamped);
	/* Below the reserve already: stay, do not shrink. */
	KUNIT_EXPECT_EQ(test, pvballoon_goal(U32_MAX, 100000, 4000, 8192,
					     &clamped), 100000UL);
	KUNIT_EXPECT_TRUE(test, clamped);
}

static void pvballoon_test_bytes(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, pvballoon_pages_to_bytes(0), 0ULL);
	KUNIT_EXPECT_EQ(test, pvballoon_pages_to_bytes(262144), 1ULL << 30);
	KUNIT_EXPECT_EQ(test, pvballoon_pages_to_bytes(U64_MAX >> PAGE_SHIFT),
			(U64_MAX >> PAGE_SHIFT) << PAGE_SHIFT);
	KUNIT_EXPECT_EQ(test, pvballoon_pages_to_bytes((U64_MAX >> PAGE_SHIFT) + 1),
			U64_MAX);
	KUNIT_EXPECT_EQ(test, pvballoon_pages_to_bytes(U64_MAX), U64_MAX);
}

/* Statistics are packed 10-byte tag/value pairs in device byte order. */
static void pvballoon_test_stats_layout(struct kunit *test)
{
	struct virtio_balloon_stat st[2];
	const u8 *raw = (const u8 *)st;
	unsigned int idx;

	KUNIT_ASSERT_EQ(test, sizeof(st), 20UL);
	idx = pvballoon_put_stat(st, 0, VIRTIO_BALLOON_S_MEMFREE,
				 0x0102030405060708ULL, true);
	idx = pvballoon_put_stat(st, idx, VIRTIO_BALLOON_S_MEMTOT, 1, true);
	KUNIT_EXPECT_EQ(test, idx, 2U);
	KUNIT_EXPECT_EQ(test, raw[0], VIRTIO_BALLOON_S_MEMFREE);
	KUNIT_EXPECT_EQ(test, raw[1], 0);
	KUNIT_EXPECT_EQ(test, raw[2], 0x08);
	KUNIT_EXPECT_EQ(test, raw[9], 0x01);
	KUNIT_EXPECT_EQ(test, raw[10], VIRTIO_BALLOON_S_MEMTOT);
	KUNIT_EXPECT_EQ(test, raw[12], 1);
	KUNIT_EXPECT_EQ(test, raw[19], 0);
}

static struct kunit_case pvballoon_test_cases[] = {
	KUNIT_CASE(pvballoon_test_pfns_chunk),
	KUNIT_CASE(pvballoon_test_pfns_mixed),
	KUNIT_CASE(pvballoon_test_pfns_no_room),
	KUNIT_CASE(pvballoon_test_pfns_too_high),
	KUNIT_CASE(pvballoon_test_goal_plain),
	KUNIT_CASE(pvballoon_test_goal_above_ram),
	KUNIT_CASE(pvballoon_test_bytes),
	KUNIT_CASE(pvballoon_test_stats_layout),
	{}
};

static struct kunit_suite pvballoon_test_suite = {
	.name = "pvballoon",
	.test_cases = pvballoon_test_cases,
};

kunit_test_suite(pvballoon_test_suite);

MODULE_DESCRIPTION("KUnit tests for pvballoon");
MODULE_LICENSE("GPL");
