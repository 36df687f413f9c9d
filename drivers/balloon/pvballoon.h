/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pvballoon: the arithmetic of the virtio-balloon protocol, kept free of
 * device state so that the KUnit suite can exercise it directly.
 *
 * The device counts in 4 KiB balloon pages whatever the guest's page size
 * is; page frame numbers travel as 32-bit values and statistics as packed
 * (16-bit tag, 64-bit value) pairs, in the device's byte order: little
 * endian for every virtio 1.0 device.
 */
#ifndef _PVBALLOON_H
#define _PVBALLOON_H

#include <linux/bits.h>
#include <linux/kernel.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/virtio_balloon.h>
#include <linux/virtio_byteorder.h>

/* Balloon pages per guest page: the device speaks in 4 KiB units. */
#define PVBALLOON_PAGES_PER_PAGE	(PAGE_SIZE >> VIRTIO_BALLOON_PFN_SHIFT)

/* A large chunk: one 2 MiB allocation (order 9 with 4 KiB pages). */
#define PVBALLOON_HUGE_ORDER		(21 - PAGE_SHIFT)
#define PVBALLOON_HUGE_PAGES		BIT(PVBALLOON_HUGE_ORDER)

/**
 * pvballoon_put_pfns() - append the device page numbers of a guest range
 * @pfns: the request's array of device page numbers
 * @used: entries of @pfns already filled
 * @room: capacity of @pfns in entries
 * @pfn: first guest page frame of the range
 * @npages: guest pages in the range
 * @le: the device is little endian
 *
 * Every guest page becomes PVBALLOON_PAGES_PER_PAGE consecutive device
 * page numbers.  A range that does not fit whole, or whose device page
 * numbers do not fit in 32 bits, is not written at all.
 *
 * Return: the new number of used entries, or @used unchanged when the
 * range was refused.
 */
static inline unsigned int pvballoon_put_pfns(__virtio32 *pfns,
					      unsigned int used,
					      unsigned int room,
					      unsigned long pfn,
					      unsigned long npages, bool le)
{
	unsigned long first, n, i;

	if (check_mul_overflow(npages, PVBALLOON_PAGES_PER_PAGE, &n) ||
	    n > room - min(used, room))
		return used;
	if (check_mul_overflow(pfn, PVBALLOON_PAGES_PER_PAGE, &first) ||
	    (n && first + n - 1 > U32_MAX) || first + n < first)
		return used;
	for (i = 0; i < n; i++)
		pfns[used + i] = __cpu_to_virtio32(le, first + i);
	return used + n;
}

/**
 * pvballoon_goal() - how many guest pages the balloon should hold
 * @num_pages: the host's target, in device pages, from the config space
 * @held: guest pages the balloon holds now
 * @avail: guest pages available to the guest outside the balloon
 * @reserve: guest pages the balloon always leaves to the guest
 * @clamped: set when the host's target had to be cut down
 *
 * The host may ask for more than the guest can give, up to all of its
 * memory.  The balloon grows at most until @reserve pages are left
 * available; it never shrinks because of the clamp.
 *
 * Return: the number of guest pages to hold.
 */
static inline unsigned long pvballoon_goal(u32 num_pages, unsigned long held,
					   unsigned long avail,
					   unsigned long reserve,
					   bool *clamped)
{
	unsigned long want = num_pages / PVBALLOON_PAGES_PER_PAGE;
	unsigned long limit = held;

	if (avail > reserve)
		limit += avail - reserve;
	*clamped = want > limit;
	return *clamped ? max(limit, min(want, held)) : want;
}

/**
 * pvballoon_pages_to_bytes() - size in bytes of a number of guest pages
 * @pages: guest pages
 *
 * Return: the size, or U64_MAX when it does not fit.
 */
static inline u64 pvballoon_pages_to_bytes(u64 pages)
{
	u64 bytes;

	if (check_shl_overflow(pages, PAGE_SHIFT, &bytes))
		return U64_MAX;
	return bytes;
}

/**
 * pvballoon_put_stat() - store one statistic in device byte order
 * @st: the statistics array sent to the device
 * @idx: index of the entry to write
 * @tag: VIRTIO_BALLOON_S_* tag
 * @val: value, in bytes for memory sizes
 * @le: the device is little endian
 *
 * Return: @idx + 1, the index of the next entry.
 */
static inline unsigned int pvballoon_put_stat(struct virtio_balloon_stat *st,
					      unsigned int idx, u16 tag,
					      u64 val, bool le)
{
	st[idx].tag = __cpu_to_virtio16(le, tag);
	st[idx].val = __cpu_to_virtio64(le, val);
	return idx + 1;
}

#endif /* _PVBALLOON_H */
