/* The tokenizer (tok.h) and its FTS5 face (fts.h), on any bytes. tok_each's
 * terms must be non-empty valid UTF-8 from inside the text, in order of
 * their ends; the
 * built-in embedder's vectors made from them finite and of unit length or
 * zero. Through SQLite: the text is indexed in an FTS5 table with
 * tokenize='ragpipe' and looked up, and FTS5's integrity check (which cuts
 * the stored text again and compares) must pass, so the tokenizer is
 * deterministic and its offsets sane. */
#include "fuzz.h"
#include "emb.h"
#include "fts.h"
#include "tok.h"

#include <math.h>
#include <string.h>

struct terms {
	size_t len, last_end;
	long n;
};

static int check_term(void *ctx, enum tok_kind kind, const char *term, size_t len, size_t start, size_t end)
{
	struct terms *t = ctx;

	FUZZ_CHECK(kind == TOK_WORD || kind == TOK_UNIGRAM || kind == TOK_BIGRAM, "kind %d", (int)kind);
	FUZZ_CHECK(len > 0, "an empty term");
	FUZZ_CHECK(fuzz_valid_utf8(term, len), "a term that is not valid UTF-8");
	FUZZ_CHECK(start < end && end <= t->len, "term at [%zu, %zu) of %zu bytes", start, end, t->len);
	/* a bigram comes after the unigram of its second character */
	FUZZ_CHECK(end >= t->last_end, "terms out of order");
	t->last_end = end;
	t->n++;
	return 0;
}

static sqlite3 *db;
static sqlite3_stmt *ins, *match, *del, *check;

static void open_db(void)
{
	FUZZ_CHECK(sqlite3_open(":memory:", &db) == SQLITE_OK, "sqlite3_open");
	FUZZ_CHECK(fts_register(db, NULL) == SQLITE_OK, "fts_register: %s", sqlite3_errmsg(db));
	FUZZ_CHECK(sqlite3_exec(db, "CREATE VIRTUAL TABLE t USING fts5(text, tokenize='ragpipe')", NULL, NULL, NULL)
			   == SQLITE_OK, "create: %s", sqlite3_errmsg(db));
	FUZZ_CHECK(sqlite3_prepare_v2(db, "INSERT INTO t(rowid, text) VALUES (1, ?1)", -1, &ins, NULL) == SQLITE_OK, "prepare");
	FUZZ_CHECK(sqlite3_prepare_v2(db, "SELECT rowid FROM t WHERE t MATCH ?1", -1, &match, NULL) == SQLITE_OK, "prepare");
	FUZZ_CHECK(sqlite3_prepare_v2(db, "DELETE FROM t WHERE rowid = 1", -1, &del, NULL) == SQLITE_OK, "prepare");
	FUZZ_CHECK(sqlite3_prepare_v2(db, "INSERT INTO t(t) VALUES ('integrity-check')", -1, &check, NULL) == SQLITE_OK,
		   "prepare");
}

static int step_done(sqlite3_stmt *st)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	sqlite3_reset(st);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned flags = fuzz_byte(&data, &size) & (TOK_STEM | TOK_NO_UNIGRAMS);
	struct terms t = { size, 0, 0 };
	const char *text = (const char *)data;
	float v[64];
	double norm = 0;
	sb q = SB_INIT;
	size_t i;
	int rc;

	FUZZ_CHECK(tok_each(text, size, flags, check_term, &t) == 0, "tok_each failed");
	FUZZ_CHECK(emb_lex_passage(text, size, 64, v) == 0, "emb_lex_passage failed");
	for (i = 0; i < 64; i++) {
		FUZZ_CHECK(isfinite(v[i]), "passage vector value %zu is not finite", i);
		norm += (double)v[i] * v[i];
	}
	FUZZ_CHECK(norm == 0 || fabs(norm - 1) < 1e-4, "passage vector of squared length %g", norm);
	FUZZ_CHECK(emb_lex_question(text, size, 64, NULL, NULL, v) == 0, "emb_lex_question failed");

	if (db == NULL)
		open_db();
	sqlite3_bind_text(ins, 1, text, (int)size, SQLITE_STATIC);
	rc = step_done(ins);
	FUZZ_CHECK(rc == SQLITE_DONE, "insert: %s", sqlite3_errmsg(db));
	rc = step_done(check);
	FUZZ_CHECK(rc == SQLITE_DONE, "integrity check: %s", sqlite3_errmsg(db));
	/* the text as one phrase: every term of it, in order, is found again */
	sb_putc(&q, '"');
	for (i = 0; i < size; i++) {
		if (data[i] == '"')
			sb_putc(&q, '"');
		sb_putc(&q, (char)data[i]);
	}
	sb_putc(&q, '"');
	sqlite3_bind_text(match, 1, q.buf, (int)q.len, SQLITE_STATIC);
	{
		int found = 0;

		while ((rc = sqlite3_step(match)) == SQLITE_ROW)
			found = 1;
		sqlite3_reset(match);
		/* a phrase of no terms matches nothing and is no error */
		FUZZ_CHECK(rc == SQLITE_DONE || t.n == 0 || memchr(data, 0, size),
			   "match: %s", sqlite3_errmsg(db));
		/* (a phrase that starts with FTS_TERM_MARK is one raw term) */
		FUZZ_CHECK(found || t.n == 0 || rc != SQLITE_DONE || memchr(data, 0, size) || flags != TOK_STEM
			   || (size > 0 && data[0] == FTS_TERM_MARK), "the text does not find itself");
	}
	sqlite3_clear_bindings(match);
	sb_free(&q);
	rc = step_done(del);
	FUZZ_CHECK(rc == SQLITE_DONE, "delete: %s", sqlite3_errmsg(db));
	return 0;
}
