/* emb: embedders, which turn text into float32 vectors.
 *
 * The built-in embedder needs no model: it is a lexical vector. A passage's
 * terms (see tok.h: stemmed words, CJK characters and character pairs) get
 * BM25 term-frequency weights, saturated and normalised by length, and are
 * hashed with a sign into `dim` buckets; the vector is L2-normalised, so the
 * inner product of two vectors is their cosine. A question's terms are
 * weighted by their inverse document frequency when an index supplies it.
 * The name records the algorithm's version and the dimension, so that an
 * index never mixes vectors of two kinds.
 *
 * A server embedder sends texts to an OpenAI-compatible /embeddings
 * endpoint: emb_request builds the body, emb_response checks and decodes the
 * answer. */
#ifndef RAGPIPE_EMB_H
#define RAGPIPE_EMB_H

#include <stddef.h>
#include <stdint.h>

#include "sb.h"

/* Version of the built-in algorithm: change it with any change to the
 * tokenizer, the hashing or the weights. */
#define EMB_LEX_VERSION 1
#define EMB_LEX_DEFAULT_DIM 512

/* BM25 parameters of the passage side. A passage is embedded without the
 * corpus at hand, so lengths are normalised by a fixed typical length. */
#define EMB_LEX_K1 1.2
#define EMB_LEX_B 0.75
#define EMB_LEX_AVGDL 200.0

/* Weight of a CJK single character against a word or a character pair. */
#define EMB_LEX_UNIGRAM_WEIGHT 0.5

/* "ragpipe-lex1-512": written into out (at least 32 bytes). */
void emb_lex_name(int dim, char *out, size_t outlen);
/* The dimension named by a built-in embedder name, or 0 when it is not one. */
int emb_lex_parse_name(const char *name);

/* One term of a text: its 64-bit hash (FNV-1a over a kind byte and the
 * term's UTF-8) and its kind (enum tok_kind). */
typedef int (*emb_term_fn)(void *ctx, uint64_t hash, int kind);
uint64_t emb_lex_hash(int kind, const char *term, size_t len);
int emb_lex_terms(const char *text, size_t len, emb_term_fn fn, void *ctx);

/* The BM25 weight of a term seen tf times in a passage of dl terms, with
 * the average passage length avgdl (EMB_LEX_AVGDL when embedding). */
double emb_lex_tf_weight(double tf, double dl, double avgdl);

/* Passage vector of dim floats into out. -1 when memory ran out. */
int emb_lex_passage(const char *text, size_t len, int dim, float *out);

/* Question vector: each distinct term weighted by idf(ctx, hash); when idf
 * is NULL (no index at hand), by 1, except the words every question has
 * ("what", "is", "的", "什么"...), which count 0.1. -1 when memory ran out. */
typedef double (*emb_idf_fn)(void *ctx, uint64_t hash);
int emb_lex_question(const char *text, size_t len, int dim, emb_idf_fn idf, void *ctx, float *out);

/* The weight of a question's term when no index says how common it is, as
 * emb_lex_question gives it: 0.1 for the words every question has, 1
 * otherwise, times EMB_LEX_UNIGRAM_WEIGHT for a single CJK character. */
double emb_lex_question_term_weight(uint64_t hash, int kind);

/* Server embedders. */

/* The JSON body asking for the embeddings of n texts. */
int emb_request(sb *body, const char *model, const char *const *texts, const size_t *lens, size_t n);

/* Decode an /embeddings answer for n texts into vecs (n * *dim floats,
 * allocated here, owned by the caller). *dim is the dimension: 0 on entry
 * means "take it from the answer"; otherwise the answer must have it. Every
 * vector must be there once (ordered by its "index"), of the same dimension,
 * and finite. -1 with a reason in err otherwise. */
int emb_response(const char *body, size_t len, size_t n, int *dim, float **vecs, char *err, size_t errlen);

/* Scale v to unit length (left alone when it is zero). */
void emb_normalize(float *v, int dim);

#endif
