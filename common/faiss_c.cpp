/* faiss_c: the part of faiss's C API (the headers in faiss/c_api/, faiss 1.7.3) that
 * ragpipe calls, implemented on faiss's C++ library.
 *
 * Debian ships libfaiss-dev with the C API's headers but without libfaiss_c,
 * so this file stands in for it: every function below has the signature its
 * header declares, and reports errors the way libfaiss_c does, through the
 * headers' own macros_impl.h (CATCH_AND_HANDLE: 0 on success, -2 for a faiss
 * exception, -4 for another std::exception, -1 for anything else, the message
 * kept for faiss_get_last_error() of the same thread).
 *
 * Where this differs from upstream's libfaiss_c, on purpose:
 *   - faiss_read_index* translate the C API's io flags to the C++ ones:
 *     FAISS_IO_FLAG_MMAP is 1 in the C header but faiss::IO_FLAG_MMAP is
 *     0x646f0008, and upstream passes the C value through, so asking for mmap
 *     silently reads everything into memory.
 *   - adding to, removing from, resetting or writing an IVF index whose
 *     inverted lists are memory-mapped read-only fails with an error, before
 *     touching anything. In faiss 1.7.3 add and remove_ids would throw inside
 *     an OpenMP region, which aborts the process, and write_index would write
 *     an "on-disk" index naming no data file, which no read_index can open.
 *   - CATCH_AND_HANDLE is always the release (NDEBUG) variant, which does not
 *     also print each error on std::cerr: the caller prints
 *     faiss_get_last_error() itself.
 *
 * Also faiss_ragpipe_set_threads (faiss_threads.h) and faiss_ragpipe_nlist,
 * faiss_ragpipe_set_nprobe (faiss_ivf.h), which are not faiss's. */
#include <faiss/AutoTune.h>
#include <faiss/Index.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexFlat.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/IndexPreTransform.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/index_factory.h>
#include <faiss/index_io.h>
#include <faiss/invlists/OnDiskInvertedLists.h>
#include <faiss/utils/Heap.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <iostream>
#include <stdexcept>
#include <vector>

#include <omp.h>

#include <faiss/c_api/AutoTune_c.h>
#include <faiss/c_api/IndexIVF_c.h>
#include <faiss/c_api/Index_c.h>
#include <faiss/c_api/error_c.h>
#include <faiss/c_api/impl/AuxIndexStructures_c.h>
#include <faiss/c_api/index_factory_c.h>
#include <faiss/c_api/index_io_c.h>

/* The release variant of CATCH_AND_HANDLE, whatever the build's NDEBUG. */
#ifndef NDEBUG
#define NDEBUG
#define FAISS_C_UNDEF_NDEBUG
#endif
#include <faiss/c_api/macros_impl.h>
#ifdef FAISS_C_UNDEF_NDEBUG
#undef NDEBUG
#undef FAISS_C_UNDEF_NDEBUG
#endif

#include "faiss_ivf.h"
#include "faiss_threads.h"

/* OpenBLAS's own calls, declared here to need no cblas.h of one variant. */
extern "C" void openblas_set_num_threads(int num_threads);
extern "C" int sgemm_(const char *transa, const char *transb, const int *m, const int *n, const int *k,
		      const float *alpha, const float *a, const int *lda, const float *b, const int *ldb,
		      const float *beta, float *c, const int *ldc);

thread_local std::exception_ptr faiss_last_exception;

namespace {

faiss::Index *as_index(FaissIndex *index)
{
	return reinterpret_cast<faiss::Index *>(index);
}

const faiss::Index *as_index(const FaissIndex *index)
{
	return reinterpret_cast<const faiss::Index *>(index);
}

/* The OnDiskInvertedLists of index, when it is, or wraps, an IVF index whose
 * inverted lists are on disk (mmapped by FAISS_IO_FLAG_MMAP), else NULL. */
const faiss::OnDiskInvertedLists *ondisk_lists(const faiss::Index *index)
{
	for (;;) {
		if (auto map = dynamic_cast<const faiss::IndexIDMap *>(index)) {
			index = map->index;
		} else if (auto pre = dynamic_cast<const faiss::IndexPreTransform *>(index)) {
			index = pre->index;
		} else {
			break;
		}
	}
	auto ivf = dynamic_cast<const faiss::IndexIVF *>(index);
	return ivf == nullptr ? nullptr : dynamic_cast<const faiss::OnDiskInvertedLists *>(ivf->invlists);
}

/* Throws unless index can be changed: faiss 1.7.3 cannot change read-only
 * inverted lists (those FAISS_IO_FLAG_MMAP maps), and throws from an OpenMP
 * region when asked to, which aborts. */
void check_changeable(const faiss::Index *index, const char *what)
{
	auto od = ondisk_lists(index);

	if (od != nullptr && od->read_only)
		FAISS_THROW_FMT("cannot %s: its inverted lists are memory-mapped read-only "
				"(it was read with FAISS_IO_FLAG_MMAP)",
				what);
}

/* Throws unless index can be written: faiss 1.7.3 writes lists that
 * FAISS_IO_FLAG_MMAP mapped as on-disk lists naming no data file, a file no
 * read_index can open again. */
void check_writable(const faiss::Index *index)
{
	auto od = ondisk_lists(index);

	if (od != nullptr && od->filename.empty())
		FAISS_THROW_MSG("cannot write the index: its inverted lists are memory-mapped "
				"(it was read with FAISS_IO_FLAG_MMAP)");
}

/* The C API's io flags as faiss's C++ ones: FAISS_IO_FLAG_MMAP (1) is
 * faiss::IO_FLAG_MMAP; FAISS_IO_FLAG_READ_ONLY (2) and C++ flags given
 * directly pass through. */
int cxx_io_flags(int io_flags)
{
	int out = io_flags & ~FAISS_IO_FLAG_MMAP;

	static_assert(FAISS_IO_FLAG_READ_ONLY == faiss::IO_FLAG_READ_ONLY,
		      "read-only flags differ");
	if (io_flags & FAISS_IO_FLAG_MMAP)
		out |= faiss::IO_FLAG_MMAP;
	return out;
}

} // namespace

extern "C" {

/* error_c.h */

const char *faiss_get_last_error()
{
	if (faiss_last_exception) {
		try {
			std::rethrow_exception(faiss_last_exception);
		} catch (std::exception &e) {
			return e.what();
		} catch (...) {
			return "Unknown error";
		}
	}
	return nullptr;
}

/* index_factory_c.h */

int faiss_index_factory(FaissIndex **p_index, int d, const char *description, FaissMetricType metric)
{
	try {
		FAISS_THROW_IF_NOT_MSG(description != nullptr, "no index description");
		faiss::Index *index =
			faiss::index_factory(d, description, static_cast<faiss::MetricType>(metric));
		*p_index = reinterpret_cast<FaissIndex *>(index);
	}
	CATCH_AND_HANDLE
}

/* Index_c.h */

DEFINE_DESTRUCTOR(Index)
DEFINE_GETTER(Index, int, d)
DEFINE_GETTER(Index, int, is_trained)
DEFINE_GETTER(Index, idx_t, ntotal)
DEFINE_GETTER(Index, FaissMetricType, metric_type)

int faiss_Index_train(FaissIndex *index, idx_t n, const float *x)
{
	try {
		as_index(index)->train(n, x);
	}
	CATCH_AND_HANDLE
}

int faiss_Index_add(FaissIndex *index, idx_t n, const float *x)
{
	try {
		check_changeable(as_index(index), "add to the index");
		as_index(index)->add(n, x);
	}
	CATCH_AND_HANDLE
}

int faiss_Index_add_with_ids(FaissIndex *index, idx_t n, const float *x, const idx_t *xids)
{
	try {
		check_changeable(as_index(index), "add to the index");
		as_index(index)->add_with_ids(n, x, xids);
	}
	CATCH_AND_HANDLE
}

int faiss_Index_search(const FaissIndex *index, idx_t n, const float *x, idx_t k, float *distances,
		       idx_t *labels)
{
	try {
		as_index(index)->search(n, x, k, distances, labels);
	}
	CATCH_AND_HANDLE
}

int faiss_Index_reset(FaissIndex *index)
{
	try {
		check_changeable(as_index(index), "reset the index");
		as_index(index)->reset();
	}
	CATCH_AND_HANDLE
}

int faiss_Index_remove_ids(FaissIndex *index, const FaissIDSelector *sel, size_t *n_removed)
{
	try {
		check_changeable(as_index(index), "remove from the index");
		size_t n = as_index(index)->remove_ids(*reinterpret_cast<const faiss::IDSelector *>(sel));
		if (n_removed != nullptr)
			*n_removed = n;
	}
	CATCH_AND_HANDLE
}

/* impl/AuxIndexStructures_c.h: an IDSelectorBatch is freed with
 * faiss_IDSelector_free((FaissIDSelector *)sel), as upstream. */

DEFINE_DESTRUCTOR(IDSelector)

int faiss_IDSelector_is_member(const FaissIDSelector *sel, idx_t id)
{
	return reinterpret_cast<const faiss::IDSelector *>(sel)->is_member(id);
}

int faiss_IDSelectorBatch_new(FaissIDSelectorBatch **p_sel, size_t n, const idx_t *indices)
{
	try {
		auto sel = new faiss::IDSelectorBatch(n, indices);
		*p_sel = reinterpret_cast<FaissIDSelectorBatch *>(sel);
	}
	CATCH_AND_HANDLE
}

/* index_io_c.h */

int faiss_write_index_fname(const FaissIndex *idx, const char *fname)
{
	try {
		check_writable(as_index(idx));
		faiss::write_index(as_index(idx), fname);
	}
	CATCH_AND_HANDLE
}

int faiss_read_index_fname(const char *fname, int io_flags, FaissIndex **p_out)
{
	try {
		faiss::Index *index = faiss::read_index(fname, cxx_io_flags(io_flags));
		*p_out = reinterpret_cast<FaissIndex *>(index);
	}
	CATCH_AND_HANDLE
}

/* IndexIVF_c.h */

DEFINE_DESTRUCTOR(IndexIVF)
DEFINE_INDEX_DOWNCAST(IndexIVF)
DEFINE_GETTER(IndexIVF, size_t, nlist)
DEFINE_GETTER(IndexIVF, size_t, nprobe)
DEFINE_SETTER(IndexIVF, size_t, nprobe)

/* AutoTune_c.h */

int faiss_ParameterSpace_new(FaissParameterSpace **space)
{
	try {
		auto ps = new faiss::ParameterSpace();
		*space = reinterpret_cast<FaissParameterSpace *>(ps);
	}
	CATCH_AND_HANDLE
}

DEFINE_DESTRUCTOR(ParameterSpace)

int faiss_ParameterSpace_set_index_parameter(const FaissParameterSpace *space, FaissIndex *index,
					     const char *name, double value)
{
	try {
		FAISS_THROW_IF_NOT_MSG(name != nullptr, "no parameter name");
		reinterpret_cast<const faiss::ParameterSpace *>(space)->set_index_parameter(as_index(index),
											    name, value);
	}
	CATCH_AND_HANDLE
}

int faiss_ParameterSpace_set_index_parameters(const FaissParameterSpace *space, FaissIndex *index,
					      const char *params)
{
	try {
		FAISS_THROW_IF_NOT_MSG(params != nullptr, "no parameters");
		reinterpret_cast<const faiss::ParameterSpace *>(space)->set_index_parameters(as_index(index),
											     params);
	}
	CATCH_AND_HANDLE
}

/* faiss_threads.h */

void faiss_ragpipe_set_threads(int nthreads)
{
	if (nthreads < 1)
		nthreads = 1;
	omp_set_num_threads(nthreads);
	openblas_set_num_threads(nthreads);
}

/* faiss_ivf.h */

namespace {

faiss::IndexIVF *ivf_of(const FaissIndex *index)
{
	const faiss::Index *i = as_index(index);

	for (;;) {
		if (auto map = dynamic_cast<const faiss::IndexIDMap *>(i)) {
			i = map->index;
		} else if (auto pre = dynamic_cast<const faiss::IndexPreTransform *>(i)) {
			i = pre->index;
		} else {
			break;
		}
	}
	return const_cast<faiss::IndexIVF *>(dynamic_cast<const faiss::IndexIVF *>(i));
}

} // namespace

size_t faiss_ragpipe_nlist(const FaissIndex *index)
{
	faiss::IndexIVF *ivf = ivf_of(index);

	return ivf ? ivf->nlist : 0;
}

int faiss_ragpipe_set_nprobe(FaissIndex *index, size_t nprobe)
{
	faiss::IndexIVF *ivf = ivf_of(index);

	if (ivf == nullptr)
		return -1;
	ivf->nprobe = nprobe < 1 ? 1 : nprobe > ivf->nlist ? ivf->nlist : nprobe;
	return 0;
}


namespace {

/* scores[j * rows + i] = <block row i, query j> for rows vectors of d
 * floats and m queries (BLAS: one pass over the block for all queries). */
void block_scores(const float *block, size_t rows, const float *queries, size_t m, int d, float *scores)
{
	const float one = 1, zero = 0;
	int r = (int)rows, n = (int)m;

	sgemm_("T", "N", &r, &n, &d, &one, block, &d, queries, &d, &zero, scores, &r);
}

/* Push a block's scores into each of its queries' heaps of the k best. */
void push_block(const float *scores, size_t rows, const faiss::Index::idx_t *ids, const std::vector<int> &which,
		faiss::Index::idx_t k, float *D, faiss::Index::idx_t *I, const faiss::Index::idx_t *id_map)
{
	using C = faiss::CMin<float, faiss::Index::idx_t>;

	for (size_t j = 0; j < which.size(); j++) {
		float *hd = D + (size_t)which[j] * k;
		faiss::Index::idx_t *hi = I + (size_t)which[j] * k;
		const float *s = scores + j * rows;

		for (size_t i = 0; i < rows; i++) {
			if (s[i] > hd[0]) {
				faiss::Index::idx_t id = (faiss::Index::idx_t)i;

				/* lists mapped from the file need not be aligned */
				if (ids)
					memcpy(&id, reinterpret_cast<const char *>(ids) + i * sizeof id, sizeof id);

				faiss::heap_replace_top<C>(k, hd, hi, s[i], id_map ? id_map[id] : id);
			}
		}
	}
}

/* Rows of a block scored at a time: bounds the scores' memory. */
const size_t SLICE = 8192;

void search_flat(const faiss::IndexFlat *flat, const faiss::Index::idx_t *id_map, faiss::Index::idx_t n, const float *x,
		 faiss::Index::idx_t k, float *D, faiss::Index::idx_t *I)
{
	std::vector<int> all((size_t)n);
	std::vector<float> scores;
	const float *xb = flat->get_xb();
	int d = flat->d;

	for (faiss::Index::idx_t j = 0; j < n; j++)
		all[(size_t)j] = (int)j;
	for (size_t at = 0; at < (size_t)flat->ntotal; at += SLICE) {
		size_t rows = std::min(SLICE, (size_t)flat->ntotal - at);
		std::vector<faiss::Index::idx_t> ids(rows);

		for (size_t i = 0; i < rows; i++)
			ids[i] = (faiss::Index::idx_t)(at + i);
		scores.resize(rows * (size_t)n);
		block_scores(xb + at * (size_t)d, rows, x, (size_t)n, d, scores.data());
		push_block(scores.data(), rows, ids.data(), all, k, D, I, id_map);
	}
}

void search_ivf_flat(const faiss::IndexIVFFlat *ivf, const faiss::Index::idx_t *id_map, faiss::Index::idx_t n, const float *x,
		     faiss::Index::idx_t k, size_t nprobe, float *D, faiss::Index::idx_t *I)
{
	size_t nlist = ivf->nlist;
	int d = ivf->d;
	std::vector<std::vector<int>> probing(nlist);
	std::vector<float> scores, q;

	nprobe = std::max<size_t>(1, std::min(nprobe, nlist));
	if (nprobe == nlist) {
		for (size_t l = 0; l < nlist; l++)
			for (faiss::Index::idx_t j = 0; j < n; j++)
				probing[l].push_back((int)j);
	} else {
		std::vector<float> cs((size_t)n * nprobe);
		std::vector<faiss::Index::idx_t> cl((size_t)n * nprobe);
		auto flatq = dynamic_cast<const faiss::IndexFlat *>(ivf->quantizer);

		if (flatq != nullptr && flatq->metric_type == faiss::METRIC_INNER_PRODUCT) {
			using C = faiss::CMin<float, faiss::Index::idx_t>;

			for (faiss::Index::idx_t j = 0; j < n; j++)
				faiss::heap_heapify<C>(nprobe, cs.data() + (size_t)j * nprobe, cl.data() + (size_t)j * nprobe);
			search_flat(flatq, nullptr, n, x, (faiss::Index::idx_t)nprobe, cs.data(), cl.data());
		} else {
			ivf->quantizer->search(n, x, (faiss::Index::idx_t)nprobe, cs.data(), cl.data());
		}
		for (faiss::Index::idx_t j = 0; j < n; j++)
			for (size_t p = 0; p < nprobe; p++) {
				faiss::Index::idx_t l = cl[(size_t)j * nprobe + p];

				if (l >= 0 && (size_t)l < nlist)
					probing[(size_t)l].push_back((int)j);
			}
	}
	for (size_t l = 0; l < nlist; l++) {
		const std::vector<int> &which = probing[l];
		size_t rows = which.empty() ? 0 : ivf->invlists->list_size(l);

		if (rows == 0)
			continue;
		faiss::InvertedLists::ScopedCodes codes(ivf->invlists, l);
		faiss::InvertedLists::ScopedIds ids(ivf->invlists, l);
		const float *xb = reinterpret_cast<const float *>(codes.get());

		q.resize(which.size() * (size_t)d);
		for (size_t j = 0; j < which.size(); j++)
			std::copy(x + (size_t)which[j] * d, x + (size_t)(which[j] + 1) * d, q.begin() + (long)(j * (size_t)d));
		for (size_t at = 0; at < rows; at += SLICE) {
			size_t r = std::min(SLICE, rows - at);

			scores.resize(r * which.size());
			block_scores(reinterpret_cast<const float *>(reinterpret_cast<const char *>(xb)
								    + at * (size_t)d * sizeof(float)),
				     r, q.data(), which.size(), d, scores.data());
			push_block(scores.data(), r,
				   reinterpret_cast<const faiss::Index::idx_t *>(
					   reinterpret_cast<const char *>(ids.get()) + at * sizeof(faiss::Index::idx_t)),
				   which, k, D, I, id_map);
		}
	}
}

} // namespace

int faiss_ragpipe_search(const FaissIndex *index, idx_t n, const float *x, idx_t k, size_t nprobe, float *distances,
			 idx_t *labels)
{
	try {
		using C = faiss::CMin<float, faiss::Index::idx_t>;
		const faiss::Index *i = as_index(index);
		const faiss::Index::idx_t *id_map = nullptr;
		auto map = dynamic_cast<const faiss::IndexIDMap *>(i);

		if (map != nullptr) {
			id_map = map->id_map.data();
			i = map->index;
		}
		auto flat = dynamic_cast<const faiss::IndexFlat *>(i);
		auto ivf = dynamic_cast<const faiss::IndexIVFFlat *>(i);

		if (i->metric_type != faiss::METRIC_INNER_PRODUCT || (flat == nullptr && ivf == nullptr)
		    || (ivf != nullptr && (ivf->code_size != sizeof(float) * (size_t)ivf->d
					   || dynamic_cast<const faiss::IndexIVFFlatDedup *>(ivf) != nullptr))) {
			auto ivf_any = ivf_of(index);

			if (ivf_any != nullptr)
				ivf_any->nprobe = std::max<size_t>(1, std::min(nprobe, ivf_any->nlist));
			as_index(index)->search(n, x, k, distances, labels);
		} else {
			for (faiss::Index::idx_t j = 0; j < n; j++)
				faiss::heap_heapify<C>(k, distances + j * k, labels + j * k);
			if (flat != nullptr)
				search_flat(flat, id_map, n, x, k, distances, labels);
			else
				search_ivf_flat(ivf, id_map, n, x, k, nprobe, distances, labels);
			for (faiss::Index::idx_t j = 0; j < n; j++)
				faiss::heap_reorder<C>(k, distances + j * k, labels + j * k);
		}
	}
	CATCH_AND_HANDLE
}

} // extern "C"
