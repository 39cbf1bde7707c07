/* extract: the built-in extractive answerer. It answers a question from
 * the passages retrieved for it by picking the few sentences that best
 * answer it, with no model and no network.
 *
 * Every passage is cut into sentences (sent.h) and every sentence and the
 * question into the built-in embedder's terms (stemmed words, CJK
 * characters and pairs: tok.h, emb.h). A sentence scores BM25 over the
 * question's terms, each term weighted by how rare it is among the
 * sentences of these passages (and the words every question has counting
 * little), times a small preference for higher-ranked passages. A term of
 * the passage's title counts EXT_TITLE_WEIGHT as much: the title says what
 * the whole passage is about ("DenseNet"), so a sentence does not win by
 * repeating it but by holding what the question asks about it. Instead the
 * question's weight that the title holds is added, EXT_TITLE_BONUS times, to
 * every sentence of that passage that matches the question at all (the
 * passage about the question's subject is the place to look); and when the
 * title holds every word of the question but those every question has
 * ("What is DenseNet?"), the passage's first sentence, which most often
 * says what its subject is, counts EXT_LEAD_BONUS more. The best
 * sentence is taken; others follow while they score at least
 * EXT_KEEP_RATIO of it, add question terms not covered yet and say
 * something new (not a near copy: overlapping chunks repeat sentences).
 * The chosen sentences are grouped by passage (passages in the order of
 * their best sentence) and keep their order within a passage.
 *
 * When no sentence holds even EXT_MIN_COVERAGE of the question's weight
 * (the question's own rare words are not in the passages), there is no
 * answer: found is 0 and the caller says so. */
#ifndef RAGPIPE_EXTRACT_H
#define RAGPIPE_EXTRACT_H

#include <stddef.h>

#include "sb.h"

#define EXT_MAX_SENTENCES 3
#define EXT_MAX_CHARS 500	/* code points of sentences, past the first */
#define EXT_KEEP_RATIO 0.6
#define EXT_MIN_COVERAGE 0.2
#define EXT_TITLE_WEIGHT 0.5
#define EXT_TITLE_BONUS 1.0
#define EXT_LEAD_BONUS 0.3
#define EXT_COMMON_WEIGHT 0.2	/* a question term weighing no more is a word every question has */

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
