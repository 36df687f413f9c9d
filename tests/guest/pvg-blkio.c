// SPDX-License-Identifier: GPL-2.0
/*
 * pvg-blkio: one O_DIRECT read or write of a block device, from a page
 * aligned buffer, so that exactly the sectors asked for reach the device.
 * busybox dd cannot promise that: its buffers come from malloc, unaligned,
 * and its "iflag=direct" 512-byte reads were seen going through the page
 * cache (a whole 4 KiB page and readahead around it: "Buffer I/O error
 * ... async page read" for a neighbour of a failing sector).
 *
 *   pvg-blkio read DEVICE OFFSET LENGTH          data to stdout
 *   pvg-blkio write DEVICE OFFSET LENGTH [FILE]  data from FILE (repeated),
 *                                                else the byte 0x5a
 *
 * Exits 0 when all LENGTH bytes moved, 1 with "pvg-blkio: ...: ERROR" on
 * stderr otherwise (a short transfer is an error too), 2 on bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long long off, len;
	int wr, fd;
	char *buf;
	ssize_t n;

	if (argc < 5 || argc > 6 || (strcmp(argv[1], "read") && strcmp(argv[1], "write"))) {
		fprintf(stderr, "usage: pvg-blkio read|write DEVICE OFFSET LENGTH [FILE]\n");
		return 2;
	}
	wr = !strcmp(argv[1], "write");
	off = atoll(argv[3]);
	len = atoll(argv[4]);
	if (len <= 0 || posix_memalign((void **)&buf, 4096, len)) {
		fprintf(stderr, "pvg-blkio: bad length %s\n", argv[4]);
		return 2;
	}
	memset(buf, 0x5a, len);
	if (wr && argc == 6) {
		long long got = 0;
		int in = open(argv[5], O_RDONLY);

		if (in < 0) {
			perror(argv[5]);
			return 2;
		}
		while (got < len) {
			n = pread(in, buf + got, len - got, 0);
			if (n <= 0) {
				fprintf(stderr, "pvg-blkio: %s is empty\n", argv[5]);
				return 2;
			}
			got += n;
		}
		close(in);
	}
	fd = open(argv[2], (wr ? O_WRONLY : O_RDONLY) | O_DIRECT);
	if (fd < 0) {
		fprintf(stderr, "pvg-blkio: open %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	n = wr ? pwrite(fd, buf, len, off) : pread(fd, buf, len, off);
	if (n != len) {
		fprintf(stderr, "pvg-blkio: %s %s at %lld: %s\n", argv[1], argv[2], off,
			n < 0 ? strerror(errno) : "short transfer");
		return 1;
	}
	if (!wr && fwrite(buf, 1, len, stdout) != (size_t)len)
		return 1;
	return 0;
}
