/* Unit tests of common/cite: citation markers checked against the passages. */
#include "unit.h"
#include "cite.h"

#include <stdlib.h>
#include <string.h>

/* Filter s with n passages, fed in pieces of `step` bytes (0: all at once).
 * The result is in out; *unverified gets the count. */
static int run(const char *s, int n, size_t step, sb *out, long *unverified, cite_filter *keep)
{
	cite_filter f;
	size_t len = strlen(s), i;

	sb_truncate(out, 0);
	if (cite_init(&f, n) < 0)
		return -1;
	if (step == 0)
		step = len ? len : 1;
	for (i = 0; i < len; i += step)
		if (cite_feed(&f, s + i, len - i < step ? len - i : step, out) < 0)
			return -1;
	if (cite_finish(&f, out) < 0)
		return -1;
	*unverified = f.unverified;
	if (keep)
		*keep = f;
	else
		cite_free(&f);
	return 0;
}

struct kase {
	const char *in;
	int n;
	const char *out;
	long unverified;
};

static const struct kase cases[] = {
	{ "DenseNet concatenates [1].", 3, "DenseNet concatenates [1].", 0 },
	{ "Both [1][3] and [2].", 3, "Both [1][3] and [2].", 0 },
	{ "Lists [1, 3] and ranges [1-3].", 3, "Lists [1][3] and ranges [1][2][3].", 0 },
	{ "As shown [9].", 3, "As shown.", 1 },
	{ "As shown [9] here.", 3, "As shown here.", 1 },
	{ "Mixed [2, 9] marker.", 3, "Mixed [2] marker.", 1 },
	{ "Range past the end [2-5].", 3, "Range past the end [2][3].", 2 },
	{ "Zero [0] is no passage.", 3, "Zero is no passage.", 1 },
	{ "[7] Starts with a bad one.", 3, "Starts with a bad one.", 1 },
	{ "Bad then good [7][1].", 3, "Bad then good [1].", 1 },
	{ "Bad then good [7] [1].", 3, "Bad then good [1].", 1 },
	{ "稠密连接网络把特征图拼接起来【1】。", 2, "稠密连接网络把特征图拼接起来[1]。", 0 },
	{ "全角［2］和【1，2】以及[1、2]。", 2, "全角[2]和[1][2]以及[1][2]。", 0 },
	{ "不在文档中［5］。", 2, "不在文档中。", 1 },
	{ "Not markers: [a], [1a], x[], [ ], [1,], [-2].", 3, "Not markers: [a], [1a], x[], [ ], [1,], [-2].", 0 },
	{ "Spaces [ 1 , 2 ] ok.", 3, "Spaces [1][2] ok.", 0 },
	{ "Unclosed [1 at the end", 3, "Unclosed [1 at the end", 0 },
	{ "Unclosed [", 3, "Unclosed [", 0 },
	{ "trailing space [4] ", 3, "trailing space ", 1 },
	{ "Backwards [3-1] range.", 3, "Backwards [3-1] range.", 0 },
	{ "Huge [1234567] number.", 3, "Huge [1234567] number.", 0 },
	{ "No passages at all [1] here [2].", 0, "No passages at all here.", 2 },
	{ "", 3, "", 0 },
	{ "   ", 3, "   ", 0 },
};

TEST(cases_whole_and_streamed)
{
	sb out = SB_INIT;
	size_t i, step;
	long unv;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct kase *k = &cases[i];

		/* the same answer whether it comes at once or byte by byte */
		for (step = 0; step <= 5; step++) {
			if (!CHECK(run(k->in, k->n, step, &out, &unv, NULL) == 0))
				continue;
			if (!CHECK_STR(sb_str(&out), k->out) || !CHECK_INT(unv, k->unverified))
				printf("#   case %zu, step %zu: %s\n", i, step, k->in);
		}
	}
	sb_free(&out);
}

TEST(cited_set)
{
	sb out = SB_INIT;
	cite_filter f;
	long unv;

	if (!CHECK(run("a [2] b [4, 9] c [2]", 4, 1, &out, &unv, &f) == 0))
		return;
	CHECK(!cite_used(&f, 1));
	CHECK(cite_used(&f, 2));
	CHECK(!cite_used(&f, 3));
	CHECK(cite_used(&f, 4));
	CHECK(!cite_used(&f, 9));
	CHECK(!cite_used(&f, 0));
	CHECK_INT(f.verified, 3);
	CHECK_INT(unv, 1);
	cite_free(&f);
	sb_free(&out);
}

TEST(held_back_only_while_undecided)
{
	cite_filter f;
	sb out = SB_INIT;

	if (!CHECK(cite_init(&f, 3) == 0))
		return;
	CHECK(cite_feed(&f, "Answer", 6, &out) == 0);
	CHECK_STR(sb_str(&out), "Answer");
	CHECK(cite_feed(&f, " [", 2, &out) == 0);
	CHECK_STR(sb_str(&out), "Answer");	/* might be a marker */
	CHECK(cite_feed(&f, "2", 1, &out) == 0);
	CHECK_STR(sb_str(&out), "Answer");
	CHECK(cite_feed(&f, "] and", 5, &out) == 0);
	CHECK_STR(sb_str(&out), "Answer [2] and");
	CHECK(cite_feed(&f, " [x", 3, &out) == 0);
	CHECK_STR(sb_str(&out), "Answer [2] and [x");	/* decided: not a marker */
	/* half of a full-width bracket waits for the rest */
	CHECK(cite_feed(&f, " \xEF\xBC", 3, &out) == 0);
	CHECK_STR(sb_str(&out), "Answer [2] and [x");
	CHECK(cite_feed(&f, "\xBB" "1\xEF\xBC\xBD.", 6, &out) == 0);
	CHECK_STR(sb_str(&out), "Answer [2] and [x [1].");
	CHECK(cite_finish(&f, &out) == 0);
	CHECK_STR(sb_str(&out), "Answer [2] and [x [1].");
	cite_free(&f);
	sb_free(&out);
}

TEST(long_junk_in_brackets_is_text)
{
	sb out = SB_INIT, in = SB_INIT;
	long unv;
	int i;

	sb_puts(&in, "[1");
	for (i = 0; i < 100; i++)
		sb_puts(&in, " ");
	sb_puts(&in, "] end");
	CHECK(run(sb_str(&in), 3, 7, &out, &unv, NULL) == 0);
	CHECK_STR(sb_str(&out), sb_str(&in));
	sb_free(&in);
	sb_free(&out);
}

int main(void)
{
	RUN(cases_whole_and_streamed);
	RUN(cited_set);
	RUN(held_back_only_while_undecided);
	RUN(long_junk_in_brackets_is_text);
	return unit_done();
}
