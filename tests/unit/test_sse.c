/* Unit tests of common/sse: the server-sent events parser. */
#include "unit.h"
#include "sse.h"

#include <string.h>

/* Events as "name=data;" with "\n" in data shown as "|". */
static int collect(void *ctx, const char *event, const char *data, size_t len, char *err, size_t errlen)
{
	sb *out = ctx;
	size_t i;

	if (strcmp(data, "STOP") == 0) {
		snprintf(err, errlen, "told to stop");
		return -1;
	}
	sb_puts(out, event);
	sb_putc(out, '=');
	for (i = 0; i < len; i++)
		sb_putc(out, data[i] == '\n' ? '|' : data[i]);
	sb_putc(out, ';');
	return 0;
}

/* Feed s in pieces of step bytes (0: at once); the events in out, the
 * result (0, or -1 with err) returned, *clean from sse_end_clean. */
static int parse(const char *s, size_t len, size_t step, sb *out, char *err, size_t errlen, int *clean)
{
	sse_parser p;
	size_t i;
	int r = 0;

	sb_truncate(out, 0);
	err[0] = '\0';
	sse_init(&p, 64);
	if (step == 0)
		step = len ? len : 1;
	for (i = 0; i < len && r == 0; i += step)
		r = sse_feed(&p, s + i, len - i < step ? len - i : step, collect, out, err, errlen);
	if (r == 0)
		r = sse_finish(&p, err, errlen);
	*clean = sse_end_clean(&p);
	sse_free(&p);
	return r;
}

struct kase {
	const char *in;
	const char *events;
	int clean;
};

static const struct kase good[] = {
	{ "data: a\n\ndata: b\n\n", "message=a;message=b;", 1 },
	{ "data:a\r\n\r\ndata:  b\r\r", "message=a;message= b;", 1 },
	{ "data: one\ndata: two\n\n", "message=one|two;", 1 },
	{ ": keep-alive\n\ndata: x\nid: 7\nretry: 100\n\n", "message=x;", 1 },
	{ "event: error\ndata: {\"e\":1}\n\n", "error={\"e\":1};", 1 },
	{ "\xEF\xBB\xBF" "data: bom\n\n", "message=bom;", 1 },
	{ "data\n\n", "message=;", 1 },
	{ "data: [DONE]\n\n", "message=[DONE];", 1 },
	{ "data: 中文\n\n", "message=中文;", 1 },
	{ "\n\n\nevent: lone\n\n", "", 1 },	/* no data: no event */
	{ "data: a\n\ndata: cut", "message=a;", 0 },
	{ "data: a\n\ndata: cut\n", "message=a;", 0 },
	{ "data: a\n\n: comment at the end\n", "message=a;", 1 },
	{ "", "", 1 },
};

TEST(good_streams_in_any_pieces)
{
	sb out = SB_INIT;
	char err[200];
	size_t i, step;
	int clean;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		for (step = 0; step <= 4; step++) {
			int r = parse(good[i].in, strlen(good[i].in), step, &out, err, sizeof err, &clean);

			if (!CHECK_INT(r, 0) || !CHECK_STR(sb_str(&out), good[i].events)
			    || !CHECK_INT(clean, good[i].clean))
				printf("#   case %zu step %zu: %s\n", i, step, err);
		}
	}
	sb_free(&out);
}

static const struct kase bad[] = {
	{ "{\"choices\":[]}\n", "malformed event stream, line 1: not an event-stream field: \"{\"choices\":[]}\"", 0 },
	{ "<html><body>502 Bad Gateway</body></html>\n", "malformed event stream, line 1: not an event-stream field: \"<html><body>502 Bad Gateway</bod\"", 0 },
	{ "data: ok\n\ndata: a\0b\n\n", "malformed event stream, line 3: a NUL byte", 0 },
	{ "data: \xFF\n\n", "malformed event stream, line 1: invalid UTF-8", 0 },
	{ "data: 0123456789012345678901234567890123456789012345678901234567890123456789\n\n",
	  "malformed event stream, line 0: a line longer than the limit", 0 },
	{ "data: 0123456789012345678901234567890123456789\ndata: 0123456789012345678901234567890123456789\n\n",
	  "malformed event stream, line 2: an event longer than the limit", 0 },
	{ "data: STOP\n\ndata: after\n\n", "told to stop", 0 },
	{ "data: a\n\n{\"unterminated\":1}", "malformed event stream, line 3: not an event-stream field: \"{\"unterminated\":1}\"", 0 },
};

TEST(bad_streams_are_errors)
{
	sb out = SB_INIT;
	char err[200];
	size_t i, step, len;
	int clean;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		/* sizeof, not strlen: one case has a NUL byte */
		len = strlen(bad[i].in);
		if (i == 2)
			len = sizeof "data: ok\n\ndata: a\0b\n\n" - 1;
		for (step = 0; step <= 3; step++) {
			int r = parse(bad[i].in, len, step, &out, err, sizeof err, &clean);

			if (!CHECK_INT(r, -1) || !CHECK_STR(err, bad[i].events) || !CHECK(!clean))
				printf("#   case %zu step %zu\n", i, step);
		}
	}
	sb_free(&out);
}

TEST(no_more_after_an_error)
{
	sse_parser p;
	sb out = SB_INIT;
	char err[200];

	sse_init(&p, 0);
	CHECK_INT(sse_feed(&p, "bogus\n", 6, collect, &out, err, sizeof err), -1);
	CHECK_INT(sse_feed(&p, "data: x\n\n", 9, collect, &out, err, sizeof err), -1);
	CHECK_STR(sb_str(&out), "");
	sse_free(&p);
	sb_free(&out);
}

int main(void)
{
	RUN(good_streams_in_any_pieces);
	RUN(bad_streams_are_errors);
	RUN(no_more_after_an_error);
	return unit_done();
}
