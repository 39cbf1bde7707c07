/* sse: a parser of server-sent events (text/event-stream), the framing of
 * streamed chat answers. A pure function of the bytes fed to it, in pieces
 * of any size, so that it can be tested (and fuzzed) without a server.
 *
 * Lines end with "\r\n", "\n" or "\r"; a blank line ends an event; "data:"
 * lines are joined with "\n"; one space after the colon is dropped; "event:"
 * names the event (default "message"); "id:", "retry:" and comment lines
 * (":...") are read and ignored. Stricter than the specification, which
 * ignores anything: a line with another field name, a NUL byte, invalid
 * UTF-8 or a line or event longer than the limit is an error, because a
 * server that sends it is not speaking the protocol (an HTML error page, a
 * JSON answer to a streaming request) and must not be taken for one. */
#ifndef RAGPIPE_SSE_H
#define RAGPIPE_SSE_H

#include <stddef.h>

#include "sb.h"

#define SSE_MAX_EVENT ((size_t)4 << 20)	/* default limit of a line and of an event's data */

/* One event: its name and its data (NUL-terminated, borrowed for the call).
 * Return 0 to go on, or -1 with a reason in err to stop. */
typedef int (*sse_event_fn)(void *ctx, const char *event, const char *data, size_t len, char *err, size_t errlen);

typedef struct {
	sb line;		/* the line being read */
	sb data;		/* of the event being built */
	char event[64];		/* its name ("" until an event: line) */
	int has_data;		/* a data: line came (even an empty one) */
	int pending;		/* lines of an event not yet ended by a blank line */
	int after_cr;		/* the last byte was '\r' (a '\n' next belongs to it) */
	int started;		/* past a byte-order mark */
	long lineno;
	long events;
	size_t max;
	int failed;		/* an error was reported: feeding more is an error */
} sse_parser;

/* max: the longest line and event data accepted (0: SSE_MAX_EVENT). */
void sse_init(sse_parser *p, size_t max);
void sse_free(sse_parser *p);

/* Parse the next bytes, calling fn for each complete event. 0, or -1 with
 * a reason in err (a malformed stream, or fn's own). */
int sse_feed(sse_parser *p, const char *buf, size_t len, sse_event_fn fn, void *ctx, char *err, size_t errlen);

/* The stream has ended: a last line without its line end is read (and may
 * be an error), but an event without its blank line is not dispatched, as
 * the specification says. 0, or -1 with a reason in err. */
int sse_finish(sse_parser *p, char *err, size_t errlen);

/* After the end: 1 when the stream ended between events, 0 when it stopped
 * inside one. */
int sse_end_clean(const sse_parser *p);

#endif
