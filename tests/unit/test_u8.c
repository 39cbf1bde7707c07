/* Unit tests of common/u8: decoding, encoding and character classes. */
#include "unit.h"
#include "u8.h"

#include <stdint.h>

/* Decode all of s; the code points go to cps (at most max), the number of
 * invalid bytes to *nbad. Returns the number of code points. */
static size_t decode_all(const char *s, size_t len, int32_t *cps, size_t max, int *nbad)
{
	size_t off = 0, n = 0;

	*nbad = 0;
	while (off < len) {
		int32_t cp = -1;
		int invalid = 0;
		size_t k = u8_decode(s + off, len - off, &cp, &invalid);

		if (k == 0 || k > len - off)
			return (size_t)-1;
		if (n < max)
			cps[n] = cp;
		n++;
		*nbad += invalid;
		off += k;
	}
	return n;
}

TEST(decode_ascii)
{
	int c;

	for (c = 0; c < 0x80; c++) {
		char s[2] = { (char)c, 'x' };
		int32_t cp = -1;
		int invalid = 0;

		CHECK_INT(u8_decode(s, 2, &cp, &invalid), 1);
		CHECK_INT(cp, c);
		CHECK_INT(invalid, 0);
	}
}

TEST(decode_known_sequences)
{
	static const struct {
		const char *s;
		int32_t cp;
		size_t n;
	} cases[] = {
		{ "\xC3\xA9", 0xE9, 2 },		/* é */
		{ "\xC2\x80", 0x80, 2 },		/* smallest 2-byte */
		{ "\xDF\xBF", 0x7FF, 2 },
		{ "\xE0\xA0\x80", 0x800, 3 },		/* smallest 3-byte */
		{ "\xE4\xB8\xAD", 0x4E2D, 3 },		/* 中 */
		{ "\xED\x9F\xBF", 0xD7FF, 3 },		/* just below the surrogates */
		{ "\xEE\x80\x80", 0xE000, 3 },		/* just above them */
		{ "\xEF\xBF\xBD", 0xFFFD, 3 },
		{ "\xEF\xBF\xBF", 0xFFFF, 3 },
		{ "\xF0\x90\x80\x80", 0x10000, 4 },	/* smallest 4-byte */
		{ "\xF0\x9F\x98\x80", 0x1F600, 4 },	/* 😀 */
		{ "\xF4\x8F\xBF\xBF", 0x10FFFF, 4 },	/* largest */
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int32_t cp = -1;
		int invalid = 0;
		char buf[8];
		size_t n = strlen(cases[i].s);

		/* exactly the bytes available, and with more text after them */
		CHECK_INT(u8_decode(cases[i].s, n, &cp, &invalid), cases[i].n);
		CHECK_INT(cp, cases[i].cp);
		CHECK_INT(invalid, 0);
		memcpy(buf, cases[i].s, n);
		memcpy(buf + n, "ab", 2);
		CHECK_INT(u8_decode(buf, n + 2, &cp, &invalid), cases[i].n);
		CHECK_INT(cp, cases[i].cp);
		CHECK_INT(invalid, 0);
		/* and the encoder gives the same bytes back */
		CHECK_INT(u8_encode(cases[i].cp, buf), cases[i].n);
		CHECK_MEM(buf, cases[i].n, cases[i].s, n);
	}
}

/* Every scalar value survives encode + decode, with the right length. */
TEST(round_trip_all_scalar_values)
{
	int32_t c;
	long bad = 0;

	for (c = 0; c <= 0x10FFFF; c++) {
		char buf[4];
		size_t n, m, want;
		int32_t back = -1;
		int invalid = 0;

		if (c >= 0xD800 && c <= 0xDFFF)
			continue;
		want = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
		n = u8_encode(c, buf);
		m = u8_decode(buf, n, &back, &invalid);
		if (n != want || m != n || back != c || invalid != 0 || u8_valid_prefix(buf, n) != n
		    || u8_count(buf, n) != 1) {
			if (bad++ < 3)
				CHECK_INT(back, c);
		}
	}
	CHECK_INT(bad, 0);
}

/* Each bad sequence yields U+FFFD for its first byte only, with *invalid set;
 * decoding resumes at the next byte. */
TEST(invalid_sequences_one_byte_at_a_time)
{
	static const struct {
		const char *what, *s;
	} cases[] = {
		{ "lone continuation", "\x80" },
		{ "lone continuation BF", "\xBF" },
		{ "overlong NUL", "\xC0\x80" },
		{ "overlong C1", "\xC1\xBF" },
		{ "overlong 3-byte", "\xE0\x80\x80" },
		{ "overlong 3-byte U+07FF", "\xE0\x9F\xBF" },
		{ "overlong 4-byte U+FFFF", "\xF0\x8F\xBF\xBF" },
		{ "surrogate D800", "\xED\xA0\x80" },
		{ "surrogate DFFF", "\xED\xBF\xBF" },
		{ "past U+10FFFF", "\xF4\x90\x80\x80" },
		{ "F5 lead", "\xF5\x80\x80\x80" },
		{ "FE", "\xFE" },
		{ "FF", "\xFF" },
		{ "5-byte form", "\xF8\x88\x80\x80\x80" },
	};
	size_t i, j;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *s = cases[i].s;
		size_t len = strlen(s);
		int32_t cp = -1;
		int invalid = 0;

		/* the first byte */
		if (!CHECK_INT(u8_decode(s, len, &cp, &invalid), 1))
			printf("#   case: %s\n", cases[i].what);
		CHECK_INT(cp, U8_REPLACEMENT);
		CHECK_INT(invalid, 1);
		/* all of it: every byte is its own U+FFFD */
		{
			int32_t cps[8];
			int nbad;

			CHECK_INT(decode_all(s, len, cps, 8, &nbad), len);
			CHECK_INT(nbad, (int)len);
			for (j = 0; j < len; j++)
				CHECK_INT(cps[j], U8_REPLACEMENT);
		}
		CHECK_INT(u8_valid_prefix(s, len), 0);
	}
}

TEST(truncated_sequences)
{
	int32_t cp = -1, cps[8];
	int invalid = 0, nbad;

	/* 中 with its last byte missing: the buffer ends */
	CHECK_INT(u8_decode("\xE4\xB8\xAD", 2, &cp, &invalid), 1);
	CHECK_INT(cp, U8_REPLACEMENT);
	CHECK_INT(invalid, 1);
	/* ... or ASCII follows: the ASCII is not swallowed */
	CHECK_INT(decode_all("\xE4\xB8" "ab", 4, cps, 8, &nbad), 4);
	CHECK_INT(nbad, 2);
	CHECK_INT(cps[0], U8_REPLACEMENT);
	CHECK_INT(cps[1], U8_REPLACEMENT);
	CHECK_INT(cps[2], 'a');
	CHECK_INT(cps[3], 'b');
	/* a lead byte followed by another lead byte */
	CHECK_INT(decode_all("\xC3\xC3\xA9", 3, cps, 8, &nbad), 2);
	CHECK_INT(nbad, 1);
	CHECK_INT(cps[0], U8_REPLACEMENT);
	CHECK_INT(cps[1], 0xE9);
	/* 4-byte with 3 bytes available */
	invalid = 0;
	CHECK_INT(u8_decode("\xF0\x9F\x98\x80", 3, &cp, &invalid), 1);
	CHECK_INT(invalid, 1);
}

TEST(invalid_flag_is_optional)
{
	int32_t cp = -1;

	CHECK_INT(u8_decode("\xFF", 1, &cp, NULL), 1);
	CHECK_INT(cp, U8_REPLACEMENT);
	CHECK_INT(u8_decode("\xE4\xB8\xAD", 3, &cp, NULL), 3);
	CHECK_INT(cp, 0x4E2D);
}

TEST(encode_boundaries)
{
	char buf[4];

	CHECK_INT(u8_encode(0, buf), 1);
	CHECK_INT(buf[0], 0);
	CHECK_INT(u8_encode(0x7F, buf), 1);
	CHECK_INT(u8_encode(0x80, buf), 2);
	CHECK_MEM(buf, 2, "\xC2\x80", 2);
	CHECK_INT(u8_encode(0x7FF, buf), 2);
	CHECK_INT(u8_encode(0x800, buf), 3);
	CHECK_INT(u8_encode(0xFFFF, buf), 3);
	CHECK_INT(u8_encode(0x10000, buf), 4);
	CHECK_INT(u8_encode(0x10FFFF, buf), 4);
	CHECK_MEM(buf, 4, "\xF4\x8F\xBF\xBF", 4);
}

TEST(valid_prefix)
{
	CHECK_INT(u8_valid_prefix("", 0), 0);
	CHECK_INT(u8_valid_prefix("abc", 3), 3);
	CHECK_INT(u8_valid_prefix("ab\xFF" "cd", 5), 2);
	CHECK_INT(u8_valid_prefix("\xE4\xB8\xAD\xE6\x96\x87", 6), 6);	/* 中文 */
	CHECK_INT(u8_valid_prefix("\xE4\xB8\xAD\xE6\x96", 5), 3);	/* 中 + cut 文 */
	CHECK_INT(u8_valid_prefix("\xC3\xA9\xC0\x80", 4), 2);		/* é + overlong */
	CHECK_INT(u8_valid_prefix("x\xED\xA0\x80", 4), 1);		/* surrogate */
	CHECK_INT(u8_valid_prefix("\xF0\x9F\x98\x80!", 5), 5);
	/* a NUL byte is valid UTF-8 */
	CHECK_INT(u8_valid_prefix("a\0b", 3), 3);
	/* the length given is honoured, not the NUL */
	CHECK_INT(u8_valid_prefix("abc\xFF", 3), 3);
}

TEST(count)
{
	CHECK_INT(u8_count("", 0), 0);
	CHECK_INT(u8_count("abc", 3), 3);
	CHECK_INT(u8_count("\xE4\xB8\xAD\xE6\x96\x87", 6), 2);
	CHECK_INT(u8_count("a\xF0\x9F\x98\x80\xC3\xA9", 7), 3);
	CHECK_INT(u8_count("a\0b", 3), 3);
}

TEST(back)
{
	/* "a中b😀" : a@0 中@1..3 b@4 😀@5..8, NUL@9 */
	const char *s = "a\xE4\xB8\xAD" "b\xF0\x9F\x98\x80";
	static const size_t want[] = { 0, 1, 1, 1, 4, 5, 5, 5, 5, 9 };
	size_t off;

	for (off = 0; off < sizeof want / sizeof want[0]; off++) {
		if (!CHECK_INT(u8_back(s, off), want[off]))
			printf("#   offset %zu\n", off);
	}
}

TEST(is_cjk)
{
	/* text written without spaces */
	CHECK(u8_is_cjk(0x4E2D));	/* 中 */
	CHECK(u8_is_cjk(0x3042));	/* あ */
	CHECK(u8_is_cjk(0x30A2));	/* ア */
	CHECK(u8_is_cjk(0xD55C));	/* 한 */
	CHECK(u8_is_cjk(0x3400));	/* ext A */
	CHECK(u8_is_cjk(0x20000));	/* ext B */
	CHECK(u8_is_cjk(0x3002));	/* 。 */
	CHECK(u8_is_cjk(0xFF0C));	/* ， */
	CHECK(u8_is_cjk(0x300C));	/* 「 */
	CHECK(!u8_is_cjk('a'));
	CHECK(!u8_is_cjk('1'));
	CHECK(!u8_is_cjk(' '));
	CHECK(!u8_is_cjk(0xE9));	/* é */
	CHECK(!u8_is_cjk(0x0416));	/* Cyrillic */
	CHECK(!u8_is_cjk(U8_REPLACEMENT));

	/* letters only */
	CHECK(u8_is_cjk_letter(0x4E2D));
	CHECK(u8_is_cjk_letter(0x3042));
	CHECK(u8_is_cjk_letter(0xAC00));
	CHECK(!u8_is_cjk_letter(0x3002));
	CHECK(!u8_is_cjk_letter(0xFF0C));
	CHECK(!u8_is_cjk_letter('a'));
}

/* Exactly Python's str.isspace() over all of Unicode (Python 3.11). */
TEST(is_space_matches_python)
{
	static const int32_t py[] = {
		0x9, 0xa, 0xb, 0xc, 0xd, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680,
		0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a,
		0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
	};
	size_t k = 0;
	int32_t c;
	long bad = 0;

	for (c = 0; c <= 0x10FFFF; c++) {
		int want = k < sizeof py / sizeof py[0] && py[k] == c;

		if (want)
			k++;
		if (!!u8_is_space(c) != want && bad++ < 5)
			CHECK_INT(u8_is_space(c) ? c : -c, want ? c : -c);
	}
	CHECK_INT(bad, 0);
	/* not spaces, though often taken for them */
	CHECK(!u8_is_space(0x200B));	/* zero width space */
	CHECK(!u8_is_space(0xFEFF));
	CHECK(!u8_is_space(0x180E));
}

int main(void)
{
	RUN(decode_ascii);
	RUN(decode_known_sequences);
	RUN(round_trip_all_scalar_values);
	RUN(invalid_sequences_one_byte_at_a_time);
	RUN(truncated_sequences);
	RUN(invalid_flag_is_optional);
	RUN(encode_boundaries);
	RUN(valid_prefix);
	RUN(count);
	RUN(back);
	RUN(is_cjk);
	RUN(is_space_matches_python);
	return unit_done();
}
