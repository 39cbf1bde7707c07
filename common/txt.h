/* txt: cleaning of the text that documents really give. */
#ifndef RAGPIPE_TXT_H
#define RAGPIPE_TXT_H

#include <stddef.h>
#include <stdint.h>
#include "sb.h"

/* Append the normalised form of one line to out: invalid UTF-8 becomes
 * U+FFFD (counted in *bad when given), NFKC except that full-width
 * punctuation is kept (it is Chinese text's own), radicals become the
 * ideographs they stand for, control, zero-width and private-use characters
 * go, runs of whitespace become one space, and the ends are trimmed. Then
 * what TeX leaves in a PDF's text is read as the words it prints:
 *  - an accent set apart from its letter ("Sch¨opf", "Sch ̈opf", "Mikul´ık")
 *    is put back on it (Schöpf, Mikulík);
 *  - a space after a URL's "scheme:" or "://" goes ("https: //tug.org");
 *  - the permalink sign ending an HTML heading goes ("Abstract¶");
 *  - the logos XeLaTeX, XeTeX, LaTeX, TeX, LaTeX2e, BibTeX, ConTeXt... are
 *    spelled as users type them (see txt.c for when "LATEX" is a logo).
 * Normalising the result again changes nothing. -1: out of memory. */
int txt_normalize(const char *s, size_t len, sb *out, size_t *bad);

/* Is cp no character at all: the U+FFFD or out-of-range value a PDF reader
 * gives for a glyph it cannot map (math fonts, symbol fonts)? */
static inline int txt_is_unmapped(int32_t cp)
{
	return cp <= 0 || cp > 0x10FFFF || cp == 0xFFFD;
}

/* The unified ideograph a radical stands for (cp itself otherwise). */
int32_t txt_radical(int32_t cp);

/* A table-of-contents or index entry with a dot leader ("7.7.4 DenseNet
 * . . . 291", "crossprod ···· 8, 11, 27"); the leader may be dots, middle
 * dots, ellipses or underscores, spaced or not. */
int txt_is_toc_line(const char *s, size_t len);

/* The page numbers (digits or roman numerals) a line begins and ends with,
 * as whole words; -1 where it has none. */
void txt_edge_numbers(const char *s, size_t len, long *first, long *last);

/* The shape of a line, under which running heads of different sections
 * compare equal: a run of digits becomes '#', a run of words 'a', the section
 * sign '$', ASCII punctuation stays, spaces go ("§3.5 Special environments"
 * -> "$#.#a", "1.2 Basics 3" -> "#.#a#"). */
int txt_line_shape(const char *s, size_t len, sb *shape);

/* Is the line only a page number ("12", "- 12 -", "xii", "Page 3 of 9")? */
int txt_is_page_number(const char *s, size_t len);

/* Does the line begin with a list marker: a bullet ("•", "◦"...),
 * "- ", "– ", "* ", "1. ", "2) ", "(a) ", "(iv) "? */
int txt_is_list_item(const char *s, size_t len);

/* How the line break before a line was made (flags of txt_join_line). */
#define TXT_JOIN_LAYOUT 1	/* by a layout engine (PDF, XPS, reflowed HTML):
				 * it breaks after a dash without a space */
#define TXT_JOIN_REFLOW 2	/* by mupdf's reflow of HTML, EPUB...: it breaks
				 * after "/" too, and never hyphenates (a hyphen
				 * ending a line is the text's) */

/* Append a normalised line to the paragraph being built: a list item starts
 * a line of its own ("\n"); a URL or e-mail address cut at the line end is
 * joined without a space; a word hyphenated across the line end is joined;
 * CJK text is joined without a space, other text with one. Returns 1 when a
 * hyphen was removed, 0 otherwise, -1 when out of memory. */
int txt_join_line(sb *para, const char *line, size_t len, int flags);

/* Navigation that documentation generators put on every HTML page:
 * Texinfo's "Next: ..., Up: ... [Contents][Index]", Sphinx's "Navigation",
 * "index | modules | next", "Table of Contents", "Quick search", "Show
 * Source", Javadoc's "Skip navigation links" bars. Give the lines of one
 * page in order (new_block: the line begins a block); a heading such as
 * "Navigation" also drops the links listed under it. Sphinx's footer
 * ("Created using Sphinx") goes too. Start each document with
 * TXT_NAV_INIT. */
typedef struct {
	int state;
	int dropped;	/* the previous line was dropped */
	int sphinx;	/* a bar only Sphinx makes was seen */
} txt_nav;
#define TXT_NAV_INIT { 0, 0, 0 }
int txt_nav_line(txt_nav *nav, const char *s, size_t len, int new_block);

/* A key under which running headers and footers of different pages compare
 * equal: digits and roman page numbers folded, case and spaces ignored. */
int txt_furniture_key(const char *s, size_t len, sb *key);

#endif
