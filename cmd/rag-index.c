/* rag-index: embedded chunk records into an index directory. */
#include "ahead.h"
#include "fts.h"
#include "idx.h"
#include "jl.h"
#include "msg.h"
#include "opt.h"
#include "paths.h"
#include "prog.h"
#include "sb.h"
#include "sig.h"
#include "vecs.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char help[] =
	"usage: rag-index -d DIR [-hqv] [--no-wait] [--batch N] [--threads N] [--type FACTORY] [FILE...]\n"
	"       rag-index -d DIR --delete SOURCE... | --prune [--keep-list FILE] [--max-delete N|P%]\n"
	"                 | --merge DIR... | --rebuild | --stats\n"
	"Add embedded chunk records (from FILE or standard input) to the index in DIR.\n"
	"\n"
	"  -d, --dir DIR         the index directory (created when missing)\n"
	"      --batch N         records per transaction at least (default 10000; whole documents)\n"
	"      --threads N       1: read and write in one thread; 2: read in a second one\n"
	"                        (the default when there is more than one processor)\n"
	"      --no-wait         fail at once if another rag-index is writing to DIR\n"
	"      --delete          the arguments are sources to remove\n"
	"      --prune           remove documents whose source no longer exists\n"
	"      --keep-list FILE  with --prune: remove those not listed in FILE\n"
	"      --max-delete N|P% with --prune: refuse to remove more than N documents,\n"
	"                        or P% of them (default 50%)\n"
	"      --merge           the arguments are index directories to add\n"
	"      --type FACTORY    faiss index type (index-factory string; default by size)\n"
	"      --rebuild         rebuild the faiss index from the stored vectors\n"
	"      --stats           print what the index holds, as JSON\n"
	"      --summary         print counts of added, replaced, unchanged, deleted\n"
	"  -q, --quiet           no warnings, no progress\n"
	"      --progress        progress also when stderr is no terminal (for a log)\n"
	"  -v, --verbose         as --summary, and more\n"
	"  -h, --help            this text\n"
	"      --version         print the version\n";

enum {
	OPT_BATCH = OPT_FIRST_PRIVATE, OPT_NO_WAIT, OPT_DELETE, OPT_PRUNE, OPT_KEEP_LIST, OPT_TYPE, OPT_REBUILD,
	OPT_STATS, OPT_SUMMARY, OPT_MERGE, OPT_THREADS, OPT_MAX_DELETE
};

struct run {
	idx *x;
	vecs *v;
	long batch_size;
	long in_batch;
	int in_tx;
	/* the document being read */
	char *source, *hash;
	int skipping;		/* it is unchanged: its chunks are passed over */
	long doc_chunks;
	/* the sources met in this run, in case one comes back later */
	struct seen {
		char **key;
		long *chunks;
		char *skipped;
		size_t cap, n;
	} seen;
	/* the records of an unchanged document, kept aside (with where they
	 * came from) until its end shows whether the index holds all of them:
	 * a run cut short upstream leaves a document with the right hash but
	 * too few chunks, which the next run must complete (fewer records than
	 * the index holds are a cut-short input, or a first group of several:
	 * the index keeps its own) */
	FILE *spool;
	long spooled, stored_chunks;
	int first_met;
	/* counts */
	long added, replaced, unchanged, deleted, chunks_added;
	long committed_docs, committed_chunks;	/* written for good by this run */
	char err[1024];
};

static size_t seen_slot(struct seen *t, const char *key);
struct prep;
static void gone(void *ctx, int64_t id);
static int add_record(struct run *r, struct prep *p, const char *line, size_t len, const char *where);

static int spool_line(struct run *r, const char *where, const char *line, size_t len)
{
	size_t wl = strlen(where);

	if (r->spool == NULL && (r->spool = tmpfile()) == NULL)
		goto fail;
	if (fwrite(&wl, sizeof wl, 1, r->spool) != 1 || fwrite(where, 1, wl, r->spool) != wl
	    || fwrite(&len, sizeof len, 1, r->spool) != 1 || fwrite(line, 1, len, r->spool) != len)
		goto fail;
	r->spooled++;
	return 0;
fail:
	snprintf(r->err, sizeof r->err, "%s: keeping the record aside: %s", where, strerror(errno));
	return -1;
}

static int respool(struct run *r);
static int begin(struct run *r);
static int commit(struct run *r);

static int end_document(struct run *r)
{
	int rc = 0;

	if (r->source && r->skipping && r->first_met && r->spooled > r->stored_chunks)
		rc = respool(r);
	if (rc == 0 && r->source && !r->skipping) {
		idx_doc d = { r->source, r->hash, NULL, r->doc_chunks };
		char abs[4096];
		struct stat st;

		/* where the file is, so that --prune finds it from anywhere */
		if (stat(r->source, &st) == 0 && paths_absolute(r->source, abs, sizeof abs) == 0)
			d.path = abs;
		rc = idx_set_document(r->x, &d, r->err, sizeof r->err);
		if (r->seen.cap)
			r->seen.chunks[seen_slot(&r->seen, r->source)] = r->doc_chunks;
	}
	free(r->source);
	free(r->hash);
	r->source = r->hash = NULL;
	/* batches end between documents, so that no reader sees half of one */
	if (rc == 0 && r->in_batch >= r->batch_size)
		rc = commit(r);
	return rc;
}

static size_t seen_slot(struct seen *t, const char *key)
{
	size_t h = 5381, j;
	const char *p;

	for (p = key; *p; p++)
		h = h * 33 + (unsigned char)*p;
	for (j = h & (t->cap - 1); t->key[j] && strcmp(t->key[j], key) != 0; j = (j + 1) & (t->cap - 1))
		;
	return j;
}

static int seen_grow(struct seen *t)
{
	struct seen nt = { 0 };
	size_t i;

	nt.cap = t->cap ? t->cap * 2 : 256;
	nt.key = calloc(nt.cap, sizeof *nt.key);
	nt.chunks = calloc(nt.cap, sizeof *nt.chunks);
	nt.skipped = calloc(nt.cap, 1);
	if (!nt.key || !nt.chunks || !nt.skipped) {
		free(nt.key);
		free(nt.chunks);
		free(nt.skipped);
		return -1;
	}
	for (i = 0; i < t->cap; i++) {
		if (t->key[i]) {
			size_t j = seen_slot(&nt, t->key[i]);

			nt.key[j] = t->key[i];
			nt.chunks[j] = t->chunks[i];
			nt.skipped[j] = t->skipped[i];
		}
	}
	nt.n = t->n;
	free(t->key);
	free(t->chunks);
	free(t->skipped);
	*t = nt;
	return 0;
}

static void seen_free(struct seen *t)
{
	size_t i;

	for (i = 0; i < t->cap; i++)
		free(t->key[i]);
	free(t->key);
	free(t->chunks);
	free(t->skipped);
}

/* The first chunk of a document, or of a document's records that come
 * again after another's (the input need not keep a document together). */
static int start_document(struct run *r, const char *source, const char *hash)
{
	char old[80];
	int had;
	size_t j;

	r->source = strdup(source);
	r->hash = strdup(hash);
	if (!r->source || !r->hash) {
		snprintf(r->err, sizeof r->err, "out of memory");
		return -1;
	}
	r->doc_chunks = 0;
	if ((r->seen.n + 1) * 2 > r->seen.cap && seen_grow(&r->seen) < 0) {
		snprintf(r->err, sizeof r->err, "out of memory");
		return -1;
	}
	j = seen_slot(&r->seen, source);
	r->first_met = !r->seen.key[j];
	r->spooled = 0;
	if (r->spool && (fflush(r->spool) != 0 || ftruncate(fileno(r->spool), 0) < 0 || fseek(r->spool, 0, SEEK_SET) != 0)) {
		snprintf(r->err, sizeof r->err, "keeping records aside: %s", strerror(errno));
		return -1;
	}
	if (r->seen.key[j]) {
		/* met before in this run: go on as then */
		r->skipping = r->seen.skipped[j];
		r->doc_chunks = r->seen.chunks[j];
		return 0;
	}
	had = idx_document(r->x, source, old, sizeof old);
	r->skipping = had && hash[0] && strcmp(old, hash) == 0;
	r->seen.key[j] = strdup(source);
	if (r->seen.key[j] == NULL) {
		snprintf(r->err, sizeof r->err, "out of memory");
		return -1;
	}
	r->seen.skipped[j] = (char)r->skipping;
	r->seen.n++;
	if (r->skipping) {
		r->stored_chunks = idx_document_chunks(r->x, source);
		r->unchanged++;
		return 0;
	}
	/* changed, or new: whatever the index holds of it goes first (also the
	 * chunks of a run that was killed half-way through it) */
	if (idx_delete_source(r->x, source, gone, r->v, r->err, sizeof r->err) < 0)
		return -1;
	if (had)
		r->replaced++;
	else
		r->added++;
	return 0;
}

/* "stdin: line 3: " + the error + suffix */
static void prefix_err(struct run *r, const char *where, const char *suffix)
{
	char tmp[sizeof r->err];

	memcpy(tmp, r->err, sizeof tmp);
	snprintf(r->err, sizeof r->err, "%.300s: %.600s%.100s", where, tmp, suffix);
}

/* A record read from its text without building a DOM: the known members'
 * values are found by position, decoded when used, and the rest kept as
 * written. */
enum { F_ID, F_SOURCE, F_DOC, F_SEQ, F_PAGE, F_PAGE_END, F_TITLE, F_TEXT, F_EMBEDDING, F_EMBEDDER, F_N };
static const char *const known[F_N] = { "id", "source", "doc", "seq", "page", "page_end", "title", "text",
					"embedding", "embedder" };

struct record {
	const char *line;
	size_t start[F_N], end[F_N];	/* of the value; end 0 when absent */
	sb rest;			/* the other members, as JSON text */
	sb str[F_N];
	const char *val[F_N];		/* the strings decoded, NULL when absent */
	char srcbuf[4096];		/* the source taken from the id */
	const char *source;		/* the given one, or srcbuf */
};

/* A line made ready to be written, in the reading thread when there is one:
 * checked, its members found, the vector parsed, the text cut. A step not
 * taken is taken by the writer when it needs it. */
enum {
	CUT_AHEAD_MAX = 16384,	/* bytes of text cut in the reading thread, at most */
	BIG_BUFFER = 1 << 20,
};

struct prep {
	int checked;		/* jl_check ran: bad tells how it went */
	int bad;		/* not a JSON object: err says why */
	int parsed;		/* members found (err set when one is wrong) */
	struct record rec;
	float *vec;		/* malloc'd; NULL until parsed */
	int dim;
	sb body;
	fts_cut cut;
	int cut_done;
	char err[1024];
};

static int record_member(void *ctx, const char *key, size_t keylen, size_t start, size_t end)
{
	struct record *rec = ctx;
	size_t v = start + keylen + 2;
	int f;

	while (rec->line[v] == ' ' || rec->line[v] == '\t' || rec->line[v] == '\n' || rec->line[v] == '\r'
	       || rec->line[v] == ':')
		v++;
	for (f = 0; f < F_N; f++)
		if (strlen(known[f]) == keylen && memcmp(known[f], key, keylen) == 0) {
			/* a key given twice: the first, as a re-run's look at the
			 * source alone takes it */
			if (rec->end[f] == 0) {
				rec->start[f] = v;
				rec->end[f] = end;
			}
			return 0;
		}
	if (sb_putc(&rec->rest, rec->rest.len ? ',' : '{') < 0 || sb_append(&rec->rest, rec->line + start, end - start) < 0)
		return -1;
	return 0;
}

/* A string member's value, or NULL when it is absent or not a string (*bad
 * set when it cannot be decoded). */
static const char *get_str(struct record *rec, int f, int *bad)
{
	if (rec->end[f] == 0 || rec->line[rec->start[f]] != '"')
		return NULL;
	sb_truncate(&rec->str[f], 0);
	if (jl_get_string(rec->line + rec->start[f], rec->end[f] - rec->start[f], &rec->str[f]) < 0) {
		*bad = 1;
		return NULL;
	}
	return sb_str(&rec->str[f]);
}

/* A whole-number member from min to INT32_MAX: 1, 0 when absent or null,
 * -1 when it is something else (nothing is quietly changed). */
static int get_int(struct record *rec, int f, int min, int *out)
{
	const char *s = rec->line + rec->start[f];
	size_t n = rec->end[f] - rec->start[f];
	long long v;

	if (rec->end[f] == 0 || (n == 4 && memcmp(s, "null", 4) == 0))
		return 0;
	if (memchr(s, '.', n) || memchr(s, 'e', n) || memchr(s, 'E', n) || (*s != '-' && (*s < '0' || *s > '9')))
		return -1;
	errno = 0;
	v = strtoll(s, NULL, 10);
	if (errno == ERANGE || v < min || v > INT32_MAX)
		return -1;
	*out = (int)v;
	return 1;
}

static void prep_reset(struct prep *p)
{
	p->checked = p->bad = p->parsed = p->cut_done = 0;
	free(p->vec);
	p->vec = NULL;
	p->err[0] = '\0';
}

/* Once its line is written: a buffer a huge line left large is given back,
 * so that each of the lines read ahead does not keep one. */
static void prep_trim(struct prep *p)
{
	int f;

	for (f = 0; f < F_N; f++)
		if (p->rec.str[f].cap > BIG_BUFFER)
			sb_free(&p->rec.str[f]);
	if (p->rec.rest.cap > BIG_BUFFER)
		sb_free(&p->rec.rest);
	if (p->body.cap > BIG_BUFFER)
		sb_free(&p->body);
}

static void prep_free(void *ctx, void *prep)
{
	struct prep *p = prep;
	int f;

	(void)ctx;
	if (p == NULL)
		return;
	sb_free(&p->rec.rest);
	for (f = 0; f < F_N; f++)
		sb_free(&p->rec.str[f]);
	free(p->vec);
	sb_free(&p->body);
	fts_cut_free(&p->cut);
	free(p);
}

static void *prep_new(void *ctx)
{
	(void)ctx;
	return calloc(1, sizeof(struct prep));
}

/* Find a checked line's members and decode its strings: 0, or -1 with the
 * reason in p->err. */
static int parse_members(struct prep *p, const char *line, size_t len)
{
	struct record *rec = &p->rec;
	int bad = 0, f;

	p->parsed = 1;
	memset(rec->end, 0, sizeof rec->end);
	sb_truncate(&rec->rest, 0);
	rec->line = line;
	if (jl_members_valid(line, len, record_member, rec) < 0) {
		snprintf(p->err, sizeof p->err, "out of memory");
		return -1;
	}
	for (f = 0; f < F_N; f++)
		rec->val[f] = f == F_ID || f == F_TEXT || f == F_SOURCE || f == F_DOC || f == F_EMBEDDER || f == F_TITLE
				      ? get_str(rec, f, &bad)
				      : NULL;
	if (bad) {
		snprintf(p->err, sizeof p->err, "a string holds \\u0000, or memory ran out");
		return -1;
	}
	if (rec->val[F_ID] == NULL || rec->val[F_TEXT] == NULL) {
		snprintf(p->err, sizeof p->err, "a chunk needs \"id\" and \"text\" strings");
		return -1;
	}
	if (rec->end[F_EMBEDDING] == 0) {
		snprintf(p->err, sizeof p->err, "no \"embedding\" (run rag-embed first)");
		return -1;
	}
	if (rec->val[F_EMBEDDER] == NULL) {
		snprintf(p->err, sizeof p->err, "no \"embedder\" string");
		return -1;
	}
	rec->source = rec->val[F_SOURCE];
	if (rec->source == NULL) {
		/* "book.pdf#3" comes from "book.pdf" */
		const char *id = rec->val[F_ID], *hash = strrchr(id, '#');
		size_t n = hash ? (size_t)(hash - id) : strlen(id);

		snprintf(rec->srcbuf, sizeof rec->srcbuf, "%.*s", (int)n, id);
		rec->source = rec->srcbuf;
	}
	return 0;
}

static int parse_vector(struct prep *p)
{
	struct record *rec = &p->rec;

	return vecs_parse_text(rec->line + rec->start[F_EMBEDDING], rec->end[F_EMBEDDING] - rec->start[F_EMBEDDING],
			       &p->vec, &p->dim, p->err, sizeof p->err);
}

/* The document's stored chunks are fewer or more than the input's: index
 * it again from the records kept aside. */
static int respool(struct run *r)
{
	size_t wl, len;
	char where[600];
	sb line = { 0 };
	long n = r->spooled, i;
	int rc = 0;
	jl_reader *check = jl_reader_new(r->spool, "spool");	/* for its reasons only */
	/* not the caller's: it holds the record that ended this document */
	struct prep *p = prep_new(NULL);

	msg_warn("%s: the index held %ld chunks of it, the input has %ld: indexed again", r->source, r->stored_chunks, n);
	r->skipping = 0;
	r->seen.skipped[seen_slot(&r->seen, r->source)] = 0;
	r->unchanged--;
	r->replaced++;
	if (fflush(r->spool) != 0 || fseek(r->spool, 0, SEEK_SET) != 0
	    || idx_delete_source(r->x, r->source, gone, r->v, r->err, sizeof r->err) < 0)
		rc = -1;
	for (i = 0; i < n && rc == 0; i++) {
		if (fread(&wl, sizeof wl, 1, r->spool) != 1 || wl >= sizeof where || fread(where, 1, wl, r->spool) != wl
		    || fread(&len, sizeof len, 1, r->spool) != 1) {
			snprintf(r->err, sizeof r->err, "%s: reading the records kept aside failed", r->source);
			rc = -1;
			break;
		}
		where[wl] = '\0';
		sb_truncate(&line, 0);
		if (sb_reserve(&line, len + 1) < 0 || fread(line.buf, 1, len, r->spool) != len) {
			snprintf(r->err, sizeof r->err, "%s: reading the records kept aside failed", where);
			rc = -1;
			break;
		}
		line.len = len;
		line.buf[len] = '\0';
		if (check == NULL || p == NULL) {
			snprintf(r->err, sizeof r->err, "out of memory");
			rc = -1;
		} else if (jl_check(check, line.buf, len) != JL_OK) {
			snprintf(r->err, sizeof r->err, "%s: %s", where, jl_reason(check));
			rc = -1;
		} else {
			prep_reset(p);
			rc = add_record(r, p, line.buf, len, where);
		}
	}
	sb_free(&line);
	jl_reader_free(check);
	prep_free(NULL, p);
	r->spooled = 0;
	return rc;
}

static void gone(void *ctx, int64_t id)
{
	vecs_remove(ctx, id);
}

static int begin(struct run *r)
{
	if (r->in_tx)
		return 0;
	if (idx_begin(r->x, r->err, sizeof r->err) < 0)
		return -1;
	r->in_tx = 1;
	r->in_batch = 0;
	return 0;
}

static int commit(struct run *r)
{
	if (!r->in_tx)
		return 0;
	r->in_tx = 0;
	if (idx_commit(r->x, r->err, sizeof r->err) < 0)
		return -1;
	r->committed_docs = r->added + r->replaced;
	r->committed_chunks = r->chunks_added;
	return 0;
}

/* The current document is complete. */

/* One record, checked: 0, or -1 with r->err set (the run stops). The
 * steps the reading thread did not take are taken here. */
static int add_record(struct run *r, struct prep *p, const char *line, size_t len, const char *where)
{
	struct record *rec = &p->rec;
	const char *source;
	idx_chunk c;
	int64_t rowid;

	if ((!p->parsed && parse_members(p, line, len) < 0) || p->err[0] || (p->vec == NULL && parse_vector(p) < 0)) {
		snprintf(r->err, sizeof r->err, "%.300s: %.600s", where, p->err);
		return -1;
	}
	memset(&c, 0, sizeof c);
	c.title = rec->val[F_TITLE];
	source = rec->source;
	/* settling the embedder belongs to the batch: a batch that is not
	 * written settles nothing */
	if (begin(r) < 0)
		return -1;
	if (idx_use_embedder(r->x, rec->val[F_EMBEDDER], p->dim, r->err, sizeof r->err) < 0) {
		prefix_err(r, where, "; nothing of this batch was written");
		return -1;
	}
	if (vecs_use_dim(r->v, p->dim, idx_type(r->x), r->err, sizeof r->err) < 0)
		return -1;
	if (r->source == NULL || strcmp(r->source, source) != 0) {
		if (r->source && end_document(r) < 0)
			return -1;
		if (begin(r) < 0 || start_document(r, source, rec->val[F_DOC] ? rec->val[F_DOC] : "") < 0)
			return -1;
	}
	if (r->skipping)
		return r->first_met ? spool_line(r, where, line, len) : 0;
	c.id = rec->val[F_ID];
	c.source = source;
	c.text = rec->val[F_TEXT];
	{
		int seq = 0, page = 0, page_end = 0, f = -1;

		if (get_int(rec, F_SEQ, 0, &seq) < 0)
			f = F_SEQ;
		else if (get_int(rec, F_PAGE, 1, &page) < 0)
			f = F_PAGE;
		else if (get_int(rec, F_PAGE_END, page > 0 ? page : 1, &page_end) < 0)
			f = F_PAGE_END;
		if (f >= 0) {
			snprintf(r->err, sizeof r->err, "%s: \"%s\" is not a whole number from %d to 2147483647%s", where,
				 known[f], f == F_SEQ ? 0 : f == F_PAGE || page == 0 ? 1 : page,
				 f == F_PAGE_END && page > 0 ? " (at least \"page\")" : "");
			return -1;
		}
		c.seq = seq;
		c.page = page;
		c.page_end = page_end ? page_end : page;
	}
	c.vec = p->vec;
	c.cut = p->cut_done ? &p->cut : NULL;
	if (rec->rest.len > 0) {
		if (sb_putc(&rec->rest, '}') < 0) {
			snprintf(r->err, sizeof r->err, "out of memory");
			return -1;
		}
		c.fields_json = sb_str(&rec->rest);
	}
	if (idx_add_chunk(r->x, &c, &rowid, r->err, sizeof r->err) < 0
	    || vecs_add(r->v, rowid, p->vec, r->err, sizeof r->err) < 0)
		return -1;
	r->doc_chunks++;
	r->chunks_added++;
	r->in_batch++;
	return 0;
}

/* Does this line's record belong to source? Only its "source" (or "id")
 * member is looked at; a value with escapes is left to the full parse. */
struct peek {
	const char *line;
	size_t src_start, src_end, id_start, id_end;
};

static int peek_member(void *ctx, const char *key, size_t keylen, size_t start, size_t end)
{
	struct peek *p = ctx;
	size_t v = start + keylen + 2;

	while (p->line[v] == ' ' || p->line[v] == '\t' || p->line[v] == ':')
		v++;
	if (keylen == 6 && memcmp(key, "source", 6) == 0) {
		p->src_start = v;
		p->src_end = end;
		return 1;	/* the rest (the vector) need not be read */
	} else if (keylen == 2 && memcmp(key, "id", 2) == 0) {
		p->id_start = v;
		p->id_end = end;
	}
	return 0;
}

static int same_source(const char *line, size_t len, const char *source)
{
	struct peek p = { line, 0, 0, 0, 0 };
	size_t a, b, n = strlen(source);

	if (jl_members(line, len, peek_member, &p) < 0)
		return 0;
	if (p.src_end > p.src_start) {
		a = p.src_start;
		b = p.src_end;
	} else if (p.id_end > p.id_start) {
		/* "book.pdf#3" belongs to "book.pdf" */
		a = p.id_start;
		b = p.id_end - 1;
		while (b > a && line[b] != '#')
			b--;
		if (b == a)
			return 0;
		b++;	/* pretend the '#' is the closing quote */
	} else {
		return 0;
	}
	if (line[a] != '"' || memchr(line + a, '\\', b - a) != NULL)
		return 0;
	return b - a - 2 == n && memcmp(line + a + 1, source, n) == 0;
}

/* The reading thread's own state. It guesses which documents the writer
 * will pass over (unchanged in the index as last committed) so as not to
 * parse or cut their lines; a wrong guess costs only time, since the writer
 * takes any step not taken. */
struct reading {
	idx *hint;		/* its own connection; NULL: no reading thread */
	char *last;		/* the source of the last line parsed */
	int last_unchanged;
};

static void prepare(void *ctx, ahead_line *l, jl_reader *jr)
{
	struct reading *w = ctx;
	struct prep *p = l->prep;
	struct record *rec = &p->rec;
	const char *doc, *body;
	char old[80];
	size_t len;

	prep_reset(p);
	if (w->hint == NULL)
		return;
	if (w->last && w->last_unchanged && same_source(l->line, l->len, w->last))
		return;
	p->checked = 1;
	if (jl_check(jr, l->line, l->len) != JL_OK) {
		p->bad = 1;
		snprintf(p->err, sizeof p->err, "%s", jl_reason(jr));
		return;
	}
	if (parse_members(p, l->line, l->len) < 0)
		return;
	if (w->last == NULL || strcmp(w->last, rec->source) != 0) {
		doc = rec->val[F_DOC];
		free(w->last);
		w->last = strdup(rec->source);
		w->last_unchanged = doc && doc[0] && idx_document(w->hint, rec->source, old, sizeof old) == 1
				    && strcmp(old, doc) == 0;
	}
	if (w->last_unchanged || parse_vector(p) < 0)
		return;
	/* a long text is cut as it is written instead: the terms of a whole
	 * book held ahead would take many times its size */
	body = idx_body(rec->val[F_TITLE], rec->val[F_TEXT], &p->body, &len);
	if (body && len <= CUT_AHEAD_MAX && fts_cut_text(&p->cut, body, len) == 0)
		p->cut_done = 1;
}

/* --merge: the documents of other index directories */

struct merge {
	struct run *r;
	idx *from;
	const char *dir;
	int failed;
};

static int merge_chunk(void *ctx, const idx_chunk *c)
{
	struct merge *m = ctx;
	int64_t rowid;

	if (idx_add_chunk(m->r->x, c, &rowid, m->r->err, sizeof m->r->err) < 0
	    || vecs_add(m->r->v, rowid, c->vec, m->r->err, sizeof m->r->err) < 0)
		return -1;
	m->r->chunks_added++;
	return 0;
}

static int merge_document(void *ctx, const idx_doc *d)
{
	struct merge *m = ctx;
	struct run *r = m->r;
	char old[80];
	int had = idx_document(r->x, d->source, old, sizeof old);

	if (sig_caught()) {
		snprintf(r->err, sizeof r->err, "interrupted");
		return -1;
	}
	if (had && strcmp(old, d->hash) == 0 && d->hash[0]) {
		r->unchanged++;
		return 0;
	}
	if (idx_delete_source(r->x, d->source, gone, r->v, r->err, sizeof r->err) < 0
	    || idx_each_chunk(m->from, d->source, merge_chunk, m) != 0
	    || idx_set_document(r->x, d, r->err, sizeof r->err) < 0)
		return -1;
	if (had)
		r->replaced++;
	else
		r->added++;
	return 0;
}

static int merge_dirs(struct run *r, char **dirs, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		struct merge m = { r, NULL, dirs[i], 0 };

		m.from = idx_open(dirs[i], IDX_READ, 0, r->err, sizeof r->err);
		if (m.from == NULL)
			return -1;
		if (idx_dim(m.from) == 0) {
			idx_close(m.from);
			continue;	/* empty */
		}
		if (begin(r) < 0 || idx_use_embedder(r->x, idx_embedder(m.from), idx_dim(m.from), r->err, sizeof r->err) < 0
		    || idx_each_document(m.from, merge_document, &m) != 0 || commit(r) < 0) {
			if (r->err[0] == '\0')
				snprintf(r->err, sizeof r->err, "%s: cannot read it", dirs[i]);
			if (r->in_tx) {
				idx_rollback(r->x);
				r->in_tx = 0;
			}
			idx_close(m.from);
			return -1;
		}
		idx_close(m.from);
	}
	return 0;
}

/* --delete and --prune */

struct prune {
	struct run *r;
	long documents;		/* in the index */
	char **gone;
	size_t n, cap;
	const char *keep_list;
	char **keep;
	size_t nkeep;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The file a document was indexed from: where the index recorded it, or
 * (indexed before paths were recorded) its source as named. */
static int prune_one(void *ctx, const idx_doc *d)
{
	struct prune *p = ctx;
	struct stat st;
	int drop;

	p->documents++;
	if (p->keep_list)
		drop = bsearch(&d->source, p->keep, p->nkeep, sizeof *p->keep, cmp_str) == NULL;
	else
		drop = stat(d->path ? d->path : d->source, &st) < 0 && errno == ENOENT;
	if (!drop)
		return 0;
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		char **v = realloc(p->gone, cap * sizeof *v);

		if (v == NULL)
			return -1;
		p->gone = v;
		p->cap = cap;
	}
	if ((p->gone[p->n] = strdup(d->source)) == NULL)
		return -1;
	p->n++;
	return 0;
}

/* --max-delete N or P%: at most that many of the documents go. */
struct max_delete {
	long n;
	int percent;
};

static int parse_max_delete(const char *arg, struct max_delete *m)
{
	size_t len = strlen(arg);
	int percent = len > 0 && arg[len - 1] == '%';
	char num[32];

	if (len == 0 || len - (size_t)percent >= sizeof num)
		return -1;
	snprintf(num, sizeof num, "%.*s", (int)(len - (size_t)percent), arg);
	if (opt_long("--max-delete", num, 0, percent ? 100 : 2147483647L, &m->n) < 0)
		return -1;
	m->percent = percent;
	return 0;
}

/* A prune that would take more than the limit allows is refused whole: a
 * wrong working directory, an unmounted disk or a truncated keep list must
 * not empty the index. */
static int prune_allowed(const struct prune *p, const struct max_delete *m, const char *dir)
{
	char cwd[4096];

	if (p->n == 0 || (m->percent ? (double)p->n * 100 <= (double)m->n * (double)p->documents : (long)p->n <= m->n))
		return 1;
	msg_error("%s: --prune would delete %zu of %ld documents (%.0f%%), more than --max-delete %ld%s allows;"
		  " nothing deleted", dir, p->n, p->documents, 100.0 * (double)p->n / (double)p->documents, m->n,
		  m->percent ? "%" : "");
	if (p->keep_list)
		msg_error("%s: they are not in %s (first: %s); give --max-delete %s to delete them", dir, p->keep_list,
			  p->gone[0], m->percent ? "100%" : "N");
	else
		msg_error("%s: their files are missing, as seen from %s (first: %s); give --max-delete %s to delete them",
			  dir, getcwd(cwd, sizeof cwd) ? cwd : "here", p->gone[0], m->percent ? "100%" : "N");
	return 0;
}

static int read_keep_list(struct prune *p)
{
	FILE *f = strcmp(p->keep_list, "-") == 0 ? stdin : fopen(p->keep_list, "r");
	char *line = NULL;
	size_t cap = 0, alloc = 0;
	ssize_t n;

	if (f == NULL) {
		msg_error("%s: %s", p->keep_list, strerror(errno));
		return -1;
	}
	while ((n = getline(&line, &cap, f)) >= 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0)
			continue;
		if (p->nkeep == alloc) {
			char **v;

			alloc = alloc ? alloc * 2 : 256;
			v = realloc(p->keep, alloc * sizeof *v);
			if (v == NULL)
				break;
			p->keep = v;
		}
		if ((p->keep[p->nkeep] = strdup(line)) == NULL)
			break;
		p->nkeep++;
	}
	free(line);
	if (f != stdin)
		fclose(f);
	qsort(p->keep, p->nkeep, sizeof *p->keep, cmp_str);
	return 0;
}

static int delete_sources(struct run *r, char **sources, size_t n)
{
	size_t i;

	if (begin(r) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		char hash[80];

		if (!idx_document(r->x, sources[i], hash, sizeof hash)) {
			msg_warn("%s: not in the index", sources[i]);
			continue;
		}
		if (idx_delete_source(r->x, sources[i], gone, r->v, r->err, sizeof r->err) < 0)
			return -1;
		r->deleted++;
	}
	return commit(r);
}

/* Documents indexed from files that are gone keep answering until pruned:
 * say so after a run that added to the index. */
struct missing {
	long n;
	char first[4096];
};

static int count_missing(void *ctx, const idx_doc *d)
{
	struct missing *m = ctx;
	struct stat st;

	if (d->path && stat(d->path, &st) < 0 && errno == ENOENT && m->n++ == 0)
		snprintf(m->first, sizeof m->first, "%s", d->source);
	return 0;
}

static void warn_missing(idx *x, const char *dir)
{
	struct missing m = { 0, "" };

	if (msg_verbosity < 1 || idx_each_document(x, count_missing, &m) < 0 || m.n == 0)
		return;
	msg_warn("%s: %ld indexed document%s no longer on disk (first: %s); rag-index -d %s --prune removes them", dir,
		 m.n, m.n == 1 ? " is" : "s are", m.first, dir);
}

static void print_stats(idx *x)
{
	idx_stats st;
	json_object *o;

	if (idx_stats_get(x, &st) < 0)
		return;
	o = json_object_new_object();
	json_object_object_add(o, "documents", json_object_new_int64(st.documents));
	json_object_object_add(o, "chunks", json_object_new_int64(st.chunks));
	json_object_object_add(o, "dimension", json_object_new_int(st.dim));
	json_object_object_add(o, "embedder", json_object_new_string(st.embedder));
	json_object_object_add(o, "index_type", json_object_new_string(st.index_type));
	json_object_object_add(o, "bytes", json_object_new_int64(st.bytes));
	json_object_object_add(o, "generation", json_object_new_int64(st.generation));
	{
		char path[4096];

		idx_faiss_path(x, path, sizeof path);
		json_object_object_add(o, "faiss_current", json_object_new_boolean(st.faiss_generation == st.generation
									   && access(path, R_OK) == 0));
	}
	jl_write(stdout, o);
	json_object_put(o);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "batch", required_argument, NULL, OPT_BATCH },
		{ "no-wait", no_argument, NULL, OPT_NO_WAIT },
		{ "delete", no_argument, NULL, OPT_DELETE },
		{ "prune", no_argument, NULL, OPT_PRUNE },
		{ "keep-list", required_argument, NULL, OPT_KEEP_LIST },
		{ "max-delete", required_argument, NULL, OPT_MAX_DELETE },
		{ "type", required_argument, NULL, OPT_TYPE },
		{ "rebuild", no_argument, NULL, OPT_REBUILD },
		{ "stats", no_argument, NULL, OPT_STATS },
		{ "summary", no_argument, NULL, OPT_SUMMARY },
		{ "merge", no_argument, NULL, OPT_MERGE },
		{ "threads", required_argument, NULL, OPT_THREADS },
		OPT_STD_LONG,
		{ NULL, 0, NULL, 0 }
	};
	const char *dir = NULL, *keep_list = NULL, *type = NULL;
	int c, nowait = 0, del = 0, prune = 0, rebuild = 0, stats = 0, summary = 0, merge = 0, status = EXIT_OK, i, ended;
	struct run r;
	char err[1024];
	long threads;
	struct max_delete max_delete = { 50, 1 };
	int max_delete_given = 0, made_dir = 0, made_index = 0, signo = 0, ingest, from_tty;

	msg_init(argv);
	memset(&r, 0, sizeof r);
	r.batch_size = 10000;
	threads = sysconf(_SC_NPROCESSORS_ONLN) > 1 ? 2 : 1;
	while ((c = getopt_long(argc, argv, "d:" OPT_STD_SHORT, longopts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case OPT_BATCH:
			if (opt_long("--batch", optarg, 1, 100000000, &r.batch_size) < 0)
				return EXIT_USAGE;
			break;
		case OPT_NO_WAIT: nowait = 1; break;
		case OPT_DELETE: del = 1; break;
		case OPT_PRUNE: prune = 1; break;
		case OPT_KEEP_LIST: keep_list = optarg; break;
		case OPT_MAX_DELETE:
			if (parse_max_delete(optarg, &max_delete) < 0)
				return EXIT_USAGE;
			max_delete_given = 1;
			break;
		case OPT_TYPE: type = optarg; break;
		case OPT_REBUILD: rebuild = 1; break;
		case OPT_STATS: stats = 1; break;
		case OPT_SUMMARY: summary = 1; break;
		case OPT_MERGE: merge = 1; break;
		case OPT_THREADS:
			if (opt_long("--threads", optarg, 1, 2, &threads) < 0)
				return EXIT_USAGE;
			break;
		default:
			if ((ended = opt_std(c, help)) != OPT_GO_ON)
				return ended;
		}
	}
	if (dir == NULL) {
		opt_usage_error(help, "no index directory (-d DIR)");
		return EXIT_USAGE;
	}
	if (del + prune + stats + merge > 1 || ((keep_list || max_delete_given) && !prune)
	    || ((del || merge) && optind == argc)) {
		opt_usage_error(help, merge && optind == argc ? "--merge needs the index directories to add"
				: del && optind == argc ? "--delete needs the sources to remove"
				: keep_list && !prune ? "--keep-list goes with --prune"
				: max_delete_given && !prune ? "--max-delete goes with --prune"
				: "--delete, --prune, --merge and --stats do not go together");
		return EXIT_USAGE;
	}
	signal(SIGPIPE, SIG_IGN);
	if (stats) {
		idx *x = idx_open(dir, IDX_READ, 0, err, sizeof err);

		if (x == NULL) {
			msg_error("%s", err);
			return EXIT_SOME_FAILED;
		}
		print_stats(x);
		idx_close(x);
		return fflush(stdout) == 0 ? EXIT_OK : jl_output_failed();
	}
	{
		/* an index this run makes is taken away again if nothing is
		 * written to it (every record refused, or interrupted) */
		char path[4096];
		struct stat st;

		snprintf(path, sizeof path, "%s/index.sqlite", dir);
		made_dir = stat(dir, &st) < 0 && errno == ENOENT;
		made_index = stat(path, &st) < 0 && errno == ENOENT;
	}
	ingest = !merge && !del && !prune && (!rebuild || optind < argc);
	from_tty = ingest && (optind == argc || (optind + 1 == argc && strcmp(argv[optind], "-") == 0))
		   && isatty(STDIN_FILENO);
	/* records and merged documents stop cleanly between two of them: the
	 * batch in hand is undone, what is committed stays and gets its faiss
	 * file (also while waiting for another writer's lock) */
	if (ingest || merge)
		sig_catch();
	r.x = idx_open(dir, IDX_WRITE, nowait, err, sizeof err);
	if (r.x == NULL) {
		if (sig_caught()) {
			msg_error("interrupted: nothing written");
			return sig_status(sig_caught());
		}
		msg_error("%s", err);
		return EXIT_SOME_FAILED;
	}
	if (type && idx_type(r.x)[0] && strcmp(type, idx_type(r.x)) != 0)
		rebuild = 1;
	r.v = vecs_open(r.x, type, rebuild, err, sizeof err);
	if (r.v == NULL) {
		msg_error("%s", err);
		idx_close(r.x);
		return EXIT_SOME_FAILED;
	}
	if (merge) {
		if (merge_dirs(&r, argv + optind, argc - optind) < 0 && !sig_caught()) {
			msg_error("%s", r.err);
			status = EXIT_SOME_FAILED;
		}
		signo = sig_caught();
	} else if (del) {
		if (delete_sources(&r, argv + optind, (size_t)(argc - optind)) < 0) {
			msg_error("%s", r.err);
			status = EXIT_SOME_FAILED;
		}
	} else if (prune) {
		struct prune p = { 0 };

		p.r = &r;
		p.keep_list = keep_list;
		if ((keep_list && read_keep_list(&p) < 0) || idx_each_document(r.x, prune_one, &p) < 0) {
			msg_error("%s: cannot list the documents", dir);
			status = EXIT_SOME_FAILED;
		} else if (!prune_allowed(&p, &max_delete, dir)) {
			status = EXIT_SOME_FAILED;
		} else if (delete_sources(&r, p.gone, p.n) < 0) {
			msg_error("%s", r.err);
			status = EXIT_SOME_FAILED;
		}
		for (i = 0; (size_t)i < p.n; i++)
			free(p.gone[i]);
		free(p.gone);
		for (i = 0; (size_t)i < p.nkeep; i++)
			free(p.keep[i]);
		free(p.keep);
	} else if (ingest) {
		static const ahead_fns fns = { prep_new, prep_free, prepare };
		int stop = 0, first_line = 1;
		/* the reading thread's; left to it if it must be left running */
		struct reading *w = calloc(1, sizeof *w);
		prog *progress = prog_new("chunks", 0);
		/* of the input, read: the share done when it is files */
		long long in_size = paths_input_size(argv + optind, argc - optind), in_read = 0;
		jl_reader *check = jl_reader_new(stdin, "stdin");	/* for jl_check's reasons only */
		ahead *in;
		ahead_line *l;

		if (from_tty)
			msg_note("reading embedded chunk records from the terminal (end with Ctrl-D);"
				 " they come from: rag-split FILE... | rag-embed | rag-index -d %s", dir);
		/* the records are read, parsed and their text cut in a second
		 * thread, while this one writes */
		if (threads > 1 && w)
			w->hint = idx_open(dir, IDX_READ, 0, err, sizeof err);
		in = w ? ahead_new(argv + optind, argc - optind, w->hint != NULL, &fns, w) : NULL;
		if (in == NULL || check == NULL) {
			snprintf(r.err, sizeof r.err, "out of memory");
			stop = 1;
		}
		/* a signal then goes to the reading thread, whose read it ends
		 * when no input comes */
		if (w && w->hint)
			sig_hold();
		while (!stop && !sig_caught() && ahead_next(in, &l) > 0) {
			struct prep *p = l->prep;

			if (l->error) {
				snprintf(r.err, sizeof r.err, "%s", l->error);
				stop = 1;
				break;
			}
			if (first_line) {
				/* a document or another stage's output: name the order */
				enum jl_kind k = jl_kind_of(l->line, l->len);

				first_line = 0;
				if (k != JL_KIND_EMBEDDED && k != JL_KIND_CHUNK && k != JL_KIND_OTHER) {
					snprintf(r.err, sizeof r.err, "%.300s: %s, not embedded chunk records: rag-index reads"
						 " what rag-embed writes (rag-split FILE | rag-embed | rag-index -d %.200s)",
						 l->where, jl_kind_name(k, l->line, l->len), dir);
					stop = 1;
					break;
				}
			}
			/* the rest of a document that is unchanged needs no parsing:
			 * re-runs cost little more than reading */
			if (r.skipping && r.source && same_source(l->line, l->len, r.source)) {
				if (r.first_met && spool_line(&r, l->where, l->line, l->len) < 0)
					stop = 1;
				continue;
			}
			if (!p->checked && jl_check(check, l->line, l->len) != JL_OK) {
				snprintf(r.err, sizeof r.err, "%s: %s", l->where, jl_reason(check));
				stop = 1;
			} else if (p->bad) {
				snprintf(r.err, sizeof r.err, "%.300s: %.600s", l->where, p->err);
				stop = 1;
			} else if (add_record(&r, p, l->line, l->len, l->where) < 0) {
				stop = 1;
			}
			prep_trim(p);
			in_read += (long long)l->len + 1;
			if (in_size > 0)
				prog_share(progress, (double)in_read / (double)in_size);
			prog_update(progress, r.chunks_added, NULL);
		}
		/* a reading thread still blocked on its input keeps what it uses */
		if (ahead_free(in) && w) {
			idx_close(w->hint);
			free(w->last);
			free(w);
		}
		jl_reader_free(check);
		if (!stop && !sig_caught()) {
			char summary[160];

			snprintf(summary, sizeof summary, "%ld documents added, %ld replaced, %ld unchanged; %ld chunks added",
				 r.added, r.replaced, r.unchanged, r.chunks_added);
			prog_end(progress, summary);
		} else {
			prog_free(progress);
		}
		if (!stop && !sig_caught() && r.source && end_document(&r) < 0)
			stop = 1;
		if (!stop && !sig_caught() && commit(&r) < 0)
			stop = 1;
		sig_release();
		signo = sig_caught();
		if (signo) {
			if (r.in_tx)
				idx_rollback(r.x);
			r.in_tx = 0;
		} else if (stop) {
			/* the batch being written is dropped whole; earlier ones stay */
			if (r.in_tx)
				idx_rollback(r.x);
			msg_error("%s", r.err);
			status = EXIT_SOME_FAILED;
		}
		free(r.source);
		free(r.hash);
		if (!stop && !signo)
			warn_missing(r.x, dir);
	}
	seen_free(&r.seen);
	if (r.spool)
		fclose(r.spool);
	/* the faiss file follows the database */
	if (vecs_save(r.v, r.x, err, sizeof err) < 0) {
		msg_error("%s", err);
		status = EXIT_SOME_FAILED;
	}
	if (signo) {
		msg_error("interrupted: %ld documents (%ld chunks) committed; re-run to continue", r.committed_docs,
			  r.committed_chunks);
		status = sig_status(signo);
	} else if (summary || msg_verbosity >= 2) {
		printf("{\"added\":%ld,\"replaced\":%ld,\"unchanged\":%ld,\"deleted\":%ld,\"chunks_added\":%ld}\n", r.added,
		       r.replaced, r.unchanged, r.deleted, r.chunks_added);
	}
	vecs_close(r.v);
	idx_close(r.x);
	/* nothing typed at the terminal makes no index either */
	if (made_index && r.committed_docs == 0 && (status != EXIT_OK || (from_tty && r.chunks_added == 0))
	    && idx_remove_new(dir, made_dir) < 0)
		msg_warn("%s: cannot take away the empty index: %s", dir, strerror(errno));
	if (fflush(stdout) != 0)
		return jl_output_failed();
	return status;
}
