/* prompt: what a chat server is told: the instruction, the numbered
 * passages within a budget, the question, in the question's language; and
 * the fixed sentences an answer may consist of ("nothing was found").
 *
 * The built-in user message is the template
 *	Passages:\n\n{context}\n\nQuestion: {question}
 * (in Chinese for a Chinese question) under a system instruction that asks
 * for an answer from the passages only, with [n] citations, and for
 * PROMPT_NOT_IN_DOCS when they do not hold the answer. {context} is the
 * passages, each as
 *	[n] SOURCE, p. PAGE (or pp. PAGE-PAGE_END) — TITLE
 *	TEXT
 * separated by blank lines (the title left out when the text begins with
 * it; in Chinese "，第 PAGE 页"). */
#ifndef RAGPIPE_PROMPT_H
#define RAGPIPE_PROMPT_H

#include <stddef.h>

#include "sb.h"

enum prompt_lang { PROMPT_EN, PROMPT_ZH };

enum prompt_phrase {
	PROMPT_NOT_IN_DOCS,	/* the passages do not hold the answer */
	PROMPT_NOTHING_FOUND,	/* there were no passages at all */
	PROMPT_SOURCES,		/* heading of the list of sources */
};

/* Chinese when the question has at least as many Han characters as it has
 * words in other scripts (and no kana); English otherwise. */
enum prompt_lang prompt_lang_of(const char *question, size_t len);

const char *prompt_phrase(enum prompt_phrase what, enum prompt_lang lang);
const char *prompt_system(enum prompt_lang lang);
const char *prompt_template(enum prompt_lang lang);

/* A template must hold {context} and {question}; NULL, or what is wrong. */
const char *prompt_template_problem(const char *tmpl, size_t len);

/* tmpl with each {question} and {context} replaced (once: what is put in
 * is not searched again) appended to out. -1: out of memory. */
int prompt_fill(sb *out, const char *tmpl, size_t tlen, const char *question, size_t qlen, const char *context,
		size_t clen);

typedef struct {
	const char *text;
	size_t len;
	const char *source;	/* or NULL */
	const char *title;	/* or NULL */
	long page, page_end;	/* 0: none */
} prompt_passage;

/* How a budget is counted: code points, or estimated tokens
 * (http_estimate_tokens). */
enum prompt_unit { PROMPT_CHARS, PROMPT_TOKENS };

long prompt_measure(const char *s, size_t len, enum prompt_unit unit);

/* Append the numbered passages p[0..n) to out, as many as fit in budget
 * (0: no limit) in the given unit: the lowest-ranked go first; when the
 * first alone is too long it is cut after its last whole sentence that
 * fits (or, when even its first sentence does not, after that sentence).
 * *used gets how many passages went in, *cut whether the last was cut.
 * -1: out of memory. */
int prompt_context(sb *out, const prompt_passage *p, size_t n, long budget, enum prompt_unit unit,
		   enum prompt_lang lang, size_t *used, int *cut);

/* The "source:page (title)" label of a passage for people
 * ("book.pdf:42-43 (7.7 DenseNet)"; no page, no title: what there is),
 * appended to out. */
int prompt_source_label(sb *out, const prompt_passage *p);

#endif
