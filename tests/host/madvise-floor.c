// SPDX-License-Identifier: GPL-2.0
/*
 * madvise-floor: the host's own cost of what QEMU 7.2 does for a balloon,
 * the floor no guest driver can go below.  QEMU discards each inflated
 * 4 KiB page with one madvise(MADV_DONTNEED) and hints each deflated one
 * with one madvise(MADV_WILLNEED).  This maps MIB MiB (default 1024) of
 * anonymous memory, touches every page, then times one MADV_DONTNEED per
 * 4 KiB page over the whole range, reads how much RSS that returned, and
 * times one MADV_WILLNEED per page.  scripts/bench-balloon.py runs it.
 *
 * Usage: madvise-floor [MIB]
 * Prints "floor bytes=N dontneed_ms=T willneed_ms=T rss_drop_kib=N".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGE	4096UL

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static long rss_kib(void)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &v) == 1)
			break;
	fclose(f);
	return v;
}

int main(int argc, char **argv)
{
	unsigned long mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 1024;
	size_t len = mib << 20, off;
	double t0, t1, t2;
	long before, after;
	char *p;

	if (!mib || mib > (1UL << 20)) {
		fprintf(stderr, "usage: madvise-floor [MIB]\n");
		return 2;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("madvise-floor: mmap");
		return 1;
	}
	/* QEMU's guest RAM is not backed by huge pages here either. */
	madvise(p, len, MADV_NOHUGEPAGE);
	for (off = 0; off < len; off += PAGE)
		p[off] = 1;
	before = rss_kib();
	t0 = now_ms();
	for (off = 0; off < len; off += PAGE)
		if (madvise(p + off, PAGE, MADV_DONTNEED)) {
			perror("madvise-floor: MADV_DONTNEED");
			return 1;
		}
	t1 = now_ms();
	after = rss_kib();
	for (off = 0; off < len; off += PAGE)
		if (madvise(p + off, PAGE, MADV_WILLNEED)) {
			perror("madvise-floor: MADV_WILLNEED");
			return 1;
		}
	t2 = now_ms();
	if (before < 0 || after < 0) {
		fprintf(stderr, "madvise-floor: cannot read VmRSS\n");
		return 1;
	}
	printf("floor bytes=%zu dontneed_ms=%.1f willneed_ms=%.1f rss_drop_kib=%ld\n",
	       len, t1 - t0, t2 - t1, before - after);
	return 0;
}
