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

/* faiss_Index_search for an inner-product index, the n queries scored with
 * BLAS: an exact (Flat, in an IDMap or not) or inverted-file (IVF..,Flat)
 * index is searched here, each block of vectors (all of a Flat, each list of
 * an IVF that any query probes, nprobe lists a query) read once for all the
 * queries by one matrix product; any other type by faiss itself with nprobe
 * set. The same results as faiss (up to rounding), which Debian builds
 * without SIMD: its own loops are several times slower. Results as faiss
 * gives them: the k best of each query, best first, label -1 where there are
 * fewer. */
int faiss_ragpipe_search(const FaissIndex *index, idx_t n, const float *x, idx_t k, size_t nprobe, float *distances,
			 idx_t *labels);

#ifdef __cplusplus
}
#endif

#endif
