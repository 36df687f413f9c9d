/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pvballoon: the kernel interfaces that changed between the bases we
 * support, in one place.  This is the version for the current kernel; an
 * older base replaces this file's body with a small compat patch.
 */
#ifndef _PVBALLOON_COMPAT_H
#define _PVBALLOON_COMPAT_H

#include <linux/shrinker.h>
#include <linux/vmstat.h>
#include <linux/virtio_config.h>

#include "pvballoon.h"

/**
 * pvballoon_find_vqs() - set up the device's virtqueues
 * @vdev: the device
 * @nvqs: number of virtqueues, including absent ones
 * @vqs: where the virtqueues are returned
 * @cbs: callback of each virtqueue
 * @names: name of each virtqueue, NULL for one the device does not have
 *
 * Return: 0 or a negative errno.
 */
static inline int pvballoon_find_vqs(struct virtio_device *vdev,
				     unsigned int nvqs, struct virtqueue **vqs,
				     vq_callback_t **cbs,
				     const char * const *names)
{
	struct virtqueue_info info[8] = {};
	unsigned int i;

	if (nvqs > ARRAY_SIZE(info))
		return -EINVAL;
	for (i = 0; i < nvqs; i++) {
		info[i].name = names[i];
		info[i].callback = cbs[i];
	}
	return virtio_find_vqs(vdev, nvqs, vqs, info, NULL);
}

/**
 * struct pvballoon_shrink - a shrinker and what it shrinks
 * @shrinker: the registered shrinker
 * @owner: the balloon it shrinks
 * @count: the shrinker's count_objects callback
 * @scan: the shrinker's scan_objects callback
 */
struct pvballoon_shrink {
	struct shrinker *shrinker;
	void *owner;
	unsigned long (*count)(struct shrinker *s, struct shrink_control *sc);
	unsigned long (*scan)(struct shrinker *s, struct shrink_control *sc);
};

/**
 * pvballoon_shrink_register() - register a shrinker for a balloon
 * @s: the shrinker's state, with @s->owner, @s->count and @s->scan set
 * @name: the shrinker's name
 *
 * Return: 0 or a negative errno.
 */
static inline int pvballoon_shrink_register(struct pvballoon_shrink *s,
					    const char *name)
{
	s->shrinker = shrinker_alloc(0, "%s", name);
	if (!s->shrinker)
		return -ENOMEM;
	s->shrinker->count_objects = s->count;
	s->shrinker->scan_objects = s->scan;
	s->shrinker->private_data = s->owner;
	shrinker_register(s->shrinker);
	return 0;
}

static inline void pvballoon_shrink_unregister(struct pvballoon_shrink *s)
{
	shrinker_free(s->shrinker);
	s->shrinker = NULL;
}

static inline void *pvballoon_shrink_owner(struct shrinker *shrinker)
{
	return shrinker->private_data;
}

/**
 * pvballoon_stats_more() - the statistics only newer bases define
 * @st: the statistics array
 * @idx: next free entry of @st
 * @ev: the guest's VM event counters
 * @le: the device is little endian
 *
 * Return: the next free entry after the ones written.
 */
static inline unsigned int pvballoon_stats_more(struct virtio_balloon_stat *st,
						unsigned int idx,
						const unsigned long *ev,
						bool le)
{
	u64 stalls = 0;
	int zid;

	for (zid = 0; zid < MAX_NR_ZONES; zid++)
		stalls += ev[ALLOCSTALL_NORMAL - ZONE_NORMAL + zid];
	idx = pvballoon_put_stat(st, idx, VIRTIO_BALLOON_S_OOM_KILL,
				 ev[OOM_KILL], le);
	idx = pvballoon_put_stat(st, idx, VIRTIO_BALLOON_S_ALLOC_STALL,
				 stalls, le);
	idx = pvballoon_put_stat(st, idx, VIRTIO_BALLOON_S_ASYNC_SCAN,
				 pvballoon_pages_to_bytes(ev[PGSCAN_KSWAPD]), le);
	idx = pvballoon_put_stat(st, idx, VIRTIO_BALLOON_S_DIRECT_SCAN,
				 pvballoon_pages_to_bytes(ev[PGSCAN_DIRECT]), le);
	idx = pvballoon_put_stat(st, idx, VIRTIO_BALLOON_S_ASYNC_RECLAIM,
				 pvballoon_pages_to_bytes(ev[PGSTEAL_KSWAPD]), le);
	return pvballoon_put_stat(st, idx, VIRTIO_BALLOON_S_DIRECT_RECLAIM,
				  pvballoon_pages_to_bytes(ev[PGSTEAL_DIRECT]), le);
}

#endif /* _PVBALLOON_COMPAT_H */
