#include "sse.h"
#include "u8.h"

#include <stdio.h>
#include <string.h>

void sse_init(sse_parser *p, size_t max)
{
	memset(p, 0, sizeof *p);
	p->max = max ? max : SSE_MAX_EVENT;
}

void sse_free(sse_parser *p)
{
	sb_free(&p->line);
	sb_free(&p->data);
}

static int fail(sse_parser *p, char *err, size_t errlen, const char *fmt, const char *arg)
{
	char what[128];

	snprintf(what, sizeof what, fmt, arg);
	snprintf(err, errlen, "malformed event stream, line %ld: %s", p->lineno, what);
	p->failed = 1;
	return -1;
}

/* A whole line (without its end) has been read. */
static int take_line(sse_parser *p, sse_event_fn fn, void *ctx, char *err, size_t errlen)
{
	const char *s = sb_str(&p->line), *value;
	size_t len = p->line.len, nlen, vlen;
	char name[40];

	p->lineno++;
	if (len == 0) {
		/* a blank line dispatches the event */
		int r = 0;

		if (p->has_data) {
			p->events++;
			r = fn(ctx, p->event[0] ? p->event : "message", sb_str(&p->data), p->data.len, err, errlen);
		}
		sb_truncate(&p->data, 0);
		p->has_data = 0;
		p->pending = 0;
		p->event[0] = '\0';
		if (r < 0)
			p->failed = 1;
		return r;
	}
	if (memchr(s, '\0', len))
		return fail(p, err, errlen, "%sa NUL byte", "");
	if (u8_valid_prefix(s, len) != len)
		return fail(p, err, errlen, "%sinvalid UTF-8", "");
	if (s[0] == ':')
		return 0;	/* a comment (servers send them to keep the connection open) */
	p->pending = 1;
	value = memchr(s, ':', len);
	nlen = value ? (size_t)(value - s) : len;
	if (value) {
		value++;
		if (*value == ' ')
			value++;
		vlen = len - (size_t)(value - s);
	} else {
		value = "";
		vlen = 0;
	}
	if (nlen == 4 && memcmp(s, "data", 4) == 0) {
		if (p->has_data && sb_putc(&p->data, '\n') < 0)
			return fail(p, err, errlen, "%sout of memory", "");
		if (p->data.len + vlen > p->max)
			return fail(p, err, errlen, "%san event longer than the limit", "");
		if (sb_append(&p->data, value, vlen) < 0)
			return fail(p, err, errlen, "%sout of memory", "");
		p->has_data = 1;
		return 0;
	}
	if (nlen == 5 && memcmp(s, "event", 5) == 0) {
		snprintf(p->event, sizeof p->event, "%.*s", (int)(vlen < sizeof p->event ? vlen : sizeof p->event - 1),
			 value);
		return 0;
	}
	if ((nlen == 2 && memcmp(s, "id", 2) == 0) || (nlen == 5 && memcmp(s, "retry", 5) == 0))
		return 0;
	/* show the start of what came instead, on one line */
	snprintf(name, sizeof name, "%.*s", (int)(len < 32 ? len : 32), s);
	for (nlen = 0; name[nlen]; nlen++)
		if ((unsigned char)name[nlen] < 0x20)
			name[nlen] = ' ';
	name[u8_valid_prefix(name, strlen(name))] = '\0';
	return fail(p, err, errlen, "not an event-stream field: \"%s\"", name);
}

int sse_feed(sse_parser *p, const char *buf, size_t len, sse_event_fn fn, void *ctx, char *err, size_t errlen)
{
	size_t i = 0;

	if (p->failed) {
		snprintf(err, errlen, "malformed event stream (fed after an error)");
		return -1;
	}
	if (len == 0)
		return 0;
	if (!p->started) {
		/* a byte-order mark may start the stream; wait until we know */
		static const char bom[] = "\xEF\xBB\xBF";
		size_t have = p->line.len + len < 3 ? p->line.len + len : 3;

		if (sb_append(&p->line, buf, len) < 0)
			return fail(p, err, errlen, "%sout of memory", "");
		if (memcmp(p->line.buf, bom, have) == 0 && have < 3)
			return 0;
		p->started = 1;
		buf = p->line.buf;
		len = p->line.len;
		if (len >= 3 && memcmp(buf, bom, 3) == 0)
			i = 3;
		/* go through the bytes again from a copy */
		{
			sb again = p->line;
			int r;

			p->line = (sb)SB_INIT;
			r = sse_feed(p, again.buf + i, len - i, fn, ctx, err, errlen);
			sb_free(&again);
			return r;
		}
	}
	while (i < len) {
		const char *nl;
		size_t n;

		if (p->after_cr) {
			p->after_cr = 0;
			if (buf[i] == '\n') {
				i++;
				continue;
			}
		}
		/* the rest of this line */
		for (nl = buf + i; nl < buf + len && *nl != '\n' && *nl != '\r'; nl++)
			;
		n = (size_t)(nl - (buf + i));
		if (p->line.len + n > p->max)
			return fail(p, err, errlen, "%sa line longer than the limit", "");
		if (sb_append(&p->line, buf + i, n) < 0)
			return fail(p, err, errlen, "%sout of memory", "");
		i += n;
		if (i >= len)
			break;
		p->after_cr = buf[i] == '\r';
		i++;
		if (take_line(p, fn, ctx, err, errlen) < 0)
			return -1;
		sb_truncate(&p->line, 0);
	}
	return 0;
}

static int no_event(void *ctx, const char *event, const char *data, size_t len, char *err, size_t errlen)
{
	(void)ctx;
	(void)event;
	(void)data;
	(void)len;
	(void)err;
	(void)errlen;
	return 0;
}

int sse_finish(sse_parser *p, char *err, size_t errlen)
{
	if (p->failed)
		return -1;
	if (p->line.len == 0)
		return 0;
	/* a non-empty line never dispatches: no_event is never called */
	if (take_line(p, no_event, NULL, err, errlen) < 0)
		return -1;
	sb_truncate(&p->line, 0);
	return 0;
}

int sse_end_clean(const sse_parser *p)
{
	return !p->pending && p->line.len == 0 && !p->failed;
}
