// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <string.h>
#include "cli.h"
#include "collector.h"
#include "format.h"
#include "log.h"
#include "prom_render.h"
#include "util.h"

enum long_only {
	OPT_TCP = 256,
	OPT_UDP,
	OPT_BY,
	OPT_BACKEND,
	OPT_MAX_FLOWS,
	OPT_JSON_FILE,
	OPT_PROMETHEUS,
	OPT_PROMETHEUS_FLOWS,
	OPT_PROMETHEUS_PIDS,
	OPT_PROMETHEUS_MAX_NAMES,
	OPT_WEB_CONFIG,
	OPT_PACKETS,
	OPT_TPACKET_VERSION,
	OPT_RING_BLOCK_SIZE,
	OPT_RING_BLOCKS,
	OPT_RING_BLOCK_TIMEOUT,
	OPT_FILTER,
	OPT_PROBE_BACKENDS,
	OPT_AUDIT,
	OPT_CGROUP,
	OPT_HOST_ROOT,
	OPT_USER,
	OPT_NO_SECCOMP,
	OPT_NO_STDOUT,
	OPT_BITS,
	OPT_LINGER,
};

static const struct option long_opts[] = {
	{ "batch", no_argument, NULL, 'b' },
	{ "json", no_argument, NULL, 'j' },
	{ "delay", required_argument, NULL, 'd' },
	{ "iterations", required_argument, NULL, 'n' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "no-stdout", no_argument, NULL, OPT_NO_STDOUT },
	{ "bits", no_argument, NULL, OPT_BITS },
	{ "linger", required_argument, NULL, OPT_LINGER },
	{ "interface", required_argument, NULL, 'i' },
	{ "pid", required_argument, NULL, 'p' },
	{ "tcp", no_argument, NULL, OPT_TCP },
	{ "udp", no_argument, NULL, OPT_UDP },
	{ "by", required_argument, NULL, OPT_BY },
	{ "sort", required_argument, NULL, 's' },
	{ "reverse", no_argument, NULL, 'R' },
	{ "rows", required_argument, NULL, 'r' },
	{ "filter", required_argument, NULL, OPT_FILTER },
	{ "backend", required_argument, NULL, OPT_BACKEND },
	{ "max-flows", required_argument, NULL, OPT_MAX_FLOWS },
	{ "json-file", required_argument, NULL, OPT_JSON_FILE },
	{ "prometheus", required_argument, NULL, OPT_PROMETHEUS },
	{ "prometheus-flows", no_argument, NULL, OPT_PROMETHEUS_FLOWS },
	{ "prometheus-pids", no_argument, NULL, OPT_PROMETHEUS_PIDS },
	{ "prometheus-max-names", required_argument, NULL, OPT_PROMETHEUS_MAX_NAMES },
	{ "web-config", required_argument, NULL, OPT_WEB_CONFIG },
	/* the exporter toolkit's name for it, so a unit file's flags carry over */
	{ "web.config.file", required_argument, NULL, OPT_WEB_CONFIG },
	{ "packets", optional_argument, NULL, OPT_PACKETS },
	{ "tpacket-version", required_argument, NULL, OPT_TPACKET_VERSION },
	{ "ring-block-size", required_argument, NULL, OPT_RING_BLOCK_SIZE },
	{ "ring-blocks", required_argument, NULL, OPT_RING_BLOCKS },
	{ "ring-block-timeout", required_argument, NULL, OPT_RING_BLOCK_TIMEOUT },
	{ "probe-backends", no_argument, NULL, OPT_PROBE_BACKENDS },
	{ "audit", no_argument, NULL, OPT_AUDIT },
	{ "cgroup", required_argument, NULL, OPT_CGROUP },
	{ "host-root", required_argument, NULL, OPT_HOST_ROOT },
	{ "user", required_argument, NULL, OPT_USER },
	{ "no-seccomp", no_argument, NULL, OPT_NO_SECCOMP },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{},
};

void fa_cli_usage(FILE *f)
{
	fputs("Usage: flowacct [options] [interval [count]]\n"
	      "Per-process network traffic by flow, counted exactly in the kernel (eBPF).\n"
	      "\n"
	      "  interval              seconds between reports (default 1, fractions allowed)\n"
	      "  count                 number of reports, then exit (default: until interrupted)\n"
	      "  -d, --delay SECONDS   the interval, as an option (top's -d)\n"
	      "  -n, --iterations N    the count, as an option (top's -n)\n"
	      "Rates are per second over the interval (extrapolated when it is shorter than a\n"
	      "second), totals since start.\n"
	      "\n"
	      "Output:\n"
	      "  -b, --batch           plain-text tables (the default when stdout is not a "
	      "terminal)\n"
	      "  -j, --json            one JSON object per interval per line (NDJSON), every flow\n"
	      "                        that moved; the table's options below do not apply\n"
	      "      --json-file PATH  also keep PATH replaced atomically with the latest JSON\n"
	      "      --prometheus [ADDR:]PORT  serve /metrics (binds 127.0.0.1 unless ADDR given)\n"
	      "      --no-stdout       nothing on standard output, for a service that only serves\n"
	      "                        --prometheus or writes --json-file\n"
	      "      --prometheus-flows  per-flow series too (high cardinality)\n"
	      "      --prometheus-pids  process series per pid instead of per name and "
	      "container\n"
	      "      --prometheus-max-names N  at most N comm, container and service names "
	      "each\n"
	      "                        (default 256); later ones are exported as \"(other)\"\n"
	      "      --web-config FILE  TLS, basic auth and limits of /metrics, in the "
	      "exporter\n"
	      "                        toolkit's web config format (also --web.config.file)\n"
	      "Selection (done in the kernel):\n"
	      "  -p, --pid PID         only this process (repeatable; a thread's id means its\n"
	      "                        process); a PID that does not exist is a usage error\n"
	      "      --cgroup PATH     only processes in this cgroup v2 or below it (repeatable; "
	      "a path\n"
	      "                        under the v2 root, e.g. /system.slice/nginx.service)\n"
	      "  -4, -6                only IPv4 / only IPv6\n"
	      "      --tcp, --udp      only TCP / only UDP\n"
	      "  -i, --interface IFACE only flows whose traffic goes through IFACE (of flowacct's\n"
	      "                        network namespace): by the socket's route (TCP, connected\n"
	      "                        UDP) or its SO_BINDTODEVICE; unconnected UDP is left out\n"
	      "                        unless bound to IFACE (see flowacct(8))\n"
	      "Table:\n"
	      "      --by WHAT         one row per flow (default), process, service (the "
	      "container,\n"
	      "                        else the systemd unit), container, or cgroup\n"
	      "  -s, --sort KEY        rate (RX/s + TX/s, the default), rx, tx, total (RX_TOTAL +\n"
	      "                        TX_TOTAL, since start), pid, comm, retrans, rtt\n"
	      "  -R, --reverse         reverse the sort order\n"
	      "  -r, --rows N          at most N rows per interval\n"
	      "      --filter TERMS    only rows matching every term (space-separated): text\n"
	      "                        in COMM, PROTO, LOCAL, REMOTE, CONTAINER/UNIT (any case);\n"
	      "                        :PORT a port exactly (local or remote); !TERM: not TERM\n"
	      "      --bits            rates in bits per second (kb/s, Mb/s, Gb/s: decimal)\n"
	      "      --host-root DIR   where the host's / is, if flowacct runs in a container: "
	      "container\n"
	      "                        names are read from the runtimes' state under it\n"
	      "Kernel side:\n"
	      "      --backend NAME    auto (default), fentry, kprobe, tracepoint\n"
	      "      --max-flows N     flow table size (default 16384); the rest is counted per "
	      "process\n"
	      "      --probe-backends  say which backends work on this kernel (auto takes the "
	      "first), exit\n"
	      "      --audit           check every interval, per TCP socket seen connecting, "
	      "that\n"
	      "                        flowacct's bytes equal the kernel's own counters "
	      "(exit 3 if not)\n"
	      "Packets (AF_PACKET ring, needs CAP_NET_RAW):\n"
	      "      --packets[=IFACE] count packets per flow (default: all interfaces)\n"
	      "      --tpacket-version 2|3  ring format (default 3)\n"
	      "      --ring-block-size BYTES  (default 1048576)\n"
	      "      --ring-blocks N   (default 8)\n"
	      "      --ring-block-timeout MS  TPACKET_V3 block timeout (default 100)\n"
	      "      --user NAME       after set-up, run as NAME (its uid, gid and groups), "
	      "keeping\n"
	      "                        only CAP_BPF (which every run keeps alone)\n"
	      "      --no-seccomp      run without the system call filter of the running "
	      "phase\n"
	      "                        (to tell whether it is the cause of a failure)\n"
	      "Other:\n"
	      "  -q, --quiet           no start-up lines on stderr (warnings and errors stay)\n"
	      "      --linger SECONDS  how long closed flows and exited processes' rows stay\n"
	      "                        before they leave (default 3; 0 to 3600); their bytes\n"
	      "                        stay in their process's totals\n"
	      "  -v, --verbose         libbpf's own messages\n"
	      "  -h, --help            this text\n"
	      "  -V, --version         version\n"
	      "\n"
	      "Exit status: 0 success (also once every -p process has exited), 1 runtime failure\n"
	      "(privileges, no usable backend), 2 bad usage (a bad option or value, a PID that\n"
	      "does not exist), 3 --audit found a mismatch.\n",
	      f);
}

static int fail(struct fa_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The reason, escaped whole: it quotes what was typed, which may hold a newline or an
 * escape sequence, and must stay one line of text. */
static int fail(struct fa_err *err, const char *fmt, ...)
{
	char raw[sizeof(err->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	fa_escape(err->msg, sizeof(err->msg), raw, strlen(raw));
	return FA_CLI_ERROR;
}

/* A whole decimal number in [min, max], nothing trailing. */
static int parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

#define SHORT_OPTS ":bjd:n:qp:46i:s:Rr:vhV"

/* Is s one of flowacct's options ("-b", "-bj", "--batch", "--bat", "--json-file=x")? */
static bool is_option(const char *s)
{
	size_t n;

	if (s[0] != '-' || !s[1])
		return false;
	if (s[1] != '-')
		return s[1] != ':' && strchr(SHORT_OPTS, s[1]);
	n = strcspn(s + 2, "=");
	if (!n)
		return true; /* "--", the end of the options */
	for (const struct option *o = long_opts; o->name; o++)
		if (!strncmp(s + 2, o->name, n)) /* getopt takes a unique prefix too */
			return true;
	return false;
}

/*
 * Did the option just parsed take the next word, another option, as its value? With
 * `--json-file -b`, getopt makes "-b" the file's name and -b is lost: a file named -b
 * appears. A value in the same word (--json-file=-b) is what was meant.
 */
static bool took_option(char **argv)
{
	return optind > 1 && optarg == argv[optind - 1] && is_option(optarg);
}

/* The options that shape the tables of -b and the live view, by getopt's value; NULL. */
static const char *table_option(int c)
{
	switch (c) {
	case 'r':
		return "--rows";
	case 's':
		return "--sort";
	case 'R':
		return "--reverse";
	case OPT_BY:
		return "--by";
	case OPT_FILTER:
		return "--filter";
	case OPT_BITS:
		return "--bits";
	default:
		return NULL;
	}
}

/* The interval: a number of seconds, as the argument or -d gives it. */
static int parse_interval(const char *s, double *out)
{
	char *end;
	double iv = strtod(s, &end);

	if (*end || end == s || !isfinite(iv) || iv < 0.01 || iv > 86400)
		return -EINVAL;
	*out = iv;
	return 0;
}

enum fa_cli_result fa_cli_parse(int argc, char **argv, struct fa_config *cfg, FILE *out,
				struct fa_err *err)
{
	const struct fa_pktring_opts ring_defaults = FA_PKTRING_OPTS_DEFAULT;
	__u8 families = 0, protos = 0;
	bool max_names_given = false, interval_given = false, count_given = false;
	const char *shaping = NULL; /* the first option given that shapes the tables */
	unsigned long v;
	int c, i;

	memset(cfg, 0, sizeof(*cfg));
	cfg->interval_s = 1;
	cfg->linger_s = FA_LINGER_DEFAULT_S;
	cfg->view.sort = FA_SORT_RATE;
	cfg->kernel.max_flows = 16384;
	cfg->kernel.pids = cfg->pids;
	cfg->ring = ring_defaults;
	cfg->prom_max_names = FA_PROM_MAX_NAMES_DEFAULT;
	/* 0, not 1: glibc then also forgets where it was inside a cluster of short options,
	 * so a second parse (the tests make many) cannot read the last one's freed argv */
	optind = 0;
	opterr = 0;

	while ((c = getopt_long(argc, argv, SHORT_OPTS, long_opts, NULL)) != -1) {
		if (!shaping)
			shaping = table_option(c);
		switch (c) {
		case 'b':
			cfg->batch = true;
			break;
		case 'j':
			cfg->json = true;
			break;
		case 'd':
			if (parse_interval(optarg, &cfg->interval_s))
				return fail(err,
					    "--delay takes a number of seconds from 0.01 to 86400, "
					    "not '%s'",
					    optarg);
			interval_given = true;
			break;
		case 'n':
			if (parse_ulong(optarg, 1, LONG_MAX, &v))
				return fail(err, "--iterations takes a positive number, not '%s'",
					    optarg);
			cfg->count = v;
			count_given = true;
			break;
		case 'q':
			cfg->quiet = true;
			break;
		case OPT_NO_STDOUT:
			cfg->no_stdout = true;
			break;
		case OPT_BITS:
			cfg->bits = true;
			break;
		case OPT_LINGER: {
			char *end;
			double s = strtod(optarg, &end);

			if (*end || end == optarg || !isfinite(s) || s < 0 || s > 3600)
				return fail(
					err,
					"--linger takes a number of seconds from 0 to 3600, not "
					"'%s'",
					optarg);
			cfg->linger_s = s;
			break;
		}
		case 'i':
			if (!*optarg)
				return fail(err, "-i needs an interface name");
			if (took_option(argv))
				return fail(err, "-i needs an interface name, not the option '%s'",
					    optarg);
			if (strlen(optarg) >= IF_NAMESIZE)
				return fail(err, "-i '%s': an interface name has at most %d bytes",
					    optarg, IF_NAMESIZE - 1);
			cfg->ifname = optarg;
			break;
		case 'p':
			if (parse_ulong(optarg, 1, INT_MAX, &v))
				return fail(err, "invalid PID '%s'", optarg);
			if (cfg->kernel.npids == FA_MAX_PIDS)
				return fail(err, "at most %d --pid options", FA_MAX_PIDS);
			cfg->pids[cfg->kernel.npids++] = v;
			break;
		case '4':
			families |= FA_WANT_IPV4;
			break;
		case '6':
			families |= FA_WANT_IPV6;
			break;
		case OPT_TCP:
			protos |= FA_WANT_TCP;
			break;
		case OPT_UDP:
			protos |= FA_WANT_UDP;
			break;
		case OPT_BY:
			if ((i = fa_name_lookup(fa_group_names, FA_GROUP_MAX, optarg)) < 0)
				return fail(err,
					    "--by takes flow, process, service, container or "
					    "cgroup, not '%s'",
					    optarg);
			cfg->view.group = i;
			break;
		case 's':
			if ((i = fa_name_lookup(fa_sort_names, FA_SORT_MAX, optarg)) < 0)
				return fail(
					err,
					"--sort takes rate, rx, tx, total, pid, comm, retrans or "
					"rtt, not '%s'",
					optarg);
			cfg->view.sort = i;
			break;
		case 'R':
			cfg->view.reverse = true;
			break;
		case 'r':
			if (parse_ulong(optarg, 1, INT_MAX, &v))
				return fail(err, "--rows takes a positive number, not '%s'",
					    optarg);
			cfg->rows = v;
			break;
		case OPT_FILTER:
			if (took_option(argv))
				return fail(
					err,
					"--filter needs a text, not the option '%s' (to filter on "
					"that text write --filter=%s)",
					optarg, optarg);
			cfg->view.filter = optarg;
			break;
		case OPT_BACKEND:
			if ((i = fa_name_lookup(fa_backend_names, FA_BACKEND_MAX, optarg)) < 0)
				return fail(err,
					    "--backend takes auto, fentry, kprobe or tracepoint, "
					    "not '%s'",
					    optarg);
			cfg->kernel.backend = i;
			break;
		case OPT_MAX_FLOWS:
			if (parse_ulong(optarg, 1, 1 << 24, &v))
				return fail(
					err,
					"--max-flows takes a number from 1 to 16777216, not '%s'",
					optarg);
			cfg->kernel.max_flows = v;
			break;
		case OPT_JSON_FILE:
			if (!*optarg)
				return fail(err, "--json-file needs a path");
			if (took_option(argv))
				return fail(
					err,
					"--json-file needs a path, not the option '%s' (for a file "
					"of that name write ./%s)",
					optarg, optarg);
			cfg->json_file = optarg;
			break;
		case OPT_PROMETHEUS: {
			struct sockaddr_storage ss;
			char why[256];

			if (fa_listen_parse(optarg, &ss, why, sizeof(why)))
				return fail(err, "--prometheus '%s': %s", optarg, why);
			cfg->prom_listen = optarg;
			break;
		}
		case OPT_PROMETHEUS_FLOWS:
			cfg->prom_flows = true;
			break;
		case OPT_PROMETHEUS_PIDS:
			cfg->prom_pids = true;
			break;
		case OPT_PROMETHEUS_MAX_NAMES:
			if (parse_ulong(optarg, 1, FA_PROM_MAX_NAMES_MAX, &v))
				return fail(
					err,
					"--prometheus-max-names takes a number from 1 to 100000, "
					"not '%s'",
					optarg);
			cfg->prom_max_names = v;
			max_names_given = true;
			break;
		case OPT_WEB_CONFIG:
			if (!*optarg)
				return fail(err, "--web-config needs a path");
			if (took_option(argv))
				return fail(err,
					    "--web-config needs a path, not the option '%s' (for a "
					    "file "
					    "of that name write ./%s)",
					    optarg, optarg);
			cfg->web_config = optarg;
			break;
		case OPT_PACKETS:
			cfg->packets = true;
			cfg->ring.ifname =
				optarg && *optarg && strcmp(optarg, "any") ? optarg : NULL;
			break;
		case OPT_TPACKET_VERSION:
			if (parse_ulong(optarg, 2, 3, &v))
				return fail(err, "--tpacket-version takes 2 or 3, not '%s'",
					    optarg);
			cfg->ring.tpacket_version = v;
			break;
		case OPT_RING_BLOCK_SIZE:
			if (parse_ulong(optarg, 4096, 1UL << 30, &v) || (v & 4095))
				return fail(err,
					    "--ring-block-size takes a multiple of 4096 up to 1 "
					    "GiB, not '%s'",
					    optarg);
			cfg->ring.block_size = v;
			break;
		case OPT_RING_BLOCKS:
			if (parse_ulong(optarg, 1, 65536, &v))
				return fail(err, "--ring-blocks takes 1 to 65536, not '%s'",
					    optarg);
			cfg->ring.block_count = v;
			break;
		case OPT_RING_BLOCK_TIMEOUT:
			if (parse_ulong(optarg, 1, 60000, &v))
				return fail(err,
					    "--ring-block-timeout takes 1 to 60000 ms, not '%s'",
					    optarg);
			cfg->ring.block_timeout_ms = v;
			break;
		case OPT_PROBE_BACKENDS:
			cfg->probe_backends = true;
			break;
		case OPT_AUDIT:
			cfg->kernel.audit = true;
			break;
		case OPT_CGROUP:
			if (cfg->ncgroups == FA_MAX_CGROUP_FILTERS)
				return fail(err, "at most %d --cgroup options",
					    FA_MAX_CGROUP_FILTERS);
			if (!*optarg)
				return fail(err, "--cgroup needs a path");
			if (took_option(argv))
				return fail(err,
					    "--cgroup needs a path, not the option '%s' (for a "
					    "cgroup of "
					    "that name write /%s)",
					    optarg, optarg);
			cfg->cgroups[cfg->ncgroups++] = optarg;
			break;
		case OPT_USER:
			if (!*optarg)
				return fail(err, "--user needs a user name");
			if (took_option(argv))
				return fail(err, "--user needs a user name, not the option '%s'",
					    optarg);
			cfg->user = optarg;
			break;
		case OPT_NO_SECCOMP:
			cfg->no_seccomp = true;
			break;
		case OPT_HOST_ROOT:
			if (took_option(argv))
				return fail(err, "--host-root needs a path, not the option '%s'",
					    optarg);
			if (optarg[0] != '/')
				return fail(err, "--host-root takes an absolute path, not '%s'",
					    optarg);
			cfg->host_root = optarg;
			break;
		case 'v':
			cfg->verbose = true;
			break;
		case 'h':
			fa_cli_usage(out);
			return FA_CLI_DONE;
		case 'V':
			fprintf(out, "flowacct %s\n", FA_VERSION);
			return FA_CLI_DONE;
		case ':':
			return fail(err, "option '%s' needs an argument", argv[optind - 1]);
		default:
			if (optopt)
				return fail(err, "unknown option '-%c'", optopt);
			return fail(err, "unknown option '%s'", argv[optind - 1]);
		}
	}

	if (optind < argc) {
		if (interval_given)
			return fail(err, "the interval is given twice, by -d and as '%s': give one",
				    argv[optind]);
		if (parse_interval(argv[optind], &cfg->interval_s))
			return fail(
				err,
				"interval must be a number of seconds from 0.01 to 86400, not '%s'",
				argv[optind]);
		optind++;
	}
	if (optind < argc) {
		if (count_given)
			return fail(err, "the count is given twice, by -n and as '%s': give one",
				    argv[optind]);
		if (parse_ulong(argv[optind], 1, LONG_MAX, &v))
			return fail(err, "count must be a positive number, not '%s'", argv[optind]);
		cfg->count = v;
		optind++;
	}
	if (optind < argc)
		return fail(err, "unexpected argument '%s'", argv[optind]);
	if (cfg->json && cfg->batch)
		return fail(err, "--json and --batch exclude each other");
	/* silently ignored, they would let a user believe the JSON was filtered or cut */
	if (cfg->json && shaping)
		return fail(err,
			    "%s does not apply to -j, which writes every flow that moved, each "
			    "interval: --by, --sort, --reverse, --rows, --filter and --bits shape "
			    "the tables of -b and the live view (filter the JSON with jq)",
			    shaping);
	if (cfg->no_stdout && (cfg->json || cfg->batch))
		return fail(err, "--no-stdout writes nothing to standard output: it excludes %s",
			    cfg->json ? "--json" : "--batch");
	if (cfg->no_stdout && !cfg->json_file && !cfg->prom_listen)
		return fail(err, "--no-stdout leaves nothing to show: add --prometheus or "
				 "--json-file");
	if (cfg->no_stdout && shaping)
		return fail(err,
			    "%s shapes the tables of -b and the live view, and --no-stdout shows "
			    "none",
			    shaping);
	if (cfg->prom_flows && !cfg->prom_listen)
		return fail(err, "--prometheus-flows needs --prometheus");
	if (cfg->prom_pids && !cfg->prom_listen)
		return fail(err, "--prometheus-pids needs --prometheus");
	if (cfg->web_config && !cfg->prom_listen)
		return fail(err, "--web-config configures the --prometheus endpoint: it needs "
				 "--prometheus");
	if (max_names_given && (!cfg->prom_listen || cfg->prom_pids))
		return fail(err, "--prometheus-max-names bounds the series by name: it needs "
				 "--prometheus, without --prometheus-pids");
	/* the audit compares every TCP socket with the kernel: a filter would leave out bytes
	 * that the kernel counts */
	if (cfg->kernel.audit && (cfg->kernel.npids || cfg->ncgroups || families ||
				  protos == FA_WANT_UDP || cfg->ifname))
		return fail(err, "--audit checks every TCP socket: it cannot be combined with "
				 "--pid, --cgroup, -4, -6, --udp or -i");

	cfg->kernel.want = (families ? families : FA_WANT_IPV4 | FA_WANT_IPV6) |
			   (protos ? protos : FA_WANT_TCP | FA_WANT_UDP);
	return FA_CLI_RUN;
}
