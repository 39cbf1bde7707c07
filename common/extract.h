/* extract: the built-in extractive answerer. It answers a question from
 * the passages retrieved for it by picking the few sentences that best
 * answer it, with no model and no network.
 *
 * Every passage is cut into sentences (sent.h), and the sentences into
 * candidates: most often one sentence, but what does not stand alone goes
 * with what completes it:
 *  - a lead-in ending in ':' or '：' takes the sentence, line or list that
 *    follows it ("Use the option:" and "--key 3"; "如下：" and the list);
 *  - a sentence that does not end as one (no stop) takes a line of code
 *    after it ("在命令行执行" and "kpsewhich -var-value TEXMFROOT"), words
 *    going on in lower case after a line break ("The command", "set
 *    minussign", "causes ..."), the rest of a sentence the layout broke, and
 *    after its code the rest of it ("使用" "\CJKnospace" "则进入 CJK* 模式";
 *    not a new English sentence); a heading takes only code;
 *  - when the question asks how to do something, a sentence also takes the
 *    code right after it, and the sentence after code takes the code before
 *    it, unless a lead-in has it and the sentence begins as a new English
 *    one does (Chinese text most often goes on to say what the code does);
 * up to EXT_UNIT_CHARS code points. A candidate is never a heading (the
 * passage's title, a short line of its own that does not end as a sentence
 * does: "4.2.1 Sorting by a field", "Set datafile separator"; an entry of a
 * table of contents, a page number), a lead-in with nothing after it, a
 * question, a bare line of code (unless the question asks for a command),
 * or an echo of the question (no term the question does not have). A line
 * of code has little CJK text, does not end as prose does, and holds a code
 * token (\cmd, --opt, -x, a path, =, braces, $VAR, name(...)), a shell
 * prompt, or is a short line of lower-case ASCII words.
 *
 * Every candidate and the question are cut into the built-in embedder's
 * terms (stemmed words, CJK characters and pairs: tok.h, emb.h). A
 * candidate scores BM25 over the question's terms, each term weighted by
 * how rare it is among the sentences of these passages (the words every
 * question has, and those that only say how it asks, "how many", "如何",
 * counting little), times a small preference for higher-ranked passages. A
 * term of the passage's title counts EXT_TITLE_WEIGHT as much: the title
 * says what the whole passage is about ("DenseNet"), so a sentence does not
 * win by repeating it but by holding what the question asks about it.
 * Instead the question's weight that the title holds is added,
 * EXT_TITLE_BONUS times, to every candidate of that passage that matches
 * the question at all (the passage about the question's subject is the
 * place to look); and when the title holds every word of the question but
 * those every question has ("What is DenseNet?"), the passage's first
 * candidate, which most often says what its subject is, counts
 * EXT_LEAD_BONUS more. A candidate that holds what the question asks for
 * (ext_wants) counts EXT_WANT_BONUS more: a number it does not have, not a
 * section number or page reference, for "how many", "多少", "几"; code for
 * "how do I", "如何", "怎么", "which option"; a name (a capitalised word, a
 * Latin word in Chinese text) for "who", "谁"; a path for "where",
 * "哪个目录"; for "What is X?", "什么是X？", "X是什么？" a sentence that
 * begins "X is", "X 是" or calls something X. A pointer elsewhere ("See set
 * xrange (p. 226).", "参见") counts EXT_REFERENCE_WEIGHT as much.
 *
 * The best candidate is taken; others follow while they score at least
 * EXT_KEEP_RATIO of it, add question terms not covered yet and say
 * something new (not a near copy: overlapping chunks repeat sentences).
 * The chosen ones are grouped by passage (passages in the order of their
 * best candidate) and keep their order within a passage.
 *
 * When no candidate holds even EXT_MIN_COVERAGE of the question's weight
 * (the question's own rare words are not in the passages), there is no
 * answer: found is 0 and the caller says so. A candidate that matches the
 * question at all holds, too, the words of its passage's title and of the
 * heading before it; a question in the text, the question said back and a
 * bare line of code hold what they hold, though they are no answer. The
 * question's wording does not count against it: a word every question has
 * that no sentence has, nor a pair of CJK characters that no sentence has
 * though both its characters are there ("設成" of "設成命令列"). */
#ifndef RAGPIPE_EXTRACT_H
#define RAGPIPE_EXTRACT_H

#include <stddef.h>

#include "sb.h"

#define EXT_MAX_SENTENCES 3
#define EXT_MAX_CHARS 500	/* code points of sentences, past the first */
#define EXT_KEEP_RATIO 0.6
#define EXT_MIN_COVERAGE 0.25
#define EXT_TITLE_WEIGHT 0.5
#define EXT_TITLE_BONUS 1.0
#define EXT_LEAD_BONUS 0.3
#define EXT_COMMON_WEIGHT 0.2	/* a question term weighing no more is a word every question has */
#define EXT_WORDING_WEIGHT 0.1	/* of the words that say how a question asks ("how many", "如何") */
#define EXT_WANT_BONUS 0.5
#define EXT_UNIT_CHARS 400	/* code points of a candidate of several sentences, at most */
#define EXT_HEADING_CHARS 80	/* a line longer than this is no heading */
#define EXT_REFERENCE_WEIGHT 0.3
#define EXT_REFERENCE_CHARS 100	/* a longer sentence says more than where to look */
#define EXT_SUBJECT_CHARS 16	/* "what is X" asks for a definition when X is no longer */

/* What a question asks for (ext_wants), and what a candidate holds. */
enum {
	EXT_WANT_NUMBER = 1,	/* how many, how long, when, 多少, 几, 多久, 什么时候 */
	EXT_WANT_COMMAND = 2,	/* how do I, which command/option, 如何, 怎么, 命令, 参数 */
	EXT_WANT_NAME = 4,	/* who, 谁 */
	EXT_WANT_PATH = 8,	/* where, which directory/file, 哪里, 目录, 路径 */
	EXT_WANT_DEFINITION = 16	/* what is, 是什么, 什么是 */
};

typedef struct {
	int max_sentences;	/* >= 1 */
	long max_chars;		/* stop adding sentences past this many code points */
	double min_coverage;	/* 0..1 */
} ext_opts;

/* One sentence of the answer. */
typedef struct {
	int passage;		/* 0-based index into the passages */
	size_t start, end;	/* its bytes in that passage's text */
	double score;
} ext_pick;

typedef struct {
	int found;
	ext_pick *picks;	/* owned; in answer order */
	size_t npicks;
	double coverage;	/* of the question's weight, by the sentence that holds most */
} ext_result;

void ext_opts_init(ext_opts *o);

/* What the question asks for: EXT_WANT_* bits, from its words (English
 * ones whole and in any case, Chinese ones simplified or traditional;
 * "几乎" asks for no number). 0 when it says nothing of it. */
int ext_wants(const char *question, size_t len);

/* Choose the sentences of texts[0..n) (valid UTF-8) that answer question.
 * titles (NULL, or n titles each NULL or a string) are the passages'
 * headings. -1 when memory ran out. */
int ext_choose(const char *question, size_t qlen, const char *const *texts, const size_t *lens,
	       const char *const *titles, size_t n, const ext_opts *o, ext_result *res);

/* The answer text: each chosen sentence with its passage's number, [k]
 * for passage k-1, before a final ". ! ?" ("... layers [2].") or after the
 * sentence ("……拼接起来。[1]"). -1 when memory ran out. */
int ext_compose(const ext_result *res, const char *const *texts, sb *out);

void ext_result_free(ext_result *res);

#endif
