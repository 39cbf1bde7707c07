/* chat: the OpenAI-compatible POST {base}/chat/completions API (Ollama,
 * llama.cpp's server, vLLM, OpenAI): the request body, and the answer,
 * whole or streamed as server-sent events. No I/O here: the HTTP client
 * (http.h) moves the bytes; these functions only build and read them, so
 * that a malformed answer is an error with a reason, never a crash.
 *
 * A whole answer is {"choices":[{"message":{"content":"..."},
 * "finish_reason":"stop"}],...}. A streamed one is events whose data are
 * {"choices":[{"delta":{"content":"..."},"finish_reason":null}]}, then
 * "data: [DONE]". An {"error":...} object, whole or as an event, is the
 * server's error. */
#ifndef RAGPIPE_CHAT_H
#define RAGPIPE_CHAT_H

#include <stddef.h>

#include "sb.h"
#include "sse.h"

typedef struct {
	const char *role;	/* "system", "user", "assistant" */
	const char *content;
	size_t len;
} chat_msg;

typedef struct {
	const char *model;
	const char *temperature;	/* a JSON number as the user wrote it, or NULL */
	long max_tokens;	/* 0: not sent */
	const char *const *stop;	/* stop sequences */
	size_t nstop;
	const char *const *params;	/* "KEY=JSON": extra members, last wins */
	size_t nparams;
	int stream;
} chat_opts;

/* Check one "KEY=JSON" (--param): a key of letters, digits, '_', '-' or
 * '.', not "messages" or "stream", and one strict JSON value. NULL, or what
 * is wrong. */
const char *chat_param_problem(const char *param);

/* Is s a JSON number (for the temperature)? */
int chat_is_number(const char *s);

/* The request body. -1 with err (out of memory, or a bad --param). */
int chat_request(sb *body, const chat_opts *o, const chat_msg *msgs, size_t n, char *err, size_t errlen);

/* A whole answer: its text appended to content, its finish_reason (or "")
 * into finish. -1 with the reason in err: not JSON, the server's own error,
 * no choices, no text. */
int chat_response(const char *body, size_t len, sb *content, char *finish, size_t flen, char *err, size_t errlen);

/* Each piece of a streamed answer's text as it comes. Return 0, or -1 with
 * a reason in err to stop. */
typedef int (*chat_token_fn)(void *ctx, const char *text, size_t len, char *err, size_t errlen);

typedef struct {
	sse_parser sse;
	chat_token_fn fn;
	void *ctx;
	int done;		/* "[DONE]" came */
	char finish[32];	/* the last finish_reason, or "" */
	long events;
	int failed;
	char err[512];
	/* a server that ignores "stream":true answers with one JSON object:
	 * kept whole, and read as a whole answer at the end */
	int started, whole;
	sb body;
} chat_stream;

void chat_stream_init(chat_stream *s, chat_token_fn fn, void *ctx);
void chat_stream_free(chat_stream *s);

/* The next bytes of the stream. -1 with the reason in s->err. */
int chat_stream_feed(chat_stream *s, const char *data, size_t len);

/* The stream has ended: 0 when the answer is complete ("[DONE]" came, or
 * at least a finish_reason and an end between events; or a whole answer
 * came instead of a stream, handed to fn in one piece), -1 with the reason
 * in s->err otherwise. */
int chat_stream_end(chat_stream *s);

/* A reasoning model's answer may begin with its reasoning between <think>
 * and </think> (DeepSeek-R1, Qwen3 and the like, served without a reasoning
 * parser): that is not the answer. This filter drops such a block at the
 * start (after white space only), and the white space after it, from an
 * answer read in pieces of any split; anything else passes untouched, held
 * back only while it could still be the opening tag. */
typedef struct {
	int state;
	sb held;
} chat_think;

void chat_think_init(chat_think *t);
void chat_think_free(chat_think *t);
/* Append what is decided to out. -1: out of memory. */
int chat_think_feed(chat_think *t, const char *s, size_t len, sb *out);
/* The answer has ended: append what was held. An unclosed block (the answer
 * cut off while reasoning) gives nothing. -1: out of memory. */
int chat_think_finish(chat_think *t, sb *out);

#endif
