// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * flowacct: per-process network flow accounting. Parses the command line, checks
 * privileges, attaches a backend, then runs the interval loop: sample, hand the snapshot
 * to every output, wait for the next deadline, a key or a signal.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <linux/capability.h>
#include <malloc.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "audit.h"
#include "backend.h"
#include "cli.h"
#include "collector.h"
#include "format.h"
#include "log.h"
#include "output.h"
#include "privs.h"
#include "sandbox.h"
#include "tui.h"
#include "util.h"
#include "webconfig.h"

#define MAX_OUTPUTS 4

static volatile sig_atomic_t exiting;

static void on_signal(int sig)
{
	(void)sig;
	exiting = 1;
}

/* Names what is missing, or returns true. CAP_BPF and CAP_PERFMON date from Linux 5.8. */
static bool have_privileges(bool packets)
{
	bool admin = fa_cap_effective(CAP_SYS_ADMIN);

	if (!admin && !(fa_cap_effective(CAP_BPF) && fa_cap_effective(CAP_PERFMON))) {
		fa_log("needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN)%s: run as root",
		       packets ? ", and CAP_NET_RAW for --packets" : "");
		return false;
	}
	if (packets && !fa_cap_effective(CAP_NET_RAW)) {
		fa_log("--packets needs CAP_NET_RAW (an AF_PACKET socket): run as root");
		return false;
	}
	return true;
}

struct app {
	struct fa_config cfg;
	struct fa_audit_result audit; /* --audit: the last check */
	size_t audit_exact, audit_mismatches; /* socket checks, over the run */
	struct fa_bpf bpf;
	struct fa_pktring *ring;
	struct fa_collector *collector;
	struct fa_tui *tui;
	struct fa_output *outputs[MAX_OUTPUTS];
	bool failing[MAX_OUTPUTS];
	int noutputs;
	bool has_stdout; /* outputs[0] writes standard output: its failure ends the run */
	bool reader_gone; /* stdout's reader went away (| head): the run ends, quietly */
	double nominal_s; /* the current interval's length as asked for; 0: cut short */
	struct fa_webconfig web; /* --web-config, read before set-up, until the endpoint runs */
	/* -p: a pidfd per watched process, readable once it has exited, then closed (-1).
	 * The run ends when every one has: the kernel filters by number, which the next
	 * process to get it would inherit. */
	int pidfds[FA_MAX_PIDS];
	int pids_alive; /* 0: not watching (no -p, or a PID that cannot be watched) */
	bool watched_exited; /* every one has: the live view shows its last interval */
};

static void audit_say_mismatches(const struct fa_audit_result *r)
{
	for (size_t i = 0; i < r->mismatched && i < FA_AUDIT_MAX_MISMATCHES; i++) {
		const struct fa_audit_mismatch *m = &r->mismatch[i];
		char l[FA_FMT_ENDPOINT_LEN], rem[FA_FMT_ENDPOINT_LEN];

		fa_log("audit: MISMATCH tcp %s -> %s: flowacct rx %llu tx %llu, the kernel: read "
		       "%llu written %llu",
		       fa_fmt_endpoint(l, sizeof(l), m->tuple.family, m->tuple.laddr,
				       m->tuple.lport),
		       fa_fmt_endpoint(rem, sizeof(rem), m->tuple.family, m->tuple.raddr,
				       m->tuple.rport),
		       (unsigned long long)m->counted_rx, (unsigned long long)m->counted_tx,
		       (unsigned long long)m->read, (unsigned long long)m->written);
	}
	if (r->mismatched > FA_AUDIT_MAX_MISMATCHES)
		fa_log("audit: and %zu more mismatched sockets",
		       r->mismatched - FA_AUDIT_MAX_MISMATCHES);
}

static void audit_say_summary(const struct app *app)
{
	const struct fa_audit_result *r = &app->audit;

	fa_log("audit: last check: %zu TCP sockets watched from their start: %zu exact, %zu "
	       "mismatched, %zu busy (moved while read), %zu not judged; over the run: %zu "
	       "exact, %zu mismatched",
	       r->watched, r->exact, r->mismatched, r->busy, r->unjudged, app->audit_exact,
	       app->audit_mismatches);
}

/* --audit, after an interval's outputs; the live view's terminal is spoken to at exit */
static int app_audit(struct app *app)
{
	struct fa_err why = {};
	int err = fa_audit_run(app->bpf.audit_fd, &app->audit, &why);

	if (err) {
		fa_log("%s", why.msg);
		return err;
	}
	app->audit_exact += app->audit.exact;
	app->audit_mismatches += app->audit.mismatched;
	if (!app->tui)
		audit_say_mismatches(&app->audit);
	return 0;
}

/* One interval: sample, then every output gets the snapshot. */
static int app_tick(struct app *app, bool final)
{
	struct fa_snapshot snap;
	int err;

	if (app->tui)
		fa_tui_release(app->tui);
	err = fa_collector_sample(app->collector, final, &snap);

	if (err) {
		fa_log("reading the kernel's counters failed: %s", strerror(-err));
		return err;
	}
	snap.nominal_s = app->nominal_s;
	snap.watched_exited = app->watched_exited;
	for (int i = 0; i < app->noutputs; i++) {
		int e = app->outputs[i]->emit(app->outputs[i], &snap);

		/* stdout failing (a closed pipe) ends the run; a file or endpoint failing
		 * (a full disk) is said once per failure streak, and counting goes on */
		if (e == -EPIPE && i == 0 && app->has_stdout) {
			app->reader_gone = true; /* as `yes | head` ends: not a failure */
			err = e;
		} else if (e && i == 0 && app->has_stdout) {
			fa_log("%s output failed: %s", app->outputs[i]->name, strerror(-e));
			err = e;
		} else if (e && !app->failing[i]) {
			fa_log("%s output failed: %s (counting goes on; will retry every interval)",
			       app->outputs[i]->name,
			       app->outputs[i]->why ? app->outputs[i]->why : strerror(-e));
		} else if (!e && app->failing[i]) {
			fa_log("%s output works again", app->outputs[i]->name);
		}
		app->failing[i] = e != 0;
	}
	if (app->tui) /* last: it keeps the snapshot */
		fa_tui_update(app->tui, &snap);
	fa_snapshot_free(&snap);
	if (!err && app->cfg.kernel.audit)
		err = app_audit(app);
	return err;
}

/* What the kernel side counts, when it is not everything: the live view's settings line
 * says it ("pid 4711  tcp  ipv4  -i eth0  cgroup /system.slice/x.service"). */
static void selection_text(const struct fa_config *cfg, char *buf, size_t len)
{
	const __u8 want = cfg->kernel.want;
	size_t n = 0;

	buf[0] = '\0';
	for (int i = 0; i < (int)cfg->kernel.npids && n + 16 < len; i++)
		n += snprintf(buf + n, len - n, "%s%u", i ? "," : "pid ", cfg->pids[i]);
	if ((want & (FA_WANT_TCP | FA_WANT_UDP)) != (FA_WANT_TCP | FA_WANT_UDP) && n < len)
		n += snprintf(buf + n, len - n, "%s%s", n ? "  " : "",
			      want & FA_WANT_TCP ? "tcp" : "udp");
	if ((want & (FA_WANT_IPV4 | FA_WANT_IPV6)) != (FA_WANT_IPV4 | FA_WANT_IPV6) && n < len)
		n += snprintf(buf + n, len - n, "%s%s", n ? "  " : "",
			      want & FA_WANT_IPV4 ? "ipv4" : "ipv6");
	if (cfg->ifname && n < len)
		n += snprintf(buf + n, len - n, "%s-i %s", n ? "  " : "", cfg->ifname);
	for (int i = 0; i < cfg->ncgroups && n < len; i++)
		n += snprintf(buf + n, len - n, "%scgroup %s", n ? "  " : "", cfg->cgroups[i]);
}

static int app_open_outputs(struct app *app)
{
	struct fa_config *cfg = &app->cfg;
	struct fa_err why = {};
	struct fa_output *o = NULL;
	const struct fa_text_opts text = { .view = cfg->view,
					   .rows = cfg->rows,
					   .bits = cfg->bits };

	if (cfg->no_stdout) {
		/* a service: only the file or the endpoint */
	} else if (cfg->json) {
		o = fa_json_open(stdout);
	} else if (cfg->batch || !isatty(STDOUT_FILENO)) {
		o = fa_text_open(stdout, &text);
	} else {
		struct fa_tui_opts topts = { .view = cfg->view,
					     .rows = cfg->rows,
					     .interval_s = cfg->interval_s,
					     .bits = cfg->bits,
					     .linger_s = cfg->linger_s };

		selection_text(cfg, topts.selection, sizeof(topts.selection));

		if (fa_tui_open(&topts, &app->tui, &why)) {
			/* plain tables still work on any terminal */
			fa_log("%s; falling back to plain-text output (-b)", why.msg);
			o = fa_text_open(stdout, &text);
		}
	}
	if (!cfg->no_stdout && !app->tui && !o) {
		fa_log("out of memory");
		return -ENOMEM;
	}
	if (o)
		app->outputs[app->noutputs++] = o;
	app->has_stdout = o != NULL;
	if (cfg->json_file) {
		if (fa_jsonfile_open(cfg->json_file, &o, &why)) {
			fa_log("--json-file %s: %s", cfg->json_file, why.msg);
			return -EINVAL;
		}
		app->outputs[app->noutputs++] = o;
	}
	if (cfg->prom_listen) {
		const struct fa_prom_opts prom = { .flows = cfg->prom_flows,
						   .pids = cfg->prom_pids,
						   .max_names = cfg->prom_max_names };

		if (fa_prom_open(cfg->prom_listen, &prom, cfg->web_config ? &app->web : NULL, &o,
				 &why)) {
			fa_log("--prometheus %s: %s", cfg->prom_listen, why.msg);
			return -EINVAL;
		}
		app->outputs[app->noutputs++] = o;
		/* GnuTLS keeps its own copy: the key's text leaves flowacct's memory */
		fa_webconfig_free(&app->web);
	}
	return 0;
}

static int app_run(struct app *app)
{
	double interval = app->cfg.interval_s, next = fa_mono_now() + interval;
	bool counting = true; /* false once the live view shows the watched processes' end */
	long done = 0;
	sigset_t block, orig;
	struct pollfd pfd[1 + FA_MAX_PIDS]; /* the live view's keys, then the -p pidfds */
	int npfd = 1 + (app->pids_alive ? app->cfg.kernel.npids : 0);
	int err = 0;

	/* signals arrive only inside ppoll(), so none is missed between check and wait */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &orig);
	sigdelset(&orig, SIGINT);
	sigdelset(&orig, SIGTERM);
	sigdelset(&orig, SIGHUP);
	for (int i = 0; i < npfd; i++)
		pfd[i] = (struct pollfd){ .fd = i ? app->pidfds[i - 1] : -1, .events = POLLIN };
	if (app->tui)
		pfd[0].fd = fa_tui_fd(app->tui);
	app->nominal_s = interval;

	while (!exiting) {
		double left = next - fa_mono_now();
		struct timespec ts;

		if (left <= 0 && counting) {
			bool last = app->cfg.count && done + 1 >= app->cfg.count;

			err = app_tick(app, last);
			if (err || last)
				return err;
			done++;
			next += interval;
			if (next < fa_mono_now()) /* fell behind (suspend, slow output): restart */
				next = fa_mono_now() + interval;
			continue;
		}
		if (left < 0)
			left = 0;
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - ts.tv_sec) * 1e9);
		if (ppoll(pfd, npfd, counting ? &ts : NULL, &orig) <= 0)
			continue;
		for (int i = 1; i < npfd; i++) {
			if (pfd[i].fd < 0 || !pfd[i].revents)
				continue;
			close(pfd[i].fd);
			app->pidfds[i - 1] = pfd[i].fd = -1;
			if (--app->pids_alive)
				continue;
			/* Their last bytes are counted: the final interval has them. Nothing is
			 * counted after it, since the kernel filters by number, which the next
			 * process to get one would inherit. Tables and JSON end there; the live
			 * view stays on that interval, as top -p stays, until q. */
			app->watched_exited = true;
			app->nominal_s = 0;
			if (!app->tui) {
				fa_log("every watched process has exited");
				exiting = 1;
				break;
			}
			err = app_tick(app, true);
			if (err)
				return err;
			counting = false;
		}
		if (pfd[0].revents && app->tui) {
			switch (fa_tui_input(app->tui)) {
			case FA_TUI_QUIT:
				exiting = 1;
				break;
			case FA_TUI_INTERVAL:
				next += fa_tui_interval(app->tui) - interval;
				interval = fa_tui_interval(app->tui);
				fa_collector_set_interval(app->collector, interval);
				break;
			case FA_TUI_NONE:
				break;
			}
		}
	}
	if (!counting)
		return 0; /* the last interval was shown */
	/* interrupted: one last interval covering the time since the previous one */
	app->nominal_s = 0;
	return app_tick(app, true);
}

/* --cgroup: each path, under the cgroup v2 root unless it is already a path into it,
 * opened for the kernel side's filter. false if all opened; else said why. */
static bool is_dir(const char *path)
{
	struct stat st;

	errno = 0;
	return !stat(path, &st) && S_ISDIR(st.st_mode);
}

static bool open_cgroups(struct fa_config *cfg)
{
	char root[4096], path[8192];

	if (!cfg->ncgroups)
		return false;
	if (fa_cgroup2_path(root, sizeof(root))) {
		fa_log("--cgroup: no cgroup v2 hierarchy is mounted (mount -t cgroup2 none "
		       "/sys/fs/cgroup)");
		return true;
	}
	for (int i = 0; i < cfg->ncgroups; i++) {
		const char *p = cfg->cgroups[i];
		size_t n = strlen(root);

		if (!strncmp(p, root, n) && (p[n] == '/' || !p[n]))
			snprintf(path, sizeof(path), "%s", p);
		else
			snprintf(path, sizeof(path), "%s/%s", root, p + (*p == '/'));
		cfg->cgroup_fds[i] = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cfg->cgroup_fds[i] < 0) {
			char esc[1024];

			fa_log("--cgroup %s: no such cgroup under %s (%s)",
			       fa_escape(esc, sizeof(esc), p, strlen(p)), root, strerror(errno));
			return true;
		}
	}
	cfg->kernel.cgroup_fds = cfg->cgroup_fds;
	cfg->kernel.ncgroup_fds = cfg->ncgroups;
	return false;
}

/* --web-config: the file, and the certificate and key it names, read and checked now,
 * while flowacct can still read what only root may (the drop comes after loading). */
static bool load_web_config(const char *path, struct fa_webconfig *web)
{
	struct fa_err why = {};
	char esc[512];

	if (fa_webconfig_load(path, web, &why))
		goto fail;
	if (fa_prom_web_check(web, &why)) {
		fa_webconfig_free(web);
		goto fail;
	}
	return true;
fail:
	fa_log("--web-config %s: %s", fa_escape(esc, sizeof(esc), path, strlen(path)), why.msg);
	return false;
}

/*
 * -p: each PID as the kernel filters it, a thread's id replaced by its process's (the
 * kernel's filter compares thread group ids: a thread's own would match nothing), once
 * each, and a pidfd of each to learn when it exits. false if one does not exist (said).
 */
static bool watch_pids(struct app *app)
{
	struct fa_config *cfg = &app->cfg;
	int n = 0;

	for (int i = 0; i < cfg->kernel.npids; i++) {
		__u32 id = cfg->pids[i], pid = id;
		int err = fa_pid_tgid(id, &pid), fd;
		bool dup = false;

		if (err == -ENOENT) {
			fa_log("no process with PID %u", id);
			return false;
		}
		if (pid != id)
			fa_info("-p %u is a thread of process %u: watching the process", id, pid);
		for (int j = 0; j < n; j++)
			dup |= cfg->pids[j] == pid;
		if (dup)
			continue;
		fd = pidfd_open(pid, 0);
		if (fd < 0 && errno == ESRCH) { /* gone since /proc was read */
			fa_log("no process with PID %u", id);
			return false;
		}
		cfg->pids[n] = pid;
		app->pidfds[n++] = fd;
		/* a kernel before 5.3 (ENOSYS): filtered, but not watched */
		app->pids_alive += fd >= 0;
	}
	cfg->kernel.npids = n;
	if (app->pids_alive < n)
		app->pids_alive = 0;
	return true;
}

/* -i: the interface's index in flowacct's own network namespace, and that namespace (an
 * index names nothing in another). false if there is none of that name (said). */
static bool iface_resolve(struct fa_config *cfg)
{
	struct stat ns;
	char esc[256];

	cfg->kernel.ifindex = if_nametoindex(cfg->ifname);
	if (!cfg->kernel.ifindex) {
		fa_log("-i %s: no such interface (ip link lists them)",
		       fa_escape(esc, sizeof(esc), cfg->ifname, strlen(cfg->ifname)));
		return false;
	}
	if (stat("/proc/self/ns/net", &ns)) {
		fa_log("-i: cannot read flowacct's network namespace (/proc/self/ns/net: %s)",
		       strerror(errno));
		return false;
	}
	cfg->kernel.ifindex_netns = ns.st_ino;
	return true;
}

/* --probe-backends: one line per backend, in the order --backend auto tries them. */
static int probe_backends(void)
{
	for (enum fa_backend b = FA_BACKEND_FENTRY; b < FA_BACKEND_MAX; b++) {
		struct fa_err why = {};

		if (fa_backend_probe(b, &why))
			printf("%s no %s\n", fa_backend_names[b], why.msg);
		else
			printf("%s yes\n", fa_backend_names[b]);
	}
	return fflush(stdout) ? FA_EXIT_FAILURE : FA_EXIT_OK;
}

int main(int argc, char **argv)
{
	struct app app = {};
	struct sigaction sa = { .sa_handler = on_signal };
	struct fa_err why = {};
	struct fa_user user = {};
	int rc = FA_EXIT_FAILURE;

	/* A snapshot's arrays (20 MB at 100k flows) are made and freed every interval. Mapped
	 * and unmapped whole, they leave nothing resident between intervals and memory comes
	 * back when the flows end; glibc's adaptive threshold would keep them in the heap. */
	mallopt(M_MMAP_THRESHOLD, 1 << 20);

	switch (fa_cli_parse(argc, argv, &app.cfg, stdout, &why)) {
	case FA_CLI_DONE:
		return FA_EXIT_OK;
	case FA_CLI_ERROR:
		fa_log("%s", why.msg);
		fa_log_raw("Usage: flowacct [options] [interval [count]]  (flowacct --help lists "
			   "the options)");
		return FA_EXIT_USAGE;
	case FA_CLI_RUN:
		break;
	}
	fa_verbose = app.cfg.verbose;
	fa_quiet = app.cfg.quiet;
	libbpf_set_print(fa_log_libbpf);

	if (!have_privileges(app.cfg.packets))
		return FA_EXIT_FAILURE;
	if (app.cfg.packets && app.cfg.ring.ifname && !if_nametoindex(app.cfg.ring.ifname)) {
		char esc[256];

		fa_log("--packets=%s: no such interface (ip link lists them)",
		       fa_escape(esc, sizeof(esc), app.cfg.ring.ifname,
				 strlen(app.cfg.ring.ifname)));
		return FA_EXIT_USAGE;
	}
	if (app.cfg.ifname && !iface_resolve(&app.cfg))
		return FA_EXIT_USAGE;
	if (app.cfg.user && fa_user_lookup(app.cfg.user, &user, &why)) {
		fa_log("%s", why.msg);
		return FA_EXIT_USAGE;
	}
	if (app.cfg.probe_backends)
		return probe_backends();
	if (open_cgroups(&app.cfg))
		return FA_EXIT_USAGE;
	if (app.cfg.host_root && !is_dir(app.cfg.host_root)) {
		char esc[1024];

		fa_log("--host-root %s: %s; give the directory where the host's / is mounted",
		       fa_escape(esc, sizeof(esc), app.cfg.host_root, strlen(app.cfg.host_root)),
		       strerror(errno ? errno : ENOTDIR));
		return FA_EXIT_USAGE;
	}
	if (app.cfg.web_config && !load_web_config(app.cfg.web_config, &app.web))
		return FA_EXIT_USAGE;
	if (!watch_pids(&app))
		return FA_EXIT_USAGE;

	if (app.cfg.kernel.audit && fa_audit_probe(&why)) {
		fa_log("%s", why.msg);
		return FA_EXIT_FAILURE;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* the terminal hung up (or a hangup was sent): end as on SIGTERM, the
	 * terminal restored and the last interval written */
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (fa_backend_open(&app.cfg.kernel, &app.bpf, &why)) {
		fa_log("%s", why.msg);
		goto cleanup;
	}
	if (app.cfg.packets && fa_pktring_start(&app.cfg.ring, &app.ring, &why)) {
		fa_log("--packets: %s", why.msg);
		goto cleanup;
	}
	app.collector =
		fa_collector_new(&app.bpf, app.ring,
				 &(struct fa_collector_opts){ .host_root = app.cfg.host_root,
							      .interval_s = app.cfg.interval_s,
							      .linger_s = app.cfg.linger_s });
	if (!app.collector) {
		fa_log("out of memory");
		goto cleanup;
	}
	/* Everything privileged is done: the programs are attached, the ring is open. What
	 * runs from here on (outputs, parsers of other processes' names and packets) keeps
	 * CAP_BPF for the maps alone, and CAP_NET_BIND_SERVICE until the metrics port is
	 * bound (a port below 1024). */
	if (fa_privs_drop(&user,
			  (1ULL << CAP_BPF) |
				  (app.cfg.prom_listen ? 1ULL << CAP_NET_BIND_SERVICE : 0),
			  &why)) {
		fa_log("%s", why.msg);
		goto cleanup;
	}
	if (app_open_outputs(&app))
		goto cleanup;
	if (app.cfg.prom_listen && fa_caps_keep(1ULL << CAP_BPF)) {
		fa_log("dropping CAP_NET_BIND_SERVICE failed (%s)", strerror(errno));
		goto cleanup;
	}
	/* From here on flowacct only reads maps and files and writes its outputs: the
	 * filter lets it do no more. */
	if (!app.cfg.no_seccomp &&
	    fa_sandbox_apply(
		    &(struct fa_sandbox_needs){ .tui = app.tui != NULL,
						.prometheus = app.cfg.prom_listen,
						.json_file = app.cfg.json_file,
						.packets = app.cfg.packets,
						.audit = app.cfg.kernel.audit,
						.strict = getenv("FLOWACCT_SECCOMP_STRICT") },
		    &why)) {
		fa_log("%s", why.msg);
		goto cleanup;
	}
	rc = app_run(&app) && !app.reader_gone ? FA_EXIT_FAILURE : FA_EXIT_OK;

cleanup:
	fa_tui_close(app.tui);
	if (app.tui && app.watched_exited) /* said on the terminal, once it is back */
		fa_log("every watched process has exited");
	if (app.cfg.kernel.audit && app.collector) {
		if (app.tui)
			audit_say_mismatches(&app.audit);
		audit_say_summary(&app);
		if (rc == FA_EXIT_OK && app.audit_mismatches)
			rc = FA_EXIT_AUDIT;
	}
	for (int i = 0; i < app.noutputs; i++)
		app.outputs[i]->close(app.outputs[i]);
	fa_collector_free(app.collector);
	if (app.ring)
		fa_pktring_stop(app.ring);
	fa_backend_close(&app.bpf);
	fa_webconfig_free(&app.web);
	return rc;
}
