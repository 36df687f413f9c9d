// SPDX-License-Identifier: GPL-2.0
/*
 * pvg-exit: report a test verdict to the host through QEMU's isa-debug-exit
 * device and stop the machine.  QEMU exits with status (value << 1) | 1.
 *
 * Usage: pvg-exit VALUE     (VALUE in 1..255, decimal or 0x-hex)
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/io.h>

#define PVG_EXIT_PORT	0xf4

int main(int argc, char **argv)
{
	unsigned long v;
	char *end;

	if (argc != 2) {
		fprintf(stderr, "usage: pvg-exit VALUE\n");
		return 2;
	}
	v = strtoul(argv[1], &end, 0);
	if (*end || v == 0 || v > 255) {
		fprintf(stderr, "pvg-exit: bad value '%s' (1..255)\n", argv[1]);
		return 2;
	}
	if (ioperm(PVG_EXIT_PORT, 4, 1)) {
		perror("pvg-exit: ioperm");
		return 1;
	}
	outb((unsigned char)v, PVG_EXIT_PORT);
	/* Only reached when no isa-debug-exit device is present. */
	fprintf(stderr, "pvg-exit: no isa-debug-exit device at 0x%x\n", PVG_EXIT_PORT);
	return 1;
}
