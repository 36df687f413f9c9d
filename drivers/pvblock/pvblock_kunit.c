// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for pvblock's device-independent logic: the block-layer
 * limits derived from a virtio-blk configuration, with every kind of value
 * a broken or hostile device may offer, the command type of each request
 * operation, the judgement of status bytes and used lengths, and disk names.
 */

#include <kunit/test.h>
#include <linux/string.h>

#include "pvblock.h"

/* What QEMU 7.2 offers for a plain 4-queue disk with discard. */
static struct pvblk_devcfg pvblk_test_cfg(void)
{
	return (struct pvblk_devcfg){
		.features = BIT_ULL(VIRTIO_BLK_F_SEG_MAX) |
			    BIT_ULL(VIRTIO_BLK_F_BLK_SIZE) |
			    BIT_ULL(VIRTIO_BLK_F_TOPOLOGY) |
			    BIT_ULL(VIRTIO_BLK_F_MQ) |
			    BIT_ULL(VIRTIO_BLK_F_DISCARD) |
			    BIT_ULL(VIRTIO_BLK_F_WRITE_ZEROES),
		.capacity = 2097152,
		.seg_max = 254,
		.blk_size = 512,
		.num_queues = 4,
		.max_discard_sectors = 0x3fffff,
		.max_discard_seg = 1,
		.discard_sector_alignment = 8,
		.max_write_zeroes_sectors = 0x3fffff,
		.max_write_zeroes_seg = 1,
		.write_zeroes_may_unmap = 1,
		.dma_max = U32_MAX,
		.page_size = 4096,
		.nr_cpus = 2,
	};
}

/* A well-formed configuration passes through unchanged. */
static void pvblk_test_limits_plain(struct kunit *test)
{
	struct pvblk_devcfg c = pvblk_test_cfg();
	struct pvblk_limits l;

	pvblk_derive_limits(&c, &l);
	KUNIT_EXPECT_EQ(test, l.clamped, 0UL);
	KUNIT_EXPECT_EQ(test, l.capacity, 2097152ULL);
	KUNIT_EXPECT_EQ(test, l.lbs, 512U);
	KUNIT_EXPECT_EQ(test, l.pbs, 512U);
	KUNIT_EXPECT_EQ(test, l.max_segments, 254U);
	KUNIT_EXPECT_EQ(test, l.max_segment_size, U32_MAX);
	KUNIT_EXPECT_EQ(test, l.max_discard_sectors, 0x3fffffU);
	KUNIT_EXPECT_EQ(test, l.max_discard_segments, 1U);
	KUNIT_EXPECT_EQ(test, l.discard_granularity, 4096U);
	KUNIT_EXPECT_EQ(test, l.max_write_zeroes_sectors, 0x3fffffU);
	KUNIT_EXPECT_TRUE(test, l.wz_unmap);
	KUNIT_EXPECT_EQ(test, l.max_secure_erase_sectors, 0U);
	/* Four queues offered, two CPUs: two queues. */
	KUNIT_EXPECT_EQ(test, l.nr_queues, 2);
	KUNIT_EXPECT_EQ(test, l.nr_poll, 0);
}

/* Capacity: zero is kept but flagged, huge is cut, odd is rounded down. */
static void pvblk_test_limits_capacity(struct kunit *test)
{
	struct pvblk_devcfg c = pvblk_test_cfg();
	struct pvblk_limits l;

	c.capacity = 0;
	pvblk_derive_limits(&c, &l);
	KUNIT_EXPECT_EQ(test, l.capacity, 0ULL);
	KUNIT_EXPECT_EQ(test, l.clamped, BIT(PVBLK_CLAMP_CAPACITY_ZERO));

	c.capacity = U64_MAX;
	pvblk_derive_limits(&c, &l);
	KUNIT_EXPECT_EQ(test, l.capacity, PVBLK_MAX_CAPACITY);
	KUNIT_EXPECT_TRUE(test, l.clamped & BIT(PVBLK_CLAMP_CAPACITY_HUGE));
	/* Its size in bytes still fits a loff_t. */
	KUNIT_EXPECT_LE(test, l.capacity << PVBLK_SECTOR_SHIFT, (u64)LLONG_MAX);

	c.blk_size = 4096;
	c.capacity = 8 * 1000 + 5;
	pvblk_derive_limits(&c, &l);
	KUNIT_EXPECT_EQ(test, l.capacity, 8000ULL);
	KUNIT_EXPECT_EQ(test, l.clamped, BIT(PVBLK_CLAMP_CAPACITY_ALIGN));

	/* Under 4 KiB blocks, 7 sectors are no whole block: empty. */
	c.capacity = 7;
	pvblk_derive_limits(&c, &l);
	KUNIT_EXPECT_EQ(test, l.capacity, 0ULL);
	KUNIT_EXPECT_TRUE(test, l.clamped & BIT(PVBLK_CLAMP_CAPACITY_ZERO));
}

/* Block sizes that are no power of two, too small or too big: 512. */
static void pvblk_test_limits_blk_size(struct kunit *test)
{
	static const u32 bad[] = { 0, 1, 256, 511, 520, 3072, 8192, U32_MAX };
	struct pvblk_devcfg c = pvblk_test_cfg();
	struct pvblk_limits l;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		c.blk_size = bad[i];
		pvblk_derive_limits(&c, &l);
		KUNIT_EXPECT_EQ_MSG(test, l.lbs, 512U, "blk_size %u", bad[i]);
		KUNIT_EXPECT_TRUE_MSG(test,
				      l.clamped & BIT(PVBLK_CLAMP_BLK_SIZE),
				      "blk_size %u", bad[i]);
	}
	c.blk_size = 4096;
	pvblk_derive_limits(&c, &l);
	KUNIT_EXPECT_EQ(test, l.lbs, 4096U);
	KUNIT_EXPECT_EQ(test, l.clamped, 0UL);

	/* Without the feature the field means nothing. */
	c.blk_size = 3;
	c.features &= ~BIT_ULL(VIRTIO_BLK_F_BLK_SIZE);
	pvblk_derive_limits(&c, &l);
	KUNIT_EXPECT_EQ(test, l.lbs, 512U);
	KUNIT_EXPECT_EQ(test, l.clamped, 0UL);
}

/* Topology values that overflow or point outside a physical block. */
static void pvblk_test_limits_topology(struct kunit *test)
{
	struct pvblk_devcfg c = pvblk_test_cfg();
	struct pvblk_limits l;

	c.physical_block_exp = 3;
	c.alignment_offset = 1;
	c.min_io_size = 8;
	c.opt_io_size = 256;
	pvblk_derive_limits(&c, &l);
	KUNIT_EXPECT_EQ(test, l.pbs, 4096U);
	KUNIT_EXPECT_EQ(test, l.alignment_offset, 512U);
	KUNIT_EXPECT_EQ(test, l.io_min, 4096U);
	KUNIT_EXPECT_EQ(test, l.io_opt, 131072U);
	KUNIT_EXPECT_EQ(test, l.clamped, 0UL);

	c.physical_block_exp = 255;
	c.alignment_offset = 200;
	c.opt_io_size = U32_MAX;
	pvblk_derive_limits(&c, &l);
	KUNIT_EXPECT_EQ(test, l.pbs, 512U);
	KUNIT_EXPECT_EQ(test, l.alignment_offset, 0U);
	KUNIT_EXPECT_EQ(test, l.io_opt, 0U);
	KUNIT_EXPECT_EQ(test, l.clamped, BIT(PVBLK_CLAMP_PHYS_EXP) |
			BIT(PVBLK_CLAMP_ALIGN_OFFSET) | BIT(PVBLK_CLAMP_IO_OPT));

	/* An exponent of 31 would overflow 32 bits: refused. */
	c = pvblk_test_cfg();
	c.physical_block_exp = 31;
	pvblk_derive_limits(&c, &l);
	KUNIT_EXPECT_EQ(test, l.pbs, 512U);
	KUNIT_EXPECT_TRUE(test, l.clamped & BIT(PVBLK_CLAMP_PHYS_EXP));
}

/* seg_max 0, size_max below a page, the transport's DMA limit. */
static void pvblk_test_limits_segments(struct kunit *test)
{
	struct pvblk_devcfg c = pvblk_test_cfg();
	struct pvblk_limits l;

	c.seg_max = 0;
	pvblk_derive_limits(&c, &l);
	KUNIT_EXPECT_EQ(test, l.max_segments, 1U);
	KUNIT_EXPECT_EQ(test, l.clamped, BIT(PVBLK_CLAMP_SEG_MAX));

	c.seg_max = U32_MAX;
	pvblk_derive_limits(&c, &l);
	KUNIT_EXPECT_EQ(test, l.max_segments, PVBLK_MAX_SEGS);
	KUNIT_EXPECT_EQ(test, l.clamped, 0UL);

	/* Without SEG_MAX a device promises one segment only. */
	c.features &= ~BIT_ULL(VIRTIO_BLK_F_SEG_MAX);
	pvblk_derive_limits(&c, &l);
	KUNIT_EXPECT_EQ(test, l.max_segments, 1U);

	c = pvblk_test_cfg();
	c.features |= BIT_ULL(VIRTIO_BLK_F_SIZE_MAX);
	c.size_max = 0;
	pvblk_derive_limits(&c, &l);
	KUNIT_EXPECT_EQ(test, l.max_segment_size, U32_MAX);
	KUNIT_EXPECT_EQ(test, l.clamped, BIT(PVBLK_CLAMP_SIZE_MAX));

	c.size_max = 65536;
	c.dma_max = 32768;
	pvblk_derive_limits(&c, &l);
	KUNIT_EXPECT_EQ(test, l.max_segment_size, 32768U);
	KUNIT_EXPECT_EQ(test, l.clamped, 0UL);

	/* Never below a page, whatever the transport says. */
	c.dma_max = 512;
	pvblk_derive_limits(&c, &l);
	KUNIT_EXPECT_EQ(test, l.max_segment_size, 4096U);
}

/* Zero discard, write-zeroes and secure-erase limits turn them off. */
static void pvblk_test_limits_erase(struct kunit *test)
{
	struct pvblk_devcfg c = pvblk_test_cfg();
	struct pvblk_limits l;

	c.max_discard_sectors = 0;
	c.max_discard_seg = 0;
	c.discard_sector_alignment = 3;
	c.max_write_zeroes_sectors = 0;
	c.max_write_zeroes_seg = 0;
	pvblk_derive_limits(&c, &l);
	KUNIT_EXPECT_EQ(test, l.max_discard_sectors, 0U);
	KUNIT_EXPECT_EQ(test, l.max_discard_segments, 1U);
	KUNIT_EXPECT_EQ(test, l.discard_granularity, 512U);
	KUNIT_EXPECT_EQ(test, l.max_write_zeroes_sectors, 0U);
	KUNIT_EXPECT_EQ(test, l.clamped, BIT(PVBLK_CLAMP_DISCARD_MAX) |
			BIT(PVBLK_CLAMP_DISCARD_SEG) |
			BIT(PVBLK_CLAMP_DISCARD_ALIGN) |
			BIT(PVBLK_CLAMP_WZ_MAX) | BIT(PVBLK_CLAMP_WZ_SEG));

	/* Many ranges are capped at one page of them. */
	c = pvblk_test_cfg();
	c.max_discard_seg = U32_MAX;
	c.discard_sector_alignment = U32_MAX;
	pvblk_derive_limits(&c, &l);
	KUNIT_EXPECT_EQ(test, l.max_discard_segments, PVBLK_MAX_RANGES);
	KUNIT_EXPECT_EQ(test, l.discard_granularity, 512U);
	KUNIT_EXPECT_TRUE(test, l.clamped & BIT(PVBLK_CLAMP_DISCARD_ALIGN));

	c = pvblk_test_cfg();
	c.features |= BIT_ULL(VIRTIO_BLK_F_SECURE_ERASE);
	c.max_secure_erase_sectors = 0;
	c.max_secure_erase_seg = 0;
	pvblk_derive_limits(&c, &l);
	KUNIT_EXPECT_EQ(test, l.max_secure_erase_sectors, 0U);
	KUNIT_EXPECT_EQ(test, l.max_discard_segments, 1U);
	KUNIT_EXPECT_EQ(test, l.clamped, BIT(PVBLK_CLAMP_SE_MAX) |
			BIT(PVBLK_CLAMP_SE_SEG));

	c.max_secure_erase_sectors = 2048;
	c.max_secure_erase_seg = 4;
	c.max_discard_seg = 8;
	pvblk_derive_limits(&c, &l);
	KUNIT_EXPECT_EQ(test, l.max_secure_erase_sectors, 2048U);
	/* Both commands share one segment limit: the smaller. */
	KUNIT_EXPECT_EQ(test, l.max_discard_segments, 4U);
	KUNIT_EXPECT_EQ(test, l.clamped, 0UL);
}

/* Zero queues, more queues than CPUs, poll queues. */
static void pvblk_test_limits_queues(struct kunit *test)
{
	struct pvblk_devcfg c = pvblk_test_cfg();
	struct pvblk_limits l;

	c.num_queues = 0;
	pvblk_derive_limits(&c, &l);
	KUNIT_EXPECT_EQ(test, l.nr_queues, 1);
	KUNIT_EXPECT_EQ(test, l.clamped, BIT(PVBLK_CLAMP_QUEUES));

	c.num_queues = U16_MAX;
	c.nr_cpus = 8;
	pvblk_derive_limits(&c, &l);
	KUNIT_EXPECT_EQ(test, l.nr_queues, 8);
	KUNIT_EXPECT_EQ(test, l.clamped, 0UL);

	c.want_queues = 3;
	c.want_poll = 100;
	pvblk_derive_limits(&c, &l);
	KUNIT_EXPECT_EQ(test, l.nr_queues, 3);
	/* At least one queue keeps interrupts. */
	KUNIT_EXPECT_EQ(test, l.nr_poll, 2);

	c.features &= ~BIT_ULL(VIRTIO_BLK_F_MQ);
	pvblk_derive_limits(&c, &l);
	KUNIT_EXPECT_EQ(test, l.nr_queues, 1);
	KUNIT_EXPECT_EQ(test, l.nr_poll, 0);
}

static void pvblk_test_req_type(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, pvblk_req_type(REQ_OP_READ), VIRTIO_BLK_T_IN);
	KUNIT_EXPECT_EQ(test, pvblk_req_type(REQ_OP_WRITE), VIRTIO_BLK_T_OUT);
	KUNIT_EXPECT_EQ(test, pvblk_req_type(REQ_OP_FLUSH), VIRTIO_BLK_T_FLUSH);
	KUNIT_EXPECT_EQ(test, pvblk_req_type(REQ_OP_DISCARD),
			VIRTIO_BLK_T_DISCARD);
	KUNIT_EXPECT_EQ(test, pvblk_req_type(REQ_OP_WRITE_ZEROES),
			VIRTIO_BLK_T_WRITE_ZEROES);
	KUNIT_EXPECT_EQ(test, pvblk_req_type(REQ_OP_SECURE_ERASE),
			VIRTIO_BLK_T_SECURE_ERASE);
	KUNIT_EXPECT_EQ(test, pvblk_req_type(REQ_OP_DRV_IN),
			VIRTIO_BLK_T_GET_ID);
	KUNIT_EXPECT_EQ(test, pvblk_req_type(REQ_OP_ZONE_RESET), -EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, pvblk_req_type(REQ_OP_DRV_OUT), -EOPNOTSUPP);
}

/* Every status byte maps to a status; unknown ones are flagged. */
static void pvblk_test_status(struct kunit *test)
{
	unsigned int s;
	bool bad;

	KUNIT_EXPECT_TRUE(test, pvblk_status(VIRTIO_BLK_S_OK, &bad) == BLK_STS_OK);
	KUNIT_EXPECT_FALSE(test, bad);
	KUNIT_EXPECT_TRUE(test,
			  pvblk_status(VIRTIO_BLK_S_IOERR, &bad) == BLK_STS_IOERR);
	KUNIT_EXPECT_FALSE(test, bad);
	KUNIT_EXPECT_TRUE(test, pvblk_status(VIRTIO_BLK_S_UNSUPP, &bad) ==
			  BLK_STS_NOTSUPP);
	KUNIT_EXPECT_FALSE(test, bad);
	for (s = 3; s < 256; s++) {
		KUNIT_EXPECT_TRUE(test, pvblk_status(s, &bad) == BLK_STS_IOERR);
		KUNIT_EXPECT_TRUE_MSG(test, bad, "status %u", s);
	}
}

static void pvblk_test_used_len(struct kunit *test)
{
	/* A 4 KiB read: data and status byte. */
	KUNIT_EXPECT_FALSE(test, pvblk_used_len_bad(4097, 4097, true));
	KUNIT_EXPECT_TRUE(test, pvblk_used_len_bad(4097, 1, true));
	KUNIT_EXPECT_TRUE(test, pvblk_used_len_bad(4097, 0, false));
	KUNIT_EXPECT_TRUE(test, pvblk_used_len_bad(4097, 4098, false));
	KUNIT_EXPECT_TRUE(test, pvblk_used_len_bad(4097, U32_MAX, true));
	/* A failed read may stop anywhere once the status is written. */
	KUNIT_EXPECT_FALSE(test, pvblk_used_len_bad(4097, 1, false));
	KUNIT_EXPECT_FALSE(test, pvblk_used_len_bad(4097, 512, false));
	/* A write: the status byte only. */
	KUNIT_EXPECT_FALSE(test, pvblk_used_len_bad(1, 1, true));
	KUNIT_EXPECT_TRUE(test, pvblk_used_len_bad(1, 4097, true));
}

static void pvblk_test_disk_name(struct kunit *test)
{
	static const struct {
		unsigned int index;
		const char *name;
	} cases[] = {
		{ 0, "pvda" }, { 1, "pvdb" }, { 25, "pvdz" }, { 26, "pvdaa" },
		{ 27, "pvdab" }, { 701, "pvdzz" }, { 702, "pvdaaa" },
		{ 65535, "pvdcrxp" },
	};
	char buf[32];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		pvblk_disk_name(cases[i].index, buf, sizeof(buf));
		KUNIT_EXPECT_STREQ(test, buf, cases[i].name);
	}
}

static struct kunit_case pvblk_test_cases[] = {
	KUNIT_CASE(pvblk_test_limits_plain),
	KUNIT_CASE(pvblk_test_limits_capacity),
	KUNIT_CASE(pvblk_test_limits_blk_size),
	KUNIT_CASE(pvblk_test_limits_topology),
	KUNIT_CASE(pvblk_test_limits_segments),
	KUNIT_CASE(pvblk_test_limits_erase),
	KUNIT_CASE(pvblk_test_limits_queues),
	KUNIT_CASE(pvblk_test_req_type),
	KUNIT_CASE(pvblk_test_status),
	KUNIT_CASE(pvblk_test_used_len),
	KUNIT_CASE(pvblk_test_disk_name),
	{}
};

static struct kunit_suite pvblk_test_suite = {
	.name = "pvblock",
	.test_cases = pvblk_test_cases,
};

kunit_test_suite(pvblk_test_suite);

MODULE_DESCRIPTION("KUnit tests for pvblock");
MODULE_LICENSE("GPL");
