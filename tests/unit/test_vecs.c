/* Unit tests of vecs.c: reading an "embedding" from its JSON text, and the
 * index type chosen by size. */
#include "unit.h"
#include "vecs.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int parse(const char *text, float **v, int *dim, char *err, size_t errlen)
{
	return vecs_parse_text(text, strlen(text), v, dim, err, errlen);
}

TEST(array_of_numbers)
{
	float *v = NULL;
	int dim = 0;
	char err[256];

	if (!CHECK_INT(parse("[0.5, -1,1e-3 ,\n2.5E2, 0, -0.0, 3.4028235e38]", &v, &dim, err, sizeof err), 0))
		return;
	CHECK_INT(dim, 7);
	CHECK(v[0] == 0.5f && v[1] == -1.0f && v[2] == 1e-3f && v[3] == 250.0f && v[4] == 0.0f && v[5] == 0.0f);
	CHECK(v[6] == 3.4028235e38f);
	free(v);
}

TEST(base64_of_float32)
{
	/* 1.0f, -2.0f little-endian: 00 00 80 3f 00 00 00 c0 */
	float *v = NULL;
	int dim = 0;
	char err[256];

	if (!CHECK_INT(parse("\"AACAPwAAAMA=\"", &v, &dim, err, sizeof err), 0))
		return;
	CHECK_INT(dim, 2);
	CHECK(v[0] == 1.0f && v[1] == -2.0f);
	free(v);
	/* a JSON escape inside the string is decoded first */
	CHECK_INT(parse("\"AACAPwAAAMA\\u003d\"", &v, &dim, err, sizeof err), 0);
	CHECK_INT(dim, 2);
	free(v);
}

TEST(bad_embeddings)
{
	static const struct {
		const char *text, *err;
	} cases[] = {
		{ "[]", "\"embedding\" is empty" },
		{ "[1, \"2\"]", "\"embedding\" value 1 is not a number" },
		{ "[1, null]", "\"embedding\" value 1 is not a number" },
		{ "[1, 1e39]", "\"embedding\" value 1 is not finite" },
		{ "[-1e400]", "\"embedding\" value 0 is not finite" },
		{ "[[1]]", "\"embedding\" value 0 is not a number" },
		{ "{\"a\":1}", "\"embedding\" is neither an array of numbers nor base64" },
		{ "42", "\"embedding\" is neither an array of numbers nor base64" },
		{ "\"AAA\"", "\"embedding\" is not base64 of float32 values" },
		{ "\"AAAA!AAA\"", "\"embedding\" is not base64 of float32 values" },
		{ "\"AADAfw==\"", "\"embedding\" value 0 is not finite" },	/* NaN */
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		float *v = (float *)&i;
		int dim = -1;
		char err[256] = "";

		CHECK_INT(parse(cases[i].text, &v, &dim, err, sizeof err), -1);
		CHECK(v == NULL);
		if (!CHECK_STR(err, cases[i].err))
			fprintf(stderr, "# for %s\n", cases[i].text);
	}
}

TEST(too_many_values)
{
	size_t n = 65537, i;
	char *text = malloc(2 * n + 2), err[256] = "";
	float *v = NULL;
	int dim = 0;

	if (!CHECK(text != NULL))
		return;
	text[0] = '[';
	for (i = 0; i < n; i++) {
		text[1 + 2 * i] = '1';
		text[2 + 2 * i] = i + 1 < n ? ',' : ']';
	}
	text[2 * n + 1] = '\0';
	CHECK_INT(parse(text, &v, &dim, err, sizeof err), -1);
	CHECK(strstr(err, "65536") != NULL);
	/* one fewer is fine */
	text[2 * n - 2] = ']';
	text[2 * n - 1] = '\0';
	CHECK_INT(parse(text, &v, &dim, err, sizeof err), 0);
	CHECK_INT(dim, 65536);
	free(v);
	free(text);
}

TEST(default_type_by_size)
{
	char t[64];

	vecs_default_type(0, t, sizeof t);
	CHECK_STR(t, "Flat");
	vecs_default_type(50000, t, sizeof t);
	CHECK_STR(t, "Flat");
	vecs_default_type(50001, t, sizeof t);
	CHECK_STR(t, "IVF256,Flat");
	vecs_default_type(100000, t, sizeof t);
	CHECK_STR(t, "IVF512,Flat");
	vecs_default_type(1000000, t, sizeof t);
	CHECK_STR(t, "IVF1024,Flat");
}

int main(void)
{
	RUN(array_of_numbers);
	RUN(base64_of_float32);
	RUN(bad_embeddings);
	RUN(too_many_values);
	RUN(default_type_by_size);
	return unit_done();
}
