/* txt: cleaning of the text that documents really give. */
#ifndef RAGPIPE_TXT_H
#define RAGPIPE_TXT_H

#include <stddef.h>
#include <stdint.h>
#include "sb.h"

/* Append the normalised form of one line to out: invalid UTF-8 becomes
 * U+FFFD (counted in *bad when given), NFKC except that full-width
 * punctuation is kept (it is Chinese text's own), radicals become the
 * ideographs they stand for, control and zero-width characters go, runs of
 * whitespace become one space, and the ends are trimmed. -1: out of memory. */
int txt_normalize(const char *s, size_t len, sb *out, size_t *bad);

/* The unified ideograph a radical stands for (cp itself otherwise). */
int32_t txt_radical(int32_t cp);

/* A table-of-contents entry with a dot leader ("7.7.4 DenseNet . . . 291")? */
int txt_is_toc_line(const char *s, size_t len);

/* Is the line only a page number ("12", "- 12 -", "xii", "Page 3 of 9")? */
int txt_is_page_number(const char *s, size_t len);

/* Append a normalised line to the paragraph being built: a word hyphenated
 * across the line end is joined, CJK text is joined without a space, other
 * text with one. Returns 1 when a hyphen was removed, 0 otherwise, -1 when out
 * of memory. */
int txt_join_line(sb *para, const char *line, size_t len);

/* A key under which running headers and footers of different pages compare
 * equal: digits and roman page numbers folded, case and spaces ignored. */
int txt_furniture_key(const char *s, size_t len, sb *key);

#endif
