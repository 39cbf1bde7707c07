/* fts: ragpipe's tokenizer for SQLite FTS5, so that the full-text index
 * cuts text exactly as the built-in embedder does (tok.h): stemmed words,
 * and CJK characters and pairs, which FTS5's own tokenizers cannot do
 * (unicode61 keeps a run of Chinese as one token; trigram misses two-character
 * words). Tables use it with tokenize='ragpipe'. */
#ifndef RAGPIPE_FTS_H
#define RAGPIPE_FTS_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

/* A text cut ahead of time, perhaps in another thread: its terms in order,
 * each with the built-in embedder's hash (emb_lex_hash), so that indexing
 * the same text again only replays them. */
typedef struct fts_cut {
	struct fts_cut_term {
		uint64_t hash;
		uint32_t off, len;	/* in bytes */
		int start, end;		/* the bytes of the text it comes from */
	} *term;
	size_t n, cap;
	char *bytes;
	size_t nbytes, bytes_cap;
	const char *text;	/* borrowed: what was cut */
	size_t len;
} fts_cut;

/* Cut text (borrowed; it must outlive the cut's use). 0, or -1 when memory
 * ran out or the text is 2 GB or more. */
int fts_cut_text(fts_cut *c, const char *text, size_t len);
void fts_cut_free(fts_cut *c);

/* A writer that wants the terms of the texts it indexes (not of queries)
 * without cutting them a second time sets term while it inserts or deletes
 * a row: it gets each term's hash. A non-zero return fails the statement.
 * With cut set, a text equal to the one cut is not cut again. */
typedef struct fts_observer {
	int (*term)(void *ctx, uint64_t hash);
	void *ctx;
	const fts_cut *cut;
} fts_observer;

/* Register the tokenizer on a connection (each one that reads or writes the
 * table must); obs (borrowed, may be NULL) is consulted on every text.
 * SQLITE_OK or an SQLite error code. */
int fts_register(sqlite3 *db, fts_observer *obs);

/* In a MATCH expression, a quoted string that begins with this byte is one
 * term as tok.h produces it, taken as it is: "\x01densenet" OR "\x01深度". */
#define FTS_TERM_MARK '\x01'

#endif
