// SPDX-License-Identifier: GPL-2.0
/*
 * pvblock: a block driver for the standard virtio-blk device.
 *
 * It speaks the virtio-blk protocol of the VIRTIO 1.x specification, so it
 * works with any host that offers virtio-blk, and adds what a guest needs
 * from a host it cannot trust to be well behaved: every request has a
 * timeout after which the device is notified again and then the request is
 * failed or, when the rings are broken, the device is reset and the request
 * retried; every configuration value and every completion is checked and
 * what is out of range is clamped, counted and logged; per-queue
 * statistics and fault injection live in debugfs.
 *
 * Requests do not own the ring entries the device sees: each submission
 * takes a slot holding the command header and status byte.  A request the
 * driver gives up on leaves its slot behind, with references on its data
 * pages, until the device returns it or is reset, so a late completion can
 * neither touch a reused request nor write into freed memory.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blk-mq.h>
#include <linux/blk-mq-virtio.h>
#include <linux/blkdev.h>
#include <linux/ctype.h>
#include <linux/debugfs.h>
#include <linux/hdreg.h>
#include <linux/idr.h>
#include <linux/interrupt.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/scatterlist.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/virtio.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <linux/workqueue.h>

#include "pvblock.h"
#include "pvblock_compat.h"

#define PVBLK_PART_BITS		4
#define PVBLK_INLINE_SG		2
/* The status byte a device never writes: set before each submission. */
#define PVBLK_STATUS_UNSET	0xff

static unsigned int timeout_ms = 30000;
module_param(timeout_ms, uint, 0644);
MODULE_PARM_DESC(timeout_ms,
		 "Request timeout of new disks in ms, 100..3600000; /sys/block/<disk>/queue/io_timeout changes it per disk (default 30000)");

static unsigned int max_retries = 2;
module_param(max_retries, uint, 0644);
MODULE_PARM_DESC(max_retries,
		 "Times a request is resubmitted after a device reset before it fails (default 2)");

static unsigned int poll_queues;
module_param(poll_queues, uint, 0444);
MODULE_PARM_DESC(poll_queues,
		 "Queues to use for polled I/O (io_uring IOPOLL), taken from the device's queues (default 0)");

static unsigned int num_queues;
module_param(num_queues, uint, 0444);
MODULE_PARM_DESC(num_queues,
		 "Most queues to use, poll queues included; 0 for one per CPU up to what the device offers (default 0)");

static unsigned int queue_depth;
module_param(queue_depth, uint, 0444);
MODULE_PARM_DESC(queue_depth,
		 "Requests in flight per queue; 0 to fill the ring (default 0)");

static int pvblk_major;
static DEFINE_IDA(pvblk_ida);
static struct dentry *pvblk_debugfs;

/**
 * struct pvblk_slot - one command on a ring, as the device sees it
 * @hdr: the command header the device reads
 * @status: the status byte the device writes
 * @rq: the request, or NULL once the driver has given up on it
 * @ranges: discard, write-zeroes or secure-erase ranges, owned by the slot
 * @held: pages of a given-up request, kept until the device lets go
 * @nheld: entries in @held
 * @in_bytes: bytes the device may write, data and status
 */
struct pvblk_slot {
	struct virtio_blk_outhdr hdr;
	u8 status;
	struct request *rq;
	void *ranges;
	struct page **held;
	unsigned int nheld;
	u32 in_bytes;
};

/**
 * struct pvblk_qstats - statistics of one queue, under &pvblk_vq.lock
 * @submitted: commands added to the ring
 * @completed: commands the device completed for live requests
 * @kicks: notifications sent to the device
 * @interrupts: used-buffer interrupts
 * @polled: completions found by polling
 * @errors: requests completed with an error
 * @timeouts: timer expiries of requests
 * @aborted: requests failed because the device kept them too long
 * @late: completions of requests already failed
 * @retries: requests resubmitted after a device reset
 * @bad_status: completions with a status byte the protocol does not know
 * @bad_len: completions with an impossible used length
 */
struct pvblk_qstats {
	u64 submitted;
	u64 completed;
	u64 kicks;
	u64 interrupts;
	u64 polled;
	u64 errors;
	u64 timeouts;
	u64 aborted;
	u64 late;
	u64 retries;
	u64 bad_status;
	u64 bad_len;
};

/**
 * struct pvblk_vq - one virtqueue and its slots
 * @lock: protects every field below and the virtqueue
 * @pv: the device the queue belongs to
 * @vq: the virtqueue, NULL while the device is being reset
 * @slots: one per ring entry
 * @free: indexes of free slots, a stack
 * @nfree: entries in @free
 * @nslots: entries in @slots
 * @inflight: slots holding live requests
 * @zombies: slots of given-up requests the device still holds
 * @stopped: the hardware queue was stopped on a full or broken ring
 * @st: statistics
 * @name: the virtqueue's name
 */
struct pvblk_vq {
	spinlock_t lock; /* see the kernel-doc above */
	struct pvblk *pv;
	struct virtqueue *vq;
	struct pvblk_slot *slots;
	u16 *free;
	unsigned int nfree;
	unsigned int nslots;
	unsigned int inflight;
	unsigned int zombies;
	bool stopped;
	struct pvblk_qstats st;
	char name[16];
} ____cacheline_aligned_in_smp;

/**
 * struct pvblk_req - per-request driver data
 * @slot: the slot on the ring, under the queue's lock; NULL when none
 * @status: the status to complete the request with
 * @retries: resubmissions after device resets
 * @expiries: timer expiries of the current submission
 * @sgt: the data scatterlist
 * @sg: its first entries
 */
struct pvblk_req {
	struct pvblk_slot *slot;
	blk_status_t status;
	u8 retries;
	u8 expiries;
	struct sg_table sgt;
	struct scatterlist sg[PVBLK_INLINE_SG];
};

/* One log line per device and kind for what a host may repeat forever. */
enum pvblk_once {
	PVBLK_ONCE_BAD_STATUS,
	PVBLK_ONCE_BAD_LEN,
	PVBLK_ONCE_LATE,
};

/**
 * struct pvblk - one virtio-blk device
 * @vdev: the virtio device
 * @disk: its disk
 * @tag_set: the blk-mq tag set
 * @vqs: the queues, request queues first, then poll queues
 * @nvqs: entries in @vqs
 * @lim: limits derived from the configuration at probe
 * @index: the disk's index (pvda is 0)
 * @lock: serializes resets, resizes and removal
 * @cache_lock: serializes cache mode changes
 * @removing: set under @lock once removal has begun
 * @dead: the device is gone or could not be reset: fail all I/O
 * @config_work: reads the configuration after a change
 * @reset_work: resets a broken device
 * @resets: device resets, written under @lock
 * @resizes: capacity changes seen, written under @lock
 * @config_clamps: configuration values clamped, written under @lock
 * @inject_status: fault injection: completions still to fail
 * @once: &enum pvblk_once bits already logged
 * @dbg: the disk's debugfs directory
 */
struct pvblk {
	struct virtio_device *vdev;
	struct gendisk *disk;
	struct blk_mq_tag_set tag_set;
	struct pvblk_vq *vqs;
	unsigned int nvqs;
	struct pvblk_limits lim;
	int index;
	struct mutex lock; /* see the kernel-doc above */
	struct mutex cache_lock; /* see the kernel-doc above */
	bool removing;
	bool dead;
	struct work_struct config_work;
	struct work_struct reset_work;
	u64 resets;
	u64 resizes;
	u64 config_clamps;
	atomic_t inject_status;
	unsigned long once;
	struct dentry *dbg;
};

static const char * const pvblk_clamp_msg[PVBLK_CLAMP_NR] = {
	[PVBLK_CLAMP_CAPACITY_HUGE] = "capacity beyond 8 EiB, clamped",
	[PVBLK_CLAMP_CAPACITY_ALIGN] = "capacity not a whole number of blocks, rounded down",
	[PVBLK_CLAMP_CAPACITY_ZERO] = "capacity 0, the disk is empty",
	[PVBLK_CLAMP_BLK_SIZE] = "block size not a power of two in 512..PAGE_SIZE, using 512",
	[PVBLK_CLAMP_PHYS_EXP] = "physical block exponent too large, ignored",
	[PVBLK_CLAMP_ALIGN_OFFSET] = "alignment offset beyond a physical block, ignored",
	[PVBLK_CLAMP_IO_OPT] = "optimal I/O size overflows, ignored",
	[PVBLK_CLAMP_SEG_MAX] = "seg_max 0, using 1 segment",
	[PVBLK_CLAMP_SIZE_MAX] = "size_max below a page, ignored",
	[PVBLK_CLAMP_QUEUES] = "num_queues 0, using 1 queue",
	[PVBLK_CLAMP_DISCARD_MAX] = "max_discard_sectors 0, discard disabled",
	[PVBLK_CLAMP_DISCARD_SEG] = "max_discard_seg 0, using 1 range",
	[PVBLK_CLAMP_DISCARD_ALIGN] = "discard alignment not a power of two, using the block size",
	[PVBLK_CLAMP_WZ_MAX] = "max_write_zeroes_sectors 0, write zeroes disabled",
	[PVBLK_CLAMP_WZ_SEG] = "max_write_zeroes_seg 0, using 1 range",
	[PVBLK_CLAMP_SE_MAX] = "max_secure_erase_sectors 0, secure erase disabled",
	[PVBLK_CLAMP_SE_SEG] = "max_secure_erase_seg 0, using 1 range",
};

static struct pvblk_vq *pvblk_rq_vq(struct request *rq)
{
	struct pvblk *pv = rq->q->queuedata;

	return &pv->vqs[rq->mq_hctx->queue_num];
}

static struct pvblk_slot *pvblk_slot_get(struct pvblk_vq *pq)
{
	struct pvblk_slot *slot;

	if (!pq->nfree)
		return NULL;
	slot = &pq->slots[pq->free[--pq->nfree]];
	slot->status = PVBLK_STATUS_UNSET;
	return slot;
}

static void pvblk_drop_pages(struct page **held, unsigned int n)
{
	while (n)
		put_page(held[--n]);
	kfree(held);
}

/* Give a slot back, with whatever it still owns. */
static void pvblk_slot_put(struct pvblk_vq *pq, struct pvblk_slot *slot)
{
	pvblk_drop_pages(slot->held, slot->nheld);
	kfree(slot->ranges);
	slot->held = NULL;
	slot->nheld = 0;
	slot->ranges = NULL;
	slot->rq = NULL;
	pq->free[pq->nfree++] = slot - pq->slots;
}

static void pvblk_reset_slots(struct pvblk_vq *pq)
{
	unsigned int i;

	for (i = 0; i < pq->nslots; i++)
		pq->free[i] = pq->nslots - 1 - i;
	pq->nfree = pq->nslots;
	pq->inflight = 0;
	pq->zombies = 0;
	pq->stopped = false;
}

/* ---- the I/O path ---- */

static void pvblk_unmap(struct request *rq)
{
	struct pvblk_req *rqd = blk_mq_rq_to_pdu(rq);

	if (rqd->sgt.orig_nents) {
		sg_free_table_chained(&rqd->sgt, PVBLK_INLINE_SG);
		rqd->sgt.orig_nents = 0;
	}
}

/* Build the ranges of a discard, write-zeroes or secure-erase command. */
static blk_status_t pvblk_setup_ranges(struct pvblk *pv, struct request *rq,
				       void **ranges)
{
	unsigned short n = blk_rq_nr_discard_segments(rq);
	struct virtio_blk_discard_write_zeroes *r;
	u32 flags = 0;
	struct bio *bio;
	unsigned int i = 0;

	if (req_op(rq) == REQ_OP_WRITE_ZEROES && pv->lim.wz_unmap &&
	    !(rq->cmd_flags & REQ_NOUNMAP))
		flags |= VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;
	r = kmalloc_array(n, sizeof(*r), GFP_ATOMIC);
	if (!r)
		return BLK_STS_RESOURCE;
	if (n == 1) {
		r[0].sector = cpu_to_le64(blk_rq_pos(rq));
		r[0].num_sectors = cpu_to_le32(blk_rq_sectors(rq));
		r[0].flags = cpu_to_le32(flags);
	} else {
		__rq_for_each_bio(bio, rq) {
			if (WARN_ON_ONCE(i >= n)) {
				kfree(r);
				return BLK_STS_IOERR;
			}
			r[i].sector = cpu_to_le64(bio->bi_iter.bi_sector);
			r[i].num_sectors = cpu_to_le32(bio_sectors(bio));
			r[i].flags = cpu_to_le32(flags);
			i++;
		}
	}
	pvblk_set_payload(rq, r, n * sizeof(*r));
	*ranges = r;
	return BLK_STS_OK;
}

/* Everything a submission needs that may be prepared without the lock. */
static blk_status_t pvblk_prep(struct pvblk *pv, struct request *rq,
			       struct virtio_blk_outhdr *hdr, void **ranges)
{
	struct pvblk_req *rqd = blk_mq_rq_to_pdu(rq);
	struct virtio_device *vdev = pv->vdev;
	int type = pvblk_req_type(req_op(rq));
	blk_status_t sts;
	u64 sector = 0;

	if (type < 0)
		return BLK_STS_NOTSUPP;
	if (type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_OUT)
		sector = blk_rq_pos(rq);
	hdr->type = cpu_to_virtio32(vdev, type);
	hdr->sector = cpu_to_virtio64(vdev, sector);
	hdr->ioprio = cpu_to_virtio32(vdev, req_get_ioprio(rq));
	*ranges = NULL;
	if (type == VIRTIO_BLK_T_DISCARD || type == VIRTIO_BLK_T_WRITE_ZEROES ||
	    type == VIRTIO_BLK_T_SECURE_ERASE) {
		sts = pvblk_setup_ranges(pv, rq, ranges);
		if (sts)
			return sts;
	}
	rqd->sgt.orig_nents = 0;
	rqd->sgt.nents = 0;
	if (blk_rq_nr_phys_segments(rq)) {
		rqd->sgt.sgl = rqd->sg;
		if (sg_alloc_table_chained(&rqd->sgt,
					   blk_rq_nr_phys_segments(rq),
					   rqd->sgt.sgl, PVBLK_INLINE_SG)) {
			kfree(*ranges);
			*ranges = NULL;
			return BLK_STS_RESOURCE;
		}
		rqd->sgt.nents = blk_rq_map_sg(rq->q, rq, rqd->sgt.sgl);
	}
	return BLK_STS_OK;
}

/* Put a prepared request on the ring; called with the queue's lock. */
static int pvblk_add(struct pvblk_vq *pq, struct request *rq,
		     const struct virtio_blk_outhdr *hdr, void *ranges)
{
	struct pvblk_req *rqd = blk_mq_rq_to_pdu(rq);
	struct scatterlist hsg, ssg, *sgs[3];
	unsigned int out = 0, in = 0;
	struct pvblk_slot *slot;
	int err;

	if (!pq->vq)
		return -EIO;
	slot = pvblk_slot_get(pq);
	if (!slot)
		return -ENOSPC;
	slot->hdr = *hdr;
	slot->rq = rq;
	slot->ranges = ranges;
	slot->in_bytes = 1;
	sg_init_one(&hsg, &slot->hdr, sizeof(slot->hdr));
	sgs[out++] = &hsg;
	if (rqd->sgt.nents) {
		if (op_is_write(req_op(rq))) {
			sgs[out++] = rqd->sgt.sgl;
		} else {
			sgs[out + in++] = rqd->sgt.sgl;
			slot->in_bytes += blk_rq_bytes(rq);
		}
	}
	sg_init_one(&ssg, &slot->status, sizeof(slot->status));
	sgs[out + in++] = &ssg;
	err = virtqueue_add_sgs(pq->vq, sgs, out, in, slot, GFP_ATOMIC);
	if (err) {
		slot->ranges = NULL;
		pvblk_slot_put(pq, slot);
		return err;
	}
	rqd->slot = slot;
	pq->inflight++;
	pq->st.submitted++;
	return 0;
}

/* Notify the device of what was added; called with the queue's lock. */
static bool pvblk_kick_prepare(struct pvblk_vq *pq)
{
	if (!pq->vq || !virtqueue_kick_prepare(pq->vq))
		return false;
	pq->st.kicks++;
	return true;
}

static blk_status_t pvblk_queue_rq(struct blk_mq_hw_ctx *hctx,
				   const struct blk_mq_queue_data *bd)
{
	struct pvblk *pv = hctx->queue->queuedata;
	struct pvblk_vq *pq = &pv->vqs[hctx->queue_num];
	struct request *rq = bd->rq;
	struct virtio_blk_outhdr hdr;
	bool notify = false;
	unsigned long flags;
	blk_status_t sts;
	void *ranges;
	int err;

	if (unlikely(READ_ONCE(pv->dead)))
		return BLK_STS_IOERR;
	sts = pvblk_prep(pv, rq, &hdr, &ranges);
	if (unlikely(sts))
		return sts;
	blk_mq_start_request(rq);

	spin_lock_irqsave(&pq->lock, flags);
	err = pvblk_add(pq, rq, &hdr, ranges);
	if (bd->last || err)
		notify = pvblk_kick_prepare(pq);
	/*
	 * Stopped under the lock, so that the completion that frees room
	 * sees the flag and restarts the queue.
	 */
	if (unlikely(err == -ENOSPC || err == -ENOMEM || err == -EIO)) {
		blk_mq_stop_hw_queue(hctx);
		pq->stopped = true;
	}
	spin_unlock_irqrestore(&pq->lock, flags);
	if (notify)
		virtqueue_notify(pq->vq);
	if (likely(!err))
		return BLK_STS_OK;

	kfree(ranges);
	pvblk_unmap(rq);
	switch (err) {
	case -ENOSPC:
	case -ENOMEM:
		return BLK_STS_DEV_RESOURCE;
	case -EIO:
		/* The ring is broken: the reset restarts the queues. */
		schedule_work(&pv->reset_work);
		return BLK_STS_DEV_RESOURCE;
	default:
		return BLK_STS_IOERR;
	}
}

static void pvblk_commit_rqs(struct blk_mq_hw_ctx *hctx)
{
	struct pvblk *pv = hctx->queue->queuedata;
	struct pvblk_vq *pq = &pv->vqs[hctx->queue_num];
	unsigned long flags;
	bool notify;

	spin_lock_irqsave(&pq->lock, flags);
	notify = pvblk_kick_prepare(pq);
	spin_unlock_irqrestore(&pq->lock, flags);
	if (notify)
		virtqueue_notify(pq->vq);
}

static void pvblk_complete_rq(struct request *rq)
{
	struct pvblk_req *rqd = blk_mq_rq_to_pdu(rq);

	pvblk_unmap(rq);
	blk_mq_end_request(rq, rqd->status);
}

static void pvblk_complete_batch(struct io_comp_batch *iob)
{
	struct request *rq;

	rq_list_for_each(&iob->req_list, rq)
		pvblk_unmap(rq);
	blk_mq_end_request_batch(iob);
}

/* Check what the device returned; called with the queue's lock. */
static blk_status_t pvblk_judge(struct pvblk *pv, struct pvblk_vq *pq,
				struct pvblk_slot *slot, u32 len)
{
	blk_status_t sts;
	bool bad;

	sts = pvblk_status(slot->status, &bad);
	if (unlikely(atomic_read(&pv->inject_status) > 0) &&
	    atomic_dec_if_positive(&pv->inject_status) >= 0) {
		bad = true;
		sts = BLK_STS_IOERR;
	}
	if (unlikely(bad)) {
		pq->st.bad_status++;
		if (!test_and_set_bit(PVBLK_ONCE_BAD_STATUS, &pv->once))
			dev_warn(&pv->vdev->dev,
				 "%s: device returned status byte %#x, failing the request (logged once)\n",
				 pv->disk->disk_name, slot->status);
	}
	if (unlikely(pvblk_used_len_bad(slot->in_bytes, len, !sts))) {
		pq->st.bad_len++;
		if (!test_and_set_bit(PVBLK_ONCE_BAD_LEN, &pv->once))
			dev_warn(&pv->vdev->dev,
				 "%s: device returned used length %u for a request of %u bytes, ignored (logged once)\n",
				 pv->disk->disk_name, len, slot->in_bytes);
	}
	return sts;
}

/*
 * Take one returned slot; called with the queue's lock.  Completions of
 * live requests are batched in @iob when the block layer allows it.
 */
static void pvblk_slot_done(struct pvblk *pv, struct pvblk_vq *pq,
			    struct pvblk_slot *slot, u32 len,
			    struct io_comp_batch *iob)
{
	struct request *rq = slot->rq;
	struct pvblk_req *rqd;
	blk_status_t sts;

	if (unlikely(!rq)) {
		pq->st.late++;
		pq->zombies--;
		pvblk_slot_put(pq, slot);
		if (!test_and_set_bit(PVBLK_ONCE_LATE, &pv->once))
			dev_info(&pv->vdev->dev,
				 "%s: device completed a request already failed after its timeout, ignored (logged once)\n",
				 pv->disk->disk_name);
		return;
	}
	sts = pvblk_judge(pv, pq, slot, len);
	rqd = blk_mq_rq_to_pdu(rq);
	rqd->slot = NULL;
	rqd->status = sts;
	pq->inflight--;
	pq->st.completed++;
	if (sts)
		pq->st.errors++;
	pvblk_slot_put(pq, slot);
	if (!blk_mq_add_to_batch(rq, iob, sts != BLK_STS_OK,
				 pvblk_complete_batch))
		blk_mq_complete_request(rq);
}

/* Take every returned slot; called with the queue's lock. */
static unsigned int pvblk_reap(struct pvblk *pv, struct pvblk_vq *pq,
			       struct io_comp_batch *iob)
{
	struct pvblk_slot *slot;
	unsigned int n = 0;
	u32 len;

	if (!pq->vq)
		return 0;
	while ((slot = virtqueue_get_buf(pq->vq, &len))) {
		pvblk_slot_done(pv, pq, slot, len, iob);
		n++;
	}
	return n;
}

static void pvblk_vq_done(struct virtqueue *vq)
{
	struct pvblk *pv = vq->vdev->priv;
	struct pvblk_vq *pq = &pv->vqs[vq->index];
	DEFINE_IO_COMP_BATCH(iob);
	unsigned long flags;
	bool restart;

	spin_lock_irqsave(&pq->lock, flags);
	pq->st.interrupts++;
	do {
		virtqueue_disable_cb(vq);
		pvblk_reap(pv, pq, &iob);
	} while (!virtqueue_enable_cb(vq));
	restart = pq->stopped;
	pq->stopped = false;
	spin_unlock_irqrestore(&pq->lock, flags);
	if (iob.complete)
		iob.complete(&iob);
	if (restart)
		blk_mq_start_stopped_hw_queues(pv->disk->queue, true);
}

static int pvblk_poll(struct blk_mq_hw_ctx *hctx, struct io_comp_batch *iob)
{
	struct pvblk *pv = hctx->queue->queuedata;
	struct pvblk_vq *pq = &pv->vqs[hctx->queue_num];
	unsigned long flags;
	bool restart = false;
	unsigned int n;

	spin_lock_irqsave(&pq->lock, flags);
	n = pvblk_reap(pv, pq, iob);
	pq->st.polled += n;
	if (n) {
		restart = pq->stopped;
		pq->stopped = false;
	}
	spin_unlock_irqrestore(&pq->lock, flags);
	if (restart)
		blk_mq_start_stopped_hw_queues(pv->disk->queue, true);
	return n;
}

/*
 * Take references on a request's data pages, so that a device that still
 * holds the request after the driver gave up on it writes only into pages
 * nobody else gets.
 */
static struct page **pvblk_hold_pages(struct request *rq, unsigned int *n)
{
	struct req_iterator iter;
	struct page **held;
	struct bio_vec bv;
	unsigned int i = 0;

	*n = 0;
	switch (req_op(rq)) {
	case REQ_OP_READ:
	case REQ_OP_WRITE:
	case REQ_OP_DRV_IN:
		break;
	default:
		return NULL;
	}
	rq_for_each_segment(bv, rq, iter)
		i++;
	if (!i)
		return NULL;
	held = kmalloc_array(i, sizeof(*held), GFP_NOIO);
	if (!held)
		return ERR_PTR(-ENOMEM);
	rq_for_each_segment(bv, rq, iter) {
		if (*n == i)
			break;
		get_page(bv.bv_page);
		held[(*n)++] = bv.bv_page;
	}
	return held;
}

/*
 * Give up on a request the device keeps: it fails, and its slot stays on
 * the ring, owning the request's pages, until the device returns it.
 */
static enum blk_eh_timer_return pvblk_abort(struct pvblk *pv,
					    struct pvblk_vq *pq,
					    struct request *rq)
{
	struct pvblk_req *rqd = blk_mq_rq_to_pdu(rq);
	struct pvblk_slot *slot;
	unsigned long flags;
	struct page **held;
	unsigned int n;

	held = pvblk_hold_pages(rq, &n);
	if (IS_ERR(held))
		return BLK_EH_RESET_TIMER;
	spin_lock_irqsave(&pq->lock, flags);
	slot = rqd->slot;
	if (!slot) {
		spin_unlock_irqrestore(&pq->lock, flags);
		pvblk_drop_pages(held, n);
		return BLK_EH_DONE;
	}
	slot->rq = NULL;
	slot->held = held;
	slot->nheld = n;
	rqd->slot = NULL;
	pq->inflight--;
	pq->zombies++;
	pq->st.aborted++;
	pq->st.errors++;
	spin_unlock_irqrestore(&pq->lock, flags);

	dev_warn_ratelimited(&pv->vdev->dev,
			     "%s: request at sector %llu still not completed after %u ms: failed with an I/O error; the device keeps its buffers until it answers\n",
			     pv->disk->disk_name, blk_rq_pos(rq),
			     2 * jiffies_to_msecs(rq->timeout));
	rqd->status = BLK_STS_IOERR;
	blk_mq_complete_request(rq);
	return BLK_EH_DONE;
}

static enum blk_eh_timer_return pvblk_timeout(struct request *rq)
{
	struct pvblk_req *rqd = blk_mq_rq_to_pdu(rq);
	struct pvblk *pv = rq->q->queuedata;
	struct pvblk_vq *pq = pvblk_rq_vq(rq);
	DEFINE_IO_COMP_BATCH(iob);
	bool broken = false, done;
	unsigned long flags;
	unsigned int expiries;

	spin_lock_irqsave(&pq->lock, flags);
	if (!rqd->slot) {
		spin_unlock_irqrestore(&pq->lock, flags);
		return BLK_EH_DONE;
	}
	pq->st.timeouts++;
	expiries = ++rqd->expiries;
	if (expiries == 1 && pq->vq) {
		/* A lost notification or interrupt: ask again, look again. */
		if (pvblk_kick_prepare(pq))
			virtqueue_notify(pq->vq);
		pvblk_reap(pv, pq, &iob);
	}
	if (pq->vq)
		broken = virtqueue_is_broken(pq->vq);
	done = !rqd->slot;
	spin_unlock_irqrestore(&pq->lock, flags);
	if (iob.complete)
		iob.complete(&iob);
	if (done)
		return BLK_EH_DONE;

	if (broken && !READ_ONCE(pv->dead)) {
		dev_warn_ratelimited(&pv->vdev->dev,
				     "%s: request timed out on a broken ring: resetting the device\n",
				     pv->disk->disk_name);
		schedule_work(&pv->reset_work);
		return BLK_EH_RESET_TIMER;
	}
	if (expiries == 1) {
		dev_warn_ratelimited(&pv->vdev->dev,
				     "%s: request at sector %llu timed out after %u ms: notified the device again\n",
				     pv->disk->disk_name, blk_rq_pos(rq),
				     jiffies_to_msecs(rq->timeout));
		return BLK_EH_RESET_TIMER;
	}
	return pvblk_abort(pv, pq, rq);
}

static void pvblk_map_queues(struct blk_mq_tag_set *set)
{
	struct pvblk *pv = set->driver_data;
	unsigned int i, off = 0;

	for (i = 0; i < set->nr_maps; i++) {
		struct blk_mq_queue_map *map = &set->map[i];

		map->nr_queues = 0;
		if (i == HCTX_TYPE_DEFAULT)
			map->nr_queues = pv->nvqs - pv->lim.nr_poll;
		else if (i == HCTX_TYPE_POLL)
			map->nr_queues = pv->lim.nr_poll;
		map->queue_offset = off;
		off += map->nr_queues;
		if (!map->nr_queues)
			continue;
		if (i == HCTX_TYPE_DEFAULT)
			blk_mq_virtio_map_queues(map, pv->vdev, 0);
		else
			blk_mq_map_queues(map);
	}
}

static const struct blk_mq_ops pvblk_mq_ops = {
	.queue_rq = pvblk_queue_rq,
	.commit_rqs = pvblk_commit_rqs,
	.complete = pvblk_complete_rq,
	.timeout = pvblk_timeout,
	.poll = pvblk_poll,
	.map_queues = pvblk_map_queues,
};

/* ---- recovery ---- */

/*
 * Take back every command the device holds; only after a reset or when the
 * device is gone.  Live requests are requeued while they have retries left
 * and @retry is set, and failed otherwise.
 */
static void pvblk_reclaim(struct pvblk *pv, bool retry, unsigned int *requeued,
			  unsigned int *failed)
{
	unsigned int i;

	for (i = 0; i < pv->nvqs; i++) {
		struct pvblk_vq *pq = &pv->vqs[i];
		struct pvblk_slot *slot;
		struct pvblk_req *rqd;
		struct request *rq;

		spin_lock_irq(&pq->lock);
		while (pq->vq && (slot = virtqueue_detach_unused_buf(pq->vq))) {
			rq = slot->rq;
			if (!rq) {
				pq->zombies--;
				pvblk_slot_put(pq, slot);
				continue;
			}
			rqd = blk_mq_rq_to_pdu(rq);
			rqd->slot = NULL;
			rqd->expiries = 0;
			pq->inflight--;
			pvblk_slot_put(pq, slot);
			pvblk_unmap(rq);
			if (retry && rqd->retries < max_retries) {
				rqd->retries++;
				pq->st.retries++;
				(*requeued)++;
				blk_mq_requeue_request(rq, false);
			} else {
				pq->st.errors++;
				(*failed)++;
				blk_mq_end_request(rq, BLK_STS_IOERR);
			}
		}
		spin_unlock_irq(&pq->lock);
	}
}

static bool pvblk_broken(struct pvblk *pv)
{
	unsigned int i;

	for (i = 0; i < pv->nvqs; i++)
		if (pv->vqs[i].vq && virtqueue_is_broken(pv->vqs[i].vq))
			return true;
	return false;
}

static int pvblk_find_vqs_all(struct pvblk *pv);

static void pvblk_del_vqs(struct pvblk *pv)
{
	unsigned int i;

	for (i = 0; i < pv->nvqs; i++) {
		spin_lock_irq(&pv->vqs[i].lock);
		pv->vqs[i].vq = NULL;
		spin_unlock_irq(&pv->vqs[i].lock);
	}
	pv->vdev->config->del_vqs(pv->vdev);
}

/* Bring a reset device back to DRIVER_OK with the features we had. */
static int pvblk_renegotiate(struct pvblk *pv)
{
	struct virtio_device *vdev = pv->vdev;
	int err;

	virtio_add_status(vdev, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	virtio_add_status(vdev, VIRTIO_CONFIG_S_DRIVER);
	err = vdev->config->finalize_features(vdev);
	if (err)
		return err;
	virtio_add_status(vdev, VIRTIO_CONFIG_S_FEATURES_OK);
	if (!(vdev->config->get_status(vdev) & VIRTIO_CONFIG_S_FEATURES_OK))
		return -ENODEV;
	err = pvblk_find_vqs_all(pv);
	if (err)
		return err;
	virtio_device_ready(vdev);
	return 0;
}

/* Reset the device and resubmit what it held; called with @pv->lock. */
static void pvblk_reset(struct pvblk *pv)
{
	struct request_queue *q = pv->disk->queue;
	unsigned int requeued = 0, failed = 0;
	int err;

	blk_mq_quiesce_queue(q);
	virtio_reset_device(pv->vdev);
	pvblk_reclaim(pv, true, &requeued, &failed);
	pvblk_del_vqs(pv);
	err = pvblk_renegotiate(pv);
	WRITE_ONCE(pv->resets, pv->resets + 1);
	if (err) {
		WRITE_ONCE(pv->dead, true);
		dev_err(&pv->vdev->dev,
			"%s: device did not come back after a reset (%d): failing all I/O\n",
			pv->disk->disk_name, err);
		blk_mark_disk_dead(pv->disk);
	} else {
		dev_warn(&pv->vdev->dev,
			 "%s: device reset after a broken ring: %u requests resubmitted, %u failed\n",
			 pv->disk->disk_name, requeued, failed);
	}
	blk_mq_unquiesce_queue(q);
	blk_mq_start_stopped_hw_queues(q, true);
	blk_mq_kick_requeue_list(q);
}

static void pvblk_reset_work(struct work_struct *work)
{
	struct pvblk *pv = container_of(work, struct pvblk, reset_work);

	mutex_lock(&pv->lock);
	if (!pv->removing && !pv->dead && pvblk_broken(pv))
		pvblk_reset(pv);
	mutex_unlock(&pv->lock);
}

/* ---- configuration ---- */

#define pvblk_cread(vdev, f, field, ptr) \
	virtio_cread_feature(vdev, f, struct virtio_blk_config, field, ptr)

static void pvblk_read_config(struct virtio_device *vdev,
			      struct pvblk_devcfg *c)
{
	static const unsigned int bits[] = {
		VIRTIO_BLK_F_SIZE_MAX, VIRTIO_BLK_F_SEG_MAX,
		VIRTIO_BLK_F_BLK_SIZE, VIRTIO_BLK_F_TOPOLOGY,
		VIRTIO_BLK_F_MQ, VIRTIO_BLK_F_DISCARD,
		VIRTIO_BLK_F_WRITE_ZEROES, VIRTIO_BLK_F_SECURE_ERASE,
	};
	unsigned int i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < ARRAY_SIZE(bits); i++)
		if (virtio_has_feature(vdev, bits[i]))
			c->features |= BIT_ULL(bits[i]);
	virtio_cread(vdev, struct virtio_blk_config, capacity, &c->capacity);
	pvblk_cread(vdev, VIRTIO_BLK_F_SIZE_MAX, size_max, &c->size_max);
	pvblk_cread(vdev, VIRTIO_BLK_F_SEG_MAX, seg_max, &c->seg_max);
	pvblk_cread(vdev, VIRTIO_BLK_F_BLK_SIZE, blk_size, &c->blk_size);
	pvblk_cread(vdev, VIRTIO_BLK_F_TOPOLOGY, physical_block_exp,
		    &c->physical_block_exp);
	pvblk_cread(vdev, VIRTIO_BLK_F_TOPOLOGY, alignment_offset,
		    &c->alignment_offset);
	pvblk_cread(vdev, VIRTIO_BLK_F_TOPOLOGY, min_io_size, &c->min_io_size);
	pvblk_cread(vdev, VIRTIO_BLK_F_TOPOLOGY, opt_io_size, &c->opt_io_size);
	pvblk_cread(vdev, VIRTIO_BLK_F_MQ, num_queues, &c->num_queues);
	pvblk_cread(vdev, VIRTIO_BLK_F_DISCARD, max_discard_sectors,
		    &c->max_discard_sectors);
	pvblk_cread(vdev, VIRTIO_BLK_F_DISCARD, max_discard_seg,
		    &c->max_discard_seg);
	pvblk_cread(vdev, VIRTIO_BLK_F_DISCARD, discard_sector_alignment,
		    &c->discard_sector_alignment);
	pvblk_cread(vdev, VIRTIO_BLK_F_WRITE_ZEROES, max_write_zeroes_sectors,
		    &c->max_write_zeroes_sectors);
	pvblk_cread(vdev, VIRTIO_BLK_F_WRITE_ZEROES, max_write_zeroes_seg,
		    &c->max_write_zeroes_seg);
	pvblk_cread(vdev, VIRTIO_BLK_F_WRITE_ZEROES, write_zeroes_may_unmap,
		    &c->write_zeroes_may_unmap);
	pvblk_cread(vdev, VIRTIO_BLK_F_SECURE_ERASE, max_secure_erase_sectors,
		    &c->max_secure_erase_sectors);
	pvblk_cread(vdev, VIRTIO_BLK_F_SECURE_ERASE, max_secure_erase_seg,
		    &c->max_secure_erase_seg);
	pvblk_cread(vdev, VIRTIO_BLK_F_SECURE_ERASE,
		    secure_erase_sector_alignment,
		    &c->secure_erase_sector_alignment);
	c->dma_max = min_t(size_t, virtio_max_dma_size(vdev), U32_MAX);
	c->page_size = PAGE_SIZE;
	c->nr_cpus = nr_cpu_ids;
	c->want_queues = num_queues;
	c->want_poll = poll_queues;
}

/* Log each clamped value once, and count them. */
static void pvblk_report_clamps(struct pvblk *pv, unsigned long clamped)
{
	unsigned int bit;

	for_each_set_bit(bit, &clamped, PVBLK_CLAMP_NR) {
		WRITE_ONCE(pv->config_clamps, pv->config_clamps + 1);
		dev_warn(&pv->vdev->dev, "device config: %s\n",
			 pvblk_clamp_msg[bit]);
	}
}

static bool pvblk_write_back(struct virtio_device *vdev)
{
	u8 wce;

	if (virtio_cread_feature(vdev, VIRTIO_BLK_F_CONFIG_WCE,
				 struct virtio_blk_config, wce, &wce))
		return virtio_has_feature(vdev, VIRTIO_BLK_F_FLUSH);
	return wce;
}

static void pvblk_config_work(struct work_struct *work)
{
	struct pvblk *pv = container_of(work, struct pvblk, config_work);
	unsigned long clamped = 0;
	u64 raw, cap, old;

	mutex_lock(&pv->lock);
	if (pv->removing)
		goto out;
	virtio_cread(pv->vdev, struct virtio_blk_config, capacity, &raw);
	cap = pvblk_capacity(raw, pv->lim.lbs, &clamped);
	pvblk_report_clamps(pv, clamped);
	old = get_capacity(pv->disk);
	if (cap == old)
		goto out;
	WRITE_ONCE(pv->resizes, pv->resizes + 1);
	dev_info(&pv->vdev->dev, "%s: capacity changed from %llu to %llu sectors\n",
		 pv->disk->disk_name, old, cap);
	set_capacity_and_notify(pv->disk, cap);
out:
	mutex_unlock(&pv->lock);
}

static void pvblk_config_changed(struct virtio_device *vdev)
{
	struct pvblk *pv = vdev->priv;

	schedule_work(&pv->config_work);
}

/* ---- sysfs ---- */

static int pvblk_get_id(struct pvblk *pv, void *buf)
{
	struct request_queue *q = pv->disk->queue;
	struct request *rq;
	int err;

	rq = blk_mq_alloc_request(q, REQ_OP_DRV_IN, 0);
	if (IS_ERR(rq))
		return PTR_ERR(rq);
	err = blk_rq_map_kern(q, rq, buf, VIRTIO_BLK_ID_BYTES, GFP_KERNEL);
	if (!err)
		err = blk_status_to_errno(blk_execute_rq(rq, false));
	blk_mq_free_request(rq);
	return err;
}

static ssize_t serial_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	struct gendisk *disk = dev_to_disk(dev);
	unsigned long page;
	char *id;
	int err, i;

	/* A whole page: a request given up on keeps it, not a slab object. */
	page = get_zeroed_page(GFP_KERNEL);
	if (!page)
		return -ENOMEM;
	id = (char *)page;
	err = pvblk_get_id(disk->private_data, id);
	if (err) {
		free_page(page);
		return err == -EOPNOTSUPP ? -ENOENT : err;
	}
	for (i = 0; i < VIRTIO_BLK_ID_BYTES && id[i]; i++)
		if (!isprint(id[i]))
			id[i] = '?';
	err = sysfs_emit(buf, "%.*s\n", i, id);
	free_page(page);
	return err;
}
static DEVICE_ATTR_RO(serial);

static const char * const pvblk_cache_types[] = {
	"write through", "write back"
};

static ssize_t cache_type_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct pvblk *pv = dev_to_disk(dev)->private_data;

	return sysfs_emit(buf, "%s\n",
			  pvblk_cache_types[pvblk_write_back(pv->vdev)]);
}

static ssize_t cache_type_store(struct device *dev,
				struct device_attribute *attr, const char *buf,
				size_t count)
{
	struct pvblk *pv = dev_to_disk(dev)->private_data;
	int i, err;

	i = sysfs_match_string(pvblk_cache_types, buf);
	if (i < 0)
		return i;
	mutex_lock(&pv->cache_lock);
	virtio_cwrite8(pv->vdev, offsetof(struct virtio_blk_config, wce), i);
	if (pvblk_write_back(pv->vdev) != i) {
		mutex_unlock(&pv->cache_lock);
		dev_warn(dev, "device kept its cache mode\n");
		return -EIO;
	}
	err = pvblk_set_write_cache(pv->disk->queue, i);
	mutex_unlock(&pv->cache_lock);
	return err ? err : count;
}
static DEVICE_ATTR_RW(cache_type);

static struct attribute *pvblk_attrs[] = {
	&dev_attr_serial.attr,
	&dev_attr_cache_type.attr,
	NULL,
};

static umode_t pvblk_attr_visible(struct kobject *kobj, struct attribute *a,
				  int n)
{
	struct gendisk *disk = dev_to_disk(kobj_to_dev(kobj));
	struct pvblk *pv = disk->private_data;

	if (a == &dev_attr_cache_type.attr &&
	    !virtio_has_feature(pv->vdev, VIRTIO_BLK_F_CONFIG_WCE))
		return 0444;
	return a->mode;
}

static const struct attribute_group pvblk_attr_group = {
	.attrs = pvblk_attrs,
	.is_visible = pvblk_attr_visible,
};

static const struct attribute_group *pvblk_attr_groups[] = {
	&pvblk_attr_group,
	NULL,
};

static int pvblk_getgeo(struct block_device *bdev, struct hd_geometry *geo)
{
	struct pvblk *pv = bdev->bd_disk->private_data;
	struct virtio_device *vdev = pv->vdev;

	if (virtio_has_feature(vdev, VIRTIO_BLK_F_GEOMETRY)) {
		virtio_cread(vdev, struct virtio_blk_config, geometry.cylinders,
			     &geo->cylinders);
		virtio_cread(vdev, struct virtio_blk_config, geometry.heads,
			     &geo->heads);
		virtio_cread(vdev, struct virtio_blk_config, geometry.sectors,
			     &geo->sectors);
	} else {
		geo->heads = 1 << 6;
		geo->sectors = 1 << 5;
		geo->cylinders = get_capacity(bdev->bd_disk) >> 11;
	}
	return 0;
}

static const struct block_device_operations pvblk_fops = {
	.owner = THIS_MODULE,
	.getgeo = pvblk_getgeo,
};

/* ---- debugfs ---- */

static void pvblk_qstats_add(struct pvblk_qstats *sum,
			     const struct pvblk_qstats *st)
{
	sum->submitted += st->submitted;
	sum->completed += st->completed;
	sum->kicks += st->kicks;
	sum->interrupts += st->interrupts;
	sum->polled += st->polled;
	sum->errors += st->errors;
	sum->timeouts += st->timeouts;
	sum->aborted += st->aborted;
	sum->late += st->late;
	sum->retries += st->retries;
	sum->bad_status += st->bad_status;
	sum->bad_len += st->bad_len;
}

static void pvblk_qstats_show(struct seq_file *m, const struct pvblk_qstats *st,
			      unsigned int inflight, unsigned int zombies,
			      u64 resets)
{
	seq_printf(m, "submitted %llu\ncompleted %llu\ninflight %u\n",
		   st->submitted, st->completed, inflight);
	seq_printf(m, "zombies %u\nkicks %llu\ninterrupts %llu\npolled %llu\n",
		   zombies, st->kicks, st->interrupts, st->polled);
	seq_printf(m, "errors %llu\ntimeouts %llu\naborted %llu\nlate %llu\n",
		   st->errors, st->timeouts, st->aborted, st->late);
	seq_printf(m, "resets %llu\nretries %llu\nbad_status %llu\nbad_len %llu\n",
		   resets, st->retries, st->bad_status, st->bad_len);
}

static int pvblk_stats_show(struct seq_file *m, void *unused)
{
	struct pvblk *pv = m->private;
	unsigned int i, inflight = 0, zombies = 0;
	struct pvblk_qstats sum = {};

	for (i = 0; i < pv->nvqs; i++) {
		struct pvblk_vq *pq = &pv->vqs[i];

		spin_lock_irq(&pq->lock);
		pvblk_qstats_add(&sum, &pq->st);
		inflight += pq->inflight;
		zombies += pq->zombies;
		spin_unlock_irq(&pq->lock);
	}
	pvblk_qstats_show(m, &sum, inflight, zombies, READ_ONCE(pv->resets));
	seq_printf(m, "config_clamps %llu\nresizes %llu\n",
		   READ_ONCE(pv->config_clamps), READ_ONCE(pv->resizes));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pvblk_stats);

static int pvblk_queue_show(struct seq_file *m, void *unused)
{
	struct pvblk_vq *pq = m->private;
	unsigned int inflight, zombies;
	struct pvblk_qstats st;

	spin_lock_irq(&pq->lock);
	st = pq->st;
	inflight = pq->inflight;
	zombies = pq->zombies;
	spin_unlock_irq(&pq->lock);
	pvblk_qstats_show(m, &st, inflight, zombies, READ_ONCE(pq->pv->resets));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pvblk_queue);

static int pvblk_inject_break_set(void *data, u64 val)
{
	struct pvblk *pv = data;

	if (val != 1)
		return -EINVAL;
	dev_warn(&pv->vdev->dev, "%s: fault injection: marking the rings broken\n",
		 pv->disk->disk_name);
	virtio_break_device(pv->vdev);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(pvblk_inject_break_fops, NULL, pvblk_inject_break_set,
			 "%llu\n");

static void pvblk_debugfs_init(struct pvblk *pv)
{
	struct dentry *dir;
	unsigned int i;
	char name[16];

	dir = debugfs_create_dir(pv->disk->disk_name, pvblk_debugfs);
	pv->dbg = dir;
	debugfs_create_file("stats", 0444, dir, pv, &pvblk_stats_fops);
	for (i = 0; i < pv->nvqs; i++) {
		snprintf(name, sizeof(name), "q%u", i);
		debugfs_create_file(name, 0444, dir, &pv->vqs[i],
				    &pvblk_queue_fops);
	}
	debugfs_create_atomic_t("inject_status", 0600, dir, &pv->inject_status);
	debugfs_create_file_unsafe("inject_break", 0200, dir, pv,
				   &pvblk_inject_break_fops);
}

/* ---- probe and remove ---- */

static int pvblk_alloc_slots(struct pvblk_vq *pq)
{
	unsigned int n = virtqueue_get_vring_size(pq->vq);

	if (pq->slots && pq->nslots == n) {
		pvblk_reset_slots(pq);
		return 0;
	}
	kfree(pq->slots);
	kfree(pq->free);
	pq->slots = kcalloc(n, sizeof(*pq->slots), GFP_KERNEL);
	pq->free = kcalloc(n, sizeof(*pq->free), GFP_KERNEL);
	if (!pq->slots || !pq->free)
		return -ENOMEM;
	pq->nslots = n;
	pvblk_reset_slots(pq);
	return 0;
}

static int pvblk_find_vqs_all(struct pvblk *pv)
{
	/* The transport adds the configuration vector to pre_vectors. */
	struct irq_affinity desc = {};
	unsigned int i, nreq = pv->nvqs - pv->lim.nr_poll;
	const char **names;
	vq_callback_t **cbs;
	struct virtqueue **vqs;
	int err = -ENOMEM;

	names = kcalloc(pv->nvqs, sizeof(*names), GFP_KERNEL);
	cbs = kcalloc(pv->nvqs, sizeof(*cbs), GFP_KERNEL);
	vqs = kcalloc(pv->nvqs, sizeof(*vqs), GFP_KERNEL);
	if (!names || !cbs || !vqs)
		goto out;
	for (i = 0; i < pv->nvqs; i++) {
		names[i] = pv->vqs[i].name;
		cbs[i] = i < nreq ? pvblk_vq_done : NULL;
	}
	err = pvblk_find_vqs(pv->vdev, pv->nvqs, vqs, cbs, names, &desc);
	if (err)
		goto out;
	for (i = 0; i < pv->nvqs && !err; i++) {
		pv->vqs[i].vq = vqs[i];
		err = pvblk_alloc_slots(&pv->vqs[i]);
	}
	if (err)
		pvblk_del_vqs(pv);
out:
	kfree(vqs);
	kfree(cbs);
	kfree(names);
	return err;
}

static void pvblk_free_vqs(struct pvblk *pv)
{
	unsigned int i;

	for (i = 0; pv->vqs && i < pv->nvqs; i++) {
		kfree(pv->vqs[i].slots);
		kfree(pv->vqs[i].free);
	}
	kfree(pv->vqs);
	pv->vqs = NULL;
}

static int pvblk_init_vqs(struct pvblk *pv)
{
	unsigned int i, nreq = pv->lim.nr_queues - pv->lim.nr_poll;
	int err;

	pv->nvqs = pv->lim.nr_queues;
	pv->vqs = kcalloc(pv->nvqs, sizeof(*pv->vqs), GFP_KERNEL);
	if (!pv->vqs)
		return -ENOMEM;
	for (i = 0; i < pv->nvqs; i++) {
		spin_lock_init(&pv->vqs[i].lock);
		pv->vqs[i].pv = pv;
		if (i < nreq)
			snprintf(pv->vqs[i].name, sizeof(pv->vqs[i].name),
				 "req.%u", i);
		else
			snprintf(pv->vqs[i].name, sizeof(pv->vqs[i].name),
				 "poll.%u", i - nreq);
	}
	err = pvblk_find_vqs_all(pv);
	if (err)
		pvblk_free_vqs(pv);
	return err;
}

static int pvblk_init_tag_set(struct pvblk *pv)
{
	struct blk_mq_tag_set *set = &pv->tag_set;
	unsigned int depth = pv->vqs[0].nslots;

	if (!virtio_has_feature(pv->vdev, VIRTIO_RING_F_INDIRECT_DESC))
		depth = max(depth / 4, 1U);
	if (queue_depth)
		depth = min(depth, queue_depth);
	set->ops = &pvblk_mq_ops;
	set->nr_hw_queues = pv->nvqs;
	set->nr_maps = pv->lim.nr_poll ? HCTX_MAX_TYPES : 1;
	set->queue_depth = depth;
	set->numa_node = NUMA_NO_NODE;
	set->flags = BLK_MQ_F_SHOULD_MERGE;
	set->cmd_size = sizeof(struct pvblk_req);
	set->driver_data = pv;
	set->timeout = msecs_to_jiffies(clamp(timeout_ms, 100U, 3600000U));
	return blk_mq_alloc_tag_set(set);
}

static int pvblk_probe(struct virtio_device *vdev)
{
	struct pvblk_devcfg cfg;
	struct gendisk *disk;
	struct pvblk *pv;
	int err;

	if (!vdev->config->get) {
		dev_err(&vdev->dev, "configuration space not readable\n");
		return -EINVAL;
	}
	pv = kzalloc(sizeof(*pv), GFP_KERNEL);
	if (!pv)
		return -ENOMEM;
	pv->vdev = vdev;
	vdev->priv = pv;
	mutex_init(&pv->lock);
	mutex_init(&pv->cache_lock);
	INIT_WORK(&pv->config_work, pvblk_config_work);
	INIT_WORK(&pv->reset_work, pvblk_reset_work);

	pv->index = ida_alloc_max(&pvblk_ida, (1 << (MINORBITS - PVBLK_PART_BITS)) - 1,
				  GFP_KERNEL);
	if (pv->index < 0) {
		err = pv->index;
		goto out_free;
	}
	pvblk_read_config(vdev, &cfg);
	pvblk_derive_limits(&cfg, &pv->lim);

	err = pvblk_init_vqs(pv);
	if (err)
		goto out_ida;
	err = pvblk_init_tag_set(pv);
	if (err)
		goto out_vqs;
	disk = pvblk_alloc_disk(&pv->tag_set, &pv->lim, pvblk_write_back(vdev),
				pv);
	if (IS_ERR(disk)) {
		err = PTR_ERR(disk);
		goto out_tag_set;
	}
	pv->disk = disk;
	pvblk_disk_name(pv->index, disk->disk_name, DISK_NAME_LEN);
	disk->major = pvblk_major;
	disk->first_minor = pv->index << PVBLK_PART_BITS;
	disk->minors = 1 << PVBLK_PART_BITS;
	disk->fops = &pvblk_fops;
	disk->private_data = pv;
	set_capacity(disk, pv->lim.capacity);
	if (virtio_has_feature(vdev, VIRTIO_BLK_F_RO))
		set_disk_ro(disk, true);
	pvblk_report_clamps(pv, pv->lim.clamped);

	virtio_device_ready(vdev);
	err = device_add_disk(&vdev->dev, disk, pvblk_attr_groups);
	if (err)
		goto out_reset;
	pvblk_debugfs_init(pv);
	dev_info(&vdev->dev,
		 "%s: %llu sectors, %u-byte blocks, %u queues (%u polled) of depth %u, %s%s%s%s%s\n",
		 disk->disk_name, pv->lim.capacity, pv->lim.lbs, pv->nvqs,
		 pv->lim.nr_poll, pv->tag_set.queue_depth,
		 pvblk_write_back(vdev) ? "write back" : "write through",
		 virtio_has_feature(vdev, VIRTIO_BLK_F_RO) ? ", read-only" : "",
		 pv->lim.max_discard_sectors ? ", discard" : "",
		 pv->lim.max_write_zeroes_sectors ? ", write zeroes" : "",
		 pv->lim.max_secure_erase_sectors ? ", secure erase" : "");
	return 0;

out_reset:
	virtio_reset_device(vdev);
	put_disk(disk);
out_tag_set:
	blk_mq_free_tag_set(&pv->tag_set);
out_vqs:
	pvblk_del_vqs(pv);
	pvblk_free_vqs(pv);
out_ida:
	ida_free(&pvblk_ida, pv->index);
out_free:
	kfree(pv);
	vdev->priv = NULL;
	return err;
}

static void pvblk_remove(struct virtio_device *vdev)
{
	struct pvblk *pv = vdev->priv;
	unsigned int requeued = 0, failed = 0;

	mutex_lock(&pv->lock);
	pv->removing = true;
	mutex_unlock(&pv->lock);
	cancel_work_sync(&pv->config_work);
	cancel_work_sync(&pv->reset_work);
	debugfs_remove_recursive(pv->dbg);

	/* A device that is gone completes nothing: fail what it held. */
	if (pvblk_broken(pv)) {
		WRITE_ONCE(pv->dead, true);
		blk_mq_quiesce_queue(pv->disk->queue);
		pvblk_reclaim(pv, false, &requeued, &failed);
		blk_mq_unquiesce_queue(pv->disk->queue);
	}
	del_gendisk(pv->disk);
	virtio_reset_device(vdev);
	pvblk_reclaim(pv, false, &requeued, &failed);
	pvblk_del_vqs(pv);
	/* Nothing can schedule them now: no I/O, no device interrupts. */
	cancel_work_sync(&pv->config_work);
	cancel_work_sync(&pv->reset_work);
	put_disk(pv->disk);
	blk_mq_free_tag_set(&pv->tag_set);
	pvblk_free_vqs(pv);
	ida_free(&pvblk_ida, pv->index);
	kfree(pv);
}

static const struct virtio_device_id pvblk_id_table[] = {
	{ VIRTIO_ID_BLOCK, VIRTIO_DEV_ANY_ID },
	{ 0 },
};
MODULE_DEVICE_TABLE(virtio, pvblk_id_table);

static unsigned int pvblk_features[] = {
	VIRTIO_BLK_F_SEG_MAX, VIRTIO_BLK_F_SIZE_MAX, VIRTIO_BLK_F_GEOMETRY,
	VIRTIO_BLK_F_RO, VIRTIO_BLK_F_BLK_SIZE, VIRTIO_BLK_F_FLUSH,
	VIRTIO_BLK_F_TOPOLOGY, VIRTIO_BLK_F_CONFIG_WCE, VIRTIO_BLK_F_MQ,
	VIRTIO_BLK_F_DISCARD, VIRTIO_BLK_F_WRITE_ZEROES,
	VIRTIO_BLK_F_SECURE_ERASE,
};

static struct virtio_driver pvblk_driver = {
	.feature_table = pvblk_features,
	.feature_table_size = ARRAY_SIZE(pvblk_features),
	.feature_table_legacy = pvblk_features,
	.feature_table_size_legacy = ARRAY_SIZE(pvblk_features),
	.driver.name = KBUILD_MODNAME,
	.id_table = pvblk_id_table,
	.probe = pvblk_probe,
	.remove = pvblk_remove,
	.config_changed = pvblk_config_changed,
};

static int __init pvblk_init(void)
{
	int err;

	pvblk_major = register_blkdev(0, KBUILD_MODNAME);
	if (pvblk_major < 0)
		return pvblk_major;
	pvblk_debugfs = debugfs_create_dir(KBUILD_MODNAME, NULL);
	err = register_virtio_driver(&pvblk_driver);
	if (err) {
		debugfs_remove_recursive(pvblk_debugfs);
		unregister_blkdev(pvblk_major, KBUILD_MODNAME);
	}
	return err;
}
module_init(pvblk_init);

static void __exit pvblk_exit(void)
{
	unregister_virtio_driver(&pvblk_driver);
	debugfs_remove_recursive(pvblk_debugfs);
	unregister_blkdev(pvblk_major, KBUILD_MODNAME);
	ida_destroy(&pvblk_ida);
}
module_exit(pvblk_exit);

MODULE_DESCRIPTION("Block driver for virtio-blk devices with timeouts and recovery");
MODULE_LICENSE("GPL");
