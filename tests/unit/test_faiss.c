/* Unit tests of common/faiss_c.cpp, ragpipe's own implementation of the part
 * of faiss's C API it calls: index kinds, ids, search, remove, reset, files
 * (with and without mmap), errors, parameters and threads. Inner product on
 * unit vectors, d = 32, checked against a brute-force search. */
#include "faiss_threads.h"
#include "unit.h"

#include <faiss/c_api/AutoTune_c.h>
#include <faiss/c_api/IndexIVF_c.h>
#include <faiss/c_api/Index_c.h>
#include <faiss/c_api/error_c.h>
#include <faiss/c_api/impl/AuxIndexStructures_c.h>
#include <faiss/c_api/index_factory_c.h>
#include <faiss/c_api/index_io_c.h>

#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define D 32
#define NB 640	/* database vectors; also the training set (>= 39 * nlist) */
#define NQ 20	/* queries: the first half are database vectors */
#define K 10
#define NLIST 16

static float xb[NB * D], xq[NQ * D];
static idx_t ids[NB];
static char dir[64];	/* a temporary directory for the index files */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static double rnd(void)	/* uniform in [-1, 1) */
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (double)(rng_state >> 11) / (double)(1ull << 52) - 1;
}

static void random_unit(float *v)
{
	double s = 0;
	int i;

	for (i = 0; i < D; i++) {
		v[i] = (float)rnd();
		s += (double)v[i] * v[i];
	}
	for (i = 0; i < D; i++)
		v[i] = (float)(v[i] / sqrt(s));
}

static void make_data(void)
{
	int i;

	for (i = 0; i < NB; i++) {
		random_unit(xb + (size_t)i * D);
		/* arbitrary, sparse, some beyond 32 bits */
		ids[i] = 1000 + 3 * (idx_t)i + (i % 2 ? (idx_t)1 << 40 : 0);
	}
	for (i = 0; i < NQ; i++) {
		if (i < NQ / 2)
			memcpy(xq + (size_t)i * D, xb + (size_t)(i * 37) * D, sizeof(float) * D);
		else
			random_unit(xq + (size_t)i * D);
	}
}

static double ip(const float *a, const float *b)
{
	double s = 0;
	int i;

	for (i = 0; i < D; i++)
		s += (double)a[i] * b[i];
	return s;
}

static int id_pos(idx_t id)	/* index in xb of id, or -1 */
{
	int i;

	for (i = 0; i < NB; i++)
		if (ids[i] == id)
			return i;
	return -1;
}

/* Brute-force top k by inner product over the vectors with keep[i] set
 * (all when keep is NULL), labels -1 past the end. */
static void brute(const float *q, const char *keep, int k, float *dist, idx_t *lab)
{
	int i, j, n = 0;

	for (i = 0; i < NB; i++) {
		double s;

		if (keep != NULL && !keep[i])
			continue;
		s = ip(q, xb + (size_t)i * D);
		for (j = n < k ? n++ : k; j > 0 && dist[j - 1] < s; j--) {
			if (j < k) {
				dist[j] = dist[j - 1];
				lab[j] = lab[j - 1];
			}
		}
		if (j < k) {
			dist[j] = (float)s;
			lab[j] = ids[i];
		}
	}
	for (; n < k; n++) {
		dist[n] = -INFINITY;
		lab[n] = -1;
	}
}

/* Whether idx answers the NQ queries exactly as the brute-force search over
 * keep does (same ids in the same order, scores within 1e-5). */
static int exact(const FaissIndex *idx, const char *keep, int k)
{
	float dist[NQ * NB], bd[NB];
	idx_t lab[NQ * NB], bl[NB];
	int q, j, ok = 1;

	if (!CHECK_INT(faiss_Index_search(idx, NQ, xq, k, dist, lab), 0))
		return 0;
	for (q = 0; q < NQ; q++) {
		brute(xq + (size_t)q * D, keep, k, bd, bl);
		for (j = 0; j < k; j++) {
			idx_t got = lab[(size_t)q * k + j];

			if (got != bl[j] || (got >= 0 && fabsf(dist[(size_t)q * k + j] - bd[j]) > 1e-5f)) {
				printf("# query %d rank %d: got id %lld score %g, expected id %lld score %g\n", q, j,
				       (long long)got, dist[(size_t)q * k + j], (long long)bl[j], bd[j]);
				ok = 0;
				break;
			}
		}
	}
	return ok;
}

/* A trained index of kind desc holding all of xb under ids[], nprobe = nlist
 * for IVF; NULL (with a failed check) when something fails. */
static FaissIndex *build(const char *desc)
{
	FaissIndex *idx = NULL;
	FaissIndexIVF *ivf;

	if (!CHECK_INT(faiss_index_factory(&idx, D, desc, METRIC_INNER_PRODUCT), 0) || !CHECK(idx != NULL))
		return NULL;
	if (!faiss_Index_is_trained(idx) && !CHECK_INT(faiss_Index_train(idx, NB, xb), 0))
		goto fail;
	if (!CHECK_INT(faiss_Index_add_with_ids(idx, NB, xb, ids), 0))
		goto fail;
	ivf = faiss_IndexIVF_cast(idx);
	if (ivf != NULL)
		faiss_IndexIVF_set_nprobe(ivf, faiss_IndexIVF_nlist(ivf));
	return idx;
fail:
	printf("# %s: %s\n", desc, faiss_get_last_error());
	faiss_Index_free(idx);
	return NULL;
}

static const char *in_dir(const char *name)
{
	static char path[4][128];
	static int k;

	k = (k + 1) % 4;
	snprintf(path[k], sizeof path[k], "%s/%s", dir, name);
	return path[k];
}

/* Whether a and b answer the NQ queries the same: same ids, same scores. */
static int same_answers(const FaissIndex *a, const FaissIndex *b)
{
	float da[NQ * K], db[NQ * K];
	idx_t la[NQ * K], lb[NQ * K];

	if (!CHECK_INT(faiss_Index_search(a, NQ, xq, K, da, la), 0) ||
	    !CHECK_INT(faiss_Index_search(b, NQ, xq, K, db, lb), 0))
		return 0;
	return memcmp(la, lb, sizeof la) == 0 && memcmp(da, db, sizeof da) == 0;
}

TEST(no_error_before_a_failure)
{
	CHECK(faiss_get_last_error() == NULL);
}

TEST(factory_kinds)
{
	static const char *const descs[] = { "Flat", "IDMap,Flat", "IVF16,Flat", "IVF16,SQ8" };
	size_t i;

	for (i = 0; i < sizeof descs / sizeof descs[0]; i++) {
		FaissIndex *idx = NULL;
		FaissIndexIVF *ivf;
		int is_ivf = strncmp(descs[i], "IVF", 3) == 0;

		if (!CHECK_INT(faiss_index_factory(&idx, D, descs[i], METRIC_INNER_PRODUCT), 0))
			continue;
		CHECK_INT(faiss_Index_d(idx), D);
		CHECK_INT(faiss_Index_ntotal(idx), 0);
		CHECK_INT(faiss_Index_metric_type(idx), METRIC_INNER_PRODUCT);
		CHECK_INT(faiss_Index_is_trained(idx), !is_ivf);
		ivf = faiss_IndexIVF_cast(idx);
		CHECK_INT(ivf != NULL, is_ivf);
		if (ivf != NULL) {
			CHECK_INT(faiss_IndexIVF_nlist(ivf), NLIST);
			CHECK_INT(faiss_IndexIVF_nprobe(ivf), 1);
			faiss_IndexIVF_set_nprobe(ivf, 7);
			CHECK_INT(faiss_IndexIVF_nprobe(ivf), 7);
		}
		faiss_Index_free(idx);
	}
}

TEST(flat_search_is_exact)
{
	FaissIndex *idx = build("IDMap,Flat");

	if (!CHECK(idx != NULL))
		return;
	CHECK_INT(faiss_Index_ntotal(idx), NB);
	CHECK(exact(idx, NULL, K));
	CHECK(exact(idx, NULL, 1));
	faiss_Index_free(idx);
}

/* A plain Flat index numbers its vectors 0.. itself: no ids of one's own. */
TEST(flat_without_idmap_takes_no_ids)
{
	FaissIndex *idx = NULL;
	float dist[1];
	idx_t lab[1];

	if (!CHECK_INT(faiss_index_factory(&idx, D, "Flat", METRIC_INNER_PRODUCT), 0))
		return;
	CHECK_INT(faiss_Index_add_with_ids(idx, NB, xb, ids), FAISS_EXCEPT);
	CHECK(faiss_get_last_error() != NULL && strstr(faiss_get_last_error(), "not implemented") != NULL);
	CHECK_INT(faiss_Index_ntotal(idx), 0);
	CHECK_INT(faiss_Index_add(idx, NB, xb), 0);
	CHECK_INT(faiss_Index_search(idx, 1, xb + 5 * D, 1, dist, lab), 0);
	CHECK_INT(lab[0], 5);
	faiss_Index_free(idx);
}

TEST(ivf_flat_with_all_lists_is_exact)
{
	FaissIndex *idx = build("IVF16,Flat");

	if (!CHECK(idx != NULL))
		return;
	CHECK_INT(faiss_Index_is_trained(idx), 1);
	CHECK_INT(faiss_Index_ntotal(idx), NB);
	CHECK(exact(idx, NULL, K));
	faiss_Index_free(idx);
}

TEST(ivf_sq8_is_close)
{
	FaissIndex *idx = build("IVF16,SQ8");
	float dist[NQ * K];
	idx_t lab[NQ * K];
	int q, j;

	if (!CHECK(idx != NULL))
		return;
	if (!CHECK_INT(faiss_Index_search(idx, NQ, xq, K, dist, lab), 0))
		goto out;
	for (q = 0; q < NQ; q++) {
		if (q < NQ / 2)	/* a database vector finds itself first */
			CHECK_INT(lab[q * K], ids[q * 37]);
		for (j = 0; j < K; j++) {
			int pos = id_pos(lab[q * K + j]);

			if (!CHECK(pos >= 0))
				break;
			/* 8 bits a component: scores within 0.02 of the exact ones */
			CHECK(fabs(dist[q * K + j] - ip(xq + (size_t)q * D, xb + (size_t)pos * D)) < 0.02);
			if (j > 0)
				CHECK(dist[q * K + j] <= dist[q * K + j - 1]);
		}
	}
out:
	faiss_Index_free(idx);
}

static void check_remove(const char *desc, int exact_kind)
{
	FaissIndex *idx = build(desc);
	FaissIDSelectorBatch *sel = NULL;
	static idx_t gone[NB + 2];
	static char keep[NB];
	float dist[NQ * NB];
	idx_t lab[NQ * NB];
	size_t n = 0, nremoved = 12345;
	int i;

	if (!CHECK(idx != NULL))
		return;
	for (i = 0; i < NB; i++) {
		keep[i] = i % 3 != 0 && i != 37;	/* 37: the best answer of query 1 */
		if (!keep[i])
			gone[n++] = ids[i];
	}
	gone[n] = gone[0];		/* repeated */
	gone[n + 1] = 999999999;	/* never added */
	if (!CHECK_INT(faiss_IDSelectorBatch_new(&sel, n + 2, gone), 0))
		goto out;
	CHECK_INT(faiss_IDSelector_is_member((FaissIDSelector *)sel, gone[1]), 1);
	CHECK_INT(faiss_IDSelector_is_member((FaissIDSelector *)sel, ids[1]), 0);
	CHECK_INT(faiss_Index_remove_ids(idx, (FaissIDSelector *)sel, &nremoved), 0);
	CHECK_INT(nremoved, n);
	CHECK_INT(faiss_Index_ntotal(idx), NB - (idx_t)n);
	/* everything that is left, in order: never a removed id */
	if (CHECK_INT(faiss_Index_search(idx, NQ, xq, NB, dist, lab), 0)) {
		int bad = 0, found = 0;

		for (i = 0; i < NQ * NB; i++) {
			int pos = lab[i] < 0 ? -1 : id_pos(lab[i]);

			bad += lab[i] >= 0 && (pos < 0 || !keep[pos]);
			found += lab[i] >= 0;
		}
		CHECK_INT(bad, 0);
		CHECK_INT(found, NQ * (NB - (idx_t)n));
	}
	if (exact_kind)
		CHECK(exact(idx, keep, K));
	/* again: nothing left to remove; n_removed may be NULL */
	CHECK_INT(faiss_Index_remove_ids(idx, (FaissIDSelector *)sel, &nremoved), 0);
	CHECK_INT(nremoved, 0);
	CHECK_INT(faiss_Index_remove_ids(idx, (FaissIDSelector *)sel, NULL), 0);
	CHECK_INT(faiss_Index_ntotal(idx), NB - (idx_t)n);
	/* the removed come back under their ids */
	for (i = 0; i < NB; i++)
		if (!keep[i])
			CHECK_INT(faiss_Index_add_with_ids(idx, 1, xb + (size_t)i * D, ids + i), 0);
	CHECK_INT(faiss_Index_ntotal(idx), NB);
	if (exact_kind)
		CHECK(exact(idx, NULL, K));
out:
	faiss_IDSelector_free((FaissIDSelector *)sel);
	faiss_Index_free(idx);
}

TEST(remove_flat)
{
	check_remove("IDMap,Flat", 1);
}

TEST(remove_ivf_flat)
{
	check_remove("IVF16,Flat", 1);
}

TEST(remove_ivf_sq8)
{
	check_remove("IVF16,SQ8", 0);
}

TEST(reset_empties)
{
	FaissIndex *idx = build("IVF16,Flat");
	float dist[K];
	idx_t lab[K];
	int j, none = 1;

	if (!CHECK(idx != NULL))
		return;
	CHECK_INT(faiss_Index_reset(idx), 0);
	CHECK_INT(faiss_Index_ntotal(idx), 0);
	CHECK_INT(faiss_Index_is_trained(idx), 1);
	CHECK_INT(faiss_Index_search(idx, 1, xq, K, dist, lab), 0);
	for (j = 0; j < K; j++)
		none &= lab[j] == -1;
	CHECK(none);
	CHECK_INT(faiss_Index_add_with_ids(idx, NB, xb, ids), 0);
	CHECK(exact(idx, NULL, K));
	faiss_Index_free(idx);
}

/* Written, then read back with each of flags[]: the same answers. Mmapped
 * IVF lists are read-only: adding, removing, resetting and writing fail
 * cleanly; and they outlive the file's name. */
static void check_io(const char *desc, const char *file, int mmap_works)
{
	static const int flags[] = { 0, FAISS_IO_FLAG_MMAP, FAISS_IO_FLAG_MMAP | FAISS_IO_FLAG_READ_ONLY,
				     FAISS_IO_FLAG_READ_ONLY };
	FaissIndex *idx = build(desc);
	char path[128];
	size_t i;

	snprintf(path, sizeof path, "%s", in_dir(file));
	if (!CHECK(idx != NULL))
		return;
	if (faiss_IndexIVF_cast(idx) != NULL)
		faiss_IndexIVF_set_nprobe(faiss_IndexIVF_cast(idx), 5);
	if (!CHECK_INT(faiss_write_index_fname(idx, path), 0))
		goto out;
	for (i = 0; i < sizeof flags / sizeof flags[0]; i++) {
		FaissIndex *back = NULL;
		int mapped = mmap_works && (flags[i] & FAISS_IO_FLAG_MMAP);
		int r;

		if (!CHECK_INT(faiss_read_index_fname(path, flags[i], &back), 0)) {
			printf("# flags %d: %s\n", flags[i], faiss_get_last_error());
			continue;
		}
		CHECK_INT(faiss_Index_d(back), D);
		CHECK_INT(faiss_Index_ntotal(back), NB);
		CHECK_INT(faiss_Index_metric_type(back), METRIC_INNER_PRODUCT);
		if (faiss_IndexIVF_cast(idx) != NULL && CHECK(faiss_IndexIVF_cast(back) != NULL))
			CHECK_INT(faiss_IndexIVF_nprobe(faiss_IndexIVF_cast(back)), 5);
		CHECK(same_answers(idx, back));
		r = faiss_Index_add_with_ids(back, 1, xb, ids);
		if (mapped) {
			FaissIDSelectorBatch *sel = NULL;
			size_t nremoved = 77;

			CHECK_INT(r, FAISS_EXCEPT);
			CHECK(strstr(faiss_get_last_error(), "memory-mapped") != NULL);
			CHECK_INT(faiss_IDSelectorBatch_new(&sel, 1, ids), 0);
			CHECK_INT(faiss_Index_remove_ids(back, (FaissIDSelector *)sel, &nremoved), FAISS_EXCEPT);
			CHECK_INT(nremoved, 77);
			faiss_IDSelector_free((FaissIDSelector *)sel);
			CHECK_INT(faiss_Index_reset(back), FAISS_EXCEPT);
			CHECK_INT(faiss_Index_ntotal(back), NB);
			/* nor written, not even over its own file, which stays whole */
			CHECK_INT(faiss_write_index_fname(back, in_dir("copy.faiss")), FAISS_EXCEPT);
			CHECK(access(in_dir("copy.faiss"), F_OK) != 0);
			CHECK_INT(faiss_write_index_fname(back, path), FAISS_EXCEPT);
			CHECK(same_answers(idx, back));
		} else {
			CHECK_INT(r, 0);
			CHECK_INT(faiss_Index_ntotal(back), NB + 1);
		}
		faiss_Index_free(back);
	}
	/* a mapped index keeps answering after its file is replaced */
	if (mmap_works) {
		FaissIndex *back = NULL;

		if (CHECK_INT(faiss_read_index_fname(path, FAISS_IO_FLAG_MMAP, &back), 0)) {
			CHECK_INT(unlink(path), 0);
			CHECK_INT(faiss_write_index_fname(idx, path), 0);
			CHECK(same_answers(idx, back));
			faiss_Index_free(back);
		}
	}
out:
	unlink(path);
	faiss_Index_free(idx);
}

TEST(io_flat)
{
	check_io("IDMap,Flat", "flat.faiss", 0);
}

TEST(io_ivf_flat)
{
	check_io("IVF16,Flat", "ivfflat.faiss", 1);
}

TEST(io_ivf_sq8)
{
	check_io("IVF16,SQ8", "ivfsq8.faiss", 1);
}

TEST(errors_are_reported)
{
	FaissIndex *idx = NULL;
	const char *missing = in_dir("missing.faiss"), *junk = in_dir("junk.faiss");
	const char *msg;
	FILE *f;

	CHECK_INT(faiss_read_index_fname(missing, 0, &idx), FAISS_EXCEPT);
	CHECK(idx == NULL);
	msg = faiss_get_last_error();
	if (CHECK(msg != NULL)) {
		CHECK(strstr(msg, missing) != NULL);
		CHECK(strstr(msg, "No such file") != NULL);
	}
	CHECK_INT(faiss_read_index_fname(missing, FAISS_IO_FLAG_MMAP, &idx), FAISS_EXCEPT);
	CHECK(idx == NULL);

	f = fopen(junk, "wb");
	if (CHECK(f != NULL)) {
		fputs("not an index at all, but long enough to read a header from\n", f);
		fclose(f);
		CHECK(faiss_read_index_fname(junk, 0, &idx) != 0);
		CHECK(idx == NULL);
		CHECK(faiss_get_last_error() != NULL && faiss_get_last_error()[0] != '\0');
		unlink(junk);
	}

	CHECK_INT(faiss_index_factory(&idx, D, "IVF16,Bogus", METRIC_INNER_PRODUCT), FAISS_EXCEPT);
	CHECK(idx == NULL);
	msg = faiss_get_last_error();
	CHECK(msg != NULL && strstr(msg, "Bogus") != NULL);
	CHECK(faiss_index_factory(&idx, D, "", METRIC_INNER_PRODUCT) != 0);
	CHECK(idx == NULL);
	CHECK(faiss_index_factory(&idx, D, NULL, METRIC_INNER_PRODUCT) != 0);
	CHECK(idx == NULL);

	/* an untrained IVF index takes no vectors */
	if (CHECK_INT(faiss_index_factory(&idx, D, "IVF16,Flat", METRIC_INNER_PRODUCT), 0)) {
		CHECK_INT(faiss_Index_add_with_ids(idx, NB, xb, ids), FAISS_EXCEPT);
		CHECK(strstr(faiss_get_last_error(), "is_trained") != NULL);
		CHECK_INT(faiss_Index_ntotal(idx), 0);
		CHECK(faiss_write_index_fname(idx, "/nonexistent-dir/x.faiss") != 0);
		faiss_Index_free(idx);
	}
	/* HNSW cannot remove */
	idx = NULL;
	if (CHECK_INT(faiss_index_factory(&idx, D, "HNSW8", METRIC_INNER_PRODUCT), 0)) {
		FaissIDSelectorBatch *sel = NULL;

		CHECK_INT(faiss_Index_add(idx, 50, xb), 0);
		CHECK_INT(faiss_IDSelectorBatch_new(&sel, 1, ids), 0);
		CHECK(faiss_Index_remove_ids(idx, (FaissIDSelector *)sel, NULL) != 0);
		CHECK_INT(faiss_Index_ntotal(idx), 50);
		faiss_IDSelector_free((FaissIDSelector *)sel);
		faiss_Index_free(idx);
	}
}

TEST(parameter_space)
{
	FaissIndex *idx = NULL;
	FaissParameterSpace *ps = NULL;
	FaissIndexIVF *ivf;

	if (!CHECK_INT(faiss_ParameterSpace_new(&ps), 0))
		return;
	if (CHECK_INT(faiss_index_factory(&idx, D, "IVF16,Flat", METRIC_INNER_PRODUCT), 0)) {
		ivf = faiss_IndexIVF_cast(idx);
		CHECK_INT(faiss_ParameterSpace_set_index_parameter(ps, idx, "nprobe", 4), 0);
		CHECK_INT(faiss_IndexIVF_nprobe(ivf), 4);
		CHECK_INT(faiss_ParameterSpace_set_index_parameters(ps, idx, "nprobe=9"), 0);
		CHECK_INT(faiss_IndexIVF_nprobe(ivf), 9);
		CHECK(faiss_ParameterSpace_set_index_parameter(ps, idx, "no_such_parameter", 1) != 0);
		CHECK(faiss_get_last_error() != NULL && strstr(faiss_get_last_error(), "no_such_parameter"));
		faiss_Index_free(idx);
	}
	faiss_ParameterSpace_free(ps);
}

TEST(threads)
{
	FaissIndex *idx = build("IVF16,Flat");

	if (!CHECK(idx != NULL))
		return;
	faiss_ragpipe_set_threads(2);
	CHECK_INT(omp_get_max_threads(), 2);
	CHECK(exact(idx, NULL, K));
	faiss_ragpipe_set_threads(0);
	CHECK_INT(omp_get_max_threads(), 1);
	CHECK(exact(idx, NULL, K));
	faiss_Index_free(idx);
}

int main(void)
{
	faiss_ragpipe_set_threads(1);
	make_data();
	snprintf(dir, sizeof dir, "/tmp/ragpipe-faiss-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		printf("Bail out! cannot make a temporary directory\n");
		return 1;
	}
	RUN(no_error_before_a_failure);
	RUN(factory_kinds);
	RUN(flat_search_is_exact);
	RUN(flat_without_idmap_takes_no_ids);
	RUN(ivf_flat_with_all_lists_is_exact);
	RUN(ivf_sq8_is_close);
	RUN(remove_flat);
	RUN(remove_ivf_flat);
	RUN(remove_ivf_sq8);
	RUN(reset_empties);
	RUN(io_flat);
	RUN(io_ivf_flat);
	RUN(io_ivf_sq8);
	RUN(errors_are_reported);
	RUN(parameter_space);
	RUN(threads);
	rmdir(dir);
	return unit_done();
}
