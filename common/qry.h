/* qry: questions against one or more index directories (shards) taken as
 * one. The caller embeds the question (qry_embed_builtin for the built-in
 * embedder, or a server) and asks for the best chunks:
 *
 *   vector  faiss search (exact cosine of the stored vectors as the score);
 *           the faiss file of the snapshot's generation, memory-mapped when
 *           it is an inverted file; without a usable one, an exact search
 *           over the vectors in the database
 *   bm25    FTS5 full-text search over the question's terms (those held
 *           by at most half the chunks, when there are such), ranked by
 *           FTS5's bm25(); the score is -bm25(), higher is better
 *   hybrid  reciprocal rank fusion of two lists: the vector list, and a
 *           lexical list made by re-scoring the union of the vector top
 *           QRY_DENSE_N and the FTS5 top QRY_LEX_N (of the question's terms
 *           held by at most QRY_LEX_SHARE of the chunks) exactly: BM25 over
 *           ragpipe's terms with statistics of all shards (QRY_BM25_K1,
 *           QRY_BM25_B, titles and CJK terms weighted as below), then one
 *           round of pseudo-relevance feedback; the default mode.
 *           score = w_vec / (rrf_k + rank in the
 *           vector list) + w_lex / (rrf_k + rank in the lexical list), a
 *           list the chunk is not in adding nothing.
 *
 * Filters (sources, fields) are applied while searching: each list is
 * searched deeper and deeper until it has enough chunks that pass. With
 * several shards, the statistics (chunks, document frequencies, average
 * length) are the sums over all of them, so that idf, the question's vector
 * and every score are those one merged index would give; lists are merged by
 * score and a chunk id found in two shards is returned once.
 *
 * A snapshot per question or batch of questions (qry_begin .. qry_end):
 * each shard's database is read in one read transaction, with the faiss file
 * of that same generation, so that a writer committing meanwhile is neither
 * waited for nor half seen. The vectors are scored with BLAS
 * (faiss_ragpipe_search): qry_prepare searches a batch's vectors together. */
#ifndef RAGPIPE_QRY_H
#define RAGPIPE_QRY_H

#include <stddef.h>
#include <stdint.h>

enum qry_mode { QRY_VECTOR, QRY_BM25, QRY_HYBRID };

/* Candidates of the hybrid lexical list: the vector top N and the FTS5 top
 * M (more when --fetch-k asks for more). bench/EMBEDDER.md measured these;
 * 100 FTS5 candidates rather than 50 bring cranfield the relevant abstracts
 * that share only common words with the question (bench/RESULTS.md). */
#define QRY_DENSE_N 100
#define QRY_LEX_N 100
/* The FTS5 candidates come from the question's terms held by at most this
 * share of the chunks, when it has such terms: re-scored with all of them,
 * the same lists on both retrieval sets, 2.5 times faster on Debian's
 * changelogs (bench/RESULTS.md). */
#define QRY_LEX_SHARE 0.1

/* The exact score and its feedback round (bench/EMBEDDER.md, 2.6, and
 * bench/RESULTS.md, "The default path"). A larger k1 and a smaller b than
 * FTS5's bm25() count repeated terms more and long chunks less against
 * them; a chunk's title counts QRY_TITLE_WEIGHT times (once in its text,
 * the rest added); CJK characters and pairs are weighed QRY_CJK_WEIGHT (a
 * character gives a unigram at half weight and a pair: one and a half
 * terms where a word gives one, which let the CJK words of a mixed
 * question outweigh its English ones). Feedback: the QRY_PRF_DOCS best
 * chunks, each by its score to the power QRY_PRF_SHARPNESS (the best ones
 * decide), give QRY_PRF_TERMS terms, none held by more than half the
 * chunks (which would take the places of the words that tell the chunks
 * apart), weighing QRY_PRF_LAMBDA in all. */
#define QRY_BM25_K1 2.0
#define QRY_BM25_B 0.5
#define QRY_TITLE_WEIGHT 2
#define QRY_CJK_WEIGHT (2.0 / 3)
#define QRY_PRF_DOCS 10
#define QRY_PRF_SHARPNESS 4
#define QRY_PRF_TERMS 20
#define QRY_PRF_MAX_SHARE 0.5
#define QRY_PRF_LAMBDA 0.22

#define QRY_RRF_K 60.0

typedef struct {
	const char *field, *value;
} qry_where;

typedef struct {
	enum qry_mode mode;
	long k;			/* hits */
	long fetch_k;		/* candidates for MMR (0: max(20, 4k)) */
	int mmr;
	double mmr_lambda;	/* relevance against novelty, in [0, 1] */
	int has_min_score;
	double min_score;
	double w_vec, w_lex;	/* hybrid's weights; negative: qry_default_weights */
	double rrf_k;
	const char *const *sources;	/* shell patterns; a chunk passes if any matches */
	size_t nsources;
	const qry_where *where;	/* a chunk passes if all hold */
	size_t nwhere;
} qry_opts;

/* k 5, hybrid mode, no filters, MMR lambda 0.5, RRF k 60, the index's
 * default weights. The hybrid is the default for every embedder: with the
 * built-in one it is the exact lexical score over the vector's and FTS5's
 * candidates, with a server's the fusion of its vectors with that score;
 * on the benchmark sets it is at least as good as bm25 and FTS5 and far
 * better than vector mode (bench/RESULTS.md). */
void qry_opts_init(qry_opts *o);

/* The default RRF weights of the vector and the lexical list for an index
 * built with this embedder. The built-in embedder's vector is a hashed copy
 * of the same terms the lexical list scores exactly, and a noisier one: on
 * both retrieval sets every weight above 0 for it lowered nDCG@10
 * (bench/RESULTS.md), so it gets 0 and its list serves as candidates for the
 * lexical one; a model's vector is evidence of another kind and counts as
 * much as the lexical list. */
void qry_default_weights(const char *embedder, double *w_vec, double *w_lex);

/* nprobe used for an inverted file of nlist lists when none is asked: half
 * of them. */
long qry_default_nprobe(long nlist);

typedef struct {
	double score;
	char *id, *source, *title, *text, *fields_json;	/* owned; title, fields_json may be NULL */
	long seq;
	int page, page_end;	/* 0: none */
	char **merged;		/* ids of overlapping chunks merged into this hit (MMR) */
	size_t nmerged;
} qry_hit;

typedef struct {
	qry_hit *v;
	size_t n;
} qry_hits;

void qry_hits_free(qry_hits *h);

typedef struct qry qry;

/* Open the shards for reading. NULL with the reason in err: a directory
 * missing, not an index, unreadable, or shards built with different
 * embedders. */
qry *qry_open(const char *const *dirs, size_t n, char *err, size_t errlen);
void qry_close(qry *q);

/* The shards' embedder and dimension ("" and 0 while all are empty). */
const char *qry_embedder(const qry *q);
int qry_dim(const qry *q);

/* Take each shard's snapshot (and its faiss file when the generation moved
 * on). -1 with err when a shard cannot be read any more. */
int qry_begin(qry *q, char *err, size_t errlen);
void qry_end(qry *q);

/* Inverted lists an IVF index searches (0: qry_default_nprobe). When the
 * filters let too few chunks through, more are searched. */
void qry_set_nprobe(qry *q, long nprobe);

/* What happened since the notes were last cleared, one line each, or NULL:
 * warnings (a faiss file that cannot be used, --nprobe for an index that
 * is not an inverted file) and information (which faiss file is used, an
 * exact search while a writer has not written the current one yet). */
void qry_notes(const qry *q, const char **warnings, const char **info);
void qry_notes_clear(qry *q);

/* The built-in embedder's question vector (dim floats), its terms weighted
 * by their idf over all shards, terms no chunk has left out. -1 when memory
 * ran out. Within qry_begin .. qry_end. */
int qry_embed_builtin(qry *q, const char *text, size_t len, int dim, float *out);

/* Several questions at once (vecs: n vectors of qry_dim() floats): their
 * vector searches read each block of vectors once for all of them (BLAS),
 * which is what makes a batch fast. qry_search of the question at slot i
 * then starts from its results. Within one qry_begin .. qry_end. */
int qry_prepare(qry *q, const qry_opts *o, const float *vecs, size_t n, char *err, size_t errlen);

/* The best chunks for a question: text (for the lexical side) and vec (the
 * question's vector, qry_dim() floats; NULL in bm25 mode); slot: its place
 * in what qry_prepare searched, or -1. Within qry_begin .. qry_end. 0, or
 * -1 with err. */
int qry_search(qry *q, const qry_opts *o, const char *text, size_t len, const float *vec, long slot, qry_hits *out,
	       char *err, size_t errlen);

/* Does a field's value (the JSON text of a scalar or an array of them)
 * equal value, as --where writes it? A string equals its text, a number any
 * text of the same number, true/false/null their names, an array when any
 * element does. */
int qry_value_matches(const char *json, size_t len, const char *value);

/* Length of the longest suffix of a that is a prefix of b, when at least
 * min bytes long; else 0. */
size_t qry_overlap(const char *a, size_t alen, const char *b, size_t blen, size_t min);

#endif
