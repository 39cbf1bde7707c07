/* Unit tests of idx, the index store. */
#include "emb.h"
#include "idx.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[256];

static void fresh(void)
{
	char cmd[300];

	snprintf(dir, sizeof dir, "%s/ragpipe-idx-test.%d", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return;
}

static int add(idx *x, const char *id, const char *source, const char *text, float v0)
{
	float vec[4] = { v0, 1, 0, 0 };
	idx_chunk c = { id, source, NULL, text, NULL, 1, 0, 0, vec, NULL };
	int64_t rowid;
	char err[300];

	return idx_add_chunk(x, &c, &rowid, err, sizeof err);
}

TEST(create_add_commit_reopen)
{
	char err[300], hash[80];
	idx *x;
	idx_stats st;

	fresh();
	x = idx_open(dir, IDX_WRITE, 1, err, sizeof err);
	if (!CHECK(x != NULL))
		return;
	CHECK_INT(idx_begin(x, err, sizeof err), 0);
	CHECK_INT(idx_use_embedder(x, "test-emb", 4, err, sizeof err), 0);
	CHECK_INT(add(x, "a#1", "a", "DenseNet connects layers.", 1), 0);
	CHECK_INT(add(x, "a#2", "a", "Dense blocks and transition layers.", 2), 0);
	CHECK_INT(idx_set_document(x, &(idx_doc){ "a", "h1", NULL, 2 }, err, sizeof err), 0);
	CHECK_INT(idx_commit(x, err, sizeof err), 0);
	CHECK_INT(idx_generation(x), 1);
	idx_close(x);

	x = idx_open(dir, IDX_READ, 0, err, sizeof err);
	if (!CHECK(x != NULL))
		return;
	CHECK_STR(idx_embedder(x), "test-emb");
	CHECK_INT(idx_dim(x), 4);
	CHECK_INT(idx_document(x, "a", hash, sizeof hash), 1);
	CHECK_STR(hash, "h1");
	CHECK_INT(idx_document(x, "b", hash, sizeof hash), 0);
	CHECK_INT(idx_stats_get(x, &st), 0);
	CHECK_INT(st.documents, 1);
	CHECK_INT(st.chunks, 2);
	CHECK_INT(idx_chunk_count(x), 2);
	CHECK(idx_avgdl(x) > 0);
	idx_close(x);
}

static uint64_t first_hash;

static int take_first(void *ctx, uint64_t hash, int kind)
{
	(void)ctx;
	(void)kind;
	if (first_hash == 0)
		first_hash = hash;
	return 0;
}

TEST(document_frequencies_follow_adds_and_deletes)
{
	char err[300];
	idx *x;
	int n;

	x = idx_open(dir, IDX_WRITE, 1, err, sizeof err);
	if (!CHECK(x != NULL))
		return;
	first_hash = 0;
	emb_lex_terms("densenet", 8, take_first, NULL);
	CHECK_INT(idx_df(x, first_hash), 1);
	CHECK_INT(idx_begin(x, err, sizeof err), 0);
	CHECK_INT(add(x, "b#1", "b", "DenseNet again", 3), 0);
	CHECK_INT(idx_set_document(x, &(idx_doc){ "b", "h2", NULL, 1 }, err, sizeof err), 0);
	CHECK_INT(idx_commit(x, err, sizeof err), 0);
	CHECK_INT(idx_df(x, first_hash), 2);
	CHECK_INT(idx_begin(x, err, sizeof err), 0);
	n = idx_delete_source(x, "a", NULL, NULL, err, sizeof err);
	CHECK_INT(n, 2);
	CHECK_INT(idx_commit(x, err, sizeof err), 0);
	CHECK_INT(idx_df(x, first_hash), 1);
	CHECK_INT(idx_chunk_count(x), 1);
	idx_close(x);
}

TEST(embedder_mismatch_is_refused)
{
	char err[300] = "";
	idx *x = idx_open(dir, IDX_WRITE, 1, err, sizeof err);

	if (!CHECK(x != NULL))
		return;
	CHECK_INT(idx_use_embedder(x, "other", 4, err, sizeof err), -1);
	CHECK(strstr(err, "test-emb") != NULL && strstr(err, "other") != NULL);
	CHECK_INT(idx_use_embedder(x, "test-emb", 8, err, sizeof err), -1);
	idx_close(x);
}

TEST(rollback_keeps_the_state_before)
{
	char err[300];
	idx *x = idx_open(dir, IDX_WRITE, 1, err, sizeof err);
	long long g;

	if (!CHECK(x != NULL))
		return;
	g = idx_generation(x);
	CHECK_INT(idx_begin(x, err, sizeof err), 0);
	CHECK_INT(add(x, "c#1", "c", "never committed", 4), 0);
	idx_rollback(x);
	CHECK_INT(idx_generation(x), g);
	CHECK_INT(idx_chunk_count(x), 1);
	/* a batch that changes nothing is no new generation */
	CHECK_INT(idx_begin(x, err, sizeof err), 0);
	CHECK_INT(idx_commit(x, err, sizeof err), 0);
	CHECK_INT(idx_generation(x), g);
	idx_close(x);
}

TEST(one_writer_at_a_time)
{
	char err[300] = "";
	idx *a = idx_open(dir, IDX_WRITE, 1, err, sizeof err), *b;

	if (!CHECK(a != NULL))
		return;
	b = idx_open(dir, IDX_WRITE, 1, err, sizeof err);
	CHECK(b == NULL);
	CHECK(strstr(err, "another rag-index") != NULL);
	/* a reader does not wait */
	b = idx_open(dir, IDX_READ, 0, err, sizeof err);
	CHECK(b != NULL);
	idx_close(b);
	idx_close(a);
}

TEST(not_an_index)
{
	char err[300] = "";

	CHECK(idx_open("/nonexistent/ragpipe", IDX_READ, 0, err, sizeof err) == NULL);
	CHECK(err[0] != '\0');
}

int main(void)
{
	char cmd[300];

	RUN(create_add_commit_reopen);
	RUN(document_frequencies_follow_adds_and_deletes);
	RUN(embedder_mismatch_is_refused);
	RUN(rollback_keeps_the_state_before);
	RUN(one_writer_at_a_time);
	RUN(not_an_index);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	return unit_done();
}
