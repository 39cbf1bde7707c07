/* Unit tests of qry, questions against index directories. */
#include "emb.h"
#include "idx.h"
#include "qry.h"
#include "unit.h"
#include "vecs.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DIM 64

static char base[256];

static const char *const texts[] = {
	"DenseNet connects every layer to every later layer of its block.",
	"ResNet adds a shortcut around each residual block.",
	"Pooling layers shrink the feature maps.",
	"稠密连接网络把特征图沿通道拼接。",
	"quillsort sorts lines by their length.",
	"Transformers attend to every token of the sequence.",
};

/* An index in base/NAME of the texts whose bit is set in which: source
 * "s<i>" each, fields {"n":i} and page i + 1. */
static int build(const char *name, unsigned which, const char *type)
{
	char dir[300], err[300], id[32], src[32], fields[32];
	idx *x;
	vecs *v;
	size_t i;
	int rc = 0;

	snprintf(dir, sizeof dir, "%s/%s", base, name);
	x = idx_open(dir, IDX_WRITE, 1, err, sizeof err);
	if (x == NULL)
		return -1;
	v = vecs_open(x, type, 0, err, sizeof err);
	if (v == NULL || idx_begin(x, err, sizeof err) < 0) {
		vecs_close(v);
		idx_close(x);
		return -1;
	}
	rc |= idx_use_embedder(x, "ragpipe-lex1-64", DIM, err, sizeof err);
	for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		float vec[DIM];
		idx_chunk c;
		int64_t rid;

		if (!(which & 1u << i))
			continue;
		snprintf(src, sizeof src, "s%zu", i);
		snprintf(id, sizeof id, "s%zu#1", i);
		snprintf(fields, sizeof fields, "{\"n\":%zu}", i);
		emb_lex_passage(texts[i], strlen(texts[i]), DIM, vec);
		memset(&c, 0, sizeof c);
		c.id = id;
		c.source = src;
		c.text = texts[i];
		c.fields_json = fields;
		c.seq = 1;
		c.page = c.page_end = (int)i + 1;
		c.vec = vec;
		rc |= idx_add_chunk(x, &c, &rid, err, sizeof err);
		rc |= vecs_add(v, rid, vec, err, sizeof err);
		rc |= idx_set_document(x, &(idx_doc){ src, "h", NULL, 1 }, err, sizeof err);
	}
	rc |= idx_commit(x, err, sizeof err);
	rc |= vecs_save(v, x, err, sizeof err);
	vecs_close(v);
	idx_close(x);
	return rc ? -1 : 0;
}

static qry *open_dirs(const char *a, const char *b)
{
	char da[300], db[300], err[300];
	const char *dirs[2] = { da, db };

	snprintf(da, sizeof da, "%s/%s", base, a);
	snprintf(db, sizeof db, "%s/%s", base, b ? b : a);
	return qry_open(dirs, b ? 2 : 1, err, sizeof err);
}

/* The ids of a question's hits, space-separated, into out. */
static int ask(qry *q, const qry_opts *o, const char *question, char *out, size_t outlen, double *top)
{
	float vec[DIM];
	qry_hits h;
	char err[300];
	size_t i, n = 0;
	int r;

	out[0] = '\0';
	if (qry_begin(q, err, sizeof err) < 0)
		return -1;
	r = qry_embed_builtin(q, question, strlen(question), DIM, vec);
	if (r == 0)
		r = qry_search(q, o, question, strlen(question), o->mode == QRY_BM25 ? NULL : vec, -1, &h, err, sizeof err);
	qry_end(q);
	if (r < 0)
		return -1;
	for (i = 0; i < h.n; i++)
		n += (size_t)snprintf(out + n, outlen - n, "%s%s", i ? " " : "", h.v[i].id);
	if (top)
		*top = h.n ? h.v[0].score : NAN;
	r = (int)h.n;
	qry_hits_free(&h);
	return r;
}

TEST(values_match_as_where_says)
{
	CHECK(qry_value_matches("\"en\"", strlen("\"en\""), "en"));
	CHECK(!qry_value_matches("\"en\"", strlen("\"en\""), "EN"));
	CHECK(qry_value_matches("2003", strlen("2003"), "2003"));
	CHECK(qry_value_matches("2003", strlen("2003"), "2003.0"));
	CHECK(qry_value_matches("2.5", strlen("2.5"), "2.50"));
	CHECK(!qry_value_matches("2003", strlen("2003"), "2003x"));
	CHECK(!qry_value_matches("2003", strlen("2003"), ""));
	CHECK(qry_value_matches("true", strlen("true"), "true"));
	CHECK(!qry_value_matches("false", strlen("false"), "true"));
	CHECK(qry_value_matches("null", strlen("null"), "null"));
	CHECK(qry_value_matches("[\"a\",3,\"b\"]", strlen("[\"a\",3,\"b\"]"), "b"));
	CHECK(qry_value_matches("[\"a\",3,\"b\"]", strlen("[\"a\",3,\"b\"]"), "3"));
	CHECK(!qry_value_matches("[\"a\",3,\"b\"]", strlen("[\"a\",3,\"b\"]"), "c"));
	CHECK(!qry_value_matches("{\"a\":1}", strlen("{\"a\":1}"), "1"));
	CHECK(!qry_value_matches("[1,", strlen("[1,"), "1"));
}

TEST(overlap_is_the_longest_suffix_that_begins_the_next)
{
	const char *a = "One two three. Four five six seven eight.";
	const char *b = "Four five six seven eight. Nine ten.";

	CHECK_INT(qry_overlap(a, strlen(a), b, strlen(b), 8), 26);
	CHECK_INT(qry_overlap(a, strlen(a), b, strlen(b), 30), 0);
	CHECK_INT(qry_overlap(b, strlen(b), a, strlen(a), 8), 0);
	/* b's beginning recurs earlier in a without running to its end */
	CHECK_INT(qry_overlap("abcdXXabcdef", 12, "abcdef!", 7, 4), 6);
	CHECK_INT(qry_overlap("", 0, "x", 1, 1), 0);
}

TEST(defaults)
{
	qry_opts o;
	double wv, wl;

	qry_opts_init(&o);
	CHECK_INT(o.k, 5);
	CHECK(o.mode == QRY_HYBRID);
	CHECK(o.rrf_k == 60);
	qry_default_weights("ragpipe-lex1-512", &wv, &wl);
	CHECK(wv == 0 && wl == 1);
	qry_default_weights("api:nomic-embed-text:768", &wv, &wl);
	CHECK(wv == 1 && wl == 1);
	CHECK_INT(qry_default_nprobe(512), 256);
	CHECK_INT(qry_default_nprobe(1), 1);
	CHECK_INT(qry_default_nprobe(5), 3);
}

TEST(vector_bm25_and_hybrid_find_the_chunk)
{
	qry *q;
	qry_opts o;
	char ids[512];
	double top;

	if (!CHECK_INT(build("all", 0x3f, NULL), 0))
		return;
	q = open_dirs("all", NULL);
	if (!CHECK(q != NULL))
		return;
	CHECK_STR(qry_embedder(q), "ragpipe-lex1-64");
	CHECK_INT(qry_dim(q), DIM);
	qry_opts_init(&o);
	o.mode = QRY_VECTOR;
	o.k = 2;
	CHECK_INT(ask(q, &o, "residual shortcut", ids, sizeof ids, &top), 2);
	CHECK(strncmp(ids, "s1#1 ", 5) == 0);
	CHECK(top > 0 && top <= 1);
	o.mode = QRY_BM25;
	CHECK_INT(ask(q, &o, "residual shortcut", ids, sizeof ids, &top), 1);
	CHECK_STR(ids, "s1#1");
	CHECK(top > 0);
	o.mode = QRY_HYBRID;
	CHECK_INT(ask(q, &o, "稠密连接", ids, sizeof ids, &top), 1);
	CHECK_STR(ids, "s3#1");
	CHECK(fabs(top - 1.0 / 61) < 1e-9);
	/* a word no chunk has: no hits at all */
	o.mode = QRY_VECTOR;
	CHECK_INT(ask(q, &o, "zzzz", ids, sizeof ids, NULL), 0);
	qry_close(q);
}

TEST(filters_and_min_score)
{
	const char *sources[] = { "s[45]" };
	qry_where where[] = { { "n", "5" } };
	qry *q = open_dirs("all", NULL);
	qry_opts o;
	char ids[512];
	double top;

	if (!CHECK(q != NULL))
		return;
	qry_opts_init(&o);
	o.mode = QRY_VECTOR;
	o.k = 6;
	o.sources = sources;
	o.nsources = 1;
	CHECK_INT(ask(q, &o, "DenseNet layers", ids, sizeof ids, NULL), 2);
	CHECK(strstr(ids, "s4#1") && strstr(ids, "s5#1"));
	o.where = where;
	o.nwhere = 1;
	CHECK_INT(ask(q, &o, "DenseNet layers", ids, sizeof ids, NULL), 1);
	CHECK_STR(ids, "s5#1");
	o.nsources = o.nwhere = 0;
	CHECK_INT(ask(q, &o, "DenseNet layers", ids, sizeof ids, &top), 6);
	o.has_min_score = 1;
	o.min_score = top;
	CHECK_INT(ask(q, &o, "DenseNet layers", ids, sizeof ids, NULL), 1);
	CHECK_STR(ids, "s0#1");
	qry_close(q);
}

TEST(shards_answer_as_one_index)
{
	qry *one, *two;
	qry_opts o;
	char a[512], b[512];
	double ta, tb;
	int m;

	if (!CHECK_INT(build("even", 0x15, NULL), 0) || !CHECK_INT(build("odd", 0x2a, NULL), 0))
		return;
	one = open_dirs("all", NULL);
	two = open_dirs("even", "odd");
	if (!CHECK(one && two))
		goto out;
	qry_opts_init(&o);
	o.k = 6;
	for (m = QRY_VECTOR; m <= QRY_HYBRID; m++) {
		o.mode = (enum qry_mode)m;
		CHECK(ask(one, &o, "every layer block shortcut", a, sizeof a, &ta) > 0);
		CHECK(ask(two, &o, "every layer block shortcut", b, sizeof b, &tb) > 0);
		if (m != QRY_BM25) {
			CHECK_STR(b, a);
			CHECK(fabs(ta - tb) < 1e-6);
		}
	}
	/* the same chunks in two shards come once */
	qry_close(two);
	two = open_dirs("all", "even");
	if (!CHECK(two))
		goto out;
	o.mode = QRY_VECTOR;
	CHECK_INT(ask(two, &o, "every layer block shortcut", b, sizeof b, NULL), 6);
out:
	qry_close(one);
	qry_close(two);
}

TEST(an_inverted_file_finds_the_same_with_all_lists)
{
	qry *flat, *ivf;
	qry_opts o;
	char a[512], b[512];

	if (!CHECK_INT(build("ivf", 0x3f, "IVF2,Flat"), 0))
		return;
	flat = open_dirs("all", NULL);
	ivf = open_dirs("ivf", NULL);
	if (!CHECK(flat && ivf))
		goto out;
	qry_set_nprobe(ivf, 2);
	qry_opts_init(&o);
	o.mode = QRY_VECTOR;
	o.k = 4;
	CHECK_INT(ask(flat, &o, "layers of the network", a, sizeof a, NULL), 4);
	CHECK_INT(ask(ivf, &o, "layers of the network", b, sizeof b, NULL), 4);
	CHECK_STR(b, a);
out:
	qry_close(flat);
	qry_close(ivf);
}

TEST(shards_of_other_embedders_and_missing_dirs_are_refused)
{
	char d1[300], d2[300], err[300] = "";
	const char *dirs[2] = { d1, d2 };
	idx *x;

	snprintf(d1, sizeof d1, "%s/all", base);
	snprintf(d2, sizeof d2, "%s/other", base);
	x = idx_open(d2, IDX_WRITE, 1, err, sizeof err);
	if (!CHECK(x != NULL))
		return;
	CHECK_INT(idx_begin(x, err, sizeof err), 0);
	CHECK_INT(idx_use_embedder(x, "ragpipe-lex1-32", 32, err, sizeof err), 0);
	CHECK_INT(idx_commit(x, err, sizeof err), 0);
	idx_close(x);
	CHECK(qry_open(dirs, 2, err, sizeof err) == NULL);
	CHECK(strstr(err, "ragpipe-lex1-64") && strstr(err, "ragpipe-lex1-32"));
	snprintf(d2, sizeof d2, "%s/nosuch", base);
	CHECK(qry_open(dirs, 2, err, sizeof err) == NULL);
	CHECK(strstr(err, "nosuch") != NULL);
}

int main(void)
{
	char cmd[600];

	snprintf(base, sizeof base, "%s/ragpipe-qry-test.%d", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
	snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", base, base);
	if (system(cmd) != 0)
		return 1;
	RUN(values_match_as_where_says);
	RUN(overlap_is_the_longest_suffix_that_begins_the_next);
	RUN(defaults);
	RUN(vector_bm25_and_hybrid_find_the_chunk);
	RUN(filters_and_min_score);
	RUN(shards_answer_as_one_index);
	RUN(an_inverted_file_finds_the_same_with_all_lists);
	RUN(shards_of_other_embedders_and_missing_dirs_are_refused);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
	if (system(cmd) != 0)
		return 1;
	return unit_done();
}
