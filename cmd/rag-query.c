/* rag-query: questions to the best-matching chunks of an index. */
#include "emb.h"
#include "http.h"
#include "jl.h"
#include "msg.h"
#include "opt.h"
#include "qry.h"
#include "sb.h"
#include "sig.h"
#include "u8.h"

#include <errno.h>
#include <poll.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char help[] =
	"usage: rag-query -d DIR [-d DIR]... [-hqv] [-k N] [--mode MODE | --hybrid] [--mmr[=LAMBDA]] [FILE...]\n"
	"Print the chunks of the index that best match each question read from FILE or standard input.\n"
	"\n"
	"  -d, --dir DIR          an index directory (repeat to query several as one)\n"
	"  -k N                   hits per question (default 5)\n"
	"      --mode MODE        hybrid (default), vector or bm25\n"
	"      --hybrid           the same as --mode hybrid\n"
	"      --weights V,L      hybrid: weights of the vector and the lexical list\n"
	"                         (default 0,1 for the built-in embedder, 1,1 for a server's)\n"
	"      --rrf-k K          hybrid: the rank constant of reciprocal rank fusion (default 60)\n"
	"      --min-score X      leave out hits that score below X\n"
	"      --mmr [LAMBDA]     maximal marginal relevance: relevance against novelty (default 0.5);\n"
	"                         overlapping neighbours are merged into one hit\n"
	"      --fetch-k N        with --mmr: candidates to choose from (default the larger of 20 and 4k)\n"
	"      --source GLOB      only chunks of a source matching GLOB (repeat: any of them)\n"
	"      --where FIELD=VALUE only chunks whose FIELD is VALUE (repeat: all of them)\n"
	"      --format FMT       jsonl (default) or text\n"
	"      --nprobe N         lists an IVF index searches (default half of them)\n"
	"  -e, --embedder NAME    refuse an index not built with the embedder NAME\n"
	"  -u, --url URL          the embeddings server, for an index built with one\n"
	"                         (default $RAG_EMBED_URL, $OPENAI_BASE_URL)\n"
	"  -m, --model NAME       refuse an index not built with the server model NAME\n"
	"      --api-key-file F   read the API key from F (default $RAG_API_KEY, $OPENAI_API_KEY)\n"
	"      --retries N        retries of a failed request (default 2)\n"
	"      --timeout S        seconds for one request (default 30)\n"
	"      --connect-timeout S  seconds to connect (default 10)\n"
	"      --cacert FILE      CA certificates to verify the server with\n"
	"  -q, --quiet            no warnings\n"
	"  -v, --verbose          say which faiss file is used, and how each question went\n"
	"  -h, --help             this text\n"
	"      --version          print the version\n";

enum {
	OPT_MODE = OPT_FIRST_PRIVATE, OPT_HYBRID, OPT_WEIGHTS, OPT_RRF_K, OPT_MIN_SCORE, OPT_MMR, OPT_FETCH_K,
	OPT_SOURCE, OPT_WHERE, OPT_FORMAT, OPT_NPROBE
};

/* Exit statuses beyond the shared ones. */
#define EXIT_EMBEDDER 3		/* the embeddings server failed */
#define EXIT_INDEX 4		/* an index directory cannot be used */

struct run {
	qry *q;
	qry_opts o;
	int text;		/* --format text */
	/* the embedder */
	int builtin;		/* its dimension, or 0 for a server */
	const char *model;
	http_client *http;
	int down;		/* the server failed for good */
	sb out;
	int status;
};

/* ---- output ---- */

static int put_score(sb *o, double s)
{
	char buf[40];

	snprintf(buf, sizeof buf, "%.6g", isfinite(s) ? s : 0);
	return sb_puts(o, buf);
}

static int put_num(sb *o, const char *key, long v)
{
	char buf[64];

	snprintf(buf, sizeof buf, ",\"%s\":%ld", key, v);
	return sb_puts(o, buf);
}

/* The chunk's own fields, but any named as one of the hit's. */
struct copy {
	const char *s;
	sb *o;
	int failed;
};

static int copy_field(void *ctx, const char *key, size_t keylen, size_t start, size_t end)
{
	static const char *const ours[] = { "rank", "score", "id", "source", "seq", "page", "page_end", "title", "text",
					    "merged" };
	struct copy *c = ctx;
	size_t i;

	for (i = 0; i < sizeof ours / sizeof ours[0]; i++)
		if (strlen(ours[i]) == keylen && memcmp(ours[i], key, keylen) == 0)
			return 0;
	if (sb_putc(c->o, ',') < 0 || sb_append(c->o, c->s + start, end - start) < 0)
		c->failed = 1;
	return c->failed ? -1 : 0;
}

static int put_hit(sb *o, const qry_hit *h, long rank)
{
	size_t i;

	char buf[40];

	snprintf(buf, sizeof buf, "\"rank\":%ld,\"score\":", rank);
	if (sb_puts(o, buf) < 0 || put_score(o, h->score) < 0
	    || sb_puts(o, ",\"id\":") < 0 || jl_put_string(o, h->id, strlen(h->id)) < 0
	    || sb_puts(o, ",\"source\":") < 0 || jl_put_string(o, h->source, strlen(h->source)) < 0
	    || put_num(o, "seq", h->seq) < 0)
		return -1;
	if (h->page > 0 && (put_num(o, "page", h->page) < 0 || put_num(o, "page_end", h->page_end) < 0))
		return -1;
	if (h->title && (sb_puts(o, ",\"title\":") < 0 || jl_put_string(o, h->title, strlen(h->title)) < 0))
		return -1;
	if (sb_puts(o, ",\"text\":") < 0 || jl_put_string(o, h->text, strlen(h->text)) < 0)
		return -1;
	if (h->fields_json) {
		struct copy c = { h->fields_json, o, 0 };

		if (jl_members(h->fields_json, strlen(h->fields_json), copy_field, &c) < 0 && c.failed)
			return -1;
	}
	if (h->nmerged > 0) {
		if (sb_puts(o, ",\"merged\":[") < 0)
			return -1;
		for (i = 0; i < h->nmerged; i++)
			if ((i && sb_putc(o, ',') < 0) || jl_put_string(o, h->merged[i], strlen(h->merged[i])) < 0)
				return -1;
		if (sb_putc(o, ']') < 0)
			return -1;
	}
	return 0;
}

/* The question's members but an old "hits". */
static int keep_member(void *ctx, const char *key, size_t keylen, size_t start, size_t end)
{
	struct copy *c = ctx;

	if (keylen == 4 && memcmp(key, "hits", 4) == 0)
		return 0;
	if ((c->o->len > 1 && sb_putc(c->o, ',') < 0) || sb_append(c->o, c->s + start, end - start) < 0)
		c->failed = 1;
	return c->failed ? -1 : 0;
}

/* {"question":...,"hits":[...]}, or the question's record with "hits". */
static int format_jsonl(sb *o, const char *line, size_t len, int is_json, const char *question, size_t qlen,
			const qry_hits *h)
{
	size_t i;

	if (sb_putc(o, '{') < 0)
		return -1;
	if (is_json) {
		struct copy c = { line, o, 0 };

		if (jl_members(line, len, keep_member, &c) < 0 || c.failed)
			return -1;
	} else if (sb_puts(o, "\"question\":") < 0 || jl_put_string(o, question, qlen) < 0) {
		return -1;
	}
	if (sb_puts(o, o->len > 1 ? ",\"hits\":[" : "\"hits\":[") < 0)
		return -1;
	for (i = 0; i < h->n; i++)
		if ((i && sb_putc(o, ',') < 0) || sb_putc(o, '{') < 0 || put_hit(o, &h->v[i], (long)i + 1) < 0
		    || sb_putc(o, '}') < 0)
			return -1;
	return sb_puts(o, "]}\n");
}

/* Text on one line, white space squeezed, at most max code points. */
static int put_trimmed(sb *o, const char *s, size_t len, size_t max)
{
	size_t i = 0, n = 0;
	int space = 0;

	while (i < len && n < max) {
		int32_t c;
		size_t k = u8_decode(s + i, len - i, &c, NULL);

		if (u8_is_space(c)) {
			space = n > 0;
		} else {
			if (space) {
				if (sb_putc(o, ' ') < 0)
					return -1;
				if (++n == max)
					break;
			}
			space = 0;
			if (sb_append(o, s + i, k) < 0)
				return -1;
			n++;
		}
		i += k;
	}
	while (i < len && u8_is_space((unsigned char)s[i]))
		i++;
	return i < len ? sb_puts(o, "...") : 0;
}

static int format_text(sb *o, const char *question, size_t qlen, const qry_hits *h)
{
	size_t i;
	char buf[64];

	if (put_trimmed(o, question, qlen, 1000) < 0 || sb_putc(o, '\n') < 0)
		return -1;
	if (h->n == 0 && sb_puts(o, "   (no hits)\n") < 0)
		return -1;
	for (i = 0; i < h->n; i++) {
		const qry_hit *t = &h->v[i];

		snprintf(buf, sizeof buf, "%3zu. %.4f  ", i + 1, t->score);
		if (sb_puts(o, buf) < 0 || sb_puts(o, t->source) < 0)
			return -1;
		if (t->page > 0) {
			if (t->page_end > t->page)
				snprintf(buf, sizeof buf, ":%d-%d", t->page, t->page_end);
			else
				snprintf(buf, sizeof buf, ":%d", t->page);
			if (sb_puts(o, buf) < 0)
				return -1;
		}
		if (t->title && (sb_puts(o, "  ") < 0 || put_trimmed(o, t->title, strlen(t->title), 80) < 0))
			return -1;
		if (sb_puts(o, "\n     ") < 0 || put_trimmed(o, t->text, strlen(t->text), 200) < 0
		    || sb_putc(o, '\n') < 0)
			return -1;
	}
	return sb_putc(o, '\n');
}

/* ---- a batch of questions ---- */

/* Questions read while more are ready are answered together: the vector
 * searches of a batch read the vectors once for all of them. */
#define BATCH 256

struct qrec {
	char *line;		/* as read (owned) */
	size_t len;
	long lineno;
	json_object *obj;	/* when the line is an object */
	const char *question;	/* into line or obj */
	size_t qlen;
	int ok;			/* to be answered */
};

struct batch {
	struct qrec r[BATCH];
	size_t n;
	float *vecs;		/* BATCH * dim */
};

static void batch_clear(struct batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++) {
		free(b->r[i].line);
		json_object_put(b->r[i].obj);
	}
	b->n = 0;
}

static void failed(struct run *run, struct qrec *r, int status)
{
	r->ok = 0;
	if (run->status == EXIT_OK || status == EXIT_EMBEDDER)
		run->status = status;
}

/* Parse and check one question (errors reported). */
static void read_question(struct run *run, jl_reader *jr, struct qrec *r)
{
	json_object *v;
	size_t i = 0;
	const char *where = jl_name(jr);

	r->ok = 1;
	r->question = r->line;
	r->qlen = r->len;
	while (i < r->len && (r->line[i] == ' ' || r->line[i] == '\t'))
		i++;
	if (i < r->len && r->line[i] == '{') {
		if (jl_parse(jr, r->line, r->len, &r->obj) != JL_OK) {
			msg_error("%s: line %ld: %s", where, r->lineno, jl_reason(jr));
			failed(run, r, EXIT_SOME_FAILED);
			return;
		}
		if (!json_object_object_get_ex(r->obj, "question", &v) || !json_object_is_type(v, json_type_string)) {
			msg_error("%s: line %ld: no \"question\" string", where, r->lineno);
			failed(run, r, EXIT_SOME_FAILED);
			return;
		}
		r->question = json_object_get_string(v);
		r->qlen = (size_t)json_object_get_string_len(v);
	}
	if (strspn(r->question, " \t\r\n") >= r->qlen) {
		msg_error("%s: line %ld: empty question", where, r->lineno);
		failed(run, r, EXIT_SOME_FAILED);
	}
}

/* The server's vectors of the batch's questions, in one request: 0, or -1
 * with err (the server failed for good: the run goes on without it). */
static int embed_server(struct run *run, struct batch *b, char *err, size_t errlen)
{
	const char *texts[BATCH];
	size_t lens[BATCH], n = 0, i, k = 0;
	sb body = SB_INIT;
	http_result res;
	float *v = NULL;
	long tokens = 0;
	int dim = qry_dim(run->q), r;
	char why[400];

	for (i = 0; i < b->n; i++)
		if (b->r[i].ok) {
			texts[n] = b->r[i].question;
			lens[n] = b->r[i].qlen;
			tokens += http_estimate_tokens(texts[n], lens[n]);
			n++;
		}
	if (n == 0)
		return 0;
	if (emb_request(&body, run->model, texts, lens, n) < 0
	    || http_submit(run->http, "/embeddings", body.buf, body.len, tokens, NULL) < 0) {
		sb_free(&body);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	sb_free(&body);
	r = http_next(run->http, &res, err, errlen);
	if (r <= 0) {
		if (r == 0)
			snprintf(err, errlen, "no answer");
		run->down = 1;
		return -1;
	}
	if (!res.ok) {
		snprintf(err, errlen, "%s", res.error);
		http_result_free(&res);
		run->down = 1;
		return -1;
	}
	if (emb_response(res.body, res.len, n, &dim, &v, why, sizeof why) < 0) {
		snprintf(err, errlen, "%s: bad answer: %s", res.url ? res.url : "server", why);
		http_result_free(&res);
		run->down = 1;
		return -1;
	}
	http_result_free(&res);
	for (i = 0; i < b->n; i++)
		if (b->r[i].ok)
			memcpy(b->vecs + i * (size_t)dim, v + k++ * (size_t)dim, (size_t)dim * sizeof *v);
	free(v);
	return 0;
}

static void print_notes(qry *q)
{
	const char *w, *info, *p;

	qry_notes(q, &w, &info);
	for (p = w; p && *p; p += strcspn(p, "\n") + 1)
		msg_warn("%.*s", (int)strcspn(p, "\n"), p);
	for (p = info; p && *p; p += strcspn(p, "\n") + 1)
		msg_info("%.*s", (int)strcspn(p, "\n"), p);
	qry_notes_clear(q);
}

/* Answer the batch's questions, in order. -1 when the output failed. */
static int run_batch(struct run *run, jl_reader *jr, struct batch *b)
{
	const char *where = jl_name(jr);
	int dim = qry_dim(run->q), vectors = run->o.mode != QRY_BM25 && dim > 0, rc = 0;
	size_t i;
	char err[1200];

	for (i = 0; i < b->n; i++)
		read_question(run, jr, &b->r[i]);
	if (vectors && dim > 0)
		memset(b->vecs, 0, b->n * (size_t)dim * sizeof *b->vecs);
	/* a server is asked before the snapshot is taken: the database is not
	 * held while the network is */
	if (vectors && !run->builtin) {
		int ok = 0;

		for (i = 0; i < b->n; i++)
			ok |= b->r[i].ok;
		if (ok && run->down) {
			for (i = 0; i < b->n; i++)
				if (b->r[i].ok) {
					msg_error("%s: line %ld: not answered: the embeddings server failed (see above)", where,
						  b->r[i].lineno);
					failed(run, &b->r[i], EXIT_EMBEDDER);
				}
		} else if (ok && embed_server(run, b, err, sizeof err) < 0) {
			for (i = 0; i < b->n; i++)
				if (b->r[i].ok) {
					msg_error("%s: line %ld: cannot embed the question: %s", where, b->r[i].lineno, err);
					failed(run, &b->r[i], EXIT_EMBEDDER);
				}
		}
	}
	if (qry_begin(run->q, err, sizeof err) < 0) {
		for (i = 0; i < b->n; i++)
			if (b->r[i].ok) {
				msg_error("%s: line %ld: %s", where, b->r[i].lineno, err);
				failed(run, &b->r[i], EXIT_SOME_FAILED);
			}
		return 0;
	}
	print_notes(run->q);
	for (i = 0; vectors && run->builtin && i < b->n; i++)
		if (b->r[i].ok && qry_embed_builtin(run->q, b->r[i].question, b->r[i].qlen, dim, b->vecs + i * (size_t)dim) < 0) {
			msg_error("%s: line %ld: out of memory", where, b->r[i].lineno);
			failed(run, &b->r[i], EXIT_SOME_FAILED);
		}
	if (vectors && b->n > 1 && qry_prepare(run->q, &run->o, b->vecs, b->n, err, sizeof err) < 0)
		msg_warn("%s", err);	/* each question searches on its own */
	for (i = 0; i < b->n && rc == 0; i++) {
		struct qrec *r = &b->r[i];
		qry_hits hits = { NULL, 0 };
		int f;

		if (!r->ok)
			continue;
		if (qry_search(run->q, &run->o, r->question, r->qlen, vectors ? b->vecs + i * (size_t)dim : NULL,
			       b->n > 1 ? (long)i : -1, &hits, err, sizeof err) < 0) {
			msg_error("%s: line %ld: %s", where, r->lineno, err);
			failed(run, r, EXIT_SOME_FAILED);
			continue;
		}
		if (msg_verbosity >= 2)
			msg_info("%s: line %ld: %zu hits", where, r->lineno, hits.n);
		sb_truncate(&run->out, 0);
		f = run->text ? format_text(&run->out, r->question, r->qlen, &hits)
			      : format_jsonl(&run->out, r->line, r->len, r->obj != NULL, r->question, r->qlen, &hits);
		qry_hits_free(&hits);
		if (f < 0) {
			msg_error("out of memory");
			failed(run, r, EXIT_SOME_FAILED);
			continue;
		}
		/* a record goes out whole: a signal waits for it */
		sig_hold();
		if (fwrite(run->out.buf, 1, run->out.len, stdout) != run->out.len)
			rc = -1;
		sig_release();
		if (sig_caught())
			break;
	}
	qry_end(run->q);
	/* each batch is seen at once by whoever reads us */
	sig_hold();
	if (rc == 0 && fflush(stdout) != 0)
		rc = -1;
	sig_release();
	return rc;
}

/* Is another line there to be read without waiting? */
static int more_ready(FILE *in)
{
	struct stat st;
	struct pollfd p;

	if (fstat(fileno(in), &st) == 0 && S_ISREG(st.st_mode))
		return 1;
	p.fd = fileno(in);
	p.events = POLLIN;
	return poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
}

/* ---- options ---- */

static int parse_weights(const char *arg, double *wv, double *wl)
{
	char buf[128], *comma;

	snprintf(buf, sizeof buf, "%s", arg);
	comma = strchr(buf, ',');
	if (comma == NULL) {
		msg_error("--weights: '%s' is not V,L (the weights of the vector and the lexical list)", arg);
		return -1;
	}
	*comma = '\0';
	if (opt_double("--weights", buf, 0, 1e6, wv) < 0 || opt_double("--weights", comma + 1, 0, 1e6, wl) < 0)
		return -1;
	if (*wv == 0 && *wl == 0) {
		msg_error("--weights: both are 0");
		return -1;
	}
	return 0;
}

/* The server's model, from an index's embedder name "api:MODEL:DIM". */
static int server_model(const char *name, char *model, size_t len)
{
	const char *colon = strrchr(name, ':');

	if (strncmp(name, "api:", 4) != 0 || colon == NULL || colon <= name + 4)
		return -1;
	snprintf(model, len, "%.*s", (int)(colon - name - 4), name + 4);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "mode", required_argument, NULL, OPT_MODE },
		{ "hybrid", no_argument, NULL, OPT_HYBRID },
		{ "weights", required_argument, NULL, OPT_WEIGHTS },
		{ "rrf-k", required_argument, NULL, OPT_RRF_K },
		{ "min-score", required_argument, NULL, OPT_MIN_SCORE },
		{ "mmr", optional_argument, NULL, OPT_MMR },
		{ "fetch-k", required_argument, NULL, OPT_FETCH_K },
		{ "source", required_argument, NULL, OPT_SOURCE },
		{ "where", required_argument, NULL, OPT_WHERE },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "nprobe", required_argument, NULL, OPT_NPROBE },
		{ "embedder", required_argument, NULL, 'e' },
		{ "url", required_argument, NULL, 'u' },
		{ "model", required_argument, NULL, 'm' },
		HTTP_OPT_LONG,
		OPT_STD_LONG,
		{ NULL, 0, NULL, 0 }
	};
	const char *dirs[64], *sources[256], *urls[64], *want_embedder = NULL, *want_model = NULL, *key_file = NULL;
	const char *mode = NULL;
	qry_where where[64];
	size_t ndirs = 0, nsources = 0, nwhere = 0, nurls = 0;
	int c, r, i, hybrid = 0, has_weights = 0, has_rrf = 0, has_fetch = 0, nfiles, output_failed = 0;
	long nprobe = 0;
	double wv = 0, wl = 0;
	char *url_env = NULL, *key = NULL, model[256], err[1200];
	http_opts ho;
	struct run run;
	static struct batch b;

	msg_init(argv);
	memset(&run, 0, sizeof run);
	qry_opts_init(&run.o);
	http_opts_init(&ho);
	/* a question waits for its answer: fail sooner than a batch job would */
	ho.retries = 2;
	ho.timeout = 30;
	while ((c = getopt_long(argc, argv, "d:k:e:u:m:" OPT_STD_SHORT, longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (ndirs == sizeof dirs / sizeof dirs[0]) {
				opt_usage_error(help, "too many -d");
				return EXIT_USAGE;
			}
			dirs[ndirs++] = optarg;
			break;
		case 'k':
			if (opt_long("-k", optarg, 1, 10000, &run.o.k) < 0)
				return EXIT_USAGE;
			break;
		case OPT_MODE:
			mode = optarg;
			if (strcmp(optarg, "vector") == 0)
				run.o.mode = QRY_VECTOR;
			else if (strcmp(optarg, "bm25") == 0)
				run.o.mode = QRY_BM25;
			else if (strcmp(optarg, "hybrid") == 0)
				run.o.mode = QRY_HYBRID;
			else {
				opt_usage_error(help, "--mode: '%s' is not vector, bm25 or hybrid", optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_HYBRID:
			hybrid = 1;
			break;
		case OPT_WEIGHTS:
			if (parse_weights(optarg, &wv, &wl) < 0)
				return EXIT_USAGE;
			has_weights = 1;
			break;
		case OPT_RRF_K:
			if (opt_double("--rrf-k", optarg, 0, 1e9, &run.o.rrf_k) < 0)
				return EXIT_USAGE;
			has_rrf = 1;
			break;
		case OPT_MIN_SCORE:
			if (opt_double("--min-score", optarg, -1e300, 1e300, &run.o.min_score) < 0)
				return EXIT_USAGE;
			run.o.has_min_score = 1;
			break;
		case OPT_MMR:
			run.o.mmr = 1;
			/* --mmr=0.7, or --mmr 0.7 when the next word is a number
			 * (a file named so can be given as ./0.7) */
			if (optarg == NULL && optind < argc && argv[optind][0] != '\0'
			    && strspn(argv[optind], "0123456789.") == strlen(argv[optind])) {
				optarg = argv[optind++];
			}
			if (optarg && opt_double("--mmr", optarg, 0, 1, &run.o.mmr_lambda) < 0)
				return EXIT_USAGE;
			break;
		case OPT_FETCH_K:
			if (opt_long("--fetch-k", optarg, 1, 100000, &run.o.fetch_k) < 0)
				return EXIT_USAGE;
			has_fetch = 1;
			break;
		case OPT_SOURCE:
			if (nsources == sizeof sources / sizeof sources[0]) {
				opt_usage_error(help, "too many --source");
				return EXIT_USAGE;
			}
			sources[nsources++] = optarg;
			break;
		case OPT_WHERE: {
			char *eq = strchr(optarg, '=');

			if (eq == NULL || eq == optarg) {
				opt_usage_error(help, "--where: '%s' is not FIELD=VALUE", optarg);
				return EXIT_USAGE;
			}
			if (nwhere == sizeof where / sizeof where[0]) {
				opt_usage_error(help, "too many --where");
				return EXIT_USAGE;
			}
			*eq = '\0';
			where[nwhere].field = optarg;
			where[nwhere++].value = eq + 1;
			break;
		}
		case OPT_FORMAT:
			if (strcmp(optarg, "text") == 0)
				run.text = 1;
			else if (strcmp(optarg, "jsonl") != 0) {
				opt_usage_error(help, "--format: '%s' is not jsonl or text", optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_NPROBE:
			if (opt_long("--nprobe", optarg, 1, 1L << 30, &nprobe) < 0)
				return EXIT_USAGE;
			break;
		case 'e':
			want_embedder = optarg;
			break;
		case 'u':
			if (nurls == sizeof urls / sizeof urls[0]) {
				opt_usage_error(help, "too many --url");
				return EXIT_USAGE;
			}
			urls[nurls++] = optarg;
			break;
		case 'm':
			want_model = optarg;
			break;
		default:
			if ((r = http_opt(c, optarg, &ho, &key_file, help)) != OPT_GO_ON)
				return r;
		}
	}
	if (ndirs == 0) {
		opt_usage_error(help, "no index directory (-d DIR)");
		return EXIT_USAGE;
	}
	if (hybrid && mode && run.o.mode != QRY_HYBRID) {
		opt_usage_error(help, "--hybrid and --mode %s do not go together", mode);
		return EXIT_USAGE;
	}
	if (hybrid)
		run.o.mode = QRY_HYBRID;
	if ((has_weights || has_rrf) && run.o.mode != QRY_HYBRID) {
		opt_usage_error(help, "%s goes with the hybrid mode, not --mode %s", has_weights ? "--weights" : "--rrf-k",
				mode);
		return EXIT_USAGE;
	}
	if (has_fetch && !run.o.mmr) {
		opt_usage_error(help, "--fetch-k goes with --mmr");
		return EXIT_USAGE;
	}
	run.o.sources = sources;
	run.o.nsources = nsources;
	run.o.where = where;
	run.o.nwhere = nwhere;
	signal(SIGPIPE, SIG_IGN);

	run.q = qry_open(dirs, ndirs, err, sizeof err);
	if (run.q == NULL) {
		msg_error("%s", err);
		return EXIT_INDEX;
	}
	qry_set_nprobe(run.q, nprobe);
	if (has_weights) {
		run.o.w_vec = wv;
		run.o.w_lex = wl;
	}

	/* the embedder is the index's; what the command line says must agree */
	{
		const char *name = qry_embedder(run.q);
		int server = server_model(name, model, sizeof model) == 0;

		run.builtin = emb_lex_parse_name(name);
		if (*name && want_embedder && strcmp(want_embedder, name) != 0) {
			msg_error("%s was built with %s, not %s (-e): questions must be embedded as its chunks were",
				  dirs[0], name, want_embedder);
			goto usage_fail;
		}
		if (*name && want_model && (!server || strcmp(model, want_model) != 0)) {
			msg_error("%s was built with %s, not with the server model %s (-m)", dirs[0], name, want_model);
			goto usage_fail;
		}
		if (*name && nurls > 0 && !server) {
			msg_error("%s was built with %s, not with a server's model (-u): questions must be embedded as its"
				  " chunks were", dirs[0], name);
			goto usage_fail;
		}
		if (*name && !run.builtin && !server) {
			msg_error("%s was built with %s, which this rag-query cannot embed questions with", dirs[0], name);
			qry_close(run.q);
			return EXIT_INDEX;
		}
		if (server && run.o.mode != QRY_BM25) {
			if (nurls == 0) {
				long n = http_env_urls("RAG_EMBED_URL", urls, sizeof urls / sizeof urls[0], &url_env);

				if (n < 0) {
					msg_error("out of memory");
					goto fail;
				}
				nurls = (size_t)n;
			}
			if (nurls == 0) {
				msg_error("%s was built with %s: give its server with -u URL or RAG_EMBED_URL", dirs[0], name);
				goto usage_fail;
			}
			if (http_key_load(key_file, &key, err, sizeof err) < 0) {
				msg_error("%s", err);
				goto usage_fail;
			}
			ho.urls = urls;
			ho.nurls = nurls;
			ho.api_key = key;
			ho.parallel = 1;
			run.http = http_new(&ho, err, sizeof err);
			http_key_free(key);
			if (run.http == NULL) {
				msg_error("%s", err);
				goto usage_fail;
			}
			run.model = model;
		}
	}
	b.vecs = malloc((size_t)BATCH * (size_t)(qry_dim(run.q) > 0 ? qry_dim(run.q) : 1) * sizeof *b.vecs);
	if (b.vecs == NULL) {
		msg_error("out of memory");
		goto fail;
	}

	nfiles = argc - optind;
	/* Ctrl-C and the like: stop between two questions, every record written
	 * whole (faiss's and BLAS's threads may be the ones the signal hits) */
	sig_catch();
	for (i = 0; i < (nfiles ? nfiles : 1) && !output_failed && !sig_caught(); i++) {
		const char *path = nfiles ? argv[optind + i] : "-";
		FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
		jl_reader *jr;
		const char *line;
		size_t len;
		enum jl_status st;

		if (in == NULL) {
			msg_error("%s: %s", path, strerror(errno));
			if (run.status == EXIT_OK)
				run.status = EXIT_SOME_FAILED;
			continue;
		}
		jr = jl_reader_new(in, in == stdin ? "stdin" : path);
		if (jr == NULL) {
			msg_error("out of memory");
			run.status = EXIT_SOME_FAILED;
			break;
		}
		int first = 1;

		while (!output_failed && !sig_caught() && (st = jl_read_line(jr, &line, &len)) != JL_EOF) {
			struct qrec *r;

			if (st == JL_IOERR && sig_caught())
				break;
			/* a document or another stage's output: say so once, with the
			 * order, not for every line */
			if (first && st != JL_IOERR && strspn(line, " \t") < len) {
				enum jl_kind k = jl_kind_of(line, len);

				first = 0;
				if (k != JL_KIND_TEXT && k != JL_KIND_QUESTION && k != JL_KIND_OTHER) {
					msg_error("%s: %s, not questions: rag-query reads questions, a line or"
						  " {\"question\":...} each (echo QUESTION | rag-query -d DIR)", jl_name(jr),
						  jl_kind_name(k, line, len));
					if (run.status == EXIT_OK)
						run.status = EXIT_SOME_FAILED;
					break;
				}
			}
			if (st == JL_IOERR) {
				msg_error("%s: %s", jl_name(jr), strerror(errno));
				if (run.status == EXIT_OK)
					run.status = EXIT_SOME_FAILED;
				break;
			}
			if (st == JL_BAD) {
				msg_error("%s: line %ld: %s", jl_name(jr), jl_lineno(jr), jl_reason(jr));
				if (run.status == EXIT_OK)
					run.status = EXIT_SOME_FAILED;
				continue;
			}
			if (strspn(line, " \t") == len)
				continue;
			r = &b.r[b.n];
			memset(r, 0, sizeof *r);
			r->line = malloc(len + 1);
			if (r->line == NULL) {
				msg_error("out of memory");
				run.status = EXIT_SOME_FAILED;
				break;
			}
			memcpy(r->line, line, len);
			r->line[len] = '\0';
			r->len = len;
			r->lineno = jl_lineno(jr);
			b.n++;
			if (b.n == BATCH || !more_ready(in)) {
				if (run_batch(&run, jr, &b) < 0)
					output_failed = 1;
				batch_clear(&b);
			}
		}
		if (b.n > 0 && !output_failed && !sig_caught() && run_batch(&run, jr, &b) < 0)
			output_failed = 1;
		batch_clear(&b);
		jl_reader_free(jr);
		if (in != stdin)
			fclose(in);
	}
	if (output_failed || fflush(stdout) != 0) {
		int st = jl_output_failed();

		if (st != 0 || run.status == EXIT_OK)
			run.status = st;
	} else if (sig_caught()) {
		msg_error("interrupted");
		run.status = sig_status(sig_caught());
	}
	goto done;
usage_fail:
	run.status = EXIT_USAGE;
	goto done;
fail:
	run.status = EXIT_SOME_FAILED;
done:
	free(b.vecs);
	sb_free(&run.out);
	http_free(run.http);
	free(url_env);
	qry_close(run.q);
	return run.status;
}
