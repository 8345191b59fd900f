// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The traffic generator of 60-prometheus.sh, whose byte counts are exact: it counts what
 * its own calls moved. It connects to a sink on loopback TCP, sends one byte (so its
 * series exists on a scrape before the bulk moves, or rate() would see no increase), then
 * the rest in six steps half a second apart; it shuts its sending side, expects exactly
 * REPLY_BYTES back, writes its pid to DONE_FILE and keeps its socket open until killed, so
 * its flow, and so its series, stay in flowacct's table while Prometheus is queried.
 * With NAME, it names itself (prctl PR_SET_NAME) first.
 *
 * usage: fa_promgen PORT SEND_BYTES REPLY_BYTES DONE_FILE [NAME]
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

static char buf[1 << 16];

static void send_all(int fd, long long n)
{
	while (n > 0) {
		ssize_t w =
			send(fd, buf, n < (long long)sizeof(buf) ? n : (long long)sizeof(buf), 0);

		if (w <= 0) {
			perror("send");
			exit(2);
		}
		n -= w;
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[1])) };
	long long total = atoll(argv[2]), want = atoll(argv[3]), got = 0, step;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	FILE *done;
	ssize_t r;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (argc == 6)
		prctl(PR_SET_NAME, argv[5]);
	if (argc < 5 || fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin))) {
		perror("connect");
		return 2;
	}
	send_all(fd, 1);
	usleep(2500 * 1000);
	step = (total - 1) / 6;
	for (int i = 0; i < 6; i++) {
		send_all(fd, i < 5 ? step : total - 1 - 5 * step);
		usleep(500 * 1000);
	}
	/* no shutdown: the connection stays established while it is queried (a closed
	 * one's flow would leave the table, and its per-flow series with it) */
	while (got < want && (r = recv(fd, buf, sizeof(buf), 0)) > 0)
		got += r;
	if (got != want) {
		fprintf(stderr, "received %lld bytes, want %lld\n", got, want);
		return 3;
	}
	done = fopen(argv[4], "w");
	fprintf(done, "%d\n", getpid());
	fclose(done);
	pause();
	return 0;
}
