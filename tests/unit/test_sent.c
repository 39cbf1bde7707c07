/* Unit tests of common/sent: sentence boundaries in English and Chinese. */
#include "unit.h"
#include "sb.h"
#include "sent.h"
#include "u8.h"

#include <stdio.h>
#include <string.h>

/* The sentences of s joined by " | ". */
static int join(void *ctx, size_t start, size_t end)
{
	sb *out = ((sb **)ctx)[0];
	const char *s = (const char *)((sb **)ctx)[1];

	if (out->len && sb_puts(out, " | ") < 0)
		return -1;
	return sb_append(out, s + start, end - start);
}

static const char *split(const char *s, sb *out)
{
	void *ctx[2] = { out, (void *)s };

	sb_truncate(out, 0);
	if (sent_each(s, strlen(s), join, ctx) < 0)
		return "(error)";
	return sb_str(out);
}

TEST(english)
{
	sb b = SB_INIT;

	CHECK_STR(split("DenseNet connects layers. Each layer gets all earlier maps!  Why? Memory.", &b),
		  "DenseNet connects layers. | Each layer gets all earlier maps! | Why? | Memory.");
	CHECK_STR(split("It ended.\" Then he left.", &b), "It ended.\" | Then he left.");
	CHECK_STR(split("Really?! Yes (mostly.) No.", &b), "Really?! | Yes (mostly.) | No.");
	CHECK_STR(split("no final stop", &b), "no final stop");
	CHECK_STR(split("  padded.   ", &b), "padded.");
	CHECK_STR(split("", &b), "");
	CHECK_STR(split("   \n\n  ", &b), "");
	sb_free(&b);
}

TEST(english_non_boundaries)
{
	sb b = SB_INIT;

	CHECK_STR(split("Pi is 3.14 exactly. Version v1.2 is out.", &b), "Pi is 3.14 exactly. | Version v1.2 is out.");
	CHECK_STR(split("See Fig. 3 and Dr. Smith, e.g. here. Next one.", &b),
		  "See Fig. 3 and Dr. Smith, e.g. here. | Next one.");
	CHECK_STR(split("Made in the U.S. It works.", &b), "Made in the U.S. It works.");
	CHECK_STR(split("J. R. Smith wrote it. Then p. 42 says so.", &b), "J. R. Smith wrote it. | Then p. 42 says so.");
	CHECK_STR(split("Wait... and see. Done.", &b), "Wait... and see. | Done.");
	CHECK_STR(split("Visit example.com today. Ok.", &b), "Visit example.com today. | Ok.");
	CHECK_STR(split("It is approx. ten metres. Yes.", &b), "It is approx. ten metres. | Yes.");
	sb_free(&b);
}

TEST(chinese)
{
	sb b = SB_INIT;

	CHECK_STR(split("残差网络由残差块组成。每个残差块先计算一个修正量！为什么？因为梯度。", &b),
		  "残差网络由残差块组成。 | 每个残差块先计算一个修正量！ | 为什么？ | 因为梯度。");
	CHECK_STR(split("他说：“好。”然后走了。", &b), "他说：“好。” | 然后走了。");
	CHECK_STR(split("真的吗？！是的。", &b), "真的吗？！ | 是的。");
	CHECK_STR(split("版本1.0发布了。DenseNet.它很好。", &b), "版本1.0发布了。 | DenseNet. | 它很好。");
	CHECK_STR(split("好!下一句?再一句", &b), "好! | 下一句? | 再一句");
	/* a semicolon or comma is no sentence end */
	CHECK_STR(split("第一，第二；第三。", &b), "第一，第二；第三。");
	sb_free(&b);
}

TEST(mixed_and_punctuation_only)
{
	sb b = SB_INIT;

	CHECK_STR(split("ResNet 使用捷径连接。It trains deep nets. 很好。", &b),
		  "ResNet 使用捷径连接。 | It trains deep nets. | 很好。");
	/* a stretch without letters or digits is not a sentence */
	CHECK_STR(split("前面。——。后面。", &b), "前面。 | 后面。");
	CHECK_STR(split("... . !", &b), "");
	sb_free(&b);
}

TEST(line_breaks)
{
	sb b = SB_INIT;

	CHECK_STR(split("Title line\n\nBody text here", &b), "Title line | Body text here");
	CHECK_STR(split("a wrapped\nline goes on. Next.", &b), "a wrapped\nline goes on. | Next.");
	CHECK_STR(split("- first item\n- second item", &b), "- first item | - second item");
	CHECK_STR(split("卷积神经\n网络很好。", &b), "卷积神经\n网络很好。");
	CHECK_STR(split("Heading\nThe body starts.", &b), "Heading | The body starts.");
	CHECK_STR(split("crlf line\r\n\r\nnext", &b), "crlf line | next");
	sb_free(&b);
}

static long chars(void *ctx, const char *s, size_t len)
{
	(void)ctx;
	return (long)u8_count(s, len);
}

TEST(prefix)
{
	const char *s = "One two. Three four five. Six.";

	CHECK_INT(sent_prefix(s, strlen(s), 100, NULL, NULL), strlen(s));
	CHECK_INT(sent_prefix(s, strlen(s), (long)strlen(s), NULL, NULL), strlen(s));
	CHECK_INT(sent_prefix(s, strlen(s), 28, NULL, NULL), strlen("One two. Three four five."));
	CHECK_INT(sent_prefix(s, strlen(s), 25, NULL, NULL), strlen("One two. Three four five."));
	CHECK_INT(sent_prefix(s, strlen(s), 24, NULL, NULL), strlen("One two."));
	CHECK_INT(sent_prefix(s, strlen(s), 7, NULL, NULL), 0);
	CHECK_INT(sent_prefix("abc.  ", 6, 10, NULL, NULL), 4);
	s = "第一句。第二句。";
	CHECK_INT(sent_prefix(s, strlen(s), 20, NULL, NULL), strlen("第一句。"));
	/* in characters: 4 + 4 */
	CHECK_INT(sent_prefix(s, strlen(s), 8, chars, NULL), strlen(s));
	CHECK_INT(sent_prefix(s, strlen(s), 7, chars, NULL), strlen("第一句。"));
	CHECK_INT(sent_prefix(s, strlen(s), 3, chars, NULL), 0);
}

struct count {
	int n, stop_at;
};

static int count_fn(void *ctx, size_t start, size_t end)
{
	struct count *c = ctx;

	(void)start;
	(void)end;
	return ++c->n == c->stop_at ? -1 : 0;
}

TEST(callback_stops)
{
	struct count c = { 0, 2 };
	const char *s = "One. Two. Three. Four.";

	CHECK_INT(sent_each(s, strlen(s), count_fn, &c), -1);
	CHECK_INT(c.n, 2);
}

TEST(spans_are_inside_the_text)
{
	/* invalid UTF-8 and stray bytes must not take a span out of bounds */
	static const char s[] = "ab\xE4\xB8. \xFF\xFE cd。\xE3";
	struct count c = { 0, 0 };

	CHECK_INT(sent_each(s, sizeof s - 1, count_fn, &c), 0);
	CHECK(c.n >= 1);
}

TEST(how_a_sentence_ends)
{
	struct {
		const char *s;
		enum sent_end e;
	} c[] = {
		{ "It concatenates them.", SENT_STOP },
		{ "好。」", SENT_STOP },
		{ "Wait!", SENT_STOP },
		{ "x = 1;", SENT_STOP },
		{ "What is a key?", SENT_QUESTION },
		{ "1 CTEX 是干什么的？", SENT_QUESTION },
		{ "use the option:", SENT_COLON },
		{ "如下所示：", SENT_COLON },
		{ "4.2.1 Sorting by a field", SENT_OPEN },
		{ "在命令行执行", SENT_OPEN },
		{ "\\chapter*{...}", SENT_OPEN },
		{ "and so on...", SENT_OPEN },
		{ "接下页. . .", SENT_OPEN },
		{ "", SENT_OPEN },
	};
	size_t i;

	for (i = 0; i < sizeof c / sizeof c[0]; i++)
		if (!CHECK_INT(sent_end_of(c[i].s, strlen(c[i].s)), c[i].e))
			fprintf(stderr, "# %s\n", c[i].s);
}

int main(void)
{
	RUN(english);
	RUN(english_non_boundaries);
	RUN(chinese);
	RUN(mixed_and_punctuation_only);
	RUN(line_breaks);
	RUN(prefix);
	RUN(callback_stops);
	RUN(spans_are_inside_the_text);
	RUN(how_a_sentence_ends);
	return unit_done();
}
