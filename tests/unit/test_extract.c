/* Unit tests of common/extract (the extractive answerer) and common/prompt
 * (language, templates, the context within a budget). */
#include "unit.h"
#include "extract.h"
#include "prompt.h"

#include <stdio.h>
#include <string.h>

static const char *texts[] = {
	"ResNet is built from residual blocks. A residual block adds a small correction to its input through a "
	"shortcut connection. Networks with a hundred layers can be trained.",
	"DenseNet connects every layer to every later layer. Each layer receives the feature maps of all preceding "
	"layers. It concatenates them along the channel axis instead of adding them.",
	"quillsort sorts lines by a key.",
};
static const char *titles[] = { "2 ResNet", "3 DenseNet", "Description" };

/* The answer to q from the texts above (with their titles or without), or
 * "(none)". */
static const char *ask_t(const char *q, int max_sentences, const char *const *t, sb *out)
{
	size_t lens[3];
	ext_opts o;
	ext_result r;
	int i;

	for (i = 0; i < 3; i++)
		lens[i] = strlen(texts[i]);
	ext_opts_init(&o);
	o.max_sentences = max_sentences;
	sb_truncate(out, 0);
	if (ext_choose(q, strlen(q), texts, lens, t, 3, &o, &r) < 0)
		return "(error)";
	if (!r.found)
		sb_puts(out, "(none)");
	else if (ext_compose(&r, texts, out) < 0)
		return "(error)";
	ext_result_free(&r);
	return sb_str(out);
}

static const char *ask(const char *q, int max_sentences, sb *out)
{
	return ask_t(q, max_sentences, titles, out);
}

TEST(picks_the_answering_sentence)
{
	sb out = SB_INIT;

	CHECK_STR(ask("What does DenseNet concatenate?", 1, &out),
		  "It concatenates them along the channel axis instead of adding them [2].");
	CHECK_STR(ask("What does a residual block add through a shortcut?", 1, &out),
		  "A residual block adds a small correction to its input through a shortcut connection [1].");
	/* without the titles, naming DenseNet counts as much as the verb */
	CHECK_STR(ask_t("What does DenseNet concatenate?", 1, NULL, &out),
		  "DenseNet connects every layer to every later layer [2].");
	sb_free(&out);
}

TEST(several_sentences_in_text_order_per_passage)
{
	sb out = SB_INIT;

	/* the better sentence comes second in the passage, and stays second */
	CHECK_STR(ask("How are DenseNet layers connected to later layers, and what is concatenated along the channel axis?",
		      3, &out),
		  "DenseNet connects every layer to every later layer [2]. It concatenates them along the channel axis "
		  "instead of adding them [2].");
	CHECK_STR(ask("How are DenseNet layers connected to later layers, and what is concatenated along the channel axis?",
		      1, &out),
		  "It concatenates them along the channel axis instead of adding them [2].");
	sb_free(&out);
}

TEST(no_answer_when_the_question_is_not_covered)
{
	sb out = SB_INIT;

	CHECK_STR(ask("How tall is the Eiffel Tower?", 3, &out), "(none)");
	CHECK_STR(ask("", 3, &out), "(none)");
	CHECK_STR(ask("???", 3, &out), "(none)");
	sb_free(&out);
}

TEST(chinese_marker_after_the_stop)
{
	const char *zh[] = { "残差网络由残差块组成。每个残差块通过捷径连接把修正量加到输入上。",
			     "稠密连接网络把特征图拼接起来。每层只新增少量特征图，这个数量叫作增长率。" };
	const char *zt[] = { "残差网络", "稠密连接网络" };
	size_t lens[2] = { strlen(zh[0]), strlen(zh[1]) };
	const char *q = "稠密连接网络的增长率是什么？";
	ext_opts o;
	ext_result r;
	sb out = SB_INIT;

	ext_opts_init(&o);
	o.max_sentences = 1;
	CHECK_INT(ext_choose(q, strlen(q), zh, lens, zt, 2, &o, &r), 0);
	CHECK(r.found);
	CHECK_INT(ext_compose(&r, zh, &out), 0);
	CHECK_STR(sb_str(&out), "每层只新增少量特征图，这个数量叫作增长率。[2]");
	ext_result_free(&r);
	sb_free(&out);
}

TEST(no_passages)
{
	ext_opts o;
	ext_result r;

	ext_opts_init(&o);
	CHECK_INT(ext_choose("What?", 5, NULL, NULL, NULL, 0, &o, &r), 0);
	CHECK(!r.found);
	CHECK_INT(r.npicks, 0);
	ext_result_free(&r);
}

/* The answer to q from one passage text (title "Manual"), or "(none)". */
static const char *ask_one(const char *q, const char *text, int max_sentences, sb *out)
{
	const char *t[1] = { text }, *ti[1] = { "Manual" };
	size_t len = strlen(text);
	ext_opts o;
	ext_result r;

	ext_opts_init(&o);
	o.max_sentences = max_sentences;
	sb_truncate(out, 0);
	if (ext_choose(q, strlen(q), t, &len, ti, 1, &o, &r) < 0)
		return "(error)";
	if (!r.found)
		sb_puts(out, "(none)");
	else if (ext_compose(&r, t, out) < 0)
		return "(error)";
	ext_result_free(&r);
	return sb_str(out);
}

TEST(what_a_question_asks_for)
{
	struct {
		const char *q;
		int wants;
	} c[] = {
		{ "How many keys can a command take?", EXT_WANT_NUMBER | EXT_WANT_COMMAND },
		{ "When was quillsort written?", EXT_WANT_NUMBER },
		{ "LaTeX2e 多长时间更新一次？", EXT_WANT_NUMBER },
		{ "一条命令可以有几个键？", EXT_WANT_NUMBER | EXT_WANT_COMMAND },
		{ "这几乎不可能吧", 0 },
		{ "How do I sort numerically?", EXT_WANT_COMMAND },
		{ "Which command-line option keeps plot windows open?", EXT_WANT_COMMAND },
		{ "MiKTeX 用户怎么刷新文件名数据库？", EXT_WANT_COMMAND },
		{ "Who wrote quillsort?", EXT_WANT_NAME },
		{ "这本书是谁写的？", EXT_WANT_NAME },
		{ "Where does quillsort keep its settings?", EXT_WANT_PATH },
		{ "GUI 選單用的 *.desktop 檔案放在哪個目錄？", EXT_WANT_PATH },
		{ "What is DenseNet?", EXT_WANT_DEFINITION },
		{ "什么是文件名数据库？", EXT_WANT_DEFINITION },
		{ "CTEX 是干什么的？", EXT_WANT_DEFINITION },
		/* not what X is, but the Y of X */
		{ "What is the default value of clip?", 0 },
		{ "clip 选项的默认值是什么？", EXT_WANT_COMMAND },
		{ "Whoever said that?", 0 },
	};
	size_t i;

	for (i = 0; i < sizeof c / sizeof c[0]; i++)
		if (!CHECK_INT(ext_wants(c[i].q, strlen(c[i].q)), c[i].wants))
			fprintf(stderr, "# %s\n", c[i].q);
}

TEST(what_goes_together)
{
	sb out = SB_INIT;

	/* a lead-in and the code it leads in, with or without a colon */
	CHECK_STR(ask_one("How do I refresh the file name database?",
			  "The command depends on the system. To refresh the file name database, run:\n\ntexhash\n\nThat is all.",
			  1, &out),
		  "To refresh the file name database, run: texhash [1]");
	CHECK_STR(ask_one("MiKTeX 用户怎么刷新文件名数据库？",
			  "刷新的命令取决于系统。MiKTeX 用户刷新文件名数据库时可以在命令行中输入\n\ninitexmf --update-fndb\n\n或者使用图形界面。",
			  1, &out),
		  "MiKTeX 用户刷新文件名数据库时可以在命令行中输入 initexmf --update-fndb 或者使用图形界面。[1]");
	/* a lead-in's list */
	CHECK_STR(ask_one("Which keys does quillsort know?",
			  "quillsort knows these keys:\n\n\xe2\x80\xa2 field numbers\n\n\xe2\x80\xa2 character ranges\n\nOther keys are errors.",
			  1, &out),
		  "quillsort knows these keys: \xe2\x80\xa2 field numbers \xe2\x80\xa2 character ranges [1]");
	/* English going on in lower case after a line of code */
	CHECK_STR(ask_one("Which command makes tic labels use a minus sign?",
			  "Labels use a hyphen by default. The command\n\nset minussign\n\ncauses tic labels to use a minus sign.",
			  1, &out),
		  "The command set minussign causes tic labels to use a minus sign [1].");
	/* Chinese going on after a line of code, in a sentence begun before it */
	CHECK_STR(ask_one("用什么命令进入 CJK* 模式？",
			  "两种模式还可以通过命令互相转换，使用\n\n\\CJKnospace\n\n则进入 CJK* 模式。",
			  1, &out),
		  "两种模式还可以通过命令互相转换，使用 \\CJKnospace 则进入 CJK* 模式。[1]");
	/* a heading followed by a lower-case word is still a heading */
	CHECK_STR(ask_one("What does zsort do?", "Smooth zsort\n\nzsort sorts points on the values of a 3rd column.", 1, &out),
		  "zsort sorts points on the values of a 3rd column [1].");
	sb_free(&out);
}

TEST(what_is_no_answer)
{
	sb out = SB_INIT;

	/* a question in the text, a heading, a pointer elsewhere */
	CHECK_STR(ask_one("What is a key?", "7.1 What is a key?\n\nA key is the part of each line that lines are compared by.",
			  3, &out),
		  "A key is the part of each line that lines are compared by [1].");
	CHECK_STR(ask_one("1 CTEX 是干什么的？", "1 CTEX 是干什么的？\n\nCTEX 是一套中文排版的宏包和文档类。", 3, &out),
		  "CTEX 是一套中文排版的宏包和文档类。[1]");
	CHECK_STR(ask_one("What does zsort do?", "See smooth zsort (p. 114).\n\nzsort sorts points on values in a 3rd column.", 1, &out),
		  "zsort sorts points on values in a 3rd column [1].");
	/* the question said back */
	CHECK_STR(ask_one("Where does quillsort keep its settings?",
			  "quillsort keeps its settings. The settings are kept in ~/.config/quillsort/rc.", 3, &out),
		  "The settings are kept in ~/.config/quillsort/rc [1].");
	/* an interpreter's line is code, no answer unless code is asked for */
	CHECK_STR(ask_one("What does x hold after that?", "> x <- c(1, 2, 3)\n\nAfter that x holds the numbers one to three.", 1,
			  &out),
		  "After that x holds the numbers one to three [1].");
	/* a lead-in whose sentence is too long to go with it */
	{
		sb longer = SB_INIT;
		int i;

		sb_puts(&longer, "Fields are counted as follows:\n\nquillsort counts fields from one");
		for (i = 0; i < 40; i++)
			sb_puts(&longer, ", and from one again");
		sb_puts(&longer, ".");
		CHECK(strncmp(ask_one("How are fields counted?", sb_str(&longer), 1, &out), "quillsort counts fields from one", 32)
		      == 0);
		sb_free(&longer);
	}
	/* a lead-in with nothing after it; contents and page numbers */
	CHECK_STR(ask_one("How do I install quillsort?", "Fields count from one. To install quillsort, run:", 3, &out), "(none)");
	CHECK_STR(ask_one("How do I install quillsort?", "Installing quillsort . . . . . . 12\n\n13\n\nFields count from one.", 3, &out),
		  "(none)");
	sb_free(&out);
}

TEST(chinese_wording_is_not_what_is_asked)
{
	/* "么把", "设成": pairs the question's wording makes, found nowhere
	 * though each of their characters is; they do not count against it */
	const char *q = "怎么把默认排序键设成第三栏？";
	const char *t[1] = { "它逐行读入文字。设定默认的排序键为第三栏，请执行 quillsort --key 3。重新执行后生效。"
			     "每行按键比较。比较完以后按顺序输出。" };
	size_t len = strlen(t[0]);
	ext_opts o;
	ext_result r;

	ext_opts_init(&o);
	CHECK_INT(ext_choose(q, strlen(q), t, &len, NULL, 1, &o, &r), 0);
	CHECK(r.found);
	CHECK(r.coverage > 0.48);
	ext_result_free(&r);
}

TEST(language_of_a_question)
{
	CHECK_INT(prompt_lang_of("What is DenseNet?", 17), PROMPT_EN);
	CHECK_INT(prompt_lang_of("什么是稠密连接网络？", strlen("什么是稠密连接网络？")), PROMPT_ZH);
	CHECK_INT(prompt_lang_of("DenseNet的增长率是什么？", strlen("DenseNet的增长率是什么？")), PROMPT_ZH);
	CHECK_INT(prompt_lang_of("What does 残差 mean in ResNet?", strlen("What does 残差 mean in ResNet?")), PROMPT_EN);
	/* Japanese (kana) is not Chinese */
	CHECK_INT(prompt_lang_of("これは何ですか", strlen("これは何ですか")), PROMPT_EN);
	CHECK_INT(prompt_lang_of("", 0), PROMPT_EN);
}

TEST(template_fill)
{
	sb out = SB_INIT;
	const char *t = "C:{context}|Q:{question}|{question}|{cont";

	CHECK_INT(prompt_fill(&out, t, strlen(t), "why {context}?", 14, "P", 1), 0);
	CHECK_STR(sb_str(&out), "C:P|Q:why {context}?|why {context}?|{cont");
	CHECK(prompt_template_problem("{question}", 10) != NULL);
	CHECK(prompt_template_problem("{context}", 9) != NULL);
	CHECK(prompt_template_problem("{context}{question}", 19) == NULL);
	sb_free(&out);
}

TEST(context_budget)
{
	prompt_passage p[3] = {
		{ "One two. Three four.", 20, "a.pdf", "T", 4, 5 },
		{ "Second passage.", 15, "b.md", NULL, 0, 0 },
		{ "T begins with its title.", 24, "c.md", "T", 7, 7 },
	};
	sb out = SB_INIT;
	size_t used;
	int cut;

	CHECK_INT(prompt_context(&out, p, 3, 0, PROMPT_CHARS, PROMPT_EN, &used, &cut), 0);
	CHECK_STR(sb_str(&out), "[1] a.pdf, pp. 4-5 — T\nOne two. Three four.\n\n[2] b.md\nSecond passage.\n\n"
		  "[3] c.md, p. 7\nT begins with its title.");
	CHECK_INT(used, 3);
	CHECK(!cut);
	/* the third does not fit: it goes, whole */
	sb_truncate(&out, 0);
	CHECK_INT(prompt_context(&out, p, 3, 70, PROMPT_CHARS, PROMPT_EN, &used, &cut), 0);
	CHECK_STR(sb_str(&out), "[1] a.pdf, pp. 4-5 — T\nOne two. Three four.\n\n[2] b.md\nSecond passage.");
	CHECK_INT(used, 2);
	/* the first alone is too long: cut after a whole sentence */
	sb_truncate(&out, 0);
	CHECK_INT(prompt_context(&out, p, 3, 32, PROMPT_CHARS, PROMPT_EN, &used, &cut), 0);
	CHECK_STR(sb_str(&out), "[1] a.pdf, pp. 4-5 — T\nOne two.");
	CHECK_INT(used, 1);
	CHECK(cut);
	/* not even one sentence fits: the first sentence anyway */
	sb_truncate(&out, 0);
	CHECK_INT(prompt_context(&out, p, 3, 5, PROMPT_CHARS, PROMPT_EN, &used, &cut), 0);
	CHECK_STR(sb_str(&out), "[1] a.pdf, pp. 4-5 — T\nOne two.");
	/* Chinese page labels */
	sb_truncate(&out, 0);
	CHECK_INT(prompt_context(&out, p + 2, 1, 0, PROMPT_CHARS, PROMPT_ZH, &used, &cut), 0);
	CHECK_STR(sb_str(&out), "[1] c.md，第 7 页\nT begins with its title.");
	sb_truncate(&out, 0);
	CHECK_INT(prompt_source_label(&out, &p[0]), 0);
	CHECK_STR(sb_str(&out), "a.pdf:4-5 (T)");
	sb_free(&out);
}

int main(void)
{
	RUN(picks_the_answering_sentence);
	RUN(several_sentences_in_text_order_per_passage);
	RUN(no_answer_when_the_question_is_not_covered);
	RUN(chinese_marker_after_the_stop);
	RUN(no_passages);
	RUN(what_a_question_asks_for);
	RUN(what_goes_together);
	RUN(what_is_no_answer);
	RUN(chinese_wording_is_not_what_is_asked);
	RUN(language_of_a_question);
	RUN(template_fill);
	RUN(context_budget);
	return unit_done();
}
