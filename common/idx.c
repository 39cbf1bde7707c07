#include "idx.h"
#include "emb.h"
#include "fts.h"
#include "paths.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#define IDX_SCHEMA_VERSION 1

/* Document-frequency changes of the current batch, applied at commit: one
 * upsert per distinct term per batch instead of per chunk. A term counts
 * once per text: its slot remembers the stamp of the last text it was in. */
struct dfdelta {
	uint64_t *hash;
	long *delta;
	uint32_t *stamp;
	size_t cap, n;
};

struct idx {
	sqlite3 *db;
	char *dir;
	int lock_fd;
	enum idx_mode mode;
	char embedder[256];
	int dim;
	char type[128];
	int type_asked;
	long long generation, faiss_generation;
	long chunks;
	double total_dl;
	struct dfdelta df;
	/* the text the tokenizer is cutting for the full-text index: its terms
	 * go into df with this sign and stamp */
	fts_observer obs;
	long text_delta, text_terms;
	uint32_t text_stamp;
	int64_t last_rid;	/* the highest row id used; 0 until looked up in a batch */
	int changed;	/* the batch changed something: it counts as a generation */
	sqlite3_stmt *ins_chunk, *ins_fts, *get_doc, *set_doc, *get_df;
	sb body;	/* of the chunk being added */
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS documents(source TEXT PRIMARY KEY, doc TEXT NOT NULL,"
	" chunks INTEGER NOT NULL, indexed_at INTEGER NOT NULL, path TEXT) WITHOUT ROWID;"
	/* row ids are never reused, so no old faiss file can name a new chunk */
	"CREATE TABLE IF NOT EXISTS chunks(rid INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,"
	" source TEXT NOT NULL, seq INTEGER, page INTEGER, page_end INTEGER, title TEXT, text TEXT NOT NULL,"
	" fields TEXT, dl INTEGER NOT NULL, vec BLOB NOT NULL,"
	/* what was embedded, and so what the full-text index searches */
	" body TEXT GENERATED ALWAYS AS (CASE WHEN title IS NULL OR title = '' OR substr(text, 1, length(title)) = title"
	" THEN text ELSE title || char(10, 10) || text END) VIRTUAL);"
	"CREATE INDEX IF NOT EXISTS chunks_source ON chunks(source);"
	"CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(body, content='chunks', content_rowid='rid', tokenize='ragpipe');"
	"CREATE TABLE IF NOT EXISTS terms(hash INTEGER PRIMARY KEY, df INTEGER NOT NULL);";

/* FTS5 writes a segment each time its in-memory terms outgrow this, and
 * merges segments as they pile up: with the default 1 MB a batch of a few
 * thousand chunks makes a dozen segments. Set once, in the index. */
static const char fts_hashsize[] =
	"INSERT INTO fts(fts, rank) SELECT 'hashsize', 67108864"
	" WHERE NOT EXISTS (SELECT 1 FROM fts_config WHERE k = 'hashsize')";

static int fail_db(idx *x, char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s/index.sqlite: %s: %s", x->dir, what, sqlite3_errmsg(x->db));
	return -1;
}

static int exec(idx *x, const char *sql, char *err, size_t errlen)
{
	if (sqlite3_exec(x->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return fail_db(x, err, errlen, sql);
	return 0;
}

static int meta_get(idx *x, const char *key, char *out, size_t outlen)
{
	sqlite3_stmt *st;
	int found = 0;

	if (sqlite3_prepare_v2(x->db, "SELECT value FROM meta WHERE key = ?1", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *v = sqlite3_column_text(st, 0);

		snprintf(out, outlen, "%s", v ? (const char *)v : "");
		found = 1;
	}
	sqlite3_finalize(st);
	return found;
}

static int meta_set(idx *x, const char *key, const char *value)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(x->db, "INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int meta_set_num(idx *x, const char *key, double v)
{
	char buf[64];

	snprintf(buf, sizeof buf, "%.17g", v);
	return meta_set(x, key, buf);
}

/* Read the settings into x (inside a read transaction for a snapshot). */
static int load_meta(idx *x)
{
	char buf[256];

	x->embedder[0] = '\0';
	x->dim = 0;
	snprintf(x->type, sizeof x->type, "%s", "");
	if (meta_get(x, "embedder", x->embedder, sizeof x->embedder) < 0)
		return -1;
	if (meta_get(x, "dim", buf, sizeof buf) > 0)
		x->dim = atoi(buf);
	meta_get(x, "type", x->type, sizeof x->type);
	x->type_asked = meta_get(x, "type_asked", buf, sizeof buf) > 0 && atoi(buf) == 1;
	x->generation = meta_get(x, "generation", buf, sizeof buf) > 0 ? atoll(buf) : 0;
	x->faiss_generation = meta_get(x, "faiss_generation", buf, sizeof buf) > 0 ? atoll(buf) : -1;
	x->chunks = meta_get(x, "chunks", buf, sizeof buf) > 0 ? atol(buf) : 0;
	x->total_dl = meta_get(x, "total_dl", buf, sizeof buf) > 0 ? atof(buf) : 0;
	return 0;
}

/* A new index comes into being whole: made aside with its schema and
 * version, then renamed into place, so that a reader never finds a
 * database without them. */
static int create_fresh(const char *dir, const char *path, char *err, size_t errlen)
{
	char tmp[4200], side[4300];
	sqlite3 *db = NULL;
	char *msg = NULL, sql[64];
	int fd;

	snprintf(tmp, sizeof tmp, "%s.new", path);
	unlink(tmp);
	snprintf(side, sizeof side, "%s-wal", tmp);
	unlink(side);
	snprintf(side, sizeof side, "%s-shm", tmp);
	unlink(side);
	snprintf(sql, sizeof sql, "INSERT INTO meta(key, value) VALUES ('version', %d)", IDX_SCHEMA_VERSION);
	if (sqlite3_open_v2(tmp, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK
	    || fts_register(db, NULL) != SQLITE_OK
	    || sqlite3_exec(db, "PRAGMA page_size=16384; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", NULL, NULL, &msg)
		   != SQLITE_OK
	    || sqlite3_exec(db, schema, NULL, NULL, &msg) != SQLITE_OK || sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", tmp, msg ? msg : db ? sqlite3_errmsg(db) : "cannot create");
		sqlite3_free(msg);
		sqlite3_close(db);
		unlink(tmp);
		return -1;
	}
	if (sqlite3_close(db) != SQLITE_OK) {
		snprintf(err, errlen, "%s: cannot close", tmp);
		return -1;
	}
	fd = open(tmp, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0 || close(fd) < 0 || rename(tmp, path) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	fd = open(dir, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	return 0;
}

/* Indexes made before documents had a path get the column, empty: their
 * documents are looked for by source as before until indexed again. */
static int add_path_column(idx *x, char *err, size_t errlen)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(x->db, "SELECT path FROM documents LIMIT 0", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_finalize(st);
		return 0;
	}
	return exec(x, "ALTER TABLE documents ADD COLUMN path TEXT", err, errlen);
}

idx *idx_open(const char *dir, enum idx_mode mode, int nowait, char *err, size_t errlen)
{
	idx *x = calloc(1, sizeof *x);
	char path[4096];
	struct stat st;

	if (x == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	x->lock_fd = -1;
	x->mode = mode;
	x->dir = strdup(dir);
	if (x->dir == NULL)
		goto nomem;
	if (mode == IDX_WRITE) {
		/* shards/1 is made with its parent, as parallel jobs name them */
		if (paths_mkdirs(dir, 0777) < 0) {
			snprintf(err, errlen, "%s: %s", dir, strerror(errno));
			goto fail;
		}
		snprintf(path, sizeof path, "%s/lock", dir);
		x->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
		if (x->lock_fd < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (flock(x->lock_fd, LOCK_EX | (nowait ? LOCK_NB : 0)) < 0) {
			if (errno == EWOULDBLOCK)
				snprintf(err, errlen, "%s: another rag-index is writing to it", dir);
			else
				snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
	} else if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: %s", dir, stat(dir, &st) < 0 ? strerror(errno) : "not a directory");
		goto fail;
	}
	snprintf(path, sizeof path, "%s/index.sqlite", dir);
	if (mode == IDX_READ && access(path, F_OK) < 0) {
		snprintf(err, errlen, "%s: not an index (no index.sqlite)", dir);
		goto fail;
	}
	if (mode == IDX_WRITE && access(path, F_OK) < 0 && errno == ENOENT && create_fresh(dir, path, err, errlen) < 0)
		goto fail;
	if (sqlite3_open_v2(path, &x->db, (mode == IDX_WRITE ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
				      : SQLITE_OPEN_READONLY) | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, x->db ? sqlite3_errmsg(x->db) : "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(x->db, 60000);
	if (fts_register(x->db, &x->obs) != SQLITE_OK) {
		fail_db(x, err, errlen, "registering the tokenizer");
		goto fail;
	}
	if (mode == IDX_WRITE) {
		char v[32];

		if (exec(x, "PRAGMA page_size=16384; PRAGMA cache_size=-32768; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", err, errlen) < 0
		    || exec(x, schema, err, errlen) < 0 || exec(x, fts_hashsize, err, errlen) < 0
		    || add_path_column(x, err, errlen) < 0)
			goto fail;
		if (meta_get(x, "version", v, sizeof v) == 0) {
			if (meta_set_num(x, "version", IDX_SCHEMA_VERSION) < 0) {
				fail_db(x, err, errlen, "writing the version");
				goto fail;
			}
		} else if (atoi(v) != IDX_SCHEMA_VERSION) {
			snprintf(err, errlen, "%s: index format %s, this rag-index writes %d", dir, v, IDX_SCHEMA_VERSION);
			goto fail;
		}
		if (sqlite3_prepare_v2(x->db, "INSERT INTO chunks(id, source, seq, page, page_end, title, text, fields, dl, vec, rid)"
				       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)", -1, &x->ins_chunk, NULL) != SQLITE_OK
		    || sqlite3_prepare_v2(x->db, "INSERT INTO fts(rowid, body) VALUES (?1, ?2)", -1, &x->ins_fts, NULL)
			   != SQLITE_OK
		    || sqlite3_prepare_v2(x->db, "INSERT OR REPLACE INTO documents(source, doc, chunks, indexed_at, path)"
					  " VALUES (?1, ?2, ?3, ?4, ?5)", -1, &x->set_doc, NULL) != SQLITE_OK) {
			fail_db(x, err, errlen, "preparing");
			goto fail;
		}
	} else {
		char v[32];
		int got = meta_get(x, "version", v, sizeof v);

		if (got < 0 && access(dir, W_OK) < 0) {
			/* WAL readers make a -shm file; where none can be made, no
			 * writer can change the database either: read it as it is */
			char uri[4300];

			sqlite3_close(x->db);
			x->db = NULL;
			size_t u = 0;
			const char *c;

			/* a URI: the characters it gives a meaning to are escaped */
			u += (size_t)snprintf(uri, sizeof uri, "file:");
			for (c = path; *c && u + 4 < sizeof uri - 16; c++)
				u += (size_t)(*c == '%' || *c == '?' || *c == '#' ? snprintf(uri + u, 4, "%%%02X", (unsigned char)*c)
							 : snprintf(uri + u, 2, "%c", *c));
			snprintf(uri + u, sizeof uri - u, "?immutable=1");
			if (sqlite3_open_v2(uri, &x->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, NULL)
				    != SQLITE_OK
			    || fts_register(x->db, &x->obs) != SQLITE_OK) {
				snprintf(err, errlen, "%s: %s", path, x->db ? sqlite3_errmsg(x->db) : "cannot open");
				goto fail;
			}
			got = meta_get(x, "version", v, sizeof v);
		}
		if (got < 0) {
			fail_db(x, err, errlen, "reading");
			goto fail;
		}
		if (got == 0 || atoi(v) != IDX_SCHEMA_VERSION) {
			snprintf(err, errlen, "%s: not an index this program can read", dir);
			goto fail;
		}
	}
	if (sqlite3_prepare_v2(x->db, "SELECT doc FROM documents WHERE source = ?1", -1, &x->get_doc, NULL) != SQLITE_OK
	    || sqlite3_prepare_v2(x->db, "SELECT df FROM terms WHERE hash = ?1", -1, &x->get_df, NULL) != SQLITE_OK) {
		fail_db(x, err, errlen, "preparing");
		goto fail;
	}
	if (load_meta(x) < 0) {
		fail_db(x, err, errlen, "reading the settings");
		goto fail;
	}
	return x;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	idx_close(x);
	return NULL;
}

int idx_remove_new(const char *dir, int with_dir)
{
	static const char *const files[] = { "index.sqlite-wal", "index.sqlite-shm", "index.sqlite", "lock" };
	char path[4096];
	size_t i;

	for (i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, files[i]);
		if (unlink(path) < 0 && errno != ENOENT)
			return -1;
	}
	if (with_dir && rmdir(dir) < 0 && errno != ENOTEMPTY && errno != EEXIST)
		return -1;
	return 0;
}

void idx_close(idx *x)
{
	if (x == NULL)
		return;
	sqlite3_finalize(x->ins_chunk);
	sqlite3_finalize(x->ins_fts);
	sqlite3_finalize(x->get_doc);
	sqlite3_finalize(x->set_doc);
	sqlite3_finalize(x->get_df);
	sqlite3_close(x->db);
	if (x->lock_fd >= 0)
		close(x->lock_fd);	/* releases the lock */
	sb_free(&x->body);
	free(x->df.hash);
	free(x->df.delta);
	free(x->df.stamp);
	free(x->dir);
	free(x);
}

const char *idx_embedder(const idx *x)
{
	return x->embedder;
}

int idx_dim(const idx *x)
{
	return x->dim;
}

const char *idx_type(const idx *x)
{
	return x->type;
}

long long idx_generation(const idx *x)
{
	return x->generation;
}

long idx_chunk_count(const idx *x)
{
	return x->chunks;
}

double idx_avgdl(const idx *x)
{
	return x->chunks > 0 ? x->total_dl / (double)x->chunks : EMB_LEX_AVGDL;
}

int idx_use_embedder(idx *x, const char *name, int dim, char *err, size_t errlen)
{
	char buf[32];
	int named = emb_lex_parse_name(name);

	if (named > 0 && named != dim) {
		snprintf(err, errlen, "the embedder %s makes %d values, not %d", name, named, dim);
		return -1;
	}
	if (x->embedder[0] == '\0') {
		snprintf(buf, sizeof buf, "%d", dim);
		if (meta_set(x, "embedder", name) < 0 || meta_set(x, "dim", buf) < 0)
			return fail_db(x, err, errlen, "writing the embedder");
		snprintf(x->embedder, sizeof x->embedder, "%s", name);
		x->dim = dim;
		x->changed = 1;
		return 0;
	}
	if (strcmp(x->embedder, name) != 0 || x->dim != dim) {
		snprintf(err, errlen, "%s was built with %s (dimension %d), not %s (dimension %d)", x->dir, x->embedder,
			 x->dim, name, dim);
		return -1;
	}
	return 0;
}

int idx_begin(idx *x, char *err, size_t errlen)
{
	if (exec(x, "BEGIN IMMEDIATE", err, errlen) < 0)
		return -1;
	x->df.n = 0;
	x->changed = 0;
	x->last_rid = 0;
	if (x->df.cap) {
		memset(x->df.delta, 0, x->df.cap * sizeof *x->df.delta);
		memset(x->df.hash, 0, x->df.cap * sizeof *x->df.hash);
		memset(x->df.stamp, 0, x->df.cap * sizeof *x->df.stamp);
	}
	/* another writer may have committed since we last looked */
	if (load_meta(x) < 0)
		return fail_db(x, err, errlen, "reading the settings");
	return 0;
}

static int df_grow(struct dfdelta *d)
{
	struct dfdelta nd = { 0 };
	size_t i;

	nd.cap = d->cap ? d->cap * 2 : 4096;
	nd.hash = calloc(nd.cap, sizeof *nd.hash);
	nd.delta = calloc(nd.cap, sizeof *nd.delta);
	nd.stamp = calloc(nd.cap, sizeof *nd.stamp);
	if (!nd.hash || !nd.delta || !nd.stamp) {
		free(nd.hash);
		free(nd.delta);
		free(nd.stamp);
		return -1;
	}
	for (i = 0; i < d->cap; i++) {
		if (d->hash[i]) {
			size_t j = (size_t)(d->hash[i] & (nd.cap - 1));

			while (nd.hash[j])
				j = (j + 1) & (nd.cap - 1);
			nd.hash[j] = d->hash[i];
			nd.delta[j] = d->delta[i];
			nd.stamp[j] = d->stamp[i];
		}
	}
	nd.n = d->n;
	free(d->hash);
	free(d->delta);
	free(d->stamp);
	*d = nd;
	return 0;
}

static int df_add(struct dfdelta *d, uint64_t h, long delta, uint32_t stamp)
{
	size_t j;

	if (h == 0)
		h = 1;	/* 0 marks an empty slot */
	if ((d->n + 1) * 2 > d->cap && df_grow(d) < 0)
		return -1;
	j = (size_t)(h & (d->cap - 1));
	while (d->hash[j] && d->hash[j] != h)
		j = (j + 1) & (d->cap - 1);
	if (!d->hash[j]) {
		d->hash[j] = h;
		d->n++;
	}
	if (d->stamp[j] != stamp) {
		d->stamp[j] = stamp;
		d->delta[j] += delta;
	}
	return 0;
}

static int observe_term(void *ctx, uint64_t hash)
{
	idx *x = ctx;

	x->text_terms++;
	return df_add(&x->df, hash, x->text_delta, x->text_stamp);
}

/* Step a statement that makes the full-text index cut one text, counting
 * that text's terms into the document frequencies with sign delta: the
 * text is cut once, for both. *terms gets its length in terms. */
static int step_counted(idx *x, sqlite3_stmt *st, long delta, long *terms)
{
	int rc;

	x->text_terms = 0;
	x->text_delta = delta;
	if (++x->text_stamp == 0)
		x->text_stamp = 1;
	x->obs.term = observe_term;
	x->obs.ctx = x;
	rc = sqlite3_step(st);
	x->obs.term = NULL;
	x->obs.cut = NULL;
	*terms = x->text_terms;
	return rc;
}

int idx_commit(idx *x, char *err, size_t errlen)
{
	sqlite3_stmt *up = NULL;
	size_t i;
	char buf[32];

	if (x->df.n > 0) {
		if (sqlite3_prepare_v2(x->db, "INSERT INTO terms(hash, df) VALUES (?1, ?2)"
				       " ON CONFLICT(hash) DO UPDATE SET df = df + excluded.df", -1, &up, NULL) != SQLITE_OK)
			goto fail;
		for (i = 0; i < x->df.cap; i++) {
			if (!x->df.hash[i] || x->df.delta[i] == 0)
				continue;
			sqlite3_bind_int64(up, 1, (sqlite3_int64)x->df.hash[i]);
			sqlite3_bind_int64(up, 2, x->df.delta[i]);
			if (sqlite3_step(up) != SQLITE_DONE)
				goto fail;
			sqlite3_reset(up);
		}
		sqlite3_finalize(up);
		up = NULL;
		if (sqlite3_exec(x->db, "DELETE FROM terms WHERE df <= 0", NULL, NULL, NULL) != SQLITE_OK)
			goto fail;
	}
	if (!x->changed)
		return idx_commit_plain(x, err, errlen);
	x->generation++;
	snprintf(buf, sizeof buf, "%lld", x->generation);
	if (meta_set(x, "generation", buf) < 0 || meta_set_num(x, "chunks", (double)x->chunks) < 0
	    || meta_set_num(x, "total_dl", x->total_dl) < 0)
		goto fail;
	if (sqlite3_exec(x->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	return 0;
fail:
	sqlite3_finalize(up);
	fail_db(x, err, errlen, "committing");
	idx_rollback(x);
	return -1;
}

int idx_commit_plain(idx *x, char *err, size_t errlen)
{
	if (sqlite3_exec(x->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		fail_db(x, err, errlen, "committing");
		idx_rollback(x);
		return -1;
	}
	return 0;
}

void idx_rollback(idx *x)
{
	sqlite3_exec(x->db, "ROLLBACK", NULL, NULL, NULL);
	x->last_rid = 0;
	load_meta(x);
}

long idx_document_chunks(idx *x, const char *source)
{
	sqlite3_stmt *st;
	long n = -1;

	if (sqlite3_prepare_v2(x->db, "SELECT chunks FROM documents WHERE source = ?1", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, source, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

int idx_document(idx *x, const char *source, char *hash, size_t hashlen)
{
	int found = 0;

	sqlite3_bind_text(x->get_doc, 1, source, -1, SQLITE_STATIC);
	if (sqlite3_step(x->get_doc) == SQLITE_ROW) {
		const unsigned char *h = sqlite3_column_text(x->get_doc, 0);

		snprintf(hash, hashlen, "%s", h ? (const char *)h : "");
		found = 1;
	}
	sqlite3_reset(x->get_doc);
	return found;
}

int idx_delete_source(idx *x, const char *source, void (*gone)(void *ctx, int64_t id), void *ctx,
		      char *err, size_t errlen)
{
	sqlite3_stmt *sel = NULL, *del_fts = NULL, *del = NULL;
	int n = 0, rc;

	if (sqlite3_prepare_v2(x->db, "SELECT rid, body, dl FROM chunks WHERE source = ?1", -1, &sel, NULL) != SQLITE_OK
	    || sqlite3_prepare_v2(x->db, "INSERT INTO fts(fts, rowid, body) VALUES ('delete', ?1, ?2)", -1, &del_fts,
				  NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(sel, 1, source, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
		sqlite3_int64 rid = sqlite3_column_int64(sel, 0);
		const char *body = (const char *)sqlite3_column_text(sel, 1);
		int blen = sqlite3_column_bytes(sel, 1);

		long terms;

		sqlite3_bind_int64(del_fts, 1, rid);
		sqlite3_bind_text(del_fts, 2, body ? body : "", blen, SQLITE_TRANSIENT);
		if (step_counted(x, del_fts, -1, &terms) != SQLITE_DONE)
			goto fail;
		sqlite3_reset(del_fts);
		x->total_dl -= sqlite3_column_int(sel, 2);
		x->chunks--;
		x->changed = 1;
		if (gone)
			gone(ctx, rid);
		n++;
	}
	if (rc != SQLITE_DONE)
		goto fail;
	if (sqlite3_prepare_v2(x->db, "DELETE FROM chunks WHERE source = ?1", -1, &del, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(del, 1, source, -1, SQLITE_STATIC);
	if (sqlite3_step(del) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(del);
	if (sqlite3_prepare_v2(x->db, "DELETE FROM documents WHERE source = ?1", -1, &del, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(del, 1, source, -1, SQLITE_STATIC);
	if (sqlite3_step(del) != SQLITE_DONE)
		goto fail;
	if (sqlite3_changes(x->db) > 0)
		x->changed = 1;
	sqlite3_finalize(sel);
	sqlite3_finalize(del_fts);
	sqlite3_finalize(del);
	return n;
fail:
	fail_db(x, err, errlen, "deleting");
	sqlite3_finalize(sel);
	sqlite3_finalize(del_fts);
	sqlite3_finalize(del);
	return -1;
}

/* The highest row id ever given to a chunk: AUTOINCREMENT's record of it. */
static int load_last_rid(idx *x)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(x->db, "SELECT max(ifnull((SELECT seq FROM sqlite_sequence WHERE name = 'chunks'), 0),"
			       " ifnull((SELECT max(rid) FROM chunks), 0))", -1, &st, NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		x->last_rid = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

const char *idx_body(const char *title, const char *text, sb *buf, size_t *len)
{
	size_t tl = strlen(text), til = title ? strlen(title) : 0;

	*len = tl;
	if (til == 0 || (tl >= til && memcmp(text, title, til) == 0))
		return text;
	sb_truncate(buf, 0);
	if (sb_append(buf, title, til) < 0 || sb_append(buf, "\n\n", 2) < 0 || sb_append(buf, text, tl) < 0)
		return NULL;
	*len = buf->len;
	return sb_str(buf);
}

int idx_add_chunk(idx *x, const idx_chunk *c, int64_t *rowid, char *err, size_t errlen)
{
	sqlite3_stmt *st = x->ins_chunk;
	long dl;
	const char *b;
	size_t blen;
	int64_t rid;

	b = idx_body(c->title, c->text, &x->body, &blen);
	if (b == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* the text is indexed first, so that it is cut once for both the
	 * full-text index and the length and document frequencies */
	if (x->last_rid == 0 && load_last_rid(x) < 0)
		return fail_db(x, err, errlen, "adding a chunk");
	rid = x->last_rid + 1;
	sqlite3_bind_int64(x->ins_fts, 1, rid);
	sqlite3_bind_text(x->ins_fts, 2, b, (int)blen, SQLITE_STATIC);
	x->obs.cut = c->cut;
	if (step_counted(x, x->ins_fts, +1, &dl) != SQLITE_DONE) {
		sqlite3_reset(x->ins_fts);
		return fail_db(x, err, errlen, "indexing a chunk's text");
	}
	sqlite3_reset(x->ins_fts);
	sqlite3_bind_text(st, 1, c->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->source, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, c->seq);
	if (c->page > 0) {
		sqlite3_bind_int(st, 4, c->page);
		sqlite3_bind_int(st, 5, c->page_end);
	} else {
		sqlite3_bind_null(st, 4);
		sqlite3_bind_null(st, 5);
	}
	if (c->title)
		sqlite3_bind_text(st, 6, c->title, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 6);
	sqlite3_bind_text(st, 7, c->text, -1, SQLITE_STATIC);
	if (c->fields_json)
		sqlite3_bind_text(st, 8, c->fields_json, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 8);
	sqlite3_bind_int64(st, 9, dl);
	sqlite3_bind_blob(st, 10, c->vec, x->dim * (int)sizeof(float), SQLITE_STATIC);
	sqlite3_bind_int64(st, 11, rid);
	if (sqlite3_step(st) != SQLITE_DONE) {
		int unique = sqlite3_extended_errcode(x->db) == SQLITE_CONSTRAINT_UNIQUE;
		sqlite3_stmt *undo = NULL;
		long terms;

		sqlite3_reset(st);
		if (unique)
			snprintf(err, errlen, "chunk id \"%s\" is already indexed for another source", c->id);
		else
			fail_db(x, err, errlen, "adding a chunk");
		/* take the text out again, so the batch stays whole if it goes on */
		if (sqlite3_prepare_v2(x->db, "INSERT INTO fts(fts, rowid, body) VALUES ('delete', ?1, ?2)", -1, &undo,
				       NULL) == SQLITE_OK) {
			sqlite3_bind_int64(undo, 1, rid);
			sqlite3_bind_text(undo, 2, b, (int)blen, SQLITE_STATIC);
			step_counted(x, undo, -1, &terms);
		}
		sqlite3_finalize(undo);
		return -1;
	}
	sqlite3_reset(st);
	x->last_rid = rid;
	*rowid = rid;
	x->chunks++;
	x->total_dl += (double)dl;
	x->changed = 1;
	return 0;
}

int idx_set_document(idx *x, const idx_doc *d, char *err, size_t errlen)
{
	sqlite3_bind_text(x->set_doc, 1, d->source, -1, SQLITE_STATIC);
	sqlite3_bind_text(x->set_doc, 2, d->hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(x->set_doc, 3, d->chunks);
	sqlite3_bind_int64(x->set_doc, 4, (sqlite3_int64)time(NULL));
	if (d->path)
		sqlite3_bind_text(x->set_doc, 5, d->path, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(x->set_doc, 5);
	if (sqlite3_step(x->set_doc) != SQLITE_DONE) {
		sqlite3_reset(x->set_doc);
		return fail_db(x, err, errlen, "recording a document");
	}
	sqlite3_reset(x->set_doc);
	x->changed = 1;
	return 0;
}


int idx_each_vector(idx *x, int (*fn)(void *ctx, int64_t id, const float *vec), void *ctx)
{
	sqlite3_stmt *st;
	int rc, r = 0;
	float *v = malloc((size_t)(x->dim > 0 ? x->dim : 1) * sizeof *v);

	if (v == NULL)
		return -1;
	if (sqlite3_prepare_v2(x->db, "SELECT rid, vec FROM chunks ORDER BY rid", -1, &st, NULL) != SQLITE_OK) {
		free(v);
		return -1;
	}
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const void *blob = sqlite3_column_blob(st, 1);

		if (sqlite3_column_bytes(st, 1) != x->dim * (int)sizeof(float)) {
			r = -1;
			break;
		}
		memcpy(v, blob, (size_t)x->dim * sizeof *v);
		r = fn(ctx, sqlite3_column_int64(st, 0), v);
	}
	sqlite3_finalize(st);
	free(v);
	return r;
}

static long long dir_bytes(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	long long total = 0;
	char path[4096];
	struct stat st;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			total += st.st_size;
	}
	closedir(d);
	return total;
}

int idx_stats_get(idx *x, idx_stats *st)
{
	sqlite3_stmt *s;

	memset(st, 0, sizeof *st);
	if (sqlite3_prepare_v2(x->db, "SELECT (SELECT count(*) FROM documents), (SELECT count(*) FROM chunks)", -1, &s,
			       NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW) {
		st->documents = sqlite3_column_int64(s, 0);
		st->chunks = sqlite3_column_int64(s, 1);
	}
	sqlite3_finalize(s);
	snprintf(st->embedder, sizeof st->embedder, "%s", x->embedder);
	st->dim = x->dim;
	snprintf(st->index_type, sizeof st->index_type, "%s", x->type);
	st->generation = x->generation;
	st->faiss_generation = x->faiss_generation;
	st->bytes = dir_bytes(x->dir);
	st->avgdl = idx_avgdl(x);
	return 0;
}

int idx_type_asked(const idx *x)
{
	return x->type_asked;
}

int idx_set_type(idx *x, const char *factory, int asked, char *err, size_t errlen)
{
	if (meta_set(x, "type", factory) < 0 || meta_set(x, "type_asked", asked ? "1" : "0") < 0)
		return fail_db(x, err, errlen, "recording the index type");
	snprintf(x->type, sizeof x->type, "%s", factory);
	x->type_asked = asked;
	return 0;
}

int idx_faiss_path(const idx *x, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s/vectors-%lld.faiss", x->dir, x->generation);
	return 0;
}

int idx_faiss_done(idx *x, long long g, char *err, size_t errlen)
{
	char buf[32], keep[64], path[4096];
	DIR *d;
	struct dirent *e;

	snprintf(buf, sizeof buf, "%lld", g);
	if (meta_set(x, "faiss_generation", buf) < 0)
		return fail_db(x, err, errlen, "recording the faiss file");
	x->faiss_generation = g;
	/* older files go; a reader that has one open keeps it until it closes */
	snprintf(keep, sizeof keep, "vectors-%lld.faiss", g);
	d = opendir(x->dir);
	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "vectors-", 8) == 0 && strcmp(e->d_name, keep) != 0) {
			snprintf(path, sizeof path, "%s/%s", x->dir, e->d_name);
			unlink(path);
		}
	}
	closedir(d);
	return 0;
}

long idx_df(idx *x, uint64_t hash)
{
	long df = 0;

	sqlite3_bind_int64(x->get_df, 1, (sqlite3_int64)(hash ? hash : 1));
	if (sqlite3_step(x->get_df) == SQLITE_ROW)
		df = sqlite3_column_int64(x->get_df, 0);
	sqlite3_reset(x->get_df);
	return df;
}

int idx_each_document(idx *x, int (*fn)(void *ctx, const idx_doc *d), void *ctx)
{
	sqlite3_stmt *st;
	int r = 0;

	/* a shard read as it is may be older than the path column */
	if (sqlite3_prepare_v2(x->db, "SELECT source, doc, chunks, path FROM documents ORDER BY source", -1, &st, NULL)
		    != SQLITE_OK
	    && sqlite3_prepare_v2(x->db, "SELECT source, doc, chunks, NULL FROM documents ORDER BY source", -1, &st, NULL)
		       != SQLITE_OK)
		return -1;
	while (r == 0 && sqlite3_step(st) == SQLITE_ROW) {
		idx_doc d;

		d.source = (const char *)sqlite3_column_text(st, 0);
		d.hash = (const char *)sqlite3_column_text(st, 1);
		d.chunks = (long)sqlite3_column_int64(st, 2);
		d.path = (const char *)sqlite3_column_text(st, 3);
		r = fn(ctx, &d);
	}
	sqlite3_finalize(st);
	return r;
}

int idx_each_chunk(idx *x, const char *source, int (*fn)(void *ctx, const idx_chunk *c), void *ctx)
{
	sqlite3_stmt *st;
	int r = 0;

	if (sqlite3_prepare_v2(x->db, "SELECT id, source, seq, page, page_end, title, text, fields, vec FROM chunks"
			       " WHERE source = ?1 ORDER BY rid", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, source, -1, SQLITE_STATIC);
	while (r == 0 && sqlite3_step(st) == SQLITE_ROW) {
		idx_chunk c;

		if (sqlite3_column_bytes(st, 8) != x->dim * (int)sizeof(float)) {
			r = -1;
			break;
		}
		memset(&c, 0, sizeof c);
		c.id = (const char *)sqlite3_column_text(st, 0);
		c.source = (const char *)sqlite3_column_text(st, 1);
		c.seq = (long)sqlite3_column_int64(st, 2);
		c.page = sqlite3_column_int(st, 3);
		c.page_end = sqlite3_column_int(st, 4);
		c.title = (const char *)sqlite3_column_text(st, 5);
		c.text = (const char *)sqlite3_column_text(st, 6);
		c.fields_json = (const char *)sqlite3_column_text(st, 7);
		c.vec = sqlite3_column_blob(st, 8);
		r = fn(ctx, &c);
	}
	sqlite3_finalize(st);
	return r;
}

/* ---- reading, for rag-query ---- */

int idx_read_begin(idx *x, char *err, size_t errlen)
{
	if (exec(x, "BEGIN", err, errlen) < 0)
		return -1;
	/* the first read starts the snapshot */
	if (load_meta(x) < 0) {
		fail_db(x, err, errlen, "reading the settings");
		idx_read_end(x);
		return -1;
	}
	return 0;
}

void idx_read_end(idx *x)
{
	sqlite3_exec(x->db, "COMMIT", NULL, NULL, NULL);
}

long long idx_faiss_generation(const idx *x)
{
	return x->faiss_generation;
}

struct idx_reader {
	idx *x;
	sqlite3_stmt *row, *row_text, *fts;
	float *vec;
	int vec_dim;
};

idx_reader *idx_reader_new(idx *x, char *err, size_t errlen)
{
	idx_reader *r = calloc(1, sizeof *r);

	if (r == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->x = x;
	/* a reader jumps about the file: mapped pages cost no copy per read */
	sqlite3_exec(x->db, "PRAGMA mmap_size=4294967296", NULL, NULL, NULL);
	if (sqlite3_prepare_v3(x->db, "SELECT id, source, seq, page, page_end, title, fields, dl, vec"
			       " FROM chunks WHERE rid = ?1", -1, SQLITE_PREPARE_PERSISTENT, &r->row, NULL) != SQLITE_OK
	    || sqlite3_prepare_v3(x->db, "SELECT id, source, seq, page, page_end, title, fields, dl, vec, text, body"
				  " FROM chunks WHERE rid = ?1", -1, SQLITE_PREPARE_PERSISTENT, &r->row_text, NULL) != SQLITE_OK
	    || sqlite3_prepare_v3(x->db, "SELECT rowid, bm25(fts) FROM fts WHERE fts MATCH ?1 ORDER BY bm25(fts), rowid"
				  " LIMIT ?2", -1, SQLITE_PREPARE_PERSISTENT, &r->fts, NULL) != SQLITE_OK) {
		fail_db(x, err, errlen, "preparing");
		idx_reader_free(r);
		return NULL;
	}
	return r;
}

void idx_reader_free(idx_reader *r)
{
	if (r == NULL)
		return;
	sqlite3_finalize(r->row);
	sqlite3_finalize(r->row_text);
	sqlite3_finalize(r->fts);
	free(r->vec);
	free(r);
}

int idx_reader_row(idx_reader *r, int64_t rid, unsigned what, idx_row *out, char *err, size_t errlen)
{
	sqlite3_stmt *st = (what & IDX_ROW_TEXT) ? r->row_text : r->row;
	int rc;

	memset(out, 0, sizeof *out);
	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, rid);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return fail_db(r->x, err, errlen, "reading a chunk");
	out->c.id = (const char *)sqlite3_column_text(st, 0);
	out->c.source = (const char *)sqlite3_column_text(st, 1);
	out->c.seq = (long)sqlite3_column_int64(st, 2);
	out->c.page = sqlite3_column_int(st, 3);
	out->c.page_end = sqlite3_column_int(st, 4);
	out->c.title = (const char *)sqlite3_column_text(st, 5);
	out->c.fields_json = (const char *)sqlite3_column_text(st, 6);
	out->dl = (long)sqlite3_column_int64(st, 7);
	if (what & IDX_ROW_VEC) {
		int dim = r->x->dim;

		if (dim <= 0 || sqlite3_column_bytes(st, 8) != dim * (int)sizeof(float)) {
			snprintf(err, errlen, "%s/index.sqlite: chunk %lld has no vector of dimension %d", r->x->dir,
				 (long long)rid, dim);
			return -1;
		}
		if (r->vec_dim != dim) {
			float *v = realloc(r->vec, (size_t)dim * sizeof *v);

			if (v == NULL) {
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			r->vec = v;
			r->vec_dim = dim;
		}
		/* a blob need not be aligned for floats */
		memcpy(r->vec, sqlite3_column_blob(st, 8), (size_t)dim * sizeof *r->vec);
		out->c.vec = r->vec;
	}
	if (what & IDX_ROW_TEXT) {
		out->c.text = (const char *)sqlite3_column_text(st, 9);
		out->body = (const char *)sqlite3_column_text(st, 10);
		out->body_len = (size_t)sqlite3_column_bytes(st, 10);
		if (out->c.text == NULL || out->body == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	if (out->c.id == NULL || out->c.source == NULL) {
		snprintf(err, errlen, "%s/index.sqlite: chunk %lld has no id or source", r->x->dir, (long long)rid);
		return -1;
	}
	return 1;
}

long idx_reader_fts(idx_reader *r, const char *expr, long limit, int (*fn)(void *ctx, int64_t rid, double score),
		    void *ctx, char *err, size_t errlen)
{
	sqlite3_stmt *st = r->fts;
	long n = 0;
	int rc;

	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, expr, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		n++;
		if (fn(ctx, sqlite3_column_int64(st, 0), -sqlite3_column_double(st, 1)) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		fail_db(r->x, err, errlen, "full-text search");
		return -1;
	}
	return n;
}
