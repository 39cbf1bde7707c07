/* rag-embed: chunk records to chunk records with embeddings. */
#include "cache.h"
#include "emb.h"
#include "http.h"
#include "jl.h"
#include "msg.h"
#include "opt.h"
#include "paths.h"
#include "prog.h"
#include "sb.h"
#include "sig.h"
#include "sha256.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
	"usage: rag-embed [-hqv] [-u URL]... [-m MODEL] [--dim N] [--batch N] [--parallel N] [FILE...]\n"
	"Add an embedding to each chunk record (or question) read from FILE or standard input.\n"
	"\n"
	"  -u, --url URL          an OpenAI-compatible server (repeat to spread the work);\n"
	"                         default $RAG_EMBED_URL, $OPENAI_BASE_URL, else the built-in embedder\n"
	"  -m, --model NAME       the server's model (default $RAG_EMBED_MODEL)\n"
	"      --api-key-file F   read the API key from F (default $RAG_API_KEY, $OPENAI_API_KEY)\n"
	"      --dim N            dimension of the built-in embedder (default 512)\n"
	"      --batch N          texts per request (default 64)\n"
	"      --max-chars N      characters per request at most (default 60000)\n"
	"      --parallel N       requests in flight per server (default 4)\n"
	"      --rps X            requests per second at most\n"
	"      --tpm N            estimated input tokens per minute at most\n"
	"      --retries N        retries of a failed request (default 5)\n"
	"      --timeout S        seconds for one request (default 120)\n"
	"      --connect-timeout S  seconds to connect (default 10)\n"
	"      --cacert FILE      CA certificates to verify the server with\n"
	"      --cache DIR        the embedding cache (default $XDG_CACHE_HOME/ragpipe)\n"
	"      --no-cache         neither read nor write the cache\n"
	"      --skip-errors FILE write records whose batch failed to FILE and go on\n"
	"  -q, --quiet            no warnings, no progress\n"
	"      --progress         progress also when stderr is no terminal (for a log)\n"
	"  -v, --verbose          say more (cache hits and misses, a summary)\n"
	"  -h, --help             this text\n"
	"      --version          print the version\n";

enum {
	OPT_DIM = OPT_FIRST_PRIVATE, OPT_BATCH, OPT_MAX_CHARS, OPT_PARALLEL, OPT_RPS, OPT_TPM, OPT_CACHE,
	OPT_NO_CACHE, OPT_SKIP_ERRORS
};

/* Exit status when a server failed for good and the run stopped. */
#define EXIT_SERVER 3

struct rec {
	char *line;		/* the input line as read (owned) */
	size_t len;
	json_object *obj;	/* parsed, or NULL for a plain question */
	const char *text;	/* what to embed (into line, obj or joined) */
	char *joined;		/* title and text, when both are embedded */
	size_t tlen;
	int question;
	unsigned char key[32];
	float *vec;		/* owned once known */
	long lineno;
	const char *file;	/* the input's name (owned by the run) */
};

enum batch_state { B_OPEN, B_SENT, B_DONE, B_FAILED };

struct batch {
	struct rec *recs;
	size_t n, cap, chars, uncached;
	enum batch_state state;
	long number;
	char error[600];
};

struct run {
	/* configuration */
	int dim;		/* built-in: its dimension; server: 0 until the first answer */
	char name[300];		/* the embedder's name */
	const char *model;
	http_client *http;
	cache *cache;
	long batch_size, max_chars, inflight;
	FILE *skip;
	const char *skip_path;

	/* state */
	struct batch **queue;	/* ring of batches in input order; each stays put while in flight */
	size_t qcap, qhead, qlen;
	long batches;
	long records, written, failed, hits, misses;
	int status;
	int stop;		/* a batch failed for good without --skip-errors */
	prog *progress;
	sb out;
};

static void rec_free(struct rec *r)
{
	free(r->line);
	free(r->joined);
	json_object_put(r->obj);
	free(r->vec);
}

/* A record is written whole: a signal waits until it is out. */
static int write_out(struct run *run)
{
	size_t n;

	sig_hold();
	n = fwrite(run->out.buf, 1, run->out.len, stdout);
	sig_release();
	if (n != run->out.len)
		return -1;
	sb_truncate(&run->out, 0);
	return 0;
}

/* Copying a record's members but the old embedding. */
struct keep {
	const char *line;
	sb *out;
	size_t prev_end;	/* end of the member before (kept or not) */
	int kept, failed;
};

static int keep_member(void *ctx, const char *key, size_t keylen, size_t start, size_t end)
{
	struct keep *k = ctx;
	int drop = (keylen == 9 && memcmp(key, "embedding", 9) == 0) || (keylen == 8 && memcmp(key, "embedder", 8) == 0);

	if (!drop) {
		/* the bytes between members as they were: "{ " first, ", " later */
		size_t from = k->kept ? k->prev_end : 0;

		if (!k->kept) {
			size_t b = 0;

			while (k->line[b] != '{')
				b++;
			from = 0;
			if (sb_append(k->out, k->line, b + 1) < 0)
				k->failed = 1;
			from = start;
		}
		if (sb_append(k->out, k->line + from, end - from) < 0)
			k->failed = 1;
		k->kept++;
	}
	k->prev_end = end;
	return k->failed ? -1 : 0;
}

/* The record with "embedding" and "embedder" added, every other byte of the
 * input kept as it was. */
static int format_rec(struct run *run, const struct rec *r, int dim)
{
	sb *o = &run->out;
	int i;

	if (r->obj == NULL) {
		if (sb_puts(o, "{\"question\":") < 0 || jl_put_string(o, r->text, r->tlen) < 0 || sb_putc(o, ',') < 0)
			return -1;
	} else if (json_object_object_get_ex(r->obj, "embedding", NULL)
		   || json_object_object_get_ex(r->obj, "embedder", NULL)) {
		/* embedded before: the old vector goes, every other member stays
		 * byte for byte */
		struct keep k = { r->line, o, 0, 0, 0 };

		if (jl_members(r->line, r->len, keep_member, &k) < 0 || k.failed)
			return -1;
		if (k.kept > 0 && sb_putc(o, ',') < 0)
			return -1;
	} else {
		size_t end = r->len;

		while (end > 0 && (r->line[end - 1] == ' ' || r->line[end - 1] == '\t'))
			end--;
		/* the line ends with the object's '}' */
		if (sb_append(o, r->line, end - 1) < 0
		    || (json_object_object_length(r->obj) > 0 && sb_putc(o, ',') < 0))
			return -1;
	}
	if (sb_puts(o, "\"embedding\":[") < 0)
		return -1;
	for (i = 0; i < dim; i++)
		if ((i && sb_putc(o, ',') < 0) || jl_put_float(o, r->vec[i]) < 0)
			return -1;
	if (sb_puts(o, "],\"embedder\":") < 0 || jl_put_string(o, run->name, strlen(run->name)) < 0
	    || sb_puts(o, "}\n") < 0)
		return -1;
	return 0;
}

/* ---- reading ---- */

/* Make a record of one input line: 1 ok, 0 bad (reported), -1 no memory. */
static int read_rec(jl_reader *jr, const char *line, size_t len, struct rec *r)
{
	json_object *v;
	size_t i = 0;

	memset(r, 0, sizeof *r);
	r->lineno = jl_lineno(jr);
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i < len && line[i] == '{') {
		if (jl_parse(jr, line, len, &r->obj) != JL_OK) {
			msg_error("%s: line %ld: %s", jl_name(jr), r->lineno, jl_reason(jr));
			return 0;
		}
		if (json_object_object_get_ex(r->obj, "text", &v)) {
			if (!json_object_is_type(v, json_type_string)) {
				msg_error("%s: line %ld: \"text\" is not a string", jl_name(jr), r->lineno);
				goto bad;
			}
		} else if (json_object_object_get_ex(r->obj, "question", &v)) {
			if (!json_object_is_type(v, json_type_string)) {
				msg_error("%s: line %ld: \"question\" is not a string", jl_name(jr), r->lineno);
				goto bad;
			}
			r->question = 1;
		} else {
			msg_error("%s: line %ld: no \"text\" (or \"question\") to embed", jl_name(jr), r->lineno);
			goto bad;
		}
		r->text = json_object_get_string(v);
		r->tlen = (size_t)json_object_get_string_len(v);
		/* a section's title says what its chunks are about: embed it too,
		 * unless the chunk begins with it already */
		if (!r->question && json_object_object_get_ex(r->obj, "title", &v)
		    && json_object_is_type(v, json_type_string)) {
			const char *t = json_object_get_string(v);
			size_t tl = (size_t)json_object_get_string_len(v);

			if (tl > 0 && (r->tlen < tl || memcmp(r->text, t, tl) != 0)) {
				r->joined = malloc(tl + 2 + r->tlen + 1);
				if (r->joined == NULL)
					goto nomem;
				memcpy(r->joined, t, tl);
				memcpy(r->joined + tl, "\n\n", 2);
				memcpy(r->joined + tl + 2, r->text, r->tlen);
				r->joined[tl + 2 + r->tlen] = '\0';
				r->text = r->joined;
				r->tlen += tl + 2;
			}
		}
	} else {
		r->question = 1;
	}
	r->line = malloc(len + 1);
	if (r->line == NULL)
		goto nomem;
	memcpy(r->line, line, len);
	r->line[len] = '\0';
	r->len = len;
	if (r->obj == NULL) {
		r->text = r->line;
		r->tlen = len;
	}
	if (r->tlen == 0 || strspn(r->text, " \t\r\n") == r->tlen) {
		msg_error("%s: line %ld: nothing to embed (empty %s)", jl_name(jr), r->lineno,
			  r->question ? "question" : "text");
		goto bad;
	}
	return 1;
bad:
	rec_free(r);
	memset(r, 0, sizeof *r);
	return 0;
nomem:
	rec_free(r);
	memset(r, 0, sizeof *r);
	return -1;
}

/* ---- the built-in embedder: at once, in order ---- */

static int embed_builtin(struct run *run, struct rec *r)
{
	r->vec = malloc((size_t)run->dim * sizeof *r->vec);
	if (r->vec == NULL)
		return -1;
	if (r->question)
		return emb_lex_question(r->text, r->tlen, run->dim, NULL, NULL, r->vec);
	return emb_lex_passage(r->text, r->tlen, run->dim, r->vec);
}

/* ---- a server: batches in flight, written in input order ---- */

static struct batch *q_at(struct run *run, size_t i)
{
	return run->queue[(run->qhead + i) % run->qcap];
}

/* Take the oldest batch off the queue and free it. */
static void q_pop(struct run *run)
{
	struct batch *b = q_at(run, 0);
	size_t i;

	for (i = 0; i < b->n; i++)
		rec_free(&b->recs[i]);
	free(b->recs);
	free(b);
	run->qhead = (run->qhead + 1) % run->qcap;
	run->qlen--;
}

static struct batch *q_open(struct run *run)
{
	struct batch *b;

	if (run->qlen > 0 && q_at(run, run->qlen - 1)->state == B_OPEN)
		return q_at(run, run->qlen - 1);
	if (run->qlen == run->qcap) {
		size_t cap = run->qcap ? run->qcap * 2 : 8, i;
		struct batch **q = calloc(cap, sizeof *q);

		if (q == NULL)
			return NULL;
		for (i = 0; i < run->qlen; i++)
			q[i] = q_at(run, i);
		free(run->queue);
		run->queue = q;
		run->qcap = cap;
		run->qhead = 0;
	}
	b = calloc(1, sizeof *b);
	if (b == NULL)
		return NULL;
	run->queue[(run->qhead + run->qlen++) % run->qcap] = b;
	b->state = B_OPEN;
	b->number = ++run->batches;
	return b;
}

static int send_batch(struct run *run, struct batch *b)
{
	const char **texts;
	size_t *lens, i, k = 0;
	sb body = SB_INIT;
	long tokens = 0;
	int r = -1;

	if (b->uncached == 0) {
		b->state = B_DONE;
		return 0;
	}
	texts = malloc(b->uncached * sizeof *texts);
	lens = malloc(b->uncached * sizeof *lens);
	if (texts && lens) {
		for (i = 0; i < b->n; i++) {
			if (b->recs[i].vec)
				continue;
			texts[k] = b->recs[i].text;
			lens[k] = b->recs[i].tlen;
			tokens += http_estimate_tokens(texts[k], lens[k]);
			k++;
		}
		if (emb_request(&body, run->model, texts, lens, k) == 0
		    && http_submit(run->http, "/embeddings", body.buf, body.len, tokens, b) == 0) {
			b->state = B_SENT;
			r = 0;
		}
	}
	free(texts);
	free(lens);
	sb_free(&body);
	return r;
}

/* A server's answer for batch b. */
static void take_answer(struct run *run, http_result *res)
{
	struct batch *b = res->tag;
	float *vecs = NULL;
	int dim = run->dim;
	size_t i, k = 0;
	char err[300];

	if (!res->ok) {
		snprintf(b->error, sizeof b->error, "%s", res->error);
		b->state = B_FAILED;
		return;
	}
	if (emb_response(res->body, res->len, b->uncached, &dim, &vecs, err, sizeof err) < 0) {
		http_reject(run->http, res);
		snprintf(b->error, sizeof b->error, "%s: bad answer: %s", res->url ? res->url : "server", err);
		b->state = B_FAILED;
		return;
	}
	if (run->dim == 0) {
		run->dim = dim;
		snprintf(run->name + strlen(run->name), sizeof run->name - strlen(run->name), ":%d", dim);
	}
	if (run->cache)
		cache_begin(run->cache);
	for (i = 0; i < b->n; i++) {
		struct rec *r = &b->recs[i];

		if (r->vec)
			continue;
		r->vec = malloc((size_t)dim * sizeof *r->vec);
		if (r->vec == NULL) {
			snprintf(b->error, sizeof b->error, "out of memory");
			b->state = B_FAILED;
			free(vecs);
			return;
		}
		memcpy(r->vec, vecs + k * (size_t)dim, (size_t)dim * sizeof *r->vec);
		k++;
		if (run->cache && cache_put(run->cache, run->model, r->key, r->vec, dim, err, sizeof err) < 0)
			msg_warn("%s", err);
	}
	if (run->cache)
		cache_end(run->cache);
	free(vecs);
	b->state = B_DONE;
}

/* Write the finished batches at the head of the queue. -1: output failed. */
static int flush_done(struct run *run)
{
	while (run->qlen > 0) {
		struct batch *b = q_at(run, 0);
		size_t i;

		if (b->state == B_DONE) {
			for (i = 0; i < b->n; i++) {
				if (format_rec(run, &b->recs[i], run->dim) < 0 || write_out(run) < 0)
					return -1;
				run->written++;
			}
		} else if (b->state == B_FAILED) {
			long first = b->n ? b->recs[0].lineno : 0, last = b->n ? b->recs[b->n - 1].lineno : 0;

			if (run->skip == NULL) {
				msg_error("batch %ld (%s lines %ld-%ld) failed: %s", b->number,
					  b->n ? b->recs[0].file : "input", first, last, b->error);
				run->stop = 1;
				q_pop(run);
				return 0;
			}
			msg_error("batch %ld (%s lines %ld-%ld) failed, its records go to %s: %s", b->number,
				  b->n ? b->recs[0].file : "input", first, last, run->skip_path, b->error);
			for (i = 0; i < b->n; i++) {
				if (fwrite(b->recs[i].line, 1, b->recs[i].len, run->skip) != b->recs[i].len
				    || putc('\n', run->skip) == EOF) {
					msg_error("%s: %s", run->skip_path, strerror(errno));
					run->stop = 1;
					q_pop(run);
					return 0;
				}
			}
			run->failed += (long)b->n;
			run->status = EXIT_SOME_FAILED;
		} else {
			break;
		}
		q_pop(run);
		prog_update(run->progress, run->written, NULL);
	}
	return fflush(stdout) == 0 ? 0 : -1;
}

/* Wait for one answer. -1: the client failed. */
static int wait_one(struct run *run)
{
	http_result res;
	char err[300];
	int r = http_next(run->http, &res, err, sizeof err);

	if (r < 0) {
		msg_error("%s", err);
		return -1;
	}
	if (r == 1) {
		take_answer(run, &res);
		http_result_free(&res);
	}
	return 0;
}

static int add_to_batch(struct run *run, struct rec *r)
{
	struct batch *b;

	/* a text that would take the open batch past --max-chars goes in the
	 * next one (a text longer than that on its own goes alone) */
	if (run->qlen > 0 && (b = q_at(run, run->qlen - 1))->state == B_OPEN && b->uncached > 0
	    && b->chars + r->tlen > (size_t)run->max_chars && send_batch(run, b) < 0)
		return -1;
	b = q_open(run);
	if (b == NULL)
		return -1;
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		struct rec *v = realloc(b->recs, cap * sizeof *v);

		if (v == NULL)
			return -1;
		b->recs = v;
		b->cap = cap;
	}
	sha256(r->text, r->tlen, r->key, NULL);
	if (run->cache) {
		float *vec;
		int dim;
		char err[300];
		int hit = cache_get(run->cache, run->model, r->key, &vec, &dim, err, sizeof err);

		if (hit < 0)
			msg_warn("%s", err);
		if (hit > 0 && (run->dim == 0 || dim == run->dim)) {
			if (run->dim == 0) {
				run->dim = dim;
				snprintf(run->name + strlen(run->name), sizeof run->name - strlen(run->name), ":%d", dim);
			}
			r->vec = vec;
			run->hits++;
		} else {
			if (hit > 0)
				free(vec);
			run->misses++;
		}
	}
	b->recs[b->n++] = *r;
	if (r->vec == NULL) {
		b->uncached++;
		b->chars += r->tlen;
	}
	if (b->uncached >= (size_t)run->batch_size || b->chars >= (size_t)run->max_chars)
		return send_batch(run, b);
	return 0;
}

/* ---- main ---- */

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "model", required_argument, NULL, 'm' },
		{ "dim", required_argument, NULL, OPT_DIM },
		{ "batch", required_argument, NULL, OPT_BATCH },
		{ "max-chars", required_argument, NULL, OPT_MAX_CHARS },
		{ "parallel", required_argument, NULL, OPT_PARALLEL },
		{ "rps", required_argument, NULL, OPT_RPS },
		{ "tpm", required_argument, NULL, OPT_TPM },
		HTTP_OPT_LONG,
		{ "cache", required_argument, NULL, OPT_CACHE },
		{ "no-cache", no_argument, NULL, OPT_NO_CACHE },
		{ "skip-errors", required_argument, NULL, OPT_SKIP_ERRORS },
		OPT_STD_LONG,
		{ NULL, 0, NULL, 0 }
	};
	const char *urls[64];
	size_t nurls = 0;
	const char *key_file = NULL, *cache_dir = NULL, *env;
	char *key = NULL, *url_env = NULL, cache_buf[4096], err[600];
	http_opts ho;
	struct run run;
	long dim = EMB_LEX_DEFAULT_DIM, lv;
	int c, r, no_cache = 0, i, nfiles, output_failed = 0;
	long long in_size, in_read = 0;
	char **names;

	msg_init(argv);
	memset(&run, 0, sizeof run);
	http_opts_init(&ho);
	ho.parallel = 4;
	ho.timeout = 120;
	run.batch_size = 64;
	run.max_chars = 60000;
	while ((c = getopt_long(argc, argv, "u:m:" OPT_STD_SHORT, longopts, NULL)) != -1) {
		switch (c) {
		case 'u':
			if (nurls == sizeof urls / sizeof urls[0]) {
				opt_usage_error(help, "too many --url");
				return EXIT_USAGE;
			}
			urls[nurls++] = optarg;
			break;
		case 'm':
			run.model = optarg;
			break;
		case OPT_DIM:
			if (opt_long("--dim", optarg, 8, 65536, &dim) < 0)
				return EXIT_USAGE;
			break;
		case OPT_BATCH:
			if (opt_long("--batch", optarg, 1, 100000, &run.batch_size) < 0)
				return EXIT_USAGE;
			break;
		case OPT_MAX_CHARS:
			if (opt_long("--max-chars", optarg, 1, 1L << 30, &run.max_chars) < 0)
				return EXIT_USAGE;
			break;
		case OPT_PARALLEL:
			if (opt_long("--parallel", optarg, 1, 1024, &lv) < 0)
				return EXIT_USAGE;
			ho.parallel = (int)lv;
			break;
		case OPT_RPS:
			if (opt_double("--rps", optarg, 0, 1e6, &ho.rps) < 0)
				return EXIT_USAGE;
			break;
		case OPT_TPM:
			if (opt_double("--tpm", optarg, 0, 1e6, &ho.tpm) < 0)
				return EXIT_USAGE;
			break;
		case OPT_CACHE:
			cache_dir = optarg;
			break;
		case OPT_NO_CACHE:
			no_cache = 1;
			break;
		case OPT_SKIP_ERRORS:
			run.skip_path = optarg;
			break;
		default:
			if ((r = http_opt(c, optarg, &ho, &key_file, help)) != OPT_GO_ON)
				return r;
		}
	}
	signal(SIGPIPE, SIG_IGN);

	/* flags first, then the environment, then the built-in embedder */
	if (nurls == 0) {
		long n = http_env_urls("RAG_EMBED_URL", urls, sizeof urls / sizeof urls[0], &url_env);

		if (n < 0) {
			msg_error("out of memory");
			return EXIT_SOME_FAILED;
		}
		nurls = (size_t)n;
	}
	if (run.model == NULL && (env = getenv("RAG_EMBED_MODEL")) && *env)
		run.model = env;
	if (nurls == 0) {
		run.dim = (int)dim;
		emb_lex_name(run.dim, run.name, sizeof run.name);
	} else {
		if (run.model == NULL) {
			opt_usage_error(help, "a server needs --model (or RAG_EMBED_MODEL)");
			free(url_env);
			return EXIT_USAGE;
		}
		if (http_key_load(key_file, &key, err, sizeof err) < 0) {
			msg_error("%s", err);
			free(url_env);
			return EXIT_USAGE;
		}
		ho.urls = urls;
		ho.nurls = nurls;
		ho.api_key = key;
		run.http = http_new(&ho, err, sizeof err);
		http_key_free(key);
		if (run.http == NULL) {
			msg_error("%s", err);
			free(url_env);
			return EXIT_USAGE;
		}
		snprintf(run.name, sizeof run.name, "api:%s", run.model);
		run.inflight = (long)nurls * ho.parallel;
		if (!no_cache) {
			if (cache_dir == NULL && cache_default_dir(cache_buf, sizeof cache_buf) == 0)
				cache_dir = cache_buf;
			if (cache_dir && (run.cache = cache_open(cache_dir, err, sizeof err)) == NULL)
				msg_warn("no embedding cache: %s", err);
		}
	}
	if (run.skip_path && (run.skip = fopen(run.skip_path, "w")) == NULL) {
		msg_error("%s: %s", run.skip_path, strerror(errno));
		http_free(run.http);
		cache_close(run.cache);
		free(url_env);
		return EXIT_USAGE;
	}

	run.progress = prog_new("records", 0);
	nfiles = argc - optind;
	/* the share of the input read, when it is files */
	in_size = paths_input_size(argv + optind, nfiles);
	/* batches outlive the reader of the file they came from: keep the names */
	names = calloc((size_t)(nfiles ? nfiles : 1), sizeof *names);
	if (names == NULL) {
		msg_error("out of memory");
		return EXIT_SOME_FAILED;
	}
	/* Ctrl-C and the like: stop reading between records; what is written is
	 * whole, the batches still at a server are dropped */
	sig_catch();
	for (i = 0; i < (nfiles ? nfiles : 1) && !run.stop && !output_failed && !sig_caught(); i++) {
		const char *path = nfiles ? argv[optind + i] : "-";
		FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
		jl_reader *jr;
		const char *line;
		size_t len;
		enum jl_status st;

		if (in == NULL) {
			msg_error("%s: %s", path, strerror(errno));
			run.status = EXIT_SOME_FAILED;
			continue;
		}
		jr = jl_reader_new(in, in == stdin ? "stdin" : path);
		names[i] = strdup(in == stdin ? "stdin" : path);
		if (names[i] == NULL) {
			jl_reader_free(jr);
			jr = NULL;
		}
		if (jr == NULL) {
			msg_error("out of memory");
			run.status = EXIT_SOME_FAILED;
			break;
		}
		int first = 1;

		while (!run.stop && !output_failed && !sig_caught() && (st = jl_read_line(jr, &line, &len)) != JL_EOF) {
			struct rec r;
			int ok;

			if (st == JL_IOERR && sig_caught())
				break;
			in_read += (long long)len + 1;
			if (in_size > 0)
				prog_share(run.progress, (double)in_read / (double)in_size);
			if (st == JL_IOERR) {
				msg_error("%s: %s", jl_name(jr), strerror(errno));
				run.status = EXIT_SOME_FAILED;
				break;
			}
			/* a document or another stage's output: say so once, not for
			 * every line of it */
			if (first && strspn(line, " \t") < len) {
				enum jl_kind k = jl_kind_of(line, len);

				first = 0;
				if (k == JL_KIND_DOCUMENT || k == JL_KIND_BINARY || k == JL_KIND_HITS || k == JL_KIND_ANSWER) {
					msg_error("%s: %s, not chunk records: rag-embed reads what rag-split writes"
						  " (rag-split FILE | rag-embed | rag-index -d DIR)", jl_name(jr),
						  jl_kind_name(k, line, len));
					run.status = EXIT_SOME_FAILED;
					break;
				}
			}
			if (st == JL_BAD) {
				msg_error("%s: line %ld: %s", jl_name(jr), jl_lineno(jr), jl_reason(jr));
				run.status = EXIT_SOME_FAILED;
				continue;
			}
			if (strspn(line, " \t") == len)
				continue;
			ok = read_rec(jr, line, len, &r);
			r.file = names[i];
			if (ok < 0) {
				msg_error("out of memory");
				run.stop = 1;
				break;
			}
			if (ok == 0) {
				run.status = EXIT_SOME_FAILED;
				continue;
			}
			run.records++;
			if (run.http == NULL) {
				if (embed_builtin(&run, &r) < 0) {
					msg_error("out of memory");
					rec_free(&r);
					run.stop = 1;
					break;
				}
				if (format_rec(&run, &r, run.dim) < 0 || write_out(&run) < 0)
					output_failed = 1;
				run.written++;
				rec_free(&r);
				prog_update(run.progress, run.written, NULL);
				continue;
			}
			if (add_to_batch(&run, &r) < 0) {
				msg_error("out of memory");
				run.stop = 1;
				break;
			}
			/* keep memory bounded: one batch per server waiting beyond
			 * those in flight, so that a slot is refilled at once */
			while (!run.stop && !sig_caught() && (long)http_pending(run.http) >= run.inflight + (long)nurls) {
				if (wait_one(&run) < 0) {
					run.stop = 1;
					break;
				}
				if (flush_done(&run) < 0)
					output_failed = 1;
			}
			if (!output_failed && flush_done(&run) < 0)
				output_failed = 1;
		}
		jl_reader_free(jr);
		if (in != stdin)
			fclose(in);
	}
	if (run.http && !run.stop && !output_failed && !sig_caught()) {
		if (run.qlen > 0 && q_at(&run, run.qlen - 1)->state == B_OPEN
		    && send_batch(&run, q_at(&run, run.qlen - 1)) < 0) {
			msg_error("out of memory");
			run.stop = 1;
		}
		while (!run.stop && !output_failed && run.qlen > 0 && !sig_caught()) {
			if (flush_done(&run) < 0) {
				output_failed = 1;
				break;
			}
			if (run.stop || run.qlen == 0)
				break;
			if (http_pending(run.http) == 0)
				break;
			if (wait_one(&run) < 0)
				run.stop = 1;
		}
	}
	if (!run.stop && !output_failed && !sig_caught()) {
		char summary[160];

		snprintf(summary, sizeof summary, "%ld records embedded (%s)", run.written, run.name);
		prog_end(run.progress, summary);
	} else {
		prog_free(run.progress);
	}
	sig_hold();
	if (output_failed || fflush(stdout) != 0) {
		output_failed = 1;
		run.status = jl_output_failed();
	} else if (sig_caught()) {
		msg_error("interrupted: %ld records written", run.written);
		run.status = sig_status(sig_caught());
	} else if (run.stop) {
		run.status = EXIT_SERVER;
	}
	if (run.cache && msg_verbosity >= 2)
		msg_info("cache: %ld hits, %ld misses", run.hits, run.misses);
	msg_info("%ld records embedded with %s, %ld written%s", run.records, run.name, run.written,
		 run.failed ? ", some skipped" : "");
	while (run.qlen > 0)
		q_pop(&run);
	free(run.queue);
	for (i = 0; i < (nfiles ? nfiles : 1); i++)
		free(names[i]);
	free(names);
	sb_free(&run.out);
	http_free(run.http);
	cache_close(run.cache);
	if (run.skip && fclose(run.skip) != 0) {
		msg_error("%s: %s", run.skip_path, strerror(errno));
		run.status = EXIT_SOME_FAILED;
	}
	free(url_env);
	return run.status;
}
