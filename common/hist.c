#include "hist.h"
#include "jl.h"
#include "sb.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static void turn_free(hist_turn *t)
{
	free(t->question);
	free(t->answer);
	t->question = t->answer = NULL;
}

/* Keep a turn (taking q and a), dropping the oldest when full. */
static void keep(hist *h, char *q, char *a)
{
	hist_turn *t;

	if (h->max <= 0) {
		free(q);
		free(a);
		return;
	}
	if (h->n == (size_t)h->max) {
		turn_free(&h->ring[h->start]);
		h->start = (h->start + 1) % (size_t)h->max;
		h->n--;
	}
	t = &h->ring[(h->start + h->n) % (size_t)h->max];
	t->question = q;
	t->answer = a;
	h->n++;
}

static const char *str_member(json_object *o, const char *name)
{
	json_object *v;

	if (json_object_object_get_ex(o, name, &v) && json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return NULL;
}

int hist_open(hist *h, const char *path, int max, char *err, size_t errlen)
{
	FILE *f;
	jl_reader *r;
	json_object *o;
	enum jl_status st;
	int rc = 0;

	memset(h, 0, sizeof *h);
	h->max = max > 0 ? max : 0;
	h->path = strdup(path);
	h->ring = calloc((size_t)(h->max ? h->max : 1), sizeof *h->ring);
	if (h->path == NULL || h->ring == NULL) {
		snprintf(err, errlen, "out of memory");
		hist_close(h);
		return -1;
	}
	f = fopen(path, "r");
	if (f == NULL) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		hist_close(h);
		return -1;
	}
	r = jl_reader_new(f, path);
	if (r == NULL) {
		fclose(f);
		snprintf(err, errlen, "out of memory");
		hist_close(h);
		return -1;
	}
	while ((st = jl_read(r, &o)) != JL_EOF) {
		const char *q, *a;
		char *qc, *ac;

		if (st == JL_IOERR) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno ? errno : EIO));
			rc = -1;
			break;
		}
		if (st == JL_BAD) {
			snprintf(err, errlen, "%s: line %ld: %s", path, jl_lineno(r), jl_reason(r));
			rc = -1;
			break;
		}
		q = str_member(o, "question");
		a = str_member(o, "answer");
		if (q == NULL || a == NULL) {
			snprintf(err, errlen, "%s: line %ld: not a turn (no \"question\" and \"answer\" strings)", path,
				 jl_lineno(r));
			json_object_put(o);
			rc = -1;
			break;
		}
		qc = strdup(q);
		ac = strdup(a);
		json_object_put(o);
		if (qc == NULL || ac == NULL) {
			free(qc);
			free(ac);
			snprintf(err, errlen, "out of memory");
			rc = -1;
			break;
		}
		keep(h, qc, ac);
	}
	jl_reader_free(r);
	fclose(f);
	if (rc < 0)
		hist_close(h);
	return rc;
}

void hist_close(hist *h)
{
	size_t i;

	for (i = 0; h->ring && i < h->n; i++)
		turn_free(&h->ring[(h->start + i) % (size_t)h->max]);
	free(h->ring);
	free(h->path);
	memset(h, 0, sizeof *h);
}

size_t hist_count(const hist *h)
{
	return h->n;
}

const hist_turn *hist_at(const hist *h, size_t i)
{
	return i < h->n ? &h->ring[(h->start + i) % (size_t)h->max] : NULL;
}

static int write_all(int fd, const char *s, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, s, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Write the old file's bytes and line to tmp, flushed to disk. */
static int write_new(int fd, const char *target, const sb *line, int *had_newline)
{
	char buf[65536];
	int in = open(target, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	char last = '\n';

	*had_newline = 1;
	if (in < 0 && errno != ENOENT)
		return -1;
	if (in >= 0) {
		while ((n = read(in, buf, sizeof buf)) != 0) {
			if (n < 0) {
				if (errno == EINTR)
					continue;
				close(in);
				return -1;
			}
			if (write_all(fd, buf, (size_t)n) < 0) {
				close(in);
				return -1;
			}
			last = buf[n - 1];
		}
		close(in);
	}
	/* a file whose last line lacks its end gets one, not a joined line */
	if (last != '\n') {
		*had_newline = 0;
		if (write_all(fd, "\n", 1) < 0)
			return -1;
	}
	if (write_all(fd, line->buf, line->len) < 0 || fsync(fd) < 0)
		return -1;
	return 0;
}

int hist_append(hist *h, const char *q, size_t qlen, const char *a, size_t alen, char *err, size_t errlen)
{
	sb line = SB_INIT;
	sigset_t block, old;
	char target[PATH_MAX], dir[PATH_MAX], tmp[PATH_MAX + 32];
	char *qc, *ac;
	struct stat st;
	int dfd = -1, fd = -1, rc = -1, saved = 0, had_newline;
	mode_t mode = 0666;

	if (sb_puts(&line, "{\"question\":") < 0 || jl_put_string(&line, q, qlen) < 0 || sb_puts(&line, ",\"answer\":") < 0
	    || jl_put_string(&line, a, alen) < 0 || sb_puts(&line, "}\n") < 0) {
		sb_free(&line);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* a link is followed: the file it names is the one replaced */
	if (realpath(h->path, target) == NULL) {
		if (errno != ENOENT || strlen(h->path) >= sizeof target) {
			snprintf(err, errlen, "%s: %s", h->path, strerror(errno == ENOENT ? ENAMETOOLONG : errno));
			sb_free(&line);
			return -1;
		}
		snprintf(target, sizeof target, "%s", h->path);
	}
	snprintf(dir, sizeof dir, "%s", target);
	snprintf(tmp, sizeof tmp, "%s.tmp.%ld", target, (long)getpid());
	if (stat(target, &st) == 0)
		mode = st.st_mode & 07777;

	/* from here on an interrupt waits until the file is whole again */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGQUIT);
	sigprocmask(SIG_BLOCK, &block, &old);

	dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || flock(dfd, LOCK_EX) < 0)
		goto fail;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0 || write_new(fd, target, &line, &had_newline) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, target) < 0)
		goto fail;
	fsync(dfd);
	rc = 0;
fail:
	if (rc < 0) {
		saved = errno;
		if (fd >= 0)
			close(fd);
		unlink(tmp);
		snprintf(err, errlen, "%s: cannot append to the history: %s", h->path, strerror(saved));
	}
	if (dfd >= 0)
		close(dfd);	/* and with it the lock */
	sigprocmask(SIG_SETMASK, &old, NULL);
	sb_free(&line);
	if (rc < 0)
		return -1;
	qc = strndup(q, qlen);
	ac = strndup(a, alen);
	if (qc == NULL || ac == NULL) {
		free(qc);
		free(ac);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	keep(h, qc, ac);
	return 0;
}
