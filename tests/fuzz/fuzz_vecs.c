/* The embedding text parser (vecs_parse_text in vecs.h), which reads most
 * of what rag-index reads. Its input must be valid JSON, so the bytes are
 * made the value of an object member and only a line jl_check passes is
 * given to it, as rag-index does. An array of numbers it accepts must hold
 * exactly strtod's values narrowed to float; one it refuses must have a
 * value that is not a finite float32 number, or no value, or too many. */
#include "fuzz.h"
#include "jl.h"
#include "sb.h"
#include "vecs.h"

#include <math.h>
#include <string.h>

struct value {
	const char *s;
	size_t start, end;
};

static int find_value(void *ctx, const char *key, size_t keylen, size_t start, size_t end)
{
	struct value *v = ctx;

	(void)key;
	(void)keylen;
	/* the input may add members of its own: the first is ours */
	if (v->end == 0) {
		v->start = start;
		v->end = end;
	}
	return 0;
}

struct numbers {
	const char *s;
	size_t n;
	int all_numbers, all_finite;
	const float *vec;
	int dim;
};

static int number(void *ctx, size_t start, size_t end)
{
	struct numbers *c = ctx;
	char buf[128];
	double d;

	if (c->s[start] != '-' && (c->s[start] < '0' || c->s[start] > '9')) {
		c->all_numbers = 0;
		return 0;
	}
	snprintf(buf, sizeof buf, "%.*s", (int)(end - start), c->s + start);
	d = end - start < sizeof buf ? strtod(buf, NULL) : strtod(c->s + start, NULL);
	if (!isfinite((float)d))
		c->all_finite = 0;
	else if (c->vec && c->n < (size_t)c->dim)
		FUZZ_CHECK((float)d == c->vec[c->n], "value %zu: %s read as %.9g", c->n, buf, (double)c->vec[c->n]);
	c->n++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static jl_reader *r;
	sb line = SB_INIT;
	struct value v = { 0 };
	float *vec = NULL;
	int dim = 0, rc;
	char err[256];

	if (r == NULL)
		r = jl_reader_new(NULL, "fuzz");
	sb_puts(&line, "{\"embedding\":");
	sb_append(&line, (const char *)data, size);
	sb_putc(&line, '}');
	if (line.buf == NULL || jl_check(r, line.buf, line.len) != JL_OK) {
		sb_free(&line);
		return 0;
	}
	v.s = line.buf;
	jl_members_valid(line.buf, line.len, find_value, &v);
	/* from the value on: past `"embedding":` and spaces */
	v.start += 12;
	while (line.buf[v.start] == ' ' || line.buf[v.start] == '\t' || line.buf[v.start] == '\n' || line.buf[v.start] == '\r')
		v.start++;
	rc = vecs_parse_text(line.buf + v.start, v.end - v.start, &vec, &dim, err, sizeof err);
	if (rc == 0) {
		FUZZ_CHECK(vec != NULL && dim > 0 && dim <= 65536, "dimension %d", dim);
		for (int i = 0; i < dim; i++)
			FUZZ_CHECK(isfinite(vec[i]), "value %d is not finite", i);
	} else {
		FUZZ_CHECK(err[0] != '\0' && vec == NULL, "a failure without a reason, or with a vector");
	}
	if (line.buf[v.start] == '[') {
		struct numbers c = { line.buf + v.start, 0, 1, 1, vec, dim };

		FUZZ_CHECK(jl_elements(c.s, v.end - v.start, number, &c) == 0, "jl_elements refused a valid array");
		if (rc == 0)
			FUZZ_CHECK(c.all_numbers && c.all_finite && c.n == (size_t)dim, "accepted a bad array, dim %d of %zu",
				   dim, c.n);
		else
			FUZZ_CHECK(!c.all_numbers || !c.all_finite || c.n == 0 || c.n > 65536,
				   "refused %zu finite numbers: %s", c.n, err);
	}
	free(vec);
	sb_free(&line);
	return 0;
}
