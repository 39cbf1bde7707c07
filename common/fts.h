/* fts: ragpipe's tokenizer for SQLite FTS5, so that the full-text index
 * cuts text exactly as the built-in embedder does (tok.h): stemmed words,
 * and CJK characters and pairs, which FTS5's own tokenizers cannot do
 * (unicode61 keeps a run of Chinese as one token; trigram misses two-character
 * words). Tables use it with tokenize='ragpipe'. */
#ifndef RAGPIPE_FTS_H
#define RAGPIPE_FTS_H

#include <sqlite3.h>

/* Register the tokenizer on a connection (each one that reads or writes the
 * table must). SQLITE_OK or an SQLite error code. */
int fts_register(sqlite3 *db);

/* In a MATCH expression, a quoted string that begins with this byte is one
 * term as tok.h produces it, taken as it is: "\x01densenet" OR "\x01深度". */
#define FTS_TERM_MARK '\x01'

#endif
