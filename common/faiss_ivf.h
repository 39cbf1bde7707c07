/* faiss_ivf: an inverted-file index's lists, whatever wraps it (implemented
 * in faiss_c.cpp; not faiss's own C API).
 *
 * faiss_IndexIVF_cast() sees only a bare IndexIVF; an index read back from
 * a file may wrap it (IDMap, a pre-transform such as PCA or OPQ). These look
 * through the wrappers. */
#ifndef RAGPIPE_FAISS_IVF_H
#define RAGPIPE_FAISS_IVF_H

#include <stddef.h>

#include <faiss/c_api/Index_c.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The number of inverted lists, or 0 when index is not an inverted file. */
size_t faiss_ragpipe_nlist(const FaissIndex *index);

/* Lists searched per query (clamped to 1..nlist). -1 when index is not an
 * inverted file. */
int faiss_ragpipe_set_nprobe(FaissIndex *index, size_t nprobe);

#ifdef __cplusplus
}
#endif

#endif
