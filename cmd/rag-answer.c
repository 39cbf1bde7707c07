/* rag-answer: hits records to answers with verified citations. */
#include "chat.h"
#include "cite.h"
#include "extract.h"
#include "hist.h"
#include "http.h"
#include "jl.h"
#include "msg.h"
#include "opt.h"
#include "prog.h"
#include "prompt.h"
#include "sb.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
	"usage: rag-answer [-hqvtx] [-u URL]... [-m MODEL] [options] [FILE...]\n"
	"Answer each hits record (rag-query's output) read from FILE or standard input.\n"
	"\n"
	"  -u, --url URL          an OpenAI-compatible chat server (repeat for fail-over);\n"
	"                         default $RAG_LLM_URL, $OPENAI_BASE_URL, else the built-in extractive answerer\n"
	"  -m, --model NAME       the server's model (default $RAG_LLM_MODEL)\n"
	"  -x, --extractive       the built-in extractive answerer, even when a server is configured\n"
	"      --sentences N      sentences in an extractive answer at most (default 3)\n"
	"  -t, --text             print each answer for people, streamed, then its numbered sources\n"
	"      --stream, --no-stream  ask the server for a streamed answer (default: with --text)\n"
	"      --template FILE    the user message, with {question} and {context} (the passages)\n"
	"      --system TEXT      the system message ('' for none; default: built in, English or Chinese)\n"
	"      --max-context N    passages up to N characters, or Nt estimated tokens (default 3000t)\n"
	"      --history FILE     earlier questions and answers (JSON lines); new turns are appended\n"
	"      --turns N          how many of the last turns are sent (default 4)\n"
	"      --temperature X    sampling temperature\n"
	"      --max-tokens N     length of the answer at most, in tokens\n"
	"      --stop TEXT        a stop sequence (repeat for several)\n"
	"      --param KEY=JSON   another member of the request (repeat for several)\n"
	"      --parallel N       questions in flight at once (default 1; 1 with --text or --history)\n"
	"      --api-key-file F   read the API key from F (default $RAG_API_KEY, $OPENAI_API_KEY)\n"
	"      --retries N        retries of a failed request (default 3)\n"
	"      --timeout S        seconds for one request (default 300)\n"
	"      --connect-timeout S  seconds to connect (default 10)\n"
	"      --cacert FILE      CA certificates to verify the server with\n"
	"  -q, --quiet            no warnings, no progress\n"
	"  -v, --verbose          say more (passages sent, a summary)\n"
	"  -h, --help             this text\n"
	"      --version          print the version\n";

enum {
	OPT_SENTENCES = OPT_FIRST_PRIVATE, OPT_STREAM, OPT_NO_STREAM, OPT_TEMPLATE, OPT_SYSTEM, OPT_MAX_CONTEXT,
	OPT_HISTORY, OPT_TURNS, OPT_TEMPERATURE, OPT_MAX_TOKENS, OPT_STOP, OPT_PARAM, OPT_PARALLEL
};

/* Exit status when some questions got no answer because of the server. */
#define EXIT_SERVER 3

#define EXTRACTIVE_NAME "ragpipe-extract1"
#define MAX_LIST 64	/* of --url, --stop, --param */

enum job_state { J_SENT, J_DONE, J_FAILED };

struct job {
	struct run *run;
	char *line;		/* the input line (owned) */
	size_t len;
	json_object *obj;	/* parsed */
	long lineno;
	const char *file;	/* the input's name (owned by the run) */
	const char *question;	/* in obj */
	size_t qlen;
	prompt_passage *pass;	/* texts in obj */
	const char **ids;
	size_t npass, used;	/* passages in the hits, and given to the answerer */
	enum prompt_lang lang;
	enum job_state state;
	sb answer;
	cite_filter cite;
	chat_think think;	/* a chat answer's leading reasoning is dropped */
	int from_chat;
	sb visible;		/* what the think filter passed, for the citations */
	chat_stream stream;
	int streaming;
	char error[700];
};

struct run {
	/* configuration */
	int server;
	const char *answerer;	/* the name written into records */
	char name_buf[300];
	http_client *http;
	chat_opts chat;
	const char *stops[MAX_LIST], *params[MAX_LIST];
	const char *system;	/* NULL: built in; "": none */
	char *template;		/* NULL: built in */
	size_t template_len;
	long max_context;
	enum prompt_unit unit;
	int text;		/* --text */
	long parallel;
	ext_opts ext;
	hist *history;

	/* state */
	struct job **queue;	/* ring, input order */
	size_t qcap, qhead, qlen;
	long answered, failed_server, bad_input;
	int output_failed;
	prog *progress;
	sb out;
};

static void job_free(struct job *j)
{
	if (j == NULL)
		return;
	free(j->line);
	json_object_put(j->obj);
	free(j->pass);
	free(j->ids);
	sb_free(&j->answer);
	cite_free(&j->cite);
	chat_think_free(&j->think);
	sb_free(&j->visible);
	if (j->streaming)
		chat_stream_free(&j->stream);
	free(j);
}

/* "question \"What is...\"" for messages: short, on one line. */
static const char *job_what(const struct job *j, char *buf, size_t len)
{
	size_t n = j->qlen, i;
	char q[100];

	if (n > 60)
		n = 60;
	while (n > 0 && n < j->qlen && ((unsigned char)j->question[n] & 0xC0) == 0x80)
		n--;
	memcpy(q, j->question, n);
	q[n] = '\0';
	for (i = 0; i < n; i++)
		if ((unsigned char)q[i] < 0x20)
			q[i] = ' ';
	snprintf(buf, len, "%s: line %ld: question \"%s%s\"", j->file, j->lineno, q, n < j->qlen ? "..." : "");
	return buf;
}

/* ---- reading ---- */

static const char *str_of(json_object *o, const char *name)
{
	json_object *v;

	if (json_object_object_get_ex(o, name, &v) && json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return NULL;
}

static long page_of(json_object *o, const char *name)
{
	json_object *v;

	if (json_object_object_get_ex(o, name, &v) && json_object_is_type(v, json_type_int))
		return (long)json_object_get_int64(v);
	return 0;
}

/* A job from one input line: 1 ok, 0 bad (reported), -1 out of memory. */
static int read_job(struct run *run, jl_reader *jr, const char *line, size_t len, const char *file, struct job **out)
{
	struct job *j = calloc(1, sizeof *j);
	json_object *hits, *v;
	const char *where = jl_name(jr);
	long lineno = jl_lineno(jr);
	size_t i;

	*out = NULL;
	if (j == NULL)
		return -1;
	j->run = run;
	j->lineno = lineno;
	j->file = file;
	if (jl_parse(jr, line, len, &j->obj) != JL_OK) {
		msg_error("%s: line %ld: %s", where, lineno, jl_reason(jr));
		goto bad;
	}
	if (!json_object_object_get_ex(j->obj, "question", &v) || !json_object_is_type(v, json_type_string)) {
		msg_error("%s: line %ld: no \"question\" string (rag-answer reads rag-query's hits records)", where, lineno);
		goto bad;
	}
	j->question = json_object_get_string(v);
	j->qlen = (size_t)json_object_get_string_len(v);
	if (!json_object_object_get_ex(j->obj, "hits", &hits) || !json_object_is_type(hits, json_type_array)) {
		msg_error("%s: line %ld: no \"hits\" array (rag-answer reads rag-query's hits records)", where, lineno);
		goto bad;
	}
	j->npass = json_object_array_length(hits);
	j->pass = calloc(j->npass ? j->npass : 1, sizeof *j->pass);
	j->ids = calloc(j->npass ? j->npass : 1, sizeof *j->ids);
	if (j->pass == NULL || j->ids == NULL)
		goto nomem;
	for (i = 0; i < j->npass; i++) {
		json_object *h = json_object_array_get_idx(hits, i), *t;

		if (!json_object_is_type(h, json_type_object) || !json_object_object_get_ex(h, "text", &t)
		    || !json_object_is_type(t, json_type_string)) {
			msg_error("%s: line %ld: hit %zu has no \"text\" string", where, lineno, i + 1);
			goto bad;
		}
		j->pass[i].text = json_object_get_string(t);
		j->pass[i].len = (size_t)json_object_get_string_len(t);
		j->pass[i].source = str_of(h, "source");
		j->pass[i].title = str_of(h, "title");
		j->pass[i].page = page_of(h, "page");
		j->pass[i].page_end = page_of(h, "page_end");
		j->ids[i] = str_of(h, "id");
	}
	j->line = malloc(len + 1);
	if (j->line == NULL)
		goto nomem;
	memcpy(j->line, line, len);
	j->line[len] = '\0';
	j->len = len;
	j->lang = prompt_lang_of(j->question, j->qlen);
	*out = j;
	return 1;
bad:
	job_free(j);
	return 0;
nomem:
	job_free(j);
	return -1;
}

/* ---- answering ---- */

/* Answer text goes through the citation check; with --text it is shown as
 * it is decided. */
static int put_answer(struct job *j, const char *s, size_t len, int final)
{
	struct run *run = j->run;
	size_t from = j->answer.len;

	if (j->from_chat) {
		sb_truncate(&j->visible, 0);
		if ((s && chat_think_feed(&j->think, s, len, &j->visible) < 0)
		    || (final && chat_think_finish(&j->think, &j->visible) < 0))
			return -1;
		s = sb_str(&j->visible);
		len = j->visible.len;
	}
	if ((s && cite_feed(&j->cite, s, len, &j->answer) < 0) || (final && cite_finish(&j->cite, &j->answer) < 0))
		return -1;
	if (run->text && j->answer.len > from) {
		if (fwrite(j->answer.buf + from, 1, j->answer.len - from, stdout) != j->answer.len - from
		    || fflush(stdout) != 0) {
			run->output_failed = 1;
			return -1;
		}
	}
	return 0;
}

static int fixed_answer(struct job *j, enum prompt_phrase what)
{
	const char *s = prompt_phrase(what, j->lang);

	j->state = J_DONE;
	return put_answer(j, s, strlen(s), 1);
}

static int answer_extractive(struct run *run, struct job *j)
{
	const char **texts = malloc(j->npass * sizeof *texts), **titles = malloc(j->npass * sizeof *titles);
	size_t *lens = malloc(j->npass * sizeof *lens), i;
	ext_result res;
	sb text = SB_INIT;
	int r = -1;

	if (texts == NULL || titles == NULL || lens == NULL)
		goto out;
	for (i = 0; i < j->npass; i++) {
		texts[i] = j->pass[i].text;
		lens[i] = j->pass[i].len;
		titles[i] = j->pass[i].title;
	}
	if (ext_choose(j->question, j->qlen, texts, lens, titles, j->npass, &run->ext, &res) < 0)
		goto out;
	if (!res.found) {
		ext_result_free(&res);
		r = fixed_answer(j, PROMPT_NOT_IN_DOCS);
		goto out;
	}
	if (ext_compose(&res, texts, &text) == 0 && put_answer(j, text.buf, text.len, 1) == 0) {
		j->state = J_DONE;
		r = 0;
	}
	ext_result_free(&res);
out:
	sb_free(&text);
	free(texts);
	free(titles);
	free(lens);
	return r;
}

static int on_token(void *ctx, const char *text, size_t len, char *err, size_t errlen)
{
	struct job *j = ctx;

	if (put_answer(j, text, len, 0) < 0) {
		snprintf(err, errlen, "%s", j->run->output_failed ? "output failed" : "out of memory");
		return -1;
	}
	return 0;
}

static int on_bytes(void *ctx, const char *data, size_t len)
{
	struct job *j = ctx;

	return chat_stream_feed(&j->stream, data, len);
}

/* The messages of a question: system, earlier turns, the passages and the
 * question. */
static int send_question(struct run *run, struct job *j)
{
	chat_msg msgs[2 + 2 * 64];
	size_t n = 0, i, nturns = run->history ? hist_count(run->history) : 0;
	sb context = SB_INIT, user = SB_INIT, body = SB_INIT, *stripped = NULL;
	const char *tmpl = run->template ? run->template : prompt_template(j->lang);
	size_t tlen = run->template ? run->template_len : strlen(tmpl);
	const char *system = run->system ? run->system : prompt_system(j->lang);
	char err[400];
	int cut, r = -1;

	if (nturns > 64)
		nturns = 64;
	if (prompt_context(&context, j->pass, j->npass, run->max_context, run->unit, j->lang, &j->used, &cut) < 0
	    || prompt_fill(&user, tmpl, tlen, j->question, j->qlen, sb_str(&context), context.len) < 0)
		goto out;
	if (j->used < j->npass || cut)
		msg_info("%s: line %ld: %zu of %zu passages within --max-context%s", j->file, j->lineno, j->used,
			 j->npass, cut ? " (the first one shortened)" : "");
	cite_free(&j->cite);
	if (cite_init(&j->cite, (int)j->used) < 0)
		goto out;
	chat_think_free(&j->think);
	chat_think_init(&j->think);
	j->from_chat = 1;
	if (*system) {
		msgs[n].role = "system";
		msgs[n].content = system;
		msgs[n++].len = strlen(system);
	}
	/* earlier answers without their citations: those passages are not here */
	stripped = calloc(nturns ? nturns : 1, sizeof *stripped);
	if (stripped == NULL)
		goto out;
	for (i = 0; i < nturns; i++) {
		const hist_turn *t = hist_at(run->history, hist_count(run->history) - nturns + i);
		cite_filter strip;

		if (cite_init(&strip, 0) < 0)
			goto out;
		if (cite_feed(&strip, t->answer, strlen(t->answer), &stripped[i]) < 0
		    || cite_finish(&strip, &stripped[i]) < 0) {
			cite_free(&strip);
			goto out;
		}
		cite_free(&strip);
		msgs[n].role = "user";
		msgs[n].content = t->question;
		msgs[n++].len = strlen(t->question);
		msgs[n].role = "assistant";
		msgs[n].content = sb_str(&stripped[i]);
		msgs[n++].len = stripped[i].len;
	}
	msgs[n].role = "user";
	msgs[n].content = sb_str(&user);
	msgs[n++].len = user.len;
	if (chat_request(&body, &run->chat, msgs, n, err, sizeof err) < 0) {
		msg_error("%s", err);
		goto out;
	}
	if (run->chat.stream) {
		chat_stream_init(&j->stream, on_token, j);
		j->streaming = 1;
		r = http_submit_stream(run->http, "/chat/completions", body.buf, body.len,
				       http_estimate_tokens(body.buf, body.len), j, on_bytes, j);
	} else {
		r = http_submit(run->http, "/chat/completions", body.buf, body.len, http_estimate_tokens(body.buf, body.len), j);
	}
	if (r == 0)
		j->state = J_SENT;
out:
	for (i = 0; stripped && i < nturns; i++)
		sb_free(&stripped[i]);
	free(stripped);
	sb_free(&context);
	sb_free(&user);
	sb_free(&body);
	return r;
}

/* Start on a job: answered at once, or sent. -1: out of memory. */
static int start_job(struct run *run, struct job *j)
{
	if (cite_init(&j->cite, (int)j->npass) < 0)
		return -1;
	j->used = j->npass;
	if (j->npass == 0)
		return fixed_answer(j, PROMPT_NOTHING_FOUND) < 0 && !run->output_failed ? -1 : 0;
	if (!run->server) {
		if (answer_extractive(run, j) < 0)
			return run->output_failed ? 0 : -1;
		return 0;
	}
	return send_question(run, j);
}

/* A server's answer for its job. */
static void take_result(struct run *run, http_result *res)
{
	struct job *j = res->tag;
	char finish[32] = "", err[600], what[200];

	if (run->output_failed) {
		j->state = J_FAILED;
		return;
	}
	if (!res->ok) {
		/* the stream's own reason says more than "the reader stopped" */
		if (j->streaming && j->stream.failed)
			snprintf(j->error, sizeof j->error, "%s: %s", res->url ? res->url : "server", j->stream.err);
		else
			snprintf(j->error, sizeof j->error, "%s", res->error);
		if (j->streaming && j->stream.failed)
			http_reject(run->http, res);
		j->state = J_FAILED;
		return;
	}
	if (j->streaming) {
		if (chat_stream_end(&j->stream) < 0) {
			http_reject(run->http, res);
			snprintf(j->error, sizeof j->error, "%s: %s", res->url, j->stream.err);
			j->state = J_FAILED;
			return;
		}
		snprintf(finish, sizeof finish, "%s", j->stream.finish);
		if (put_answer(j, NULL, 0, 1) < 0) {
			snprintf(j->error, sizeof j->error, "%s", run->output_failed ? "output failed" : "out of memory");
			j->state = J_FAILED;
			return;
		}
	} else {
		sb content = SB_INIT;

		if (chat_response(res->body, res->len, &content, finish, sizeof finish, err, sizeof err) < 0) {
			http_reject(run->http, res);
			snprintf(j->error, sizeof j->error, "%s: %s", res->url, err);
			j->state = J_FAILED;
			sb_free(&content);
			return;
		}
		if (put_answer(j, content.buf, content.len, 1) < 0) {
			snprintf(j->error, sizeof j->error, "%s", run->output_failed ? "output failed" : "out of memory");
			j->state = J_FAILED;
			sb_free(&content);
			return;
		}
		sb_free(&content);
	}
	if (strspn(sb_str(&j->answer), " \t\r\n") == j->answer.len) {
		snprintf(j->error, sizeof j->error, "%s: the answer is empty", res->url);
		j->state = J_FAILED;
		return;
	}
	if (strcmp(finish, "length") == 0)
		msg_warn("%s: the answer was cut short at the token limit", job_what(j, what, sizeof what));
	j->state = J_DONE;
}

/* ---- writing ---- */

struct keep {
	sb *out;
	const char *line;
	int n, failed;
};

static int keep_member(void *ctx, const char *key, size_t keylen, size_t start, size_t end)
{
	static const char *const ours[] = { "hits", "answer", "citations", "answerer", "unverified_citations" };
	struct keep *k = ctx;
	size_t i;

	for (i = 0; i < sizeof ours / sizeof ours[0]; i++)
		if (keylen == strlen(ours[i]) && memcmp(key, ours[i], keylen) == 0)
			return 0;
	if ((k->n++ && sb_putc(k->out, ',') < 0) || sb_append(k->out, k->line + start, end - start) < 0) {
		k->failed = 1;
		return -1;
	}
	return 0;
}

static int format_record(struct run *run, struct job *j)
{
	sb *o = &run->out;
	struct keep k = { o, j->line, 0, 0 };
	char num[64];
	size_t i;
	int first = 1;

	if (sb_putc(o, '{') < 0 || jl_members(j->line, j->len, keep_member, &k) < 0 || k.failed)
		return -1;
	if ((k.n && sb_putc(o, ',') < 0) || sb_puts(o, "\"answer\":") < 0
	    || jl_put_string(o, sb_str(&j->answer), j->answer.len) < 0 || sb_puts(o, ",\"citations\":[") < 0)
		return -1;
	for (i = 0; i < j->used; i++) {
		const prompt_passage *p = &j->pass[i];

		if (!cite_used(&j->cite, (int)i + 1))
			continue;
		snprintf(num, sizeof num, "%s{\"n\":%zu", first ? "" : ",", i + 1);
		first = 0;
		if (sb_puts(o, num) < 0)
			return -1;
		if (j->ids[i] && (sb_puts(o, ",\"id\":") < 0 || jl_put_string(o, j->ids[i], strlen(j->ids[i])) < 0))
			return -1;
		if (p->source && (sb_puts(o, ",\"source\":") < 0 || jl_put_string(o, p->source, strlen(p->source)) < 0))
			return -1;
		if (p->page > 0) {
			snprintf(num, sizeof num, ",\"page\":%ld", p->page);
			if (sb_puts(o, num) < 0)
				return -1;
			if (p->page_end > p->page) {
				snprintf(num, sizeof num, ",\"page_end\":%ld", p->page_end);
				if (sb_puts(o, num) < 0)
					return -1;
			}
		}
		if (p->title && *p->title
		    && (sb_puts(o, ",\"title\":") < 0 || jl_put_string(o, p->title, strlen(p->title)) < 0))
			return -1;
		if (sb_putc(o, '}') < 0)
			return -1;
	}
	if (sb_puts(o, "],\"answerer\":") < 0 || jl_put_string(o, run->answerer, strlen(run->answerer)) < 0)
		return -1;
	if (run->server) {
		snprintf(num, sizeof num, ",\"unverified_citations\":%ld", j->cite.unverified);
		if (sb_puts(o, num) < 0)
			return -1;
	}
	return sb_puts(o, "}\n");
}

/* The sources of an answer shown to people: "[1] book.pdf:42 (7.7 DenseNet)". */
static int format_sources(struct run *run, struct job *j)
{
	sb *o = &run->out;
	size_t i;
	int any = 0;
	char num[32];

	if (sb_puts(o, "\n") < 0)
		return -1;
	for (i = 0; i < j->used; i++) {
		if (!cite_used(&j->cite, (int)i + 1))
			continue;
		if (!any++ && (sb_putc(o, '\n') < 0 || sb_puts(o, prompt_phrase(PROMPT_SOURCES, j->lang)) < 0
			       || sb_putc(o, '\n') < 0))
			return -1;
		snprintf(num, sizeof num, "[%zu] ", i + 1);
		if (sb_puts(o, num) < 0 || prompt_source_label(o, &j->pass[i]) < 0 || sb_putc(o, '\n') < 0)
			return -1;
	}
	return sb_putc(o, '\n');
}

/* Write out a record with interrupts held off, so that it is whole. */
static int write_out(struct run *run)
{
	sigset_t block, old;
	int r = 0;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &old);
	if (fwrite(run->out.buf, 1, run->out.len, stdout) != run->out.len || fflush(stdout) != 0)
		r = -1;
	sigprocmask(SIG_SETMASK, &old, NULL);
	sb_truncate(&run->out, 0);
	return r;
}

static struct job *q_at(struct run *run, size_t i)
{
	return run->queue[(run->qhead + i) % run->qcap];
}

static int q_push(struct run *run, struct job *j)
{
	if (run->qlen == run->qcap) {
		size_t cap = run->qcap ? run->qcap * 2 : 8, i;
		struct job **q = calloc(cap, sizeof *q);

		if (q == NULL)
			return -1;
		for (i = 0; i < run->qlen; i++)
			q[i] = q_at(run, i);
		free(run->queue);
		run->queue = q;
		run->qcap = cap;
		run->qhead = 0;
	}
	run->queue[(run->qhead + run->qlen++) % run->qcap] = j;
	return 0;
}

/* Finish the jobs at the head of the queue that are done, in input order. */
static int flush_done(struct run *run)
{
	char what[200], err[600];

	while (run->qlen > 0 && !run->output_failed) {
		struct job *j = q_at(run, 0);

		if (j->state == J_SENT)
			break;
		if (j->state == J_DONE) {
			if ((run->text ? format_sources(run, j) : format_record(run, j)) < 0) {
				msg_error("out of memory");
				return -1;
			}
			if (write_out(run) < 0) {
				run->output_failed = 1;
				break;
			}
			run->answered++;
			if (run->history && hist_append(run->history, j->question, j->qlen, sb_str(&j->answer),
							j->answer.len, err, sizeof err) < 0) {
				msg_error("%s", err);
				return -1;
			}
		} else {
			if (run->text && j->answer.len > 0 && putchar('\n') == EOF)
				run->output_failed = 1;
			msg_error("%s: no answer: %s", job_what(j, what, sizeof what), j->error);
			run->failed_server++;
		}
		job_free(j);
		run->qhead = (run->qhead + 1) % run->qcap;
		run->qlen--;
		prog_update(run->progress, run->answered, NULL);
	}
	return 0;
}

/* Wait for one answer from the server. -1: the client failed. */
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
		take_result(run, &res);
		http_result_free(&res);
	}
	return 0;
}

/* ---- options ---- */

static char *read_file(const char *path, size_t *len, const char *what)
{
	FILE *f = fopen(path, "r");
	sb b = SB_INIT;
	char buf[4096];
	size_t n;

	if (f == NULL) {
		msg_error("%s %s: %s", what, path, strerror(errno));
		return NULL;
	}
	while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
		if (sb_append(&b, buf, n) < 0 || b.len > (1 << 20)) {
			msg_error("%s %s: %s", what, path, b.len > (1 << 20) ? "longer than 1 MB" : "out of memory");
			fclose(f);
			sb_free(&b);
			return NULL;
		}
	}
	if (ferror(f)) {
		msg_error("%s %s: %s", what, path, strerror(errno));
		fclose(f);
		sb_free(&b);
		return NULL;
	}
	fclose(f);
	*len = b.len;
	if (b.buf == NULL)
		return strdup("");
	return b.buf;
}

static int parse_budget(const char *arg, long *n, enum prompt_unit *unit)
{
	char buf[32];
	size_t len = strlen(arg);

	*unit = PROMPT_CHARS;
	if (len > 0 && len < sizeof buf && (arg[len - 1] == 't' || arg[len - 1] == 'c')) {
		*unit = arg[len - 1] == 't' ? PROMPT_TOKENS : PROMPT_CHARS;
		memcpy(buf, arg, len - 1);
		buf[len - 1] = '\0';
		arg = buf;
	}
	return opt_long("--max-context", arg, 0, 1L << 30, n);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "model", required_argument, NULL, 'm' },
		{ "extractive", no_argument, NULL, 'x' },
		{ "sentences", required_argument, NULL, OPT_SENTENCES },
		{ "text", no_argument, NULL, 't' },
		{ "stream", no_argument, NULL, OPT_STREAM },
		{ "no-stream", no_argument, NULL, OPT_NO_STREAM },
		{ "template", required_argument, NULL, OPT_TEMPLATE },
		{ "system", required_argument, NULL, OPT_SYSTEM },
		{ "max-context", required_argument, NULL, OPT_MAX_CONTEXT },
		{ "history", required_argument, NULL, OPT_HISTORY },
		{ "turns", required_argument, NULL, OPT_TURNS },
		{ "temperature", required_argument, NULL, OPT_TEMPERATURE },
		{ "max-tokens", required_argument, NULL, OPT_MAX_TOKENS },
		{ "stop", required_argument, NULL, OPT_STOP },
		{ "param", required_argument, NULL, OPT_PARAM },
		{ "parallel", required_argument, NULL, OPT_PARALLEL },
		HTTP_OPT_LONG,
		OPT_STD_LONG,
		{ NULL, 0, NULL, 0 }
	};
	const char *urls[MAX_LIST], *key_file = NULL, *template_path = NULL, *history_path = NULL, *env, *problem;
	size_t nurls = 0;
	char *key = NULL, *url_env = NULL, err[600];
	http_opts ho;
	struct run run;
	hist history;
	long turns = 4, sentences = EXT_MAX_SENTENCES;
	int c, r, i, nfiles, extractive = 0, stream = -1, stop = 0, status;
	char **names;

	msg_init(argv);
	memset(&run, 0, sizeof run);
	http_opts_init(&ho);
	ho.retries = 3;
	ho.timeout = 300;
	run.max_context = 3000;
	run.unit = PROMPT_TOKENS;
	run.parallel = 1;
	run.chat.stop = run.stops;
	run.chat.params = run.params;
	while ((c = getopt_long(argc, argv, "u:m:xt" OPT_STD_SHORT, longopts, NULL)) != -1) {
		switch (c) {
		case 'u':
			if (nurls == MAX_LIST) {
				opt_usage_error(help, "too many --url");
				return EXIT_USAGE;
			}
			urls[nurls++] = optarg;
			break;
		case 'm':
			run.chat.model = optarg;
			break;
		case 'x':
			extractive = 1;
			break;
		case OPT_SENTENCES:
			if (opt_long("--sentences", optarg, 1, 100, &sentences) < 0)
				return EXIT_USAGE;
			break;
		case 't':
			run.text = 1;
			break;
		case OPT_STREAM:
			stream = 1;
			break;
		case OPT_NO_STREAM:
			stream = 0;
			break;
		case OPT_TEMPLATE:
			template_path = optarg;
			break;
		case OPT_SYSTEM:
			run.system = optarg;
			break;
		case OPT_MAX_CONTEXT:
			if (parse_budget(optarg, &run.max_context, &run.unit) < 0)
				return EXIT_USAGE;
			break;
		case OPT_HISTORY:
			history_path = optarg;
			break;
		case OPT_TURNS:
			if (opt_long("--turns", optarg, 0, 64, &turns) < 0)
				return EXIT_USAGE;
			break;
		case OPT_TEMPERATURE:
			if (!chat_is_number(optarg) || strtod(optarg, NULL) < 0) {
				opt_usage_error(help, "--temperature: '%s' is not a number >= 0", optarg);
				return EXIT_USAGE;
			}
			run.chat.temperature = optarg;
			break;
		case OPT_MAX_TOKENS:
			if (opt_long("--max-tokens", optarg, 1, 1L << 30, &run.chat.max_tokens) < 0)
				return EXIT_USAGE;
			break;
		case OPT_STOP:
			if (run.chat.nstop == MAX_LIST || *optarg == '\0') {
				opt_usage_error(help, "--stop: %s", *optarg ? "too many" : "empty");
				return EXIT_USAGE;
			}
			run.stops[run.chat.nstop++] = optarg;
			break;
		case OPT_PARAM:
			if ((problem = chat_param_problem(optarg)) != NULL || run.chat.nparams == MAX_LIST) {
				opt_usage_error(help, "--param %s: %s", optarg, problem ? problem : "too many");
				return EXIT_USAGE;
			}
			run.params[run.chat.nparams++] = optarg;
			break;
		case OPT_PARALLEL:
			if (opt_long("--parallel", optarg, 1, 256, &run.parallel) < 0)
				return EXIT_USAGE;
			break;
		default:
			if ((r = http_opt(c, optarg, &ho, &key_file, help)) != OPT_GO_ON)
				return r;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	ext_opts_init(&run.ext);
	run.ext.max_sentences = (int)sentences;

	/* flags first, then the environment, then the built-in answerer */
	if (nurls == 0 && !extractive) {
		long n = http_env_urls("RAG_LLM_URL", urls, MAX_LIST, &url_env);

		if (n < 0) {
			msg_error("out of memory");
			return EXIT_SOME_FAILED;
		}
		nurls = (size_t)n;
	}
	if (run.chat.model == NULL && (env = getenv("RAG_LLM_MODEL")) && *env)
		run.chat.model = env;
	run.server = nurls > 0 && !extractive;
	if (template_path) {
		run.template = read_file(template_path, &run.template_len, "--template");
		if (run.template == NULL)
			goto usage;
		if ((problem = prompt_template_problem(run.template, run.template_len)) != NULL) {
			msg_error("--template %s: %s", template_path, problem);
			goto usage;
		}
	}
	if (run.server) {
		if (run.chat.model == NULL) {
			opt_usage_error(help, "a server needs --model (or RAG_LLM_MODEL)");
			goto usage;
		}
		if (http_key_load(key_file, &key, err, sizeof err) < 0) {
			msg_error("--api-key-file %s", err);
			goto usage;
		}
		if (run.text || history_path)
			run.parallel = 1;
		ho.urls = urls;
		ho.nurls = nurls;
		ho.api_key = key;
		ho.parallel = (int)run.parallel;
		run.http = http_new(&ho, err, sizeof err);
		http_key_free(key);
		if (run.http == NULL) {
			msg_error("%s", err);
			goto usage;
		}
		run.chat.stream = stream >= 0 ? stream : run.text;
		snprintf(run.name_buf, sizeof run.name_buf, "api:%s", run.chat.model);
		run.answerer = run.name_buf;
	} else {
		run.answerer = EXTRACTIVE_NAME;
		run.parallel = 1;
	}
	if (history_path) {
		if (hist_open(&history, history_path, (int)turns, err, sizeof err) < 0) {
			msg_error("--history %s", err);
			goto usage;
		}
		run.history = &history;
	}

	if (!run.text)
		run.progress = prog_new("answers", 0);
	nfiles = argc - optind;
	/* jobs outlive the reader of the file they came from: keep the names */
	names = calloc((size_t)(nfiles ? nfiles : 1), sizeof *names);
	if (names == NULL) {
		msg_error("out of memory");
		return EXIT_SOME_FAILED;
	}
	for (i = 0; i < (nfiles ? nfiles : 1) && !stop && !run.output_failed; i++) {
		const char *path = nfiles ? argv[optind + i] : "-";
		FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
		jl_reader *jr;
		const char *line;
		size_t len;
		enum jl_status st;

		if (in == NULL) {
			msg_error("%s: %s", path, strerror(errno));
			run.bad_input++;
			continue;
		}
		jr = jl_reader_new(in, in == stdin ? "stdin" : path);
		names[i] = strdup(in == stdin ? "stdin" : path);
		if (jr == NULL || names[i] == NULL) {
			msg_error("out of memory");
			jl_reader_free(jr);
			if (in != stdin)
				fclose(in);
			stop = 1;
			break;
		}
		int first = 1;

		while (!stop && !run.output_failed && (st = jl_read_line(jr, &line, &len)) != JL_EOF) {
			struct job *j;
			int ok;

			if (st == JL_IOERR) {
				msg_error("%s: %s", jl_name(jr), strerror(errno));
				run.bad_input++;
				break;
			}
			/* plain text, a document or another stage's output: say so
			 * once, with the order, not for every line */
			if (first && strspn(line, " \t") < len) {
				enum jl_kind k = jl_kind_of(line, len);

				first = 0;
				if (k != JL_KIND_HITS && k != JL_KIND_OTHER) {
					msg_error("%s: %s, not hits records: rag-answer reads what rag-query writes"
						  " (echo QUESTION | rag-query -d DIR | rag-answer)", jl_name(jr),
						  jl_kind_name(k, line, len));
					run.bad_input++;
					break;
				}
			}
			if (st == JL_BAD) {
				msg_error("%s: line %ld: %s", jl_name(jr), jl_lineno(jr), jl_reason(jr));
				run.bad_input++;
				continue;
			}
			if (strspn(line, " \t") == len)
				continue;
			ok = read_job(&run, jr, line, len, names[i], &j);
			if (ok == 0) {
				run.bad_input++;
				continue;
			}
			if (ok < 0 || start_job(&run, j) < 0 || q_push(&run, j) < 0) {
				if (!run.output_failed)
					msg_error("out of memory");
				job_free(j);
				stop = 1;
				break;
			}
			while (!stop && run.http && (long)http_pending(run.http) >= run.parallel * (long)nurls)
				if (wait_one(&run) < 0)
					stop = 1;
			if (flush_done(&run) < 0)
				stop = 1;
		}
		jl_reader_free(jr);
		if (in != stdin)
			fclose(in);
	}
	while (!stop && !run.output_failed && run.qlen > 0) {
		if (flush_done(&run) < 0 || run.qlen == 0 || run.output_failed)
			break;
		if (run.http == NULL || http_pending(run.http) == 0 || wait_one(&run) < 0)
			break;
	}
	prog_free(run.progress);
	if (run.output_failed || fflush(stdout) != 0)
		status = jl_output_failed();
	else if (stop)
		status = EXIT_SOME_FAILED;
	else if (run.failed_server)
		status = EXIT_SERVER;
	else
		status = run.bad_input ? EXIT_SOME_FAILED : EXIT_OK;
	msg_info("%ld answered with %s, %ld not answered, %ld bad input lines", run.answered, run.answerer,
		 run.failed_server, run.bad_input);
	while (run.qlen > 0) {
		job_free(q_at(&run, 0));
		run.qhead = (run.qhead + 1) % run.qcap;
		run.qlen--;
	}
	free(run.queue);
	for (i = 0; i < (nfiles ? nfiles : 1); i++)
		free(names[i]);
	free(names);
	sb_free(&run.out);
	http_free(run.http);
	if (run.history)
		hist_close(run.history);
	free(run.template);
	free(url_env);
	return status;
usage:
	http_free(run.http);
	free(run.template);
	free(url_env);
	return EXIT_USAGE;
}
