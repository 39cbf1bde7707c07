/* Unit tests of emb (built-in embedder, server answers), jl_put_float,
 * jl_put_string, sha256 and tok. */
#include "emb.h"
#include "jl.h"
#include "sha256.h"
#include "tok.h"
#include "unit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double norm(const float *v, int dim)
{
	double s = 0;
	int i;

	for (i = 0; i < dim; i++)
		s += (double)v[i] * v[i];
	return sqrt(s);
}

TEST(lex_names)
{
	char name[64];

	emb_lex_name(512, name, sizeof name);
	CHECK_STR(name, "ragpipe-lex1-512");
	CHECK_INT(emb_lex_parse_name(name), 512);
	CHECK_INT(emb_lex_parse_name("ragpipe-lex1-512x"), 0);
	CHECK_INT(emb_lex_parse_name("ragpipe-lex0-512"), 0);
	CHECK_INT(emb_lex_parse_name("api:nomic:768"), 0);
}

TEST(lex_passage_is_unit_and_deterministic)
{
	static const char text[] = "DenseNet connects every layer to every later layer of its dense block.";
	float a[256], b[256], c[128];

	CHECK_INT(emb_lex_passage(text, strlen(text), 256, a), 0);
	CHECK_INT(emb_lex_passage(text, strlen(text), 256, b), 0);
	CHECK(fabs(norm(a, 256) - 1) < 1e-5);
	CHECK(memcmp(a, b, sizeof a) == 0);
	CHECK_INT(emb_lex_passage(text, strlen(text), 128, c), 0);
	CHECK(fabs(norm(c, 128) - 1) < 1e-5);
}

TEST(lex_empty_text_is_zero)
{
	float v[16];
	int i, zero = 1;

	CHECK_INT(emb_lex_passage("  ...  ", 7, 16, v), 0);
	for (i = 0; i < 16; i++)
		zero &= v[i] == 0;
	CHECK(zero);
}

static double cosine(const char *a, const char *b)
{
	float x[512], y[512];
	double s = 0;
	int i;

	emb_lex_passage(a, strlen(a), 512, x);
	emb_lex_question(b, strlen(b), 512, NULL, NULL, y);
	for (i = 0; i < 512; i++)
		s += (double)x[i] * y[i];
	return s;
}

TEST(lex_related_texts_are_closer)
{
	const char *doc = "Residual networks add the input of a block to its output through a shortcut connection.";

	/* stems match: "connections" ~ "connection", "residual" */
	CHECK(cosine(doc, "What are residual connections?") > cosine(doc, "How do I bake bread?"));
	CHECK(cosine("动手学深度学习是一本书。", "深度学习") > cosine("动手学深度学习是一本书。", "天气很好"));
	/* a Kangxi radical counts as the ideograph: 手 (U+624B) and ⼿ (U+2F3F) */
	CHECK(fabs(cosine("动手学", "动\xE2\xBC\xBF学") - 1) < 1e-5);
}

struct terms { int words, uni, bi; char last[64]; };

static int count_terms(void *ctx, enum tok_kind kind, const char *t, size_t len, size_t start, size_t end)
{
	struct terms *c = ctx;

	(void)start;
	(void)end;
	if (kind == TOK_WORD)
		c->words++;
	else if (kind == TOK_UNIGRAM)
		c->uni++;
	else
		c->bi++;
	if (len < sizeof c->last) {
		memcpy(c->last, t, len);
		c->last[len] = '\0';
	}
	return 0;
}

TEST(tok_words_and_cjk)
{
	struct terms c = { 0 };

	CHECK_INT(tok_each("Hello, WORLD! Café naïve", strlen("Hello, WORLD! Café naïve"), TOK_STEM, count_terms, &c), 0);
	CHECK_INT(c.words, 4);
	CHECK_STR(c.last, "naiv");
	memset(&c, 0, sizeof c);
	CHECK_INT(tok_each("深度学习", strlen("深度学习"), 0, count_terms, &c), 0);
	CHECK_INT(c.uni, 4);
	CHECK_INT(c.bi, 3);
	memset(&c, 0, sizeof c);
	CHECK_INT(tok_each("用Python写", strlen("用Python写"), 0, count_terms, &c), 0);
	CHECK_INT(c.words, 1);
	CHECK_INT(c.uni, 2);
	CHECK_INT(c.bi, 0);
}

TEST(response_in_index_order)
{
	static const char body[] = "{\"data\":[{\"index\":1,\"embedding\":[3,4]},{\"index\":0,\"embedding\":[0.5,-1.5]}]}";
	float *v = NULL;
	int dim = 0;
	char err[200];

	if (CHECK_INT(emb_response(body, strlen(body), 2, &dim, &v, err, sizeof err), 0)) {
		CHECK_INT(dim, 2);
		CHECK(v[0] == 0.5f && v[1] == -1.5f && v[2] == 3 && v[3] == 4);
	}
	free(v);
}

TEST(response_faults)
{
	static const char *bad[] = {
		"{\"data\":[{\"index\":0,\"embedding\":[1,2]}]}",				/* one too few */
		"{\"data\":[{\"index\":0,\"embedding\":[1,2]},{\"index\":1,\"embedding\":[1]}]}",	/* dimension */
		"{\"data\":[{\"index\":0,\"embedding\":[1,2]},{\"index\":0,\"embedding\":[1,2]}]}",	/* twice */
		"{\"data\":[{\"index\":0,\"embedding\":[1,NaN]},{\"index\":1,\"embedding\":[1,2]}]}",
		"{\"data\":[{\"index\":0,\"embedding\":[1,1e300]},{\"index\":1,\"embedding\":[1,2]}]}",
		"{\"data\":[{\"index\":0,\"embedding\":[1,\"x\"]},{\"index\":1,\"embedding\":[1,2]}]}",
		"{\"data\":[{\"index\":0,\"embedding\":[1,2]},{\"index\":5,\"embedding\":[1,2]}]}",
		"{\"dat",
		"{\"object\":\"list\"}",
	};
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		float *v = NULL;
		int dim = 0;
		char err[200] = "";

		CHECK_INT(emb_response(bad[i], strlen(bad[i]), 2, &dim, &v, err, sizeof err), -1);
		CHECK(err[0] != '\0');
		CHECK(v == NULL);
	}
	{
		/* the dimension of the run must hold */
		static const char body[] = "{\"data\":[{\"index\":0,\"embedding\":[1,2,3]}]}";
		float *v = NULL;
		int dim = 2;
		char err[200];

		CHECK_INT(emb_response(body, strlen(body), 1, &dim, &v, err, sizeof err), -1);
	}
}

TEST(request_body)
{
	const char *texts[] = { "a \"quoted\"\nline", "中文" };
	size_t lens[] = { strlen(texts[0]), strlen(texts[1]) };
	sb b = SB_INIT;

	CHECK_INT(emb_request(&b, "m", texts, lens, 2), 0);
	CHECK_STR(sb_str(&b), "{\"model\":\"m\",\"input\":[\"a \\\"quoted\\\"\\nline\",\"中文\"]}");
	sb_free(&b);
}

TEST(float_round_trip)
{
	static const float v[] = { 0.1f, -0.5f, 1, 3.4028235e38f, 1.17549435e-38f, 1.4e-45f, 0.290084243f,
				   -0.000012345f, 123456789.0f, 7e-10f };
	sb b = SB_INIT;
	size_t i;
	unsigned x = 1;
	long bad = 0;

	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		sb_truncate(&b, 0);
		CHECK_INT(jl_put_float(&b, v[i]), 0);
		CHECK((float)strtod(sb_str(&b), NULL) == v[i]);
	}
	sb_truncate(&b, 0);
	jl_put_float(&b, 0.1f);
	CHECK_STR(sb_str(&b), "0.1");
	sb_truncate(&b, 0);
	CHECK_INT(jl_put_float(&b, NAN), -1);
	CHECK_INT(jl_put_float(&b, INFINITY), -1);
	for (i = 0; i < 200000; i++) {
		float f;
		unsigned u;

		x = x * 1664525u + 1013904223u;
		u = x;
		memcpy(&f, &u, sizeof f);
		if (!isfinite(f))
			continue;
		sb_truncate(&b, 0);
		jl_put_float(&b, f);
		bad += (float)strtod(sb_str(&b), NULL) != f;
	}
	CHECK_INT(bad, 0);
	sb_free(&b);
}

TEST(string_escapes)
{
	sb b = SB_INIT;

	CHECK_INT(jl_put_string(&b, "a\"b\\c\x01/\t", 8), 0);
	CHECK_STR(sb_str(&b), "\"a\\\"b\\\\c\\u0001/\\t\"");
	sb_free(&b);
}

TEST(sha256_known)
{
	unsigned char d[32];
	char hex[65];

	sha256("abc", 3, d, hex);
	CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	sha256("", 0, d, hex);
	CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

int main(void)
{
	RUN(lex_names);
	RUN(lex_passage_is_unit_and_deterministic);
	RUN(lex_empty_text_is_zero);
	RUN(lex_related_texts_are_closer);
	RUN(tok_words_and_cjk);
	RUN(response_in_index_order);
	RUN(response_faults);
	RUN(request_body);
	RUN(float_round_trip);
	RUN(string_escapes);
	RUN(sha256_known);
	return unit_done();
}
