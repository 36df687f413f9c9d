// SPDX-License-Identifier: GPL-2.0
/*
 * pvg-kexec: load a kernel with kexec_file_load(2) and, for a plain kexec,
 * jump into it; busybox has no kexec applet.
 *
 *   pvg-kexec exec  KERNEL INITRD CMDLINE   load, then reboot into it
 *   pvg-kexec crash KERNEL INITRD CMDLINE   load as the crash kernel (the
 *                                           crashkernel= area) and return
 *
 * "exec" returns only on failure.  Exit status 0 on success, 1 when the
 * kernel refuses, 2 on a usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kexec.h>
#include <linux/reboot.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int open_or_complain(const char *path)
{
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		fprintf(stderr, "pvg-kexec: %s: %s\n", path, strerror(errno));
	return fd;
}

int main(int argc, char **argv)
{
	unsigned long flags;
	int kfd, ifd;

	if (argc != 5 || (strcmp(argv[1], "exec") && strcmp(argv[1], "crash"))) {
		fprintf(stderr, "usage: pvg-kexec exec|crash KERNEL INITRD CMDLINE\n");
		return 2;
	}
	flags = strcmp(argv[1], "crash") ? 0 : KEXEC_FILE_ON_CRASH;
	kfd = open_or_complain(argv[2]);
	ifd = open_or_complain(argv[3]);
	if (kfd < 0 || ifd < 0)
		return 1;
	/* The length counts the terminating NUL. */
	if (syscall(SYS_kexec_file_load, kfd, ifd, strlen(argv[4]) + 1,
		    argv[4], flags)) {
		fprintf(stderr, "pvg-kexec: kexec_file_load: %s\n",
			strerror(errno));
		return 1;
	}
	if (flags)
		return 0;
	sync();
	syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2,
		LINUX_REBOOT_CMD_KEXEC, NULL);
	fprintf(stderr, "pvg-kexec: reboot into the loaded kernel: %s\n",
		strerror(errno));
	return 1;
}
