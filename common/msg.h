/* msg: diagnostics on stderr, prefixed with the program name. */
#ifndef RAGPIPE_MSG_H
#define RAGPIPE_MSG_H

#include <stdarg.h>

/* The only process-wide state: who we are and how much to say.
 * verbosity: 0 with -q, 1 by default, 2 and up with -v. */
extern const char *msg_progname;
extern int msg_verbosity;
/* --progress: progress reports also when stderr is not a terminal (a log). */
extern int msg_progress;

/* Take the program name from argv[0], and shorten argv[0] to it so that
 * getopt's own messages name the program as ours do. */
void msg_init(char **argv);

/* "prog: text\n" always (errors are never silenced by -q). */
void msg_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "prog: warning: text\n" unless -q. */
void msg_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "prog: text\n" unless -q: what the user should know that is no warning. */
void msg_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "prog: text\n" only with -v. */
void msg_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_verror(const char *prefix, const char *fmt, va_list ap);

#endif
