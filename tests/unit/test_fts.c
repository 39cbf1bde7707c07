/* Unit tests of fts: a text cut ahead of time indexes as the same text cut
 * by the tokenizer itself. */
#include "emb.h"
#include "fts.h"
#include "sb.h"
#include "tok.h"
#include "unit.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

static const char *const texts[] = {
	"DenseNet connects each layer to every other layer in a feed-forward fashion.",
	"深度学习模型在图像分类任务上取得了突破。ＤｅｎｓｅＮｅｔ",
	"",
	"Résumé: naïve façade — ⽇本語 and 中文 mixed, running runners ran.",
};

struct flat {
	sb s;
	long n;
};

static int flatten(void *ctx, enum tok_kind kind, const char *term, size_t len, size_t start, size_t end)
{
	struct flat *f = ctx;
	char buf[64];

	snprintf(buf, sizeof buf, "|%016llx %zu %zu ", (unsigned long long)emb_lex_hash(kind, term, len), start, end);
	f->n++;
	return sb_puts(&f->s, buf) < 0 || sb_append(&f->s, term, len) < 0 ? -1 : 0;
}

TEST(cut_gives_the_tokenizers_terms)
{
	size_t i, j;

	for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		struct flat want = { SB_INIT, 0 }, got = { SB_INIT, 0 };
		fts_cut c = { 0 };
		char buf[64];

		CHECK_INT(tok_each(texts[i], strlen(texts[i]), TOK_STEM, flatten, &want), 0);
		if (!CHECK_INT(fts_cut_text(&c, texts[i], strlen(texts[i])), 0))
			continue;
		for (j = 0; j < c.n; j++) {
			snprintf(buf, sizeof buf, "|%016llx %d %d ", (unsigned long long)c.term[j].hash, c.term[j].start,
				 c.term[j].end);
			sb_puts(&got.s, buf);
			sb_append(&got.s, c.bytes + c.term[j].off, c.term[j].len);
		}
		CHECK_INT(c.n, want.n);
		CHECK_STR(sb_str(&got.s), sb_str(&want.s));
		CHECK(c.text == texts[i]);
		sb_free(&want.s);
		sb_free(&got.s);
		fts_cut_free(&c);
	}
}

struct count {
	long terms;
	unsigned long long sum;
};

static int count_term(void *ctx, uint64_t hash)
{
	struct count *k = ctx;

	k->terms++;
	k->sum += hash;
	return 0;
}

/* Index texts into a fresh table, cut ahead (or not), and give back the
 * table's pages and what the observer saw. */
static int build(int ahead, sb *pages, struct count *k)
{
	fts_observer obs = { count_term, k, NULL };
	fts_cut c = { 0 };
	sqlite3 *db;
	sqlite3_stmt *ins, *sel;
	size_t i;
	int rc = -1;

	if (sqlite3_open(":memory:", &db) != SQLITE_OK || fts_register(db, &obs) != SQLITE_OK
	    || sqlite3_exec(db, "CREATE VIRTUAL TABLE t USING fts5(body, tokenize='ragpipe')", NULL, NULL, NULL) != SQLITE_OK
	    || sqlite3_prepare_v2(db, "INSERT INTO t(rowid, body) VALUES (?1, ?2)", -1, &ins, NULL) != SQLITE_OK)
		goto out;
	for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		/* a copy: the cut must be matched by content, not by address */
		char copy[512];

		snprintf(copy, sizeof copy, "%s", texts[i]);
		if (ahead && fts_cut_text(&c, texts[i], strlen(texts[i])) < 0)
			goto out;
		obs.cut = ahead ? &c : NULL;
		sqlite3_bind_int64(ins, 1, (sqlite3_int64)i + 1);
		sqlite3_bind_text(ins, 2, copy, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(ins) != SQLITE_DONE)
			goto out;
		sqlite3_reset(ins);
	}
	sqlite3_finalize(ins);
	if (sqlite3_prepare_v2(db, "SELECT id, hex(block) FROM t_data ORDER BY id", -1, &sel, NULL) != SQLITE_OK)
		goto out;
	while (sqlite3_step(sel) == SQLITE_ROW) {
		sb_puts(pages, (const char *)sqlite3_column_text(sel, 1));
		sb_putc(pages, '\n');
	}
	sqlite3_finalize(sel);
	rc = 0;
out:
	fts_cut_free(&c);
	sqlite3_close(db);
	return rc;
}

TEST(replayed_cut_indexes_the_same)
{
	sb a = SB_INIT, b = SB_INIT;
	struct count ka = { 0, 0 }, kb = { 0, 0 };

	CHECK_INT(build(0, &a, &ka), 0);
	CHECK_INT(build(1, &b, &kb), 0);
	CHECK(a.len > 0);
	CHECK_STR(sb_str(&b), sb_str(&a));
	CHECK(ka.terms > 20);
	CHECK_INT(kb.terms, ka.terms);
	CHECK(kb.sum == ka.sum);
	sb_free(&a);
	sb_free(&b);
}

/* A cut of another text is not replayed for this one. */
TEST(cut_of_another_text_ignored)
{
	struct count k = { 0, 0 };
	fts_observer obs = { count_term, &k, NULL };
	fts_cut c = { 0 };
	sqlite3 *db;
	sqlite3_stmt *q;

	if (!CHECK(sqlite3_open(":memory:", &db) == SQLITE_OK))
		return;
	CHECK_INT(fts_register(db, &obs), SQLITE_OK);
	CHECK_INT(sqlite3_exec(db, "CREATE VIRTUAL TABLE t USING fts5(body, tokenize='ragpipe')", NULL, NULL, NULL), SQLITE_OK);
	CHECK_INT(fts_cut_text(&c, "alpha beta", 10), 0);
	obs.cut = &c;
	CHECK_INT(sqlite3_exec(db, "INSERT INTO t(rowid, body) VALUES (1, 'gamma delta')", NULL, NULL, NULL), SQLITE_OK);
	obs.term = NULL;
	CHECK_INT(sqlite3_prepare_v2(db, "SELECT count(*) FROM t WHERE t MATCH 'gamma'", -1, &q, NULL), SQLITE_OK);
	CHECK_INT(sqlite3_step(q), SQLITE_ROW);
	CHECK_INT(sqlite3_column_int(q, 0), 1);
	sqlite3_finalize(q);
	CHECK_INT(sqlite3_prepare_v2(db, "SELECT count(*) FROM t WHERE t MATCH 'alpha'", -1, &q, NULL), SQLITE_OK);
	CHECK_INT(sqlite3_step(q), SQLITE_ROW);
	CHECK_INT(sqlite3_column_int(q, 0), 0);
	sqlite3_finalize(q);
	CHECK_INT(k.terms, 2);
	fts_cut_free(&c);
	sqlite3_close(db);
}

int main(void)
{
	RUN(cut_gives_the_tokenizers_terms);
	RUN(replayed_cut_indexes_the_same);
	RUN(cut_of_another_text_ignored);
	return unit_done();
}
