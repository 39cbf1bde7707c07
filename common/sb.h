/* sb: a growable byte buffer, always NUL-terminated. Every append reports
 * allocation failure (-1) instead of aborting. */
#ifndef RAGPIPE_SB_H
#define RAGPIPE_SB_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
	char *buf;	/* owned; NULL until the first append */
	size_t len;
	size_t cap;
} sb;

#define SB_INIT { NULL, 0, 0 }

int sb_reserve(sb *b, size_t extra);
int sb_append(sb *b, const char *s, size_t n);
int sb_puts(sb *b, const char *s);
int sb_putc(sb *b, char c);
int sb_put_cp(sb *b, int32_t cp);	/* UTF-8 encode */
void sb_truncate(sb *b, size_t len);
void sb_free(sb *b);
/* Hand the buffer over to the caller (never NULL on success). */
char *sb_take(sb *b);
const char *sb_str(const sb *b);	/* "" when empty */

#endif
