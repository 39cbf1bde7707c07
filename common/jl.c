#include "jl.h"
#include "msg.h"
#include "u8.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* How deep objects and arrays may nest (see json_value). */
#define JL_MAX_DEPTH 64

struct jl_reader {
	FILE *in;
	char *name;
	char *line;
	size_t cap;
	long lineno;
	json_tokener *tok;
	char reason[256];
};

jl_reader *jl_reader_new(FILE *in, const char *name)
{
	jl_reader *r = calloc(1, sizeof *r);

	if (r == NULL)
		return NULL;
	r->in = in;
	r->name = strdup(name ? name : "stdin");
	r->tok = json_tokener_new_ex(JL_MAX_DEPTH);
	if (r->name == NULL || r->tok == NULL) {
		jl_reader_free(r);
		return NULL;
	}
	json_tokener_set_flags(r->tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	return r;
}

void jl_reader_free(jl_reader *r)
{
	if (r == NULL)
		return;
	if (r->tok)
		json_tokener_free(r->tok);
	free(r->line);
	free(r->name);
	free(r);
}

static enum jl_status bad(jl_reader *r, const char *fmt, const char *arg)
{
	snprintf(r->reason, sizeof r->reason, fmt, arg);
	return JL_BAD;
}

enum jl_status jl_read_line(jl_reader *r, const char **line, size_t *len)
{
	ssize_t n;
	size_t valid;

	errno = 0;
	n = getline(&r->line, &r->cap, r->in);
	if (n < 0) {
		if (ferror(r->in) || errno == ENOMEM)
			return JL_IOERR;
		return JL_EOF;
	}
	r->lineno++;
	if (r->lineno == 1 && n >= 3 && memcmp(r->line, "\xEF\xBB\xBF", 3) == 0) {
		/* a byte-order mark, as some editors write */
		memmove(r->line, r->line + 3, (size_t)n - 2);
		n -= 3;
	}
	if (n > 0 && r->line[n - 1] == '\n')
		r->line[--n] = '\0';
	if (n > 0 && r->line[n - 1] == '\r')
		r->line[--n] = '\0';
	*line = r->line;
	*len = (size_t)n;
	if (memchr(r->line, '\0', (size_t)n) != NULL)
		return bad(r, "%sNUL byte in line", "");
	valid = u8_valid_prefix(r->line, (size_t)n);
	if (valid < (size_t)n) {
		char at[32];

		snprintf(at, sizeof at, "%zu", valid + 1);
		return bad(r, "invalid UTF-8 at byte %s", at);
	}
	return JL_OK;
}

void jl_take_line(jl_reader *r, char **buf, size_t *cap)
{
	char *line = r->line;
	size_t c = r->cap;

	r->line = *buf;
	r->cap = *buf ? *cap : 0;
	*buf = line;
	*cap = c;
}

/* RFC 8259, strictly: json-c also takes NaN, Infinity, 'quotes', "1." and
 * raw control characters, which no later stage could read back. Values
 * nest at most JL_MAX_DEPTH deep, counted as json-c counts (the line's
 * object is at depth 1, its members' values at 2, ...), so that the checker
 * and json-c refuse the same lines; the limit also bounds the recursion. */

/* Where a text stopped being valid JSON, and whether for its nesting. */
struct jv_fail {
	size_t at;
	int deep;
};

static size_t skip_ws(const char *s, size_t len, size_t i)
{
	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	return i;
}

static size_t digits(const char *s, size_t len, size_t i)
{
	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++;
	return i;
}

/* The end of the value that starts at i inside `depth` objects and arrays,
 * or (size_t)-1 with *bad set. */
static size_t json_value(const char *s, size_t len, size_t i, int depth, struct jv_fail *bad)
{
	size_t j;

	if (i >= len)
		goto fail;
	if (depth >= JL_MAX_DEPTH) {
		if (bad->at == (size_t)-1)
			bad->deep = 1;
		goto fail;
	}
	switch (s[i]) {
	case '{':
	case '[': {
		char close = s[i] == '{' ? '}' : ']';

		i = skip_ws(s, len, i + 1);
		if (i < len && s[i] == close)
			return i + 1;
		for (;;) {
			if (close == '}') {
				if (i >= len || s[i] != '"')
					goto fail;
				i = json_value(s, len, i, depth + 1, bad);
				if (i == (size_t)-1)
					return i;
				i = skip_ws(s, len, i);
				if (i >= len || s[i] != ':')
					goto fail;
				i = skip_ws(s, len, i + 1);
			}
			i = json_value(s, len, i, depth + 1, bad);
			if (i == (size_t)-1)
				return i;
			i = skip_ws(s, len, i);
			if (i < len && s[i] == close)
				return i + 1;
			if (i >= len || s[i] != ',')
				goto fail;
			i = skip_ws(s, len, i + 1);
		}
	}
	case '"':
		for (i++; i < len; i++) {
			unsigned char c = (unsigned char)s[i];

			if (c == '"')
				return i + 1;
			if (c < 0x20)
				goto fail;
			if (c == '\\') {
				if (++i >= len)
					goto fail;
				if (s[i] == 'u') {
					for (j = 1; j <= 4; j++)
						if (i + j >= len || !strchr("0123456789abcdefABCDEF", s[i + j]) || s[i + j] == '\0')
							goto fail;
					i += 4;
				} else if (!strchr("\"\\/bfnrt", s[i]) || s[i] == '\0') {
					goto fail;
				}
			}
		}
		goto fail;
	case 't':
		if (len - i >= 4 && memcmp(s + i, "true", 4) == 0)
			return i + 4;
		goto fail;
	case 'f':
		if (len - i >= 5 && memcmp(s + i, "false", 5) == 0)
			return i + 5;
		goto fail;
	case 'n':
		if (len - i >= 4 && memcmp(s + i, "null", 4) == 0)
			return i + 4;
		goto fail;
	default:
		j = i;
		if (s[j] == '-')
			j++;
		if (j < len && s[j] == '0')
			j++;
		else if (j < len && s[j] >= '1' && s[j] <= '9')
			j = digits(s, len, j);
		else
			goto fail;
		if (j < len && s[j] == '.') {
			size_t k = digits(s, len, j + 1);

			if (k == j + 1)
				goto fail;
			j = k;
		}
		if (j < len && (s[j] == 'e' || s[j] == 'E')) {
			size_t k = j + 1;

			if (k < len && (s[k] == '+' || s[k] == '-'))
				k++;
			j = digits(s, len, k);
			if (j == k)
				goto fail;
		}
		return j;
	}
fail:
	if (bad->at == (size_t)-1)
		bad->at = i < len ? i : len;
	return (size_t)-1;
}

static int json_valid(const char *s, size_t len, struct jv_fail *bad)
{
	size_t i;

	bad->at = (size_t)-1;
	bad->deep = 0;
	i = json_value(s, len, skip_ws(s, len, 0), 0, bad);
	if (i == (size_t)-1)
		return 0;
	i = skip_ws(s, len, i);
	bad->at = i;
	return i == len;
}

enum jl_status jl_check(jl_reader *r, const char *line, size_t len)
{
	struct jv_fail at;

	if (len > (size_t)0x7fffffff)
		return bad(r, "%sline too long for the JSON parser", "");
	if (!json_valid(line, len, &at)) {
		char pos[32];

		snprintf(pos, sizeof pos, "%zu", at.at + 1);
		if (at.deep)
			return bad(r, "JSON nested more than 64 levels deep (at byte %s)", pos);
		return bad(r, "not valid JSON (at byte %s)", pos);
	}
	if (line[skip_ws(line, len, 0)] != '{')
		return bad(r, "%snot a JSON object", "");
	return JL_OK;
}

enum jl_status jl_parse(jl_reader *r, const char *line, size_t len, json_object **out)
{
	json_object *obj;
	enum json_tokener_error err;
	enum jl_status st;

	*out = NULL;
	if ((st = jl_check(r, line, len)) != JL_OK)
		return st;
	json_tokener_reset(r->tok);
	obj = json_tokener_parse_ex(r->tok, line, (int)len);
	err = json_tokener_get_error(r->tok);
	if (err == json_tokener_continue)
		return bad(r, "%sincomplete JSON", "");
	if (err != json_tokener_success || obj == NULL) {
		json_object_put(obj);
		return bad(r, "not valid JSON (%s)", json_tokener_error_desc(err));
	}
	if (json_tokener_get_parse_end(r->tok) < len) {
		size_t i;

		for (i = json_tokener_get_parse_end(r->tok); i < len; i++)
			if (line[i] != ' ' && line[i] != '\t')
				break;
		if (i < len) {
			json_object_put(obj);
			return bad(r, "%stext after the JSON value", "");
		}
	}
	if (!json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		return bad(r, "%snot a JSON object", "");
	}
	*out = obj;
	return JL_OK;
}

static int blank(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return 0;
	return 1;
}

enum jl_status jl_read(jl_reader *r, json_object **out)
{
	const char *line;
	size_t len;
	enum jl_status st;

	*out = NULL;
	do {
		st = jl_read_line(r, &line, &len);
		if (st != JL_OK)
			return st;
	} while (blank(line, len));
	return jl_parse(r, line, len, out);
}

long jl_lineno(const jl_reader *r)
{
	return r->lineno;
}

const char *jl_name(const jl_reader *r)
{
	return r->name;
}

const char *jl_reason(const jl_reader *r)
{
	return r->reason;
}

int jl_write(FILE *out, json_object *obj)
{
	size_t len;
	const char *s;

	s = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (s == NULL) {
		errno = ENOMEM;
		return -1;
	}
	if (fwrite(s, 1, len, out) != len || putc('\n', out) == EOF)
		return -1;
	return 0;
}

int jl_output_failed(void)
{
	if (errno == EPIPE)
		return 0;
	msg_error("write error: %s", strerror(errno ? errno : EIO));
	return 1;
}

/* The digits of v (> 0) to `prec` significant places, as an integer m and a
 * decimal exponent: v ~ m * 10^(exp - prec + 1). */
static uint64_t round_digits(double v, int prec, int *exp)
{
	static const double p10[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
				      1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };
	uint64_t lo = 1, hi;
	int e, shift, i;
	double m;

	/* log10(v) from the binary exponent; the loop below mends it */
	frexp(v, &e);
	e = (int)floor((e - 1) * 0.30102999566398120);

	for (i = 1; i < prec; i++)
		lo *= 10;
	hi = lo * 10;
	for (;;) {
		shift = prec - 1 - e;
		/* exact powers of ten only, so that one rounding is all */
		if (shift >= 0)
			m = shift <= 22 ? v * p10[shift] : v * p10[22] * pow(10, shift - 22);
		else
			m = -shift <= 22 ? v / p10[-shift] : v / pow(10, -shift);
		m = (double)(uint64_t)(m + 0.5);
		if (m >= (double)hi)
			e++;
		else if (m < (double)lo)
			e--;
		else
			break;
	}
	*exp = e;
	return (uint64_t)m;
}

/* Format into buf (at least 40 bytes) as %g would; returns the length. */
static int format_digits(char *buf, int neg, uint64_t m, int prec, int e)
{
	char digits[24];
	int n = 0, i, len = 0;

	for (i = 0; i < prec; i++) {
		digits[prec - 1 - i] = (char)('0' + m % 10);
		m /= 10;
	}
	n = prec;
	while (n > 1 && digits[n - 1] == '0')
		n--;
	if (neg)
		buf[len++] = '-';
	if (e >= -5 && e < prec) {
		if (e < 0) {
			buf[len++] = '0';
			buf[len++] = '.';
			for (i = -1; i > e; i--)
				buf[len++] = '0';
			for (i = 0; i < n; i++)
				buf[len++] = digits[i];
		} else {
			for (i = 0; i <= e; i++)
				buf[len++] = i < n ? digits[i] : '0';
			if (n > e + 1) {
				buf[len++] = '.';
				for (i = e + 1; i < n; i++)
					buf[len++] = digits[i];
			}
		}
	} else {
		buf[len++] = digits[0];
		if (n > 1) {
			buf[len++] = '.';
			for (i = 1; i < n; i++)
				buf[len++] = digits[i];
		}
		len += snprintf(buf + len, 16, "e%d", e);
	}
	buf[len] = '\0';
	return len;
}

/* Does the decimal m * 10^-shift (as printed in buf) read back as v? With
 * an exact power of ten, one IEEE division or multiplication rounds exactly
 * as strtod does, so strtod is needed only far from 1. */
static int reads_back(const char *buf, uint64_t m, int shift, float v)
{
	static const double p10[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
				      1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };

	if (shift >= 0 && shift <= 22)
		return (float)((double)m / p10[shift]) == v;
	if (shift < 0 && shift >= -22)
		return (float)((double)m * p10[-shift]) == v;
	return (float)fabs(strtod(buf, NULL)) == v;
}

int jl_put_float(sb *out, float f)
{
	double v = fabs((double)f);
	uint64_t m;
	int e, len;
	char buf[48];

	if (!isfinite(f))
		return -1;
	if (f == 0)
		return sb_putc(out, '0');
	m = round_digits(v, 7, &e);
	len = format_digits(buf, f < 0, m, 7, e);
	/* a reader parses a double and narrows it: check exactly that */
	if (!reads_back(buf, m, 6 - e, (float)v)) {
		m = round_digits(v, 9, &e);
		len = format_digits(buf, f < 0, m, 9, e);
	}
	return sb_append(out, buf, (size_t)len);
}

int jl_put_string(sb *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, run = 0;

	if (sb_reserve(out, len + 2) < 0 || sb_putc(out, '"') < 0)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[7] = "\\u0000";
		const char *e = NULL;
		size_t elen = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		switch (c) {
		case '"': e = "\\\""; break;
		case '\\': e = "\\\\"; break;
		case '\n': e = "\\n"; break;
		case '\r': e = "\\r"; break;
		case '\t': e = "\\t"; break;
		case '\b': e = "\\b"; break;
		case '\f': e = "\\f"; break;
		default:
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			e = esc;
			elen = 6;
		}
		if (sb_append(out, s + run, i - run) < 0 || sb_append(out, e, elen) < 0)
			return -1;
		run = i + 1;
	}
	if (sb_append(out, s + run, len - run) < 0)
		return -1;
	return sb_putc(out, '"');
}

/* The end of the value at i of text already known to be valid JSON: no
 * checking, only bracket and string structure. */
static size_t skip_valid(const char *s, size_t len, size_t i)
{
	static const unsigned char structural[256] = { ['"'] = 1, ['['] = 2, ['{'] = 2, [']'] = 3, ['}'] = 3 };
	int depth = 0;

	if (s[i] != '"' && s[i] != '[' && s[i] != '{') {
		while (i < len && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' && s[i] != '\t'
		       && s[i] != '\n' && s[i] != '\r')
			i++;
		return i;
	}
	do {
		switch (structural[(unsigned char)s[i]]) {
		case 1:
			for (i++; i < len && s[i] != '"'; i++)
				if (s[i] == '\\')
					i++;
			break;
		case 2:
			depth++;
			break;
		case 3:
			depth--;
			break;
		}
		i++;
	} while (depth > 0 && i < len);
	return i;
}

int jl_members_valid(const char *s, size_t len, jl_member_fn fn, void *ctx)
{
	size_t i = skip_ws(s, len, 0);

	if (i >= len || s[i] != '{')
		return -1;
	i = skip_ws(s, len, i + 1);
	if (i < len && s[i] == '}')
		return 0;
	while (i < len) {
		size_t start = i, kend, end;
		int rc;

		kend = skip_valid(s, len, i);
		i = skip_ws(s, len, kend) + 1;	/* the ':' */
		end = skip_valid(s, len, skip_ws(s, len, i));
		rc = fn(ctx, s + start + 1, kend - start - 2, start, end);
		if (rc != 0)
			return rc < 0 ? -1 : 0;
		i = skip_ws(s, len, end);
		if (i >= len || s[i] == '}')
			return 0;
		i = skip_ws(s, len, i + 1);	/* past the ',' */
	}
	return 0;
}

int jl_members(const char *s, size_t len, jl_member_fn fn, void *ctx)
{
	size_t i = skip_ws(s, len, 0);
	struct jv_fail bad = { (size_t)-1, 0 };

	if (i >= len || s[i] != '{')
		return -1;
	i = skip_ws(s, len, i + 1);
	if (i < len && s[i] == '}')
		return 0;
	for (;;) {
		size_t start = i, kend, end;
		int rc;

		if (i >= len || s[i] != '"')
			return -1;
		kend = json_value(s, len, i, 1, &bad);
		if (kend == (size_t)-1)
			return -1;
		i = skip_ws(s, len, kend);
		if (i >= len || s[i] != ':')
			return -1;
		end = json_value(s, len, skip_ws(s, len, i + 1), 1, &bad);
		if (end == (size_t)-1)
			return -1;
		rc = fn(ctx, s + start + 1, kend - start - 2, start, end);
		if (rc != 0)
			return rc < 0 ? -1 : 0;
		i = skip_ws(s, len, end);
		if (i < len && s[i] == '}')
			return 0;
		if (i >= len || s[i] != ',')
			return -1;
		i = skip_ws(s, len, i + 1);
	}
}

int jl_elements(const char *s, size_t len, jl_element_fn fn, void *ctx)
{
	size_t i = skip_ws(s, len, 0);
	struct jv_fail bad = { (size_t)-1, 0 };

	if (i >= len || s[i] != '[')
		return -1;
	i = skip_ws(s, len, i + 1);
	if (i < len && s[i] == ']')
		return 0;
	for (;;) {
		size_t end = json_value(s, len, i, 1, &bad);

		if (end == (size_t)-1 || fn(ctx, i, end) < 0)
			return -1;
		i = skip_ws(s, len, end);
		if (i < len && s[i] == ']')
			return 0;
		if (i >= len || s[i] != ',')
			return -1;
		i = skip_ws(s, len, i + 1);
	}
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return c - 'A' + 10;
}

static int32_t hex4(const char *s)
{
	return (int32_t)(hexval(s[0]) << 12 | hexval(s[1]) << 8 | hexval(s[2]) << 4 | hexval(s[3]));
}

int jl_get_string(const char *s, size_t len, sb *out)
{
	size_t i = 1, run;

	if (len < 2 || s[0] != '"' || s[len - 1] != '"')
		return -1;
	len--;
	while (i < len) {
		const char *bs = memchr(s + i, '\\', len - i);

		run = bs ? (size_t)(bs - s) - i : len - i;
		if (run > 0 && sb_append(out, s + i, run) < 0)
			return -1;
		i += run;
		if (i >= len)
			break;
		if (i + 1 >= len)
			return -1;
		switch (s[i + 1]) {
		case 'b': if (sb_putc(out, '\b') < 0) return -1; break;
		case 'f': if (sb_putc(out, '\f') < 0) return -1; break;
		case 'n': if (sb_putc(out, '\n') < 0) return -1; break;
		case 'r': if (sb_putc(out, '\r') < 0) return -1; break;
		case 't': if (sb_putc(out, '\t') < 0) return -1; break;
		case 'u': {
			int32_t cp;

			if (i + 6 > len)
				return -1;
			cp = hex4(s + i + 2);
			if (cp == 0)
				return -1;	/* C strings cannot hold it */
			if (cp >= 0xD800 && cp <= 0xDBFF && i + 12 <= len && s[i + 6] == '\\' && s[i + 7] == 'u') {
				int32_t lo = hex4(s + i + 8);

				if (lo >= 0xDC00 && lo <= 0xDFFF) {
					cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
					i += 6;
				}
			}
			if (cp >= 0xD800 && cp <= 0xDFFF)
				cp = 0xFFFD;	/* a lone surrogate */
			if (sb_put_cp(out, cp) < 0)
				return -1;
			i += 4;
			break;
		}
		default:
			if (sb_putc(out, s[i + 1]) < 0)
				return -1;
		}
		i += 2;
	}
	return 0;
}

double jl_number(const char *s, size_t len)
{
	/* exact powers of ten as doubles: with a mantissa below 2^53, one
	 * multiplication or division rounds correctly (Clinger) */
	static const double p10[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
				      1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };
	uint64_t m = 0;
	int neg = 0, digits = 0, exp10 = 0, e = 0, eneg = 0;
	size_t i = 0;
	char buf[64];

	if (i < len && s[i] == '-') {
		neg = 1;
		i++;
	}
	while (i < len && s[i] == '0')
		i++;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, digits++)
		m = m * 10 + (uint64_t)(s[i] - '0');
	if (i < len && s[i] == '.') {
		i++;
		if (digits == 0)
			while (i < len && s[i] == '0') {
				i++;
				exp10--;
			}
		for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, digits++, exp10--)
			m = m * 10 + (uint64_t)(s[i] - '0');
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			eneg = s[i++] == '-';
		for (; i < len && s[i] >= '0' && s[i] <= '9' && e < 100000; i++)
			e = e * 10 + (s[i] - '0');
		exp10 += eneg ? -e : e;
	}
	if (i == len && digits <= 15 && exp10 >= -22 && exp10 <= 22) {
		double d = (double)m;

		d = exp10 < 0 ? d / p10[-exp10] : d * p10[exp10];
		return neg ? -d : d;
	}
	if (len >= sizeof buf)
		return strtod(s, NULL);	/* the text ends at a JSON delimiter */
	memcpy(buf, s, len);
	buf[len] = '\0';
	return strtod(buf, NULL);
}

struct kind_scan {
	int text, embedding, hits, answer, question;
};

static int kind_member(void *ctx, const char *key, size_t keylen, size_t start, size_t end)
{
	struct kind_scan *k = ctx;

	(void)start;
	(void)end;
#define IS(name) (keylen == sizeof name - 1 && memcmp(key, name, keylen) == 0)
	k->text |= IS("text");
	k->embedding |= IS("embedding");
	k->hits |= IS("hits");
	k->answer |= IS("answer");
	k->question |= IS("question");
#undef IS
	return 0;
}

static int starts(const char *line, size_t len, const char *magic, size_t n)
{
	return len >= n && memcmp(line, magic, n) == 0;
}

enum jl_kind jl_kind_of(const char *line, size_t len)
{
	struct kind_scan k = { 0 };
	size_t i = 0;

	if (starts(line, len, "%PDF-", 5) || starts(line, len, "PK\x03\x04", 4)
	    || starts(line, len, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8))
		return JL_KIND_DOCUMENT;
	if (memchr(line, '\0', len) || u8_valid_prefix(line, len) < len)
		return JL_KIND_BINARY;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i == len || line[i] != '{')
		return JL_KIND_TEXT;
	if (jl_members(line, len, kind_member, &k) < 0)
		return JL_KIND_OTHER;
	/* hits first: a hits record may carry an earlier answer along */
	if (k.hits)
		return JL_KIND_HITS;
	if (k.answer)
		return JL_KIND_ANSWER;
	if (k.text)
		return k.embedding ? JL_KIND_EMBEDDED : JL_KIND_CHUNK;
	return k.question ? JL_KIND_QUESTION : JL_KIND_OTHER;
}

const char *jl_kind_name(enum jl_kind k, const char *line, size_t len)
{
	switch (k) {
	case JL_KIND_DOCUMENT:
		return starts(line, len, "%PDF-", 5) ? "a PDF document"
		       : starts(line, len, "PK", 2) ? "a ZIP file (EPUB or Office document?)" : "an Office document";
	case JL_KIND_BINARY: return "binary data";
	case JL_KIND_TEXT: return "plain text";
	case JL_KIND_QUESTION: return "a question record";
	case JL_KIND_CHUNK: return "rag-split's chunks";
	case JL_KIND_EMBEDDED: return "rag-embed's embedded chunks";
	case JL_KIND_HITS: return "rag-query's hits";
	case JL_KIND_ANSWER: return "rag-answer's answers";
	default: return "JSON records";
	}
}
