#include "chat.h"
#include "jl.h"
#include "u8.h"

#include <json-c/json.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parse s as one strict JSON object (jl's rules: RFC 8259, no NaN, no
 * control characters in strings). NULL when it is not one; *bad says
 * whether that is the text's fault (1) or memory's (0). */
static json_object *parse_json(const char *s, size_t len, int *bad)
{
	jl_reader *r = jl_reader_new(NULL, "answer");
	json_object *v = NULL;

	*bad = r != NULL;
	if (r && memchr(s, '\0', len) == NULL && u8_valid_prefix(s, len) == len && jl_parse(r, s, len, &v) != JL_OK)
		v = NULL;
	jl_reader_free(r);
	return v;
}

/* A --param value: any JSON value, checked as the member of an object.
 * Owned by the caller; *isnull for JSON null (which json-c makes NULL). */
static json_object *parse_value(const char *s, int *bad, int *isnull)
{
	sb w = SB_INIT;
	json_object *o, *v = NULL;

	*isnull = 0;
	if (sb_puts(&w, "{\"v\":") < 0 || sb_puts(&w, s) < 0 || sb_putc(&w, '}') < 0) {
		sb_free(&w);
		*bad = 0;
		return NULL;
	}
	o = parse_json(w.buf, w.len, bad);
	sb_free(&w);
	if (o && json_object_object_get_ex(o, "v", &v)) {
		*isnull = v == NULL;
		v = json_object_get(v);
	}
	json_object_put(o);
	return v;
}

static int key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'
	    || c == '.';
}

const char *chat_param_problem(const char *param)
{
	const char *eq = strchr(param, '=');
	json_object *v;
	size_t i;
	int bad, isnull;

	if (eq == NULL || eq == param)
		return "expected KEY=JSON";
	for (i = 0; param + i < eq; i++)
		if (!key_char(param[i]))
			return "the key may have only letters, digits, '_', '-' and '.'";
	if ((eq - param == 8 && memcmp(param, "messages", 8) == 0) || (eq - param == 6 && memcmp(param, "stream", 6) == 0))
		return "\"messages\" and \"stream\" are rag-answer's own";
	v = parse_value(eq + 1, &bad, &isnull);
	if (v == NULL && !isnull)
		return bad ? "the value is not JSON (a string needs its quotes: KEY='\"text\"')" : "out of memory";
	json_object_put(v);
	return NULL;
}

int chat_is_number(const char *s)
{
	json_object *v;
	int bad, r, isnull;

	v = parse_value(s, &bad, &isnull);
	r = v && (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int));
	json_object_put(v);
	return r;
}

static int add(json_object *o, const char *key, json_object *v)
{
	if (v == NULL)
		return -1;
	if (json_object_object_add(o, key, v) < 0) {
		json_object_put(v);
		return -1;
	}
	return 0;
}

int chat_request(sb *body, const chat_opts *o, const chat_msg *msgs, size_t n, char *err, size_t errlen)
{
	json_object *req = json_object_new_object(), *arr, *v;
	const char *s;
	size_t i, len;
	int bad, isnull;

	if (req == NULL)
		goto oom;
	if (o->model && add(req, "model", json_object_new_string(o->model)) < 0)
		goto oom;
	arr = json_object_new_array();
	if (add(req, "messages", arr) < 0)
		goto oom;
	for (i = 0; i < n; i++) {
		json_object *m = json_object_new_object();

		if (m == NULL || json_object_array_add(arr, m) < 0) {
			json_object_put(m);
			goto oom;
		}
		if (add(m, "role", json_object_new_string(msgs[i].role)) < 0
		    || add(m, "content", json_object_new_string_len(msgs[i].content, (int)msgs[i].len)) < 0)
			goto oom;
	}
	if (add(req, "stream", json_object_new_boolean(o->stream)) < 0)
		goto oom;
	if (o->temperature && add(req, "temperature", json_object_new_double_s(strtod(o->temperature, NULL), o->temperature)) < 0)
		goto oom;
	if (o->max_tokens > 0 && add(req, "max_tokens", json_object_new_int64(o->max_tokens)) < 0)
		goto oom;
	if (o->nstop > 0) {
		arr = json_object_new_array();
		if (add(req, "stop", arr) < 0)
			goto oom;
		for (i = 0; i < o->nstop; i++) {
			v = json_object_new_string(o->stop[i]);
			if (v == NULL || json_object_array_add(arr, v) < 0) {
				json_object_put(v);
				goto oom;
			}
		}
	}
	for (i = 0; i < o->nparams; i++) {
		const char *eq = strchr(o->params[i], '=');
		char key[256];

		if (eq == NULL || chat_param_problem(o->params[i]) || (size_t)(eq - o->params[i]) >= sizeof key) {
			snprintf(err, errlen, "--param %.100s: %s", o->params[i],
				 eq ? chat_param_problem(o->params[i]) ? chat_param_problem(o->params[i]) : "key too long"
				    : "expected KEY=JSON");
			json_object_put(req);
			return -1;
		}
		memcpy(key, o->params[i], (size_t)(eq - o->params[i]));
		key[eq - o->params[i]] = '\0';
		v = parse_value(eq + 1, &bad, &isnull);
		if (v == NULL && !isnull)
			goto oom;	/* checked above: only memory can fail */
		if (json_object_object_add(req, key, v) < 0) {
			json_object_put(v);
			goto oom;
		}
	}
	s = json_object_to_json_string_length(req, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (s == NULL || sb_append(body, s, len) < 0)
		goto oom;
	json_object_put(req);
	return 0;
oom:
	json_object_put(req);
	snprintf(err, errlen, "out of memory");
	return -1;
}

/* The server's message in an {"error":...} answer, on one line, or NULL. */
static int server_error(json_object *o, char *err, size_t errlen)
{
	json_object *e, *m;
	const char *msg = NULL;
	char line[300];
	size_t i;

	if (!json_object_object_get_ex(o, "error", &e) || json_object_is_type(e, json_type_null))
		return 0;
	if (json_object_is_type(e, json_type_string))
		msg = json_object_get_string(e);
	else if (json_object_is_type(e, json_type_object) && json_object_object_get_ex(e, "message", &m)
		 && json_object_is_type(m, json_type_string))
		msg = json_object_get_string(m);
	snprintf(line, sizeof line, "%s", msg ? msg : "(no message)");
	for (i = 0; line[i]; i++)
		if ((unsigned char)line[i] < 0x20)
			line[i] = ' ';
	line[u8_valid_prefix(line, strlen(line))] = '\0';
	snprintf(err, errlen, "the server answered with an error: %s", line);
	return 1;
}

/* choices[0], with the member (message or delta) that holds the text. */
static int first_choice(json_object *o, const char *holder, json_object **choice, json_object **text_holder,
			char *err, size_t errlen)
{
	json_object *choices;

	*choice = *text_holder = NULL;
	if (!json_object_object_get_ex(o, "choices", &choices) || !json_object_is_type(choices, json_type_array)) {
		snprintf(err, errlen, "the answer has no \"choices\" array");
		return -1;
	}
	if (json_object_array_length(choices) == 0)
		return 0;
	*choice = json_object_array_get_idx(choices, 0);
	if (!json_object_is_type(*choice, json_type_object)) {
		snprintf(err, errlen, "\"choices\"[0] is not an object");
		return -1;
	}
	if (json_object_object_get_ex(*choice, holder, text_holder) && !json_object_is_type(*text_holder, json_type_object)
	    && !json_object_is_type(*text_holder, json_type_null)) {
		snprintf(err, errlen, "\"choices\"[0].%s is not an object", holder);
		return -1;
	}
	return 0;
}

/* The content of a message or delta: 1 with the text, 0 when there is none
 * (absent or null), -1 when it is something else. */
static int content_of(json_object *holder, const char **text, size_t *len, char *err, size_t errlen)
{
	json_object *c;

	if (holder == NULL || !json_object_is_type(holder, json_type_object)
	    || !json_object_object_get_ex(holder, "content", &c) || json_object_is_type(c, json_type_null))
		return 0;
	if (!json_object_is_type(c, json_type_string)) {
		snprintf(err, errlen, "\"content\" is not a string");
		return -1;
	}
	*text = json_object_get_string(c);
	*len = (size_t)json_object_get_string_len(c);
	return 1;
}

static void finish_reason(json_object *choice, char *finish, size_t flen)
{
	json_object *f;

	if (choice && json_object_object_get_ex(choice, "finish_reason", &f) && json_object_is_type(f, json_type_string))
		snprintf(finish, flen, "%s", json_object_get_string(f));
}

int chat_response(const char *body, size_t len, sb *content, char *finish, size_t flen, char *err, size_t errlen)
{
	json_object *o, *choice, *msg;
	const char *text;
	size_t tlen;
	int bad, r;

	finish[0] = '\0';
	o = parse_json(body, len, &bad);
	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		snprintf(err, errlen, bad ? "the answer is not a JSON object" : "out of memory");
		json_object_put(o);
		return -1;
	}
	if (server_error(o, err, errlen) || first_choice(o, "message", &choice, &msg, err, errlen) < 0) {
		json_object_put(o);
		return -1;
	}
	if (choice == NULL) {
		snprintf(err, errlen, "the answer has no choices");
		json_object_put(o);
		return -1;
	}
	finish_reason(choice, finish, flen);
	r = content_of(msg, &text, &tlen, err, errlen);
	if (r == 0)
		snprintf(err, errlen, "the answer has no text (\"choices\"[0].message.content)");
	if (r > 0 && sb_append(content, text, tlen) < 0) {
		snprintf(err, errlen, "out of memory");
		r = -1;
	}
	json_object_put(o);
	return r > 0 ? 0 : -1;
}

/* ---- streamed answers ---- */

void chat_stream_init(chat_stream *s, chat_token_fn fn, void *ctx)
{
	memset(s, 0, sizeof *s);
	sse_init(&s->sse, 0);
	s->fn = fn;
	s->ctx = ctx;
}

void chat_stream_free(chat_stream *s)
{
	sse_free(&s->sse);
	sb_free(&s->body);
}

static int on_event(void *ctx, const char *event, const char *data, size_t len, char *err, size_t errlen)
{
	chat_stream *s = ctx;
	json_object *o, *choice, *delta;
	const char *text;
	size_t tlen;
	int bad, r = 0;

	s->events++;
	if (s->done)
		return 0;	/* nothing counts after the end */
	if (len == 6 && memcmp(data, "[DONE]", 6) == 0) {
		s->done = 1;
		return 0;
	}
	o = parse_json(data, len, &bad);
	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		snprintf(err, errlen, "event %ld%s%s is not a JSON object", s->events, strcmp(event, "message") ? " " : "",
			 strcmp(event, "message") ? event : "");
		json_object_put(o);
		return -1;
	}
	if (server_error(o, err, errlen)) {
		json_object_put(o);
		return -1;
	}
	if (strcmp(event, "error") == 0) {
		snprintf(err, errlen, "the server sent an error event");
		json_object_put(o);
		return -1;
	}
	if (first_choice(o, "delta", &choice, &delta, err, errlen) < 0) {
		char why[200];

		snprintf(why, sizeof why, "%s", err);
		snprintf(err, errlen, "event %ld: %s", s->events, why);
		json_object_put(o);
		return -1;
	}
	if (choice) {
		finish_reason(choice, s->finish, sizeof s->finish);
		r = content_of(delta, &text, &tlen, err, errlen);
		if (r > 0 && tlen > 0)
			r = s->fn(s->ctx, text, tlen, err, errlen);
	}
	json_object_put(o);
	return r < 0 ? -1 : 0;
}

int chat_stream_feed(chat_stream *s, const char *data, size_t len)
{
	if (s->failed)
		return -1;
	if (!s->started) {
		/* held until the first byte that is not white space tells which */
		size_t i = 0;

		while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
			i++;
		if (sb_append(&s->body, data, len) < 0) {
			snprintf(s->err, sizeof s->err, "out of memory");
			s->failed = 1;
			return -1;
		}
		if (i == len)
			return 0;
		s->started = 1;
		s->whole = data[i] == '{';
		if (s->whole)
			return 0;
		data = sb_str(&s->body);
		len = s->body.len;
		if (sse_feed(&s->sse, data, len, on_event, s, s->err, sizeof s->err) < 0)
			s->failed = 1;
		sb_free(&s->body);
		return s->failed ? -1 : 0;
	}
	if (s->whole) {
		if (sb_append(&s->body, data, len) < 0) {
			snprintf(s->err, sizeof s->err, "out of memory");
			s->failed = 1;
			return -1;
		}
		return 0;
	}
	if (sse_feed(&s->sse, data, len, on_event, s, s->err, sizeof s->err) < 0) {
		s->failed = 1;
		return -1;
	}
	return 0;
}

int chat_stream_end(chat_stream *s)
{
	if (s->failed)
		return -1;
	if (!s->started && s->body.len > 0) {
		if (sse_feed(&s->sse, sb_str(&s->body), s->body.len, on_event, s, s->err, sizeof s->err) < 0) {
			s->failed = 1;
			return -1;
		}
		sb_free(&s->body);
	}
	if (s->whole) {
		sb content = { 0 };
		char err[sizeof s->err];
		int r = chat_response(sb_str(&s->body), s->body.len, &content, s->finish, sizeof s->finish, err, sizeof err);

		if (r == 0 && content.len > 0)
			r = s->fn(s->ctx, sb_str(&content), content.len, err, sizeof err);
		sb_free(&content);
		if (r < 0) {
			snprintf(s->err, sizeof s->err, "%s", err);
			s->failed = 1;
			return -1;
		}
		s->done = 1;
		return 0;
	}
	if (sse_finish(&s->sse, s->err, sizeof s->err) < 0) {
		s->failed = 1;
		return -1;
	}
	if (s->done || (s->finish[0] && sse_end_clean(&s->sse)))
		return 0;
	snprintf(s->err, sizeof s->err, "the stream ended before the answer was complete (no \"data: [DONE]\" after %ld events)",
		 s->events);
	s->failed = 1;
	return -1;
}

/* ---- a leading <think> block ---- */

enum { THINK_START, THINK_IN, THINK_AFTER, THINK_PASS };

static const char think_open[] = "<think>", think_close[] = "</think>";

void chat_think_init(chat_think *t)
{
	t->state = THINK_START;
	memset(&t->held, 0, sizeof t->held);
}

void chat_think_free(chat_think *t)
{
	sb_free(&t->held);
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int chat_think_feed(chat_think *t, const char *s, size_t len, sb *out)
{
	size_t i = 0;

	while (i < len) {
		switch (t->state) {
		case THINK_START: {
			size_t ws, n;

			/* hold the start until it is, or cannot be, the tag */
			if (sb_append(&t->held, s + i, 1) < 0)
				return -1;
			i++;
			for (ws = 0; ws < t->held.len && is_space(t->held.buf[ws]); ws++)
				;
			n = t->held.len - ws;
			if (n == 0)
				break;
			if (n <= sizeof think_open - 1 && memcmp(t->held.buf + ws, think_open, n) == 0) {
				if (n == sizeof think_open - 1) {
					t->state = THINK_IN;
					sb_truncate(&t->held, 0);
				}
				break;
			}
			if (sb_append(out, t->held.buf, t->held.len) < 0)
				return -1;
			sb_truncate(&t->held, 0);
			t->state = THINK_PASS;
			break;
		}
		case THINK_IN: {
			/* only the tail that could begin the closing tag is kept */
			size_t keep = sizeof think_close - 2;
			const char *end;

			if (sb_append(&t->held, s + i, len - i) < 0)
				return -1;
			i = len;
			end = memmem(t->held.buf, t->held.len, think_close, sizeof think_close - 1);
			if (end) {
				size_t after = (size_t)(end - t->held.buf) + sizeof think_close - 1;
				sb rest = t->held;	/* what followed the tag is fed again */
				int r;

				memset(&t->held, 0, sizeof t->held);
				t->state = THINK_AFTER;
				r = chat_think_feed(t, rest.buf + after, rest.len - after, out);
				sb_free(&rest);
				if (r < 0)
					return -1;
			} else if (t->held.len > keep) {
				memmove(t->held.buf, t->held.buf + t->held.len - keep, keep);
				sb_truncate(&t->held, keep);
			}
			break;
		}
		case THINK_AFTER:
			while (i < len && is_space(s[i]))
				i++;
			if (i < len)
				t->state = THINK_PASS;
			break;
		default:
			if (sb_append(out, s + i, len - i) < 0)
				return -1;
			i = len;
		}
	}
	return 0;
}

int chat_think_finish(chat_think *t, sb *out)
{
	int r = 0;

	if (t->state == THINK_START)
		r = sb_append(out, t->held.buf ? t->held.buf : "", t->held.len);
	sb_truncate(&t->held, 0);
	t->state = THINK_PASS;
	return r < 0 ? -1 : 0;
}
