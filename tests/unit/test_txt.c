/* Unit tests of common/txt: cleaning lines of document text. */
#include "unit.h"
#include "txt.h"

#include <stdlib.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

/* txt_normalize of a C string into a fresh buffer; the result is static. */
static const char *norm(const char *s, size_t *bad)
{
	static char out[1024];
	sb b = SB_INIT;
	int r = txt_normalize(s, strlen(s), &b, bad);

	if (r < 0 || b.len >= sizeof out) {
		sb_free(&b);
		return "(failed)";
	}
	memcpy(out, sb_str(&b), b.len);
	out[b.len] = '\0';
	sb_free(&b);
	return out;
}

#define CHECK_NORM(in, want) CHECK_STR(norm((in), NULL), (want))

TEST(normalize_nfkc)
{
	CHECK_NORM("\xEF\xAC\x81le", "file");			/* ﬁ ligature */
	CHECK_NORM("\xEF\xAC\x82ow", "flow");			/* ﬂ */
	CHECK_NORM("e\xCC\x81t\xC3\xA9", "\xC3\xA9t\xC3\xA9");	/* e + combining acute composed */
	CHECK_NORM("\xE2\x91\xA0", "1");			/* ① */
	CHECK_NORM("x\xC2\xB2", "x2");				/* superscript two */
	CHECK_NORM("\xEF\xBD\xB6\xEF\xBE\x9E", "\xE3\x82\xAC");	/* half-width ｶﾞ -> ガ */
	/* plain text is left alone */
	CHECK_NORM("Hello, world. 3.14", "Hello, world. 3.14");
	CHECK_NORM("\xE4\xB8\xAD\xE6\x96\x87\xE3\x80\x82", "\xE4\xB8\xAD\xE6\x96\x87\xE3\x80\x82");	/* 中文。 */
	CHECK_NORM("\xE2\x80\x9Cquoted\xE2\x80\x9D \xE2\x80\x94 dash", "\xE2\x80\x9Cquoted\xE2\x80\x9D \xE2\x80\x94 dash");
	CHECK_NORM("", "");
}

/* Full-width letters and digits fold to ASCII; full-width punctuation stays. */
TEST(normalize_full_width)
{
	CHECK_NORM("\xEF\xBC\xA1\xEF\xBC\xA2\xEF\xBC\xA3\xEF\xBC\x91", "ABC1");	/* ＡＢＣ１ */
	CHECK_NORM("\xEF\xBD\x81\xEF\xBD\x9A", "az");				/* ａｚ */
	CHECK_NORM("\xEF\xBC\x8C\xEF\xBC\x81\xEF\xBC\x9F", "\xEF\xBC\x8C\xEF\xBC\x81\xEF\xBC\x9F");	/* ，！？ */
	CHECK_NORM("\xEF\xBC\x88\xE6\xB3\xA8\xEF\xBC\x89\xEF\xBC\x9A\xEF\xBC\x9B",
		   "\xEF\xBC\x88\xE6\xB3\xA8\xEF\xBC\x89\xEF\xBC\x9A\xEF\xBC\x9B");	/* （注）：； */
	/* １２３，４５６ : digits fold, the comma stays */
	CHECK_NORM("\xEF\xBC\x91\xEF\xBC\x92\xEF\xBC\x93\xEF\xBC\x8C\xEF\xBC\x94\xEF\xBC\x95\xEF\xBC\x96",
		   "123\xEF\xBC\x8C" "456");
	/* NFKC on both sides of kept punctuation: ﬁ，ﬂ */
	CHECK_NORM("\xEF\xAC\x81\xEF\xBC\x8C\xEF\xAC\x82", "fi\xEF\xBC\x8C" "fl");
	/* the ideographic space is a space */
	CHECK_NORM("\xE4\xB8\xAD\xE3\x80\x80\xE6\x96\x87", "\xE4\xB8\xAD \xE6\x96\x87");
}

TEST(normalize_radicals)
{
	CHECK_NORM("\xE2\xBC\xBF", "\xE6\x89\x8B");		/* U+2F3F KANGXI RADICAL HAND -> 手 */
	CHECK_NORM("\xE2\xBA\xA0", "\xE6\xB0\x91");		/* U+2EA0 CJK RADICAL CIVILIAN -> 民 */
	CHECK_NORM("\xE2\xBB\x94", "\xE9\x97\xA8");		/* U+2ED4 CJK RADICAL C-SIMPLIFIED GATE -> 门 */
	CHECK_NORM("\xE2\xBC\x80", "\xE4\xB8\x80");		/* U+2F00 KANGXI RADICAL ONE -> 一 */
	/* in running text */
	CHECK_NORM("\xE4\xBA\xBA\xE2\xBA\xA0", "\xE4\xBA\xBA\xE6\xB0\x91");	/* 人⺠ -> 人民 */
}

TEST(normalize_whitespace)
{
	CHECK_NORM("  a \t\t b  ", "a b");
	CHECK_NORM("a\xC2\xA0" "b", "a b");			/* no-break space */
	CHECK_NORM("a\xE2\x80\x83\xE2\x80\x83" "b", "a b");	/* em spaces */
	CHECK_NORM("a\xE2\x80\xA8" "b", "a b");			/* line separator */
	CHECK_NORM(" \t \xE3\x80\x80 ", "");
	CHECK_NORM("one  two   three", "one two three");
}

/* "a\fb" is two words: whitespace that is also a control character must
 * still separate them, not vanish. */
TEST(normalize_whitespace_controls_separate_words)
{
	CHECK_NORM("a\x0b" "b", "a b");		/* vertical tab */
	CHECK_NORM("a\x0c" "b", "a b");		/* form feed */
	CHECK_NORM("a\r" "b", "a b");
	CHECK_NORM("a\n" "b", "a b");
	CHECK_NORM("a\xC2\x85" "b", "a b");	/* NEL */
}

TEST(normalize_drops_invisible)
{
	CHECK_NORM("a\xE2\x80\x8B" "b", "ab");			/* zero width space */
	CHECK_NORM("a\xE2\x80\x8C" "b", "ab");			/* ZWNJ */
	CHECK_NORM("a\xE2\x81\xA0" "b", "ab");			/* word joiner */
	CHECK_NORM("\xEF\xBB\xBF" "abc", "abc");		/* BOM */
	CHECK_NORM("a\x01" "b\x1f" "c\x7f" "d\xC2\x80" "e\xC2\x9F" "f", "abcdef");	/* C0, DEL, C1 */
	{
		sb b = SB_INIT;

		CHECK_INT(txt_normalize("a\0b", 3, &b, NULL), 0);
		CHECK_STR(sb_str(&b), "ab");
		sb_free(&b);
	}
	/* a zero-width space between words does not join the spaces around it */
	CHECK_NORM("a \xE2\x80\x8B b", "a b");
	/* a soft hyphen inside a word goes; ending the line it marks hyphenation */
	CHECK_NORM("hy\xC2\xAD" "phen", "hyphen");
	CHECK_NORM("hyphen\xC2\xAD", "hyphen-");
	CHECK_NORM("hyphen\xC2\xAD  ", "hyphen-");
}

TEST(normalize_invalid_utf8)
{
	size_t bad = 0;

	CHECK_STR(norm("a\xFF" "b", &bad), "a\xEF\xBF\xBD" "b");
	CHECK_INT(bad, 1);
	bad = 0;
	/* an encoded surrogate: three bad bytes, three U+FFFD */
	CHECK_STR(norm("x\xED\xA0\x80y", &bad), "x\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDy");
	CHECK_INT(bad, 3);
	bad = 0;
	/* truncated 中 at the end */
	CHECK_STR(norm("\xE4\xB8", &bad), "\xEF\xBF\xBD\xEF\xBF\xBD");
	CHECK_INT(bad, 2);
	/* valid text counts nothing; NULL is allowed */
	bad = 0;
	CHECK_STR(norm("\xE4\xB8\xAD", &bad), "\xE4\xB8\xAD");
	CHECK_INT(bad, 0);
	CHECK_STR(norm("\xFF", NULL), "\xEF\xBF\xBD");
}

/* A line far longer than the pieces utf8proc gets at once (64 KB) is
 * normalised exactly as its parts are: no composition is cut apart. */
TEST(normalize_long_line_in_pieces)
{
	/* "e" + combining acute, the fi ligature, roman twelve, Cyrillic, a space */
	static const char unit_in[] = "e\xCC\x81\xEF\xAC\x81\xE2\x85\xAB\xD0\xB6 ";
	static const char unit_out[] = "\xC3\xA9" "fiXII\xD0\xB6 ";
	size_t n = 20000, i, inlen = sizeof unit_in - 1, outlen = sizeof unit_out - 1;
	char *in = malloc(n * inlen), *want = malloc(n * outlen);
	sb b = SB_INIT;
	size_t bad = 0;

	if (!CHECK(in != NULL && want != NULL))
		goto out;
	for (i = 0; i < n; i++) {
		memcpy(in + i * inlen, unit_in, inlen);
		memcpy(want + i * outlen, unit_out, outlen);
	}
	CHECK_INT(txt_normalize(in, n * inlen, &b, &bad), 0);
	CHECK_INT(bad, 0);
	/* the trailing space is trimmed */
	CHECK_MEM(sb_str(&b), b.len, want, n * outlen - 1);
out:
	sb_free(&b);
	free(in);
	free(want);
}

TEST(normalize_appends)
{
	sb b = SB_INIT;

	CHECK_INT(sb_puts(&b, "kept|"), 0);
	CHECK_INT(txt_normalize("  \xEF\xAC\x81 ne  ", 10, &b, NULL), 0);
	CHECK_STR(sb_str(&b), "kept|fi ne");
	CHECK_INT(txt_normalize("   ", 3, &b, NULL), 0);
	CHECK_STR(sb_str(&b), "kept|fi ne");
	sb_free(&b);
}

#define TOC(s) txt_is_toc_line((s), strlen(s))

TEST(toc_lines)
{
	CHECK(TOC("7.7.4 DenseNet\xE6\xA8\xA1\xE5\x9E\x8B . . . . . . 291"));	/* DenseNet模型 */
	CHECK(TOC("Introduction........5"));
	CHECK(TOC("Preface ..... xii"));
	CHECK(TOC("Chapter 1 \xE2\x80\xA6\xE2\x80\xA6 12"));		/* …… */
	CHECK(TOC("2.1 Setup \xC2\xB7\xC2\xB7\xC2\xB7\xC2\xB7\xC2\xB7 17"));	/* middle dots */
	CHECK(TOC("Index . . . . 301 "));
	CHECK(!TOC("See Figure 3.2."));
	CHECK(!TOC("It costs 5"));
	CHECK(!TOC("Wait..."));
	CHECK(!TOC("The value is 3.14"));
	CHECK(!TOC("and so on.. 5"));	/* two dots are not a leader */
	CHECK(!TOC("12"));
	CHECK(!TOC(""));
}

#define PAGE(s) txt_is_page_number((s), strlen(s))

TEST(page_numbers)
{
	CHECK(PAGE("12"));
	CHECK(PAGE("- 12 -"));
	CHECK(PAGE("xii"));
	CHECK(PAGE("XIV"));
	CHECK(PAGE("Page 3"));
	CHECK(PAGE("page 3"));
	CHECK(PAGE("Page 3 of 9"));
	CHECK(PAGE("3 / 9"));
	CHECK(PAGE("\xE7\xAC\xAC" "3\xE9\xA1\xB5"));		/* 第3页 */
	CHECK(PAGE("[12]"));
	CHECK(PAGE("(iv)"));
	CHECK(PAGE("\xE2\x80\x94 7 \xE2\x80\x94"));		/* — 7 — */
	CHECK(!PAGE("did"));
	CHECK(!PAGE("12 apples"));
	CHECK(!PAGE("Chapter 3"));
	CHECK(!PAGE("Page"));
	CHECK(!PAGE("Page 3 of"));
	CHECK(!PAGE("of 9"));
	CHECK(!PAGE("iiii"));		/* not a canonical numeral */
	CHECK(!PAGE("1234567"));	/* too long for a page number */
	CHECK(!PAGE("\xE7\xAC\xAC\xE9\xA1\xB5"));		/* 第页 */
	CHECK(!PAGE(""));
	CHECK(!PAGE(" - "));
}

/* Join line b to paragraph a: the result and the return value. */
static int join(const char *a, const char *b, const char *want)
{
	sb p = SB_INIT;
	int r;

	sb_puts(&p, a);
	r = txt_join_line(&p, b, strlen(b));
	CHECK_STR(sb_str(&p), want);
	sb_free(&p);
	return r;
}

TEST(join_lines)
{
	CHECK_INT(join("hyphen-", "ated", "hyphenated"), 1);
	CHECK_INT(join("a long co\xE2\x80\x90", "operation", "a long cooperation"), 1);	/* U+2010 */
	CHECK_INT(join("hello", "world", "hello world"), 0);
	CHECK_INT(join("\xE4\xB8\xAD\xE6\x96\x87", "\xE7\xBB\xA7\xE7\xBB\xAD", "\xE4\xB8\xAD\xE6\x96\x87\xE7\xBB\xA7\xE7\xBB\xAD"), 0);	/* 中文 + 继续 */
	CHECK_INT(join("\xE4\xB8\xAD\xE6\x96\x87\xEF\xBC\x8C", "\xE7\xBB\xA7", "\xE4\xB8\xAD\xE6\x96\x87\xEF\xBC\x8C\xE7\xBB\xA7"), 0);	/* 中文， + 继 */
	CHECK_INT(join("\xE3\x81\x82", "\xE3\x81\x84", "\xE3\x81\x82\xE3\x81\x84"), 0);	/* あ + い */
	CHECK_INT(join("\xE4\xB8\xAD\xE6\x96\x87", "abc", "\xE4\xB8\xAD\xE6\x96\x87 abc"), 0);
	CHECK_INT(join("abc", "\xE4\xB8\xAD\xE6\x96\x87", "abc \xE4\xB8\xAD\xE6\x96\x87"), 0);
	CHECK_INT(join("", "first", "first"), 0);
	CHECK_INT(join("same", "", "same"), 0);
	/* not a hyphenated word: a dash after a space, after a digit */
	CHECK_INT(join("a -", "b", "a - b"), 0);
	CHECK_INT(join("pages 2-", "3", "pages 2- 3"), 0);
	/* the next line starts with a capital: a real hyphen, kept */
	{
		sb p = SB_INIT;

		sb_puts(&p, "well-");
		CHECK_INT(txt_join_line(&p, "Known", 5), 0);
		CHECK(strncmp(sb_str(&p), "well-", 5) == 0);
		CHECK(p.len >= 10 && strcmp(sb_str(&p) + p.len - 5, "Known") == 0);
		sb_free(&p);
	}
	/* a soft hyphen at the end of a normalised line joins the same way */
	{
		sb p = SB_INIT;

		CHECK_INT(txt_normalize("hy\xC2\xAD", 4, &p, NULL), 0);
		CHECK_INT(txt_join_line(&p, "phen", 4), 1);
		CHECK_STR(sb_str(&p), "hyphen");
		sb_free(&p);
	}
}

/* Key of s as a string (static). */
static const char *key(const char *s)
{
	static char out[256];
	sb k = SB_INIT;

	if (txt_furniture_key(s, strlen(s), &k) < 0 || k.len >= sizeof out || sb_str(&k)[k.len] != '\0') {
		sb_free(&k);
		return "(failed)";
	}
	memcpy(out, sb_str(&k), k.len + 1);
	sb_free(&k);
	return out;
}

static int same_key(const char *a, const char *b)
{
	char ka[256];

	snprintf(ka, sizeof ka, "%s", key(a));
	if (strcmp(ka, key(b)) == 0)
		return 1;
	printf("#   key(\"%s\") = \"%s\", key(\"%s\") = \"%s\"\n", a, ka, b, key(b));
	return 0;
}

static int different_keys(const char *a, const char *b)
{
	char ka[256];

	snprintf(ka, sizeof ka, "%s", key(a));
	return strcmp(ka, key(b)) != 0;
}

TEST(furniture_key)
{
	CHECK(same_key("Chapter 3 Page 12", "Chapter 3 Page 13"));
	CHECK(same_key("Chapter 3 Page 12", "CHAPTER 3  page 120"));
	CHECK(same_key("12 Deep Learning", "13 Deep Learning"));
	CHECK(same_key("\xE7\xAC\xAC" "3\xE7\xAB\xA0 \xE5\x9F\xBA\xE7\xA1\x80",
		       "\xE7\xAC\xAC" "4\xE7\xAB\xA0\xE5\x9F\xBA\xE7\xA1\x80"));	/* 第3章 基础 / 第4章基础 */
	CHECK(same_key("Contents | iv", "Contents | v"));
	CHECK(different_keys("Deep Learning", "Shallow Learning"));
	CHECK(different_keys("Chapter 3", "Chapter 3 Basics"));
	/* the key buffer is reset, not appended to */
	{
		sb k = SB_INIT;

		sb_puts(&k, "junk");
		CHECK_INT(txt_furniture_key("ab 1", 4, &k), 0);
		CHECK_STR(sb_str(&k), key("ab 2"));
		sb_free(&k);
	}
}

/* Front matter is numbered in roman numerals: "Preface xii", "xiii Preface". */
TEST(furniture_key_roman_after_words)
{
	CHECK(same_key("Preface xii", "Preface xiii"));
	CHECK(same_key("xii Preface", "xiv Preface"));
	CHECK(same_key("Contents vii", "Contents ix"));
}

/* The key of an empty line is "" (a properly terminated empty string). */
TEST(furniture_key_of_empty_line)
{
	sb k = SB_INIT;

	CHECK_INT(txt_furniture_key("", 0, &k), 0);
	CHECK_INT(k.len, 0);
	CHECK_INT(sb_str(&k)[0], '\0');
	sb_free(&k);
}

int main(void)
{
#ifdef __GLIBC__
	mallopt(M_PERTURB, 0x55);	/* fresh blocks hold 0xAA, never a lucky 0 */
#endif
	RUN(furniture_key_of_empty_line);	/* first: its block must be fresh */
	RUN(normalize_nfkc);
	RUN(normalize_full_width);
	RUN(normalize_radicals);
	RUN(normalize_whitespace);
	RUN(normalize_whitespace_controls_separate_words);
	RUN(normalize_drops_invisible);
	RUN(normalize_invalid_utf8);
	RUN(normalize_appends);
	RUN(normalize_long_line_in_pieces);
	RUN(toc_lines);
	RUN(page_numbers);
	RUN(join_lines);
	RUN(furniture_key);
	RUN(furniture_key_roman_after_words);
	return unit_done();
}
