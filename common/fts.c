#include "fts.h"
#include "emb.h"
#include "tok.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

struct emit {
	void *ctx;
	int (*token)(void *, int, const char *, int, int, int);
	int rc;
	fts_observer *obs;
};

static int emit_term(void *ctx, enum tok_kind kind, const char *term, size_t len, size_t start, size_t end)
{
	struct emit *e = ctx;

	if (e->obs && e->obs->term(e->obs->ctx, emb_lex_hash(kind, term, len)) != 0) {
		e->rc = SQLITE_NOMEM;
		return -1;
	}
	e->rc = e->token(e->ctx, 0, term, (int)len, (int)start, (int)end);
	return e->rc == SQLITE_OK ? 0 : -1;
}

static int keep_term(void *ctx, enum tok_kind kind, const char *term, size_t len, size_t start, size_t end)
{
	fts_cut *c = ctx;
	struct fts_cut_term *t;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;

		t = realloc(c->term, cap * sizeof *t);
		if (t == NULL)
			return -1;
		c->term = t;
		c->cap = cap;
	}
	if (c->nbytes + len > c->bytes_cap) {
		size_t cap = c->bytes_cap ? c->bytes_cap : 1024;
		char *b;

		while (cap < c->nbytes + len)
			cap *= 2;
		if ((b = realloc(c->bytes, cap)) == NULL)
			return -1;
		c->bytes = b;
		c->bytes_cap = cap;
	}
	t = &c->term[c->n++];
	t->hash = emb_lex_hash(kind, term, len);
	t->off = (uint32_t)c->nbytes;
	t->len = (uint32_t)len;
	t->start = (int)start;
	t->end = (int)end;
	memcpy(c->bytes + c->nbytes, term, len);
	c->nbytes += len;
	return 0;
}

int fts_cut_text(fts_cut *c, const char *text, size_t len)
{
	c->n = 0;
	c->nbytes = 0;
	c->text = NULL;
	c->len = 0;
	if (len > INT_MAX || tok_each(text, len, TOK_STEM, keep_term, c) < 0)
		return -1;
	c->text = text;
	c->len = len;
	return 0;
}

void fts_cut_free(fts_cut *c)
{
	free(c->term);
	free(c->bytes);
	memset(c, 0, sizeof *c);
}

static int replay(const fts_cut *c, struct emit *e)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		const struct fts_cut_term *t = &c->term[i];

		if (e->obs && e->obs->term(e->obs->ctx, t->hash) != 0)
			return SQLITE_NOMEM;
		e->rc = e->token(e->ctx, 0, c->bytes + t->off, (int)t->len, t->start, t->end);
		if (e->rc != SQLITE_OK)
			return e->rc;
	}
	return SQLITE_OK;
}

/* The handle is the connection's observer, or a placeholder without one. */
static int tok_create(void *obs, const char **argv, int argc, Fts5Tokenizer **out)
{
	(void)argv;
	(void)argc;
	*out = obs ? (Fts5Tokenizer *)obs : (Fts5Tokenizer *)&tok_create;
	return SQLITE_OK;
}

static void tok_delete(Fts5Tokenizer *t)
{
	(void)t;
}

static int tok_tokenize(Fts5Tokenizer *t, void *ctx, int flags, const char *text, int len,
			int (*token)(void *, int, const char *, int, int, int))
{
	struct emit e = { ctx, token, SQLITE_OK, NULL };

	if (t != (Fts5Tokenizer *)&tok_create && !(flags & FTS5_TOKENIZE_QUERY) && ((fts_observer *)t)->term)
		e.obs = (fts_observer *)t;
	if (len < 0)
		return SQLITE_ERROR;
	if ((flags & FTS5_TOKENIZE_QUERY) && len > 1 && text[0] == FTS_TERM_MARK)
		return token(ctx, 0, text + 1, len - 1, 0, len);
	if (e.obs && e.obs->cut && e.obs->cut->text && e.obs->cut->len == (size_t)len
	    && memcmp(e.obs->cut->text, text, (size_t)len) == 0)
		return replay(e.obs->cut, &e);
	if (tok_each(text, (size_t)len, TOK_STEM, emit_term, &e) < 0)
		return e.rc != SQLITE_OK ? e.rc : SQLITE_NOMEM;
	return SQLITE_OK;
}

int fts_register(sqlite3 *db, fts_observer *obs)
{
	static fts5_tokenizer tokenizer = { tok_create, tok_delete, tok_tokenize };
	fts5_api *api = NULL;
	sqlite3_stmt *st;
	int rc;

	rc = sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_pointer(st, 1, (void *)&api, "fts5_api_ptr", NULL);
	sqlite3_step(st);
	rc = sqlite3_finalize(st);
	if (rc != SQLITE_OK)
		return rc;
	if (api == NULL || api->iVersion < 2)
		return SQLITE_ERROR;
	return api->xCreateTokenizer(api, "ragpipe", obs, &tokenizer, NULL);
}
