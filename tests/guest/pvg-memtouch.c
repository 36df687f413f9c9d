// SPDX-License-Identifier: GPL-2.0
/*
 * pvg-memtouch: allocate anonymous memory, write a pattern to every byte of
 * every page, read it all back, and free it, so balloon tests know the
 * guest really got (and kept) the memory.
 *
 * Usage: pvg-memtouch [-s SECONDS | -w] [-r FILE] [-q] [-p] [-C] MIB
 *   -s SECONDS  hold the memory that long, then verify it again and free it
 *   -w          hold it until SIGUSR1 or SIGTERM, then verify again and free
 *   -r FILE     write "ready" to FILE once every page is touched and checked
 *               (so a test can act while the memory is held)
 *   -q          no summary line
 *   -p          one word a page instead of every word: populating memory
 *               fast (under TCG the full pattern costs seconds a GiB)
 *   -C          corrupt one word before the check (proves the check fails)
 *
 * Prints "memtouch mib=N touch_ms=T verify_ms=V errors=0" and exits 0;
 * exits 1 on an allocation failure or a pattern mismatch (with the first
 * bad address), 2 on a usage error.  Memory the kernel cannot find while
 * faulting pages in shows up as an OOM kill instead, which callers check.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>


#define PAGE	4096UL

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A word that differs per word, per page and per run. */
static inline uint64_t pattern(uint64_t seed, size_t i)
{
	uint64_t x = seed ^ (i * 0x9e3779b97f4a7c15ULL);

	return x ^ (x >> 29);
}

static void fill(uint64_t *p, size_t words, size_t step, uint64_t seed)
{
	size_t i;

	for (i = 0; i < words; i += step)
		p[i] = pattern(seed, i);
}

static long check(const uint64_t *p, size_t words, size_t step,
		  uint64_t seed)
{
	size_t i;
	long bad = 0;

	for (i = 0; i < words; i += step) {
		if (p[i] != pattern(seed, i)) {
			if (!bad)
				fprintf(stderr,
					"pvg-memtouch: mismatch at offset %#zx: %#llx, wrote %#llx\n",
					i * 8, (unsigned long long)p[i],
					(unsigned long long)pattern(seed, i));
			bad++;
		}
	}
	return bad;
}

static void usage(void)
{
	fprintf(stderr, "usage: pvg-memtouch [-s SECONDS | -w] [-r FILE] [-q] [-p] [-C] MIB\n");
	exit(2);
}

int main(int argc, char **argv)
{
	long hold = 0, bad;
	int wait_signal = 0, quiet = 0, corrupt = 0, held, c;
	size_t step = 1;
	const char *ready = NULL;
	unsigned long mib;
	size_t len, words;
	uint64_t *p, seed;
	double t0, t1, t2;
	char *end;

	while ((c = getopt(argc, argv, "s:wr:qpC")) != -1) {
		switch (c) {
		case 's':
			hold = strtol(optarg, &end, 10);
			if (*end || hold < 0)
				usage();
			break;
		case 'w':
			wait_signal = 1;
			break;
		case 'r':
			ready = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'C':
			corrupt = 1;
			break;
		case 'p':
			step = PAGE / sizeof(*p);
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 1)
		usage();
	mib = strtoul(argv[optind], &end, 10);
	if (*end || mib == 0 || mib > (1UL << 20))
		usage();
	len = mib << 20;
	words = len / sizeof(*p);

	signal(SIGUSR1, on_signal);
	signal(SIGTERM, on_signal);
	seed = (uint64_t)getpid() << 32 ^ (uint64_t)now_ms();

	/*
	 * MAP_POPULATE faults every page in inside one system call: a trap
	 * per page is what costs under TCG.  The pattern still writes every
	 * word, and faults in whatever population left out.
	 */
	t0 = now_ms();
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (p == MAP_FAILED) {
		fprintf(stderr, "pvg-memtouch: mmap %lu MiB: %s\n", mib,
			strerror(errno));
		return 1;
	}
	fill(p, words, step, seed);
	t1 = now_ms();
	if (corrupt)
		p[words / 2] ^= 1;	/* the first word of a page */
	bad = check(p, words, step, seed);
	t2 = now_ms();
	if (bad) {
		fprintf(stderr, "pvg-memtouch: %ld of %zu words wrong after touching\n",
			bad, words / step);
		return 1;
	}
	if (ready) {
		FILE *f = fopen(ready, "w");

		if (!f || fputs("ready\n", f) == EOF || fclose(f)) {
			fprintf(stderr, "pvg-memtouch: cannot write %s\n", ready);
			return 1;
		}
	}
	held = wait_signal || hold || ready;
	if (wait_signal) {
		while (!stop)
			pause();
	} else {
		while (hold > 0 && !stop)
			hold = sleep(hold);
	}
	if (held) {
		bad = check(p, words, step, seed);
		if (bad) {
			fprintf(stderr, "pvg-memtouch: %ld of %zu words wrong after holding\n",
				bad, words / step);
			return 1;
		}
	}
	if (munmap(p, len)) {
		perror("pvg-memtouch: munmap");
		return 1;
	}
	if (!quiet)
		printf("memtouch mib=%lu touch_ms=%.0f verify_ms=%.0f errors=0\n",
		       mib, t1 - t0, t2 - t1);
	return 0;
}
