/* unit: a tiny TAP harness for the unit tests of common/.
 *
 *	TEST(decode_ascii)
 *	{
 *		CHECK(u8_is_space(' '));
 *		CHECK_INT(u8_count("ab", 2), 2);
 *		CHECK_STR(sb_str(&b), "abc");
 *		if (!CHECK(p != NULL))
 *			return;
 *	}
 *
 *	int main(void)
 *	{
 *		RUN(decode_ascii);
 *		return unit_done();
 *	}
 *
 * Each RUN prints one TAP line, "ok N - name" or "not ok N - name"; every
 * failed check prints "# file:line: ..." as it happens (so it survives a
 * crash later in the test), before the test's own line. unit_done() prints the
 * plan "1..N" and returns the exit status: 0 when everything passed. A test
 * defined but never RUN is an unused static function, which -Werror rejects. */
#ifndef RAGPIPE_UNIT_H
#define RAGPIPE_UNIT_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define UNIT_MAX_DIAG 8	/* diagnostics printed per test; the rest are counted */

static int unit_ntests, unit_nfailed, unit_test_failures;

#define TEST(name) static void unit_test_##name(void)
#define RUN(name) unit_run(#name, unit_test_##name)

/* Each CHECK is an expression: nonzero when the check passed. */
#define CHECK(cond) unit_check(!!(cond), __FILE__, __LINE__, "%s", #cond)
#define CHECK_INT(a, b) unit_check_int((long long)(a), (long long)(b), __FILE__, __LINE__, #a, #b)
#define CHECK_STR(a, b) unit_check_str((a), (b), __FILE__, __LINE__, #a, #b)
#define CHECK_MEM(a, alen, b, blen) unit_check_mem((a), (alen), (b), (blen), __FILE__, __LINE__, #a, #b)

static int unit_check(int ok, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5), unused));

static int unit_check(int ok, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	if (ok)
		return 1;
	if (unit_test_failures++ < UNIT_MAX_DIAG) {
		printf("# %s:%d: failed: ", file, line);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		putchar('\n');
		fflush(stdout);
	}
	return 0;
}

__attribute__((unused))
static int unit_check_int(long long a, long long b, const char *file, int line, const char *as, const char *bs)
{
	return unit_check(a == b, file, line, "%s == %s (%lld != %lld)", as, bs, a, b);
}

/* s quoted for a diagnostic, bytes outside printable ASCII escaped, cut after
 * 160 bytes; out must hold at least 16 bytes. Tests may use it too. */
__attribute__((unused))
static const char *unit_quote(const char *s, size_t len, char *out, size_t outsize)
{
	size_t i, o = 0;

	if (s == NULL)
		return "NULL";
	out[o++] = '"';
	for (i = 0; i < len && o + 8 < outsize; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i == 160) {
			o += (size_t)snprintf(out + o, outsize - o, "...(%zu bytes)", len);
			break;
		}
		if (c == '"' || c == '\\')
			o += (size_t)snprintf(out + o, outsize - o, "\\%c", c);
		else if (c >= 0x20 && c < 0x7F)
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, outsize - o, "\\x%02x", c);
	}
	if (o + 2 > outsize)
		o = outsize - 2;
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

__attribute__((unused))
static int unit_check_mem(const char *a, size_t alen, const char *b, size_t blen, const char *file, int line,
			  const char *as, const char *bs)
{
	char qa[800], qb[800];

	if (a != NULL && b != NULL && alen == blen && memcmp(a, b, alen) == 0)
		return 1;
	if (a == NULL && b == NULL)
		return 1;
	return unit_check(0, file, line, "%s == %s\n#   got:      %s\n#   expected: %s", as, bs,
			  unit_quote(a, alen, qa, sizeof qa), unit_quote(b, blen, qb, sizeof qb));
}

/* Each argument evaluated once: a may be a call with side effects. */
__attribute__((unused))
static int unit_check_str(const char *a, const char *b, const char *file, int line, const char *as, const char *bs)
{
	return unit_check_mem(a, a ? strlen(a) : 0, b, b ? strlen(b) : 0, file, line, as, bs);
}

__attribute__((unused))
static void unit_run(const char *name, void (*fn)(void))
{
	unit_test_failures = 0;
	fn();
	unit_ntests++;
	if (unit_test_failures > UNIT_MAX_DIAG)
		printf("# (%d more failed checks)\n", unit_test_failures - UNIT_MAX_DIAG);
	if (unit_test_failures)
		unit_nfailed++;
	printf("%s %d - %s\n", unit_test_failures ? "not ok" : "ok", unit_ntests, name);
	fflush(stdout);
}

__attribute__((unused))
static int unit_done(void)
{
	printf("1..%d\n", unit_ntests);
	if (unit_nfailed)
		printf("# %d of %d tests failed\n", unit_nfailed, unit_ntests);
	fflush(stdout);
	return unit_nfailed ? 1 : 0;
}

#endif
