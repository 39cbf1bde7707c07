/* The chat answer parser (chat.h): any bytes as a whole answer, and as a
 * streamed one fed in pieces of a size the first byte chooses. A whole
 * answer gives text or an error with a reason; a stream gives the same
 * tokens, result and error whatever the pieces, and its tokens are valid
 * UTF-8. */
#include "fuzz.h"
#include "chat.h"
#include "sb.h"

#include <string.h>

static int collect(void *ctx, const char *text, size_t len, char *err, size_t errlen)
{
	sb *out = ctx;

	(void)err;
	(void)errlen;
	FUZZ_CHECK(len > 0, "an empty token");
	FUZZ_CHECK(fuzz_valid_utf8(text, len), "a token that is not valid UTF-8");
	sb_append(out, text, len);
	sb_putc(out, '\0');
	return 0;
}

static int stream(const uint8_t *data, size_t size, size_t step, sb *tokens, char *err, size_t errlen)
{
	chat_stream s;
	size_t i;
	int r = 0;

	chat_stream_init(&s, collect, tokens);
	for (i = 0; i < size && r == 0; i += step)
		r = chat_stream_feed(&s, (const char *)data + i, size - i < step ? size - i : step);
	if (r == 0)
		r = chat_stream_end(&s);
	if (r < 0)
		FUZZ_CHECK(s.err[0] != '\0', "a failed stream without a reason");
	snprintf(err, errlen, "%s", r < 0 ? s.err : "");
	chat_stream_free(&s);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned step = 1 + fuzz_byte(&data, &size) % 23;
	sb content = SB_INIT, ta = SB_INIT, tb = SB_INIT;
	char finish[32], err[512], ea[600], eb[600];
	char *body = malloc(size ? size : 1);
	int ra, rb;

	FUZZ_CHECK(body != NULL, "out of memory");
	memcpy(body, data, size);
	err[0] = '\0';
	if (chat_response(body, size, &content, finish, sizeof finish, err, sizeof err) == 0)
		FUZZ_CHECK(fuzz_valid_utf8(content.buf ? content.buf : "", content.len), "answer text is not valid UTF-8");
	else
		FUZZ_CHECK(err[0] != '\0', "a failed answer without a reason");
	free(body);

	ra = stream(data, size, size ? size : 1, &ta, ea, sizeof ea);
	rb = stream(data, size, step, &tb, eb, sizeof eb);
	FUZZ_CHECK(ra == rb, "whole: %d (%s); in pieces of %u: %d (%s)", ra, ea, step, rb, eb);
	FUZZ_CHECK(strcmp(ea, eb) == 0, "errors differ: \"%s\" / \"%s\"", ea, eb);
	/* a token is handed over as soon as its event ends: compare the whole text */
	FUZZ_CHECK(ta.len == tb.len && memcmp(sb_str(&ta), sb_str(&tb), ta.len) == 0, "tokens differ");
	sb_free(&content);
	sb_free(&ta);
	sb_free(&tb);

	/* a leading <think> block is dropped the same whatever the pieces, and
	 * what remains is a suffix of the input */
	{
		chat_think a, b;
		size_t i;

		chat_think_init(&a);
		chat_think_init(&b);
		FUZZ_CHECK(chat_think_feed(&a, (const char *)data, size, &ta) == 0, "think: out of memory");
		for (i = 0; i < size; i += step)
			FUZZ_CHECK(chat_think_feed(&b, (const char *)data + i, size - i < step ? size - i : step, &tb) == 0,
				   "think: out of memory");
		FUZZ_CHECK(chat_think_finish(&a, &ta) == 0 && chat_think_finish(&b, &tb) == 0, "think: out of memory");
		FUZZ_CHECK(ta.len == tb.len && memcmp(sb_str(&ta), sb_str(&tb), ta.len) == 0,
			   "think: whole and in pieces of %u differ", step);
		FUZZ_CHECK(ta.len <= size && memcmp(sb_str(&ta), (const char *)data + size - ta.len, ta.len) == 0,
			   "think: the output is not the input's end");
		chat_think_free(&a);
		chat_think_free(&b);
		sb_free(&ta);
		sb_free(&tb);
	}
	return 0;
}
