// SPDX-License-Identifier: GPL-2.0
/*
 * pvg-msr: read a model-specific register of one CPU through the msr
 * driver (/dev/cpu/N/msr), for the tests that check which KVM shared-memory
 * areas each CPU has registered with the host.
 *
 *   pvg-msr CPU MSR    print the value of MSR (hex or decimal) on CPU in hex
 *
 * Exit status 0 on success, 1 when the read fails (offline CPU, no msr
 * driver, an MSR the CPU does not have), 2 on a usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int number(const char *s, unsigned long long max,
		  unsigned long long *val)
{
	char *end;

	errno = 0;
	*val = strtoull(s, &end, 0);
	return !errno && *s && !*end && *val <= max;
}

int main(int argc, char **argv)
{
	unsigned long long cpu, msr;
	char path[64];
	uint64_t val;
	ssize_t n;
	int fd;

	if (argc != 3 || !number(argv[1], 4095, &cpu) ||
	    !number(argv[2], 0xffffffffULL, &msr)) {
		fprintf(stderr, "usage: pvg-msr CPU MSR\n");
		return 2;
	}
	snprintf(path, sizeof(path), "/dev/cpu/%llu/msr", cpu);
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "pvg-msr: %s: %s\n", path, strerror(errno));
		return 1;
	}
	n = pread(fd, &val, sizeof(val), msr);
	if (n != sizeof(val)) {
		fprintf(stderr, "pvg-msr: cpu %llu msr %#llx: %s\n", cpu, msr,
			n < 0 ? strerror(errno) : "short read");
		return 1;
	}
	close(fd);
	printf("%#" PRIx64 "\n", val);
	return 0;
}
