#include "opt.h"
#include "msg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_usage_line(const char *help)
{
	const char *nl = strchr(help, '\n');
	int len = nl ? (int)(nl - help) : (int)strlen(help);

	fprintf(stderr, "%.*s\nTry '%s --help' for more information.\n", len, help, msg_progname);
}

void opt_usage_error(const char *help, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msg_verror("", fmt, ap);
	va_end(ap);
	print_usage_line(help);
}

int opt_std(int c, const char *help)
{
	switch (c) {
	case 'h':
		fputs(help, stdout);
		return fflush(stdout) == 0 ? EXIT_OK : EXIT_USAGE;
	case 'q':
		msg_verbosity = 0;
		return OPT_GO_ON;
	case 'v':
		if (msg_verbosity < 1)
			msg_verbosity = 1;
		msg_verbosity++;
		return OPT_GO_ON;
	case OPT_PROGRESS:
		msg_progress = 1;
		return OPT_GO_ON;
	case OPT_VERSION:
		printf("%s (ragpipe) %s\n", msg_progname, RAGPIPE_VERSION);
		return fflush(stdout) == 0 ? EXIT_OK : EXIT_USAGE;
	default:
		/* getopt already said what was wrong */
		print_usage_line(help);
		return EXIT_USAGE;
	}
}

int opt_double(const char *name, const char *arg, double min, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (end == arg || *end != '\0' || errno == ERANGE || v != v) {
		msg_error("%s: '%s' is not a number", name, arg);
		return -1;
	}
	if (v < min || v > max) {
		msg_error("%s: %g is out of range (%g to %g)", name, v, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

int opt_long(const char *name, const char *arg, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (end == arg || *end != '\0' || errno == ERANGE) {
		msg_error("%s: '%s' is not a whole number", name, arg);
		return -1;
	}
	if (v < min || v > max) {
		msg_error("%s: %ld is out of range (%ld to %ld)", name, v, min, max);
		return -1;
	}
	*out = v;
	return 0;
}
