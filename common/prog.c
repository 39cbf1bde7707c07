#include "prog.h"
#include "msg.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { LOG_EVERY = 5 };	/* seconds between the lines of --progress on a log */

struct prog {
	char unit[32];
	long total, done;
	double share;		/* < 0: not given */
	double start, last;
	int tty;		/* draw on the status line; else lines for a log */
	int drawn;
	char dir[256];		/* where the stages' figures are, "" when not shared */
	char prefix[64];	/* their names in it: "PGID." */
	char mine[384];		/* this process's file */
	int lock;		/* the group's lock, held while this one draws; -1 */
	int owner;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A directory of our own for the figures: made 0700, and refused when it is
 * someone else's or not a directory (another user could read or plant
 * files there). */
static int shared_dir(prog *p)
{
	const char *run = getenv("XDG_RUNTIME_DIR");
	struct stat st;

	if (run && run[0] == '/')
		snprintf(p->dir, sizeof p->dir, "%s/ragpipe", run);
	else
		snprintf(p->dir, sizeof p->dir, "/tmp/ragpipe-%u", (unsigned)getuid());
	if (mkdir(p->dir, 0700) < 0 && errno != EEXIST)
		return -1;
	if (lstat(p->dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid() || (st.st_mode & 077))
		return -1;
	return 0;
}

static void setup_shared(prog *p)
{
	char path[384];

	p->lock = -1;
	if (shared_dir(p) < 0) {
		p->dir[0] = '\0';
		return;
	}
	snprintf(p->prefix, sizeof p->prefix, "%ld.", (long)getpgrp());
	snprintf(p->mine, sizeof p->mine, "%s/%s%ld", p->dir, p->prefix, (long)getpid());
	snprintf(path, sizeof path, "%s/%slock", p->dir, p->prefix);
	p->lock = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (p->lock < 0)
		p->dir[0] = '\0';
}

prog *prog_new(const char *unit, long total)
{
	prog *p;
	int tty = isatty(STDERR_FILENO);

	if (msg_verbosity < 1 || (!tty && !msg_progress))
		return NULL;
	p = calloc(1, sizeof *p);
	if (p == NULL)
		return NULL;
	snprintf(p->unit, sizeof p->unit, "%s", unit);
	p->total = total;
	p->share = -1;
	p->tty = tty;
	p->start = p->last = now();
	p->lock = -1;
	if (tty)
		setup_shared(p);
	return p;
}

void prog_total(prog *p, long total)
{
	if (p)
		p->total = total;
}

void prog_share(prog *p, double share)
{
	if (p)
		p->share = share < 0 ? 0 : share > 1 ? 1 : share;
}

/* "rag-index: 1100/3490 chunks 31% (380.2/s, 6 s left) extra" */
static void describe(const prog *p, double t, const char *extra, char *out, size_t outlen)
{
	double rate = t > p->start ? (double)p->done / (t - p->start) : 0;
	double share = p->share >= 0 ? p->share : p->total > 0 ? (double)p->done / (double)p->total : -1;
	char count[64], pct[16] = "", eta[32] = "";

	if (p->total > 0)
		snprintf(count, sizeof count, "%ld/%ld", p->done, p->total);
	else
		snprintf(count, sizeof count, "%ld", p->done);
	if (share >= 0 && share <= 1) {
		snprintf(pct, sizeof pct, " %.0f%%", share * 100);
		if (share > 0.001 && t > p->start)
			snprintf(eta, sizeof eta, ", %.0f s left", (t - p->start) * (1 - share) / share);
	}
	snprintf(out, outlen, "%s: %s %s%s (%.1f/s%s)%s%s", msg_progname, count, p->unit, pct, rate, eta,
		 extra ? " " : "", extra ? extra : "");
}

static void write_mine(const prog *p, const char *line)
{
	char tmp[400];
	FILE *f;

	snprintf(tmp, sizeof tmp, "%s.tmp", p->mine);
	f = fopen(tmp, "w");
	if (f == NULL)
		return;
	fputs(line, f);
	if (fclose(f) != 0 || rename(tmp, p->mine) < 0)
		unlink(tmp);
}

struct stage {
	long pid;
	char line[256];
};

static int cmp_stage(const void *a, const void *b)
{
	const struct stage *x = a, *y = b;

	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* The figures of every live stage of the group, in pid order, joined. */
static void gather(const prog *p, char *out, size_t outlen)
{
	struct stage st[16];
	size_t n = 0, i, len = 0, plen = strlen(p->prefix);
	DIR *d = opendir(p->dir);
	struct dirent *e;

	out[0] = '\0';
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL && n < sizeof st / sizeof st[0]) {
		char *end, path[640];
		long pid;
		FILE *f;

		if (strncmp(e->d_name, p->prefix, plen) != 0)
			continue;
		pid = strtol(e->d_name + plen, &end, 10);
		if (end == e->d_name + plen || *end != '\0' || pid <= 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", p->dir, e->d_name);
		if (kill((pid_t)pid, 0) < 0 && errno == ESRCH) {
			unlink(path);	/* a stage that died without tidying up */
			continue;
		}
		f = fopen(path, "r");
		if (f == NULL)
			continue;
		if (fgets(st[n].line, sizeof st[n].line, f)) {
			st[n].pid = pid;
			n++;
		}
		fclose(f);
	}
	closedir(d);
	qsort(st, n, sizeof *st, cmp_stage);
	for (i = 0; i < n && len + 4 < outlen; i++)
		len += (size_t)snprintf(out + len, outlen - len, "%s%s", i ? " | " : "", st[i].line);
}

static int term_width(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10)
		return ws.ws_col;
	return 80;
}

void prog_update(prog *p, long done, const char *extra)
{
	char line[256], all[2048];
	double t;
	int width;

	if (p == NULL)
		return;
	p->done = done;
	t = now();
	if (t - p->last < (p->tty ? 0.2 : LOG_EVERY))
		return;
	p->last = t;
	describe(p, t, extra, line, sizeof line);
	if (!p->tty) {
		fprintf(stderr, "%s\n", line);
		fflush(stderr);
		return;
	}
	if (p->dir[0]) {
		write_mine(p, line);
		if (!p->owner && flock(p->lock, LOCK_EX | LOCK_NB) == 0)
			p->owner = 1;
		if (!p->owner)
			return;
		gather(p, all, sizeof all);
		if (all[0] == '\0')
			snprintf(all, sizeof all, "%s", line);
	} else {
		snprintf(all, sizeof all, "%s", line);
	}
	width = term_width() - 1;
	fprintf(stderr, "\r\033[K%.*s", width, all);
	fflush(stderr);
	p->drawn = 1;
}

void prog_free(prog *p)
{
	if (p == NULL)
		return;
	if (p->drawn) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	if (p->dir[0])
		unlink(p->mine);
	if (p->lock >= 0)
		close(p->lock);	/* and with it the status line, to the next stage */
	free(p);
}

void prog_end(prog *p, const char *summary)
{
	double took;

	if (p == NULL)
		return;
	took = now() - p->start;
	prog_free(p);
	if (summary && (msg_progress || took >= 2))
		msg_note("%s in %.1f s", summary, took);
}
