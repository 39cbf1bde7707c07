#include "cache.h"
#include "paths.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

struct cache {
	sqlite3 *db;
	sqlite3_stmt *get, *put;
};

static uint64_t checksum(const void *p, size_t len)
{
	const unsigned char *s = p;
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

int cache_default_dir(char *out, size_t outlen)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");

	if (xdg && *xdg)
		snprintf(out, outlen, "%s/ragpipe", xdg);
	else if (home && *home)
		snprintf(out, outlen, "%s/.cache/ragpipe", home);
	else
		return -1;
	return 0;
}

cache *cache_open(const char *dir, char *err, size_t errlen)
{
	cache *c = calloc(1, sizeof *c);
	char path[4096];
	const char *schema =
		"PRAGMA journal_mode=WAL;"
		"PRAGMA synchronous=NORMAL;"
		"CREATE TABLE IF NOT EXISTS vec(embedder TEXT NOT NULL, key BLOB NOT NULL, dim INTEGER NOT NULL,"
		" v BLOB NOT NULL, sum INTEGER NOT NULL, PRIMARY KEY(embedder, key)) WITHOUT ROWID;";

	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(path, sizeof path, "%s", dir);
	if (paths_mkdirs(path, 0700) < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		free(c);
		return NULL;
	}
	snprintf(path, sizeof path, "%s/embeddings.sqlite", dir);
	if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK
	    || sqlite3_busy_timeout(c->db, 30000) != SQLITE_OK
	    || sqlite3_exec(c->db, schema, NULL, NULL, NULL) != SQLITE_OK
	    || sqlite3_prepare_v2(c->db, "SELECT dim, v, sum FROM vec WHERE embedder = ?1 AND key = ?2", -1, &c->get, NULL) != SQLITE_OK
	    || sqlite3_prepare_v2(c->db, "INSERT OR REPLACE INTO vec(embedder, key, dim, v, sum) VALUES (?1, ?2, ?3, ?4, ?5)",
				  -1, &c->put, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, c->db ? sqlite3_errmsg(c->db) : "cannot open");
		cache_close(c);
		return NULL;
	}
	return c;
}

void cache_close(cache *c)
{
	if (c == NULL)
		return;
	sqlite3_finalize(c->get);
	sqlite3_finalize(c->put);
	sqlite3_close(c->db);
	free(c);
}

int cache_get(cache *c, const char *embedder, const unsigned char key[32], float **vec, int *dim, char *err, size_t errlen)
{
	int rc, d, r = 0, i;
	const void *blob;
	size_t len;
	float *v;

	*vec = NULL;
	sqlite3_bind_text(c->get, 1, embedder, -1, SQLITE_STATIC);
	sqlite3_bind_blob(c->get, 2, key, 32, SQLITE_STATIC);
	rc = sqlite3_step(c->get);
	if (rc == SQLITE_ROW) {
		d = sqlite3_column_int(c->get, 0);
		blob = sqlite3_column_blob(c->get, 1);
		len = (size_t)sqlite3_column_bytes(c->get, 1);
		if (d > 0 && blob && len == (size_t)d * sizeof(float)
		    && (uint64_t)sqlite3_column_int64(c->get, 2) == checksum(blob, len)
		    && (v = malloc(len)) != NULL) {
			memcpy(v, blob, len);
			for (i = 0; i < d && isfinite(v[i]); i++)
				;
			if (i == d) {
				*vec = v;
				*dim = d;
				r = 1;
			} else {
				free(v);
			}
		}
	} else if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "embedding cache: %s", sqlite3_errmsg(c->db));
		r = -1;
	}
	sqlite3_reset(c->get);
	return r;
}

int cache_put(cache *c, const char *embedder, const unsigned char key[32], const float *vec, int dim, char *err, size_t errlen)
{
	size_t len = (size_t)dim * sizeof(float);
	int rc;

	sqlite3_bind_text(c->put, 1, embedder, -1, SQLITE_STATIC);
	sqlite3_bind_blob(c->put, 2, key, 32, SQLITE_STATIC);
	sqlite3_bind_int(c->put, 3, dim);
	sqlite3_bind_blob(c->put, 4, vec, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(c->put, 5, (sqlite3_int64)checksum(vec, len));
	rc = sqlite3_step(c->put);
	sqlite3_reset(c->put);
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "embedding cache: %s", sqlite3_errmsg(c->db));
		return -1;
	}
	return 0;
}

int cache_begin(cache *c)
{
	return sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

int cache_end(cache *c)
{
	return sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}
