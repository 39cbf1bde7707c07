/* faiss_threads: how many threads faiss may use (implemented in faiss_c.cpp).
 *
 * faiss parallelises with OpenMP and multiplies matrices with OpenBLAS, and
 * each starts one thread per core by default: the two together oversubscribe
 * a small machine. faiss_ragpipe_set_threads(n) sets both to n (less than 1
 * means 1). OpenMP's setting belongs to the calling thread: call it from the
 * thread that then calls faiss. */
#ifndef RAGPIPE_FAISS_THREADS_H
#define RAGPIPE_FAISS_THREADS_H

#ifdef __cplusplus
extern "C" {
#endif

void faiss_ragpipe_set_threads(int nthreads);

#ifdef __cplusplus
}
#endif

#endif
