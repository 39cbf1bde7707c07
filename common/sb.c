#include "sb.h"
#include "u8.h"

#include <stdlib.h>
#include <string.h>

int sb_reserve(sb *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (extra > SIZE_MAX - b->len - 1)
		return -1;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	p = realloc(b->buf, cap);
	if (p == NULL)
		return -1;
	b->buf = p;
	b->cap = cap;
	b->buf[b->len] = '\0';
	return 0;
}

int sb_append(sb *b, const char *s, size_t n)
{
	if (sb_reserve(b, n) < 0)
		return -1;
	if (n)
		memcpy(b->buf + b->len, s, n);
	b->len += n;
	b->buf[b->len] = '\0';
	return 0;
}

int sb_puts(sb *b, const char *s)
{
	return sb_append(b, s, strlen(s));
}

int sb_putc(sb *b, char c)
{
	return sb_append(b, &c, 1);
}

int sb_put_cp(sb *b, int32_t cp)
{
	char tmp[4];

	return sb_append(b, tmp, u8_encode(cp, tmp));
}

void sb_truncate(sb *b, size_t len)
{
	if (b->buf && len < b->len) {
		b->len = len;
		b->buf[len] = '\0';
	}
}

void sb_free(sb *b)
{
	free(b->buf);
	b->buf = NULL;
	b->len = b->cap = 0;
}

char *sb_take(sb *b)
{
	char *p;

	if (b->buf == NULL && sb_reserve(b, 0) < 0)
		return NULL;
	p = b->buf;
	b->buf = NULL;
	b->len = b->cap = 0;
	return p;
}

const char *sb_str(const sb *b)
{
	return b->buf ? b->buf : "";
}
