/* fts: ragpipe's tokenizer for SQLite FTS5, so that the full-text index
 * cuts text exactly as the built-in embedder does (tok.h): stemmed words,
 * and CJK characters and pairs, which FTS5's own tokenizers cannot do
 * (unicode61 keeps a run of Chinese as one token; trigram misses two-character
 * words). Tables use it with tokenize='ragpipe'. */
#ifndef RAGPIPE_FTS_H
#define RAGPIPE_FTS_H

#include <stddef.h>

#include <sqlite3.h>

/* A writer that wants the terms of the texts it indexes (not of queries)
 * without cutting them a second time sets term while it inserts or deletes
 * a row; kind is tok.h's. A non-zero return fails the statement. */
typedef struct fts_observer {
	int (*term)(void *ctx, int kind, const char *term, size_t len);
	void *ctx;
} fts_observer;

/* Register the tokenizer on a connection (each one that reads or writes the
 * table must); obs (borrowed, may be NULL) is consulted on every text.
 * SQLITE_OK or an SQLite error code. */
int fts_register(sqlite3 *db, fts_observer *obs);

/* In a MATCH expression, a quoted string that begins with this byte is one
 * term as tok.h produces it, taken as it is: "\x01densenet" OR "\x01深度". */
#define FTS_TERM_MARK '\x01'

#endif
