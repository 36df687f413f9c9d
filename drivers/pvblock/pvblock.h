/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pvblock: the parts of the driver that do not touch a device, kept apart
 * so that the KUnit suite can feed them any value a host may send: turning
 * the virtio-blk configuration space into block-layer limits (clamping
 * what is out of range), mapping request operations to command types and
 * judging the status byte and used length of a completion.
 */
#ifndef _PVBLOCK_H
#define _PVBLOCK_H

#include <linux/bitops.h>
#include <linux/blk_types.h>
#include <linux/kernel.h>
#include <linux/log2.h>
#include <linux/minmax.h>
#include <linux/sizes.h>
#include <linux/types.h>
#include <linux/virtio_blk.h>

#define PVBLK_SECTOR_SHIFT	9
/* Largest capacity we accept, in 512-byte sectors: the byte size must fit
 * in a loff_t.
 */
#define PVBLK_MAX_CAPACITY	((u64)LLONG_MAX >> PVBLK_SECTOR_SHIFT)
/* Segments per request we ask for at most, whatever seg_max says. */
#define PVBLK_MAX_SEGS		1024U
/* Ranges per discard, write-zeroes or secure-erase command: one page. */
#define PVBLK_MAX_RANGES	256U
/* Largest physical block we believe in. */
#define PVBLK_MAX_PBS		SZ_1M
/* Largest transfer per request, in 512-byte sectors (16 MiB). */
#define PVBLK_MAX_HW_SECTORS	32768U

/**
 * enum pvblk_clamp - configuration values the driver had to correct
 * @PVBLK_CLAMP_CAPACITY_HUGE: capacity beyond %PVBLK_MAX_CAPACITY
 * @PVBLK_CLAMP_CAPACITY_ALIGN: capacity not a multiple of the block size
 * @PVBLK_CLAMP_CAPACITY_ZERO: capacity 0 (kept, but worth a log line)
 * @PVBLK_CLAMP_BLK_SIZE: block size not a power of two in 512..PAGE_SIZE
 * @PVBLK_CLAMP_PHYS_EXP: physical block exponent too large
 * @PVBLK_CLAMP_ALIGN_OFFSET: alignment offset not inside a physical block
 * @PVBLK_CLAMP_IO_OPT: optimal I/O size overflows
 * @PVBLK_CLAMP_SEG_MAX: seg_max of 0
 * @PVBLK_CLAMP_SIZE_MAX: size_max of 0 or below a page
 * @PVBLK_CLAMP_QUEUES: num_queues of 0
 * @PVBLK_CLAMP_DISCARD_MAX: max_discard_sectors of 0: discard disabled
 * @PVBLK_CLAMP_DISCARD_SEG: max_discard_seg of 0
 * @PVBLK_CLAMP_DISCARD_ALIGN: discard alignment not a power of two
 * @PVBLK_CLAMP_WZ_MAX: max_write_zeroes_sectors of 0: write-zeroes disabled
 * @PVBLK_CLAMP_WZ_SEG: max_write_zeroes_seg of 0
 * @PVBLK_CLAMP_SE_MAX: max_secure_erase_sectors of 0: secure erase disabled
 * @PVBLK_CLAMP_SE_SEG: max_secure_erase_seg of 0
 * @PVBLK_CLAMP_NR: number of reasons
 */
enum pvblk_clamp {
	PVBLK_CLAMP_CAPACITY_HUGE,
	PVBLK_CLAMP_CAPACITY_ALIGN,
	PVBLK_CLAMP_CAPACITY_ZERO,
	PVBLK_CLAMP_BLK_SIZE,
	PVBLK_CLAMP_PHYS_EXP,
	PVBLK_CLAMP_ALIGN_OFFSET,
	PVBLK_CLAMP_IO_OPT,
	PVBLK_CLAMP_SEG_MAX,
	PVBLK_CLAMP_SIZE_MAX,
	PVBLK_CLAMP_QUEUES,
	PVBLK_CLAMP_DISCARD_MAX,
	PVBLK_CLAMP_DISCARD_SEG,
	PVBLK_CLAMP_DISCARD_ALIGN,
	PVBLK_CLAMP_WZ_MAX,
	PVBLK_CLAMP_WZ_SEG,
	PVBLK_CLAMP_SE_MAX,
	PVBLK_CLAMP_SE_SEG,
	PVBLK_CLAMP_NR
};

/**
 * struct pvblk_devcfg - what the device said, in CPU byte order
 * @features: negotiated VIRTIO_BLK_F_* bits (bit n for feature n)
 * @capacity: capacity in 512-byte sectors
 * @size_max: largest segment in bytes (%VIRTIO_BLK_F_SIZE_MAX)
 * @seg_max: most segments in a request (%VIRTIO_BLK_F_SEG_MAX)
 * @blk_size: logical block size (%VIRTIO_BLK_F_BLK_SIZE)
 * @physical_block_exp: log2 of logical blocks per physical block
 * @alignment_offset: offset of the first aligned logical block
 * @min_io_size: suggested minimum I/O size, in logical blocks
 * @opt_io_size: optimal I/O size, in logical blocks
 * @num_queues: request queues offered (%VIRTIO_BLK_F_MQ)
 * @max_discard_sectors: largest discard, in 512-byte sectors
 * @max_discard_seg: most ranges in a discard command
 * @discard_sector_alignment: discard granularity, in 512-byte sectors
 * @max_write_zeroes_sectors: largest write-zeroes, in 512-byte sectors
 * @max_write_zeroes_seg: most ranges in a write-zeroes command
 * @write_zeroes_may_unmap: the device may unmap when writing zeroes
 * @max_secure_erase_sectors: largest secure erase, in 512-byte sectors
 * @max_secure_erase_seg: most ranges in a secure erase command
 * @secure_erase_sector_alignment: secure erase granularity, in sectors
 * @dma_max: largest DMA segment the transport can map, in bytes
 * @page_size: the guest's page size
 * @nr_cpus: possible CPUs
 * @want_queues: request queues the user asked for, 0 for one per CPU
 * @want_poll: poll queues the user asked for
 */
struct pvblk_devcfg {
	u64 features;
	u64 capacity;
	u32 size_max;
	u32 seg_max;
	u32 blk_size;
	u8 physical_block_exp;
	u8 alignment_offset;
	u16 min_io_size;
	u32 opt_io_size;
	u16 num_queues;
	u32 max_discard_sectors;
	u32 max_discard_seg;
	u32 discard_sector_alignment;
	u32 max_write_zeroes_sectors;
	u32 max_write_zeroes_seg;
	u8 write_zeroes_may_unmap;
	u32 max_secure_erase_sectors;
	u32 max_secure_erase_seg;
	u32 secure_erase_sector_alignment;
	u32 dma_max;
	u32 page_size;
	u32 nr_cpus;
	u32 want_queues;
	u32 want_poll;
};

/**
 * struct pvblk_limits - the block-layer limits the driver applies
 * @capacity: capacity in 512-byte sectors
 * @lbs: logical block size in bytes
 * @pbs: physical block size in bytes
 * @alignment_offset: alignment offset in bytes
 * @io_min: minimum I/O size in bytes, 0 if unknown
 * @io_opt: optimal I/O size in bytes, 0 if unknown
 * @max_segments: segments per request
 * @max_segment_size: bytes per segment
 * @max_hw_sectors: 512-byte sectors per request
 * @max_discard_sectors: largest discard, 0 if discard is off
 * @max_discard_segments: ranges per discard or secure erase command
 * @discard_granularity: discard granularity in bytes
 * @max_write_zeroes_sectors: largest write-zeroes, 0 if off
 * @max_secure_erase_sectors: largest secure erase, 0 if off
 * @wz_unmap: write-zeroes may unmap
 * @nr_queues: virtqueues to use, poll queues included
 * @nr_poll: of which poll queues
 * @clamped: bit n set when &enum pvblk_clamp n had to be applied
 */
struct pvblk_limits {
	u64 capacity;
	u32 lbs;
	u32 pbs;
	u32 alignment_offset;
	u32 io_min;
	u32 io_opt;
	u32 max_segments;
	u32 max_segment_size;
	u32 max_hw_sectors;
	u32 max_discard_sectors;
	u32 max_discard_segments;
	u32 discard_granularity;
	u32 max_write_zeroes_sectors;
	u32 max_secure_erase_sectors;
	bool wz_unmap;
	u16 nr_queues;
	u16 nr_poll;
	unsigned long clamped;
};

static inline bool pvblk_has(const struct pvblk_devcfg *c, unsigned int f)
{
	return c->features & BIT_ULL(f);
}

/* A granularity in 512-byte sectors as bytes, or 0 when it is unusable. */
static inline u32 pvblk_granularity(u32 sectors, u32 lbs)
{
	u64 bytes = (u64)sectors << PVBLK_SECTOR_SHIFT;

	if (!sectors)
		return lbs;
	if (bytes > U32_MAX || !is_power_of_2(bytes))
		return 0;
	return max_t(u32, bytes, lbs);
}

/**
 * pvblk_capacity() - the usable capacity for a reported one
 * @sectors: capacity the device reports, in 512-byte sectors
 * @lbs: logical block size in bytes
 * @clamped: reasons are or-ed in here
 *
 * Return: the capacity in 512-byte sectors, at most %PVBLK_MAX_CAPACITY
 * and a whole number of logical blocks.
 */
static inline u64 pvblk_capacity(u64 sectors, u32 lbs, unsigned long *clamped)
{
	u64 per_block = lbs >> PVBLK_SECTOR_SHIFT;

	if (sectors > PVBLK_MAX_CAPACITY) {
		sectors = PVBLK_MAX_CAPACITY;
		*clamped |= BIT(PVBLK_CLAMP_CAPACITY_HUGE);
	}
	if (per_block > 1 && sectors % per_block) {
		sectors -= sectors % per_block;
		*clamped |= BIT(PVBLK_CLAMP_CAPACITY_ALIGN);
	}
	if (!sectors)
		*clamped |= BIT(PVBLK_CLAMP_CAPACITY_ZERO);
	return sectors;
}

/* Block geometry: logical and physical block, alignment, I/O sizes. */
static inline void pvblk_derive_blocks(const struct pvblk_devcfg *c,
				       struct pvblk_limits *l)
{
	u64 v;

	l->lbs = 512;
	if (pvblk_has(c, VIRTIO_BLK_F_BLK_SIZE)) {
		if (is_power_of_2(c->blk_size) && c->blk_size >= 512 &&
		    c->blk_size <= c->page_size)
			l->lbs = c->blk_size;
		else
			l->clamped |= BIT(PVBLK_CLAMP_BLK_SIZE);
	}
	l->pbs = l->lbs;
	if (!pvblk_has(c, VIRTIO_BLK_F_TOPOLOGY))
		return;
	if (c->physical_block_exp < 32 &&
	    ((u64)l->lbs << c->physical_block_exp) <= PVBLK_MAX_PBS)
		l->pbs = l->lbs << c->physical_block_exp;
	else
		l->clamped |= BIT(PVBLK_CLAMP_PHYS_EXP);
	v = (u64)c->alignment_offset * l->lbs;
	if (v < l->pbs)
		l->alignment_offset = v;
	else
		l->clamped |= BIT(PVBLK_CLAMP_ALIGN_OFFSET);
	l->io_min = (u32)c->min_io_size * l->lbs;
	v = (u64)c->opt_io_size * l->lbs;
	if (v <= U32_MAX)
		l->io_opt = v;
	else
		l->clamped |= BIT(PVBLK_CLAMP_IO_OPT);
}

/* Segments, segment size and transfer size. */
static inline void pvblk_derive_segments(const struct pvblk_devcfg *c,
					 struct pvblk_limits *l)
{
	u32 size = c->dma_max ? c->dma_max : U32_MAX;

	l->max_segments = 1;
	if (pvblk_has(c, VIRTIO_BLK_F_SEG_MAX)) {
		if (c->seg_max)
			l->max_segments = min(c->seg_max, PVBLK_MAX_SEGS);
		else
			l->clamped |= BIT(PVBLK_CLAMP_SEG_MAX);
	}
	if (pvblk_has(c, VIRTIO_BLK_F_SIZE_MAX)) {
		if (c->size_max >= c->page_size)
			size = min(size, c->size_max);
		else
			l->clamped |= BIT(PVBLK_CLAMP_SIZE_MAX);
	}
	l->max_segment_size = max(size, c->page_size);
	l->max_hw_sectors = PVBLK_MAX_HW_SECTORS;
}

/* Discard, write-zeroes and secure erase. */
static inline void pvblk_derive_erase(const struct pvblk_devcfg *c,
				      struct pvblk_limits *l)
{
	u32 segs = PVBLK_MAX_RANGES, g;

	if (pvblk_has(c, VIRTIO_BLK_F_DISCARD)) {
		g = pvblk_granularity(c->discard_sector_alignment, l->lbs);
		if (!g) {
			l->clamped |= BIT(PVBLK_CLAMP_DISCARD_ALIGN);
			g = l->lbs;
		}
		l->discard_granularity = g;
		if (c->max_discard_seg) {
			segs = min(segs, c->max_discard_seg);
		} else {
			l->clamped |= BIT(PVBLK_CLAMP_DISCARD_SEG);
			segs = 1;
		}
		if (c->max_discard_sectors)
			l->max_discard_sectors = c->max_discard_sectors;
		else
			l->clamped |= BIT(PVBLK_CLAMP_DISCARD_MAX);
	}
	if (pvblk_has(c, VIRTIO_BLK_F_WRITE_ZEROES)) {
		if (!c->max_write_zeroes_seg)
			l->clamped |= BIT(PVBLK_CLAMP_WZ_SEG);
		if (c->max_write_zeroes_sectors)
			l->max_write_zeroes_sectors = c->max_write_zeroes_sectors;
		else
			l->clamped |= BIT(PVBLK_CLAMP_WZ_MAX);
		l->wz_unmap = c->write_zeroes_may_unmap;
	}
	if (pvblk_has(c, VIRTIO_BLK_F_SECURE_ERASE)) {
		if (c->max_secure_erase_seg) {
			segs = min(segs, c->max_secure_erase_seg);
		} else {
			l->clamped |= BIT(PVBLK_CLAMP_SE_SEG);
			segs = 1;
		}
		if (c->max_secure_erase_sectors)
			l->max_secure_erase_sectors = c->max_secure_erase_sectors;
		else
			l->clamped |= BIT(PVBLK_CLAMP_SE_MAX);
		if (!l->discard_granularity) {
			g = pvblk_granularity(c->secure_erase_sector_alignment,
					      l->lbs);
			l->discard_granularity = g ? g : l->lbs;
		}
	}
	l->max_discard_segments = segs;
}

/* Request queues and poll queues. */
static inline void pvblk_derive_queues(const struct pvblk_devcfg *c,
				       struct pvblk_limits *l)
{
	u32 n = 1;

	if (pvblk_has(c, VIRTIO_BLK_F_MQ)) {
		if (c->num_queues)
			n = c->num_queues;
		else
			l->clamped |= BIT(PVBLK_CLAMP_QUEUES);
	}
	n = min(n, max(c->nr_cpus, 1U));
	if (c->want_queues)
		n = min(n, c->want_queues);
	l->nr_queues = n;
	l->nr_poll = n > 1 ? min(c->want_poll, n - 1) : 0;
}

/**
 * pvblk_derive_limits() - block-layer limits from a device configuration
 * @c: the configuration as read from the device
 * @l: the limits, filled in
 *
 * Every value a device may send yields usable limits: what is out of range
 * is replaced by a safe value and the reason recorded in @l->clamped.
 */
static inline void pvblk_derive_limits(const struct pvblk_devcfg *c,
				       struct pvblk_limits *l)
{
	*l = (struct pvblk_limits){};
	pvblk_derive_blocks(c, l);
	l->capacity = pvblk_capacity(c->capacity, l->lbs, &l->clamped);
	pvblk_derive_segments(c, l);
	pvblk_derive_erase(c, l);
	pvblk_derive_queues(c, l);
}

/**
 * pvblk_req_type() - the virtio-blk command type for a request operation
 * @op: the block-layer operation
 *
 * %REQ_OP_DRV_IN is the driver's own identify command.
 *
 * Return: a VIRTIO_BLK_T_* value or -EOPNOTSUPP.
 */
static inline int pvblk_req_type(enum req_op op)
{
	switch (op) {
	case REQ_OP_READ:
		return VIRTIO_BLK_T_IN;
	case REQ_OP_WRITE:
		return VIRTIO_BLK_T_OUT;
	case REQ_OP_FLUSH:
		return VIRTIO_BLK_T_FLUSH;
	case REQ_OP_DISCARD:
		return VIRTIO_BLK_T_DISCARD;
	case REQ_OP_WRITE_ZEROES:
		return VIRTIO_BLK_T_WRITE_ZEROES;
	case REQ_OP_SECURE_ERASE:
		return VIRTIO_BLK_T_SECURE_ERASE;
	case REQ_OP_DRV_IN:
		return VIRTIO_BLK_T_GET_ID;
	default:
		return -EOPNOTSUPP;
	}
}

/**
 * pvblk_status() - the block status for a completion's status byte
 * @status: the byte the device wrote
 * @bad: set when the byte is none the protocol defines
 *
 * Return: the status to complete the request with.
 */
static inline blk_status_t pvblk_status(u8 status, bool *bad)
{
	*bad = false;
	switch (status) {
	case VIRTIO_BLK_S_OK:
		return BLK_STS_OK;
	case VIRTIO_BLK_S_IOERR:
		return BLK_STS_IOERR;
	case VIRTIO_BLK_S_UNSUPP:
		return BLK_STS_NOTSUPP;
	default:
		*bad = true;
		return BLK_STS_IOERR;
	}
}

/**
 * pvblk_used_len_bad() - whether a used length contradicts the request
 * @in_bytes: bytes the request lets the device write (data and status)
 * @len: bytes the device says it wrote
 * @ok: the device reported success
 *
 * A device writes at least the status byte, never more than it was given,
 * and on success all of it.
 *
 * Return: true when @len is impossible.
 */
static inline bool pvblk_used_len_bad(u32 in_bytes, u32 len, bool ok)
{
	return !len || len > in_bytes || (ok && len != in_bytes);
}

/**
 * pvblk_disk_name() - the name of the disk with a given index
 * @index: 0 for the first disk
 * @buf: where the name goes
 * @len: room in @buf
 *
 * pvda to pvdz, then pvdaa to pvdzz and so on, like other disk drivers.
 */
static inline void pvblk_disk_name(unsigned int index, char *buf, size_t len)
{
	char s[8];
	int i = sizeof(s) - 1;

	s[i] = '\0';
	do {
		s[--i] = 'a' + index % 26;
		index /= 26;
	} while (index-- && i > 0);
	snprintf(buf, len, "pvd%s", &s[i]);
}

#endif /* _PVBLOCK_H */
