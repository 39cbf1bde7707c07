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

static int is_dropped(int32_t c)
{
	return (c < 0x20 && c != '\t') || (c >= 0x7F && c < 0xA0) || c == 0x200B || c == 0x200C
	    || c == 0x2060 || c == 0xFEFF || c == 0x00AD || (c >= 0xFFF0 && c <= 0xFFF8);
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
	sb tmp = SB_INIT, nf = SB_INIT;
	size_t i = 0;
	int simple = 1, r = -1;

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
		if (sb_put_cp(&tmp, c) < 0)
			goto out;
	}
	if (simple) {
		r = collapse(sb_str(&tmp), tmp.len, out);
	} else if (nfkc_segments(sb_str(&tmp), tmp.len, &nf) == 0) {
		sb_free(&tmp);	/* a long line: one copy fewer at once */
		r = collapse(sb_str(&nf), nf.len, out);
	}
out:
	sb_free(&tmp);
	sb_free(&nf);
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

int txt_is_toc_line(const char *s, size_t len)
{
	size_t e = len, num;
	int dots = 0;

	while (e > 0 && s[e - 1] == ' ')
		e--;
	num = trailing_number(s, e);
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
		dots += c == 0x2026 ? 3 : 1;
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

int txt_join_line(sb *para, const char *line, size_t len)
{
	int32_t last, prev = 0, first;
	size_t q, q2;

	if (len == 0)
		return 0;
	if (para->len == 0)
		return sb_append(para, line, len) < 0 ? -1 : 0;
	q = u8_back(para->buf, para->len - 1);
	u8_decode(para->buf + q, para->len - q, &last, NULL);
	if (q > 0) {
		q2 = u8_back(para->buf, q - 1);
		u8_decode(para->buf + q2, q - q2, &prev, NULL);
	}
	u8_decode(line, len, &first, NULL);
	if ((last == '-' || last == 0x2010) && prev != 0 && utf8proc_category(prev) <= UTF8PROC_CATEGORY_LO
	    && prev != ' ') {
		/* "hyphen-" + "ated" is one word cut in two; "well-" + "Known"
		 * is a compound that keeps its hyphen */
		if (utf8proc_category(first) == UTF8PROC_CATEGORY_LL) {
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
