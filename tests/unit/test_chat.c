/* Unit tests of common/chat: chat completion requests and answers. */
#include "unit.h"
#include "chat.h"

#include <string.h>

TEST(request_plain)
{
	sb body = SB_INIT;
	char err[200];
	chat_msg m[2] = { { "system", "Be brief.", 9 }, { "user", "Q: \"x\"\n中文", 13 } };
	chat_opts o = { 0 };

	o.model = "m1";
	CHECK_INT(chat_request(&body, &o, m, 2, err, sizeof err), 0);
	CHECK_STR(sb_str(&body), "{\"model\":\"m1\",\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},"
		  "{\"role\":\"user\",\"content\":\"Q: \\\"x\\\"\\n中文\"}],\"stream\":false}");
	sb_free(&body);
}

TEST(request_options_and_params)
{
	sb body = SB_INIT;
	char err[200];
	chat_msg m = { "user", "hi", 2 };
	const char *stop[] = { "\n\n", "END" };
	const char *params[] = { "top_p=0.9", "seed=42", "temperature=0.5", "response_format={\"type\":\"text\"}",
				 "user=null" };
	chat_opts o = { 0 };

	o.model = "m";
	o.temperature = "0.2";
	o.max_tokens = 300;
	o.stop = stop;
	o.nstop = 2;
	o.stream = 1;
	CHECK_INT(chat_request(&body, &o, &m, 1, err, sizeof err), 0);
	CHECK_STR(sb_str(&body), "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":true,"
		  "\"temperature\":0.2,\"max_tokens\":300,\"stop\":[\"\\n\\n\",\"END\"]}");
	/* --param adds members, and wins over the flags */
	sb_truncate(&body, 0);
	o.params = params;
	o.nparams = 5;
	CHECK_INT(chat_request(&body, &o, &m, 1, err, sizeof err), 0);
	CHECK_STR(sb_str(&body), "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":true,"
		  "\"temperature\":0.5,\"max_tokens\":300,\"stop\":[\"\\n\\n\",\"END\"],\"top_p\":0.9,\"seed\":42,"
		  "\"response_format\":{\"type\":\"text\"},\"user\":null}");
	sb_free(&body);
}

TEST(param_problems)
{
	CHECK(chat_param_problem("top_p=0.9") == NULL);
	CHECK(chat_param_problem("options.num_ctx=8192") == NULL);
	CHECK(chat_param_problem("x=\"text\"") == NULL);
	CHECK(chat_param_problem("x=[1,{\"a\":null}]") == NULL);
	CHECK(chat_param_problem("x=null") == NULL);
	CHECK_STR(chat_param_problem("noequals"), "expected KEY=JSON");
	CHECK_STR(chat_param_problem("=1"), "expected KEY=JSON");
	CHECK_STR(chat_param_problem("x=text"), "the value is not JSON (a string needs its quotes: KEY='\"text\"')");
	CHECK(chat_param_problem("x=") != NULL);
	CHECK(chat_param_problem("x={\"a\":1") != NULL);
	CHECK(chat_param_problem("x=1 2") != NULL);
	CHECK(chat_param_problem("x=NaN") != NULL);
	CHECK(chat_param_problem("x='a'") != NULL);
	CHECK(chat_param_problem("a b=1") != NULL);
	CHECK(chat_param_problem("messages=[]") != NULL);
	CHECK(chat_param_problem("stream=false") != NULL);
	CHECK(chat_is_number("0.2"));
	CHECK(chat_is_number("1"));
	CHECK(chat_is_number("1e-3"));
	CHECK(!chat_is_number("0.2x"));
	CHECK(!chat_is_number("\"1\""));
	CHECK(!chat_is_number(""));
	CHECK(!chat_is_number("NaN"));
}

/* chat_response on body: 0 with the text, or -1 with the error, as one string. */
static const char *answer(const char *body, sb *out)
{
	char err[300], finish[32];

	sb_truncate(out, 0);
	if (chat_response(body, strlen(body), out, finish, sizeof finish, err, sizeof err) < 0) {
		sb_truncate(out, 0);
		sb_puts(out, "error: ");
		sb_puts(out, err);
	} else {
		sb_puts(out, " | ");
		sb_puts(out, finish);
	}
	return sb_str(out);
}

TEST(whole_answers)
{
	sb out = SB_INIT;

	CHECK_STR(answer("{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"DenseNet [1].\"},"
			 "\"finish_reason\":\"stop\"}],\"usage\":{}}", &out), "DenseNet [1]. | stop");
	CHECK_STR(answer("{\"choices\":[{\"message\":{\"content\":\"cut\"},\"finish_reason\":\"length\"}]}", &out),
		  "cut | length");
	CHECK_STR(answer("{\"error\":{\"message\":\"model not found\",\"type\":\"x\"}}", &out),
		  "error: the server answered with an error: model not found");
	CHECK_STR(answer("{\"error\":\"overloaded\\nretry\"}", &out), "error: the server answered with an error: overloaded retry");
	CHECK_STR(answer("{\"choices\":[]}", &out), "error: the answer has no choices");
	CHECK_STR(answer("{\"choices\":[{\"message\":{\"content\":null}}]}", &out),
		  "error: the answer has no text (\"choices\"[0].message.content)");
	CHECK_STR(answer("{\"choices\":[{\"message\":{\"content\":5}}]}", &out), "error: \"content\" is not a string");
	CHECK_STR(answer("{\"choices\":[{\"message\":\"x\"}]}", &out), "error: \"choices\"[0].message is not an object");
	CHECK_STR(answer("{\"choices\":{}}", &out), "error: the answer has no \"choices\" array");
	CHECK_STR(answer("{\"choices\":[1]}", &out), "error: \"choices\"[0] is not an object");
	CHECK_STR(answer("{\"choices\":[{\"message\":{\"content\":\"a\"}}", &out), "error: the answer is not a JSON object");
	CHECK_STR(answer("[]", &out), "error: the answer is not a JSON object");
	CHECK_STR(answer("", &out), "error: the answer is not a JSON object");
	CHECK_STR(answer("<html>502</html>", &out), "error: the answer is not a JSON object");
	CHECK_STR(answer("{\"choices\":[{\"message\":{\"content\":\"\xff\"}}]}", &out), "error: the answer is not a JSON object");
	sb_free(&out);
}

static int collect(void *ctx, const char *text, size_t len, char *err, size_t errlen)
{
	sb *out = ctx;

	if (len == 4 && memcmp(text, "STOP", 4) == 0) {
		snprintf(err, errlen, "the reader stopped");
		return -1;
	}
	return sb_append(out, text, len) < 0 || sb_putc(out, '|') < 0 ? -1 : 0;
}

/* A stream fed step bytes at a time: the tokens joined by '|', or the error. */
static const char *stream(const char *body, size_t step, sb *out)
{
	chat_stream s;
	size_t i, len = strlen(body);
	int r = 0;

	sb_truncate(out, 0);
	chat_stream_init(&s, collect, out);
	if (step == 0)
		step = len ? len : 1;
	for (i = 0; i < len && r == 0; i += step)
		r = chat_stream_feed(&s, body + i, len - i < step ? len - i : step);
	if (r == 0)
		r = chat_stream_end(&s);
	if (r < 0) {
		sb_truncate(out, 0);
		sb_puts(out, "error: ");
		sb_puts(out, s.err);
	} else {
		sb_puts(out, " finish=");
		sb_puts(out, s.finish);
	}
	chat_stream_free(&s);
	return sb_str(out);
}

#define EV(json) "data: " json "\n\n"
#define DELTA(text) EV("{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" text "\"},\"finish_reason\":null}]}")

TEST(streamed_answers)
{
	sb out = SB_INIT;
	size_t step;
	const char *good = EV("{\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}") DELTA("Dense") DELTA("Net [1]")
		DELTA("。") EV("{\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}") EV("{\"choices\":[],\"usage\":{}}")
		"data: [DONE]\n\n";

	for (step = 0; step <= 7; step++)
		if (!CHECK_STR(stream(good, step, &out), "Dense|Net [1]|。| finish=stop"))
			printf("#   step %zu\n", step);
	/* no [DONE], but a finish_reason and a clean end: complete */
	CHECK_STR(stream(DELTA("a") EV("{\"choices\":[{\"delta\":{},\"finish_reason\":\"length\"}]}"), 0, &out),
		  "a| finish=length");
	/* anything after [DONE] is ignored */
	CHECK_STR(stream(DELTA("a") "data: [DONE]\n\ndata: junk\n\n", 0, &out), "a| finish=");
	/* cut in the middle */
	CHECK_STR(stream(DELTA("a") DELTA("b"), 0, &out),
		  "error: the stream ended before the answer was complete (no \"data: [DONE]\" after 2 events)");
	CHECK_STR(stream(DELTA("a") "data: {\"choices\":[{\"delta\":{\"cont", 0, &out),
		  "error: the stream ended before the answer was complete (no \"data: [DONE]\" after 1 events)");
	CHECK_STR(stream("", 0, &out),
		  "error: the stream ended before the answer was complete (no \"data: [DONE]\" after 0 events)");
	sb_free(&out);
}

TEST(whole_answer_instead_of_a_stream)
{
	sb out = SB_INIT;
	size_t step;
	const char *whole = "\r\n {\"choices\":[{\"message\":{\"content\":\"DenseNet [1].\"},\"finish_reason\":\"stop\"}]}";

	/* a server that ignores "stream":true: one piece, at the end */
	for (step = 0; step <= 5; step++)
		if (!CHECK_STR(stream(whole, step, &out), "DenseNet [1].| finish=stop"))
			printf("#   step %zu\n", step);
	/* white space first, in pieces or not: the same verdict */
	for (step = 0; step <= 3; step++)
		CHECK_STR(stream("\t\n\n\r\n  {[\t", step, &out), "error: the answer is not a JSON object");
	for (step = 0; step <= 3; step++)
		CHECK_STR(stream("\n\n\t\n", step, &out),
			  "error: malformed event stream, line 3: not an event-stream field: \" \"");
	CHECK_STR(stream("{\"error\":{\"message\":\"no such model\"}}", 3, &out),
		  "error: the server answered with an error: no such model");
	CHECK_STR(stream("{\"choices\":[{\"message\":{\"content\":\"a\"}}", 0, &out), "error: the answer is not a JSON object");
	sb_free(&out);
}

TEST(malformed_streams)
{
	sb out = SB_INIT;

	CHECK_STR(stream(DELTA("a") "data: {\"choices\":[{\"delta\":{\"content\":\"b\"}\n\n", 0, &out),
		  "error: event 2 is not a JSON object");
	CHECK_STR(stream("data: not json\n\n", 0, &out), "error: event 1 is not a JSON object");
	CHECK_STR(stream(EV("{\"object\":\"chat.completion.chunk\"}"), 0, &out),
		  "error: event 1: the answer has no \"choices\" array");
	CHECK_STR(stream(EV("{\"choices\":[{\"delta\":{\"content\":7}}]}"), 0, &out), "error: \"content\" is not a string");
	CHECK_STR(stream(DELTA("a") EV("{\"error\":{\"message\":\"out of memory on GPU\"}}"), 0, &out),
		  "error: the server answered with an error: out of memory on GPU");
	CHECK_STR(stream("event: error\ndata: {\"message\":\"boom\"}\n\n", 0, &out),
		  "error: the server sent an error event");
	/* what is neither a stream nor a whole answer */
	CHECK_STR(stream("choices: whole\n\n", 0, &out),
		  "error: malformed event stream, line 1: not an event-stream field: \"choices: whole\"");
	CHECK_STR(stream(DELTA("STOP") "data: [DONE]\n\n", 0, &out), "error: the reader stopped");
	sb_free(&out);
}

/* The think filter, fed whole, in two pieces at every split, and a byte at
 * a time: always the same answer. */
static void think_case(const char *in, const char *want)
{
	size_t len = strlen(in), cut, i;

	for (cut = 0; cut <= len + 1; cut++) {
		chat_think t;
		sb out = SB_INIT;

		chat_think_init(&t);
		if (cut <= len) {
			CHECK_INT(chat_think_feed(&t, in, cut, &out), 0);
			CHECK_INT(chat_think_feed(&t, in + cut, len - cut, &out), 0);
		} else {
			for (i = 0; i < len; i++)
				CHECK_INT(chat_think_feed(&t, in + i, 1, &out), 0);
		}
		CHECK_INT(chat_think_finish(&t, &out), 0);
		if (!CHECK_STR(sb_str(&out), want))
			printf("# input \"%s\", split at %zu\n", in, cut);
		sb_free(&out);
		chat_think_free(&t);
	}
}

TEST(think_block_dropped)
{
	think_case("<think>\nweighing [1] and [2]\n</think>\n\nThe answer [1].", "The answer [1].");
	think_case("  \n<think>a</think>b", "b");
	think_case("<think></think>", "");
	think_case("<think>\n\n</think>\n\nDenseNet [1].", "DenseNet [1].");
	think_case("<think>never closed [1]", "");
	think_case("<think>x</think >y</think>z", "z");
	think_case("<think>a<think>b</think>c", "c");
}

TEST(think_tag_elsewhere_is_text)
{
	think_case("The answer [1].", "The answer [1].");
	think_case("Write <think> tags [1]. <think>x</think>", "Write <think> tags [1]. <think>x</think>");
	think_case("<thin", "<thin");
	think_case("<thinking>x</thinking>", "<thinking>x</thinking>");
	think_case("  <b>bold</b>", "  <b>bold</b>");
	think_case("   ", "   ");
	think_case("", "");
	think_case("深度 <think>", "深度 <think>");
}

int main(void)
{
	RUN(request_plain);
	RUN(request_options_and_params);
	RUN(param_problems);
	RUN(whole_answers);
	RUN(streamed_answers);
	RUN(whole_answer_instead_of_a_stream);
	RUN(malformed_streams);
	RUN(think_block_dropped);
	RUN(think_tag_elsewhere_is_text);
	return unit_done();
}
