/* doc: documents to cleaned, page-aware chunks.
 *
 * PDF, XPS, EPUB, FB2, MOBI and HTML are read through mupdf; plain text and
 * Markdown directly. The format is recognised by content. Text is cleaned
 * (see txt.h), running headers and footers and table-of-contents leaders are
 * removed, lines are joined into paragraphs, and the result is cut by split.h.
 * One page (or one line of a text file) is held at a time, plus a few pages of
 * look-ahead to recognise running headers. */
#ifndef RAGPIPE_DOC_H
#define RAGPIPE_DOC_H

#include <stddef.h>
#include "split.h"

enum doc_format {
	DOC_UNKNOWN, DOC_PDF, DOC_XPS, DOC_EPUB, DOC_FB2, DOC_MOBI, DOC_HTML, DOC_CBZ,
	DOC_TEXT, DOC_MARKDOWN,
	DOC_OFFICE	/* .docx, .odt, .xlsx, .pptx, .doc...: recognised, not read yet */
};

/* Recognise a format from the first bytes of a file (head) and, for zip
 * containers, its last bytes (tail, where the directory lives); name only
 * tells Markdown from plain text. */
enum doc_format doc_sniff(const char *head, size_t headlen, const char *tail, size_t taillen,
			  const char *name);

typedef struct {
	const char *text;	/* borrowed for the call */
	size_t len;
	int page, page_end;	/* 0: the format has no pages */
	const char *title;	/* NULL: none */
	int forced;		/* cut mid-word: no separator within size */
	const char *const *footnotes;	/* the notes at the foot of the pages */
	size_t nfootnotes;		/* the chunk reaches first; borrowed */
} doc_chunk;

typedef struct {
	int pages;
	long chunks;
	long toc_lines, furniture_lines, footnote_lines, hyphenations;
	long nav_lines;		/* HTML navigation bars */
	long bad_utf8, first_bad_line;
	long forced_cuts;
	long engine_warnings;
	enum doc_format format;
} doc_stats;

/* Returns 0, or -1 to stop (the callback reports its own error). */
typedef int (*doc_chunk_fn)(void *ctx, const char *hash, const doc_chunk *c);

typedef struct doc_reader doc_reader;

/* One reader serves many files in turn (it keeps mupdf's font cache). */
doc_reader *doc_reader_new(const split_opts *opts);
void doc_reader_free(doc_reader *r);

enum doc_status {
	DOC_OK,
	DOC_FAILED,	/* this file could not be read: err says why */
	DOC_STOPPED,	/* the callback asked to stop */
	DOC_NOMEM,
};

/* Split one file. hash (64 hex digits) is the SHA-256 of its bytes. err gets
 * a reason without the file name ("encrypted (password required)"). With
 * skip_unknown, an unrecognised format is DOC_FAILED with st->format
 * DOC_UNKNOWN, so a directory walk can pass over it. */
enum doc_status doc_split_file(doc_reader *r, const char *path, doc_chunk_fn fn, void *ctx,
			       doc_stats *st, char *err, size_t errlen);

#endif
