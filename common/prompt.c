#include "prompt.h"
#include "http.h"
#include "sent.h"
#include "u8.h"

#include <stdio.h>
#include <string.h>

static const char system_en[] =
	"You answer questions using only the numbered passages you are given. "
	"After each statement, cite the passages that support it by their numbers in square brackets, "
	"like [1] or [2][3]. Do not use knowledge that is not in the passages. "
	"If the passages do not contain the answer, reply exactly: "
	"The documents do not contain an answer to this question.";

static const char system_zh[] =
	"你只根据给出的编号段落回答问题。每个陈述之后，用方括号标出支持它的段落编号，例如 [1] 或 [2][3]。"
	"不要使用段落之外的知识。如果这些段落中没有答案，请只回答：文档中没有这个问题的答案。请用中文回答。";

const char *prompt_system(enum prompt_lang lang)
{
	return lang == PROMPT_ZH ? system_zh : system_en;
}

const char *prompt_template(enum prompt_lang lang)
{
	return lang == PROMPT_ZH ? "段落：\n\n{context}\n\n问题：{question}" : "Passages:\n\n{context}\n\nQuestion: {question}";
}

const char *prompt_phrase(enum prompt_phrase what, enum prompt_lang lang)
{
	int zh = lang == PROMPT_ZH;

	switch (what) {
	case PROMPT_NOT_IN_DOCS:
		return zh ? "文档中没有这个问题的答案。" : "The documents do not contain an answer to this question.";
	case PROMPT_NOTHING_FOUND:
		return zh ? "没有找到与这个问题相关的内容。" : "Nothing was found for this question.";
	case PROMPT_SOURCES:
		return zh ? "来源：" : "Sources:";
	}
	return "";
}

enum prompt_lang prompt_lang_of(const char *q, size_t len)
{
	size_t i = 0;
	long han = 0, words = 0, kana = 0;
	int in_word = 0;

	while (i < len) {
		int32_t c;

		i += u8_decode(q + i, len - i, &c, NULL);
		if ((c >= 0x3040 && c <= 0x30FF) || (c >= 0x31F0 && c <= 0x31FF)) {
			kana++;
			in_word = 0;
		} else if (u8_is_cjk_letter(c)) {
			han++;
			in_word = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= 0xC0 && c < 0x2000 && c != 0xD7
										  && c != 0xF7)) {
			if (!in_word)
				words++;
			in_word = 1;
		} else if (!(c >= '0' && c <= '9')) {
			in_word = 0;
		}
	}
	return han > 0 && kana == 0 && han >= words ? PROMPT_ZH : PROMPT_EN;
}

static const char *find(const char *s, size_t len, const char *what)
{
	size_t n = strlen(what), i;

	for (i = 0; i + n <= len; i++)
		if (memcmp(s + i, what, n) == 0)
			return s + i;
	return NULL;
}

const char *prompt_template_problem(const char *tmpl, size_t len)
{
	if (find(tmpl, len, "{context}") == NULL)
		return "it has no {context} (where the passages go)";
	if (find(tmpl, len, "{question}") == NULL)
		return "it has no {question}";
	return NULL;
}

int prompt_fill(sb *out, const char *tmpl, size_t tlen, const char *question, size_t qlen, const char *context,
		size_t clen)
{
	size_t i = 0;

	while (i < tlen) {
		const char *q = find(tmpl + i, tlen - i, "{question}"), *c = find(tmpl + i, tlen - i, "{context}");
		const char *next = q && (!c || q < c) ? q : c;

		if (next == NULL)
			return sb_append(out, tmpl + i, tlen - i);
		if (sb_append(out, tmpl + i, (size_t)(next - (tmpl + i))) < 0)
			return -1;
		if (next == q) {
			if (sb_append(out, question, qlen) < 0)
				return -1;
			i = (size_t)(q - tmpl) + strlen("{question}");
		} else {
			if (sb_append(out, context, clen) < 0)
				return -1;
			i = (size_t)(c - tmpl) + strlen("{context}");
		}
	}
	return 0;
}

long prompt_measure(const char *s, size_t len, enum prompt_unit unit)
{
	return unit == PROMPT_TOKENS ? http_estimate_tokens(s, len) : (long)u8_count(s, len);
}

static long measure_cb(void *ctx, const char *s, size_t len)
{
	return prompt_measure(s, len, *(enum prompt_unit *)ctx);
}

int prompt_source_label(sb *out, const prompt_passage *p)
{
	char pages[64] = "";

	if (p->page > 0 && p->page_end > p->page)
		snprintf(pages, sizeof pages, ":%ld-%ld", p->page, p->page_end);
	else if (p->page > 0)
		snprintf(pages, sizeof pages, ":%ld", p->page);
	if (sb_puts(out, p->source ? p->source : "?") < 0 || sb_puts(out, pages) < 0)
		return -1;
	if (p->title && *p->title) {
		const char *t = p->title;

		/* on one line, whatever the title holds */
		if (sb_puts(out, " (") < 0)
			return -1;
		for (; *t; t++)
			if (sb_putc(out, (unsigned char)*t < 0x20 ? ' ' : *t) < 0)
				return -1;
		if (sb_putc(out, ')') < 0)
			return -1;
	}
	return 0;
}

static int first_sentence(void *ctx, size_t start, size_t end)
{
	size_t *f = ctx;

	f[0] = start;
	f[1] = end;
	return -1;
}

/* "[n] SOURCE, p. 42-43 — TITLE\n" */
static int header(sb *out, size_t n, const prompt_passage *p, enum prompt_lang lang)
{
	char buf[96];

	snprintf(buf, sizeof buf, "[%zu]", n);
	if (sb_puts(out, buf) < 0)
		return -1;
	if (p->source && (sb_putc(out, ' ') < 0 || sb_puts(out, p->source) < 0))
		return -1;
	if (p->page > 0) {
		if (p->page_end > p->page)
			snprintf(buf, sizeof buf, lang == PROMPT_ZH ? "，第 %ld–%ld 页" : ", pp. %ld-%ld", p->page,
				 p->page_end);
		else
			snprintf(buf, sizeof buf, lang == PROMPT_ZH ? "，第 %ld 页" : ", p. %ld", p->page);
		if (sb_puts(out, buf) < 0)
			return -1;
	}
	/* a chunk often begins with its heading: it is not said twice */
	if (p->title && *p->title && strncmp(p->text, p->title, strlen(p->title)) != 0
	    && (sb_puts(out, " — ") < 0 || sb_puts(out, p->title) < 0))
		return -1;
	return sb_putc(out, '\n');
}

int prompt_context(sb *out, const prompt_passage *p, size_t n, long budget, enum prompt_unit unit,
		   enum prompt_lang lang, size_t *used, int *cut)
{
	size_t i;
	long spent = 0;

	*used = 0;
	*cut = 0;
	for (i = 0; i < n; i++) {
		size_t start = out->len, tlen = p[i].len;
		long m;

		if (i > 0 && sb_puts(out, "\n\n") < 0)
			return -1;
		if (header(out, i + 1, &p[i], lang) < 0)
			return -1;
		while (tlen > 0 && u8_is_space((unsigned char)p[i].text[tlen - 1]))
			tlen--;
		m = prompt_measure(out->buf + start, out->len - start, unit) + prompt_measure(p[i].text, tlen, unit);
		if (budget > 0 && spent + m > budget) {
			long room = budget - spent - prompt_measure(out->buf + start, out->len - start, unit);
			size_t keep;

			if (i > 0) {
				/* the lower-ranked passages go first */
				sb_truncate(out, start);
				break;
			}
			keep = room > 0 ? sent_prefix(p[i].text, tlen, room, measure_cb, &unit) : 0;
			if (keep == 0) {
				/* not even one sentence fits: the first one, whole */
				size_t first[2] = { 0, 0 };

				sent_each(p[i].text, tlen, first_sentence, first);
				keep = first[1] ? first[1] : tlen;
			}
			tlen = keep;
			*cut = 1;
		}
		if (sb_append(out, p[i].text, tlen) < 0)
			return -1;
		spent += m;
		(*used)++;
		if (*cut)
			break;
	}
	return 0;
}
