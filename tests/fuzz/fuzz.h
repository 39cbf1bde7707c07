/* fuzz: what the libFuzzer targets of tests/fuzz/ share.
 *
 * Each target defines LLVMFuzzerTestOneInput; besides "does not crash"
 * (ASan, UBSan) it checks the promises its module's header makes, and a
 * broken promise aborts with FUZZ_CHECK's message, which libFuzzer reports
 * as a crash with the input saved. */
#ifndef RAGPIPE_FUZZ_H
#define RAGPIPE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "u8.h"

#define FUZZ_CHECK(cond, ...)                                                        \
	do {                                                                         \
		if (!(cond)) {                                                       \
			fprintf(stderr, "%s:%d: broken promise: %s: ", __FILE__,      \
				__LINE__, #cond);                                    \
			fprintf(stderr, __VA_ARGS__);                                \
			fputc('\n', stderr);                                         \
			abort();                                                     \
		}                                                                    \
	} while (0)

/* A byte taken off the front of the input to choose options (0 when none
 * is left), so that one input decides both the options and the text. */
static inline unsigned fuzz_byte(const uint8_t **data, size_t *size)
{
	unsigned b;

	if (*size == 0)
		return 0;
	b = **data;
	(*data)++;
	(*size)--;
	return b;
}

static inline int fuzz_valid_utf8(const char *s, size_t len)
{
	return u8_valid_prefix(s, len) == len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
