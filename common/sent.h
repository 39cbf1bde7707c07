/* sent: sentence boundaries in English and Chinese text, for picking whole
 * sentences out of passages (the extractive answerer) and for shortening a
 * passage without cutting one in half (a prompt's context budget).
 *
 * A sentence ends
 *  - after 。！？｡．(and runs of them), with any closing quotes or brackets
 *    that follow ("好。」" ends after the 」);
 *  - after . ! ? (and runs of them, and closers) followed by white space or
 *    the end of the text, unless the '.' ends an abbreviation ("e.g.",
 *    "Dr.", "Fig.", "U.S.", a single initial "J.") or the next word starts
 *    with a lower-case letter; "3.14" and "v1.2" are never boundaries;
 *  - at a blank line, and at a line break unless it is plainly a wrapped
 *    line (a lower-case word, or Han text, going on across it).
 * Sentences are given without the white space around them; stretches with
 * no letter or digit at all (a lone "——") are not sentences. */
#ifndef RAGPIPE_SENT_H
#define RAGPIPE_SENT_H

#include <stddef.h>

/* [start, end): the bytes of one sentence. Return 0 to go on, -1 to stop
 * (sent_each then returns -1). */
typedef int (*sent_fn)(void *ctx, size_t start, size_t end);

/* Every sentence of the valid UTF-8 text, in order. */
int sent_each(const char *text, size_t len, sent_fn fn, void *ctx);

/* How long the text s is, in the caller's unit (characters, tokens). */
typedef long (*sent_measure_fn)(void *ctx, const char *s, size_t len);

/* The length in bytes of the longest prefix of text that is whole
 * sentences and measures at most max (trailing white space dropped); 0
 * when even the first sentence measures more. measure NULL counts bytes;
 * otherwise it is taken to be additive over the pieces between sentence
 * ends. */
size_t sent_prefix(const char *text, size_t len, long max, sent_measure_fn measure, void *ctx);

/* How the sentence s (as sent_each gives it) ends: after closing quotes and
 * brackets, with a stop (. ! 。！｡．; ；), a question mark (? ？), a colon
 * (: ：), or none of them (SENT_OPEN: a heading, a lead-in, a line of code, a
 * phrase cut by the layout). A run of dots ("...", ". . .") is no stop. */
enum sent_end { SENT_OPEN, SENT_STOP, SENT_QUESTION, SENT_COLON };
enum sent_end sent_end_of(const char *s, size_t len);

#endif
