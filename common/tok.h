/* tok: the terms of a text. The built-in embedder, the full-text index and
 * the extractive answerer all use this one tokenizer, so that a question and
 * a passage are cut into the same words whichever of them looks.
 *
 * Words are runs of letters, digits and marks (Unicode categories L, N, M),
 * NFKC-normalised, case-folded and stripped of accents; with TOK_STEM, plain
 * ASCII words are reduced by Porter's algorithm. Han ideographs and kana are
 * written without spaces, so a run of them gives every character (a unigram)
 * and every pair of neighbours (a bigram). Radicals count as the ideographs
 * they stand for. */
#ifndef RAGPIPE_TOK_H
#define RAGPIPE_TOK_H

#include <stddef.h>

enum tok_kind {
	TOK_WORD = 'w',
	TOK_UNIGRAM = 'u',	/* one Han or kana character */
	TOK_BIGRAM = 'b',	/* two neighbouring ones */
};

enum {
	TOK_STEM = 1,		/* Porter-stem ASCII words */
	TOK_NO_UNIGRAMS = 2,	/* bigrams only (a lone character still counts) */
};

/* Called once per term, in text order; term is borrowed for the call.
 * [start, end) are the bytes of the text it comes from. Return 0 to go on, or
 * -1 to stop (tok_each then returns -1). */
typedef int (*tok_fn)(void *ctx, enum tok_kind kind, const char *term, size_t len, size_t start, size_t end);

/* Returns 0, or -1 when fn stopped it or memory ran out. */
int tok_each(const char *text, size_t len, unsigned flags, tok_fn fn, void *ctx);

#endif
