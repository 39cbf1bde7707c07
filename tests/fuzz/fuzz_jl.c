/* The JSON lines reader and validator (jl.h): lines of any bytes are read,
 * checked, walked and decoded. Promises checked: a line jl_read_line passes
 * is NUL-free valid UTF-8; jl_check agrees with jl_parse (json-c), nesting
 * limit included; jl_members and jl_members_valid
 * find the same members; jl_get_string decodes as json-c does; jl_number
 * gives exactly strtod's value. */
#include "fuzz.h"
#include "jl.h"
#include "sb.h"

#include <math.h>
#include <string.h>

struct member {
	size_t keyoff, keylen, start, end;
};

struct members {
	struct member v[64];
	size_t n;
	const char *s;
};

static int add_member(void *ctx, const char *key, size_t keylen, size_t start, size_t end)
{
	struct members *m = ctx;

	if (m->n < sizeof m->v / sizeof m->v[0])
		m->v[m->n++] = (struct member){ (size_t)(key - m->s), keylen, start, end };
	return 0;
}

static void check_value(const char *s, size_t len, json_object *jv, int depth);
static void check_object(const char *line, size_t len, json_object *obj, int depth);

struct elems {
	const char *s;
	json_object *arr;
	size_t i;
	int depth;
};

static int check_element(void *ctx, size_t start, size_t end)
{
	struct elems *e = ctx;
	json_object *jv = e->arr ? json_object_array_get_idx(e->arr, e->i) : NULL;

	check_value(e->s + start, end - start, e->arr ? jv : NULL, e->depth + 1);
	e->i++;
	return 0;
}

/* The value text s (valid JSON, followed in its line by a delimiter), and
 * json-c's reading of it when there is one to compare with. */
static void check_value(const char *s, size_t len, json_object *jv, int depth)
{
	if (s[0] == '"') {
		sb out = SB_INIT;
		int r = jl_get_string(s, len, &out);

		if (r == 0)
			FUZZ_CHECK(fuzz_valid_utf8(out.buf ? out.buf : "", out.len), "decoded string is not UTF-8");
		/* json-c keeps lone surrogates its own way; jl makes them U+FFFD */
		if (r == 0 && jv && json_object_is_type(jv, json_type_string) && !memmem(s, len, "\\u", 2)) {
			FUZZ_CHECK((size_t)json_object_get_string_len(jv) == out.len
				   && memcmp(json_object_get_string(jv), sb_str(&out), out.len) == 0,
				   "jl_get_string and json-c differ on %.*s", (int)len, s);
		}
		sb_free(&out);
	} else if (s[0] == '-' || (s[0] >= '0' && s[0] <= '9')) {
		char buf[512];
		double a = jl_number(s, len), b;

		if (len < sizeof buf) {
			memcpy(buf, s, len);
			buf[len] = '\0';
			b = strtod(buf, NULL);
			FUZZ_CHECK(memcmp(&a, &b, sizeof a) == 0, "jl_number(%s) = %.17g, strtod %.17g", buf, a, b);
		}
	} else if (s[0] == '[') {
		struct elems e = { s, jv && json_object_is_type(jv, json_type_array) ? jv : NULL, 0, depth };

		FUZZ_CHECK(jl_elements(s, len, check_element, &e) == 0, "jl_elements refused a valid array");
		if (e.arr)
			FUZZ_CHECK(e.i == json_object_array_length(e.arr), "jl_elements: %zu elements, json-c %zu",
				   e.i, json_object_array_length(e.arr));
	} else if (s[0] == '{') {
		check_object(s, len, jv && json_object_is_type(jv, json_type_object) ? jv : NULL, depth + 1);
	}
}

/* A checked object: both member walks agree, every value decodes. */
static void check_object(const char *line, size_t len, json_object *obj, int depth)
{
	struct members a = { .s = line }, b = { .s = line };
	size_t i;

	FUZZ_CHECK(jl_members(line, len, add_member, &a) == 0, "jl_members refused what jl_check passed");
	FUZZ_CHECK(jl_members_valid(line, len, add_member, &b) == 0, "jl_members_valid failed");
	FUZZ_CHECK(a.n == b.n, "jl_members found %zu members, jl_members_valid %zu", a.n, b.n);
	for (i = 0; i < a.n; i++) {
		sb key = SB_INIT;
		json_object *jv = NULL;
		size_t v;

		FUZZ_CHECK(memcmp(&a.v[i], &b.v[i], sizeof a.v[i]) == 0, "member %zu differs", i);
		FUZZ_CHECK(line[a.v[i].start] == '"' && a.v[i].keyoff == a.v[i].start + 1, "member %zu: key offset", i);
		if (jl_get_string(line + a.v[i].start, a.v[i].keylen + 2, &key) == 0 && obj) {
			/* compare with json-c only where the key is there once */
			size_t j, dup = 0;

			for (j = 0; j < a.n; j++)
				dup += a.v[j].keylen == a.v[i].keylen
				       && memcmp(line + a.v[j].keyoff, line + a.v[i].keyoff, a.v[i].keylen) == 0;
			if (dup == 1 && !memmem(line + a.v[i].keyoff, a.v[i].keylen, "\\", 1))
				jv = json_object_object_get(obj, sb_str(&key));
		}
		sb_free(&key);
		v = a.v[i].keyoff + a.v[i].keylen + 1;
		while (line[v] != ':')
			v++;
		v++;
		while (line[v] == ' ' || line[v] == '\t' || line[v] == '\n' || line[v] == '\r')
			v++;
		FUZZ_CHECK(v < a.v[i].end && a.v[i].end <= len, "member %zu: value bounds", i);
		check_value(line + v, a.v[i].end - v, jv, depth + 1);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f;
	jl_reader *r;
	const char *line;
	size_t len;
	enum jl_status st;

	if (size == 0)
		return 0;
	f = fmemopen((void *)data, size, "r");
	if (f == NULL)
		return 0;
	r = jl_reader_new(f, "fuzz");
	if (r == NULL) {
		fclose(f);
		return 0;
	}
	while ((st = jl_read_line(r, &line, &len)) != JL_EOF && st != JL_IOERR) {
		json_object *obj = NULL;
		enum jl_status c, p;

		if (st == JL_BAD) {
			FUZZ_CHECK(jl_reason(r)[0] != '\0', "JL_BAD without a reason");
			continue;
		}
		FUZZ_CHECK(memchr(line, '\0', len) == NULL && fuzz_valid_utf8(line, len), "jl_read_line passed a bad line");
		FUZZ_CHECK(line[len] == '\0', "line not NUL-terminated");
		{
			/* on unchecked text the checking walkers must fail, not crash */
			struct members m = { .s = line };

			(void)jl_members(line, len, add_member, &m);
		}
		c = jl_check(r, line, len);
		p = jl_parse(r, line, len, &obj);
		FUZZ_CHECK(!(c == JL_OK && p != JL_OK), "jl_check passed a line json-c refuses: %s", jl_reason(r));
		FUZZ_CHECK(!(p == JL_OK && c != JL_OK), "jl_parse passed a line jl_check refuses");
		if (c == JL_OK)
			check_object(line, len, obj, 0);
		json_object_put(obj);
	}
	jl_reader_free(r);
	fclose(f);
	return 0;
}
