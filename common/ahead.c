#include "ahead.h"
#include "sig.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct slot {
	ahead_line l;
	char *buf;	/* the line, taken from the reader with its buffer */
	size_t cap;
	char error[1200];
};

/* Lines are read ahead while they hold less than this, so that a run of
 * huge lines is not held AHEAD_LINES at a time; a buffer above BIG_BUFFER
 * is given back once its line is done. */
enum { AHEAD_BYTES = 16 << 20, BIG_BUFFER = 1 << 20 };

struct ahead {
	char *const *paths;
	int npaths, next_path;
	FILE *in;
	jl_reader *jr;
	int ended;		/* reading side: nothing more will be read */
	const ahead_fns *fns;
	void *ctx;

	struct slot slot[AHEAD_LINES];
	int threaded, started;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t filled, freed;
	/* slots head .. head+count-1 are filled; the caller holds head while
	 * held is set */
	int head, count, held;
	size_t bytes;		/* in the lines of those slots */
	int done;		/* the thread has filled its last slot */
	int stop;		/* the caller wants no more */
	int exited;		/* the thread is past its last use of the input */
};

static void close_input(ahead *a)
{
	jl_reader_free(a->jr);
	a->jr = NULL;
	if (a->in && a->in != stdin)
		fclose(a->in);
	a->in = NULL;
}

/* "where: why" ends the input at this slot */
static void set_error(struct slot *s, const char *where, const char *why)
{
	snprintf(s->error, sizeof s->error, "%s: %s", where, why);
	s->l.error = s->error;
	s->l.line = "";
	s->l.len = 0;
}

/* Read the next non-blank line into s: 1, or 0 at the end of all input. A
 * line that ends the input (unreadable file, bad or failed read) comes with
 * its error set. */
static int fill(ahead *a, struct slot *s)
{
	const char *line;
	size_t len;
	enum jl_status st;
	int e;

	s->l.error = NULL;
	for (;;) {
		if (a->ended)
			return 0;
		if (a->jr == NULL) {
			const char *path;

			if (a->next_path >= (a->npaths ? a->npaths : 1)) {
				a->ended = 1;
				return 0;
			}
			path = a->npaths ? a->paths[a->next_path] : "-";
			a->next_path++;
			a->in = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
			if (a->in == NULL) {
				set_error(s, path, strerror(errno));
				a->ended = 1;
				return 1;
			}
			a->jr = jl_reader_new(a->in, a->in == stdin ? "stdin" : path);
			if (a->jr == NULL) {
				set_error(s, path, "out of memory");
				close_input(a);
				a->ended = 1;
				return 1;
			}
		}
		st = jl_read_line(a->jr, &line, &len);
		e = errno;
		if (st == JL_EOF) {
			close_input(a);
			continue;
		}
		snprintf(s->l.where, sizeof s->l.where, "%s: line %ld", jl_name(a->jr), jl_lineno(a->jr));
		if (st != JL_OK) {
			set_error(s, s->l.where, st == JL_IOERR ? strerror(e) : jl_reason(a->jr));
			a->ended = 1;
			return 1;
		}
		if (strspn(line, " \t") == len)
			continue;
		jl_take_line(a->jr, &s->buf, &s->cap);
		s->l.line = s->buf;
		s->l.len = len;
		/* a caller that stopped while this line was being read may be
		 * past the state prepare uses */
		if (__atomic_load_n(&a->stop, __ATOMIC_ACQUIRE))
			return 0;
		a->fns->prepare(a->ctx, &s->l, a->jr);
		return 1;
	}
}

static void *reader(void *arg)
{
	ahead *a = arg;
	int tail, got;

	sig_reading_thread();
	pthread_mutex_lock(&a->mu);
	while (!a->done) {
		while ((a->count == AHEAD_LINES || (a->count > 0 && a->bytes >= AHEAD_BYTES)) && !a->stop)
			pthread_cond_wait(&a->freed, &a->mu);
		if (a->stop)
			break;
		/* the slot at the tail is the reader's until it is counted */
		tail = (a->head + a->count) % AHEAD_LINES;
		pthread_mutex_unlock(&a->mu);
		got = fill(a, &a->slot[tail]);
		pthread_mutex_lock(&a->mu);
		if (got) {
			a->count++;
			a->bytes += a->slot[tail].l.len;
		}
		if (!got || a->slot[tail].l.error)
			a->done = 1;
		pthread_cond_signal(&a->filled);
	}
	a->exited = 1;
	pthread_cond_signal(&a->filled);
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

ahead *ahead_new(char *const *paths, int npaths, int threaded, const ahead_fns *fns, void *ctx)
{
	ahead *a = calloc(1, sizeof *a);
	int i;

	if (a == NULL)
		return NULL;
	a->paths = paths;
	a->npaths = npaths;
	a->fns = fns;
	a->ctx = ctx;
	a->threaded = threaded;
	for (i = 0; i < (threaded ? AHEAD_LINES : 1); i++)
		if ((a->slot[i].l.prep = fns->prep_new(ctx)) == NULL) {
			ahead_free(a);
			return NULL;
		}
	if (threaded) {
		pthread_mutex_init(&a->mu, NULL);
		pthread_cond_init(&a->filled, NULL);
		pthread_cond_init(&a->freed, NULL);
		if (pthread_create(&a->thread, NULL, reader, a) != 0) {
			ahead_free(a);
			return NULL;
		}
		a->started = 1;
	}
	return a;
}

int ahead_next(ahead *a, ahead_line **out)
{
	int r;

	if (!a->threaded) {
		struct slot *s = &a->slot[0];

		if (s->l.error)
			return 0;
		if (s->cap > BIG_BUFFER) {
			free(s->buf);
			s->buf = NULL;
			s->cap = 0;
		}
		r = fill(a, s);
		*out = &a->slot[0].l;
		return r;
	}
	pthread_mutex_lock(&a->mu);
	if (a->held) {
		/* done with the line given last */
		struct slot *s = &a->slot[a->head];

		a->held = 0;
		a->bytes -= s->l.len;
		if (s->cap > BIG_BUFFER) {
			free(s->buf);
			s->buf = NULL;
			s->cap = 0;
		}
		a->head = (a->head + 1) % AHEAD_LINES;
		a->count--;
		pthread_cond_signal(&a->freed);
	}
	/* a caught signal may have been taken by a thread other than the
	 * reader, between two of its reads: look every 0.2 s */
	while (a->count == 0 && !a->done && !sig_caught()) {
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 200 * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&a->filled, &a->mu, &until);
	}
	r = a->count > 0;
	if (r) {
		a->held = 1;
		*out = &a->slot[a->head].l;
	}
	pthread_mutex_unlock(&a->mu);
	return r;
}

int ahead_free(ahead *a)
{
	int i;

	if (a == NULL)
		return 1;
	if (a->threaded && a->started) {
		struct timespec until;
		int exited;

		pthread_mutex_lock(&a->mu);
		__atomic_store_n(&a->stop, 1, __ATOMIC_RELEASE);
		pthread_cond_signal(&a->freed);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 200 * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		while (!a->exited && pthread_cond_timedwait(&a->filled, &a->mu, &until) == 0)
			;
		exited = a->exited;
		pthread_mutex_unlock(&a->mu);
		if (!exited) {
			/* blocked reading an input that neither ends nor goes on (a
			 * terminal, a stalled pipe): the caller is stopping, and the
			 * process's exit ends the thread; its memory stays with it */
			pthread_detach(a->thread);
			return 0;
		}
		pthread_join(a->thread, NULL);
	}
	if (a->threaded) {
		pthread_mutex_destroy(&a->mu);
		pthread_cond_destroy(&a->filled);
		pthread_cond_destroy(&a->freed);
	}
	close_input(a);
	for (i = 0; i < AHEAD_LINES; i++) {
		if (a->slot[i].l.prep)
			a->fns->prep_free(a->ctx, a->slot[i].l.prep);
		free(a->slot[i].buf);
	}
	free(a);
	return 1;
}
