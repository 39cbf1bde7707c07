#include "tok.h"
#include "stem.h"
#include "txt.h"
#include "u8.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* Words longer than this are cut: nothing useful is that long, and the
 * limit keeps the work per word bounded. */
#define TOK_MAX_WORD 64

static int is_han_or_kana(int32_t c)
{
	return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x3040 && c <= 0x30FF)
	    || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x20000 && c <= 0x3FFFF) || (c >= 0x31F0 && c <= 0x31FF)
	    || c == 0x3005 || c == 0x3007;
}

static int is_word_char(int32_t c)
{
	utf8proc_category_t cat;

	if (c < 0x80)
		return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
	cat = utf8proc_category(c);
	return (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO)
	    || (cat >= UTF8PROC_CATEGORY_MN && cat <= UTF8PROC_CATEGORY_ME)
	    || (cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO);
}

/* Fold, and stem, one word and hand it on. */
static int emit_word(const char *w, size_t len, int ascii, unsigned flags, tok_fn fn, void *ctx, size_t pos)
{
	char buf[TOK_MAX_WORD * 4 + 8];
	size_t n, i;

	if (ascii) {
		n = len < TOK_MAX_WORD ? len : TOK_MAX_WORD;
		for (i = 0; i < n; i++) {
			char c = w[i];

			buf[i] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
		}
		if (flags & TOK_STEM)
			n = stem_porter(buf, n);
		return fn(ctx, TOK_WORD, buf, n, pos, pos + len);
	} else {
		utf8proc_uint8_t *out = NULL;
		utf8proc_ssize_t m;
		int r;

		m = utf8proc_map((const utf8proc_uint8_t *)w, (utf8proc_ssize_t)len, &out,
				 UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD
				 | UTF8PROC_STRIPMARK);
		if (m < 0)
			return -1;
		n = (size_t)m;
		if (n > sizeof buf - 1)
			n = u8_back((const char *)out, sizeof buf - 1);
		memcpy(buf, out, n);
		free(out);
		/* an accented English word ("naïve") is ASCII once stripped */
		for (i = 0; i < n && (unsigned char)buf[i] < 0x80; i++)
			;
		if (i == n && (flags & TOK_STEM))
			n = stem_porter(buf, n);
		if (n == 0)
			return 0;
		r = fn(ctx, TOK_WORD, buf, n, pos, pos + len);
		return r;
	}
}

int tok_each(const char *text, size_t len, unsigned flags, tok_fn fn, void *ctx)
{
	size_t i = 0;
	/* the previous Han character, for bigrams */
	char prev[4];
	size_t prevlen = 0, prevpos = 0, prevend = 0;	/* prevend: its length in the text */
	int run = 0;	/* characters in the current Han run */

	while (i < len) {
		int32_t c;
		size_t n = u8_decode(text + i, len - i, &c, NULL);

		c = txt_radical(c);
		if (is_han_or_kana(c)) {
			char cur[4];
			size_t curlen = u8_encode(c, cur);

			if (!(flags & TOK_NO_UNIGRAMS) && fn(ctx, TOK_UNIGRAM, cur, curlen, i, i + n) < 0)
				return -1;
			if (run > 0) {
				char pair[8];

				memcpy(pair, prev, prevlen);
				memcpy(pair + prevlen, cur, curlen);
				if (fn(ctx, TOK_BIGRAM, pair, prevlen + curlen, prevpos, i + n) < 0)
					return -1;
			}
			memcpy(prev, cur, curlen);
			prevlen = curlen;
			prevpos = i;
			prevend = n;
			run++;
			i += n;
			continue;
		}
		if (run == 1 && (flags & TOK_NO_UNIGRAMS) && fn(ctx, TOK_UNIGRAM, prev, prevlen, prevpos, prevpos + prevend) < 0)
			return -1;
		run = 0;
		if (is_word_char(c)) {
			size_t start = i;
			int ascii = 1;

			while (i < len) {
				n = u8_decode(text + i, len - i, &c, NULL);
				if (is_han_or_kana(txt_radical(c)) || !is_word_char(c))
					break;
				if (c >= 0x80)
					ascii = 0;
				i += n;
			}
			if (emit_word(text + start, i - start, ascii, flags, fn, ctx, start) < 0)
				return -1;
			continue;
		}
		i += n;
	}
	if (run == 1 && (flags & TOK_NO_UNIGRAMS) && fn(ctx, TOK_UNIGRAM, prev, prevlen, prevpos, prevpos + prevend) < 0)
		return -1;
	return 0;
}
