// SPDX-License-Identifier: GPL-2.0
/*
 * pvg-cpuid: read CPUID from user space, as an oracle for the tests of
 * pvguest's hypervisor detection (CPUID is not a privileged instruction).
 *
 *   pvg-cpuid LEAF     print "EAX EBX ECX EDX" of LEAF in hex
 *   pvg-cpuid --hvbit  print CPUID.1:ECX[31], the hypervisor bit
 *   pvg-cpuid --scan   print every non-empty base leaf 0x40000000..0x4000ff00
 *                      as: base "signature" max-leaf printable|garbage
 *                      with the escaping of /sys/kernel/pvguest/signatures
 */
#include <cpuid.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void leaf(unsigned int l, unsigned int r[4])
{
	__cpuid(l, r[0], r[1], r[2], r[3]);
}

static int plausible(const unsigned char *s, int len)
{
	int i, visible = 0;

	for (i = 0; i < len; i++) {
		if (s[i] < 0x20 || s[i] > 0x7e)
			return 0;
		visible += s[i] != ' ';
	}
	return visible >= 4;
}

static void scan(void)
{
	unsigned int base, r[4];
	unsigned char sig[12];
	int i, len;

	for (base = 0x40000000; base <= 0x4000ff00; base += 0x100) {
		leaf(base, r);
		memcpy(sig, &r[1], 4);
		memcpy(sig + 4, &r[2], 4);
		memcpy(sig + 8, &r[3], 4);
		for (len = 12; len && !sig[len - 1]; len--)
			;
		if (!len)
			continue;
		printf("0x%08x \"", base);
		for (i = 0; i < len; i++) {
			if (sig[i] == '"' || sig[i] == '\\')
				printf("\\%c", sig[i]);
			else if (sig[i] < 0x20 || sig[i] > 0x7e)
				printf("\\x%02x", sig[i]);
			else
				putchar(sig[i]);
		}
		printf("\" 0x%08x %s\n", r[0],
		       plausible(sig, len) ? "printable" : "garbage");
	}
}

int main(int argc, char **argv)
{
	unsigned int r[4];

	if (argc == 2 && !strcmp(argv[1], "--scan")) {
		scan();
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "--hvbit")) {
		leaf(1, r);
		printf("%u\n", (r[2] >> 31) & 1);
		return 0;
	}
	if (argc == 2) {
		char *end;
		unsigned long l = strtoul(argv[1], &end, 0);

		if (!*end) {
			leaf((unsigned int)l, r);
			printf("0x%08x 0x%08x 0x%08x 0x%08x\n", r[0], r[1], r[2], r[3]);
			return 0;
		}
	}
	fprintf(stderr, "usage: pvg-cpuid LEAF | --hvbit | --scan\n");
	return 2;
}
