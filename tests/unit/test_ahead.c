/* Unit tests of ahead, JSON lines read ahead in a second thread. */
#include "ahead.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What prepare leaves: the line's length and how many lines it had seen. */
struct seen {
	size_t len;
	long nth;
};

static void *prep_new(void *ctx)
{
	(void)ctx;
	return calloc(1, sizeof(struct seen));
}

static void prep_free(void *ctx, void *prep)
{
	(void)ctx;
	free(prep);
}

static void prepare(void *ctx, ahead_line *l, jl_reader *jr)
{
	long *count = ctx;
	struct seen *s = l->prep;

	(void)jr;
	s->len = strlen(l->line);
	s->nth = ++*count;
}

static const ahead_fns fns = { prep_new, prep_free, prepare };

static char *temp_file(const char *text)
{
	static char path[8][256];
	static int n;
	char *p = path[n++ % 8];
	FILE *f;

	snprintf(p, 256, "%s/ragpipe-ahead-test.%d.%d", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid(), n);
	f = fopen(p, "w");
	if (f == NULL)
		return NULL;
	fputs(text, f);
	fclose(f);
	return p;
}

static void blank_lines_left_out(int threaded)
{
	char *paths[2];
	ahead *a;
	ahead_line *l;
	long count = 0;

	paths[0] = temp_file("{\"a\":1}\n\n  \t\n{\"b\":2}\n");
	paths[1] = temp_file("{\"c\":3}");
	if (!CHECK(paths[0] && paths[1]))
		return;
	a = ahead_new(paths, 2, threaded, &fns, &count);
	if (!CHECK(a != NULL))
		return;
	if (CHECK_INT(ahead_next(a, &l), 1)) {
		CHECK_STR(l->line, "{\"a\":1}");
		CHECK(strstr(l->where, ": line 1") != NULL);
		CHECK(l->error == NULL);
		CHECK_INT(((struct seen *)l->prep)->len, 7);
	}
	if (CHECK_INT(ahead_next(a, &l), 1)) {
		CHECK_STR(l->line, "{\"b\":2}");
		CHECK(strstr(l->where, ": line 4") != NULL);
	}
	if (CHECK_INT(ahead_next(a, &l), 1)) {
		CHECK_STR(l->line, "{\"c\":3}");
		CHECK(strncmp(l->where, paths[1], strlen(paths[1])) == 0);
	}
	CHECK_INT(ahead_next(a, &l), 0);
	CHECK_INT(ahead_next(a, &l), 0);
	CHECK_INT(ahead_free(a), 1);
	CHECK_INT(count, 3);
	unlink(paths[0]);
	unlink(paths[1]);
}

TEST(blank_lines_left_out_inline)
{
	blank_lines_left_out(0);
}

TEST(blank_lines_left_out_threaded)
{
	blank_lines_left_out(1);
}

/* Far more lines than slots: every one comes, in order, with the prep that
 * prepare made of that very line. */
TEST(order_kept_through_the_ring)
{
	enum { N = 20000 };
	char *path;
	char name[256];
	FILE *f;
	ahead *a;
	ahead_line *l;
	long count = 0, i, bad = 0;

	snprintf(name, sizeof name, "%s/ragpipe-ahead-big.%d", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
		 (int)getpid());
	path = name;
	f = fopen(path, "w");
	if (!CHECK(f != NULL))
		return;
	for (i = 1; i <= N; i++)
		fprintf(f, "{\"n\":%ld,\"pad\":\"%.*s\"}\n", i, (int)(i % 50), "..................................................");
	fclose(f);
	a = ahead_new(&path, 1, 1, &fns, &count);
	if (!CHECK(a != NULL))
		return;
	for (i = 1; ahead_next(a, &l) > 0; i++) {
		char want[32];
		struct seen *s = l->prep;

		snprintf(want, sizeof want, "{\"n\":%ld,", i);
		if (strncmp(l->line, want, strlen(want)) != 0 || s->len != l->len || s->nth != i)
			bad++;
	}
	CHECK_INT(i - 1, N);
	CHECK_INT(bad, 0);
	CHECK_INT(ahead_free(a), 1);
	unlink(path);
}

/* A file that cannot be opened ends the input there, with its reason. */
TEST(missing_file_ends_the_input)
{
	char *paths[3];
	ahead *a;
	ahead_line *l;
	long count = 0;
	int threaded;

	for (threaded = 0; threaded <= 1; threaded++) {
		paths[0] = temp_file("{\"a\":1}\n");
		paths[1] = "/nonexistent/ragpipe-ahead.jsonl";
		paths[2] = temp_file("{\"c\":3}\n");
		a = ahead_new(paths, 3, threaded, &fns, &count);
		if (!CHECK(a != NULL))
			return;
		CHECK_INT(ahead_next(a, &l), 1);
		CHECK(l->error == NULL);
		if (CHECK_INT(ahead_next(a, &l), 1))
			CHECK_STR(l->error, "/nonexistent/ragpipe-ahead.jsonl: No such file or directory");
		CHECK_INT(ahead_next(a, &l), 0);
		CHECK_INT(ahead_free(a), 1);
		unlink(paths[0]);
		unlink(paths[2]);
	}
}

/* A line that is not UTF-8 ends the input, named. */
TEST(bad_utf8_ends_the_input)
{
	char *path = temp_file("{\"a\":1}\n{\"b\":\"\xff\"}\n{\"c\":3}\n");
	ahead *a;
	ahead_line *l;
	long count = 0;

	if (!CHECK(path != NULL))
		return;
	a = ahead_new(&path, 1, 1, &fns, &count);
	if (!CHECK(a != NULL))
		return;
	CHECK_INT(ahead_next(a, &l), 1);
	if (CHECK_INT(ahead_next(a, &l), 1)) {
		CHECK(l->error != NULL);
		CHECK(l->error && strstr(l->error, ": line 2: ") != NULL);
	}
	CHECK_INT(ahead_next(a, &l), 0);
	CHECK_INT(ahead_free(a), 1);
	unlink(path);
}

/* Stopping early: a thread waiting for room stops at once. */
TEST(free_before_the_end)
{
	enum { N = 1000 };
	int fds[2];
	FILE *w;
	ahead *a;
	ahead_line *l;
	long count = 0, i;
	char path[32];
	char *p = path;

	if (!CHECK(pipe(fds) == 0))
		return;
	w = fdopen(fds[1], "w");
	for (i = 0; i < N; i++)
		fprintf(w, "{\"n\":%ld}\n", i);
	fflush(w);	/* the pipe holds them all: the reader fills every slot */
	snprintf(path, sizeof path, "/dev/fd/%d", fds[0]);
	a = ahead_new(&p, 1, 1, &fns, &count);
	if (!CHECK(a != NULL))
		return;
	CHECK_INT(ahead_next(a, &l), 1);
	CHECK_INT(ahead_next(a, &l), 1);
	CHECK_INT(ahead_free(a), 1);
	CHECK(count <= AHEAD_LINES + 2);
	fclose(w);
	close(fds[0]);
}

int main(void)
{
	RUN(blank_lines_left_out_inline);
	RUN(blank_lines_left_out_threaded);
	RUN(order_kept_through_the_ring);
	RUN(missing_file_ends_the_input);
	RUN(bad_utf8_ends_the_input);
	RUN(free_before_the_end);
	return unit_done();
}
