#include "prog.h"
#include "msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct prog {
	char unit[32];
	long total;
	double start, last;
	int drawn;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

prog *prog_new(const char *unit, long total)
{
	prog *p;

	if (msg_verbosity < 1 || !isatty(STDERR_FILENO))
		return NULL;
	p = calloc(1, sizeof *p);
	if (p == NULL)
		return NULL;	/* progress is a nicety: do without */
	snprintf(p->unit, sizeof p->unit, "%s", unit);
	p->total = total;
	p->start = p->last = now();
	return p;
}

void prog_update(prog *p, long done, const char *extra)
{
	double t, rate;
	char eta[32] = "";

	if (p == NULL)
		return;
	t = now();
	if (t - p->last < 0.2)
		return;
	p->last = t;
	rate = t > p->start ? (double)done / (t - p->start) : 0;
	if (p->total > 0 && rate > 0 && done <= p->total)
		snprintf(eta, sizeof eta, ", %.0fs left", (double)(p->total - done) / rate);
	if (p->total > 0)
		fprintf(stderr, "\r\033[K%s: %ld/%ld %s (%.1f/s%s)%s%s", msg_progname, done, p->total,
			p->unit, rate, eta, extra ? " " : "", extra ? extra : "");
	else
		fprintf(stderr, "\r\033[K%s: %ld %s (%.1f/s)%s%s", msg_progname, done, p->unit, rate,
			extra ? " " : "", extra ? extra : "");
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
	free(p);
}
