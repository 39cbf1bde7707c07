/* cache: embeddings already computed, kept on disk across runs, keyed by
 * the embedder and the SHA-256 of the exact text. One SQLite file; several
 * processes may use it at once. An entry that fails its check is never
 * returned: it is a miss, and the next put replaces it. */
#ifndef RAGPIPE_CACHE_H
#define RAGPIPE_CACHE_H

#include <stddef.h>

typedef struct cache cache;

/* Open (creating it and the directory) DIR/embeddings.sqlite. */
cache *cache_open(const char *dir, char *err, size_t errlen);
void cache_close(cache *c);

/* The default directory: $XDG_CACHE_HOME/ragpipe, else ~/.cache/ragpipe,
 * into out. -1 when neither variable is set. */
int cache_default_dir(char *out, size_t outlen);

/* 1 with *vec (malloc'd, *dim floats) on a hit, 0 on a miss, -1 on an
 * error of the database (reported in err; treat as a miss). */
int cache_get(cache *c, const char *embedder, const unsigned char key[32], float **vec, int *dim, char *err, size_t errlen);
int cache_put(cache *c, const char *embedder, const unsigned char key[32], const float *vec, int dim, char *err, size_t errlen);

/* Group puts into one transaction (much faster); end commits. */
int cache_begin(cache *c);
int cache_end(cache *c);

#endif
