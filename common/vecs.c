#include "vecs.h"
#include "faiss_threads.h"
#include "jl.h"
#include "sb.h"

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <faiss/c_api/Index_c.h>
#include <faiss/c_api/error_c.h>
#include <faiss/c_api/index_factory_c.h>
#include <faiss/c_api/index_io_c.h>

/* Below this many vectors an exact search is fast enough and needs no
 * training; above it an inverted file. */
#define VECS_FLAT_MAX 50000

struct vecs {
	int changed;
	int rebuild;
	int asked;	/* the type was named by the user, now or before */
	char type[128];
};

void vecs_default_type(long n, char *out, size_t outlen)
{
	long nlist = 16;

	if (n <= VECS_FLAT_MAX) {
		snprintf(out, outlen, "Flat");
		return;
	}
	/* about sqrt(n) lists: training stays a few seconds without SIMD, and
	 * a query that probes a few dozen lists still reads a small part */
	while (nlist * nlist < n)
		nlist *= 2;
	snprintf(out, outlen, "IVF%ld,Flat", nlist);
}

vecs *vecs_open(idx *x, const char *type, int rebuild, char *err, size_t errlen)
{
	vecs *v = calloc(1, sizeof *v);

	(void)err;
	(void)errlen;
	if (v == NULL)
		return NULL;
	/* a type nobody asked for follows the index's size (chosen at save) */
	v->asked = type != NULL || idx_type_asked(x);
	if (type)
		snprintf(v->type, sizeof v->type, "%s", type);
	else if (v->asked)
		snprintf(v->type, sizeof v->type, "%s", idx_type(x));
	v->rebuild = rebuild || (type && strcmp(type, idx_type(x)) != 0);
	/* two cores: faiss's own threads would only fight each other and us */
	faiss_ragpipe_set_threads(1);
	return v;
}

void vecs_close(vecs *v)
{
	free(v);
}

int vecs_use_dim(vecs *v, int dim, const char *type, char *err, size_t errlen)
{
	(void)v;
	(void)dim;
	(void)type;
	(void)err;
	(void)errlen;
	return 0;
}

void vecs_remove(void *ctx, int64_t id)
{
	vecs *v = ctx;

	(void)id;
	v->changed = 1;
}

int vecs_add(vecs *v, int64_t id, const float *vec, char *err, size_t errlen)
{
	(void)id;
	(void)vec;
	(void)err;
	(void)errlen;
	v->changed = 1;
	return 0;
}

/* Vectors read from the database a slice at a time: memory stays about one
 * index's worth, not two. */
#define VECS_SLICE 16384

struct fill {
	float *x;
	int64_t *ids;
	long n, cap;
	int dim;
	FaissIndex *index;	/* add each full slice here; NULL: only sample */
	/* the training sample: the cap vectors of smallest hash, a max-heap of
	 * slots; its content, not the order of the rows, decides it, so that
	 * an index merged from shards trains as one built serially would */
	uint64_t *hash;
	int32_t *heap;
	int failed;
};

static uint64_t vector_hash(const float *v, int dim)
{
	uint64_t h = 0x243F6A8885A308D3ULL;
	uint32_t w;
	int i;

	for (i = 0; i < dim; i++) {
		memcpy(&w, &v[i], sizeof w);
		h = (h ^ w) * 0x9E3779B97F4A7C15ULL;
		h ^= h >> 29;
	}
	return h;
}

static void heap_down(struct fill *f, long i)
{
	for (;;) {
		long l = 2 * i + 1, r = l + 1, m = i;
		int32_t t;

		if (l < f->n && f->hash[f->heap[l]] > f->hash[f->heap[m]])
			m = l;
		if (r < f->n && f->hash[f->heap[r]] > f->hash[f->heap[m]])
			m = r;
		if (m == i)
			return;
		t = f->heap[i];
		f->heap[i] = f->heap[m];
		f->heap[m] = t;
		i = m;
	}
}

static void heap_up(struct fill *f, long i)
{
	while (i > 0 && f->hash[f->heap[(i - 1) / 2]] < f->hash[f->heap[i]]) {
		int32_t t = f->heap[i];

		f->heap[i] = f->heap[(i - 1) / 2];
		f->heap[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
}

static int take_sample(void *ctx, int64_t id, const float *vec)
{
	struct fill *f = ctx;
	uint64_t h = vector_hash(vec, f->dim);
	int32_t slot;

	(void)id;
	if (f->n < f->cap) {
		slot = (int32_t)f->n;
		f->heap[f->n] = slot;
		f->hash[slot] = h;
		heap_up(f, f->n++);
	} else if (h < f->hash[f->heap[0]]) {
		slot = f->heap[0];
		f->hash[slot] = h;
		heap_down(f, 0);
	} else {
		return 0;
	}
	memcpy(f->x + (size_t)slot * (size_t)f->dim, vec, (size_t)f->dim * sizeof *vec);
	return 0;
}

static int cmp_slot_hash(const void *a, const void *b, void *hash)
{
	uint64_t x = ((const uint64_t *)hash)[*(const int32_t *)a], y = ((const uint64_t *)hash)[*(const int32_t *)b];

	return x < y ? -1 : x > y;
}

/* Put the sample in hash order (k-means starts from the first rows), in
 * place: row i takes the row of slot order[i], cycle by cycle. */
static int sort_sample(struct fill *f)
{
	size_t row = (size_t)f->dim * sizeof *f->x;
	float *tmp = malloc(row);
	long i;

	if (tmp == NULL)
		return -1;
	qsort_r(f->heap, (size_t)f->n, sizeof *f->heap, cmp_slot_hash, f->hash);
	for (i = 0; i < f->n; i++) {
		long j = i, k;

		if (f->heap[i] < 0 || f->heap[i] == i)
			continue;
		memcpy(tmp, f->x + (size_t)i * (size_t)f->dim, row);
		while ((k = f->heap[j]) != i) {
			memcpy(f->x + (size_t)j * (size_t)f->dim, f->x + (size_t)k * (size_t)f->dim, row);
			f->heap[j] = -1;
			j = k;
		}
		memcpy(f->x + (size_t)j * (size_t)f->dim, tmp, row);
		f->heap[j] = -1;
	}
	free(tmp);
	return 0;
}

static int flush_slice(struct fill *f)
{
	if (f->n > 0 && f->index && faiss_Index_add_with_ids(f->index, f->n, f->x, f->ids) != 0) {
		f->failed = 1;
		return -1;
	}
	f->n = 0;
	return 0;
}

static int take_vector(void *ctx, int64_t id, const float *vec)
{
	struct fill *f = ctx;

	if (f->n == f->cap && flush_slice(f) < 0)
		return -1;
	memcpy(f->x + (size_t)f->n * (size_t)f->dim, vec, (size_t)f->dim * sizeof *vec);
	f->ids[f->n++] = id;
	return 0;
}

static int faiss_fail(char *err, size_t errlen, const char *what)
{
	const char *m = faiss_get_last_error(), *p;

	/* "Error in <function> at <file>:<line>: Error: '<cond>' failed: <reason>":
	 * the reason is what a user can act on */
	if (m && (p = strstr(m, "' failed: ")) != NULL)
		m = p + 10;
	else if (m && strncmp(m, "Error in ", 9) == 0 && (p = strstr(m, ".cpp:")) != NULL && (p = strstr(p, ": ")) != NULL)
		m = p + 2;

	snprintf(err, errlen, "faiss: %s: %s", what, m ? m : "failed");
	return -1;
}

static int fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return -1;
	r = fsync(fd);
	close(fd);
	return r;
}

int vecs_save(vecs *v, idx *x, char *err, size_t errlen)
{
	idx_stats st;
	struct fill f = { 0 };
	FaissIndex *index = NULL;
	char path[4096], tmp[4200], dir[4096], *slash;
	long long g = idx_generation(x);
	int r = -1;

	if (idx_stats_get(x, &st) < 0) {
		snprintf(err, errlen, "cannot read the index's state");
		return -1;
	}
	if (!v->asked)
		vecs_default_type(st.chunks, v->type, sizeof v->type);
	idx_faiss_path(x, path, sizeof path);
	/* every committed change moved the generation on */
	if (!v->rebuild && st.faiss_generation == g && strcmp(v->type, st.index_type) == 0
	    && access(path, R_OK) == 0)
		return 0;
	if (st.dim <= 0)
		return 0;	/* nothing indexed yet */
	f.dim = st.dim;
	f.cap = VECS_SLICE;
	{
		/* k-means wants at least 39 points a list (faiss warns below that) */
		long nlist;

		if (sscanf(v->type, "IVF%ld", &nlist) == 1 && nlist > 0 && nlist <= 1 << 20 && 64 * nlist > f.cap)
			f.cap = 64 * nlist;
	}
	f.x = malloc((size_t)f.cap * (size_t)f.dim * sizeof *f.x);
	f.ids = malloc((size_t)f.cap * sizeof *f.ids);
	if (f.x == NULL || f.ids == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	{
		/* ids are chunk row ids: an inverted file keeps them itself, any
		 * other index needs an id map around it */
		char factory[160];

		snprintf(factory, sizeof factory, "%s%s",
			 strncmp(v->type, "IVF", 3) == 0 || strncmp(v->type, "IDMap", 5) == 0 ? "" : "IDMap,", v->type);
		if (faiss_index_factory(&index, f.dim, factory, METRIC_INNER_PRODUCT) != 0) {
			faiss_fail(err, errlen, v->type);
			goto out;
		}
	}
	if (!faiss_Index_is_trained(index)) {
		f.hash = malloc((size_t)f.cap * sizeof *f.hash);
		f.heap = malloc((size_t)f.cap * sizeof *f.heap);
		if (f.hash == NULL || f.heap == NULL) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		if (idx_each_vector(x, take_sample, &f) < 0) {
			snprintf(err, errlen, "cannot read the stored vectors");
			goto out;
		}
		if (sort_sample(&f) < 0) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		if (f.n == 0) {
			snprintf(err, errlen, "faiss: %s needs vectors to train on", v->type);
			goto out;
		}
		if (faiss_Index_train(index, f.n, f.x) != 0) {
			faiss_fail(err, errlen, "training");
			goto out;
		}
		f.n = 0;
	}
	f.index = index;
	if (idx_each_vector(x, take_vector, &f) < 0 || flush_slice(&f) < 0) {
		if (f.failed)
			faiss_fail(err, errlen, "adding vectors");
		else
			snprintf(err, errlen, "cannot read the stored vectors");
		goto out;
	}
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	if (faiss_write_index_fname(index, tmp) != 0) {
		faiss_fail(err, errlen, tmp);
		unlink(tmp);
		goto out;
	}
	snprintf(dir, sizeof dir, "%s", path);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	if (fsync_path(tmp) < 0 || rename(tmp, path) < 0 || fsync_path(dir) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	if (idx_begin(x, err, errlen) < 0)
		goto out;
	if (idx_set_type(x, v->type, v->asked, err, errlen) < 0 || idx_faiss_done(x, g, err, errlen) < 0) {
		idx_rollback(x);
		goto out;
	}
	/* not idx_commit: the generation is the data's, not the file's */
	if (idx_commit_plain(x, err, errlen) < 0)
		goto out;
	v->changed = v->rebuild = 0;
	r = 0;
out:
	if (index)
		faiss_Index_free(index);
	free(f.x);
	free(f.ids);
	free(f.hash);
	free(f.heap);
	return r;
}

static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

static int check_finite(float *v, size_t n, float **vec, int *dim, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!isfinite(v[i])) {
			free(v);
			snprintf(err, errlen, "\"embedding\" value %zu is not finite", i);
			return -1;
		}
	}
	if (n > 65536) {
		free(v);
		snprintf(err, errlen, "\"embedding\" has %zu values; at most 65536", n);
		return -1;
	}
	*vec = v;
	*dim = (int)n;
	return 0;
}

static int parse_base64(const char *s, size_t len, float **vec, int *dim, char *err, size_t errlen)
{
	size_t bytes, k = 0, i, n;
	unsigned char *b;
	uint32_t acc = 0;
	int bits = 0;
	float *v;

	while (len > 0 && s[len - 1] == '=')
		len--;
	bytes = len * 6 / 8;
	if (bytes == 0 || bytes % 4 != 0) {
		snprintf(err, errlen, "\"embedding\" is not base64 of float32 values");
		return -1;
	}
	b = malloc(bytes);
	if (b == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < len; i++) {
		int d = b64val((unsigned char)s[i]);

		if (d < 0) {
			free(b);
			snprintf(err, errlen, "\"embedding\" is not base64 of float32 values");
			return -1;
		}
		acc = acc << 6 | (uint32_t)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (k < bytes)
				b[k++] = (unsigned char)(acc >> bits);
		}
	}
	n = bytes / 4;
	v = malloc(n * sizeof *v);
	if (v == NULL) {
		free(b);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++) {
		uint32_t u = (uint32_t)b[4 * i] | (uint32_t)b[4 * i + 1] << 8 | (uint32_t)b[4 * i + 2] << 16
			     | (uint32_t)b[4 * i + 3] << 24;

		memcpy(&v[i], &u, sizeof u);
	}
	free(b);
	return check_finite(v, n, vec, dim, err, errlen);
}

static int push_number(float **v, size_t *n, size_t *cap, double d, char *err, size_t errlen)
{
	/* finite as a float32: what rounds to FLT_MAX is kept */
	if (!isfinite((float)d)) {
		snprintf(err, errlen, "\"embedding\" value %zu is not finite", *n);
		return -1;
	}
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 512;
		float *nv = c <= 2 * 65536 ? realloc(*v, c * sizeof *nv) : NULL;

		if (nv == NULL) {
			snprintf(err, errlen, c > 2 * 65536 ? "\"embedding\" has more than 65536 values" : "out of memory");
			return -1;
		}
		*v = nv;
		*cap = c;
	}
	(*v)[(*n)++] = (float)d;
	return 0;
}

/* The numbers of a valid JSON array's text, read in one pass: this is most
 * of what rag-index reads. */
static int parse_array(const char *s, size_t len, float **vec, int *dim, char *err, size_t errlen)
{
	float *v = NULL;
	size_t n = 0, cap = 0, i = 1, j;

	for (;;) {
		while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
			i++;
		if (i >= len)
			goto bad;
		if (s[i] == ']' && n == 0)
			break;
		if (s[i] != '-' && (s[i] < '0' || s[i] > '9')) {
			free(v);
			snprintf(err, errlen, "\"embedding\" value %zu is not a number", n);
			return -1;
		}
		for (j = i + 1; j < len && ((s[j] >= '0' && s[j] <= '9') || s[j] == '.' || s[j] == 'e' || s[j] == 'E'
					    || s[j] == '-' || s[j] == '+'); j++)
			;
		if (push_number(&v, &n, &cap, jl_number(s + i, j - i), err, errlen) < 0) {
			free(v);
			return -1;
		}
		for (i = j; i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'); i++)
			;
		if (i < len && s[i] == ']')
			break;
		if (i >= len || s[i] != ',')
			goto bad;
		i++;
	}
	if (n == 0) {
		free(v);
		snprintf(err, errlen, "\"embedding\" is empty");
		return -1;
	}
	return check_finite(v, n, vec, dim, err, errlen);
bad:
	free(v);
	snprintf(err, errlen, "\"embedding\" is not an array of numbers");
	return -1;
}

int vecs_parse_text(const char *s, size_t len, float **vec, int *dim, char *err, size_t errlen)
{
	*vec = NULL;
	if (len > 0 && s[0] == '"') {
		sb b = { 0 };
		int rc;

		if (jl_get_string(s, len, &b) < 0) {
			sb_free(&b);
			snprintf(err, errlen, "\"embedding\" is not base64 of float32 values");
			return -1;
		}
		rc = parse_base64(sb_str(&b), b.len, vec, dim, err, errlen);
		sb_free(&b);
		return rc;
	}
	if (len > 0 && s[0] == '[')
		return parse_array(s, len, vec, dim, err, errlen);
	snprintf(err, errlen, "\"embedding\" is neither an array of numbers nor base64");
	return -1;
}
