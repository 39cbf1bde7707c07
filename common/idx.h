/* idx: the index directory shared by rag-index (one writer) and rag-query
 * (any number of readers).
 *
 *   DIR/index.sqlite   the truth: documents, chunks with their text, fields
 *                      and vectors, the embedder and dimension, settings,
 *                      term statistics for question weighting, and an FTS5
 *                      table over the chunk text (tokenizer 'ragpipe')
 *   DIR/vectors-G.faiss  the faiss index of the vectors, ids = chunk row ids,
 *                      derived from the database at generation G: rebuilt
 *                      whenever it is missing or older than the database
 *   DIR/lock           taken (flock) by the one writer
 *
 * Every batch of changes is one SQLite transaction (WAL), so a crash leaves
 * the state before or after it, and readers see a consistent snapshot
 * without waiting. The generation counts committed batches; a faiss file
 * whose generation is not the database's is stale and is never used. */
#ifndef RAGPIPE_IDX_H
#define RAGPIPE_IDX_H

#include <stddef.h>
#include <stdint.h>

#include "sb.h"

typedef struct idx idx;

enum idx_mode { IDX_READ, IDX_WRITE };

/* Open DIR. A writer creates it when missing and takes the lock, waiting
 * for another writer to finish unless nowait (then it fails at once). NULL
 * with the reason in err. */
idx *idx_open(const char *dir, enum idx_mode mode, int nowait, char *err, size_t errlen);
void idx_close(idx *x);

/* Take away an index a writer has just made and that holds nothing (a run
 * whose every record was refused must not leave an empty index behind):
 * its files, and DIR itself when that leaves it empty and with_dir. After
 * idx_close. -1 with errno when a file cannot be removed. */
int idx_remove_new(const char *dir, int with_dir);

/* The embedder the index was built with ("" and 0 while empty). */
const char *idx_embedder(const idx *x);
int idx_dim(const idx *x);

/* Settle the embedder: the first records decide; later ones must match. -1
 * with a message naming both when they do not. */
int idx_use_embedder(idx *x, const char *name, int dim, char *err, size_t errlen);

/* A batch is one transaction. */
int idx_begin(idx *x, char *err, size_t errlen);
int idx_commit(idx *x, char *err, size_t errlen);
void idx_rollback(idx *x);
/* Commit without counting a generation (settings only). */
int idx_commit_plain(idx *x, char *err, size_t errlen);

/* What the index holds for a source: 1 with the document hash it was
 * indexed from (into hash, 65 bytes), 0 when it holds nothing. */
int idx_document(idx *x, const char *source, char *hash, size_t hashlen);
/* The number of chunks the index holds of a document, -1 when none. */
long idx_document_chunks(idx *x, const char *source);

/* Remove a source's chunks (their row ids are reported to gone(ctx, id) so
 * that the caller can take them out of faiss). Returns how many, or -1. */
int idx_delete_source(idx *x, const char *source, void (*gone)(void *ctx, int64_t id), void *ctx,
		      char *err, size_t errlen);

/* Add one chunk; *rowid gets its row id (the faiss id). fields_json is the
 * record's other fields as a JSON object text (carried back by queries).
 * cut, when not NULL, is the chunk's body (idx_body) cut ahead of time. */
struct fts_cut;
typedef struct {
	const char *id, *source, *title, *text, *fields_json;
	long seq;
	int page, page_end;
	const float *vec;
	const struct fts_cut *cut;
} idx_chunk;

/* The text a chunk is searched by, as the full-text index holds it: the
 * title and the text (made in buf), or the text itself when there is no
 * title or the text begins with it. *len gets its length; NULL when memory
 * ran out. */
const char *idx_body(const char *title, const char *text, sb *buf, size_t *len);
int idx_add_chunk(idx *x, const idx_chunk *c, int64_t *rowid, char *err, size_t errlen);

/* A document as the index records it. path is the absolute path the source
 * named when it was indexed (resolved against the writer's working
 * directory), NULL when it named no file then or the index is older than
 * the column: what --prune looks for on disk, wherever it is run from. */
typedef struct {
	const char *source, *hash, *path;
	long chunks;
} idx_doc;

/* Record that a source is indexed from the document d->hash. */
int idx_set_document(idx *x, const idx_doc *d, char *err, size_t errlen);

/* Every document, in source order (pointers valid for the call); fn
 * returns 0 to go on. */
int idx_each_document(idx *x, int (*fn)(void *ctx, const idx_doc *d), void *ctx);

/* The chunks of a source, in order (all pointers valid for the call). */
int idx_each_chunk(idx *x, const char *source, int (*fn)(void *ctx, const idx_chunk *c), void *ctx);

/* Every chunk's row id and vector, in row id order. */
int idx_each_vector(idx *x, int (*fn)(void *ctx, int64_t id, const float *vec), void *ctx);

typedef struct {
	long documents, chunks;
	long long generation, faiss_generation;
	char embedder[256];
	int dim;
	char index_type[128];
	long long bytes;
	double avgdl;
} idx_stats;
int idx_stats_get(idx *x, idx_stats *st);

/* The faiss index type (a factory string) in use, and setting it; asked:
 * the user named it, rather than it being chosen by the index's size. */
const char *idx_type(const idx *x);
int idx_type_asked(const idx *x);
int idx_set_type(idx *x, const char *factory, int asked, char *err, size_t errlen);

/* Paths: of the faiss file for the current generation, and where to write
 * it (a temporary name beside it). */
int idx_faiss_path(const idx *x, char *out, size_t outlen);
long long idx_generation(const idx *x);
/* After the faiss file for generation g was written and renamed into place:
 * record it, and remove older ones. */
int idx_faiss_done(idx *x, long long g, char *err, size_t errlen);

/* Term statistics for weighting questions: documents containing the term
 * with this hash, and the number of chunks and their average length. */
long idx_df(idx *x, uint64_t hash);
long idx_chunk_count(const idx *x);
double idx_avgdl(const idx *x);


/* ---- reading, for rag-query ----
 *
 * A reader's snapshot: idx_read_begin starts a read transaction and reloads
 * the settings (generation, embedder, statistics) as of that instant; every
 * read until idx_read_end sees that one state, however many batches a writer
 * commits meanwhile (WAL: neither waits for the other). */
int idx_read_begin(idx *x, char *err, size_t errlen);
void idx_read_end(idx *x);

/* The generation the faiss file on disk was built for (-1: none yet). Use
 * the file only when it equals idx_generation(). */
long long idx_faiss_generation(const idx *x);

/* A chunk read back by row id: the fields as stored, and body, the text that
 * was embedded and full-text indexed (title and text). Pointers are valid
 * until the next call on the same reader. */
typedef struct {
	idx_chunk c;		/* page 0: none; vec: dim floats (unaligned-safe copy) */
	const char *body;
	size_t body_len;
	long dl;		/* terms in body */
} idx_row;

typedef struct idx_reader idx_reader;

/* Prepared statements over an open idx (borrowed; free the reader first). */
idx_reader *idx_reader_new(idx *x, char *err, size_t errlen);
void idx_reader_free(idx_reader *r);

enum { IDX_ROW_TEXT = 1, IDX_ROW_VEC = 2 };
/* 1 found, 0 no such row, -1 error (in err). Without IDX_ROW_TEXT, text,
 * body are NULL; without IDX_ROW_VEC, vec is NULL. */
int idx_reader_row(idx_reader *r, int64_t rid, unsigned what, idx_row *out, char *err, size_t errlen);

/* FTS5 full-text search: the rows matching expr (FTS5 query syntax; see
 * FTS_TERM_MARK), best first by FTS5's bm25() (k1 1.2, b 0.75), at most
 * limit; fn gets each row id and its score, -bm25() (higher is better).
 * Returns the rows given, or -1 with err. */
long idx_reader_fts(idx_reader *r, const char *expr, long limit, int (*fn)(void *ctx, int64_t rid, double score),
		    void *ctx, char *err, size_t errlen);

#endif
