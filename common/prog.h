/* prog: a one-line progress report on stderr, redrawn at most a few times a
 * second, only when stderr is a terminal and -q was not given. */
#ifndef RAGPIPE_PROG_H
#define RAGPIPE_PROG_H

typedef struct prog prog;

/* unit names what is counted ("files", "chunks"); total 0 when unknown. */
prog *prog_new(const char *unit, long total);
/* done items so far; extra is a short free text shown after the count. */
void prog_update(prog *p, long done, const char *extra);
/* Erase the line. */
void prog_free(prog *p);

#endif
