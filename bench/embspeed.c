/* bench/embspeed: speed of the built-in embedder alone, on one core.
 *
 *	embspeed [-d DIM] [-r ROUNDS] [-t] [FILE...]
 *
 * Reads chunk records (JSON lines with a "text", as rag-split writes them)
 * from the files or stdin, keeps the texts in memory, then calls
 * emb_lex_passage on every text, ROUNDS times (default 5), timing each round
 * twice: wall time (CLOCK_MONOTONIC) and the thread's CPU time
 * (CLOCK_THREAD_CPUTIME_ID), which is the speed of one core even when other
 * programs share the machine. Reading and JSON parsing are outside the timing:
 * this is the cost of tokenizing, stemming, hashing, weighting and
 * normalising alone. -t embeds "title\n\ntext" as rag-embed does when the
 * record has a title the text does not begin with.
 *
 * Prints one line:
 *	records N bytes B rounds R median_s S min_s S max_s S mb_s X records_s Y
 *	cpu_median_s S cpu_min_s S cpu_max_s S cpu_mb_s X cpu_records_s Y
 * where MB = 10^6 bytes of embedded text, the first five figures are wall
 * time, the cpu_ ones CPU time, and the rates use the median round.
 * Exit status 0, 1 when reading failed or there was nothing to embed, 2 on a
 * usage error. */
#include "emb.h"
#include "jl.h"
#include "msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct text { char *s; size_t len; };

static struct text *texts;
static size_t ntexts, cap;
static size_t total_bytes;

static int add(const char *title, const char *t, int with_title)
{
	size_t tl = strlen(t), il = title ? strlen(title) : 0;
	char *s;

	if (ntexts == cap) {
		cap = cap ? cap * 2 : 1024;
		texts = realloc(texts, cap * sizeof *texts);
		if (texts == NULL)
			return -1;
	}
	if (with_title && il > 0 && strncmp(t, title, il) != 0) {
		s = malloc(il + tl + 3);
		if (s == NULL)
			return -1;
		memcpy(s, title, il);
		memcpy(s + il, "\n\n", 2);
		memcpy(s + il + 2, t, tl + 1);
		tl += il + 2;
	} else {
		s = strdup(t);
		if (s == NULL)
			return -1;
	}
	texts[ntexts].s = s;
	texts[ntexts].len = tl;
	ntexts++;
	total_bytes += tl;
	return 0;
}

static int load(FILE *in, const char *name, int with_title)
{
	jl_reader *jr = jl_reader_new(in, name);
	json_object *o, *v, *ti;
	enum jl_status st;

	if (jr == NULL)
		return -1;
	while ((st = jl_read(jr, &o)) != JL_EOF) {
		if (st == JL_IOERR) {
			msg_error("%s: read error", name);
			jl_reader_free(jr);
			return -1;
		}
		if (st == JL_BAD) {
			msg_error("%s: line %ld: %s", name, jl_lineno(jr), jl_reason(jr));
			continue;
		}
		if (json_object_object_get_ex(o, "text", &v) && json_object_is_type(v, json_type_string)) {
			const char *title = NULL;

			if (json_object_object_get_ex(o, "title", &ti) && json_object_is_type(ti, json_type_string))
				title = json_object_get_string(ti);
			if (add(title, json_object_get_string(v), with_title) < 0) {
				json_object_put(o);
				jl_reader_free(jr);
				return -1;
			}
		}
		json_object_put(o);
	}
	jl_reader_free(jr);
	return 0;
}

static double now(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Sort the n times and return their median. */
static double median(double *t, int n)
{
	qsort(t, (size_t)n, sizeof *t, cmp_double);
	return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	int dim = EMB_LEX_DEFAULT_DIM, rounds = 5, with_title = 0, c, r;
	double *t, *tc, med, cmed, sink = 0;
	float *vec;
	size_t i;

	msg_init(argv);
	while ((c = getopt(argc, argv, "d:r:t")) != -1) {
		if (c == 'd')
			dim = atoi(optarg);
		else if (c == 'r')
			rounds = atoi(optarg);
		else if (c == 't')
			with_title = 1;
		else
			goto usage;
	}
	if (dim < 1 || rounds < 1)
		goto usage;
	if (optind == argc) {
		if (load(stdin, "stdin", with_title) < 0)
			return 1;
	}
	for (; optind < argc; optind++) {
		FILE *f = fopen(argv[optind], "r");

		if (f == NULL) {
			msg_error("%s: cannot open", argv[optind]);
			return 1;
		}
		if (load(f, argv[optind], with_title) < 0)
			return 1;
		fclose(f);
	}
	if (ntexts == 0) {
		msg_error("no records with a \"text\"");
		return 1;
	}
	vec = malloc((size_t)dim * sizeof *vec);
	t = malloc((size_t)rounds * sizeof *t);
	tc = malloc((size_t)rounds * sizeof *tc);
	if (vec == NULL || t == NULL || tc == NULL)
		return 1;
	for (r = 0; r < rounds; r++) {
		double t0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_THREAD_CPUTIME_ID);

		for (i = 0; i < ntexts; i++) {
			if (emb_lex_passage(texts[i].s, texts[i].len, dim, vec) < 0) {
				msg_error("out of memory");
				return 1;
			}
			sink += vec[i % (size_t)dim];	/* keep the work observable */
		}
		tc[r] = now(CLOCK_THREAD_CPUTIME_ID) - c0;
		t[r] = now(CLOCK_MONOTONIC) - t0;
	}
	med = median(t, rounds);
	cmed = median(tc, rounds);
	printf("records %zu bytes %zu rounds %d median_s %.4f min_s %.4f max_s %.4f mb_s %.2f records_s %.0f "
	       "cpu_median_s %.4f cpu_min_s %.4f cpu_max_s %.4f cpu_mb_s %.2f cpu_records_s %.0f\n",
	       ntexts, total_bytes, rounds, med, t[0], t[rounds - 1], (double)total_bytes / 1e6 / med,
	       (double)ntexts / med, cmed, tc[0], tc[rounds - 1], (double)total_bytes / 1e6 / cmed,
	       (double)ntexts / cmed);
	if (sink != sink)	/* never: NaN */
		fprintf(stderr, "nan\n");
	for (i = 0; i < ntexts; i++)
		free(texts[i].s);
	free(texts);
	free(vec);
	free(t);
	free(tc);
	return 0;
usage:
	fprintf(stderr, "usage: embspeed [-d DIM] [-r ROUNDS] [-t] [FILE...]\n");
	return 2;
}
