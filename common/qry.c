#include "qry.h"
#include "emb.h"
#include "faiss_ivf.h"
#include "faiss_threads.h"
#include "fts.h"
#include "idx.h"
#include "sb.h"
#include "tok.h"

#include <errno.h>
#include <stdarg.h>
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <faiss/c_api/Index_c.h>
#include <faiss/c_api/error_c.h>
#include <faiss/c_api/index_io_c.h>
#include <json-c/json.h>

struct shard {
	char *dir;
	idx *x;
	idx_reader *rd;
	FaissIndex *fi;		/* the generation's faiss file; NULL: exact search */
	long long loaded_for;	/* generation fi (or its absence) belongs to */
	long nlist;		/* > 0: an inverted file */
	/* qry_prepare's results: kk per question, or none (kk 0) */
	float *pd;
	idx_t *pi;
	size_t pn;
	idx_t pkk;
};

/* A distinct term of the question. */
struct qterm {
	uint64_t hash;
	int kind;
	size_t str;		/* offset of its text in qry.qtext */
	long df;		/* over all shards */
	double idf;
};

struct cand {
	int shard;
	int64_t rid;
	double cos, fts, lex, score;
	int dense, full;	/* in the vector list; in the FTS5 list */
	long vrank, lrank;
	uint64_t *terms;	/* hybrid: its terms, in text order */
	unsigned char *kinds;
	size_t nterms;
	double dl;
};

struct clist {
	struct cand *v;
	size_t n, cap;
};

struct qry {
	struct shard *s;
	size_t n;
	char embedder[256];
	int dim;
	sb warnings, info;
	long nprobe;		/* asked for; 0: by the number of lists */
	/* the current question */
	struct qterm *qt;
	size_t nqt, capqt;
	sb qtext;		/* the terms' texts, NUL-separated */
	double N, avgdl;
	const char *terms_of;	/* the text qt is of, in this snapshot */
	size_t terms_len;
	float *qv;		/* the question vector, unit length */
	float *tmpv;
};

void qry_opts_init(qry_opts *o)
{
	memset(o, 0, sizeof *o);
	o->mode = QRY_HYBRID;
	o->k = 5;
	o->mmr_lambda = 0.5;
	o->rrf_k = QRY_RRF_K;
	o->w_vec = o->w_lex = -1;	/* the embedder's defaults */
}

void qry_default_weights(const char *embedder, double *w_vec, double *w_lex)
{
	*w_lex = 1.0;
	*w_vec = emb_lex_parse_name(embedder) > 0 ? 0.0 : 1.0;
}

long qry_default_nprobe(long nlist)
{
	/* the built-in embedder's vectors cluster poorly: half the lists are
	 * needed for 95% of an exact search's top 10 (bench/RESULTS.md) */
	return nlist > 1 ? (nlist + 1) / 2 : 1;
}

static void hit_free(qry_hit *h)
{
	size_t j;

	free(h->id);
	free(h->source);
	free(h->title);
	free(h->text);
	free(h->fields_json);
	for (j = 0; j < h->nmerged; j++)
		free(h->merged[j]);
	free(h->merged);
	memset(h, 0, sizeof *h);
}

void qry_hits_free(qry_hits *h)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		hit_free(&h->v[i]);
	free(h->v);
	h->v = NULL;
	h->n = 0;
}

/* qsort, which must not be given NULL even for nothing to sort */
static void sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

/* ---- opening ---- */

static void note(qry *q, int warn, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void note(qry *q, int warn, const char *fmt, ...)
{
	char buf[1200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	/* a note that cannot be kept is only a note */
	if (sb_puts(warn ? &q->warnings : &q->info, buf) == 0)
		sb_putc(warn ? &q->warnings : &q->info, '\n');
}

void qry_notes(const qry *q, const char **warnings, const char **info)
{
	*warnings = q->warnings.len ? q->warnings.buf : NULL;
	*info = q->info.len ? q->info.buf : NULL;
}

void qry_notes_clear(qry *q)
{
	sb_truncate(&q->warnings, 0);
	sb_truncate(&q->info, 0);
}

void qry_set_nprobe(qry *q, long nprobe)
{
	q->nprobe = nprobe;
}

qry *qry_open(const char *const *dirs, size_t n, char *err, size_t errlen)
{
	qry *q = calloc(1, sizeof *q);
	size_t i, first = (size_t)-1;

	if (q == NULL || (q->s = calloc(n ? n : 1, sizeof *q->s)) == NULL) {
		free(q);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/* faiss's threads and OpenBLAS's would only fight over two cores for a
	 * search of one vector */
	faiss_ragpipe_set_threads(1);
	q->n = n;
	for (i = 0; i < n; i++) {
		struct shard *s = &q->s[i];

		s->loaded_for = -1;
		s->dir = strdup(dirs[i]);
		if (s->dir == NULL) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		s->x = idx_open(dirs[i], IDX_READ, 0, err, errlen);
		if (s->x == NULL)
			goto fail;
		s->rd = idx_reader_new(s->x, err, errlen);
		if (s->rd == NULL)
			goto fail;
		if (idx_embedder(s->x)[0] == '\0')
			continue;	/* empty: any embedder will do */
		if (first == (size_t)-1) {
			first = i;
			snprintf(q->embedder, sizeof q->embedder, "%s", idx_embedder(s->x));
			q->dim = idx_dim(s->x);
		} else if (strcmp(q->embedder, idx_embedder(s->x)) != 0 || q->dim != idx_dim(s->x)) {
			snprintf(err, errlen, "%s was built with %s (dimension %d) but %s with %s (dimension %d): shards"
				 " queried together need the same embedder", q->s[first].dir, q->embedder, q->dim, s->dir,
				 idx_embedder(s->x), idx_dim(s->x));
			goto fail;
		}
	}
	return q;
fail:
	qry_close(q);
	return NULL;
}

void qry_close(qry *q)
{
	size_t i;

	if (q == NULL)
		return;
	for (i = 0; i < q->n; i++) {
		if (q->s[i].fi)
			faiss_Index_free(q->s[i].fi);
		free(q->s[i].pd);
		free(q->s[i].pi);
		idx_reader_free(q->s[i].rd);
		idx_close(q->s[i].x);
		free(q->s[i].dir);
	}
	free(q->s);
	free(q->qt);
	sb_free(&q->qtext);
	sb_free(&q->warnings);
	sb_free(&q->info);
	free(q->qv);
	free(q->tmpv);
	free(q);
}

const char *qry_embedder(const qry *q)
{
	return q->embedder;
}

int qry_dim(const qry *q)
{
	return q->dim;
}

/* The faiss file of the snapshot's generation, or none (exact search). */
static void load_faiss(qry *q, struct shard *s)
{
	char path[4200];
	FaissIndex *fi = NULL;
	long long g = idx_generation(s->x);

	if (s->fi)
		faiss_Index_free(s->fi);
	s->fi = NULL;
	s->nlist = 0;
	s->pkk = 0;
	s->loaded_for = g;
	if (idx_dim(s->x) <= 0 || idx_chunk_count(s->x) <= 0)
		return;
	idx_faiss_path(s->x, path, sizeof path);
	if (access(path, R_OK) < 0) {
		/* the writer has not written it yet, or a newer one replaced it */
		note(q, 0, "%s: no faiss file for generation %lld (%s): exact search over the stored vectors", s->dir, g,
		     strerror(errno));
		return;
	}
	/* an inverted file's lists are mapped, not read: a cold start reads
	 * only the coarse quantizer */
	if (faiss_read_index_fname(path, FAISS_IO_FLAG_MMAP | FAISS_IO_FLAG_READ_ONLY, &fi) != 0) {
		const char *m = faiss_get_last_error();

		note(q, 1, "%s: cannot read it (%s): exact search over the stored vectors", path, m ? m : "faiss failed");
		return;
	}
	if (faiss_Index_d(fi) != idx_dim(s->x) || faiss_Index_metric_type(fi) != METRIC_INNER_PRODUCT
	    || faiss_Index_ntotal(fi) != idx_chunk_count(s->x)) {
		note(q, 1, "%s: holds %lld vectors of dimension %d, the database %ld of %d: exact search over the stored"
		     " vectors", path, (long long)faiss_Index_ntotal(fi), faiss_Index_d(fi), idx_chunk_count(s->x),
		     idx_dim(s->x));
		faiss_Index_free(fi);
		return;
	}
	s->fi = fi;
	s->nlist = (long)faiss_ragpipe_nlist(fi);
	if (s->nlist > 0) {
		note(q, 0, "%s: %s, %ld lists (memory-mapped), nprobe %ld", path, idx_type(s->x), s->nlist,
		     q->nprobe > 0 ? (q->nprobe < s->nlist ? q->nprobe : s->nlist) : qry_default_nprobe(s->nlist));
	} else {
		note(q, 0, "%s: %s", path, idx_type(s->x));
		if (q->nprobe > 0)
			note(q, 1, "--nprobe: %s is not an inverted file (%s): it is searched exactly", s->dir,
			     idx_type(s->x));
	}
}

int qry_begin(qry *q, char *err, size_t errlen)
{
	size_t i;

	q->terms_of = NULL;
	for (i = 0; i < q->n; i++) {
		struct shard *s = &q->s[i];

		s->pkk = 0;
		if (idx_read_begin(s->x, err, errlen) < 0) {
			while (i-- > 0)
				idx_read_end(q->s[i].x);
			return -1;
		}
		if (idx_embedder(s->x)[0] && q->embedder[0] && strcmp(idx_embedder(s->x), q->embedder) != 0) {
			snprintf(err, errlen, "%s is now built with %s, not %s", s->dir, idx_embedder(s->x), q->embedder);
			for (; i < q->n; i--) {
				idx_read_end(q->s[i].x);
				if (i == 0)
					break;
			}
			return -1;
		}
		if (idx_embedder(s->x)[0] && !q->embedder[0]) {
			/* it was empty when opened */
			snprintf(q->embedder, sizeof q->embedder, "%s", idx_embedder(s->x));
			q->dim = idx_dim(s->x);
		}
		if (s->loaded_for != idx_generation(s->x))
			load_faiss(q, s);
	}
	return 0;
}

void qry_end(qry *q)
{
	size_t i;

	for (i = 0; i < q->n; i++)
		idx_read_end(q->s[i].x);
}

/* ---- the question's terms ---- */

struct collect {
	qry *q;
	size_t n;
	int failed;
};

static int take_text(void *ctx, enum tok_kind kind, const char *term, size_t len, size_t start, size_t end)
{
	struct collect *c = ctx;
	qry *q = c->q;

	(void)start;
	(void)end;
	if (c->n == q->capqt) {
		size_t cap = q->capqt ? q->capqt * 2 : 64;
		struct qterm *v = realloc(q->qt, cap * sizeof *v);

		if (v == NULL)
			return -1;
		q->qt = v;
		q->capqt = cap;
	}
	q->qt[c->n].kind = (int)kind;
	q->qt[c->n].str = q->qtext.len;
	if (sb_append(&q->qtext, term, len) < 0 || sb_putc(&q->qtext, '\0') < 0)
		return -1;
	c->n++;
	return 0;
}

static int take_hash(void *ctx, uint64_t hash, int kind)
{
	struct collect *c = ctx;

	/* emb_lex_terms cuts as tok_each with TOK_STEM: the same terms, in the
	 * same order */
	if (c->n >= c->q->nqt || c->q->qt[c->n].kind != kind) {
		c->failed = 1;
		return -1;
	}
	c->q->qt[c->n++].hash = hash;
	return 0;
}

static int cmp_qterm(const void *a, const void *b)
{
	const struct qterm *x = a, *y = b;

	return x->hash < y->hash ? -1 : x->hash > y->hash;
}

static double idf_of(double N, double df)
{
	return log(1 + (N - df + 0.5) / (df + 0.5));
}

static long df_of(qry *q, uint64_t hash)
{
	long df = 0;
	size_t i;

	for (i = 0; i < q->n; i++)
		df += idx_df(q->s[i].x, hash);
	return df;
}

/* The question's distinct terms with their statistics. -1: no memory. */
static int question_terms(qry *q, const char *text, size_t len)
{
	struct collect c = { q, 0, 0 };
	double total_dl = 0;
	size_t i, k = 0;

	q->N = 0;
	for (i = 0; i < q->n; i++) {
		double n = (double)idx_chunk_count(q->s[i].x);

		q->N += n;
		total_dl += n * idx_avgdl(q->s[i].x);
	}
	q->avgdl = q->N > 0 ? total_dl / q->N : EMB_LEX_AVGDL;
	q->nqt = 0;
	q->terms_of = NULL;
	sb_truncate(&q->qtext, 0);
	if (tok_each(text, len, TOK_STEM, take_text, &c) < 0)
		return -1;
	q->nqt = c.n;
	c.n = 0;
	if (emb_lex_terms(text, len, take_hash, &c) < 0 || c.n != q->nqt)
		return -1;
	if (q->nqt == 0)
		return 0;
	sort(q->qt, q->nqt, sizeof *q->qt, cmp_qterm);
	for (i = 0; i < q->nqt; i++)
		if (k == 0 || q->qt[k - 1].hash != q->qt[i].hash)
			q->qt[k++] = q->qt[i];
	q->nqt = k;
	for (i = 0; i < q->nqt; i++) {
		q->qt[i].df = df_of(q, q->qt[i].hash);
		q->qt[i].idf = q->qt[i].df > 0 ? idf_of(q->N, (double)q->qt[i].df) : 0;
	}
	q->terms_of = text;
	q->terms_len = len;
	return 0;
}

static const struct qterm *find_qterm(const qry *q, uint64_t hash)
{
	struct qterm key;

	key.hash = hash;
	return bsearch(&key, q->qt, q->nqt, sizeof key, cmp_qterm);
}

static double question_idf(void *ctx, uint64_t hash)
{
	const struct qterm *t = find_qterm(ctx, hash);

	/* a term no chunk has cannot match anything; weighted by its idf it
	 * would weigh most */
	return t ? t->idf : 0;
}

int qry_embed_builtin(qry *q, const char *text, size_t len, int dim, float *out)
{
	if (question_terms(q, text, len) < 0)
		return -1;
	return emb_lex_question(text, len, dim, question_idf, q, out);
}

/* ---- filters ---- */

static int filtered(const qry_opts *o)
{
	return o->nsources > 0 || o->nwhere > 0;
}

static int where_needs_text(const qry_opts *o)
{
	size_t i;

	for (i = 0; i < o->nwhere; i++)
		if (strcmp(o->where[i].field, "text") == 0)
			return 1;
	return 0;
}

static int number_text(const char *s, double *v)
{
	char *end;

	if (*s == '\0')
		return 0;
	errno = 0;
	*v = strtod(s, &end);
	return *end == '\0' && errno == 0 && isfinite(*v);
}

static int json_matches(json_object *v, const char *value)
{
	double a, b;
	size_t i;

	switch (json_object_get_type(v)) {
	case json_type_string:
		return strcmp(json_object_get_string(v), value) == 0;
	case json_type_int:
	case json_type_double:
		return number_text(value, &b) && (a = json_object_get_double(v), a == b);
	case json_type_boolean:
		return strcmp(value, json_object_get_boolean(v) ? "true" : "false") == 0;
	case json_type_null:
		return strcmp(value, "null") == 0;
	case json_type_array:
		for (i = 0; i < json_object_array_length(v); i++) {
			json_object *e = json_object_array_get_idx(v, i);

			if (!json_object_is_type(e, json_type_array) && json_matches(e, value))
				return 1;
		}
		return 0;
	default:
		return 0;
	}
}

int qry_value_matches(const char *json, size_t len, const char *value)
{
	char *s = malloc(len + 1);
	json_object *v;
	int r = 0;

	if (s == NULL)
		return 0;
	memcpy(s, json, len);
	s[len] = '\0';
	/* a number must be seen to end: the whole text, terminated */
	v = json_tokener_parse(s);
	if (v != NULL || strcmp(s, "null") == 0)
		r = v ? json_matches(v, value) : strcmp(value, "null") == 0;
	json_object_put(v);
	free(s);
	return r;
}

static int field_matches(const idx_row *row, json_object *fields, const qry_where *w)
{
	const char *f = w->field;
	json_object *v;
	double want;

	if (strcmp(f, "id") == 0)
		return strcmp(row->c.id, w->value) == 0;
	if (strcmp(f, "source") == 0)
		return strcmp(row->c.source, w->value) == 0;
	if (strcmp(f, "title") == 0)
		return row->c.title && strcmp(row->c.title, w->value) == 0;
	if (strcmp(f, "text") == 0)
		return row->c.text && strcmp(row->c.text, w->value) == 0;
	if (strcmp(f, "seq") == 0)
		return number_text(w->value, &want) && (double)row->c.seq == want;
	if (strcmp(f, "page") == 0)
		return row->c.page > 0 && number_text(w->value, &want) && (double)row->c.page == want;
	if (strcmp(f, "page_end") == 0)
		return row->c.page > 0 && number_text(w->value, &want) && (double)row->c.page_end == want;
	return fields && json_object_object_get_ex(fields, f, &v) && json_matches(v, w->value);
}

/* Does the chunk pass the filters? 1 yes, 0 no. */
static int passes(const qry_opts *o, const idx_row *row)
{
	json_object *fields = NULL;
	size_t i;
	int ok = o->nsources == 0;

	for (i = 0; i < o->nsources && !ok; i++)
		ok = fnmatch(o->sources[i], row->c.source, 0) == 0;
	if (!ok)
		return 0;
	if (o->nwhere > 0 && row->c.fields_json)
		fields = json_tokener_parse(row->c.fields_json);
	for (i = 0; i < o->nwhere && ok; i++)
		ok = field_matches(row, fields, &o->where[i]);
	json_object_put(fields);
	return ok;
}

/* ---- candidate lists ---- */

static struct cand *cl_add(struct clist *l, int shard, int64_t rid)
{
	struct cand *c;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct cand *v = realloc(l->v, cap * sizeof *v);

		if (v == NULL)
			return NULL;
		l->v = v;
		l->cap = cap;
	}
	c = &l->v[l->n++];
	memset(c, 0, sizeof *c);
	c->shard = shard;
	c->rid = rid;
	return c;
}

static void cl_free(struct clist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].terms);
		free(l->v[i].kinds);
	}
	free(l->v);
	memset(l, 0, sizeof *l);
}

static int cmp_cos(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->cos != y->cos)
		return x->cos > y->cos ? -1 : 1;
	if (x->shard != y->shard)
		return x->shard - y->shard;
	return x->rid < y->rid ? -1 : x->rid > y->rid;
}

static int cmp_fts(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->fts != y->fts)
		return x->fts > y->fts ? -1 : 1;
	if (x->shard != y->shard)
		return x->shard - y->shard;
	return x->rid < y->rid ? -1 : x->rid > y->rid;
}

static int cmp_lex(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->lex != y->lex)
		return x->lex > y->lex ? -1 : 1;
	return cmp_cos(a, b);
}

static int cmp_score(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	if (x->lex != y->lex)
		return x->lex > y->lex ? -1 : 1;
	return cmp_cos(a, b);
}

static int cmp_where(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->shard != y->shard)
		return x->shard - y->shard;
	return x->rid < y->rid ? -1 : x->rid > y->rid;
}

static double cosine(const float *qv, const float *v, int dim)
{
	double dot = 0, norm = 0;
	int i;

	for (i = 0; i < dim; i++) {
		dot += (double)qv[i] * v[i];
		norm += (double)v[i] * v[i];
	}
	if (norm <= 0)
		return 0;
	dot /= sqrt(norm);
	/* rounding must not take it out of [-1, 1] */
	return dot > 1 ? 1 : dot < -1 ? -1 : dot;
}

/* The row of a candidate when it passes the filters and exists: 1; 0 when
 * it does not; -1 on error. With want_vec its cosine is computed. */
static int check_row(qry *q, struct shard *s, const qry_opts *o, int64_t rid, int want_vec, double *cos, char *err,
		     size_t errlen)
{
	idx_row row;
	unsigned what = (want_vec ? IDX_ROW_VEC : 0) | (where_needs_text(o) ? IDX_ROW_TEXT : 0);
	int r = idx_reader_row(s->rd, rid, what, &row, err, errlen);

	if (r <= 0)
		return r;
	if (filtered(o) && !passes(o, &row))
		return 0;
	if (want_vec)
		*cos = cosine(q->qv, row.c.vec, q->dim);
	return 1;
}

/* Results asked of faiss at first: more when filters will reject some. */
static idx_t first_kk(const qry_opts *o, long need)
{
	return filtered(o) ? (need * 4 > 64 ? need * 4 : 64) : need;
}

static long shard_nprobe(const qry *q, const struct shard *s)
{
	long nprobe = q->nprobe > 0 ? q->nprobe : qry_default_nprobe(s->nlist);

	if (s->nlist <= 0)
		return 1;
	return nprobe < s->nlist ? nprobe : s->nlist;
}

/* The shard's best `need` chunks by the vector that pass the filters,
 * searched deeper (more results, more lists) until enough pass or nothing is
 * left. */
static int dense_faiss(qry *q, struct shard *s, int si, const qry_opts *o, long need, long slot, struct clist *out,
		       char *err, size_t errlen)
{
	idx_t ntotal = faiss_Index_ntotal(s->fi), kk = first_kk(o, need);
	long nprobe = shard_nprobe(q, s);
	size_t base = out->n;
	float *D = NULL;
	idx_t *I = NULL;
	int r = -1, prepared = slot >= 0 && (size_t)slot < s->pn && s->pkk > 0;

	for (;;) {
		long got = 0, passing = 0;
		idx_t j;

		if (kk > ntotal)
			kk = ntotal;
		free(D);
		free(I);
		D = malloc((size_t)kk * sizeof *D);
		I = malloc((size_t)kk * sizeof *I);
		if (D == NULL || I == NULL) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		if (prepared && kk <= s->pkk) {
			/* qry_prepare searched for this question with the others */
			memcpy(D, s->pd + (size_t)slot * (size_t)s->pkk, (size_t)kk * sizeof *D);
			memcpy(I, s->pi + (size_t)slot * (size_t)s->pkk, (size_t)kk * sizeof *I);
		} else if (faiss_ragpipe_search(s->fi, 1, q->qv, kk, (size_t)nprobe, D, I) != 0) {
			const char *m = faiss_get_last_error();

			snprintf(err, errlen, "%s: faiss search: %s", s->dir, m ? m : "failed");
			goto out;
		}
		out->n = base;
		for (j = 0; j < kk && passing < need; j++) {
			double cos = 0;
			int ok;

			if (I[j] < 0)
				continue;
			got++;
			ok = check_row(q, s, o, I[j], 1, &cos, err, errlen);
			if (ok < 0)
				goto out;
			if (ok) {
				struct cand *c = cl_add(out, si, I[j]);

				if (c == NULL) {
					snprintf(err, errlen, "out of memory");
					goto out;
				}
				c->cos = cos;
				c->dense = 1;
				passing++;
			}
		}
		if (passing >= need)
			break;
		for (; j < kk; j++)
			if (I[j] >= 0)
				got++;
		if (got < kk) {
			/* the lists searched hold no more: search more lists */
			if (s->nlist > 0 && nprobe < s->nlist) {
				nprobe = nprobe * 4 < s->nlist ? nprobe * 4 : s->nlist;
				prepared = 0;
				continue;
			}
			break;
		}
		if (kk >= ntotal)
			break;
		kk *= 4;
	}
	r = 0;
out:
	free(D);
	free(I);
	return r;
}

/* Without a faiss file: every stored vector. */
struct exact {
	qry *q;
	struct cand *v;
	size_t n, cap;
	int failed;
};

static int exact_one(void *ctx, int64_t id, const float *vec)
{
	struct exact *e = ctx;

	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 4096;
		struct cand *v = realloc(e->v, cap * sizeof *v);

		if (v == NULL) {
			e->failed = 1;
			return -1;
		}
		e->v = v;
		e->cap = cap;
	}
	memset(&e->v[e->n], 0, sizeof e->v[e->n]);
	e->v[e->n].rid = id;
	e->v[e->n].cos = cosine(e->q->qv, vec, e->q->dim);
	e->n++;
	return 0;
}

static int dense_exact(qry *q, struct shard *s, int si, const qry_opts *o, long need, struct clist *out, char *err,
		       size_t errlen)
{
	struct exact e = { q, NULL, 0, 0, 0 };
	size_t i;
	long passing = 0;
	int r = -1;

	if (idx_each_vector(s->x, exact_one, &e) != 0) {
		snprintf(err, errlen, e.failed ? "out of memory" : "%s: cannot read the stored vectors", s->dir);
		goto out;
	}
	sort(e.v, e.n, sizeof *e.v, cmp_cos);
	for (i = 0; i < e.n && passing < need; i++) {
		int ok = filtered(o) ? check_row(q, s, o, e.v[i].rid, 0, NULL, err, errlen) : 1;
		struct cand *c;

		if (ok < 0)
			goto out;
		if (!ok)
			continue;
		c = cl_add(out, si, e.v[i].rid);
		if (c == NULL) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		c->cos = e.v[i].cos;
		c->dense = 1;
		passing++;
	}
	r = 0;
out:
	free(e.v);
	return r;
}

/* With several shards, a chunk id found in more than one is kept once, at
 * its best place in the list (sorted best first). */
static int dedupe(qry *q, struct clist *l, char *err, size_t errlen)
{
	uint64_t *seen;
	size_t i, k = 0, ns = 0, j;

	if (q->n < 2 || l->n < 2)
		return 0;
	seen = malloc(l->n * sizeof *seen);
	if (seen == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < l->n; i++) {
		idx_row row;
		uint64_t h = 0xcbf29ce484222325ULL;
		const char *p;
		int r = idx_reader_row(q->s[l->v[i].shard].rd, l->v[i].rid, 0, &row, err, errlen);

		if (r < 0) {
			free(seen);
			return -1;
		}
		if (r == 0)
			continue;
		for (p = row.c.id; *p; p++)
			h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
		for (j = 0; j < ns && seen[j] != h; j++)
			;
		if (j < ns) {
			free(l->v[i].terms);
			free(l->v[i].kinds);
			continue;
		}
		seen[ns++] = h;
		l->v[k++] = l->v[i];
	}
	l->n = k;
	free(seen);
	return 0;
}

/* The vector list: the best `need` over all shards, by cosine. */
static int dense(qry *q, const qry_opts *o, long need, long slot, struct clist *out, char *err, size_t errlen)
{
	size_t i;
	int nonzero = 0;

	for (i = 0; i < (size_t)q->dim; i++)
		nonzero |= q->qv[i] != 0;
	if (!nonzero)
		return 0;	/* nothing known of the question */
	for (i = 0; i < q->n; i++) {
		struct shard *s = &q->s[i];
		int r;

		if (idx_dim(s->x) != q->dim || idx_chunk_count(s->x) <= 0)
			continue;
		r = s->fi ? dense_faiss(q, s, (int)i, o, need, slot, out, err, errlen)
			  : dense_exact(q, s, (int)i, o, need, out, err, errlen);
		if (r < 0)
			return -1;
	}
	sort(out->v, out->n, sizeof *out->v, cmp_cos);
	if (dedupe(q, out, err, errlen) < 0)
		return -1;
	if (out->n > (size_t)need)
		out->n = (size_t)need;
	return 0;
}

/* The FTS5 expression of the question: its terms OR-ed, each given as the
 * tokenizer made it. Terms in more than half the chunks are left out when
 * others remain: FTS5's idf gives them (almost) nothing, and matching them
 * would cost a score for nearly every chunk. */
/* The FTS5 expression: the question's terms held by at most max_share of
 * the chunks; when none is that rare, those held by at most half of them;
 * when none is, all. A term in most chunks adds little to a score and makes
 * FTS5 score nearly every chunk. */
static int fts_expr(qry *q, sb *e, double max_share)
{
	size_t i;
	int n = 0;
	double limit = q->N, tries[2] = { max_share, 0.5 };
	int t;

	for (t = 0; t < 2; t++) {
		for (i = 0; i < q->nqt; i++)
			if (q->qt[i].df > 0 && (double)q->qt[i].df <= q->N * tries[t])
				break;
		if (i < q->nqt) {
			limit = q->N * tries[t];
			break;
		}
	}
	for (i = 0; i < q->nqt; i++) {
		const char *t = q->qtext.buf + q->qt[i].str;

		if (q->qt[i].df <= 0 || (double)q->qt[i].df > limit)
			continue;
		if ((n++ && sb_puts(e, " OR ") < 0) || sb_putc(e, '"') < 0 || sb_putc(e, FTS_TERM_MARK) < 0)
			return -1;
		for (; *t; t++)
			if ((*t == '"' && sb_putc(e, '"') < 0) || sb_putc(e, *t) < 0)
				return -1;
		if (sb_putc(e, '"') < 0)
			return -1;
	}
	return n;
}

struct fts_hits {
	int64_t *rid;
	double *score;
	size_t n, cap;
};

static int take_fts(void *ctx, int64_t rid, double score)
{
	struct fts_hits *h = ctx;

	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 256;
		int64_t *r = realloc(h->rid, cap * sizeof *r);
		double *s;

		if (r == NULL)
			return -1;
		h->rid = r;
		s = realloc(h->score, cap * sizeof *s);
		if (s == NULL)
			return -1;
		h->score = s;
		h->cap = cap;
	}
	h->rid[h->n] = rid;
	h->score[h->n++] = score;
	return 0;
}

/* The FTS5 list: the best `need` over all shards, of the terms fts_expr
 * picks with max_share. */
static int full_text(qry *q, const qry_opts *o, long need, double max_share, struct clist *out, char *err,
		     size_t errlen)
{
	sb e = SB_INIT;
	struct fts_hits h = { 0 };
	size_t i;
	int r = -1, n = fts_expr(q, &e, max_share);

	if (n < 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (n == 0) {
		r = 0;
		goto out;
	}
	for (i = 0; i < q->n; i++) {
		struct shard *s = &q->s[i];
		long limit = filtered(o) ? (need * 4 > 64 ? need * 4 : 64) : need;
		size_t base = out->n;

		if (idx_chunk_count(s->x) <= 0)
			continue;
		for (;;) {
			long got, passing = 0;
			size_t j;

			h.n = 0;
			got = idx_reader_fts(s->rd, e.buf, limit, take_fts, &h, err, errlen);
			if (got < 0)
				goto out;
			if ((size_t)got != h.n) {
				snprintf(err, errlen, "out of memory");
				goto out;
			}
			out->n = base;
			for (j = 0; j < h.n && passing < need; j++) {
				int ok = filtered(o) ? check_row(q, s, o, h.rid[j], 0, NULL, err, errlen) : 1;
				struct cand *c;

				if (ok < 0)
					goto out;
				if (!ok)
					continue;
				c = cl_add(out, (int)i, h.rid[j]);
				if (c == NULL) {
					snprintf(err, errlen, "out of memory");
					goto out;
				}
				c->fts = h.score[j];
				c->full = 1;
				passing++;
			}
			if (passing >= need || got < limit)
				break;
			limit *= 4;
		}
	}
	sort(out->v, out->n, sizeof *out->v, cmp_fts);
	if (dedupe(q, out, err, errlen) < 0)
		goto out;
	if (out->n > (size_t)need)
		out->n = (size_t)need;
	r = 0;
out:
	sb_free(&e);
	free(h.rid);
	free(h.score);
	return r;
}

/* ---- hybrid: the lexical list re-scored exactly ---- */

/* A candidate's terms in text order (hash and kind of each occurrence): a
 * scoring pass runs over them once, counting only the terms it weighs. */
struct seq {
	uint64_t *hash;
	unsigned char *kind;
	size_t n, cap;
};

static int take_seq(void *ctx, uint64_t hash, int kind)
{
	struct seq *t = ctx;

	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 512;
		uint64_t *h = realloc(t->hash, cap * sizeof *h);
		unsigned char *k;

		if (h == NULL)
			return -1;
		t->hash = h;
		k = realloc(t->kind, cap);
		if (k == NULL)
			return -1;
		t->kind = k;
		t->cap = cap;
	}
	t->hash[t->n] = hash;
	t->kind[t->n++] = (unsigned char)kind;
	return 0;
}

/* A candidate's terms: its body (title and text), then its title again so
 * that the title's terms count QRY_TITLE_WEIGHT times. The title's copies
 * count in its length too, as longer text would. */
static int passage_terms(qry *q, struct cand *c, char *err, size_t errlen)
{
	struct seq t = { 0 };
	idx_row row;
	int r = idx_reader_row(q->s[c->shard].rd, c->rid, IDX_ROW_TEXT, &row, err, errlen), i, failed;

	if (r <= 0) {
		if (r == 0)
			snprintf(err, errlen, "%s: chunk %lld is gone", q->s[c->shard].dir, (long long)c->rid);
		return -1;
	}
	failed = emb_lex_terms(row.body, row.body_len, take_seq, &t) < 0;
	for (i = 1; i < QRY_TITLE_WEIGHT && !failed && row.c.title; i++)
		failed = emb_lex_terms(row.c.title, strlen(row.c.title), take_seq, &t) < 0;
	if (failed) {
		free(t.hash);
		free(t.kind);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->terms = t.hash;
	c->kinds = t.kind;
	c->nterms = t.n;
	c->dl = (double)t.n;
	return 0;
}

static double kind_weight(int kind)
{
	switch (kind) {
	case TOK_UNIGRAM:
		return QRY_CJK_WEIGHT * EMB_LEX_UNIGRAM_WEIGHT;
	case TOK_BIGRAM:
		return QRY_CJK_WEIGHT;
	default:
		return 1.0;
	}
}

/* Terms by hash: an open-addressing table (power-of-two size, hash 0 never
 * a key: FNV-1a of a kind byte and a term is not 0 in practice, and a 0
 * would only go uncounted). */
struct wterm {
	uint64_t hash;
	int kind;
	double w;	/* the term's weight in the score, all but tfn */
	double e;	/* feedback: its share of the best passages */
	long tf;	/* in the passage being scored */
};

struct wtab {
	struct wterm *v;
	size_t cap, n;
};

static struct wterm *wt_find(struct wtab *t, uint64_t hash, int add)
{
	size_t j;

	if (hash == 0 || t->cap == 0)
		return NULL;
	for (j = (size_t)(hash ^ hash >> 29) & (t->cap - 1); t->v[j].hash; j = (j + 1) & (t->cap - 1))
		if (t->v[j].hash == hash)
			return &t->v[j];
	if (!add || (t->n + 1) * 2 > t->cap)
		return NULL;
	t->v[j].hash = hash;
	t->n++;
	return &t->v[j];
}

static int wt_init(struct wtab *t, size_t n)
{
	t->cap = 16;
	while (t->cap < 2 * n + 2)
		t->cap *= 2;
	t->n = 0;
	t->v = calloc(t->cap, sizeof *t->v);
	return t->v ? 0 : -1;
}

/* sum over the table's terms of w * tfn(t, c) */
static double score_with(const qry *q, struct wtab *t, const struct cand *c)
{
	double s = 0, norm = QRY_BM25_K1 * (1 - QRY_BM25_B + QRY_BM25_B * c->dl / q->avgdl);
	size_t i;

	for (i = 0; i < c->nterms; i++) {
		struct wterm *w = wt_find(t, c->terms[i], 0);

		if (w)
			w->tf++;
	}
	for (i = 0; i < t->cap; i++) {
		struct wterm *w = &t->v[i];

		if (w->hash && w->tf) {
			s += w->w * (double)w->tf * (QRY_BM25_K1 + 1) / ((double)w->tf + norm);
			w->tf = 0;
		}
	}
	return s;
}

static int cmp_e(const void *a, const void *b)
{
	const struct wterm *x = a, *y = b;

	if (x->e != y->e)
		return x->e > y->e ? -1 : 1;
	return x->hash < y->hash ? -1 : x->hash > y->hash;
}

static int cmp_lex_only(const void *a, const void *b)
{
	const struct cand *x = *(const struct cand *const *)a, *y = *(const struct cand *const *)b;

	if (x->lex != y->lex)
		return x->lex > y->lex ? -1 : 1;
	return cmp_cos(x, y);
}

static long term_df(qry *q, uint64_t hash)
{
	const struct qterm *t = find_qterm(q, hash);

	return t ? t->df : df_of(q, hash);
}

/* The feedback terms X of the m best candidates (top, best first, each
 * with a positive score) into fb.v[0 .. *nx), largest e first:
 *
 *   e(t) = sum over those d of (s(d)^p / S) tf(t, d) / dl(d),
 *          S = sum of s(d)^p, p = QRY_PRF_SHARPNESS
 *
 * the QRY_PRF_TERMS terms with the largest e(t) among those held by at
 * most QRY_PRF_MAX_SHARE of the chunks. -1 when memory ran out. */
static int feedback_terms(qry *q, struct cand *const *top, size_t m, struct wtab *fb, size_t *nx)
{
	size_t i, j, n = 0, kept = 0, terms = 0;
	double S = 0;

	for (i = 0; i < m; i++) {
		S += pow(top[i]->lex, QRY_PRF_SHARPNESS);
		terms += top[i]->nterms;
	}
	if (wt_init(fb, terms) < 0)
		return -1;
	for (i = 0; i < m; i++) {
		const struct cand *c = top[i];
		double share = pow(c->lex, QRY_PRF_SHARPNESS) / S / (c->dl > 0 ? c->dl : 1);

		for (j = 0; j < c->nterms; j++) {
			struct wterm *w = wt_find(fb, c->terms[j], 1);

			if (w) {
				w->kind = c->kinds[j];
				w->e += share;
			}
		}
	}
	for (i = 0; i < fb->cap; i++)
		if (fb->v[i].hash)
			fb->v[n++] = fb->v[i];
	sort(fb->v, n, sizeof *fb->v, cmp_e);
	for (i = 0; i < n && kept < QRY_PRF_TERMS; i++)
		if ((double)term_df(q, fb->v[i].hash) <= QRY_PRF_MAX_SHARE * q->N)
			fb->v[kept++] = fb->v[i];
	*nx = kept;
	return 0;
}

/* BM25 of every candidate, then one round of pseudo-relevance feedback:
 * the terms most typical of the best candidates join the question's, and
 * the candidates are scored again (bench/EMBEDDER.md, 2.6):
 *
 *   s(d)  = sum over question terms t of kappa(t) idf(t) tfn(t, d)
 *   X     = the feedback terms of the QRY_PRF_DOCS best (feedback_terms)
 *   s'(d) = sum over t of w'(t) kappa(t) idf(t) tfn(t, d), where
 *   w'(t) = (1 - lambda) / |Q| for a question term
 *           + lambda e(t) / (sum of e over X) for a term of X. */
static int rescore(qry *q, struct clist *l, char *err, size_t errlen)
{
	struct cand **top = NULL;
	struct wtab qt = { 0 }, fb = { 0 }, ws = { 0 };
	size_t i, m = 0, nx = 0;
	double E = 0;
	int r = -1;

	if (wt_init(&qt, q->nqt) < 0)
		goto nomem;
	for (i = 0; i < q->nqt; i++) {
		struct wterm *w = wt_find(&qt, q->qt[i].hash, 1);

		if (w) {
			w->kind = q->qt[i].kind;
			w->w = kind_weight(q->qt[i].kind) * q->qt[i].idf;
		}
	}
	for (i = 0; i < l->n; i++) {
		if (passage_terms(q, &l->v[i], err, errlen) < 0)
			goto out;
		l->v[i].lex = score_with(q, &qt, &l->v[i]);
	}
	top = malloc((l->n ? l->n : 1) * sizeof *top);
	if (top == NULL)
		goto nomem;
	for (i = 0; i < l->n; i++)
		top[i] = &l->v[i];
	sort(top, l->n, sizeof *top, cmp_lex_only);
	while (m < l->n && m < QRY_PRF_DOCS && top[m]->lex > 0)
		m++;
	if (m == 0 || q->nqt == 0) {
		r = 0;
		goto out;
	}
	if (feedback_terms(q, top, m, &fb, &nx) < 0)
		goto nomem;
	for (i = 0; i < nx; i++)
		E += fb.v[i].e;
	if (wt_init(&ws, q->nqt + nx) < 0)
		goto nomem;
	for (i = 0; i < q->nqt; i++) {
		struct wterm *w = wt_find(&ws, q->qt[i].hash, 1);

		if (w) {
			w->kind = q->qt[i].kind;
			w->w += (1 - QRY_PRF_LAMBDA) / (double)q->nqt;
		}
	}
	for (i = 0; i < nx; i++) {
		struct wterm *w = wt_find(&ws, fb.v[i].hash, 1);

		if (w) {
			w->kind = fb.v[i].kind;
			w->w += E > 0 ? QRY_PRF_LAMBDA * fb.v[i].e / E : 0;
		}
	}
	for (i = 0; i < ws.cap; i++) {
		struct wterm *w = &ws.v[i];
		long df;

		if (!w->hash)
			continue;
		df = term_df(q, w->hash);
		w->w *= df > 0 ? kind_weight(w->kind) * idf_of(q->N, (double)df) : 0;
	}
	for (i = 0; i < l->n; i++)
		l->v[i].lex = score_with(q, &ws, &l->v[i]);
	r = 0;
	goto out;
nomem:
	snprintf(err, errlen, "out of memory");
out:
	free(top);
	free(qt.v);
	free(fb.v);
	free(ws.v);
	return r;
}

/* The union of the two lists, re-scored and fused. */
static int hybrid(qry *q, const qry_opts *o, long need, long slot, struct clist *out, char *err, size_t errlen)
{
	struct clist v = { 0 }, f = { 0 };
	long nd = need > QRY_DENSE_N ? need : QRY_DENSE_N, nf = need > QRY_LEX_N ? need : QRY_LEX_N;
	size_t i, k = 0;
	double wv, wl;
	int r = -1;

	/* its candidates are re-scored with every term: rare terms find them */
	if ((q->dim > 0 && dense(q, o, nd, slot, &v, err, errlen) < 0)
	    || full_text(q, o, nf, QRY_LEX_SHARE, &f, err, errlen) < 0)
		goto out;
	for (i = 0; i < v.n; i++) {
		struct cand *c = cl_add(out, v.v[i].shard, v.v[i].rid);

		if (c == NULL)
			goto nomem;
		*c = v.v[i];
		c->vrank = (long)i + 1;
	}
	for (i = 0; i < f.n; i++) {
		struct cand *c = cl_add(out, f.v[i].shard, f.v[i].rid);

		if (c == NULL)
			goto nomem;
		*c = f.v[i];
	}
	/* one candidate per chunk, with what both lists know of it */
	sort(out->v, out->n, sizeof *out->v, cmp_where);
	for (i = 0; i < out->n; i++) {
		struct cand *c = &out->v[i];

		if (k > 0 && out->v[k - 1].shard == c->shard && out->v[k - 1].rid == c->rid) {
			struct cand *p = &out->v[k - 1];

			if (c->dense) {
				p->dense = 1;
				p->cos = c->cos;
				p->vrank = c->vrank;
			}
			if (c->full) {
				p->full = 1;
				p->fts = c->fts;
			}
		} else {
			out->v[k++] = *c;
		}
	}
	out->n = k;
	if (rescore(q, out, err, errlen) < 0)
		goto out;
	sort(out->v, out->n, sizeof *out->v, cmp_lex);
	for (i = 0, k = 0; i < out->n; i++)
		out->v[i].lrank = out->v[i].lex > 0 ? (long)++k : 0;
	qry_default_weights(q->embedder, &wv, &wl);
	if (o->w_vec >= 0 && o->w_lex >= 0) {
		wv = o->w_vec;
		wl = o->w_lex;
	}
	for (i = 0; i < out->n; i++) {
		struct cand *c = &out->v[i];

		c->score = (c->vrank ? wv / (o->rrf_k + (double)c->vrank) : 0)
			   + (c->lrank ? wl / (o->rrf_k + (double)c->lrank) : 0);
	}
	r = 0;
	goto out;
nomem:
	snprintf(err, errlen, "out of memory");
out:
	free(v.v);
	free(f.v);
	return r;
}

/* ---- hits ---- */

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* Load a candidate as a hit (and its unit vector into vec when not NULL).
 * 1, 0 when the row is gone, -1 on error. */
static int load_hit(qry *q, const struct cand *c, qry_hit *h, float *vec, char *err, size_t errlen)
{
	idx_row row;
	int r = idx_reader_row(q->s[c->shard].rd, c->rid, IDX_ROW_TEXT | (vec ? IDX_ROW_VEC : 0), &row, err, errlen);

	memset(h, 0, sizeof *h);
	if (r <= 0)
		return r;
	h->score = c->score;
	h->id = strdup(row.c.id);
	h->source = strdup(row.c.source);
	h->text = strdup(row.c.text);
	h->title = dup_or_null(row.c.title);
	h->fields_json = dup_or_null(row.c.fields_json);
	h->seq = row.c.seq;
	h->page = row.c.page;
	h->page_end = row.c.page_end;
	if (!h->id || !h->source || !h->text || (row.c.title && !h->title) || (row.c.fields_json && !h->fields_json)) {
		hit_free(h);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (vec) {
		memcpy(vec, row.c.vec, (size_t)q->dim * sizeof *vec);
		emb_normalize(vec, q->dim);
	}
	return 1;
}

size_t qry_overlap(const char *a, size_t alen, const char *b, size_t blen, size_t min)
{
	const char *p = a, *end = a + alen;

	if (min == 0)
		min = 1;
	if (alen < min || blen < min)
		return 0;
	/* the longest: the earliest place in a where b's beginning recurs and
	 * runs to a's end */
	while ((p = memmem(p, (size_t)(end - p), b, min)) != NULL) {
		size_t n = (size_t)(end - p);

		if (n <= blen && memcmp(p, b, n) == 0)
			return n;
		p++;
	}
	return 0;
}

/* Chunks that rag-split made overlap: the next one begins with the end of
 * the one before. */
#define QRY_MIN_OVERLAP 16

static int has_dup_id(const qry_hits *h, const char *id)
{
	size_t i, j;

	for (i = 0; i < h->n; i++) {
		if (strcmp(h->v[i].id, id) == 0)
			return 1;
		for (j = 0; j < h->v[i].nmerged; j++)
			if (strcmp(h->v[i].merged[j], id) == 0)
				return 1;
	}
	return 0;
}

/* Fold c into h when they are neighbours of one source whose texts overlap:
 * 1 merged, 0 not, -1 no memory. seq_lo and seq_hi are h's range. */
static int merge_overlap(qry_hit *h, long *seq_lo, long *seq_hi, const qry_hit *c)
{
	size_t ov, hl, cl;
	char *t, **m;

	if (strcmp(h->source, c->source) != 0 || (c->seq != *seq_hi + 1 && c->seq != *seq_lo - 1))
		return 0;
	hl = strlen(h->text);
	cl = strlen(c->text);
	if (c->seq == *seq_hi + 1)
		ov = qry_overlap(h->text, hl, c->text, cl, QRY_MIN_OVERLAP);
	else
		ov = qry_overlap(c->text, cl, h->text, hl, QRY_MIN_OVERLAP);
	if (ov == 0)
		return 0;
	t = malloc(hl + cl - ov + 1);
	m = realloc(h->merged, (h->nmerged + 1) * sizeof *m);
	if (t == NULL || m == NULL) {
		free(t);
		if (m)
			h->merged = m;
		return -1;
	}
	h->merged = m;
	if ((m[h->nmerged] = strdup(c->id)) == NULL) {
		free(t);
		return -1;
	}
	h->nmerged++;
	if (c->seq == *seq_hi + 1) {
		memcpy(t, h->text, hl);
		memcpy(t + hl, c->text + ov, cl - ov + 1);
		*seq_hi = c->seq;
	} else {
		memcpy(t, c->text, cl);
		memcpy(t + cl, h->text + ov, hl - ov + 1);
		*seq_lo = c->seq;
	}
	free(h->text);
	h->text = t;
	if (c->page > 0) {
		if (h->page == 0 || c->page < h->page)
			h->page = c->page;
		if (c->page_end > h->page_end)
			h->page_end = c->page_end;
	}
	return 1;
}

/* Maximal marginal relevance over the candidates: each next hit is the one
 * most relevant and least like those already chosen; a neighbour that
 * overlaps a chosen hit is merged into it instead. */
static int mmr(qry *q, const qry_opts *o, const struct cand *c, size_t n, qry_hits *out, char *err, size_t errlen)
{
	qry_hit *h = calloc(n ? n : 1, sizeof *h);
	float *vec = malloc((n ? n : 1) * (size_t)(q->dim > 0 ? q->dim : 1) * sizeof *vec);
	double *rel = malloc((n ? n : 1) * sizeof *rel), *maxsim = malloc((n ? n : 1) * sizeof *maxsim), top = 0;
	char *used = calloc(n ? n : 1, 1);
	long *lo = malloc((size_t)(o->k > 0 ? o->k : 1) * sizeof *lo), *hi = malloc((size_t)(o->k > 0 ? o->k : 1) * sizeof *hi);
	size_t i, j, loaded = 0;
	int r = -1;

	if (!h || !vec || !rel || !maxsim || !used || !lo || !hi)
		goto nomem;
	out->v = calloc((size_t)o->k, sizeof *out->v);
	if (out->v == NULL)
		goto nomem;
	for (i = 0; i < n; i++) {
		int ok = load_hit(q, &c[i], &h[i], vec + i * (size_t)q->dim, err, errlen);

		loaded = i + 1;
		if (ok < 0)
			goto out;
		if (ok == 0)
			used[i] = 1;
		if (c[i].score > top)
			top = c[i].score;
		maxsim[i] = 0;
	}
	/* relevance in [0, 1]: the cosine itself in vector mode, else the
	 * score relative to the best */
	for (i = 0; i < n; i++)
		rel[i] = o->mode == QRY_VECTOR ? c[i].score : top > 0 ? c[i].score / top : 0;
	while (out->n < (size_t)o->k) {
		size_t best = n;
		double bs = 0;

		for (i = 0; i < n; i++) {
			double s;

			if (used[i])
				continue;
			s = o->mmr_lambda * rel[i] - (1 - o->mmr_lambda) * maxsim[i];
			if (best == n || s > bs) {
				best = i;
				bs = s;
			}
		}
		if (best == n)
			break;
		used[best] = 1;
		if (has_dup_id(out, h[best].id))
			continue;	/* the same chunk in two shards */
		for (j = 0; j < out->n; j++) {
			int m = merge_overlap(&out->v[j], &lo[j], &hi[j], &h[best]);

			if (m < 0)
				goto nomem;
			if (m)
				break;
		}
		if (j < out->n)
			continue;	/* merged into a hit already chosen */
		lo[out->n] = hi[out->n] = h[best].seq;
		out->v[out->n++] = h[best];
		memset(&h[best], 0, sizeof h[best]);
		for (i = 0; i < n; i++) {
			double s = 0;
			int d;

			if (used[i])
				continue;
			for (d = 0; d < q->dim; d++)
				s += (double)vec[i * (size_t)q->dim + d] * vec[best * (size_t)q->dim + d];
			if (s > maxsim[i])
				maxsim[i] = s;
		}
	}
	r = 0;
	goto out;
nomem:
	snprintf(err, errlen, "out of memory");
out:
	for (i = 0; h && i < loaded; i++)
		hit_free(&h[i]);
	free(h);
	free(vec);
	free(rel);
	free(maxsim);
	free(used);
	free(lo);
	free(hi);
	return r;
}

static int top_k(qry *q, const qry_opts *o, const struct cand *c, size_t n, qry_hits *out, char *err, size_t errlen)
{
	size_t i;

	out->v = calloc((size_t)o->k, sizeof *out->v);
	if (out->v == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < n && out->n < (size_t)o->k; i++) {
		qry_hit h;
		int r = load_hit(q, &c[i], &h, NULL, err, errlen);

		if (r < 0)
			return -1;
		if (r == 0)
			continue;
		if (has_dup_id(out, h.id)) {
			/* the same chunk in two shards */
			hit_free(&h);
			continue;
		}
		out->v[out->n++] = h;
	}
	return 0;
}

/* Chunks the search needs, and those the vector list needs. */
static long needed(const qry_opts *o)
{
	long fetch = o->fetch_k > 0 ? o->fetch_k : (o->k * 4 > 20 ? o->k * 4 : 20);

	return o->mmr ? (fetch > o->k ? fetch : o->k) : o->k;
}

static long dense_needed(const qry_opts *o)
{
	long need = needed(o);

	return o->mode == QRY_HYBRID && need < QRY_DENSE_N ? QRY_DENSE_N : need;
}

int qry_prepare(qry *q, const qry_opts *o, const float *vecs, size_t n, char *err, size_t errlen)
{
	float *x;
	size_t i;
	int r = 0;

	if (o->mode == QRY_BM25 || q->dim <= 0 || n == 0)
		return 0;
	x = malloc(n * (size_t)q->dim * sizeof *x);
	if (x == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(x, vecs, n * (size_t)q->dim * sizeof *x);
	for (i = 0; i < n; i++)
		emb_normalize(x + i * (size_t)q->dim, q->dim);
	for (i = 0; i < q->n && r == 0; i++) {
		struct shard *s = &q->s[i];
		idx_t kk = first_kk(o, dense_needed(o)), nt;
		float *pd;
		idx_t *pi;

		s->pkk = 0;
		if (s->fi == NULL || idx_dim(s->x) != q->dim || (nt = faiss_Index_ntotal(s->fi)) <= 0)
			continue;
		if (kk > nt)
			kk = nt;
		pd = realloc(s->pd, n * (size_t)kk * sizeof *pd);
		if (pd)
			s->pd = pd;
		pi = realloc(s->pi, n * (size_t)kk * sizeof *pi);
		if (pi)
			s->pi = pi;
		if (pd == NULL || pi == NULL) {
			snprintf(err, errlen, "out of memory");
			r = -1;
		} else if (faiss_ragpipe_search(s->fi, (idx_t)n, x, kk, (size_t)shard_nprobe(q, s), s->pd, s->pi) != 0) {
			const char *m = faiss_get_last_error();

			snprintf(err, errlen, "%s: faiss search: %s", s->dir, m ? m : "failed");
			r = -1;
		} else {
			s->pkk = kk;
			s->pn = n;
		}
	}
	free(x);
	return r;
}

int qry_search(qry *q, const qry_opts *o, const char *text, size_t len, const float *vec, long slot, qry_hits *out,
	       char *err, size_t errlen)
{
	struct clist l = { 0 };
	long need = needed(o);
	size_t i, n;
	int r = -1;

	memset(out, 0, sizeof *out);
	if (o->k <= 0)
		return 0;
	/* qry_embed_builtin may have cut it already */
	if ((q->terms_of != text || q->terms_len != len) && question_terms(q, text, len) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (o->mode != QRY_BM25 && q->dim > 0) {
		if (vec == NULL) {
			snprintf(err, errlen, "no question vector");
			return -1;
		}
		if (q->qv == NULL && (q->qv = malloc((size_t)q->dim * sizeof *q->qv)) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		memcpy(q->qv, vec, (size_t)q->dim * sizeof *q->qv);
		emb_normalize(q->qv, q->dim);
	}
	switch (o->mode) {
	case QRY_VECTOR:
		if (q->dim > 0 && dense(q, o, need, slot, &l, err, errlen) < 0)
			goto out;
		for (i = 0; i < l.n; i++)
			l.v[i].score = l.v[i].cos;
		break;
	case QRY_BM25:
		if (full_text(q, o, need, 0.5, &l, err, errlen) < 0)
			goto out;
		for (i = 0; i < l.n; i++)
			l.v[i].score = l.v[i].fts;
		break;
	case QRY_HYBRID:
		if (hybrid(q, o, need, slot, &l, err, errlen) < 0)
			goto out;
		break;
	}
	sort(l.v, l.n, sizeof *l.v, cmp_score);
	for (n = 0; n < l.n && (!o->has_min_score || l.v[n].score >= o->min_score); n++)
		if (o->mode == QRY_HYBRID && l.v[n].score <= 0)
			break;
	if (o->mmr) {
		if (n > (size_t)need)
			n = (size_t)need;
		r = mmr(q, o, l.v, n, out, err, errlen);
	} else {
		r = top_k(q, o, l.v, n, out, err, errlen);
	}
	if (r < 0)
		qry_hits_free(out);
out:
	cl_free(&l);
	return r;
}
