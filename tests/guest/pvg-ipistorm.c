// SPDX-License-Identifier: GPL-2.0
/*
 * pvg-ipistorm: an IPI- and TLB-flush-heavy workload that checks its own
 * results.  The main thread runs on CPU 0 and worker threads on CPUs 1 to
 * n-2, each reading its own page of a shared mapping, while the main thread
 * flips the mapping read-only and back (each flip to read-only shoots down
 * the TLBs of the workers' CPUs), maps and unmaps scratch memory, and
 * issues private expedited membarriers (an IPI to every CPU running one of
 * our threads).  CPU n-1 is left out on purpose: the targets are then a
 * strict subset of the other CPUs, which the kernel sends as a mask (a PV
 * IPI under KVM) rather than as an all-but-self shorthand.
 *
 *   pvg-ipistorm ROUNDS      exit 0 when every check passed
 *
 * It prints one line, "pvg-ipistorm: T threads, R rounds, E errors", then
 * on the same line (tests embed it in a KTAP description) the time the
 * rounds took and their rate, ", S s, rounds_per_s=X": the TLB shootdown
 * benchmark (tests/guest/bench/run.sh) reads the rate.
 */
#define _GNU_SOURCE
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define PAGE	4096

static unsigned char *shared;
static atomic_int stop, errors, ready;
static long nthreads;

static int membarrier(int cmd)
{
	return syscall(__NR_membarrier, cmd, 0, 0);
}

static void pin(long cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void *worker(void *arg)
{
	long id = (long)arg;
	volatile unsigned char *page = shared + id * PAGE;
	unsigned long round = 0;
	int i;

	pin(id + 1);
	atomic_fetch_add(&ready, 1);
	while (!atomic_load(&stop)) {
		/* Read-only phases only read; reads always see our pattern. */
		for (i = 0; i < PAGE; i += 512)
			if (page[i] != (unsigned char)(id + 1)) {
				atomic_fetch_add(&errors, 1);
				fprintf(stderr, "thread %ld: byte %d is %u\n",
					id, i, page[i]);
				return NULL;
			}
		round++;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	long rounds = argc > 1 ? atol(argv[1]) : 200, r, t;
	struct timespec t0, t1;
	pthread_t *tid;
	double secs;
	size_t len;

	nthreads = sysconf(_SC_NPROCESSORS_ONLN) - 2;
	if (nthreads < 1 || nthreads > 4096)
		nthreads = 1;
	pin(0);
	len = nthreads * PAGE;
	shared = mmap(NULL, len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	for (t = 0; t < nthreads; t++)
		memset(shared + t * PAGE, (int)(t + 1), PAGE);
	if (membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED)) {
		perror("membarrier register");
		return 2;
	}
	tid = calloc((size_t)nthreads & 0xffff, sizeof(*tid));
	if (!tid) {
		perror("calloc");
		return 2;
	}
	for (t = 0; t < nthreads; t++)
		pthread_create(&tid[t], NULL, worker, (void *)t);
	while (atomic_load(&ready) < nthreads)
		;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (r = 0; r < rounds && !atomic_load(&errors); r++) {
		void *scratch;

		if (mprotect(shared, len, PROT_READ) ||
		    mprotect(shared, len, PROT_READ | PROT_WRITE)) {
			perror("mprotect");
			atomic_fetch_add(&errors, 1);
		}
		scratch = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (scratch == MAP_FAILED) {
			perror("mmap scratch");
			atomic_fetch_add(&errors, 1);
		} else {
			memset(scratch, 0x5a, 16 * PAGE);
			if (((unsigned char *)scratch)[16 * PAGE - 1] != 0x5a)
				atomic_fetch_add(&errors, 1);
			munmap(scratch, 16 * PAGE);
		}
		if (membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)) {
			perror("membarrier");
			atomic_fetch_add(&errors, 1);
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	atomic_store(&stop, 1);
	for (t = 0; t < nthreads; t++)
		pthread_join(tid[t], NULL);
	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("pvg-ipistorm: %ld threads, %ld rounds, %d errors, %.3f s, rounds_per_s=%.2f\n",
	       nthreads, r, atomic_load(&errors), secs,
	       secs > 0 ? r / secs : 0.0);
	return atomic_load(&errors) ? 1 : 0;
}
