/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pvblock: the kernel interfaces that changed between the bases we
 * support, in one place.  This is the version for the current kernel; an
 * older base replaces this file's body with a small compat patch.
 */
#ifndef _PVBLOCK_COMPAT_H
#define _PVBLOCK_COMPAT_H

#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/virtio_config.h>

#include "pvblock.h"

/**
 * pvblk_find_vqs() - set up the device's virtqueues
 * @vdev: the device
 * @nvqs: number of virtqueues
 * @vqs: where the virtqueues are returned
 * @cbs: callback of each virtqueue, NULL for a polled one
 * @names: name of each virtqueue
 * @desc: how to spread the interrupt vectors over the CPUs
 *
 * Return: 0 or a negative errno.
 */
static inline int pvblk_find_vqs(struct virtio_device *vdev, unsigned int nvqs,
				 struct virtqueue **vqs, vq_callback_t **cbs,
				 const char * const *names,
				 struct irq_affinity *desc)
{
	struct virtqueue_info *info;
	unsigned int i;
	int err;

	info = kcalloc(nvqs, sizeof(*info), GFP_KERNEL);
	if (!info)
		return -ENOMEM;
	for (i = 0; i < nvqs; i++) {
		info[i].name = names[i];
		info[i].callback = cbs[i];
	}
	err = virtio_find_vqs(vdev, nvqs, vqs, info, desc);
	kfree(info);
	return err;
}

/**
 * pvblk_alloc_disk() - allocate a disk and its queue with our limits
 * @set: the tag set
 * @l: the limits derived from the device configuration
 * @wc: the device has a volatile write cache
 * @data: the queue's private data
 *
 * Return: the disk or an ERR_PTR().
 */
static inline struct gendisk *pvblk_alloc_disk(struct blk_mq_tag_set *set,
					       const struct pvblk_limits *l,
					       bool wc, void *data)
{
	struct queue_limits lim = {
		.logical_block_size = l->lbs,
		.physical_block_size = l->pbs,
		.alignment_offset = l->alignment_offset,
		.io_min = l->io_min,
		.io_opt = l->io_opt,
		.max_segments = l->max_segments,
		.max_segment_size = l->max_segment_size,
		.max_hw_sectors = l->max_hw_sectors,
		.max_hw_discard_sectors = l->max_discard_sectors,
		.max_discard_segments = l->max_discard_segments,
		.discard_granularity = l->discard_granularity,
		.max_write_zeroes_sectors = l->max_write_zeroes_sectors,
		.max_secure_erase_sectors = l->max_secure_erase_sectors,
		.features = wc ? BLK_FEAT_WRITE_CACHE : 0,
	};

	return blk_mq_alloc_disk(set, &lim, data);
}

/**
 * pvblk_set_write_cache() - tell the block layer about the cache mode
 * @q: the disk's queue
 * @wc: the device now has a volatile write cache
 *
 * Return: 0 or a negative errno.
 */
static inline int pvblk_set_write_cache(struct request_queue *q, bool wc)
{
	struct queue_limits lim = queue_limits_start_update(q);

	if (wc)
		lim.features |= BLK_FEAT_WRITE_CACHE;
	else
		lim.features &= ~BLK_FEAT_WRITE_CACHE;
	return queue_limits_commit_update_frozen(q, &lim);
}

/**
 * pvblk_set_payload() - attach a command's ranges to a request
 * @rq: the request
 * @buf: the ranges, in one page
 * @len: their size in bytes
 */
static inline void pvblk_set_payload(struct request *rq, void *buf,
				     unsigned int len)
{
	bvec_set_virt(&rq->special_vec, buf, len);
	rq->rq_flags |= RQF_SPECIAL_PAYLOAD;
}

#endif /* _PVBLOCK_COMPAT_H */
