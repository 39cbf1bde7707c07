/* ahead: JSON lines read ahead in a second thread, which also runs the
 * caller's prepare on each (parsing, cutting text), while the caller writes
 * the lines before them. Lines come out in input order, blank ones left out.
 * At most AHEAD_LINES are held at once, and no more once they hold 16 MB,
 * so memory stays bounded whatever the input's size. */
#ifndef RAGPIPE_AHEAD_H
#define RAGPIPE_AHEAD_H

#include <stddef.h>

#include "jl.h"

enum { AHEAD_LINES = 64 };

typedef struct ahead ahead;

typedef struct ahead_line {
	const char *line;	/* NUL-terminated */
	size_t len;
	char where[600];	/* "FILE: line N" */
	/* NULL, or why the input cannot go on here ("FILE: line N: reason",
	 * "FILE: No such file or directory"): no line follows */
	const char *error;
	void *prep;		/* the caller's, made by prep_new, filled by prepare */
} ahead_line;

typedef struct ahead_fns {
	void *(*prep_new)(void *ctx);	/* NULL: out of memory */
	void (*prep_free)(void *ctx, void *prep);
	/* Called on every line before the caller gets it, in the reading thread
	 * (in the caller's own when not threaded); jr is the line's reader, for
	 * jl_check. It must touch nothing the caller's thread uses. */
	void (*prepare)(void *ctx, ahead_line *l, jl_reader *jr);
} ahead_fns;

/* Read paths in order ("-" is stdin; no paths: stdin). threaded 0 reads
 * each line only when asked for it. NULL when memory or the thread could
 * not be had. */
ahead *ahead_new(char *const *paths, int npaths, int threaded, const ahead_fns *fns, void *ctx);

/* The next line, borrowed until the next call: 1, or 0 when the input has
 * ended (after a line with an error, too), or a signal was caught (sig.h)
 * while waiting for it. */
int ahead_next(ahead *a, ahead_line **out);

/* Stop the reading thread and free it all: 1. Or 0 when the thread is
 * blocked reading an input that neither ends nor goes on (a terminal, a
 * stalled pipe) for 200 ms: it is left to the process's exit, with what it
 * holds, the caller's ctx included. */
int ahead_free(ahead *a);

#endif
