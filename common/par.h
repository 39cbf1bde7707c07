/* par: run jobs in child processes, at most n at a time, and copy each job's
 * output to one stream in job order. A job that crashes costs only itself. */
#ifndef RAGPIPE_PAR_H
#define RAGPIPE_PAR_H

#include <stdio.h>

/* In the parent: set up job number `job` (0, 1, ...) in ctx. 1: there is
 * one, 0: no more, -1: stop with an error (already reported). */
typedef int (*par_next_fn)(void *ctx, long job);
/* In a child: do the job, writing records to out. Returns the exit status. */
typedef int (*par_run_fn)(void *ctx, long job, FILE *out);
/* In the parent, after the job's output has been copied: its status, or
 * -signal when it was killed. */
typedef void (*par_done_fn)(void *ctx, long job, int status);

/* Returns 0 when all went through, -1 when writing to out failed (errno
 * set; the children have been stopped), -2 on any other system failure
 * (reported). */
int par_run(int n, par_next_fn next, par_run_fn run, par_done_fn done, void *ctx, FILE *out);

#endif
