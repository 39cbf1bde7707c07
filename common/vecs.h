/* vecs: the faiss side of an index directory, for its writer. The faiss
 * file is derived from the vectors the database holds: when a run changed
 * anything (or the file is missing, stale, or of another type) it is built
 * again from them and written under the new generation's name, fsynced and
 * renamed into place, so that a reader finds either the old file or the new
 * one, whole. Also: reading a record's embedding. */
#ifndef RAGPIPE_VECS_H
#define RAGPIPE_VECS_H

#include <stddef.h>
#include <stdint.h>

#include "idx.h"

typedef struct vecs vecs;

/* type: a faiss index-factory string to use from now on (NULL: keep the
 * index's, or choose by size); rebuild: write the file even if nothing
 * changes. */
vecs *vecs_open(idx *x, const char *type, int rebuild, char *err, size_t errlen);
void vecs_close(vecs *v);

/* Note a change (the file will be rebuilt at save). */
int vecs_use_dim(vecs *v, int dim, const char *type, char *err, size_t errlen);
void vecs_remove(void *v, int64_t id);
int vecs_add(vecs *v, int64_t id, const float *vec, char *err, size_t errlen);

/* Bring the faiss file up to the database's generation. */
int vecs_save(vecs *v, idx *x, char *err, size_t errlen);

/* The faiss type chosen for n vectors of dimension dim when none was asked. */
void vecs_default_type(long n, char *out, size_t outlen);

/* An "embedding" value as JSON text (valid): an array of numbers, or a
 * string of base64 float32 (little-endian). All finite. *vec is allocated
 * (dim floats). */
int vecs_parse_text(const char *s, size_t len, float **vec, int *dim, char *err, size_t errlen);

#endif
