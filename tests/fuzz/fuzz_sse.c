/* The server-sent events parser (sse.h). Its promise is to be a pure
 * function of the bytes, whatever pieces they come in: the input is parsed
 * whole and again in pieces of a size the first byte chooses, and both runs
 * must give the same events, the same result and the same error. Every
 * event's data must be valid UTF-8 within the limit. */
#include "fuzz.h"
#include "sb.h"
#include "sse.h"

#include <string.h>

struct run {
	sb events;
	size_t max;
};

static int collect(void *ctx, const char *event, const char *data, size_t len, char *err, size_t errlen)
{
	struct run *r = ctx;

	FUZZ_CHECK(strlen(data) == len, "data holds a NUL");
	FUZZ_CHECK(fuzz_valid_utf8(data, len), "data is not valid UTF-8");
	FUZZ_CHECK(len <= r->max, "data of %zu bytes, limit %zu", len, r->max);
	FUZZ_CHECK(event[0] != '\0', "an event without a name");
	if (strcmp(data, "STOP") == 0) {
		snprintf(err, errlen, "told to stop");
		return -1;
	}
	sb_puts(&r->events, event);
	sb_putc(&r->events, '\0');
	sb_append(&r->events, data, len);
	sb_putc(&r->events, '\0');
	return 0;
}

static int parse(const uint8_t *data, size_t size, size_t step, size_t max, struct run *r, char *err, size_t errlen,
		 int *clean)
{
	sse_parser p;
	size_t i;
	int res = 0;

	err[0] = '\0';
	r->max = max;
	sse_init(&p, max);
	for (i = 0; i < size && res == 0; i += step)
		res = sse_feed(&p, (const char *)data + i, size - i < step ? size - i : step, collect, r, err, errlen);
	if (res == 0)
		res = sse_finish(&p, err, errlen);
	else
		FUZZ_CHECK(sse_feed(&p, "x", 1, collect, r, err, errlen) < 0, "fed after an error without one");
	*clean = sse_end_clean(&p);
	sse_free(&p);
	return res;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned step = 1 + fuzz_byte(&data, &size) % 17;
	size_t max = 8 + (size_t)fuzz_byte(&data, &size) * 4;
	struct run a = { SB_INIT, 0 }, b = { SB_INIT, 0 };
	char ea[512], eb[512];
	int ra, rb, ca, cb;

	ra = parse(data, size, size ? size : 1, max, &a, ea, sizeof ea, &ca);
	rb = parse(data, size, step, max, &b, eb, sizeof eb, &cb);
	FUZZ_CHECK(ra == rb, "whole: %d (%s), in pieces of %u: %d (%s)", ra, ea, step, rb, eb);
	FUZZ_CHECK(ra == 0 || strcmp(ea, eb) == 0, "errors differ: \"%s\" / \"%s\"", ea, eb);
	FUZZ_CHECK(ca == cb, "end_clean differs");
	FUZZ_CHECK(a.events.len == b.events.len && memcmp(sb_str(&a.events), sb_str(&b.events), a.events.len) == 0,
		   "events differ with pieces of %u", step);
	sb_free(&a.events);
	sb_free(&b.events);
	return 0;
}
