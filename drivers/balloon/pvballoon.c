// SPDX-License-Identifier: GPL-2.0
/*
 * pvballoon: a memory balloon for the standard virtio-balloon device.
 *
 * The host sets how much guest memory the balloon should hold (the config
 * space's num_pages); the guest allocates that memory and hands the page
 * numbers to the host, which frees the backing, or takes memory back and
 * tells the host so.  pvballoon speaks the plain virtio-balloon protocol
 * (inflate, deflate, statistics and free page reporting queues), so any
 * virtio-balloon host serves it, and differs from a page-at-a-time balloon
 * in how it does the work:
 *
 * - memory is taken in 2 MiB chunks while the guest has them, in 4 KiB
 *   pages (movable, so compaction can migrate them) once it has not;
 * - a request carries thousands of page numbers and several requests are
 *   in flight at once;
 * - the balloon never takes the memory the guest needs: it stops short of a
 *   reserve, and when the device allows it (DEFLATE_ON_OOM) it gives memory
 *   back to a shrinker or the OOM killer in bounded steps, then holds off
 *   before growing again;
 * - everything it does is counted in debugfs; the target and the size are
 *   in sysfs.
 */

#define pr_fmt(fmt) "pvballoon: " fmt

#include <linux/balloon_compaction.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/module.h>
#include <linux/oom.h>
#include <linux/page_reporting.h>
#include <linux/poison.h>
#include <linux/sched/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/swap.h>
#include <linux/virtio.h>
#include <linux/virtio_balloon.h>
#include <linux/virtio_config.h>
#include <linux/vmstat.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "pvballoon.h"
#include "pvballoon_compat.h"

/* Device page numbers per request: 32 KiB of numbers, 32 MiB of memory. */
#define PVBALLOON_REQ_PFNS	8192
/* Requests each way that may be with the host at once. */
#define PVBALLOON_REQS		4

enum pvballoon_vq {
	PVBALLOON_VQ_INFLATE,
	PVBALLOON_VQ_DEFLATE,
	PVBALLOON_VQ_STATS,
	PVBALLOON_VQ_FREE_PAGE,		/* not used, but numbered */
	PVBALLOON_VQ_REPORTING,
	PVBALLOON_VQ_NR
};

static unsigned int reserve_mb = 32;
module_param(reserve_mb, uint, 0644);
MODULE_PARM_DESC(reserve_mb,
		 "Memory the balloon always leaves available to the guest, in MiB, at least 1/32 of RAM (default: 32)");

static unsigned int holdoff_ms = 30000;
module_param(holdoff_ms, uint, 0644);
MODULE_PARM_DESC(holdoff_ms,
		 "After giving memory back under pressure, do not grow again for this long unless the host sets a new target (default: 30000)");

static unsigned int pressure_step_mb = 64;
module_param(pressure_step_mb, uint, 0644);
MODULE_PARM_DESC(pressure_step_mb,
		 "Memory given back per OOM notification or shrinker call, in MiB (default: 64)");

static unsigned int ack_timeout_ms = 10000;
module_param(ack_timeout_ms, uint, 0644);
MODULE_PARM_DESC(ack_timeout_ms,
		 "How long to wait for the host to acknowledge a request before giving up the current resize (default: 10000)");

static bool use_huge = true;
module_param(use_huge, bool, 0644);
MODULE_PARM_DESC(use_huge, "Take 2 MiB chunks before 4 KiB pages (default: true)");

/* The statistics of debugfs pvballoon/<device>/stats, in their order. */
enum pvballoon_stat {
	PVB_INFLATED_PAGES,
	PVB_DEFLATED_PAGES,
	PVB_INFLATE_REQUESTS,
	PVB_DEFLATE_REQUESTS,
	PVB_HUGE_CHUNKS,
	PVB_SMALL_PAGES,
	PVB_HUGE_FALLBACKS,
	PVB_ALLOC_FAILURES,
	PVB_OOM_CALLS,
	PVB_OOM_DEFLATED_PAGES,
	PVB_SHRINKER_DEFLATED_PAGES,
	PVB_MIGRATED_PAGES,
	PVB_REPORTED_PAGES,
	PVB_REPORT_REQUESTS,
	PVB_REPORT_ERRORS,
	PVB_STATS_REQUESTS,
	PVB_STATS_UNEXPECTED,
	PVB_TARGET_CHANGES,
	PVB_TARGET_CLAMPED,
	PVB_ACK_TIMEOUTS,
	PVB_ACKS,
	PVB_ACK_NS_TOTAL,
	PVB_ACK_NS_MAX,
	PVB_LAST_INFLATE_PAGES,
	PVB_LAST_INFLATE_NS,
	PVB_LAST_DEFLATE_PAGES,
	PVB_LAST_DEFLATE_NS,
	PVB_KICKS_WITHHELD,
	PVB_STAT_NR
};

static const char * const pvballoon_stat_names[PVB_STAT_NR] = {
	[PVB_INFLATED_PAGES]		= "inflated_pages",
	[PVB_DEFLATED_PAGES]		= "deflated_pages",
	[PVB_INFLATE_REQUESTS]		= "inflate_requests",
	[PVB_DEFLATE_REQUESTS]		= "deflate_requests",
	[PVB_HUGE_CHUNKS]		= "huge_chunks",
	[PVB_SMALL_PAGES]		= "small_pages",
	[PVB_HUGE_FALLBACKS]		= "huge_fallbacks",
	[PVB_ALLOC_FAILURES]		= "alloc_failures",
	[PVB_OOM_CALLS]			= "oom_calls",
	[PVB_OOM_DEFLATED_PAGES]	= "oom_deflated_pages",
	[PVB_SHRINKER_DEFLATED_PAGES]	= "shrinker_deflated_pages",
	[PVB_MIGRATED_PAGES]		= "migrated_pages",
	[PVB_REPORTED_PAGES]		= "reported_pages",
	[PVB_REPORT_REQUESTS]		= "report_requests",
	[PVB_REPORT_ERRORS]		= "report_errors",
	[PVB_STATS_REQUESTS]		= "stats_requests",
	[PVB_STATS_UNEXPECTED]		= "stats_unexpected",
	[PVB_TARGET_CHANGES]		= "target_changes",
	[PVB_TARGET_CLAMPED]		= "target_clamped",
	[PVB_ACK_TIMEOUTS]		= "ack_timeouts",
	[PVB_ACKS]			= "acks",
	[PVB_ACK_NS_TOTAL]		= "ack_ns_total",
	[PVB_ACK_NS_MAX]		= "ack_ns_max",
	[PVB_LAST_INFLATE_PAGES]	= "last_inflate_pages",
	[PVB_LAST_INFLATE_NS]		= "last_inflate_ns",
	[PVB_LAST_DEFLATE_PAGES]	= "last_deflate_pages",
	[PVB_LAST_DEFLATE_NS]		= "last_deflate_ns",
	[PVB_KICKS_WITHHELD]		= "kicks_withheld",
};

/**
 * struct pvballoon_req - one request buffer of page numbers
 * @pfns: the device page numbers, PVBALLOON_REQ_PFNS of them
 * @n: entries of @pfns in use
 * @pages: the pages the request covers, linked through page->lru; huge
 *	chunks by their first page
 * @huge: chunks on @pages that are 2 MiB chunks
 * @small: pages on @pages that are single pages
 * @busy: the host has the request and has not acknowledged it
 * @sent: when the request was given to the host
 *
 * Protected by the balloon's @lock.
 */
struct pvballoon_req {
	__virtio32 *pfns;
	unsigned int n;
	struct list_head pages;
	unsigned long huge;
	unsigned long small;
	bool busy;
	ktime_t sent;
};

/**
 * struct pvballoon - the state of one balloon device
 * @vdev: the virtio device
 * @vqs: its virtqueues, NULL where the device has none
 * @le: the device is little endian
 * @lock: serializes resizing, pressure deflation and migration; protects
 *	everything below that names no other lock
 * @inflate: inflate request buffers
 * @deflate: deflate request buffers
 * @acked: woken when the host acknowledges any request
 * @huge_list: 2 MiB chunks in the balloon, linked by their first page
 * @huge_held: number of chunks on @huge_list
 * @bdev: 4 KiB pages in the balloon, which compaction may migrate; its
 *	page count is @small_held, kept under @lock as well
 * @small_held: pages held through @bdev
 * @target: the host's last target, in device pages
 * @holdoff_until: jiffies before which the balloon does not grow, set after
 *	a pressure deflation; 0 when no hold-off is running
 * @huge_failed: a 2 MiB allocation failed during the current resize
 * @pressure: the OOM notifier waits for @lock: stop growing now
 * @warned: which one-time warnings were printed (bit per warning)
 * @resize_work: moves the balloon toward the target
 * @stats_work: refills the statistics buffer
 * @stop: the device is going away: no more work may be queued
 * @stop_lock: protects @stop against the interrupt-time queueing
 * @stats_buf: the statistics sent to the host
 * @stats_lock: serializes @stats_buf and the statistics virtqueue
 * @report_lock: serializes free page reports
 * @report_done: woken when the host acknowledges a report
 * @pr: free page reporting registration
 * @oom_nb: OOM notifier
 * @shrink: shrinker
 * @dir: debugfs directory
 * @inject_nokick: fault injection, requests left in the ring without
 *	telling the host (a host that never acknowledges)
 * @st: statistics, updated under @lock except where noted at their use
 */
struct pvballoon {
	struct virtio_device *vdev;
	struct virtqueue *vqs[PVBALLOON_VQ_NR];
	bool le;

	struct mutex lock;		/* see above */
	struct pvballoon_req inflate[PVBALLOON_REQS];
	struct pvballoon_req deflate[PVBALLOON_REQS];
	wait_queue_head_t acked;
	struct list_head huge_list;
	unsigned long huge_held;
	struct balloon_dev_info bdev;
	unsigned long small_held;
	u32 target;
	unsigned long holdoff_until;
	bool huge_failed;
	bool pressure;
	unsigned long warned;

	struct delayed_work resize_work;
	struct work_struct stats_work;
	bool stop;
	spinlock_t stop_lock;		/* guards @stop */

	struct virtio_balloon_stat stats_buf[VIRTIO_BALLOON_S_NR];
	struct mutex stats_lock;	/* guards @stats_buf */

	struct mutex report_lock;	/* one report at a time */
	wait_queue_head_t report_done;
	struct page_reporting_dev_info pr;

	struct notifier_block oom_nb;
	struct pvballoon_shrink shrink;

	struct dentry *dir;
	u32 inject_nokick;
	unsigned long st[PVB_STAT_NR];
};

enum pvballoon_warning {
	PVB_WARN_CLAMP,
	PVB_WARN_ACK,
	PVB_WARN_STATS,
	PVB_WARN_REPORT,
	PVB_WARN_BAD_ACK,
	PVB_WARN_PFN,
};

static struct dentry *pvballoon_debugfs_root;

/* ------------------------------------------------------------------ helpers */

static bool pvballoon_has(struct pvballoon *b, unsigned int feature)
{
	return virtio_has_feature(b->vdev, feature);
}

static void pvballoon_add_stat(struct pvballoon *b, enum pvballoon_stat s,
			       unsigned long v)
{
	WRITE_ONCE(b->st[s], b->st[s] + v);
}

/* Pages in the balloon; also read without @lock, by sysfs and debugfs. */
static unsigned long pvballoon_held(struct pvballoon *b)
{
	return READ_ONCE(b->huge_held) * PVBALLOON_HUGE_PAGES +
	       READ_ONCE(b->small_held);
}

/* Memory the balloon leaves the guest, in pages: the parameter or 1/32. */
static unsigned long pvballoon_reserve(void)
{
	unsigned long mb = (unsigned long)READ_ONCE(reserve_mb) << (20 - PAGE_SHIFT);

	return max(mb, totalram_pages() / 32);
}

/* Queue a resize after @delay jiffies, or now when @delay is 0. */
static void pvballoon_queue(struct pvballoon *b, unsigned long delay)
{
	unsigned long flags;

	spin_lock_irqsave(&b->stop_lock, flags);
	if (!b->stop) {
		if (delay)
			queue_delayed_work(system_freezable_wq,
					   &b->resize_work, delay);
		else
			mod_delayed_work(system_freezable_wq,
					 &b->resize_work, 0);
	}
	spin_unlock_irqrestore(&b->stop_lock, flags);
}

static void pvballoon_read_target(struct pvballoon *b)
{
	u32 num_pages;

	virtio_cread_le(b->vdev, struct virtio_balloon_config, num_pages,
			&num_pages);
	if (num_pages != b->target) {
		pvballoon_add_stat(b, PVB_TARGET_CHANGES, 1);
		b->target = num_pages;
		b->holdoff_until = 0;
	}
}

static void pvballoon_write_actual(struct pvballoon *b)
{
	u32 actual = min_t(unsigned long, U32_MAX,
			   pvballoon_held(b) * PVBALLOON_PAGES_PER_PAGE);

	virtio_cwrite_le(b->vdev, struct virtio_balloon_config, actual, &actual);
}

/* The balloon takes memory from the guest's total unless the host may
 * take it back under pressure (DEFLATE_ON_OOM), as the stock driver does.
 */
static void pvballoon_account(struct pvballoon *b, struct page *page, long n)
{
	if (!pvballoon_has(b, VIRTIO_BALLOON_F_DEFLATE_ON_OOM))
		adjust_managed_page_count(page, n);
}

/* ------------------------------------------------------------ the requests */

static struct pvballoon_req *pvballoon_reqs(struct pvballoon *b,
					    enum pvballoon_vq which)
{
	return which == PVBALLOON_VQ_INFLATE ? b->inflate : b->deflate;
}

static void pvballoon_req_reset(struct pvballoon_req *req)
{
	req->n = 0;
	req->huge = 0;
	req->small = 0;
	INIT_LIST_HEAD(&req->pages);
}

static void pvballoon_kick(struct pvballoon *b, struct virtqueue *vq)
{
	if (READ_ONCE(b->inject_nokick)) {
		WRITE_ONCE(b->inject_nokick, b->inject_nokick - 1);
		pvballoon_add_stat(b, PVB_KICKS_WITHHELD, 1);
		return;
	}
	virtqueue_kick(vq);
}

/* Give a filled request to the host; false when the queue refused it. */
static bool pvballoon_send(struct pvballoon *b, enum pvballoon_vq which,
			   struct pvballoon_req *req)
{
	struct virtqueue *vq = b->vqs[which];
	struct scatterlist sg;

	sg_init_one(&sg, req->pfns, req->n * sizeof(req->pfns[0]));
	if (virtqueue_add_outbuf(vq, &sg, 1, req, GFP_KERNEL))
		return false;
	req->busy = true;
	req->sent = ktime_get();
	pvballoon_kick(b, vq);
	pvballoon_add_stat(b, which == PVBALLOON_VQ_INFLATE ?
			   PVB_INFLATE_REQUESTS : PVB_DEFLATE_REQUESTS, 1);
	return true;
}

/* Free a 2 MiB chunk back to the guest. */
static void pvballoon_free_huge(struct page *page)
{
	unsigned long i;

	for (i = 0; i < PVBALLOON_HUGE_PAGES; i++)
		__ClearPageOffline(page + i);
	__free_pages(page, PVBALLOON_HUGE_ORDER);
}

/*
 * Free the pages of a request list.  @held: they were in the balloon (and
 * taken out of the guest's total); otherwise they were only allocated.
 * Chunks are told from single pages by PageOffline: a chunk is marked from
 * allocation on, a single page only while it is on the balloon's list.
 */
static void pvballoon_release(struct pvballoon *b, struct list_head *pages,
			      bool held)
{
	struct page *page, *next;

	list_for_each_entry_safe(page, next, pages, lru) {
		list_del(&page->lru);
		if (PageOffline(page)) {
			if (held)
				pvballoon_account(b, page, PVBALLOON_HUGE_PAGES);
			pvballoon_free_huge(page);
		} else {
			if (held)
				pvballoon_account(b, page, 1);
			put_page(page);
		}
	}
}

/* The host has the page numbers of an inflate request: the pages are the
 * balloon's now.
 */
static void pvballoon_inflate_done(struct pvballoon *b,
				   struct pvballoon_req *req)
{
	struct page *page, *next;
	LIST_HEAD(small);

	list_for_each_entry_safe(page, next, &req->pages, lru) {
		if (PageOffline(page)) {
			list_move(&page->lru, &b->huge_list);
			pvballoon_account(b, page, -(long)PVBALLOON_HUGE_PAGES);
		} else {
			list_move(&page->lru, &small);
			pvballoon_account(b, page, -1);
		}
	}
	balloon_page_list_enqueue(&b->bdev, &small);
	count_vm_events(BALLOON_INFLATE, req->huge * PVBALLOON_HUGE_PAGES);
	b->huge_held += req->huge;
	b->small_held += req->small;
	pvballoon_add_stat(b, PVB_INFLATED_PAGES,
			   req->huge * PVBALLOON_HUGE_PAGES + req->small);
}

/* Collect the host's acknowledgments on one queue. */
static void pvballoon_reap(struct pvballoon *b, enum pvballoon_vq which)
{
	struct virtqueue *vq = b->vqs[which];
	struct pvballoon_req *reqs = pvballoon_reqs(b, which);
	struct pvballoon_req *req;
	unsigned int len;
	u64 ns;

	while ((req = virtqueue_get_buf(vq, &len))) {
		if (req < reqs || req >= reqs + PVBALLOON_REQS || !req->busy) {
			if (!test_and_set_bit(PVB_WARN_BAD_ACK, &b->warned))
				dev_warn(&b->vdev->dev,
					 "host acknowledged a request it was not given\n");
			continue;
		}
		ns = ktime_to_ns(ktime_sub(ktime_get(), req->sent));
		pvballoon_add_stat(b, PVB_ACKS, 1);
		pvballoon_add_stat(b, PVB_ACK_NS_TOTAL, ns);
		if (ns > b->st[PVB_ACK_NS_MAX])
			WRITE_ONCE(b->st[PVB_ACK_NS_MAX], ns);
		if (which == PVBALLOON_VQ_INFLATE)
			pvballoon_inflate_done(b, req);
		else
			pvballoon_release(b, &req->pages, true);
		req->busy = false;
		pvballoon_req_reset(req);
	}
}

static struct pvballoon_req *pvballoon_idle_req(struct pvballoon_req *reqs)
{
	unsigned int i;

	for (i = 0; i < PVBALLOON_REQS; i++)
		if (!reqs[i].busy)
			return &reqs[i];
	return NULL;
}

/* Pages in inflate requests the host has not acknowledged yet. */
static unsigned long pvballoon_inflight(struct pvballoon *b)
{
	unsigned long pages = 0;
	unsigned int i;

	for (i = 0; i < PVBALLOON_REQS; i++)
		if (b->inflate[i].busy)
			pages += b->inflate[i].huge * PVBALLOON_HUGE_PAGES +
				 b->inflate[i].small;
	return pages;
}

static bool pvballoon_all_idle(struct pvballoon_req *reqs)
{
	unsigned int i;

	for (i = 0; i < PVBALLOON_REQS; i++)
		if (reqs[i].busy)
			return false;
	return true;
}

/*
 * Wait for the host's acknowledgments on one queue until @done says
 * enough came back, at most @timeout_ms.  Returns whether @done holds.
 */
static bool pvballoon_wait(struct pvballoon *b, enum pvballoon_vq which,
			   bool (*done)(struct pvballoon_req *reqs),
			   unsigned int timeout_ms)
{
	struct pvballoon_req *reqs = pvballoon_reqs(b, which);
	struct virtqueue *vq = b->vqs[which];
	unsigned long end = jiffies + msecs_to_jiffies(timeout_ms);

	for (;;) {
		pvballoon_reap(b, which);
		if (done(reqs))
			return true;
		if (time_after(jiffies, end))
			return false;
		/* Requests held back by fault injection go once it is off. */
		if (!READ_ONCE(b->inject_nokick))
			virtqueue_kick(vq);
		/* Re-enabling callbacks reports buffers that raced with it. */
		wait_event_timeout(b->acked, !virtqueue_enable_cb(vq),
				   max_t(long, end - jiffies, 1));
	}
}

static bool pvballoon_any_idle(struct pvballoon_req *reqs)
{
	return pvballoon_idle_req(reqs);
}

/*
 * A free request buffer on one queue, waiting for the host when all are
 * out.  NULL when the host did not answer in time: counted and logged
 * once; the caller ends the resize and the requests stay with the host.
 */
static struct pvballoon_req *pvballoon_get_req(struct pvballoon *b,
					       enum pvballoon_vq which)
{
	struct pvballoon_req *reqs = pvballoon_reqs(b, which);
	unsigned int timeout = READ_ONCE(ack_timeout_ms);

	if (pvballoon_wait(b, which, pvballoon_any_idle, timeout))
		return pvballoon_idle_req(reqs);
	pvballoon_add_stat(b, PVB_ACK_TIMEOUTS, 1);
	if (!test_and_set_bit(PVB_WARN_ACK, &b->warned))
		dev_warn(&b->vdev->dev,
			 "host has not acknowledged the %s queue in %u ms; resizing paused\n",
			 which == PVBALLOON_VQ_INFLATE ? "inflate" : "deflate",
			 timeout);
	return NULL;
}

/* Wait until the host has acknowledged every request of one queue. */
static bool pvballoon_drain(struct pvballoon *b, enum pvballoon_vq which)
{
	return pvballoon_wait(b, which, pvballoon_all_idle,
			      READ_ONCE(ack_timeout_ms));
}

static void pvballoon_ack(struct virtqueue *vq)
{
	struct pvballoon *b = vq->vdev->priv;

	wake_up(&b->acked);
}

/* ----------------------------------------------------------------- inflate */

static struct page *pvballoon_alloc_huge(struct pvballoon *b)
{
	/* Only what is free right now: no reclaim, no compaction for it. */
	gfp_t gfp = (GFP_HIGHUSER | __GFP_NOWARN | __GFP_NOMEMALLOC |
		     __GFP_NORETRY) & ~__GFP_DIRECT_RECLAIM;
	struct page *page;
	unsigned long i;

	page = alloc_pages(gfp, PVBALLOON_HUGE_ORDER);
	if (!page) {
		b->huge_failed = true;
		pvballoon_add_stat(b, PVB_HUGE_FALLBACKS, 1);
		return NULL;
	}
	for (i = 0; i < PVBALLOON_HUGE_PAGES; i++)
		__SetPageOffline(page + i);
	return page;
}

/* Whether the guest can still spare memory: above the reserve, no OOM. */
static bool pvballoon_can_take(struct pvballoon *b)
{
	return !READ_ONCE(b->pressure) &&
	       si_mem_available() > (long)pvballoon_reserve();
}

/*
 * Grow the balloon by up to @want pages: 2 MiB chunks while the guest has
 * them free, then 4 KiB pages.  Full requests go to the host at once, up to
 * PVBALLOON_REQS of them outstanding.  Returns the pages handed to the
 * host; fewer than asked when the guest or the host ran out.
 */
static unsigned long pvballoon_inflate(struct pvballoon *b, unsigned long want)
{
	const unsigned int huge_pfns = PVBALLOON_HUGE_PAGES *
				       PVBALLOON_PAGES_PER_PAGE;
	struct pvballoon_req *req = NULL;
	unsigned long done = 0;
	struct page *page;
	unsigned int n;
	bool huge;

	b->huge_failed = !READ_ONCE(use_huge);
	while (done < want) {
		if (!req) {
			req = pvballoon_get_req(b, PVBALLOON_VQ_INFLATE);
			if (!req)
				break;
		}
		huge = !b->huge_failed && want - done >= PVBALLOON_HUGE_PAGES;
		if (huge && PVBALLOON_REQ_PFNS - req->n < huge_pfns) {
			if (!pvballoon_send(b, PVBALLOON_VQ_INFLATE, req))
				break;
			req = NULL;
			continue;
		}
		if (done % PVBALLOON_HUGE_PAGES == 0 && !pvballoon_can_take(b))
			break;
		page = huge ? pvballoon_alloc_huge(b) : NULL;
		if (!page) {
			huge = false;
			page = balloon_page_alloc();
			if (!page) {
				pvballoon_add_stat(b, PVB_ALLOC_FAILURES, 1);
				break;
			}
		}
		list_add_tail(&page->lru, &req->pages);
		n = pvballoon_put_pfns(req->pfns, req->n, PVBALLOON_REQ_PFNS,
				       page_to_pfn(page),
				       huge ? PVBALLOON_HUGE_PAGES : 1, b->le);
		if (n == req->n) {
			/* Beyond the device's 32-bit page numbers: keep it. */
			list_del(&page->lru);
			if (huge)
				pvballoon_free_huge(page);
			else
				put_page(page);
			pvballoon_add_stat(b, PVB_ALLOC_FAILURES, 1);
			if (!test_and_set_bit(PVB_WARN_PFN, &b->warned))
				dev_warn(&b->vdev->dev,
					 "guest memory above 16 TiB cannot be ballooned\n");
			break;
		}
		req->n = n;
		if (huge)
			req->huge++;
		else
			req->small++;
		pvballoon_add_stat(b, huge ? PVB_HUGE_CHUNKS : PVB_SMALL_PAGES, 1);
		done += huge ? PVBALLOON_HUGE_PAGES : 1;
		if (req->n + PVBALLOON_PAGES_PER_PAGE > PVBALLOON_REQ_PFNS) {
			if (!pvballoon_send(b, PVBALLOON_VQ_INFLATE, req))
				break;
			req = NULL;
		}
	}
	if (req && req->n && !pvballoon_send(b, PVBALLOON_VQ_INFLATE, req)) {
		/* The host cannot be told: the pages stay the guest's. */
		done -= req->huge * PVBALLOON_HUGE_PAGES + req->small;
		pvballoon_release(b, &req->pages, false);
		pvballoon_req_reset(req);
	}
	return done;
}

/* ----------------------------------------------------------------- deflate */

/* Turn one held 2 MiB chunk into 4 KiB balloon pages. */
static void pvballoon_split_chunk(struct pvballoon *b)
{
	struct page *page = list_first_entry(&b->huge_list, struct page, lru);
	unsigned long i;
	LIST_HEAD(pages);

	list_del(&page->lru);
	b->huge_held--;
	split_page(page, PVBALLOON_HUGE_ORDER);
	for (i = 0; i < PVBALLOON_HUGE_PAGES; i++) {
		__ClearPageOffline(page + i);
		list_add_tail(&page[i].lru, &pages);
	}
	/* Already counted as inflated: keep the vmstat counter honest. */
	count_vm_events(BALLOON_DEFLATE, PVBALLOON_HUGE_PAGES);
	balloon_page_list_enqueue(&b->bdev, &pages);
	b->small_held += PVBALLOON_HUGE_PAGES;
}

/*
 * Move up to @want held pages into @req: whole chunks while @want allows,
 * else 4 KiB pages (splitting a chunk when only chunks are left).  Returns
 * the pages moved.
 */
static unsigned long pvballoon_fill_deflate(struct pvballoon *b,
					    struct pvballoon_req *req,
					    unsigned long want)
{
	const unsigned int huge_pfns = PVBALLOON_HUGE_PAGES *
				       PVBALLOON_PAGES_PER_PAGE;
	unsigned long moved = 0, room, got;
	struct page *page;
	LIST_HEAD(small);

	while (moved < want && b->huge_held &&
	       want - moved >= PVBALLOON_HUGE_PAGES &&
	       PVBALLOON_REQ_PFNS - req->n >= huge_pfns) {
		page = list_first_entry(&b->huge_list, struct page, lru);
		req->n = pvballoon_put_pfns(req->pfns, req->n,
					    PVBALLOON_REQ_PFNS,
					    page_to_pfn(page),
					    PVBALLOON_HUGE_PAGES, b->le);
		list_move_tail(&page->lru, &req->pages);
		b->huge_held--;
		count_vm_events(BALLOON_DEFLATE, PVBALLOON_HUGE_PAGES);
		moved += PVBALLOON_HUGE_PAGES;
	}
	if (moved < want && !b->small_held && b->huge_held)
		pvballoon_split_chunk(b);
	room = (PVBALLOON_REQ_PFNS - req->n) / PVBALLOON_PAGES_PER_PAGE;
	if (moved >= want || !b->small_held || !room)
		return moved;
	got = balloon_page_list_dequeue(&b->bdev, &small,
					min(room, want - moved));
	b->small_held -= got;
	moved += got;
	list_for_each_entry(page, &small, lru)
		req->n = pvballoon_put_pfns(req->pfns, req->n,
					    PVBALLOON_REQ_PFNS,
					    page_to_pfn(page), 1, b->le);
	list_splice_tail(&small, &req->pages);
	return moved;
}

/*
 * Shrink the balloon by up to @want pages.  Without MUST_TELL_HOST the
 * pages go back to the guest at once and the host is told after; with it,
 * they wait for the host's acknowledgment.  Returns the pages taken out.
 */
static unsigned long pvballoon_deflate(struct pvballoon *b, unsigned long want)
{
	bool tell_first = pvballoon_has(b, VIRTIO_BALLOON_F_MUST_TELL_HOST);
	struct pvballoon_req *req;
	unsigned long done = 0, moved;

	while (done < want && pvballoon_held(b)) {
		req = pvballoon_get_req(b, PVBALLOON_VQ_DEFLATE);
		if (!req)
			break;
		moved = pvballoon_fill_deflate(b, req, want - done);
		if (!moved)
			break;
		done += moved;
		if (!tell_first)
			pvballoon_release(b, &req->pages, true);
		if (!pvballoon_send(b, PVBALLOON_VQ_DEFLATE, req)) {
			/* The pages are the guest's; only the hint is lost. */
			pvballoon_release(b, &req->pages, true);
			pvballoon_req_reset(req);
		}
	}
	pvballoon_add_stat(b, PVB_DEFLATED_PAGES, done);
	return done;
}

/* ------------------------------------------------------------------ resize */

static void pvballoon_resize(struct pvballoon *b)
{
	unsigned long have, goal, moved, retry = 0;
	bool clamped;
	ktime_t start;

	pvballoon_read_target(b);
	pvballoon_reap(b, PVBALLOON_VQ_INFLATE);
	/* What the host has not acknowledged yet is on its way in. */
	have = pvballoon_held(b) + pvballoon_inflight(b);
	goal = pvballoon_goal(b->target, have, si_mem_available(),
			      pvballoon_reserve(), &clamped);
	if (clamped) {
		pvballoon_add_stat(b, PVB_TARGET_CLAMPED, 1);
		if (!test_and_set_bit(PVB_WARN_CLAMP, &b->warned))
			dev_warn(&b->vdev->dev,
				 "host asks for %llu MiB, more than the guest can spare; leaving %lu MiB available\n",
				 ((u64)b->target << VIRTIO_BALLOON_PFN_SHIFT) >> 20,
				 pvballoon_reserve() >> (20 - PAGE_SHIFT));
	}
	if (goal > have && b->holdoff_until &&
	    time_before(jiffies, b->holdoff_until)) {
		retry = b->holdoff_until - jiffies;
		goto out;
	}
	b->holdoff_until = 0;

	start = ktime_get();
	if (goal > have) {
		moved = pvballoon_inflate(b, goal - have);
		pvballoon_drain(b, PVBALLOON_VQ_INFLATE);
		WRITE_ONCE(b->st[PVB_LAST_INFLATE_PAGES], moved);
		WRITE_ONCE(b->st[PVB_LAST_INFLATE_NS],
			   ktime_to_ns(ktime_sub(ktime_get(), start)));
	} else if (goal < have) {
		moved = pvballoon_deflate(b, have - goal);
		pvballoon_drain(b, PVBALLOON_VQ_DEFLATE);
		WRITE_ONCE(b->st[PVB_LAST_DEFLATE_PAGES], moved);
		WRITE_ONCE(b->st[PVB_LAST_DEFLATE_NS],
			   ktime_to_ns(ktime_sub(ktime_get(), start)));
	}
	pvballoon_write_actual(b);
	/* Short of memory, or of the host's answers: look again later. */
	if (pvballoon_held(b) != goal)
		retry = HZ;
out:
	if (retry)
		pvballoon_queue(b, retry);
}

static void pvballoon_resize_work(struct work_struct *work)
{
	struct pvballoon *b = container_of(to_delayed_work(work),
					   struct pvballoon, resize_work);

	mutex_lock(&b->lock);
	pvballoon_resize(b);
	mutex_unlock(&b->lock);
}

static void pvballoon_config_changed(struct virtio_device *vdev)
{
	struct pvballoon *b = vdev->priv;

	pvballoon_queue(b, 0);
}

/* ---------------------------------------------------------------- pressure */

/* Give back up to @pages under memory pressure and hold off re-growing. */
static unsigned long pvballoon_relieve(struct pvballoon *b, unsigned long pages,
				       enum pvballoon_stat counter)
{
	unsigned long done;

	done = pvballoon_deflate(b, min(pages, pvballoon_held(b)));
	if (done) {
		pvballoon_add_stat(b, counter, done);
		b->holdoff_until = (jiffies + msecs_to_jiffies(holdoff_ms)) ?: 1;
		pvballoon_write_actual(b);
	}
	return done;
}

static unsigned long pvballoon_step_pages(void)
{
	return max(1UL, (unsigned long)READ_ONCE(pressure_step_mb) <<
			(20 - PAGE_SHIFT));
}

static int pvballoon_oom_notify(struct notifier_block *nb, unsigned long dummy,
				void *parm)
{
	struct pvballoon *b = container_of(nb, struct pvballoon, oom_nb);
	unsigned long *freed = parm;
	int tries;

	pvballoon_add_stat(b, PVB_OOM_CALLS, 1);
	/* A resize may hold the lock: make it stop growing, then take over. */
	WRITE_ONCE(b->pressure, true);
	for (tries = 0; tries < 200; tries++) {
		if (mutex_trylock(&b->lock)) {
			*freed += pvballoon_relieve(b, pvballoon_step_pages(),
						    PVB_OOM_DEFLATED_PAGES);
			mutex_unlock(&b->lock);
			break;
		}
		usleep_range(1000, 2000);
	}
	WRITE_ONCE(b->pressure, false);
	return NOTIFY_OK;
}

static unsigned long pvballoon_shrink_count(struct shrinker *shrinker,
					    struct shrink_control *sc)
{
	struct pvballoon *b = pvballoon_shrink_owner(shrinker);

	/* Only a real shortage, not page cache turnover, shrinks the balloon. */
	if (si_mem_available() > (long)pvballoon_reserve())
		return 0;
	return pvballoon_held(b);
}

static unsigned long pvballoon_shrink_scan(struct shrinker *shrinker,
					   struct shrink_control *sc)
{
	struct pvballoon *b = pvballoon_shrink_owner(shrinker);
	unsigned long done;

	if (!mutex_trylock(&b->lock))
		return SHRINK_STOP;
	done = pvballoon_relieve(b, min(sc->nr_to_scan, pvballoon_step_pages()),
				 PVB_SHRINKER_DEFLATED_PAGES);
	mutex_unlock(&b->lock);
	return done ?: SHRINK_STOP;
}

/* --------------------------------------------------------------- migration */

#ifdef CONFIG_BALLOON_COMPACTION
/* Tell the host about one page and wait for its answer. */
static bool pvballoon_tell_one(struct pvballoon *b, enum pvballoon_vq which,
			       struct page *page)
{
	struct pvballoon_req *req = pvballoon_get_req(b, which);

	if (!req)
		return false;
	req->n = pvballoon_put_pfns(req->pfns, 0, PVBALLOON_REQ_PFNS,
				    page_to_pfn(page), 1, b->le);
	/* A page the device cannot name is not migrated into the balloon. */
	return req->n && pvballoon_send(b, which, req) &&
	       pvballoon_drain(b, which);
}

static int pvballoon_migrate(struct balloon_dev_info *bdev,
			     struct page *newpage, struct page *page,
			     enum migrate_mode mode)
{
	struct pvballoon *b = container_of(bdev, struct pvballoon, bdev);
	unsigned long flags;

	if (!mutex_trylock(&b->lock))
		return -EAGAIN;
	/* The host learns of the new page before it gets the old one back. */
	if (!pvballoon_tell_one(b, PVBALLOON_VQ_INFLATE, newpage)) {
		mutex_unlock(&b->lock);
		return -EAGAIN;
	}
	get_page(newpage);
	if (page_zone(page) != page_zone(newpage)) {
		pvballoon_account(b, page, 1);
		pvballoon_account(b, newpage, -1);
	}
	spin_lock_irqsave(&bdev->pages_lock, flags);
	balloon_page_insert(bdev, newpage);
	bdev->isolated_pages--;
	spin_unlock_irqrestore(&bdev->pages_lock, flags);
	pvballoon_tell_one(b, PVBALLOON_VQ_DEFLATE, page);
	pvballoon_add_stat(b, PVB_MIGRATED_PAGES, 1);
	mutex_unlock(&b->lock);

	balloon_page_finalize(page);
	put_page(page);
	return MIGRATEPAGE_SUCCESS;
}
#endif

/* ------------------------------------------------------------- statistics */

static unsigned int pvballoon_fill_stats(struct pvballoon *b)
{
	struct virtio_balloon_stat *st = b->stats_buf;
	unsigned long ev[NR_VM_EVENT_ITEMS] = {};
	struct sysinfo si;
	unsigned int idx = 0;
	bool le = b->le;

#ifdef CONFIG_VM_EVENT_COUNTERS
	all_vm_events(ev);
#endif
	si_meminfo(&si);

	idx = pvballoon_put_stat(st, idx, VIRTIO_BALLOON_S_SWAP_IN,
				 pvballoon_pages_to_bytes(ev[PSWPIN]), le);
	idx = pvballoon_put_stat(st, idx, VIRTIO_BALLOON_S_SWAP_OUT,
				 pvballoon_pages_to_bytes(ev[PSWPOUT]), le);
	idx = pvballoon_put_stat(st, idx, VIRTIO_BALLOON_S_MAJFLT,
				 ev[PGMAJFAULT], le);
	idx = pvballoon_put_stat(st, idx, VIRTIO_BALLOON_S_MINFLT,
				 ev[PGFAULT], le);
	idx = pvballoon_put_stat(st, idx, VIRTIO_BALLOON_S_MEMFREE,
				 pvballoon_pages_to_bytes(si.freeram), le);
	idx = pvballoon_put_stat(st, idx, VIRTIO_BALLOON_S_MEMTOT,
				 pvballoon_pages_to_bytes(si.totalram), le);
	idx = pvballoon_put_stat(st, idx, VIRTIO_BALLOON_S_AVAIL,
				 pvballoon_pages_to_bytes(si_mem_available()),
				 le);
	idx = pvballoon_put_stat(st, idx, VIRTIO_BALLOON_S_CACHES,
				 pvballoon_pages_to_bytes(global_node_page_state(NR_FILE_PAGES)),
				 le);
#ifdef CONFIG_HUGETLB_PAGE
	idx = pvballoon_put_stat(st, idx, VIRTIO_BALLOON_S_HTLB_PGALLOC,
				 ev[HTLB_BUDDY_PGALLOC], le);
	idx = pvballoon_put_stat(st, idx, VIRTIO_BALLOON_S_HTLB_PGFAIL,
				 ev[HTLB_BUDDY_PGALLOC_FAIL], le);
#endif
	return pvballoon_stats_more(st, idx, ev, le);
}

static int pvballoon_send_stats(struct pvballoon *b)
{
	struct virtqueue *vq = b->vqs[PVBALLOON_VQ_STATS];
	struct scatterlist sg;
	unsigned int n;
	int err;

	n = pvballoon_fill_stats(b);
	sg_init_one(&sg, b->stats_buf, sizeof(b->stats_buf[0]) * n);
	err = virtqueue_add_outbuf(vq, &sg, 1, b, GFP_KERNEL);
	if (!err)
		virtqueue_kick(vq);
	return err;
}

static void pvballoon_stats_work(struct work_struct *work)
{
	struct pvballoon *b = container_of(work, struct pvballoon, stats_work);
	struct virtqueue *vq = b->vqs[PVBALLOON_VQ_STATS];
	unsigned int len;

	mutex_lock(&b->stats_lock);
	if (!virtqueue_get_buf(vq, &len)) {
		/* Woken with no buffer back: the host misused the queue. */
		pvballoon_add_stat(b, PVB_STATS_UNEXPECTED, 1);
		if (!test_and_set_bit(PVB_WARN_STATS, &b->warned))
			dev_warn(&b->vdev->dev,
				 "statistics queue signalled without returning the buffer\n");
	} else {
		pvballoon_add_stat(b, PVB_STATS_REQUESTS, 1);
		pvballoon_send_stats(b);
	}
	mutex_unlock(&b->stats_lock);
}

static void pvballoon_stats_request(struct virtqueue *vq)
{
	struct pvballoon *b = vq->vdev->priv;
	unsigned long flags;

	spin_lock_irqsave(&b->stop_lock, flags);
	if (!b->stop)
		queue_work(system_freezable_wq, &b->stats_work);
	spin_unlock_irqrestore(&b->stop_lock, flags);
}

/* -------------------------------------------------------- page reporting */

static void pvballoon_report_ack(struct virtqueue *vq)
{
	struct pvballoon *b = vq->vdev->priv;

	wake_up(&b->report_done);
}

static int pvballoon_report(struct page_reporting_dev_info *pr,
			    struct scatterlist *sg, unsigned int nents)
{
	struct pvballoon *b = container_of(pr, struct pvballoon, pr);
	struct virtqueue *vq = b->vqs[PVBALLOON_VQ_REPORTING];
	unsigned long bytes = 0;
	struct scatterlist *s;
	unsigned int len, i;
	int err;

	for_each_sg(sg, s, nents, i)
		bytes += s->length;
	mutex_lock(&b->report_lock);
	/* The host writes nothing: the buffers are in buffers by convention. */
	err = virtqueue_add_inbuf(vq, sg, nents, b, GFP_NOWAIT | __GFP_NOWARN);
	if (!err) {
		virtqueue_kick(vq);
		if (!wait_event_timeout(b->report_done,
					virtqueue_get_buf(vq, &len),
					msecs_to_jiffies(ack_timeout_ms)))
			err = -ETIMEDOUT;
	}
	mutex_unlock(&b->report_lock);
	pvballoon_add_stat(b, PVB_REPORT_REQUESTS, 1);
	if (err) {
		pvballoon_add_stat(b, PVB_REPORT_ERRORS, 1);
		if (!test_and_set_bit(PVB_WARN_REPORT, &b->warned))
			dev_warn(&b->vdev->dev, "free page report failed: %d\n",
				 err);
		return err;
	}
	pvballoon_add_stat(b, PVB_REPORTED_PAGES, bytes >> PAGE_SHIFT);
	return 0;
}

/* ------------------------------------------------------------------- sysfs */

static ssize_t target_bytes_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	struct pvballoon *b = dev_to_virtio(dev)->priv;

	return sysfs_emit(buf, "%llu\n", (u64)READ_ONCE(b->target) <<
					 VIRTIO_BALLOON_PFN_SHIFT);
}
static DEVICE_ATTR_RO(target_bytes);

static ssize_t size_bytes_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct pvballoon *b = dev_to_virtio(dev)->priv;

	return sysfs_emit(buf, "%llu\n",
			  pvballoon_pages_to_bytes(pvballoon_held(b)));
}
static DEVICE_ATTR_RO(size_bytes);

static struct attribute *pvballoon_attrs[] = {
	&dev_attr_target_bytes.attr,
	&dev_attr_size_bytes.attr,
	NULL
};

static const struct attribute_group pvballoon_group = {
	.name = "pvballoon",
	.attrs = pvballoon_attrs,
};

static const struct attribute_group *pvballoon_groups[] = {
	&pvballoon_group,
	NULL
};

/* ----------------------------------------------------------------- debugfs */

static int pvballoon_stats_show(struct seq_file *m, void *unused)
{
	struct pvballoon *b = m->private;
	unsigned int i;

	for (i = 0; i < PVB_STAT_NR; i++)
		seq_printf(m, "%s %lu\n", pvballoon_stat_names[i],
			   READ_ONCE(b->st[i]));
	seq_printf(m, "huge_held %lu\n", READ_ONCE(b->huge_held));
	seq_printf(m, "small_held %lu\n", READ_ONCE(b->small_held));
	seq_printf(m, "size_pages %lu\n", pvballoon_held(b));
	seq_printf(m, "target_pages %lu\n",
		   (unsigned long)READ_ONCE(b->target) / PVBALLOON_PAGES_PER_PAGE);
	seq_printf(m, "holdoff_active %d\n", READ_ONCE(b->holdoff_until) &&
		   time_before(jiffies, READ_ONCE(b->holdoff_until)));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pvballoon_stats);

static void pvballoon_debugfs_init(struct pvballoon *b)
{
	b->dir = debugfs_create_dir(dev_name(&b->vdev->dev),
				    pvballoon_debugfs_root);
	debugfs_create_file("stats", 0444, b->dir, b, &pvballoon_stats_fops);
	debugfs_create_u32("inject_nokick", 0600, b->dir, &b->inject_nokick);
}

/* ------------------------------------------------------------ probe/remove */

static int pvballoon_init_vqs(struct pvballoon *b)
{
	vq_callback_t *cbs[PVBALLOON_VQ_NR] = {
		[PVBALLOON_VQ_INFLATE]	 = pvballoon_ack,
		[PVBALLOON_VQ_DEFLATE]	 = pvballoon_ack,
		[PVBALLOON_VQ_STATS]	 = pvballoon_stats_request,
		[PVBALLOON_VQ_REPORTING] = pvballoon_report_ack,
	};
	const char *names[PVBALLOON_VQ_NR] = {
		[PVBALLOON_VQ_INFLATE]	 = "inflate",
		[PVBALLOON_VQ_DEFLATE]	 = "deflate",
	};

	if (pvballoon_has(b, VIRTIO_BALLOON_F_STATS_VQ))
		names[PVBALLOON_VQ_STATS] = "stats";
	if (pvballoon_has(b, VIRTIO_BALLOON_F_REPORTING))
		names[PVBALLOON_VQ_REPORTING] = "reporting";
	return pvballoon_find_vqs(b->vdev, PVBALLOON_VQ_NR, b->vqs, cbs, names);
}

static int pvballoon_alloc_reqs(struct pvballoon *b)
{
	unsigned int i;

	for (i = 0; i < PVBALLOON_REQS; i++) {
		b->inflate[i].pfns = kcalloc(PVBALLOON_REQ_PFNS,
					     sizeof(__virtio32), GFP_KERNEL);
		b->deflate[i].pfns = kcalloc(PVBALLOON_REQ_PFNS,
					     sizeof(__virtio32), GFP_KERNEL);
		if (!b->inflate[i].pfns || !b->deflate[i].pfns)
			return -ENOMEM;
		pvballoon_req_reset(&b->inflate[i]);
		pvballoon_req_reset(&b->deflate[i]);
	}
	return 0;
}

static void pvballoon_free_reqs(struct pvballoon *b)
{
	unsigned int i;

	for (i = 0; i < PVBALLOON_REQS; i++) {
		kfree(b->inflate[i].pfns);
		kfree(b->deflate[i].pfns);
	}
}

static void pvballoon_log_features(struct pvballoon *b)
{
	dev_info(&b->vdev->dev,
		 "stats %s, deflate-on-oom %s, free page reporting %s, page poison %s, %s chunks, reserve %lu MiB\n",
		 b->vqs[PVBALLOON_VQ_STATS] ? "on" : "off (host does not offer it)",
		 pvballoon_has(b, VIRTIO_BALLOON_F_DEFLATE_ON_OOM) ?
		 "on" : "off (host does not allow it)",
		 b->vqs[PVBALLOON_VQ_REPORTING] ? "on" :
		 "off (host does not offer it, or the guest poisons pages)",
		 pvballoon_has(b, VIRTIO_BALLOON_F_PAGE_POISON) ? "on" : "off",
		 use_huge ? "2 MiB" : "4 KiB",
		 pvballoon_reserve() >> (20 - PAGE_SHIFT));
}

static int pvballoon_probe(struct virtio_device *vdev)
{
	struct pvballoon *b;
	int err;

	if (!vdev->config->get) {
		dev_err(&vdev->dev, "device has no config space\n");
		return -EINVAL;
	}
	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		return -ENOMEM;
	vdev->priv = b;
	b->vdev = vdev;
	b->le = virtio_is_little_endian(vdev);
	mutex_init(&b->lock);
	mutex_init(&b->stats_lock);
	mutex_init(&b->report_lock);
	spin_lock_init(&b->stop_lock);
	init_waitqueue_head(&b->acked);
	init_waitqueue_head(&b->report_done);
	INIT_LIST_HEAD(&b->huge_list);
	balloon_devinfo_init(&b->bdev);
#ifdef CONFIG_BALLOON_COMPACTION
	b->bdev.migratepage = pvballoon_migrate;
#endif
	INIT_DELAYED_WORK(&b->resize_work, pvballoon_resize_work);
	INIT_WORK(&b->stats_work, pvballoon_stats_work);

	err = pvballoon_alloc_reqs(b);
	if (err)
		goto out_free_reqs;
	err = pvballoon_init_vqs(b);
	if (err)
		goto out_free_reqs;

	if (pvballoon_has(b, VIRTIO_BALLOON_F_PAGE_POISON)) {
		u32 poison = want_init_on_free() ? 0 : PAGE_POISON;

		virtio_cwrite_le(vdev, struct virtio_balloon_config,
				 poison_val, &poison);
	}

	if (pvballoon_has(b, VIRTIO_BALLOON_F_DEFLATE_ON_OOM)) {
		b->oom_nb.notifier_call = pvballoon_oom_notify;
		b->oom_nb.priority = 0;
		err = register_oom_notifier(&b->oom_nb);
		if (err)
			goto out_del_vqs;
		b->shrink.owner = b;
		b->shrink.count = pvballoon_shrink_count;
		b->shrink.scan = pvballoon_shrink_scan;
		err = pvballoon_shrink_register(&b->shrink, "pvballoon");
		if (err)
			goto out_unregister_oom;
	}

	virtio_device_ready(vdev);

	if (b->vqs[PVBALLOON_VQ_REPORTING]) {
		b->pr.report = pvballoon_report;
		err = page_reporting_register(&b->pr);
		if (err)
			goto out_reset;
	}
	if (b->vqs[PVBALLOON_VQ_STATS]) {
		mutex_lock(&b->stats_lock);
		err = pvballoon_send_stats(b);
		mutex_unlock(&b->stats_lock);
		if (err)
			goto out_unregister_reporting;
	}

	pvballoon_debugfs_init(b);
	pvballoon_log_features(b);
	pvballoon_queue(b, 0);
	return 0;

out_unregister_reporting:
	if (b->vqs[PVBALLOON_VQ_REPORTING])
		page_reporting_unregister(&b->pr);
out_reset:
	virtio_reset_device(vdev);
	if (pvballoon_has(b, VIRTIO_BALLOON_F_DEFLATE_ON_OOM))
		pvballoon_shrink_unregister(&b->shrink);
out_unregister_oom:
	if (pvballoon_has(b, VIRTIO_BALLOON_F_DEFLATE_ON_OOM))
		unregister_oom_notifier(&b->oom_nb);
out_del_vqs:
	vdev->config->del_vqs(vdev);
out_free_reqs:
	pvballoon_free_reqs(b);
	kfree(b);
	return err;
}

/* Give every page back: told to the host while it answers, then freed. */
static void pvballoon_empty(struct pvballoon *b)
{
	unsigned int i;
	LIST_HEAD(left);

	mutex_lock(&b->lock);
	while (pvballoon_held(b) && pvballoon_deflate(b, pvballoon_held(b)))
		;
	pvballoon_drain(b, PVBALLOON_VQ_DEFLATE);
	pvballoon_drain(b, PVBALLOON_VQ_INFLATE);
	/* What the host sees as the balloon's size outlives the driver. */
	pvballoon_write_actual(b);
	mutex_unlock(&b->lock);

	/* Once the device is reset, requests it never answered are ours. */
	virtio_reset_device(b->vdev);
	mutex_lock(&b->lock);
	for (i = 0; i < PVBALLOON_REQS; i++) {
		pvballoon_release(b, &b->inflate[i].pages, false);
		pvballoon_release(b, &b->deflate[i].pages, true);
		b->inflate[i].busy = false;
		b->deflate[i].busy = false;
	}
	/* What the host did not take back: chunks, then 4 KiB pages. */
	count_vm_events(BALLOON_DEFLATE, b->huge_held * PVBALLOON_HUGE_PAGES);
	b->huge_held = 0;
	list_splice_init(&b->huge_list, &left);
	b->small_held -= balloon_page_list_dequeue(&b->bdev, &left,
						   b->small_held);
	pvballoon_release(b, &left, true);
	mutex_unlock(&b->lock);
}

static void pvballoon_remove(struct virtio_device *vdev)
{
	struct pvballoon *b = vdev->priv;

	spin_lock_irq(&b->stop_lock);
	b->stop = true;
	spin_unlock_irq(&b->stop_lock);
	cancel_delayed_work_sync(&b->resize_work);
	cancel_work_sync(&b->stats_work);
	WRITE_ONCE(b->inject_nokick, 0);

	if (b->vqs[PVBALLOON_VQ_REPORTING])
		page_reporting_unregister(&b->pr);
	if (pvballoon_has(b, VIRTIO_BALLOON_F_DEFLATE_ON_OOM)) {
		pvballoon_shrink_unregister(&b->shrink);
		unregister_oom_notifier(&b->oom_nb);
	}
	debugfs_remove_recursive(b->dir);

	pvballoon_empty(b);
	if (pvballoon_held(b))
		dev_err(&vdev->dev, "%lu pages could not be given back\n",
			pvballoon_held(b));
	vdev->config->del_vqs(vdev);
	pvballoon_free_reqs(b);
	kfree(b);
}

static int pvballoon_validate(struct virtio_device *vdev)
{
	/*
	 * Reported pages come back zeroed, not poisoned: report only when
	 * the guest does not poison freed pages, or zeroes them anyway.
	 */
	if (!want_init_on_free() && !page_poisoning_enabled_static())
		__virtio_clear_bit(vdev, VIRTIO_BALLOON_F_PAGE_POISON);
	else if (!want_init_on_free())
		__virtio_clear_bit(vdev, VIRTIO_BALLOON_F_REPORTING);
	__virtio_clear_bit(vdev, VIRTIO_F_ACCESS_PLATFORM);
	return 0;
}

static const struct virtio_device_id pvballoon_id_table[] = {
	{ VIRTIO_ID_BALLOON, VIRTIO_DEV_ANY_ID },
	{ 0 },
};
MODULE_DEVICE_TABLE(virtio, pvballoon_id_table);

static const unsigned int pvballoon_features[] = {
	VIRTIO_BALLOON_F_MUST_TELL_HOST,
	VIRTIO_BALLOON_F_STATS_VQ,
	VIRTIO_BALLOON_F_DEFLATE_ON_OOM,
	VIRTIO_BALLOON_F_PAGE_POISON,
	VIRTIO_BALLOON_F_REPORTING,
};

static struct virtio_driver pvballoon_driver = {
	.feature_table = pvballoon_features,
	.feature_table_size = ARRAY_SIZE(pvballoon_features),
	.driver.name = KBUILD_MODNAME,
	.driver.dev_groups = pvballoon_groups,
	.id_table = pvballoon_id_table,
	.validate = pvballoon_validate,
	.probe = pvballoon_probe,
	.remove = pvballoon_remove,
	.config_changed = pvballoon_config_changed,
};

static int __init pvballoon_init(void)
{
	int err;

	pvballoon_debugfs_root = debugfs_create_dir("pvballoon", NULL);
	err = register_virtio_driver(&pvballoon_driver);
	if (err)
		debugfs_remove_recursive(pvballoon_debugfs_root);
	return err;
}
module_init(pvballoon_init);

static void __exit pvballoon_exit(void)
{
	unregister_virtio_driver(&pvballoon_driver);
	debugfs_remove_recursive(pvballoon_debugfs_root);
}
module_exit(pvballoon_exit);

MODULE_DESCRIPTION("Memory balloon for virtio-balloon devices, in large chunks and bounded steps");
MODULE_LICENSE("GPL");
