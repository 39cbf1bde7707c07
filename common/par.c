#include "par.h"
#include "msg.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct slot {
	long job;
	pid_t pid;
	FILE *tmp;
	int finished, status;
};

static FILE *temp_file(void)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	int fd;
	FILE *f;

	snprintf(path, sizeof path, "%s/ragpipe.XXXXXX", dir && *dir ? dir : "/tmp");
	fd = mkstemp(path);
	if (fd < 0)
		return NULL;
	unlink(path);
	f = fdopen(fd, "w+");
	if (f == NULL)
		close(fd);
	return f;
}

static int copy_out(FILE *from, FILE *to)
{
	char buf[65536];
	size_t n;

	if (fflush(from) != 0 || fseek(from, 0, SEEK_SET) != 0)
		return -2;
	while ((n = fread(buf, 1, sizeof buf, from)) > 0)
		if (fwrite(buf, 1, n, to) != n)
			return -1;
	if (ferror(from))
		return -2;
	return fflush(to) == 0 ? 0 : -1;
}

static void stop_all(struct slot *s, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (s[i].pid > 0 && !s[i].finished) {
			kill(s[i].pid, SIGTERM);
			waitpid(s[i].pid, NULL, 0);
		}
		if (s[i].tmp)
			fclose(s[i].tmp);
	}
}

int par_run(int n, par_next_fn next, par_run_fn run, par_done_fn done, void *ctx, FILE *out)
{
	struct slot *s = calloc((size_t)n, sizeof *s);
	int running = 0, more = 1, i, r = 0;
	long job = 0;

	if (s == NULL) {
		msg_error("out of memory");
		return -2;
	}
	/* s[0..running) is the queue of jobs in order; the oldest is s[0] */
	for (;;) {
		while (more && running < n) {
			int got = next(ctx, job);
			struct slot *t = &s[running];

			if (got < 0) {
				more = 0;
				r = -2;
				break;
			}
			if (got == 0) {
				more = 0;
				break;
			}
			memset(t, 0, sizeof *t);
			t->job = job;
			t->tmp = temp_file();
			if (t->tmp == NULL) {
				msg_error("cannot create a temporary file: %s", strerror(errno));
				more = 0;
				r = -2;
				break;
			}
			fflush(out);
			fflush(stderr);
			t->pid = fork();
			if (t->pid < 0) {
				msg_error("cannot start a worker: %s", strerror(errno));
				fclose(t->tmp);
				t->tmp = NULL;
				more = 0;
				r = -2;
				break;
			}
			if (t->pid == 0) {
				FILE *tmp = t->tmp;
				int status;

				free(s);	/* the parent's bookkeeping */
				status = run(ctx, job, tmp);
				if (fflush(tmp) != 0) {
					msg_error("write error: %s", strerror(errno));
					status = 1;
				}
				_exit(status);
			}
			running++;
			job++;
		}
		if (running == 0)
			break;
		/* wait until the oldest job is finished, reaping others meanwhile */
		while (!s[0].finished) {
			int ws;
			pid_t pid = waitpid(-1, &ws, 0);

			if (pid < 0) {
				if (errno == EINTR)
					continue;
				msg_error("waitpid: %s", strerror(errno));
				stop_all(s, running);
				free(s);
				return -2;
			}
			for (i = 0; i < running; i++) {
				if (s[i].pid == pid) {
					s[i].finished = 1;
					s[i].status = WIFEXITED(ws) ? WEXITSTATUS(ws) : -WTERMSIG(ws);
				}
			}
		}
		{
			int c = copy_out(s[0].tmp, out);

			if (c < 0) {
				int saved = errno;

				stop_all(s, running);
				free(s);
				errno = saved;
				return c == -1 ? -1 : -2;
			}
		}
		fclose(s[0].tmp);
		done(ctx, s[0].job, s[0].status);
		memmove(s, s + 1, (size_t)(running - 1) * sizeof *s);
		running--;
	}
	free(s);
	return r;
}
