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
	r = txt_join_line(&p, b, strlen(b), 0);
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
		CHECK_INT(txt_join_line(&p, "Known", 5, 0), 0);
		CHECK(strncmp(sb_str(&p), "well-", 5) == 0);
		CHECK(p.len >= 10 && strcmp(sb_str(&p) + p.len - 5, "Known") == 0);
		sb_free(&p);
	}
	/* a soft hyphen at the end of a normalised line joins the same way */
	{
		sb p = SB_INIT;

		CHECK_INT(txt_normalize("hy\xC2\xAD", 4, &p, NULL), 0);
		CHECK_INT(txt_join_line(&p, "phen", 4, 0), 1);
		CHECK_STR(sb_str(&p), "hyphen");
		sb_free(&p);
	}
}

/* The result, and normalising it again changes nothing. */
static int norm_stable(const char *in, const char *want)
{
	char once[1024];

	snprintf(once, sizeof once, "%s", norm(in, NULL));
	if (!CHECK_STR(once, want))
		return 0;
	return CHECK_STR(norm(once, NULL), once);
}

/* TeX's fonts give an accent as a glyph of its own, before its letter. */
TEST(normalize_tex_accents)
{
	norm_stable("Sch\xC2\xA8opf", "Sch\xC3\xB6pf");				/* Sch¨opf -> Schöpf */
	norm_stable("No\xC2\xA8" "el", "No\xC3\xAB" "l");				/* No¨el: ö or ë, before wins */
	norm_stable("Fran\xC2\xB8" "cois", "Fran\xC3\xA7ois");			/* cedilla */
	norm_stable("J\xC2\xB4" "er\xCB\x86ome", "J\xC3\xA9r\xC3\xB4me");		/* J´erˆome */
	norm_stable("Mikul\xC2\xB4\xC4\xB1k", "Mikul\xC3\xADk");			/* dotless i */
	norm_stable("na\xC2\xA8\xC4\xB1ve", "na\xC3\xAFve");
	norm_stable("\xCB\x87" "Capek \xCB\x9A" "Arhus", "\xC4\x8C" "apek \xC3\x85rhus");	/* caron, ring */
	norm_stable("Cr`eme br\xCB\x86ul\xC2\xB4" "ee", "Cr\xC3\xA8me br\xC3\xBBl\xC3\xA9" "e");
	norm_stable("a \xC2\xB4" "et\xC2\xB4" "e", "a \xC3\xA9t\xC3\xA9");		/* a ´et´e: the space is real */
	norm_stable("y \xE2\x88\x92 \xC2\xAF" "y", "y \xE2\x88\x92 \xC8\xB3");	/* y − ¯y -> ȳ */
	/* after its letter, when only that reading makes a letter, and then
	 * the line's other accents take the same side */
	norm_stable("Scho\xC2\xA8 n", "Sch\xC3\xB6 n");
	norm_stable("Scho\xC2\xA8pf Noe\xC2\xA8l", "Sch\xC3\xB6pf No\xC3\xABl");
	norm_stable("Scho\xC2\xA8pf No\xC2\xA8" "el", "Sch\xC3\xB6pf N\xC3\xB6" "el");
	norm_stable("Noe\xC2\xA8l und Scho\xC2\xA8pf", "No\xC3\xABl und Sch\xC3\xB6pf");
	/* NFKC's spelling: a space and a combining mark */
	norm_stable("Sch \xCC\x88opf", "Sch\xC3\xB6pf");
	norm_stable("the \xCC\x81" "Ecole", "the \xC3\x89" "cole");			/* a capital starts a word */
	norm_stable("\xE2\x89\xA4 \xCC\xB8= \xE2\x89\x88", "\xE2\x89\xA4 \xE2\x89\xA0 \xE2\x89\x88");	/* ≤ ̸= ≈ -> ≠ */
	/* left alone: accents no letter takes, apostrophes, quotes, ASCII ^ ~ */
	norm_stable("the \xCB\x86 and \xCB\x9C signs", "the \xCB\x86 and \xCC\x83 signs");
	norm_stable("don\xC2\xB4t and it\xC2\xB4s", "don \xCC\x81t and it \xCC\x81s");
	norm_stable("a  \xCC\x80" "chroot \xCC\x80" "ed", "a \xCC\x80" "chroot \xCC\x80" "ed");
	norm_stable("`echo` and a`b", "`echo` and a`b");
	norm_stable("x^2 and y~x", "x^2 and y~x");
	norm_stable("r\xC2\xA8r", "r \xCC\x88r");
}

TEST(normalize_drops_private_use)
{
	CHECK_NORM("a\xEE\x80\x80" "b", "ab");				/* U+E000 */
	CHECK_NORM("a\xEF\xA3\xBF" "b", "ab");				/* U+F8FF */
	CHECK_NORM("a \xF3\xB0\x80\x80 b \xF4\x8F\xBF\xBD", "a b");	/* U+F0000, U+10FFFD */
	CHECK_NORM("\xEE\x80\x81 \xEE\x80\x82", "");
	/* U+FFFD stays: it may stand for invalid bytes */
	CHECK_NORM("a\xEF\xBF\xBD" "b", "a\xEF\xBF\xBD" "b");
	CHECK(txt_is_unmapped(0xFFFD) && txt_is_unmapped(0) && txt_is_unmapped(-1) && txt_is_unmapped(0x110000));
	CHECK(!txt_is_unmapped('a') && !txt_is_unmapped(0xE000));
}

TEST(normalize_url_spaces)
{
	norm_stable("see https: //tug.org/texlive", "see https://tug.org/texlive");
	norm_stable("see https:// tug.org and ftp: //ftp.example.org", "see https://tug.org and ftp://ftp.example.org");
	norm_stable("(HTTP: //example.org)", "(HTTP://example.org)");
	/* not a scheme */
	norm_stable("Note: //comment", "Note: //comment");
	norm_stable("xhttps: //a", "xhttps: //a");
	norm_stable("http:// ", "http://");
}

TEST(normalize_logos)
{
	norm_stable("with X\xC6\x8ELATEX or X\xC6\x8ETEX", "with XeLaTeX or XeTeX");
	norm_stable("X\xC6\x8ELATEX", "XeLaTeX");		/* alone, still unambiguous */
	norm_stable("in LATEX2\xCE\xB5 syntax", "in LaTeX2e syntax");
	norm_stable("LATEX 2\xCE\xB5 adds", "LaTeX2e adds");
	norm_stable("BibTEX, ConTEXt, MiKTEX, TEXstudio, pdfLATEX, LuaLATEX",
		    "BibTeX, ConTeXt, MiKTeX, TeXstudio, pdfLaTeX, LuaLaTeX");
	norm_stable("run LATEX on it", "run LaTeX on it");
	norm_stable("LATEX is a format", "LaTeX is a format");
	norm_stable("HTML, LATEX, plain text", "HTML, LaTeX, plain text");
	norm_stable("TEX AND LATEX in the AMS-LATEX way", "TeX AND LaTeX in the AMS-LaTeX way");
	norm_stable("\xE4\xBD\xBF\xE7\x94\xA8 LATEX \xE6\x8E\x92\xE7\x89\x88", "\xE4\xBD\xBF\xE7\x94\xA8 LaTeX \xE6\x8E\x92\xE7\x89\x88");	/* 使用 LATEX 排版 */
	norm_stable("XETEX and XELATEX too", "XeTeX and XeLaTeX too");
	norm_stable("the LATEX3 project", "the LaTeX3 project");
	/* a heading in capitals, a lone word, code and variables stay */
	norm_stable("USING LATEX AND TEX", "USING LATEX AND TEX");
	norm_stable("THE TEX BOOK", "THE TEX BOOK");
	norm_stable("LATEX:", "LATEX:");
	norm_stable("\xE5\xB0\xB1\xE6\x98\xAF TEX\xE3\x80\x82", "\xE5\xB0\xB1\xE6\x98\xAF TeX\xE3\x80\x82");	/* 就是 TEX。 */
	norm_stable("TEX.", "TeX.");
	norm_stable("USING LATEX, TEX.", "USING LaTeX, TeX.");
	norm_stable("set TEXMFHOME, TEXINPUTS and TEX_HOME", "set TEXMFHOME, TEXINPUTS and TEX_HOME");
	norm_stable("run $TEX or \\TEX or %TEX% here", "run $TEX or \\TEX or %TEX% here");
	norm_stable("TEX = pdftex", "TEX = pdftex");
	norm_stable("the TEXT of getTEXT", "the TEXT of getTEXT");
	norm_stable("TeX and LaTeX", "TeX and LaTeX");
	norm_stable("X\xC6\x8E alone", "X\xC6\x8E alone");
}

TEST(normalize_permalinks)
{
	norm_stable("Abstract\xC2\xB6", "Abstract");
	norm_stable("2.3 Quill Patterns \xC2\xB6", "2.3 Quill Patterns");
	norm_stable("\xC2\xB6", "\xC2\xB6");
	norm_stable("\xC2\xB6 \\P", "\xC2\xB6 \\P");
}

#define ITEM(s) txt_is_list_item((s), strlen(s))

TEST(list_items)
{
	CHECK(ITEM("\xE2\x80\xA2 a pencil"));		/* • */
	CHECK(ITEM("\xE2\x80\xA2"));
	CHECK(ITEM("\xE2\x97\x8B nested"));		/* ○ */
	CHECK(ITEM("\xE2\x80\x93 second level"));	/* – */
	CHECK(ITEM("- item"));
	CHECK(ITEM("* item"));
	CHECK(ITEM("1. read them"));
	CHECK(ITEM("12) twelve"));
	CHECK(ITEM("(a) first"));
	CHECK(ITEM("(iv) fourth"));
	CHECK(ITEM("b) second"));
	CHECK(!ITEM("2001. A year"));
	CHECK(!ITEM("3.14 is pi"));
	CHECK(!ITEM("-flag"));
	CHECK(!ITEM("\xE2\x80\x93" "2000"));
	CHECK(!ITEM("(abcd) no"));
	CHECK(!ITEM("a plain line"));
	CHECK(!ITEM(""));
}

static int join_flags(const char *a, const char *b, int flags, const char *want)
{
	sb p = SB_INIT;
	int r;

	sb_puts(&p, a);
	r = txt_join_line(&p, b, strlen(b), flags);
	CHECK_STR(sb_str(&p), want);
	sb_free(&p);
	return r;
}

TEST(join_list_items)
{
	CHECK_INT(join("Bring:", "\xE2\x80\xA2 a pencil", "Bring:\n\xE2\x80\xA2 a pencil"), 0);
	CHECK_INT(join("\xE2\x80\xA2 a pencil", "\xE2\x80\xA2 the minutes", "\xE2\x80\xA2 a pencil\n\xE2\x80\xA2 the minutes"), 0);
	CHECK_INT(join("in order:", "1. read them", "in order:\n1. read them"), 0);
	CHECK_INT(join("- bread", "- milk", "- bread\n- milk"), 0);
	CHECK_INT(join("\xE2\x80\xA2 a long item that", "goes on", "\xE2\x80\xA2 a long item that goes on"), 0);
}

TEST(join_urls)
{
	/* cut after ".", "/", "-", ":" */
	join("https://CRAN.R-project.", "org) and more", "https://CRAN.R-project.org) and more");
	join("(https://CRAN.R-project.org/", "package=lattice).", "(https://CRAN.R-project.org/package=lattice).");
	join("(https://", "CRAN.R-project.org/x)", "(https://CRAN.R-project.org/x)");
	join("see https:", "//tug.org", "see https://tug.org");
	join("http://security.debian.org/debian-", "security/", "http://security.debian.org/debian-security/");
	join("at https://x.org/a/that-", "will-break", "at https://x.org/a/that-will-break");
	join("https://tug.org/doc.html#x1-100003.", "2 and", "https://tug.org/doc.html#x1-100003.2 and");
	join("to someone@example.", "org by mail", "to someone@example.org by mail");
	join("org/archive/reports/index.", "html and", "org/archive/reports/index.html and");
	/* xurl breaks anywhere: only plainly URL words go on */
	join("https://tug.org/tex", "live/doc.html", "https://tug.org/texlive/doc.html");
	join("https://tug.org", "for details", "https://tug.org for details");
	/* a sentence, a footnote, a table cell, a new URL: a space */
	join("at https://example.org.", "The next", "at https://example.org. The next");
	join("https://ESS.R-project.org/", "2 It is possible", "https://ESS.R-project.org/ 2 It is possible");
	join("http://deb.debian.org/debian/", "stable (bullseye)", "http://deb.debian.org/debian/ stable (bullseye)");
	join("n.org/doc/zh-cn", "https://packages", "n.org/doc/zh-cn https://packages");
	join("www.debian.org", "PING", "www.debian.org PING");
	join("Note:", "//comment", "Note: //comment");
	/* a URL's hyphen is no hyphenation */
	CHECK_INT(join("https://example.org/hyphen-", "ated", "https://example.org/hyphen-ated"), 0);
}

TEST(join_layout_flags)
{
	/* a layout breaks after dashes without a space */
	join_flags("from 1990\xE2\x80\x93", "2000", TXT_JOIN_LAYOUT, "from 1990\xE2\x80\x93" "2000");
	join_flags("this\xE2\x80\x94", "that", TXT_JOIN_LAYOUT, "this\xE2\x80\x94that");
	join_flags("a \xE2\x80\x94", "b", TXT_JOIN_LAYOUT, "a \xE2\x80\x94 b");
	join_flags("this\xE2\x80\x94", "that", 0, "this\xE2\x80\x94 that");
	/* TeX does not break after "/": in a PDF that is a table cell */
	join_flags("/etc/", "system files", TXT_JOIN_LAYOUT, "/etc/ system files");
	/* mupdf's reflow does, and never hyphenates */
	join_flags("/usr/local/", "lib/python3", TXT_JOIN_LAYOUT | TXT_JOIN_REFLOW, "/usr/local/lib/python3");
	CHECK_INT(join_flags("version-", "specific", TXT_JOIN_LAYOUT | TXT_JOIN_REFLOW, "version-specific"), 0);
	CHECK_INT(join_flags("hyphen-", "ated", TXT_JOIN_LAYOUT, "hyphenated"), 1);
	join_flags("/**/", "call", TXT_JOIN_LAYOUT | TXT_JOIN_REFLOW, "/**/ call");
}

/* Lines of one HTML page through one txt_nav: which are kept, as a string. */
static const char *nav_keep(const char *const *lines)
{
	static char out[1024];
	txt_nav nav = TXT_NAV_INIT;
	size_t n = 0;

	out[0] = '\0';
	for (; *lines; lines++) {
		int new_block = (*lines)[0] != '+';
		const char *l = new_block ? *lines : *lines + 1;

		if (!txt_nav_line(&nav, l, strlen(l), new_block))
			n += (size_t)snprintf(out + n, sizeof out - n, "%s|", l);
	}
	return out;
}

TEST(nav_lines)
{
	static const char *const texinfo[] = {
		"Next: Sorting Keys, Previous: Invoking quillsort, Up: Quillsort Basics [Contents][Index]",
		"2.3 Quill Patterns", "A quill pattern names lines.",
		"Next: Sorting Keys, Up: Basics", "Previous: Patterns, Up: Top [Index]", "[Contents][Index]",
		"Next: we compile the code.", "Up: the hill [1] and down",
		"Next: Sorting Keys, Previous: Anonymous", "+Functions, Up: Functions and Scripts [Contents][Index]",
		"+Functions are kept.", NULL
	};
	static const char *const sphinx[] = {
		"Navigation", "\xE2\x80\xA2 index", "+\xE2\x80\xA2 modules |", "+\xE2\x80\xA2 Quillsort 1.0 documentation \xC2\xBB",
		"Sorting Keys", "A sorting key tells what to compare.",
		"Contents", "\xE2\x80\xA2 1. Copyright", "1. Copyright", "Text.",
		"index | modules | next | previous |",
		"Table of Contents", "\xE2\x80\xA2 Sorting Keys", "\xE2\x97\x8B Numeric Keys", "Appendix",
		"\xE2\x80\xA2 History of the quill",
		"Previous topic", "Quill Patterns", "Next topic", "Output",
		"This Page", "\xE2\x80\xA2 Show Source", "Quick search", "Go",
		"\xC2\xA9 Copyright 2024. Created using Sphinx 5.3.0.", "After.", NULL
	};
	static const char *const javadoc[] = {
		"JavaScript is disabled on your browser.", "Skip navigation links", "\xE2\x80\xA2 Overview",
		"\xE2\x80\xA2 Package", "\xE2\x80\xA2 Class", "\xE2\x80\xA2 Tree", "\xE2\x80\xA2 All Classes",
		"\xE2\x80\xA2 Summary:", "\xE2\x80\xA2 Nested |", "\xE2\x80\xA2 Constr |", "Class QuillSorter",
		"Sorts lines.", "Prev Class Next Class", "Frames No Frames",
		"Overview Package Class Use Tree Deprecated Index Help", "Package and Class", "Overview", NULL
	};
	/* a list under a heading that is no navigation is kept */
	static const char *const other[] = {
		"Navigation", "\xE2\x80\xA2 Use the arrow keys to move between pages.", "Overview", "Next topic",
		NULL
	};

	CHECK_STR(nav_keep(texinfo), "2.3 Quill Patterns|A quill pattern names lines.|Next: we compile the code.|"
		  "Up: the hill [1] and down|Functions are kept.|");
	CHECK_STR(nav_keep(sphinx), "Sorting Keys|A sorting key tells what to compare.|1. Copyright|Text.|After.|");
	CHECK_STR(nav_keep(javadoc), "Class QuillSorter|Sorts lines.|Package and Class|Overview|");
	CHECK_STR(nav_keep(other), "\xE2\x80\xA2 Use the arrow keys to move between pages.|Overview|");
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
	RUN(normalize_tex_accents);
	RUN(normalize_drops_private_use);
	RUN(normalize_url_spaces);
	RUN(normalize_logos);
	RUN(normalize_permalinks);
	RUN(list_items);
	RUN(join_lines);
	RUN(join_list_items);
	RUN(join_urls);
	RUN(join_layout_flags);
	RUN(nav_lines);
	RUN(furniture_key);
	RUN(furniture_key_roman_after_words);
	return unit_done();
}
