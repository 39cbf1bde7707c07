#include "msg.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

const char *msg_progname = "ragpipe";
int msg_verbosity = 1;
int msg_progress;

void msg_init(char **argv)
{
	char *slash;

	if (argv == NULL || argv[0] == NULL || *argv[0] == '\0')
		return;
	slash = strrchr(argv[0], '/');
	if (slash)
		argv[0] = slash + 1;
	msg_progname = argv[0];
}

/* One fprintf per message so lines from parallel workers do not interleave.
 * On a terminal a message first clears the line: a progress line (this
 * program's or another stage's of the pipeline) drawn there without a
 * newline is not run into, and its owner draws it again. */
void msg_verror(const char *prefix, const char *fmt, va_list ap)
{
	char line[4096];
	int n;

	n = snprintf(line, sizeof line, "%s%s: %s", isatty(STDERR_FILENO) ? "\r\033[K" : "", msg_progname, prefix);
	if (n < 0 || (size_t)n >= sizeof line)
		n = 0;
	vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	fprintf(stderr, "%s\n", line);
	fflush(stderr);
}

void msg_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msg_verror("", fmt, ap);
	va_end(ap);
}

/* A message said only from this verbosity up. */
static void say(int from, const char *prefix, const char *fmt, va_list ap)
{
	if (msg_verbosity >= from)
		msg_verror(prefix, fmt, ap);
}

void msg_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(1, "warning: ", fmt, ap);
	va_end(ap);
}

void msg_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(1, "", fmt, ap);
	va_end(ap);
}

void msg_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(2, "", fmt, ap);
	va_end(ap);
}
