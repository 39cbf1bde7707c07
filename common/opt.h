/* opt: the command-line conventions every program shares.
 *
 * Each program lists OPT_STD_LONG in its long options and OPT_STD_SHORT in its
 * short ones, and hands every option it does not know itself to opt_std(). */
#ifndef RAGPIPE_OPT_H
#define RAGPIPE_OPT_H

#include <getopt.h>

enum {
	OPT_VERSION = 0x1000,
	OPT_PROGRESS,
	OPT_FIRST_PRIVATE	/* first value free for a program's own long-only options */
};

#define OPT_STD_SHORT "hqv"
#define OPT_STD_LONG \
	{ "help", no_argument, NULL, 'h' }, \
	{ "quiet", no_argument, NULL, 'q' }, \
	{ "verbose", no_argument, NULL, 'v' }, \
	{ "version", no_argument, NULL, OPT_VERSION }, \
	{ "progress", no_argument, NULL, OPT_PROGRESS }

/* Exit statuses shared by all programs. */
enum { EXIT_OK = 0, EXIT_SOME_FAILED = 1, EXIT_USAGE = 2 };

/* Handle -h, -q, -v, --version, --progress and getopt's '?' and ':'. help is the full text
 * printed by -h; its first line is the usage line repeated on errors.
 * OPT_GO_ON, or the status the program exits with now (EXIT_OK after -h and
 * --version, EXIT_USAGE on an error):
 *
 *	default:
 *		if ((r = opt_std(c, help)) != OPT_GO_ON)
 *			return r;
 */
enum { OPT_GO_ON = -1 };
int opt_std(int c, const char *help);

/* Parse a whole decimal integer in [min, max] given to option name; on error
 * print "prog: NAME: ..." and return -1. */
int opt_long(const char *name, const char *arg, long min, long max, long *out);

/* The same for a decimal number (seconds, rates, weights) in [min, max]. */
int opt_double(const char *name, const char *arg, double min, double max, double *out);

/* Print "prog: text" and the usage line to stderr (the caller exits 2). */
void opt_usage_error(const char *help, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
