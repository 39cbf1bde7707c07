#include "emb.h"
#include "jl.h"
#include "tok.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


void emb_lex_name(int dim, char *out, size_t outlen)
{
	snprintf(out, outlen, "ragpipe-lex%d-%d", EMB_LEX_VERSION, dim);
}

int emb_lex_parse_name(const char *name)
{
	char prefix[32];
	int dim = 0, n = 0;

	snprintf(prefix, sizeof prefix, "ragpipe-lex%d-", EMB_LEX_VERSION);
	if (strncmp(name, prefix, strlen(prefix)) != 0)
		return 0;
	if (sscanf(name + strlen(prefix), "%d%n", &dim, &n) != 1 || name[strlen(prefix) + (size_t)n] != '\0')
		return 0;
	return dim > 0 && dim <= 65536 ? dim : 0;
}

uint64_t emb_lex_hash(int kind, const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	h ^= (unsigned char)kind;
	h *= 0x100000001b3ULL;
	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

struct term_ctx {
	emb_term_fn fn;
	void *ctx;
};

static int term_cb(void *ctx, enum tok_kind kind, const char *term, size_t len, size_t start, size_t end)
{
	struct term_ctx *t = ctx;

	(void)start;
	(void)end;
	return t->fn(t->ctx, emb_lex_hash(kind, term, len), kind);
}

int emb_lex_terms(const char *text, size_t len, emb_term_fn fn, void *ctx)
{
	struct term_ctx t = { fn, ctx };

	return tok_each(text, len, TOK_STEM, term_cb, &t);
}

double emb_lex_tf_weight(double tf, double dl, double avgdl)
{
	return tf * (EMB_LEX_K1 + 1) / (tf + EMB_LEX_K1 * (1 - EMB_LEX_B + EMB_LEX_B * dl / avgdl));
}

static double kind_weight(int kind)
{
	return kind == TOK_UNIGRAM ? EMB_LEX_UNIGRAM_WEIGHT : 1.0;
}

/* The distinct terms of a text and how often each occurs: an open-addressing
 * table, grown as terms come. */
struct bag {
	uint64_t *hash;
	int *kind;
	double *tf;
	size_t cap, n;
	size_t total;
};

static int bag_grow(struct bag *b)
{
	struct bag nb = { 0 };
	size_t i;

	nb.cap = b->cap ? b->cap * 2 : 256;
	nb.hash = calloc(nb.cap, sizeof *nb.hash);
	nb.kind = calloc(nb.cap, sizeof *nb.kind);
	nb.tf = calloc(nb.cap, sizeof *nb.tf);
	if (!nb.hash || !nb.kind || !nb.tf) {
		free(nb.hash);
		free(nb.kind);
		free(nb.tf);
		return -1;
	}
	for (i = 0; i < b->cap; i++) {
		if (b->tf[i] > 0) {
			size_t j = (size_t)(b->hash[i] & (nb.cap - 1));

			while (nb.tf[j] > 0)
				j = (j + 1) & (nb.cap - 1);
			nb.hash[j] = b->hash[i];
			nb.kind[j] = b->kind[i];
			nb.tf[j] = b->tf[i];
		}
	}
	nb.n = b->n;
	nb.total = b->total;
	free(b->hash);
	free(b->kind);
	free(b->tf);
	*b = nb;
	return 0;
}

static int bag_add(void *ctx, uint64_t hash, int kind)
{
	struct bag *b = ctx;
	size_t j;

	if ((b->n + 1) * 2 > b->cap && bag_grow(b) < 0)
		return -1;
	j = (size_t)(hash & (b->cap - 1));
	while (b->tf[j] > 0 && b->hash[j] != hash)
		j = (j + 1) & (b->cap - 1);
	if (b->tf[j] == 0) {
		b->hash[j] = hash;
		b->kind[j] = kind;
		b->n++;
	}
	b->tf[j] += 1;
	b->total++;
	return 0;
}

static void bag_free(struct bag *b)
{
	free(b->hash);
	free(b->kind);
	free(b->tf);
}

static void add_hashed(float *out, int dim, uint64_t hash, double w)
{
	/* the top bit gives the sign, so that collisions cancel on average */
	size_t bucket = (size_t)((hash & 0x7fffffffffffffffULL) % (uint64_t)dim);

	out[bucket] += (float)(hash >> 63 ? -w : w);
}

void emb_normalize(float *v, int dim)
{
	double norm = 0;
	int i;

	for (i = 0; i < dim; i++)
		norm += (double)v[i] * v[i];
	if (norm <= 0)
		return;
	norm = sqrt(norm);
	for (i = 0; i < dim; i++)
		v[i] = (float)(v[i] / norm);
}

/* The vector of a text whose distinct terms weigh weight(ctx, hash, kind,
 * tf, terms in the text). */
typedef double (*term_weight_fn)(void *ctx, uint64_t hash, int kind, double tf, double total);

static int embed_terms(const char *text, size_t len, int dim, term_weight_fn weight, void *ctx, float *out)
{
	struct bag b = { 0 };
	size_t i;

	memset(out, 0, (size_t)dim * sizeof *out);
	if (emb_lex_terms(text, len, bag_add, &b) < 0) {
		bag_free(&b);
		return -1;
	}
	for (i = 0; i < b.cap; i++)
		if (b.tf[i] > 0)
			add_hashed(out, dim, b.hash[i], weight(ctx, b.hash[i], b.kind[i], b.tf[i], (double)b.total));
	bag_free(&b);
	emb_normalize(out, dim);
	return 0;
}

static double passage_weight(void *ctx, uint64_t hash, int kind, double tf, double total)
{
	(void)ctx;
	(void)hash;
	return emb_lex_tf_weight(tf, total, EMB_LEX_AVGDL) * kind_weight(kind);
}

int emb_lex_passage(const char *text, size_t len, int dim, float *out)
{
	return embed_terms(text, len, dim, passage_weight, NULL, out);
}

/* Without an index to say how common a term is, the words every question
 * has would outweigh the one it is about: these count for little. Stems, as
 * the tokenizer gives them. */
static const char *const question_words[] = {
	"a", "an", "the", "is", "ar", "wa", "were", "be", "been", "do", "doe", "did", "what", "which",
	"who", "whom", "whose", "when", "where", "why", "how", "of", "to", "in", "on", "at", "by", "for",
	"with", "from", "and", "or", "it", "it", "thi", "that", "these", "those", "i", "you", "we", "thei",
	"can", "could", "should", "would", "mean", "tell", "me", "about", "explain", "describ",
};
static const char *const question_chars[] = {
	"的", "是", "什", "么", "什么", "了", "吗", "呢", "哪", "谁", "怎", "样", "怎么", "么样", "怎样", "在", "和",
	"为", "何", "为什", "一个", "个", "有", "哪些",
};

static double question_word_weight(uint64_t hash)
{
	size_t i;

	for (i = 0; i < sizeof question_words / sizeof question_words[0]; i++)
		if (emb_lex_hash(TOK_WORD, question_words[i], strlen(question_words[i])) == hash)
			return 0.1;
	for (i = 0; i < sizeof question_chars / sizeof question_chars[0]; i++) {
		size_t n = strlen(question_chars[i]);

		if (emb_lex_hash(n > 3 ? TOK_BIGRAM : TOK_UNIGRAM, question_chars[i], n) == hash)
			return 0.1;
	}
	return 1.0;
}

struct question_ctx {
	emb_idf_fn idf;
	void *ctx;
};

static double question_weight(void *ctx, uint64_t hash, int kind, double tf, double total)
{
	struct question_ctx *q = ctx;

	(void)tf;
	(void)total;
	return (q->idf ? q->idf(q->ctx, hash) : question_word_weight(hash)) * kind_weight(kind);
}

double emb_lex_question_term_weight(uint64_t hash, int kind)
{
	return question_word_weight(hash) * kind_weight(kind);
}

int emb_lex_question(const char *text, size_t len, int dim, emb_idf_fn idf, void *ctx, float *out)
{
	struct question_ctx q = { idf, ctx };

	return embed_terms(text, len, dim, question_weight, &q, out);
}

int emb_request(sb *body, const char *model, const char *const *texts, const size_t *lens, size_t n)
{
	size_t i;

	if (sb_puts(body, "{\"model\":") < 0 || jl_put_string(body, model, strlen(model)) < 0
	    || sb_puts(body, ",\"input\":[") < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if ((i && sb_putc(body, ',') < 0) || jl_put_string(body, texts[i], lens[i]) < 0)
			return -1;
	}
	return sb_puts(body, "]}");
}

static int fail(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s", what);
	return -1;
}

/* Decoding an /embeddings answer straight from its text: json-c would make
 * an object of every number, and that was most of a client's time. */
struct answer {
	size_t n;		/* texts asked about */
	int dim;		/* 0 until the first vector says */
	float *v;		/* n * dim */
	unsigned char *seen;
	size_t count;
	char *err;
	size_t errlen;
	const char *data;	/* the "data" array's text */
	size_t data_len;
	const char *idx, *emb;	/* the element's "index" and "embedding" values */
	size_t idx_len, emb_len;
	float *dst;		/* where its numbers go (NULL: only count them) */
	size_t k;
};

/* The value of the member whose key the callback was given: the text the
 * offsets count from is key - start - 1. */
static const char *member_value(const char *key, size_t keylen, size_t start, size_t end, size_t *len)
{
	const char *base = key - start - 1, *v = key + keylen + 1;

	while (*v != ':')
		v++;
	v++;
	while (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r')
		v++;
	*len = (size_t)(base + end - v);
	return v;
}

static int top_member(void *ctx, const char *key, size_t keylen, size_t start, size_t end)
{
	struct answer *a = ctx;

	if (keylen == 4 && memcmp(key, "data", 4) == 0)
		a->data = member_value(key, keylen, start, end, &a->data_len);
	return 0;
}

static int item_member(void *ctx, const char *key, size_t keylen, size_t start, size_t end)
{
	struct answer *a = ctx;

	if (keylen == 5 && memcmp(key, "index", 5) == 0)
		a->idx = member_value(key, keylen, start, end, &a->idx_len);
	else if (keylen == 9 && memcmp(key, "embedding", 9) == 0)
		a->emb = member_value(key, keylen, start, end, &a->emb_len);
	return 0;
}

static int number(void *ctx, size_t start, size_t end)
{
	struct answer *a = ctx;
	const char *p = a->emb + start;
	double f;

	if (*p != '-' && (*p < '0' || *p > '9')) {
		snprintf(a->err, a->errlen, "vector %zu holds a value that is not a number", a->count);
		return -1;
	}
	if (a->dst) {
		f = jl_number(p, end - start);
		if (!isfinite((float)f)) {
			snprintf(a->err, a->errlen, "vector %zu holds a value that is not finite", a->count);
			return -1;
		}
		if (a->k < (size_t)a->dim)
			a->dst[a->k] = (float)f;
	}
	a->k++;
	return 0;
}

static int item(void *ctx, size_t start, size_t end)
{
	struct answer *a = ctx;
	const char *it = a->data + start;
	size_t at = a->count;

	a->idx = a->emb = NULL;
	if (*it != '{' || jl_members(it, end - start, item_member, a) < 0 || a->emb == NULL || *a->emb != '[') {
		snprintf(a->err, a->errlen, "vector %zu is not an object with an \"embedding\" array", a->count);
		return -1;
	}
	if (a->count >= a->n) {
		snprintf(a->err, a->errlen, "answer has more vectors than the %zu texts", a->n);
		return -1;
	}
	if (a->idx) {
		char *stop;
		long long x = strtoll(a->idx, &stop, 10);

		if (stop != a->idx + a->idx_len || x < 0 || (unsigned long long)x >= a->n) {
			snprintf(a->err, a->errlen, "vector %zu has a bad \"index\"", a->count);
			return -1;
		}
		at = (size_t)x;
	}
	if (a->seen[at]) {
		snprintf(a->err, a->errlen, "index %zu comes twice", at);
		return -1;
	}
	a->seen[at] = 1;
	if (a->dim == 0) {
		/* the first vector sets the dimension */
		a->dst = NULL;
		a->k = 0;
		if (jl_elements(a->emb, a->emb_len, number, a) < 0)
			return -1;
		if (a->k == 0 || a->k > 65536) {
			snprintf(a->err, a->errlen, "vector %zu has dimension %zu", at, a->k);
			return -1;
		}
		a->dim = (int)a->k;
	}
	if (a->v == NULL && (a->v = malloc(a->n * (size_t)a->dim * sizeof *a->v)) == NULL) {
		snprintf(a->err, a->errlen, "out of memory");
		return -1;
	}
	a->dst = a->v + at * (size_t)a->dim;
	a->k = 0;
	if (jl_elements(a->emb, a->emb_len, number, a) < 0)
		return -1;
	if (a->k != (size_t)a->dim) {
		snprintf(a->err, a->errlen, "vector %zu has dimension %zu, expected %d", at, a->k, a->dim);
		return -1;
	}
	a->count++;
	return 0;
}

int emb_response(const char *body, size_t len, size_t n, int *dim, float **vecs, char *err, size_t errlen)
{
	struct answer a;

	memset(&a, 0, sizeof a);
	a.n = n;
	a.dim = *dim;
	a.err = err;
	a.errlen = errlen;
	err[0] = '\0';
	*vecs = NULL;
	if (jl_members(body, len, top_member, &a) < 0)
		return fail(err, errlen, "answer is not valid JSON");
	if (a.data == NULL || *a.data != '[')
		return fail(err, errlen, "answer has no \"data\" array");
	a.seen = calloc(n ? n : 1, 1);
	if (a.seen == NULL)
		return fail(err, errlen, "out of memory");
	if (jl_elements(a.data, a.data_len, item, &a) < 0) {
		if (err[0] == '\0')
			fail(err, errlen, "answer is not valid JSON");
		goto bad;
	}
	if (a.count != n) {
		snprintf(err, errlen, "answer has %zu vectors for %zu texts", a.count, n);
		goto bad;
	}
	free(a.seen);
	*dim = a.dim;
	*vecs = a.v;
	return 0;
bad:
	free(a.seen);
	free(a.v);
	return -1;
}
