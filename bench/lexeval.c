/* bench/lexeval: the built-in embedder on a retrieval set, before the index
 * exists. Embeds every passage and question as rag-embed does, ranks by
 * inner product, and re-scores the best N candidates exactly with BM25 over
 * the same terms (what the query side does with the index's statistics).
 *
 *	lexeval [-d DIM] [-n N] [-t] [-f RUN] SETDIR OUTPREFIX
 *
 * writes OUTPREFIX.dense.jsonl, OUTPREFIX.rescored.jsonl and
 * OUTPREFIX.bm25.jsonl (exact BM25 over every passage: the ceiling of
 * re-scoring), runs for bench/eval.py. -t embeds "title\n\ntext". */
#include "emb.h"
#include "jl.h"
#include "msg.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct term { uint64_t hash; int kind; float tf; };

struct passage {
	char *id;
	float *vec;
	struct term *terms;	/* distinct, sorted by hash */
	size_t nterms;
	double dl;
};

struct tlist { struct term *v; size_t n, cap; double total; };

static int collect(void *ctx, uint64_t hash, int kind)
{
	struct tlist *t = ctx;

	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->v = realloc(t->v, t->cap * sizeof *t->v);
		if (t->v == NULL)
			return -1;
	}
	t->v[t->n].hash = hash;
	t->v[t->n].kind = kind;
	t->v[t->n].tf = 1;
	t->n++;
	t->total++;
	return 0;
}

static int cmp_term(const void *a, const void *b)
{
	const struct term *x = a, *y = b;

	return x->hash < y->hash ? -1 : x->hash > y->hash;
}

/* Sort and merge repeated terms. */
static void distinct(struct tlist *t)
{
	size_t i, k = 0;

	qsort(t->v, t->n, sizeof *t->v, cmp_term);
	for (i = 0; i < t->n; i++) {
		if (k > 0 && t->v[k - 1].hash == t->v[i].hash)
			t->v[k - 1].tf += t->v[i].tf;
		else
			t->v[k++] = t->v[i];
	}
	t->n = k;
}

/* document frequencies: an open-addressing table */
static uint64_t *df_hash;
static int *df_count;
static size_t df_cap = 1 << 22;
static double n_passages, avgdl;

static int *df_slot(uint64_t h)
{
	size_t j = (size_t)(h & (df_cap - 1));

	while (df_hash[j] && df_hash[j] != h)
		j = (j + 1) & (df_cap - 1);
	df_hash[j] = h;
	return &df_count[j];
}

static double idf(void *ctx, uint64_t h)
{
	double df = *df_slot(h);

	(void)ctx;
	return log(1 + (n_passages - df + 0.5) / (df + 0.5));
}

static double bm25(const struct passage *p, const struct tlist *q)
{
	double s = 0;
	size_t i;

	for (i = 0; i < q->n; i++) {
		struct term key = { q->v[i].hash, 0, 0 };
		struct term *t = bsearch(&key, p->terms, p->nterms, sizeof key, cmp_term);

		if (t)
			s += idf(NULL, t->hash) * emb_lex_tf_weight(t->tf, p->dl, avgdl)
			     * (t->kind == 'u' ? EMB_LEX_UNIGRAM_WEIGHT : 1.0);
	}
	return s;
}

struct scored { double s; size_t i; };

static int cmp_scored(const void *a, const void *b)
{
	const struct scored *x = a, *y = b;

	if (x->s != y->s)
		return x->s > y->s ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

static void write_run(FILE *f, const char *qid, struct passage *ps, struct scored *s, size_t n)
{
	size_t i;

	fprintf(f, "{\"id\":\"%s\",\"hits\":[", qid);
	for (i = 0; i < n && i < 10; i++)
		fprintf(f, "%s\"%s\"", i ? "," : "", ps[s[i].i].id);
	fprintf(f, "]}\n");
}

static const char *str(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : "";
}

int main(int argc, char **argv)
{
	int dim = EMB_LEX_DEFAULT_DIM, ncand = 400, title = 0, c;
	const char *fts_run = NULL;
	FILE *fh = NULL;
	jl_reader *fr_run = NULL;
	char *is_cand;
	char path[4096];
	FILE *in, *fd, *fr, *fb;
	jl_reader *jr;
	json_object *o;
	struct passage *ps = NULL;
	size_t np = 0, cap = 0, i;
	double total = 0;
	struct scored *sc;
	float *qv;
	long nq = 0, cand_hits = 0, cand_rel = 0;

	msg_init(argv);
	while ((c = getopt(argc, argv, "d:n:tf:")) != -1) {
		if (c == 'f')
			fts_run = optarg;
		else if (c == 'd')
			dim = atoi(optarg);
		else if (c == 'n')
			ncand = atoi(optarg);
		else if (c == 't')
			title = 1;
		else
			return 2;
	}
	if (argc - optind != 2) {
		fprintf(stderr, "usage: lexeval [-d DIM] [-n N] [-t] SETDIR OUTPREFIX\n");
		return 2;
	}
	df_hash = calloc(df_cap, sizeof *df_hash);
	df_count = calloc(df_cap, sizeof *df_count);
	snprintf(path, sizeof path, "%s/corpus.jsonl", argv[optind]);
	in = fopen(path, "r");
	if (!in || !df_hash || !df_count)
		return 1;
	jr = jl_reader_new(in, path);
	while (jl_read(jr, &o) == JL_OK) {
		const char *t = str(o, "text"), *ti = str(o, "title");
		char *text = malloc(strlen(t) + strlen(ti) + 3);
		struct tlist tl = { 0 };

		if (title && *ti)
			sprintf(text, "%s\n\n%s", ti, t);
		else
			strcpy(text, t);
		if (np == cap) {
			cap = cap ? cap * 2 : 1024;
			ps = realloc(ps, cap * sizeof *ps);
		}
		ps[np].id = strdup(str(o, "id"));
		ps[np].vec = malloc((size_t)dim * sizeof(float));
		emb_lex_passage(text, strlen(text), dim, ps[np].vec);
		emb_lex_terms(text, strlen(text), collect, &tl);
		ps[np].dl = tl.total;
		distinct(&tl);
		ps[np].terms = tl.v;
		ps[np].nterms = tl.n;
		for (i = 0; i < tl.n; i++)
			(*df_slot(tl.v[i].hash))++;
		total += ps[np].dl;
		np++;
		free(text);
		json_object_put(o);
	}
	jl_reader_free(jr);
	fclose(in);
	n_passages = (double)np;
	avgdl = total / (double)np;

	snprintf(path, sizeof path, "%s/queries.jsonl", argv[optind]);
	in = fopen(path, "r");
	snprintf(path, sizeof path, "%s.dense.jsonl", argv[optind + 1]);
	fd = fopen(path, "w");
	snprintf(path, sizeof path, "%s.rescored.jsonl", argv[optind + 1]);
	fr = fopen(path, "w");
	snprintf(path, sizeof path, "%s.bm25.jsonl", argv[optind + 1]);
	fb = fopen(path, "w");
	if (!in || !fd || !fr || !fb)
		return 1;
	if (fts_run) {
		FILE *rf = fopen(fts_run, "r");

		snprintf(path, sizeof path, "%s.hybrid.jsonl", argv[optind + 1]);
		fh = fopen(path, "w");
		if (!rf || !fh)
			return 1;
		fr_run = jl_reader_new(rf, fts_run);
	}
	sc = malloc(np * sizeof *sc);
	is_cand = calloc(np, 1);
	qv = malloc((size_t)dim * sizeof *qv);
	jr = jl_reader_new(in, path);
	while (jl_read(jr, &o) == JL_OK) {
		const char *q = str(o, "question"), *qid = str(o, "id");
		struct tlist tl = { 0 };
		json_object *rel;
		size_t k, n = (size_t)ncand < np ? (size_t)ncand : np;

		emb_lex_question(q, strlen(q), dim, idf, NULL, qv);
		emb_lex_terms(q, strlen(q), collect, &tl);
		distinct(&tl);
		for (i = 0; i < np; i++) {
			double s = 0;
			int d;

			for (d = 0; d < dim; d++)
				s += (double)qv[d] * ps[i].vec[d];
			sc[i].s = s;
			sc[i].i = i;
		}
		qsort(sc, np, sizeof *sc, cmp_scored);
		write_run(fd, qid, ps, sc, np);
		/* how many relevant passages the candidates hold */
		if (json_object_object_get_ex(o, "relevant", &rel)) {
			for (k = 0; k < json_object_array_length(rel); k++) {
				const char *rid = json_object_get_string(json_object_array_get_idx(rel, k));

				cand_rel++;
				for (i = 0; i < n; i++)
					if (strcmp(ps[sc[i].i].id, rid) == 0) {
						cand_hits++;
						break;
					}
			}
		}
		if (fr_run) {
			/* dense top-n and the full-text run's hits, re-scored */
			json_object *ro, *hits;
			size_t m = 0, k2;
			struct scored *hs = malloc((n + 1000) * sizeof *hs);

			memset(is_cand, 0, np);
			for (i = 0; i < n; i++) {
				hs[m++] = sc[i];
				is_cand[sc[i].i] = 1;
			}
			if (jl_read(fr_run, &ro) == JL_OK) {
				if (strcmp(str(ro, "id"), qid) != 0)
					fprintf(stderr, "lexeval: run out of step at %s\n", qid);
				if (json_object_object_get_ex(ro, "hits", &hits))
					for (k2 = 0; k2 < json_object_array_length(hits) && m < n + 1000; k2++) {
						const char *pid = json_object_get_string(json_object_array_get_idx(hits, k2));

						for (i = 0; i < np; i++)
							if (!is_cand[i] && strcmp(ps[i].id, pid) == 0) {
								is_cand[i] = 1;
								hs[m].i = i;
								m++;
								break;
							}
					}
				json_object_put(ro);
			}
			for (i = 0; i < m; i++)
				hs[i].s = bm25(&ps[hs[i].i], &tl);
			qsort(hs, m, sizeof *hs, cmp_scored);
			write_run(fh, qid, ps, hs, m);
			free(hs);
		}
		for (i = 0; i < n; i++)
			sc[i].s = bm25(&ps[sc[i].i], &tl);
		qsort(sc, n, sizeof *sc, cmp_scored);
		write_run(fr, qid, ps, sc, n);
		for (i = 0; i < np; i++) {
			sc[i].i = i;
			sc[i].s = bm25(&ps[i], &tl);
		}
		qsort(sc, np, sizeof *sc, cmp_scored);
		write_run(fb, qid, ps, sc, np);
		free(tl.v);
		json_object_put(o);
		nq++;
	}
	fprintf(stderr, "%s: %zu passages, %ld questions, dim %d, candidate recall@%d %.4f\n", argv[optind], np, nq,
		dim, ncand, cand_rel ? (double)cand_hits / (double)cand_rel : 0);
	fclose(fd);
	fclose(fr);
	fclose(fb);
	if (fh)
		fclose(fh);
	return 0;
}
