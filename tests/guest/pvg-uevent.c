// SPDX-License-Identifier: GPL-2.0
/*
 * pvg-uevent: wait for one kernel uevent (NETLINK_KOBJECT_UEVENT) whose
 * fields include every KEY=VALUE given, print its fields on one line and
 * exit 0; exit 1 when none came in time.  The block tests use it to see the
 * "change" event with RESIZE=1 that a disk sends when its capacity changes
 * (busybox has no udevadm monitor).
 *
 *   pvg-uevent [-r READYFILE] [-t SECONDS] KEY=VALUE...
 *
 * -r creates READYFILE once the socket listens, so a test can start the
 * listener in the background and only then cause the event.  -t defaults
 * to 30 seconds.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Does the event (NUL-separated "KEY=VALUE" fields after the header) hold
 * the field want? */
static int has_field(const char *buf, size_t len, const char *want)
{
	size_t i = 0;

	while (i < len) {
		const char *f = buf + i;
		size_t n = strnlen(f, len - i);

		if (strlen(want) == n && !memcmp(f, want, n))
			return 1;
		i += n + 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = 1 };
	const char *ready = NULL;
	double timeout = 30, end;
	static char buf[16384];
	int fd, opt, rcvbuf = 1 << 20;

	while ((opt = getopt(argc, argv, "r:t:")) != -1) {
		switch (opt) {
		case 'r':
			ready = optarg;
			break;
		case 't':
			timeout = atof(optarg);
			break;
		default:
			fprintf(stderr, "usage: pvg-uevent [-r READYFILE] [-t SECONDS] KEY=VALUE...\n");
			return 2;
		}
	}
	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("pvg-uevent: netlink socket");
		return 2;
	}
	/* Other devices' events must not overflow the socket meanwhile. */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (ready) {
		int r = open(ready, O_CREAT | O_WRONLY | O_TRUNC, 0644);

		if (r < 0) {
			perror(ready);
			return 2;
		}
		close(r);
	}
	end = now() + timeout;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		double left = end - now();
		ssize_t len;
		int i, all = 1;

		if (left <= 0)
			break;
		if (poll(&p, 1, (int)(left * 1000) + 1) <= 0)
			continue;
		len = recv(fd, buf, sizeof(buf) - 1, 0);
		if (len <= 0) {
			if (len < 0 && errno == ENOBUFS)
				fprintf(stderr, "pvg-uevent: events were lost (ENOBUFS)\n");
			continue;
		}
		buf[len] = 0;
		for (i = optind; i < argc && all; i++)
			all = has_field(buf, len, argv[i]);
		if (!all)
			continue;
		/* The header "ACTION@DEVPATH", then the fields. */
		for (i = 0; i < len; i += strlen(buf + i) + 1)
			printf("%s%s", i ? " " : "", buf + i);
		printf("\n");
		return 0;
	}
	fprintf(stderr, "pvg-uevent: no matching uevent in %g s\n", timeout);
	return 1;
}
