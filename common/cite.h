/* cite: the [n] citation markers of an answer, checked against the passages
 * that were given, so that every citation a user sees names a real passage.
 *
 * A filter reads an answer as it arrives (token by token, or all at once)
 * and writes it out with its markers checked:
 *  - a marker is a bracket ([ ］ 【), numbers separated by , ， 、 ; or
 *    ranges with - – ~ (at most 50 long), and a closing bracket (] ］ 】);
 *    white space inside is allowed: "[1]", "[1, 3]", "[2-4]", "【1】";
 *  - each number from 1 to npassages is written as "[n]" ("[1, 3]" becomes
 *    "[1][3]"), and marked as cited;
 *  - any other number is removed and counted as unverified; a marker left
 *    with no number goes entirely, with the white space before it when what
 *    follows is punctuation, white space or the end ("as shown [9]." becomes
 *    "as shown.");
 *  - anything else in brackets ("[a]", "[1a]", "x[]") is text.
 * Only what might still turn out to be a marker (an opening bracket and what
 * follows it, white space before one) is held back until it is decided, so a
 * streamed answer can be shown as it comes. With npassages 0 every marker is
 * removed: that strips an old answer of citations that no longer mean
 * anything. */
#ifndef RAGPIPE_CITE_H
#define RAGPIPE_CITE_H

#include <stddef.h>

#include "sb.h"

typedef struct {
	int npassages;
	long unverified;	/* numbers removed so far */
	long verified;		/* numbers kept so far */
	unsigned char *cited;	/* cited[n] for n in 1..npassages */
	sb in;			/* bytes not yet decided */
	sb held;		/* white space held before a possible marker */
	int dropped;		/* a marker was just removed: held waits for what follows */
	int emitted;		/* anything written yet */
} cite_filter;

/* -1 when memory ran out. */
int cite_init(cite_filter *f, int npassages);
void cite_free(cite_filter *f);

/* Take the next piece of the answer (any split, even inside a UTF-8
 * sequence) and append what is decided to out. -1: out of memory. */
int cite_feed(cite_filter *f, const char *s, size_t len, sb *out);

/* The answer is complete: append the rest. -1: out of memory. */
int cite_finish(cite_filter *f, sb *out);

/* Was passage n cited? */
int cite_used(const cite_filter *f, int n);

#endif
