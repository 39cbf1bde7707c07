#include "txt.h"
#include "u8.h"

#include <ctype.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

#include "radicals.h"

int32_t txt_radical(int32_t cp)
{
	size_t lo = 0, hi = sizeof txt_radicals / sizeof txt_radicals[0];

	if (cp < 0x2E80 || cp > 0x31EF)
		return cp;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (txt_radicals[mid][0] == (uint32_t)cp)
			return (int32_t)txt_radicals[mid][1];
		if (txt_radicals[mid][0] < (uint32_t)cp)
			lo = mid + 1;
		else
			hi = mid;
	}
	return cp;
}

/* Full-width punctuation that NFKC would turn into ASCII. */
static int is_kept_punct(int32_t c)
{
	return (c >= 0xFF01 && c <= 0xFF0F) || (c >= 0xFF1A && c <= 0xFF20)
	    || (c >= 0xFF3B && c <= 0xFF40) || (c >= 0xFF5B && c <= 0xFF60);
}

/* Characters NFKC is known to leave alone, so that the common case (ASCII,
 * Latin-1 letters, CJK ideographs and kana) never calls utf8proc. */
static int nfkc_stable(int32_t c)
{
	return (c >= 0x20 && c < 0x7F) || (c >= 0xC0 && c <= 0xFF)
	    || (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF)
	    || (c >= 0x3041 && c <= 0x3096) || (c >= 0x30A1 && c <= 0x30FA)
	    || (c >= 0x3001 && c <= 0x3003) || (c >= 0x3008 && c <= 0x3011)
	    || c == 0x2018 || c == 0x2019 || c == 0x201C || c == 0x201D || c == 0x2013 || c == 0x2014
	    || c == U8_REPLACEMENT || is_kept_punct(c);
}

/* Private-use code points carry no text: fonts put math symbols, icons and
 * unnamed glyphs there. Planes 15 and 16 are private use throughout. */
static int is_private_use(int32_t c)
{
	return (c >= 0xE000 && c <= 0xF8FF) || c >= 0xF0000;
}

static int is_dropped(int32_t c)
{
	return (c < 0x20 && c != '\t') || (c >= 0x7F && c < 0xA0) || c == 0x200B || c == 0x200C
	    || c == 0x2060 || c == 0xFEFF || c == 0x00AD || (c >= 0xFFF0 && c <= 0xFFF8) || is_private_use(c);
}

/* ---- accents that TeX sets apart from their letters ---- */

/* The combining mark a spacing accent stands for; 0 if c is not one. ASCII
 * ^ and ~ are not: they are typewriter characters in TeX's fonts, and R's
 * "y~x" is no accent. */
static int32_t spacing_accent(int32_t c)
{
	switch (c) {
	case 0x0060: case 0x02CB: return 0x0300;	/* grave */
	case 0x00B4: case 0x02CA: return 0x0301;	/* acute */
	case 0x02C6: return 0x0302;			/* circumflex */
	case 0x02DC: return 0x0303;			/* tilde */
	case 0x00AF: case 0x02C9: return 0x0304;	/* macron */
	case 0x02D8: return 0x0306;			/* breve */
	case 0x02D9: return 0x0307;			/* dot above */
	case 0x00A8: return 0x0308;			/* diaeresis */
	case 0x02DA: return 0x030A;			/* ring */
	case 0x02DD: return 0x030B;			/* double acute */
	case 0x02C7: return 0x030C;			/* caron */
	case 0x00B8: return 0x0327;			/* cedilla */
	case 0x02DB: return 0x0328;			/* ogonek */
	default: return 0;
	}
}

static int is_combining(int32_t c)
{
	return c >= 0x0300 && c <= 0x036F;
}

static int is_cased(int32_t c)
{
	utf8proc_category_t k = utf8proc_category(c);

	return k == UTF8PROC_CATEGORY_LU || k == UTF8PROC_CATEGORY_LL || k == UTF8PROC_CATEGORY_LT;
}

/* TeX puts accents above on a dotless i or j (\'{\i}): the letter meant is
 * the dotted one with that accent. */
static int32_t accent_base(int32_t base, int32_t mark)
{
	if (mark <= 0x0314 && mark != 0x0307) {
		if (base == 0x0131)
			return 'i';
		if (base == 0x0237)
			return 'j';
	}
	return base;
}

/* How well base takes mark: 2 when they make a letter of Latin-1 or Latin
 * Extended-A or B (é, š, ő, ȳ), 1 another precomposed letter (ḧ, ẗ), 0 none. */
static int accent_rank(int32_t base, int32_t mark)
{
	utf8proc_int32_t v[2];

	/* the long solidus overlay makes ≠ of = */
	if (!is_cased(base) && !(mark == 0x0338 && utf8proc_category(base) == UTF8PROC_CATEGORY_SM))
		return 0;
	v[0] = accent_base(base, mark);
	v[1] = mark;
	if (utf8proc_normalize_utf32(v, 2, UTF8PROC_COMPOSE | UTF8PROC_STABLE) != 1)
		return 0;
	return v[0] >= 0xC0 && v[0] <= 0x24F ? 2 : 1;
}

/* The mark the spacing accent v[i] stands for here. The ASCII grave accent
 * is more often a quote: it counts only between two letters. */
static int32_t accent_at(const int32_t *v, size_t n, size_t i)
{
	if (v[i] == '`' && !(i > 0 && i + 1 < n && is_cased(v[i - 1]) && is_cased(v[i + 1])))
		return 0;
	return spacing_accent(v[i]);
}

/* An acute accent used as an apostrophe: "don´t", "it´s", "we´re"; the
 * letters before it end at v[after - 2] or v[after - 3] (with NFKC's
 * space), those after begin at v[after]. */
static int is_contraction(const int32_t *v, size_t n, size_t after, int32_t mark, int spaced)
{
	static const char *const ends[] = { "s", "t", "d", "m", "ll", "re", "ve", NULL };
	size_t k, e, before = after - 2 - (size_t)spaced;

	if (mark != 0x0301 || after < 2 + (size_t)spaced || !is_cased(v[before]))
		return 0;
	for (k = 0; ends[k]; k++) {
		for (e = 0; ends[k][e] && after + e < n && v[after + e] == (int32_t)ends[k][e]; e++)
			;
		if (ends[k][e] == '\0' && (after + e == n || !is_cased(v[after + e])))
			return 1;
	}
	return 0;
}

static int put_accented(sb *out, int32_t base, int32_t mark)
{
	return sb_put_cp(out, accent_base(base, mark)) < 0 || sb_put_cp(out, mark) < 0 ? -1 : 0;
}

/* Put the accents of s back on their letters, into out (the letter first,
 * the combining mark after it, for NFKC to compose).
 *
 * TeX's fonts draw an accent as a glyph of its own, so the text layer has
 * "Sch¨opf", the accent before its letter (or after it, in some fonts);
 * NFKC would make that "Sch ̈opf". A spacing accent between two letters
 * goes with the one that makes an accented letter; when both do (No¨el:
 * ö or ë), with the side the unambiguous accents of the line take, before
 * the letter when there are none. A spacing accent that no letter takes
 * ("ˆ and ˜ symbols") is left alone, and so is an acute accent standing
 * for an apostrophe ("don´t", "it´s"). A combining mark after a space and
 * before a letter it composes with is NFKC's spelling of the same: the
 * space goes too when a letter precedes it and the letter after is in lower
 * case (Sch ̈opf, but "the ́Ecole" keeps its space). The combining grave is
 * left out of this: documents use it as a backquote (" ̀chroot ̀ed"). */
static int recombine(const char *s, size_t len, sb *out)
{
	int32_t *v = malloc((len + 1) * sizeof *v);
	size_t n = 0, i;
	int before = 0, after = 0, marked = 0, r = 0;

	if (v == NULL)
		return -1;
	for (i = 0; i < len;)
		i += u8_decode(s + i, len - i, &v[n++], NULL);
	for (i = 0; i < n; i++) {
		int32_t m = accent_at(v, n, i);
		int ra, rb;

		if (m == 0 || v[i] == '`')
			continue;
		ra = i > 0 ? accent_rank(v[i - 1], m) : 0;
		rb = i + 1 < n ? accent_rank(v[i + 1], m) : 0;
		before += rb && !ra;
		after += ra && !rb;
	}
	for (i = 0; i < n && r == 0; i++) {
		int32_t c = v[i], m = accent_at(v, n, i);
		int32_t x = i > 0 ? v[i - 1] : 0, y = i + 1 < n ? v[i + 1] : 0;

		if (m && !is_contraction(v, n, i + 1, m, 0)) {
			int rb = accent_rank(y, m), ra = marked ? 0 : accent_rank(x, m);

			/* TeX's grave accent always comes first */
			if (c == '`')
				ra = 0, rb = rb == 2 ? 2 : 0;
			if (rb && (rb > ra || (rb == ra && before >= after))) {
				r = put_accented(out, y, m);
				marked = 1;
				i++;
				continue;
			}
			if (ra) {
				if (accent_base(x, m) != x) {
					sb_truncate(out, u8_back(out->buf, out->len - 1));
					r = sb_put_cp(out, accent_base(x, m));
				}
				if (r == 0)
					r = sb_put_cp(out, m);
				marked = 1;
				continue;
			}
			if (c != '`' && is_cased(y) && !is_cased(x)) {
				/* a math accent: ´x */
				r = put_accented(out, y, m);
				marked = 1;
				i++;
				continue;
			}
		} else if (is_combining(c) && c != 0x0300 && (i == 0 || x == ' ') && accent_rank(y, c)
			   && !is_contraction(v, n, i + 1, c, 1)) {
			if (i >= 2 && is_cased(v[i - 2]) && utf8proc_category(y) == UTF8PROC_CATEGORY_LL)
				sb_truncate(out, out->len - 1);
			r = put_accented(out, y, c);
			marked = 1;
			i++;
			continue;
		}
		r = sb_put_cp(out, c);
		marked = 0;
	}
	free(v);
	return r < 0 ? -1 : 0;
}

/* ---- URLs ---- */

/* Does a URL scheme ("https", "ftp") end at s[colon - 1], a word of its own? */
static int scheme_before(const char *s, size_t colon)
{
	static const char *schemes[] = { "http", "https", "ftp", "ftps", "sftp", "file", "git", "ssh", "svn",
					 "rsync", "ws", "wss", "smb", "nfs", "telnet", "ldap", "irc", "news",
					 "gopher" };
	size_t b = colon, k;

	while (b > 0 && colon - b < 8 && isalpha((unsigned char)s[b - 1]))
		b--;
	if (b > 0 && isalnum((unsigned char)s[b - 1]))
		return 0;
	for (k = 0; k < sizeof schemes / sizeof schemes[0]; k++)
		if (strlen(schemes[k]) == colon - b && strncasecmp(s + b, schemes[k], colon - b) == 0)
			return 1;
	return 0;
}

/* "https: //tug.org", "https:// tug.org": a PDF's text puts a space where
 * the glyphs of a URL are spaced wide; none belongs in a URL. */
static void join_url_spaces(sb *out, size_t start)
{
	char *s = out->buf + start;
	size_t len = out->len - start, i, w = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == ' ' && w > 0 && s[w - 1] == ':' && i + 2 < len && s[i + 1] == '/' && s[i + 2] == '/'
		    && scheme_before(s, w - 1))
			continue;
		if (s[i] == ' ' && w >= 3 && memcmp(s + w - 3, "://", 3) == 0 && i + 1 < len
		    && isalnum((unsigned char)s[i + 1]) && scheme_before(s, w - 3))
			continue;
		s[w++] = s[i];
	}
	sb_truncate(out, start + w);
}

/* "Abstract¶": the permalink sign Sphinx, docutils and Texinfo put after
 * headings. */
static void strip_permalinks(sb *out, size_t start)
{
	size_t e = out->len;
	int sign = 0;

	/* Texinfo's "2.3 Patterns ¶" has a space before it */
	while (e > start && (out->buf[e - 1] == ' ' || (e - start >= 2 && memcmp(out->buf + e - 2, "\xC2\xB6", 2) == 0))) {
		sign |= out->buf[e - 1] != ' ';
		e -= out->buf[e - 1] == ' ' ? 1 : 2;
	}
	if (sign && e > start)
		sb_truncate(out, e);
}

/* ---- TeX logos ----
 *
 * TeX draws its logos with lowered and raised capitals, and XeTeX's with a
 * reversed E, so the text layer spells them XƎLATEX, XƎTEX, LATEX, TEX,
 * LATEX2ε, BibTEX, ConTEXt, pdfLATEX. They are given back as users type
 * them:
 *  - XƎ... and LATEX2ε (or LATEX 2ε) always: no word is spelt so;
 *  - TEX and LATEX inside a word that has small letters (BibTEX, ConTEXt,
 *    MiKTEX, TEXstudio), but not TEXT (getTEXT);
 *  - the capital words TEX, LATEX, XETEX, XELATEX alone only in running
 *    text: when the nearest word on either side has small letters or is
 *    CJK, or a sentence punctuation mark follows (". ", ", ", "。"). Words of three capitals or fewer (AMS, PDF) and other logos are
 *    passed over; a word of four or more capitals means a heading set in
 *    capitals ("USING LATEX"), which is left alone, as are $TEX, \TEX and
 *    TEX = ... (code). */

static int logo_tok(const char *s, size_t len, size_t i)
{
	return isalnum((unsigned char)s[i]) || s[i] == '_'
	       || (i + 1 < len && (unsigned char)s[i] == 0xC6 && (unsigned char)s[i + 1] == 0x8E);	/* Ǝ */
}

/* TEX -> TeX and LATEX -> LaTeX throughout t[0, n), into out. */
static int tex_case(const char *t, size_t n, sb *out)
{
	size_t k = 0;

	while (k < n) {
		if (n - k >= 5 && memcmp(t + k, "LATEX", 5) == 0) {
			if (sb_puts(out, "LaTeX") < 0)
				return -1;
			k += 5;
		} else if (n - k >= 3 && memcmp(t + k, "TEX", 3) == 0 && !(n - k > 3 && t[k + 3] == 'T')) {
			if (sb_puts(out, "TeX") < 0)
				return -1;
			k += 3;
		} else if (sb_putc(out, t[k++]) < 0) {
			return -1;
		}
	}
	return 0;
}

static int word_is_logo(const char *s, size_t b, size_t e)
{
	return memmem(s + b, e - b, "TEX", 3) != NULL || memmem(s + b, e - b, "TeX", 3) != NULL;
}

/* What the words on one side of pos say (dir -1: before, +1: after): 1
 * running text, 0 a heading or nothing. */
static int side_is_running_text(const char *s, size_t len, size_t pos, int dir)
{
	int words = 0;

	while (words < 4) {
		size_t wb, we, p = pos, letters = 0;
		int32_t c = 0;
		int lower = 0;

		/* the nearest letter */
		for (;;) {
			size_t q, n;

			if (dir < 0) {
				if (p == 0)
					return 0;
				q = u8_back(s, p - 1);
				n = p - q;
			} else {
				if (p >= len)
					return 0;
				q = p;
				n = u8_decode(s + p, len - p, &c, NULL);
			}
			u8_decode(s + q, n, &c, NULL);
			if (utf8proc_category(c) >= UTF8PROC_CATEGORY_LU && utf8proc_category(c) <= UTF8PROC_CATEGORY_LO)
				break;
			p = dir < 0 ? q : q + n;
		}
		if (!is_cased(c))
			return 1;	/* CJK, or another script without capitals */
		/* the word around it */
		wb = we = p;
		if (dir < 0)
			wb = u8_back(s, p - 1);
		else
			we = p + u8_decode(s + p, len - p, &c, NULL);
		while (wb > 0) {
			size_t q = u8_back(s, wb - 1);

			u8_decode(s + q, wb - q, &c, NULL);
			if (!is_cased(c) && !isdigit((unsigned char)s[q]))
				break;
			wb = q;
		}
		while (we < len) {
			size_t n = u8_decode(s + we, len - we, &c, NULL);

			if (!is_cased(c) && !isdigit((unsigned char)s[we]))
				break;
			we += n;
		}
		if (!word_is_logo(s, wb, we)) {
			size_t q;

			for (q = wb; q < we; q += u8_decode(s + q, we - q, &c, NULL)) {
				u8_decode(s + q, we - q, &c, NULL);
				lower |= utf8proc_category(c) == UTF8PROC_CATEGORY_LL;
				letters += is_cased(c);
			}
			if (lower)
				return 1;
			if (letters >= 4)
				return 0;
			words++;
		}
		pos = dir < 0 ? wb : we;
	}
	return 0;
}

/* Is the capital word s[b, e) a logo in running text, not code? */
static int logo_in_text(const char *s, size_t len, size_t b, size_t e)
{
	size_t a = e;

	if (b > 0 && strchr("$\\%{", s[b - 1]) != NULL)
		return 0;
	while (a < len && s[a] == ' ')
		a++;
	if (a < len && s[a] == '=')
		return 0;
	/* a sentence goes on or ends right after it: "TEX。", "LATEX, plain" */
	if (e < len && (memcmp(s + e, "\xE3\x80\x82", 3) == 0 || memcmp(s + e, "\xEF\xBC\x8C", 3) == 0
			|| memcmp(s + e, "\xE3\x80\x81", 3) == 0 || memcmp(s + e, "\xEF\xBC\x9B", 3) == 0
			|| (strchr(".,;", s[e]) != NULL && (e + 1 == len || s[e + 1] == ' '))))
		return 1;
	return side_is_running_text(s, len, b, -1) || side_is_running_text(s, len, e, 1);
}

/* Does a logo end at s[p]: no letter, digit or mark follows? */
static int logo_end_at(const char *s, size_t len, size_t p)
{
	int32_t c;
	utf8proc_category_t k;

	if (p > len)
		return 0;
	if (p == len)
		return 1;
	u8_decode(s + p, len - p, &c, NULL);
	k = utf8proc_category(c);
	return !(k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_ND) && !spacing_accent(c) && c != '_';
}

/* Append the logo spelling of the token t[b, e) of s; *used gets how far
 * past e the logo reached ("LATEX 2ε"). */
static int logo_token(const char *s, size_t len, size_t b, size_t e, sb *out, size_t *used)
{
	const char *t = s + b;
	size_t n = e - b, k, digits;
	int lower = 0;
	static const char eps[] = "\xCE\xB5";	/* ε */

	*used = 0;
	for (k = 0; k < n; k++)
		lower |= t[k] >= 'a' && t[k] <= 'z';
	if (n >= 6 && memcmp(t, "X\xC6\x8E", 3) == 0
	    && (memcmp(t + 3, "TEX", 3) == 0 || (n >= 8 && memcmp(t + 3, "LATEX", 5) == 0)))
		return sb_puts(out, "Xe") < 0 ? -1 : tex_case(t + 3, n - 3, out);
	/* ε ends the logo: no letter or accent may follow it */
	if (n == 6 && memcmp(t, "LATEX2", 6) == 0 && len - e >= 2 && memcmp(s + e, eps, 2) == 0
	    && logo_end_at(s, len, e + 2)) {
		*used = 2;
		return sb_puts(out, "LaTeX2e");
	}
	if (n == 5 && memcmp(t, "LATEX", 5) == 0 && len - e >= 4 && memcmp(s + e, " 2", 2) == 0
	    && memcmp(s + e + 2, eps, 2) == 0 && logo_end_at(s, len, e + 4)) {
		*used = 4;
		return sb_puts(out, "LaTeX2e");
	}
	if (lower)
		return memmem(t, n, "TEX", 3) ? tex_case(t, n, out) : sb_append(out, t, n);
	for (digits = n; digits > 0 && isdigit((unsigned char)t[digits - 1]); digits--)
		;
	if (((digits == 3 && memcmp(t, "TEX", 3) == 0) || (digits == 5 && memcmp(t, "LATEX", 5) == 0)
	     || (digits == 5 && memcmp(t, "XETEX", 5) == 0) || (digits == 7 && memcmp(t, "XELATEX", 7) == 0))
	    && logo_in_text(s, len, b, e)) {
		if (t[0] == 'X') {
			if (sb_puts(out, "Xe") < 0)
				return -1;
			t += 2;
			n -= 2;
		}
		return tex_case(t, n, out);
	}
	return sb_append(out, t, n);
}

static int fix_logos(sb *out, size_t start)
{
	const char *s;
	size_t len = out->len - start, i = 0;
	sb t = SB_INIT;
	int r = 0;

	if (len < 3 || memmem(out->buf + start, len, "TEX", 3) == NULL)
		return 0;
	s = out->buf + start;
	while (i < len && r == 0) {
		size_t e = i, used;

		if (!logo_tok(s, len, i)) {
			r = sb_putc(&t, s[i++]);
			continue;
		}
		while (e < len && logo_tok(s, len, e))
			e += (unsigned char)s[e] == 0xC6 ? 2 : 1;
		r = logo_token(s, len, i, e, &t, &used);
		i = e + used;
	}
	if (r == 0) {
		sb_truncate(out, start);
		r = sb_append(out, sb_str(&t), t.len);
	}
	sb_free(&t);
	return r < 0 ? -1 : 0;
}

/* A segment of text given to utf8proc at once is cut, once it is this
 * long, before the next ASCII character: utf8proc holds a segment as 32-bit
 * code points, and no ASCII character composes with what comes before it,
 * so the cut changes nothing but the memory a long line takes. */
#define NFKC_SEGMENT 65536

/* NFKC of tmp into out, passing kept punctuation through untouched. */
static int nfkc_segments(const char *s, size_t len, sb *out)
{
	size_t i = 0, seg = 0;

	while (i <= len) {
		int32_t c = 0;
		size_t n = 0;
		int cut;

		if (i < len)
			n = u8_decode(s + i, len - i, &c, NULL);
		cut = i - seg >= NFKC_SEGMENT && c < 0x80;
		if (i == len || is_kept_punct(c) || cut) {
			if (i > seg) {
				utf8proc_uint8_t *dst = NULL;
				utf8proc_ssize_t m;

				m = utf8proc_map((const utf8proc_uint8_t *)s + seg, (utf8proc_ssize_t)(i - seg), &dst,
						 UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT);
				if (m < 0) {
					free(dst);
					return -1;
				}
				if (sb_append(out, (const char *)dst, (size_t)m) < 0) {
					free(dst);
					return -1;
				}
				free(dst);
			}
			if (i == len)
				break;
			if (cut) {
				seg = i;
				continue;
			}
			if (sb_append(out, s + i, n) < 0)
				return -1;
			seg = i + n;
		}
		i += n;
	}
	return 0;
}

/* Append s to out with whitespace runs made one space, ends trimmed. */
static int collapse(const char *s, size_t len, sb *out)
{
	size_t i = 0, start = out->len;
	int space = 0;

	while (i < len) {
		int32_t c;
		size_t n = u8_decode(s + i, len - i, &c, NULL);

		if (u8_is_space(c)) {
			space = 1;
		} else {
			if (space && out->len > start && sb_putc(out, ' ') < 0)
				return -1;
			space = 0;
			if (sb_append(out, s + i, n) < 0)
				return -1;
		}
		i += n;
	}
	return 0;
}

int txt_normalize(const char *s, size_t len, sb *out, size_t *bad)
{
	sb tmp = SB_INIT, nf = SB_INIT, acc = SB_INIT;
	size_t i = 0, start = out->len;
	int simple = 1, accents = 0, slashes = 0, tex = 0, r = -1, k;
	int32_t p1 = 0, p2 = 0;	/* the two characters before */

	if (sb_reserve(&tmp, len) < 0)
		return -1;
	while (i < len) {
		int32_t c;
		int invalid = 0;
		size_t n = u8_decode(s + i, len - i, &c, &invalid);

		if (invalid && bad)
			(*bad)++;
		i += n;
		if (c == 0x00AD) {
			/* a soft hyphen ending the line marks a hyphenation */
			size_t j = i;

			while (j < len && (s[j] == ' ' || s[j] == '\t'))
				j++;
			if (j == len && sb_putc(&tmp, '-') < 0)
				goto out;
			continue;
		}
		if (c < 0x20 && (c < '\t' || c > '\r'))
			continue;	/* file and unit separators are not spaces in text */
		if (u8_is_space(c))
			c = ' ';
		else if (is_dropped(c))
			continue;
		c = txt_radical(c);
		if (!nfkc_stable(c))
			simple = 0;
		if (c == '`' || (c >= 0xA8 && (spacing_accent(c) || is_combining(c))))
			accents = 1;
		/* what the rules after NFKC look for */
		slashes |= c == '/' && p1 == '/';
		tex |= c == 'X' && p1 == 'E' && p2 == 'T';
		p2 = p1;
		p1 = c;
		if (sb_put_cp(&tmp, c) < 0)
			goto out;
	}
	if (!simple || accents)
		slashes = tex = 1;	/* NFKC may make "//" or "TEX" of other characters */
	/* Putting an accent on its letter can bring another to a letter
	 * ("ˆ´o"), and NFKC turns the accents no letter took into " ̈": go on
	 * until nothing changes, so that normalising the result again changes
	 * nothing either. */
	for (k = 0; accents && k < 8; k++) {
		sb_truncate(&nf, 0);
		if (recombine(sb_str(&tmp), tmp.len, &acc) < 0 || nfkc_segments(sb_str(&acc), acc.len, &nf) < 0)
			goto out;
		sb_truncate(&acc, 0);
		accents = nf.len != tmp.len || memcmp(sb_str(&nf), sb_str(&tmp), nf.len) != 0;
		sb_truncate(&tmp, 0);
		if (sb_append(&tmp, sb_str(&nf), nf.len) < 0)
			goto out;
		simple = 1;	/* NFKC is done */
	}
	sb_truncate(&nf, 0);
	if (simple) {
		r = collapse(sb_str(&tmp), tmp.len, out);
	} else if (nfkc_segments(sb_str(&tmp), tmp.len, &nf) == 0) {
		sb_free(&tmp);	/* a long line: one copy fewer at once */
		r = collapse(sb_str(&nf), nf.len, out);
	}
	if (r == 0 && slashes)
		join_url_spaces(out, start);
	if (r == 0) {
		strip_permalinks(out, start);
		if (tex)
			r = fix_logos(out, start);
	}
out:
	sb_free(&tmp);
	sb_free(&nf);
	sb_free(&acc);
	return r;
}

static int is_leader_dot(int32_t c)
{
	return c == '.' || c == 0x00B7 || c == 0x2022 || c == 0x2024 || c == 0x2027 || c == 0x22EF
	    || c == 0x30FB || c == 0xFF0E || c == 0x2026 || c == '_';
}

/* A roman numeral in canonical form ("xii", "XIV"; not "did" or "iiii"). */
static int is_roman(const char *s, size_t len)
{
	static const char *ones[] = { "", "i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix" };
	static const char *tens[] = { "", "x", "xx", "xxx", "xl", "l", "lx", "lxx", "lxxx", "xc" };
	static const char *hundreds[] = { "", "c", "cc", "ccc", "cd", "d", "dc", "dcc", "dccc", "cm" };
	char canon[32];
	int v = 0, i;
	size_t k;

	if (len == 0 || len > 12)
		return 0;
	for (k = 0; k < len; k++) {
		static const char letters[] = "ivxlcdm";
		static const int values[] = { 1, 5, 10, 50, 100, 500, 1000 };
		const char *p = s[k] ? strchr(letters, tolower((unsigned char)s[k])) : NULL;
		int val, next = 0;

		if (p == NULL)
			return 0;
		val = values[p - letters];
		if (k + 1 < len) {
			const char *q = s[k + 1] ? strchr(letters, tolower((unsigned char)s[k + 1])) : NULL;

			if (q == NULL)
				return 0;
			next = values[q - letters];
		}
		v += val < next ? -val : val;
	}
	if (v <= 0 || v >= 4000)
		return 0;
	i = snprintf(canon, sizeof canon, "%.*s%s%s%s", v / 1000, "mmm", hundreds[(v / 100) % 10],
		     tens[(v / 10) % 10], ones[v % 10]);
	if (i < 0 || (size_t)i != len)
		return 0;
	for (k = 0; k < len; k++)
		if (canon[k] != tolower((unsigned char)s[k]))
			return 0;
	return 1;
}

/* Length of a page-number token (digits, or roman numerals) that ends s. */
static size_t trailing_number(const char *s, size_t len)
{
	size_t e = len, b;

	b = e;
	while (b > 0 && isdigit((unsigned char)s[b - 1]))
		b--;
	if (b < e && e - b <= 6)
		return e - b;
	b = e;
	while (b > 0 && strchr("ivxlcdmIVXLCDM", s[b - 1]) && s[b - 1] != '\0')
		b--;
	if (b < e && is_roman(s + b, e - b) && (b == 0 || !isalpha((unsigned char)s[b - 1])))
		return e - b;
	return 0;
}

/* Length of the page reference that ends s: a page number, or an index's
 * list of them ("8, 11, 27-30"); 0 when there is none. */
static size_t trailing_pages(const char *s, size_t len)
{
	size_t e = len, num = trailing_number(s, e);

	if (num == 0)
		return 0;
	e -= num;
	for (;;) {
		size_t b = e, n;

		while (b > 0 && s[b - 1] == ' ')
			b--;
		if (b >= 3 && memcmp(s + b - 3, "\xe2\x80\x93", 3) == 0)	/* en dash */
			b -= 3;
		else if (b > 0 && (s[b - 1] == ',' || s[b - 1] == '-'))
			b--;
		else
			return len - e;
		while (b > 0 && s[b - 1] == ' ')
			b--;
		n = trailing_number(s, b);
		if (n == 0)
			return len - e;
		e = b - n;
	}
}

int txt_is_toc_line(const char *s, size_t len)
{
	size_t e = len, num;
	int dots = 0;

	while (e > 0 && s[e - 1] == ' ')
		e--;
	num = trailing_pages(s, e);
	if (num == 0)
		return 0;
	e -= num;
	/* the leader: dots, possibly spaced, before the number */
	while (e > 0) {
		int32_t c;
		size_t q = u8_back(s, e - 1);

		u8_decode(s + q, e - q, &c, NULL);
		if (c == ' ') {
			e = q;
			continue;
		}
		if (!is_leader_dot(c))
			break;
		dots += c == 0x2026 || c == 0x22EF ? 3 : 1;
		e = q;
	}
	return dots >= 4;
}

int txt_is_page_number(const char *s, size_t len)
{
	size_t b = 0, e = len, num;

	/* decoration around the number: dashes, spaces, brackets */
	while (b < e && strchr(" -\xe2\x80\x94[(", s[b]) && s[b] != '\0')
		b++;
	while (e > b && strchr(" -\xe2\x80\x94])", s[e - 1]) && s[e - 1] != '\0')
		e--;
	if (e - b >= 5 && strncasecmp(s + b, "page ", 5) == 0)
		b += 5;
	else if (e - b >= 3 && memcmp(s + b, "\xe7\xac\xac", 3) == 0 && e - b >= 6
		 && memcmp(s + e - 3, "\xe9\xa1\xb5", 3) == 0) {	/* 第 N 页 */
		b += 3;
		e -= 3;
	}
	while (b < e && s[b] == ' ')
		b++;
	while (e > b && s[e - 1] == ' ')
		e--;
	/* "3 of 9", "3/9" */
	{
		const char *of = NULL;
		size_t i;

		for (i = b; i + 1 < e; i++) {
			if (s[i] == '/' || (i + 4 <= e && strncasecmp(s + i, " of ", 4) == 0)) {
				of = s + i;
				break;
			}
		}
		if (of != NULL) {
			size_t tail = (size_t)(of - s) + (*of == '/' ? 1 : 4);

			while (tail < e && s[tail] == ' ')
				tail++;
			if (trailing_number(s + tail, e - tail) != e - tail || tail == e)
				return 0;
			e = (size_t)(of - s);
			while (e > b && s[e - 1] == ' ')
				e--;
		}
	}
	if (b >= e)
		return 0;
	num = trailing_number(s + b, e - b);
	return num == e - b;
}

static int is_bullet(int32_t c)
{
	switch (c) {
	case 0x00B7: case 0x2022: case 0x2023: case 0x2043: case 0x2219: case 0x25A0: case 0x25A1:
	case 0x25AA: case 0x25AB: case 0x25B8: case 0x25BA: case 0x25C6: case 0x25C7: case 0x25CB:
	case 0x25CF: case 0x25E6: case 0x2713: case 0x2714: case 0x2756: case 0x27A2: case 0x27A4:
		return 1;
	default:
		return 0;
	}
}

int txt_is_list_item(const char *s, size_t len)
{
	int32_t c;
	size_t n, i = 0;

	if (len == 0)
		return 0;
	n = u8_decode(s, len, &c, NULL);
	if (is_bullet(c))
		return 1;
	/* "- ", "– ", "* ", "∗ " (TeX's third-level bullet) */
	if ((c == '-' || c == '*' || c == 0x2013 || c == 0x2217) && n < len && s[n] == ' ')
		return 1;
	/* "1. ", "12) ": three digits at most, a year is no item number */
	while (i < len && i < 4 && isdigit((unsigned char)s[i]))
		i++;
	if (i > 0 && i <= 3 && i < len && (s[i] == '.' || s[i] == ')') && (i + 1 == len || s[i + 1] == ' '))
		return 1;
	/* "(a) ", "(12) ", "(iv) ", "a) " */
	if (s[0] == '(') {
		for (i = 1; i < len && i < 5 && isalnum((unsigned char)s[i]); i++)
			;
		return i > 1 && i < 5 && i < len && s[i] == ')' && (i + 1 == len || s[i + 1] == ' ');
	}
	return len >= 2 && s[0] >= 'a' && s[0] <= 'z' && s[1] == ')' && (len == 2 || s[2] == ' ');
}

static int is_alnum_cp(int32_t c)
{
	utf8proc_category_t k = utf8proc_category(c);

	return (k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO) || k == UTF8PROC_CATEGORY_ND;
}

/* The characters after which TeX's url package and mupdf's reflow break a
 * URL. */
static int url_break_char(char c)
{
	return c != '\0' && strchr("/.-_#?&=~%+:@", c) != NULL;
}

static int url_inner_char(char c)
{
	return c != '\0' && strchr("/#?=&%_~", c) != NULL;
}

/* Does t[0, n) (one word) look like a URL, a host or an e-mail address? */
static int looks_like_url(const char *t, size_t n)
{
	size_t i;

	while (n > 0 && strchr("(<[\"'", t[0]) != NULL) {
		t++;
		n--;
	}
	if (memmem(t, n, "://", 3) != NULL || (n > 4 && strncasecmp(t, "www.", 4) == 0)
	    || (n > 7 && strncasecmp(t, "mailto:", 7) == 0))
		return 1;
	for (i = 1; i + 1 < n; i++)
		if (t[i] == '@' && isalnum((unsigned char)t[i - 1]) && isalnum((unsigned char)t[i + 1]))
			return 1;
	return 0;
}

/* Does line go on with the URL that ends para, cut at the line end? 1: it
 * does; -1: para ends with a URL that line does not go on with; 0: para
 * does not end with a URL. */
static int url_goes_on(const sb *para, const char *line, size_t len)
{
	size_t b = para->len, n, f = 0, k;
	const char *t;
	char last;
	int inner = 0;

	while (b > 0 && para->buf[b - 1] != ' ')
		b--;
	t = para->buf + b;
	n = para->len - b;
	if (n == 0)
		return 0;
	last = t[n - 1];
	/* the next line's first word, and whether it has URL characters inside */
	while (f < len && line[f] != ' ')
		f++;
	for (k = 0; k < f; k++)
		inner |= url_inner_char(line[k]) || (line[k] == '.' && k + 1 < f && isalnum((unsigned char)line[k + 1]));
	if (last == ':' && n >= 3 && scheme_before(t, n - 1))
		return len >= 2 && line[0] == '/' && line[1] == '/' ? 1 : -1;	/* "https:" + "//tug.org" */
	/* a line that is one word with a "/" was itself the middle of a URL */
	if (!looks_like_url(t, n) && !(b == 0 && memchr(t, '/', n) != NULL))
		return 0;
	if (!(isalnum((unsigned char)line[0]) || url_break_char(line[0])) || looks_like_url(line, f))
		return -1;
	if (isalnum((unsigned char)last)) {
		/* cut where the url package may break anywhere (xurl): only a
		 * word that is plainly the rest of a URL goes on with it */
		for (k = 0; k < f; k++)
			if (url_inner_char(line[k]))
				return 1;
		return -1;
	}
	if (!url_break_char(last))
		return -1;
	/* After "/" a plain word is as often the next cell of a table
	 * ("http://deb.debian.org/debian/" + "stable"), and a capital or a
	 * digit the start of a sentence or a footnote: only a word with URL
	 * characters inside goes on. After ".", "-", "=", "_"... a word in
	 * lower case goes on ("CRAN.R-project." + "org)"). */
	if (last == '/' || isupper((unsigned char)line[0]) || isdigit((unsigned char)line[0]))
		return inner || (isdigit((unsigned char)line[0]) && last != '/') ? 1 : -1;
	return 1;
}

int txt_join_line(sb *para, const char *line, size_t len, int flags)
{
	int32_t last, prev = 0, first;
	size_t q, q2;
	int url;

	if (len == 0)
		return 0;
	if (para->len == 0)
		return sb_append(para, line, len) < 0 ? -1 : 0;
	if (txt_is_list_item(line, len))
		return sb_putc(para, '\n') < 0 || sb_append(para, line, len) < 0 ? -1 : 0;
	url = url_goes_on(para, line, len);
	if (url > 0)
		return sb_append(para, line, len) < 0 ? -1 : 0;
	q = u8_back(para->buf, para->len - 1);
	u8_decode(para->buf + q, para->len - q, &last, NULL);
	if (q > 0) {
		q2 = u8_back(para->buf, q - 1);
		u8_decode(para->buf + q2, q - q2, &prev, NULL);
	}
	u8_decode(line, len, &first, NULL);
	/* "1990–" + "2000", "this—" + "that": a layout breaks after a dash
	 * without a space (a spaced dash, "a –", is followed by one); mupdf's
	 * reflow breaks after "/" too ("/usr/local/" + "lib"). TeX does not,
	 * and in a PDF a path ending a line is mostly a table cell. */
	if ((flags & TXT_JOIN_LAYOUT) && url == 0 && is_alnum_cp(prev)
	    && (last == 0x2013 || last == 0x2014 || (last == '/' && (flags & TXT_JOIN_REFLOW))))
		return sb_append(para, line, len) < 0 ? -1 : 0;
	if ((last == '-' || last == 0x2010) && prev != 0 && utf8proc_category(prev) <= UTF8PROC_CATEGORY_LO
	    && prev != ' ') {
		/* "hyphen-" + "ated" is one word cut in two; "well-" + "Known"
		 * is a compound that keeps its hyphen, and so is every hyphen
		 * of reflowed text */
		if (utf8proc_category(first) == UTF8PROC_CATEGORY_LL && !(flags & TXT_JOIN_REFLOW)) {
			sb_truncate(para, q);
			return sb_append(para, line, len) < 0 ? -1 : 1;
		}
		return sb_append(para, line, len) < 0 ? -1 : 0;
	}
	if (!(u8_is_cjk(last) && u8_is_cjk(first)) && sb_putc(para, ' ') < 0)
		return -1;
	return sb_append(para, line, len) < 0 ? -1 : 0;
}

int txt_furniture_key(const char *s, size_t len, sb *key)
{
	size_t i = 0;

	sb_truncate(key, 0);
	if (sb_reserve(key, len) < 0)
		return -1;
	/* word by word: numbers and roman numerals become '#', spaces vanish */
	while (i < len) {
		size_t e = i;
		int in_num = 0;

		while (e < len && s[e] != ' ')
			e++;
		if (e > i && is_roman(s + i, e - i)) {
			if (sb_putc(key, '#') < 0)
				return -1;
			i = e;
		}
		while (i < e) {
			int32_t c;
			size_t n = u8_decode(s + i, e - i, &c, NULL);

			if (c >= '0' && c <= '9') {
				if (!in_num && sb_putc(key, '#') < 0)
					return -1;
				in_num = 1;
			} else {
				in_num = 0;
				if (c < 0x80 ? sb_putc(key, (char)tolower(c)) < 0 : sb_append(key, s + i, n) < 0)
					return -1;
			}
			i += n;
		}
		while (i < len && s[i] == ' ')
			i++;
	}
	return 0;
}

/* ---- navigation of generated HTML ---- */

static int line_is(const char *s, size_t len, const char *word)
{
	size_t n = strlen(word);

	return len == n && memcmp(s, word, n) == 0;
}

enum { NAV_NONE, NAV_LIST, NAV_TOC, NAV_NEXT_LINE, NAV_SEARCH, NAV_JAVADOC, NAV_TEXINFO };

/* Headings that only Sphinx's sidebars and bars have. */
static int sphinx_heading(const char *s, size_t len)
{
	return line_is(s, len, "Navigation") || line_is(s, len, "Quick search") || line_is(s, len, "This Page")
	       || line_is(s, len, "Previous topic") || line_is(s, len, "Next topic") || line_is(s, len, "Show Source");
}

/* The heading of a navigation box, and what follows it. */
static int nav_heading(const char *s, size_t len)
{
	static const struct {
		const char *text;
		int then;
	} headings[] = {
		{ "Navigation", NAV_LIST }, { "Table of Contents", NAV_TOC }, { "Table Of Contents", NAV_TOC },
		{ "Contents", NAV_LIST }, { "On this page", NAV_LIST }, { "This Page", NAV_LIST },
		{ "Related Topics", NAV_LIST }, { "Previous topic", NAV_NEXT_LINE }, { "Next topic", NAV_NEXT_LINE },
		{ "Quick search", NAV_SEARCH }, { "Skip navigation links", NAV_JAVADOC },
		{ "JavaScript is disabled on your browser.", NAV_JAVADOC },
	};
	size_t k;

	for (k = 0; k < sizeof headings / sizeof headings[0]; k++)
		if (line_is(s, len, headings[k].text))
			return headings[k].then;
	return NAV_NONE;
}

/* The next word of s from *i, list bullets and "|" skipped; 0 at the end. */
static size_t nav_word(const char *s, size_t len, size_t *i, const char **w)
{
	size_t b;

	for (;;) {
		int32_t c;
		size_t n;

		while (*i < len && s[*i] == ' ')
			(*i)++;
		if (*i >= len)
			return 0;
		n = u8_decode(s + *i, len - *i, &c, NULL);
		if (c != '|' && !is_bullet(c) && c != 0x00BB)	/* », Sphinx's breadcrumbs */
			break;
		*i += n;
	}
	b = *i;
	while (*i < len && s[*i] != ' ' && s[*i] != '|')
		(*i)++;
	*w = s + b;
	return *i - b;
}

static int in_words(const char *w, size_t n, const char *const *words)
{
	for (; *words; words++)
		if (strlen(*words) == n && memcmp(w, *words, n) == 0)
			return 1;
	return 0;
}

/* A line made only of the words of Javadoc's navigation bars: how many
 * words, and whether one of them is found in no other text (0: not such
 * a line). */
static int javadoc_bar(const char *s, size_t len, int *strong)
{
	static const char *const words[] = {
		"Overview", "Package", "Class", "Use", "Tree", "Deprecated", "Index", "Help", "Module", "Prev",
		"Next", "Frames", "No", "All", "Classes", "Packages", "Modules", "Summary:", "Detail:", "Nested",
		"Field", "Constr", "Method", "Enum", "Constants", "Element", "Optional", "Required", "Search",
		"SEARCH:", "Search:", "PREV", "NEXT", "CLASS", "FRAMES", "NO", "ALL", "CLASSES", "PACKAGE",
		"Contents", "Constant", "Values", "Serialized", "Form", "Reset", NULL
	};
	static const char *const marks[] = { "Summary:", "Detail:", "Constr", "Frames", "FRAMES", "Prev", "PREV", NULL };
	size_t i = 0, n;
	const char *w;
	int count = 0;

	*strong = 0;
	while ((n = nav_word(s, len, &i, &w)) > 0) {
		if (!in_words(w, n, words))
			return 0;
		*strong |= in_words(w, n, marks);
		count++;
	}
	return count;
}

/* Texinfo: "Next: Definitions, Previous: Introduction, Up: Top
 * [Contents][Index]", or the bracketed links alone. */
static int texinfo_bar(const char *s, size_t len)
{
	static const char *const keys[] = { "Next: ", "Previous: ", "Prev: ", "Up: ", "Forward: ", "Back: ", NULL };
	size_t i = 0, k;
	int nkeys = 0, brackets = 0;

	while (i < len) {
		int key = 0;

		if (s[i] == '[') {
			const char *e = memchr(s + i, ']', len - i);

			if (e == NULL || e - (s + i) > 24)
				return 0;
			brackets++;
			i = (size_t)(e - s) + 1;
			while (i < len && s[i] == ' ')
				i++;
			continue;
		}
		if (brackets)
			return 0;	/* text after the bracketed links */
		for (k = 0; keys[k]; k++) {
			size_t n = strlen(keys[k]);

			if (len - i >= n && memcmp(s + i, keys[k], n) == 0) {
				i += n;
				key = 1;
				break;
			}
		}
		if (!key)
			return 0;
		nkeys++;
		/* the node name runs to the next ", Key: " or "[" */
		for (; i < len; i++) {
			if (s[i] == '[')
				break;
			if (s[i] == ',' && i + 2 < len && s[i + 1] == ' ') {
				for (k = 0; keys[k]; k++)
					if (len - i - 2 >= strlen(keys[k]) && memcmp(s + i + 2, keys[k], strlen(keys[k])) == 0)
						break;
				if (keys[k]) {
					i += 2;
					break;
				}
			}
		}
	}
	return nkeys >= 2 || (nkeys == 1 && brackets > 0) || (nkeys == 0 && brackets >= 2);
}

/* The rest of a Texinfo bar that the layout wrapped: "Functions, Up: Top
 * [Contents][Index]". */
static int texinfo_bar_tail(const char *s, size_t len)
{
	static const char *const keys[] = { ", Next: ", ", Previous: ", ", Prev: ", ", Up: ", NULL };
	size_t k;

	for (k = 0; keys[k]; k++)
		if (memmem(s, len, keys[k], strlen(keys[k])) != NULL)
			return 1;
	return len > 0 && s[len - 1] == ']' && (memmem(s, len, "[Contents]", 10) || memmem(s, len, "[Index]", 7));
}

/* Sphinx's relation bar: "index | modules | next | previous |". */
static int sphinx_bar(const char *s, size_t len)
{
	static const char *const words[] = { "index", "modules", "next", "previous", NULL };
	size_t i = 0, n;
	const char *w;
	int count = 0;

	while ((n = nav_word(s, len, &i, &w)) > 0) {
		if (!in_words(w, n, words))
			return 0;
		count++;
	}
	return count >= 2;
}

/* A line that can be an entry of a navigation list: a bullet and a short
 * title, not a sentence. */
static int nav_entry(const char *s, size_t len)
{
	int32_t c;

	if (len == 0 || len > 120)
		return 0;
	u8_decode(s, len, &c, NULL);
	return is_bullet(c) && s[len - 1] != '.' && s[len - 1] != ':';
}

int txt_nav_line(txt_nav *nav, const char *s, size_t len, int new_block)
{
	int state = nav->state, strong, words, drop = 0;

	nav->state = NAV_NONE;
	if (len == 0)
		return 0;
	nav->sphinx |= sphinx_heading(s, len);
	switch (state) {
	case NAV_LIST:
	case NAV_TOC:
		/* the entries, their wrapped lines, and in the table of contents
		 * of Sphinx's sidebar (which follows the page's text) the
		 * captions of its parts ("Appendix") */
		if (nav_entry(s, len) || (!new_block && nav->dropped)
		    || (state == NAV_TOC && nav->sphinx && len <= 60 && !strchr(".:;!?", s[len - 1]))) {
			nav->state = state;
			drop = 1;
		}
		break;
	case NAV_NEXT_LINE:
		drop = len <= 120;	/* the title of the page linked to */
		break;
	case NAV_SEARCH:
		if (line_is(s, len, "Go") || line_is(s, len, "Search")) {
			nav->state = NAV_SEARCH;
			drop = 1;
		}
		break;
	case NAV_JAVADOC:
		if (javadoc_bar(s, len, &strong) > 0) {
			nav->state = NAV_JAVADOC;
			drop = 1;
		}
		break;
	case NAV_TEXINFO:
		drop = !new_block && texinfo_bar_tail(s, len);
		break;
	}
	if (!drop) {
		int then = nav_heading(s, len);

		if (then != NAV_NONE) {
			nav->state = then;
			drop = 1;
		} else if (texinfo_bar(s, len)) {
			nav->state = s[len - 1] == ']' ? NAV_NONE : NAV_TEXINFO;
			drop = 1;
		} else if (sphinx_bar(s, len) || line_is(s, len, "Show Source")
			   || line_is(s, len, "\xE2\x80\xA2 Show Source")
			   || memmem(s, len, "Created using Sphinx", 20) != NULL) {
			drop = 1;
		} else if ((words = javadoc_bar(s, len, &strong)) >= 4 || (words >= 2 && strong)) {
			nav->state = NAV_JAVADOC;
			drop = 1;
		}
	}
	nav->dropped = drop;
	return drop;
}

/* The value of a page-number token of n bytes at s, or -1. */
static long number_value(const char *s, size_t n)
{
	static const char letters[] = "ivxlcdm";
	static const int values[] = { 1, 5, 10, 50, 100, 500, 1000 };
	long v = 0;
	size_t k;

	if (n == 0)
		return -1;
	if (isdigit((unsigned char)s[0])) {
		for (k = 0; k < n; k++) {
			if (!isdigit((unsigned char)s[k]))
				return -1;
			v = v * 10 + (s[k] - '0');
		}
		return v;
	}
	if (!is_roman(s, n))
		return -1;
	for (k = 0; k < n; k++) {
		int val = values[strchr(letters, tolower((unsigned char)s[k])) - letters];
		int next = k + 1 < n ? values[strchr(letters, tolower((unsigned char)s[k + 1])) - letters] : 0;

		v += val < next ? -val : val;
	}
	return v;
}

void txt_edge_numbers(const char *s, size_t len, long *first, long *last)
{
	size_t b = 0, e;

	*first = *last = -1;
	while (len > 0 && s[len - 1] == ' ')
		len--;
	while (b < len && s[b] == ' ')
		b++;
	e = b;
	while (e < len && s[e] != ' ')
		e++;
	if (e > b && e - b <= 6)
		*first = number_value(s + b, e - b);
	e = trailing_number(s, len);
	if (e > 0 && (e == len || s[len - e - 1] == ' '))
		*last = number_value(s + len - e, e);
}

int txt_line_shape(const char *s, size_t len, sb *shape)
{
	size_t i = 0;
	char prev = 0;

	sb_truncate(shape, 0);
	while (i < len) {
		int32_t c;
		size_t n = u8_decode(s + i, len - i, &c, NULL);
		char cls;

		if (c == ' ') {
			i += n;
			continue;
		}
		if (c >= '0' && c <= '9')
			cls = '#';
		else if (c < 0x80 && ispunct((int)c))
			cls = (char)c;
		else if (c == 0xA7)
			cls = '$';	/* the section sign */
		else
			cls = 'a';
		if (cls != prev || (cls != '#' && cls != 'a')) {
			if (sb_putc(shape, cls) < 0)
				return -1;
		}
		prev = cls;
		i += n;
	}
	return 0;
}
