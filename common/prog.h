/* prog: progress on stderr, redrawn at most five times a second, when stderr
 * is a terminal (or, with --progress, as a line every few seconds for a log)
 * and -q was not given.
 *
 * The stages of one pipeline share the terminal's status line instead of
 * overwriting each other's: each writes its own figures to a small file of
 * its own (in $XDG_RUNTIME_DIR/ragpipe, else /tmp/ragpipe-UID, named after
 * the process group and its pid), and whichever stage holds the group's lock
 * draws all of them on one line, in pid order (the order of the pipeline):
 *
 *   rag-split: 3/7 files 43% | rag-embed: 1200 records (400.0/s) | rag-index: 1100 chunks (380.2/s)
 *
 * When the one drawing ends, the next to update takes over. Without such a
 * directory a stage draws only itself. */
#ifndef RAGPIPE_PROG_H
#define RAGPIPE_PROG_H

typedef struct prog prog;

/* unit names what is counted ("files", "chunks"); total 0 when unknown.
 * NULL when nothing is to be shown (progress is a nicety: callers pass
 * NULL on to the calls below). */
prog *prog_new(const char *unit, long total);
/* The total, once known. */
void prog_total(prog *p, long total);
/* The share of the work done (0 to 1) when it is known otherwise than by
 * counting (bytes of the input read, say): the percentage and the time
 * left come from it. */
void prog_share(prog *p, double share);
/* done items so far; extra is a short free text shown after the count. */
void prog_update(prog *p, long done, const char *extra);
/* Erase the line and give the status line up. */
void prog_free(prog *p);
/* The same, and then a last line "prog: summary in N.N s" when the run was
 * long (two seconds or more), or with --progress. */
void prog_end(prog *p, const char *summary);

#endif
