/* split: cut a stream of text into chunks of at most `size` code points.
 *
 * Text is fed in pieces, each tagged with the page and the section title it
 * came from; chunks are handed to a callback as soon as they are decided, so
 * memory stays bounded by about two chunks plus the largest piece fed.
 *
 * Two rule sets:
 *  - native: cut at the coarsest separator found in the second half of the
 *    window (paragraph, line, sentence end, clause, space, character), the
 *    separator staying with the piece it ends; the next chunk starts about
 *    `overlap` code points earlier, at a sentence or word boundary when one is
 *    near.
 *  - langchain: LangChain's RecursiveCharacterTextSplitter (keep_separator at
 *    the start of the next piece, whitespace stripped, overlap in whole pieces),
 *    exactly. */
#ifndef RAGPIPE_SPLIT_H
#define RAGPIPE_SPLIT_H

#include <stddef.h>

/* Separator classes usable in a separator list besides literal strings. */
#define SPLIT_SENTENCE "\001sentence"
#define SPLIT_CLAUSE "\001clause"

typedef struct {
	long size;		/* code points */
	long overlap;		/* code points, < size */
	const char **separators; /* coarse to fine; "" = any character; NULL = default */
	int nseparators;
	int langchain;
} split_opts;

/* A chunk: text is borrowed for the call; page and title are those where the
 * chunk starts and ends (page 0: no page). forced: cut mid-word because no
 * separator was found within size. Returns 0, or -1 to stop (the error is the
 * callback's to report). */
typedef int (*split_emit_fn)(void *ctx, const char *text, size_t len, int page, int page_end,
			     int title, int forced);

typedef struct split split;

split *split_new(const split_opts *opts, split_emit_fn emit, void *ctx);
void split_free(split *s);

/* Append valid UTF-8 text that lies on page `page` under title `title`
 * (an index the caller gives meaning to; -1 for none). */
int split_feed(split *s, const char *text, size_t len, int page, int title);

/* End of a section (or the document): flush every pending chunk; the next
 * text starts a new chunk without overlap. -1 when memory ran out or the
 * callback failed. */
int split_flush(split *s);

/* The default separator lists. */
extern const char *split_native_separators[];
extern const int split_native_nseparators;
extern const char *split_langchain_separators[];
extern const int split_langchain_nseparators;

#endif
