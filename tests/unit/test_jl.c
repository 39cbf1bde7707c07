/* Unit tests of common/jl: JSON lines in and out. */
#include "unit.h"
#include "jl.h"
#include "msg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A reader over the bytes s[0..len), which may hold NULs. */
static jl_reader *reader_over(const char *s, size_t len, FILE **fp)
{
	*fp = fmemopen((void *)s, len, "r");
	if (*fp == NULL)
		return NULL;
	return jl_reader_new(*fp, "test.jsonl");
}

#define READER(lit, fp) reader_over((lit), sizeof(lit) - 1, (fp))

/* The string value of key in obj, or NULL. */
static const char *str_of(json_object *obj, const char *key)
{
	json_object *v;

	if (obj == NULL || !json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static long int_of(json_object *obj, const char *key)
{
	json_object *v;

	if (obj == NULL || !json_object_object_get_ex(obj, key, &v))
		return -999;
	return (long)json_object_get_int64(v);
}

/* Write obj with jl_write and return the bytes (malloc'd) and their length. */
static char *written(json_object *obj, size_t *len, int *rc)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	if (f == NULL)
		return NULL;
	*rc = jl_write(f, obj);
	fclose(f);
	*len = size;
	return buf;
}

TEST(reads_objects_with_line_numbers)
{
	FILE *f;
	jl_reader *r = READER("{\"a\":1}\n{\"b\":\"x\"}\n", &f);
	json_object *o = NULL;

	if (!CHECK(r != NULL))
		return;
	CHECK_STR(jl_name(r), "test.jsonl");
	CHECK_INT(jl_read(r, &o), JL_OK);
	CHECK_INT(int_of(o, "a"), 1);
	CHECK_INT(jl_lineno(r), 1);
	json_object_put(o);
	CHECK_INT(jl_read(r, &o), JL_OK);
	CHECK_STR(str_of(o, "b"), "x");
	CHECK_INT(jl_lineno(r), 2);
	json_object_put(o);
	CHECK_INT(jl_read(r, &o), JL_EOF);
	CHECK(o == NULL);
	CHECK_INT(jl_read(r, &o), JL_EOF);	/* and stays at the end */
	jl_reader_free(r);
	fclose(f);
}

TEST(name_is_copied_and_defaults_to_stdin)
{
	char name[] = "in.jsonl";
	jl_reader *r = jl_reader_new(stdin, name), *r2 = jl_reader_new(stdin, NULL);

	if (!CHECK(r != NULL && r2 != NULL))
		return;
	strcpy(name, "changed");
	CHECK_STR(jl_name(r), "in.jsonl");
	CHECK_STR(jl_name(r2), "stdin");
	CHECK_INT(jl_lineno(r), 0);
	jl_reader_free(r);
	jl_reader_free(r2);
	jl_reader_free(NULL);
}

/* Blank lines are skipped but still counted; the last line needs no '\n'. */
TEST(blank_lines_skipped_and_counted)
{
	FILE *f;
	jl_reader *r = READER("\n   \n{\"a\":1}\n\t \n\n{\"a\":2}", &f);
	json_object *o = NULL;

	if (!CHECK(r != NULL))
		return;
	CHECK_INT(jl_read(r, &o), JL_OK);
	CHECK_INT(int_of(o, "a"), 1);
	CHECK_INT(jl_lineno(r), 3);
	json_object_put(o);
	CHECK_INT(jl_read(r, &o), JL_OK);
	CHECK_INT(int_of(o, "a"), 2);
	CHECK_INT(jl_lineno(r), 6);
	json_object_put(o);
	CHECK_INT(jl_read(r, &o), JL_EOF);
	jl_reader_free(r);
	fclose(f);
}

TEST(crlf)
{
	FILE *f;
	jl_reader *r = READER("{\"a\":\"x\"}\r\n\r\n{\"a\":\"y\"}\r\n", &f);
	json_object *o = NULL;
	const char *line;
	size_t len;

	if (!CHECK(r != NULL))
		return;
	CHECK_INT(jl_read(r, &o), JL_OK);
	CHECK_STR(str_of(o, "a"), "x");
	json_object_put(o);
	CHECK_INT(jl_read(r, &o), JL_OK);	/* the "\r\n" line is blank */
	CHECK_STR(str_of(o, "a"), "y");
	CHECK_INT(jl_lineno(r), 3);
	json_object_put(o);
	CHECK_INT(jl_read(r, &o), JL_EOF);
	jl_reader_free(r);
	fclose(f);

	/* jl_read_line gives the line without "\r\n" */
	r = READER("ab\r\ncd\n\r\n", &f);
	if (!CHECK(r != NULL))
		return;
	CHECK_INT(jl_read_line(r, &line, &len), JL_OK);
	CHECK_MEM(line, len, "ab", 2);
	CHECK_INT(jl_read_line(r, &line, &len), JL_OK);
	CHECK_MEM(line, len, "cd", 2);
	CHECK_INT(jl_read_line(r, &line, &len), JL_OK);
	CHECK_INT(len, 0);
	CHECK_INT(jl_lineno(r), 3);
	CHECK_INT(jl_read_line(r, &line, &len), JL_EOF);
	jl_reader_free(r);
	fclose(f);
}

/* A line of any length: 1 MiB of text in one record, from a real file. */
TEST(long_line)
{
	size_t n = (size_t)1 << 20, i;
	FILE *f = tmpfile();
	jl_reader *r;
	json_object *o = NULL;
	const char *t;

	if (!CHECK(f != NULL))
		return;
	fputs("{\"t\":\"", f);
	for (i = 0; i < n; i++)
		putc('a' + (int)(i % 26), f);
	fputs("\"}\n{\"n\":2}\n", f);
	rewind(f);
	r = jl_reader_new(f, NULL);
	if (!CHECK(r != NULL))
		return;
	CHECK_INT(jl_read(r, &o), JL_OK);
	t = str_of(o, "t");
	if (CHECK(t != NULL)) {
		CHECK_INT(strlen(t), n);
		CHECK(t[0] == 'a' && t[n - 1] == 'a' + (int)((n - 1) % 26));
	}
	json_object_put(o);
	CHECK_INT(jl_read(r, &o), JL_OK);
	CHECK_INT(int_of(o, "n"), 2);
	CHECK_INT(jl_lineno(r), 2);
	json_object_put(o);
	CHECK_INT(jl_read(r, &o), JL_EOF);
	jl_reader_free(r);
	fclose(f);
}

/* Each bad line is JL_BAD with its line number and a reason; reading goes on. */
TEST(bad_lines_reported_and_skipped)
{
	static const char input[] =
		"{\"n\":1}\n"			/* 1 ok */
		"{\"n\":\n"			/* 2 incomplete */
		"{\"n\":3}\n"			/* 3 ok */
		"[1,2]\n"			/* 4 not an object */
		"{\"n\":5} x\n"			/* 5 trailing garbage */
		"{\"n\":6}{\"n\":6}\n"		/* 6 two objects */
		"{\"n\":7}  \t\n"		/* 7 ok: trailing blanks */
		"\"str\"\n"			/* 8 a string */
		"null\n"			/* 9 */
		"12\n"				/* 10 a number */
		"{n:11}\n"			/* 11 unquoted name */
		"{\"n\":12,}\n"			/* 12 trailing comma */
		"{\"n\":13}\n";			/* 13 ok */
	static const int want[] = { JL_OK, JL_BAD, JL_OK, JL_BAD, JL_BAD, JL_BAD, JL_OK, JL_BAD, JL_BAD,
				    JL_BAD, JL_BAD, JL_BAD, JL_OK };
	FILE *f;
	jl_reader *r = READER(input, &f);
	size_t i;

	if (!CHECK(r != NULL))
		return;
	for (i = 0; i < sizeof want / sizeof want[0]; i++) {
		json_object *o = (json_object *)&o;	/* not NULL: jl_read must set it */
		int st = jl_read(r, &o);

		if (!CHECK_INT(st, want[i]))
			printf("#   line %zu (reason: %s)\n", i + 1, jl_reason(r));
		CHECK_INT(jl_lineno(r), (long)i + 1);
		if (st == JL_OK) {
			CHECK_INT(int_of(o, "n"), (long)i + 1);
			json_object_put(o);
		} else {
			CHECK(o == NULL);
			CHECK(jl_reason(r) != NULL && jl_reason(r)[0] != '\0');
		}
	}
	{
		json_object *o = NULL;

		CHECK_INT(jl_read(r, &o), JL_EOF);
	}
	jl_reader_free(r);
	fclose(f);
}

/* "strict JSON": none of the extensions json-c knows gets through. */
TEST(strict_json_rejects_extensions)
{
	static const char *const lines[] = {
		"{'n':1}",			/* single-quoted name */
		"{\"n\":'x'}",			/* single-quoted string */
		"{\"n\":NaN}",
		"{\"n\":Infinity}",
		"{\"n\":-Infinity}",
		"{\"n\":1.}",			/* no digit after the point */
		"{\"n\":.5}",
		"{\"n\":01}",
		"{\"n\":\"a\tb\"}",		/* a raw tab inside a string */
		"{\"n\":\"a\x01" "b\"}",		/* a raw control character */
		"{\"n\":[1,]}",
		"{\"n\":1 /* c */}",
	};
	jl_reader *r = jl_reader_new(stdin, "x");
	size_t i;

	if (!CHECK(r != NULL))
		return;
	for (i = 0; i < sizeof lines / sizeof lines[0]; i++) {
		json_object *o = NULL;
		char q[200];

		if (!CHECK_INT(jl_parse(r, lines[i], strlen(lines[i]), &o), JL_BAD))
			printf("#   accepted: %s\n", unit_quote(lines[i], strlen(lines[i]), q, sizeof q));
		json_object_put(o);
	}
	jl_reader_free(r);
}

TEST(invalid_utf8)
{
	static const char input[] = "{\"a\":\"ok\"}\n{\"a\":\"\xC3\x28\"}\n{\"a\":\"\xED\xA0\x80\"}\n{\"a\":\"\xC3\xA9\"}\n";
	FILE *f;
	jl_reader *r = READER(input, &f);
	json_object *o = NULL;
	const char *line;
	size_t len;

	if (!CHECK(r != NULL))
		return;
	CHECK_INT(jl_read(r, &o), JL_OK);
	json_object_put(o);
	CHECK_INT(jl_read(r, &o), JL_BAD);
	CHECK(o == NULL);
	CHECK_INT(jl_lineno(r), 2);
	CHECK(strstr(jl_reason(r), "UTF-8") != NULL);
	CHECK_INT(jl_read(r, &o), JL_BAD);	/* an encoded surrogate */
	CHECK_INT(jl_lineno(r), 3);
	CHECK(strstr(jl_reason(r), "UTF-8") != NULL);
	CHECK_INT(jl_read(r, &o), JL_OK);
	CHECK_STR(str_of(o, "a"), "\xC3\xA9");
	CHECK_INT(jl_lineno(r), 4);
	json_object_put(o);
	CHECK_INT(jl_read(r, &o), JL_EOF);
	jl_reader_free(r);
	fclose(f);

	/* jl_read_line checks too, even on text that is not JSON */
	r = READER("plain\nbad \xFF byte\n", &f);
	if (!CHECK(r != NULL))
		return;
	CHECK_INT(jl_read_line(r, &line, &len), JL_OK);
	CHECK_INT(jl_read_line(r, &line, &len), JL_BAD);
	CHECK_INT(jl_lineno(r), 2);
	CHECK(jl_reason(r)[0] != '\0');
	CHECK_INT(jl_read_line(r, &line, &len), JL_EOF);
	jl_reader_free(r);
	fclose(f);
}

TEST(nul_byte)
{
	static const char input[] = "{\"a\":1}\0\n{\"a\":\"x\0y\"}\n{\"a\":3}\n";
	FILE *f;
	jl_reader *r = READER(input, &f);
	json_object *o = NULL;

	if (!CHECK(r != NULL))
		return;
	CHECK_INT(jl_read(r, &o), JL_BAD);
	CHECK_INT(jl_lineno(r), 1);
	CHECK(strstr(jl_reason(r), "NUL") != NULL);
	CHECK_INT(jl_read(r, &o), JL_BAD);
	CHECK_INT(jl_lineno(r), 2);
	CHECK_INT(jl_read(r, &o), JL_OK);
	CHECK_INT(int_of(o, "a"), 3);
	CHECK_INT(jl_lineno(r), 3);
	json_object_put(o);
	jl_reader_free(r);
	fclose(f);
}

/* jl_parse parses exactly len bytes. */
/* {"a":[[...[1]...]]}: values nested `depth` deep, the scalar included. */
static char *nested(int depth, size_t *len)
{
	char *s = malloc((size_t)depth * 2 + 16);
	size_t n = 0;
	int i;

	if (s == NULL)
		return NULL;
	n += (size_t)sprintf(s, "{\"a\":");
	for (i = 2; i < depth; i++)
		s[n++] = '[';
	s[n++] = '1';
	for (i = 2; i < depth; i++)
		s[n++] = ']';
	s[n++] = '}';
	s[n] = '\0';
	*len = n;
	return s;
}

static int count_member(void *ctx, const char *key, size_t keylen, size_t start, size_t end)
{
	(void)key;
	(void)keylen;
	(void)start;
	(void)end;
	(*(int *)ctx)++;
	return 0;
}

/* The checker, the DOM parser and the member walkers take the same nesting,
 * 64 levels, counted as json-c counts; deeper is one clear error. */
TEST(nesting_limit_is_the_same_everywhere)
{
	jl_reader *r = jl_reader_new(stdin, "x");
	static const int levels[] = { 2, 3, 63, 64, 65, 66, 1000, 100000 };
	size_t i, len = 0;
	int n;

	if (!CHECK(r != NULL))
		return;
	for (i = 0; i < sizeof levels / sizeof levels[0]; i++) {
		char *s = nested(levels[i], &len);
		json_object *o = NULL;
		int ok = levels[i] <= 64;

		if (!CHECK(s != NULL))
			break;
		CHECK_INT(jl_check(r, s, len), ok ? JL_OK : JL_BAD);
		if (!ok)
			CHECK_STR(jl_reason(r), "JSON nested more than 64 levels deep (at byte 69)");
		CHECK_INT(jl_parse(r, s, len, &o), ok ? JL_OK : JL_BAD);
		CHECK(ok == (o != NULL));
		json_object_put(o);
		/* the walker checks the member it hands over as deeply */
		n = 0;
		CHECK_INT(jl_members(s, len, count_member, &n), ok ? 0 : -1);
		CHECK_INT(n, ok ? 1 : 0);
		free(s);
	}
	jl_reader_free(r);
}

TEST(parse_honours_len)
{
	jl_reader *r = jl_reader_new(stdin, "x");
	json_object *o = NULL;
	const char *s = "{\"k\":\"v\"}garbage";

	if (!CHECK(r != NULL))
		return;
	CHECK_INT(jl_parse(r, s, 9, &o), JL_OK);
	CHECK_STR(str_of(o, "k"), "v");
	json_object_put(o);
	CHECK_INT(jl_parse(r, s, strlen(s), &o), JL_BAD);
	CHECK(o == NULL);
	CHECK_INT(jl_parse(r, s, 5, &o), JL_BAD);
	CHECK(o == NULL);
	CHECK_INT(jl_parse(r, "", 0, &o), JL_BAD);
	/* the tokenizer is reset between lines */
	CHECK_INT(jl_parse(r, "{\"k\":", 5, &o), JL_BAD);
	CHECK_INT(jl_parse(r, "{\"k\":1}", 7, &o), JL_OK);
	json_object_put(o);
	jl_reader_free(r);
}

TEST(write_exact_bytes)
{
	json_object *o = json_object_new_object();
	json_object *arr = json_object_new_array();
	char *out;
	size_t len = 0;
	int rc = -1;
	static const char want[] =
		"{\"id\":\"docs/book.pdf#17\",\"text\":\"\xE4\xB8\xAD\xE6\x96\x87 caf\xC3\xA9 \xF0\x9F\x98\x80\","
		"\"seq\":17,\"q\":\"say \\\"hi\\\"\\n\\tback\\\\slash\",\"ctl\":\"\\u0001\",\"arr\":[1,2],\"t\":true}\n";

	json_object_object_add(o, "id", json_object_new_string("docs/book.pdf#17"));
	json_object_object_add(o, "text", json_object_new_string("中文 café 😀"));
	json_object_object_add(o, "seq", json_object_new_int(17));
	json_object_object_add(o, "q", json_object_new_string("say \"hi\"\n\tback\\slash"));
	json_object_object_add(o, "ctl", json_object_new_string("\x01"));
	json_object_array_add(arr, json_object_new_int(1));
	json_object_array_add(arr, json_object_new_int(2));
	json_object_object_add(o, "arr", arr);
	json_object_object_add(o, "t", json_object_new_boolean(1));
	out = written(o, &len, &rc);
	CHECK_INT(rc, 0);
	CHECK_MEM(out, len, want, sizeof want - 1);
	free(out);
	json_object_put(o);
}

/* What is written reads back as the same record. */
TEST(write_read_round_trip)
{
	json_object *o = json_object_new_object(), *back = NULL;
	char *out;
	size_t len = 0;
	int rc = -1;
	FILE *f;
	jl_reader *r;
	const char *text = "line one\nline two\r\n\t\xE2\x80\x9Cquoted\xE2\x80\x9D / \\ \x7F end";

	json_object_object_add(o, "text", json_object_new_string(text));
	out = written(o, &len, &rc);
	CHECK_INT(rc, 0);
	/* one line: the only '\n' is the last byte */
	CHECK(len > 0 && memchr(out, '\n', len) == out + len - 1);
	r = reader_over(out, len, &f);
	if (CHECK(r != NULL)) {
		CHECK_INT(jl_read(r, &back), JL_OK);
		CHECK_STR(str_of(back, "text"), text);
		json_object_put(back);
		CHECK_INT(jl_read(r, &back), JL_EOF);
		jl_reader_free(r);
		fclose(f);
	}
	free(out);
	json_object_put(o);
}

TEST(write_failure)
{
	FILE *f = fopen("/dev/null", "r");	/* not open for writing */
	json_object *o = json_object_new_object();

	if (CHECK(f != NULL)) {
		errno = 0;
		CHECK_INT(jl_write(f, o), -1);
		CHECK(errno != 0);
		fclose(f);
	}
	json_object_put(o);
}

TEST(output_failed_exit_status)
{
	errno = EPIPE;
	CHECK_INT(jl_output_failed(), 0);	/* the reader went away: quiet */
	errno = ENOSPC;
	CHECK_INT(jl_output_failed(), 1);	/* reported on stderr */
}

TEST(get_string_decodes_escapes)
{
	sb b = { 0 };
	const char *lit = "\"a\\\"b\\\\c\\/d\\n\\t\\u00e9\\u4e2d\\ud83d\\ude00\"";

	CHECK_INT(jl_get_string(lit, strlen(lit), &b), 0);
	CHECK_STR(sb_str(&b), "a\"b\\c/d\n\t\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80");
	sb_truncate(&b, 0);
	/* a lone surrogate becomes U+FFFD; \u0000 is refused */
	CHECK_INT(jl_get_string("\"x\\ud800y\"", 10, &b), 0);
	CHECK_STR(sb_str(&b), "x\xef\xbf\xbdy");
	sb_truncate(&b, 0);
	CHECK_INT(jl_get_string("\"x\\u0000\"", 9, &b), -1);
	CHECK_INT(jl_get_string("abc", 3, &b), -1);
	sb_free(&b);
}

TEST(number_reads_as_strtod)
{
	static const char *const nums[] = { "0", "-0", "1", "-1", "0.1", "0.0123", "-1.23456789e-05", "3.4028235e38",
		"1e-45", "123456789012345678901234567890", "0.30000000000000004", "2.2250738585072014e-308",
		"9007199254740993", "1.5e22", "1.5e23", "12345678.9e-30", "0.000000000000000000000000001",
		"4.9406564584124654e-324", "1E5", "1e+5", "100000000000000000000000" };
	size_t i;
	unsigned x = 12345;

	for (i = 0; i < sizeof nums / sizeof nums[0]; i++) {
		double a = jl_number(nums[i], strlen(nums[i])), b = strtod(nums[i], NULL);

		if (!CHECK(memcmp(&a, &b, sizeof a) == 0))
			fprintf(stderr, "# %s: %.17g vs %.17g\n", nums[i], a, b);
	}
	/* many float32 values as jl_put_float prints them */
	for (i = 0; i < 100000; i++) {
		sb b = { 0 };
		float f;
		double a;

		x = x * 1103515245u + 12345u;
		f = (float)((double)(x >> 8) / 16777216.0 - 0.5) * (i % 2 ? 1e-3f : 1.0f);
		if (jl_put_float(&b, f) < 0)
			break;
		a = jl_number(sb_str(&b), b.len);
		if (!CHECK(a == strtod(sb_str(&b), NULL) && (float)a == f)) {
			sb_free(&b);
			break;
		}
		sb_free(&b);
	}
	/* the text may end without a NUL: only len bytes are read */
	CHECK(jl_number("2.5]", 3) == 2.5);
	CHECK(jl_number("12345678901234567890,", 20) == 12345678901234567890.0);
}

int main(void)
{
	/* make diagnostics printed on stderr TAP comments */
	msg_progname = "# test_jl";
	RUN(reads_objects_with_line_numbers);
	RUN(name_is_copied_and_defaults_to_stdin);
	RUN(blank_lines_skipped_and_counted);
	RUN(crlf);
	RUN(long_line);
	RUN(bad_lines_reported_and_skipped);
	RUN(strict_json_rejects_extensions);
	RUN(invalid_utf8);
	RUN(nul_byte);
	RUN(parse_honours_len);
	RUN(nesting_limit_is_the_same_everywhere);
	RUN(write_exact_bytes);
	RUN(write_read_round_trip);
	RUN(write_failure);
	RUN(output_failed_exit_status);
	RUN(get_string_decodes_escapes);
	RUN(number_reads_as_strtod);
	return unit_done();
}
