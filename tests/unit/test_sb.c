/* Unit tests of common/sb: the growable, always NUL-terminated byte buffer. */
#include "unit.h"
#include "sb.h"

#include <stdint.h>
#include <stdlib.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

/* The buffer as a C string: what sb_str gives must be terminated at len. */
static int terminated(const sb *b)
{
	return sb_str(b)[b->len] == '\0';
}

TEST(empty)
{
	sb b = SB_INIT;

	CHECK(b.buf == NULL);
	CHECK_INT(b.len, 0);
	CHECK_STR(sb_str(&b), "");
	sb_free(&b);
	sb_free(&b);	/* twice is harmless */
	CHECK_STR(sb_str(&b), "");
}

TEST(append_puts_putc)
{
	sb b = SB_INIT;

	CHECK_INT(sb_append(&b, "hello", 5), 0);
	CHECK_INT(sb_putc(&b, ','), 0);
	CHECK_INT(sb_puts(&b, " world"), 0);
	CHECK_INT(sb_append(&b, "!xyz", 1), 0);
	CHECK_STR(sb_str(&b), "hello, world!");
	CHECK_INT(b.len, 13);
	CHECK(terminated(&b));
	CHECK(b.cap > b.len);
	sb_free(&b);
	CHECK(b.buf == NULL);
	CHECK_INT(b.len, 0);
	CHECK_STR(sb_str(&b), "");
	/* usable again after sb_free */
	CHECK_INT(sb_puts(&b, "again"), 0);
	CHECK_STR(sb_str(&b), "again");
	sb_free(&b);
}

TEST(append_nothing)
{
	sb b = SB_INIT;

	CHECK_INT(sb_append(&b, "", 0), 0);
	CHECK_INT(sb_puts(&b, ""), 0);
	CHECK_INT(b.len, 0);
	CHECK_STR(sb_str(&b), "");
	sb_free(&b);
}

TEST(embedded_nul)
{
	sb b = SB_INIT;

	CHECK_INT(sb_append(&b, "a\0b", 3), 0);
	CHECK_INT(sb_putc(&b, '\0'), 0);
	CHECK_INT(b.len, 4);
	CHECK_MEM(b.buf, b.len, "a\0b\0", 4);
	CHECK(terminated(&b));
	sb_free(&b);
}

TEST(grows)
{
	sb b = SB_INIT;
	size_t i;
	int bad = 0;

	for (i = 0; i < 100000; i++)
		if (sb_putc(&b, (char)('a' + i % 26)) < 0)
			bad++;
	CHECK_INT(bad, 0);
	CHECK_INT(b.len, 100000);
	CHECK(terminated(&b));
	for (i = 0; i < b.len; i++)
		if (b.buf[i] != (char)('a' + i % 26))
			bad++;
	CHECK_INT(bad, 0);
	/* one big append */
	{
		char *big = malloc(1 << 20);

		if (CHECK(big != NULL)) {
			memset(big, 'z', 1 << 20);
			CHECK_INT(sb_append(&b, big, 1 << 20), 0);
			CHECK_INT(b.len, 100000 + (1 << 20));
			CHECK(b.buf[b.len - 1] == 'z' && b.buf[99999] == 'a' + 99999 % 26);
			CHECK(terminated(&b));
		}
		free(big);
	}
	sb_free(&b);
}

TEST(put_cp)
{
	sb b = SB_INIT;

	CHECK_INT(sb_put_cp(&b, 'a'), 0);
	CHECK_INT(sb_put_cp(&b, 0xE9), 0);
	CHECK_INT(sb_put_cp(&b, 0x4E2D), 0);
	CHECK_INT(sb_put_cp(&b, 0x1F600), 0);
	CHECK_STR(sb_str(&b), "a\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80");
	CHECK_INT(b.len, 10);
	sb_free(&b);
}

TEST(reserve)
{
	sb b = SB_INIT;
	char *before;

	CHECK_INT(sb_puts(&b, "abc"), 0);
	CHECK_INT(sb_reserve(&b, 1000), 0);
	CHECK(b.cap >= b.len + 1000 + 1);
	CHECK_STR(sb_str(&b), "abc");	/* contents untouched */
	/* what was reserved is there: appending it does not move the buffer */
	before = b.buf;
	{
		char tmp[1000];

		memset(tmp, 'x', sizeof tmp);
		CHECK_INT(sb_append(&b, tmp, sizeof tmp), 0);
	}
	CHECK(b.buf == before);
	CHECK_INT(b.len, 1003);
	CHECK(terminated(&b));
	sb_free(&b);
}

/* Sizes that cannot be represented fail with -1 and leave the buffer alone. */
TEST(reserve_overflow)
{
	sb b = SB_INIT;

	CHECK_INT(sb_puts(&b, "keep"), 0);
	CHECK_INT(sb_reserve(&b, SIZE_MAX), -1);
	CHECK_INT(sb_reserve(&b, SIZE_MAX - 4), -1);
	CHECK_STR(sb_str(&b), "keep");
	CHECK_INT(b.len, 4);
	sb_free(&b);
}

/* An unterminated buffer is unset memory, which valgrind reports; without
 * valgrind, M_PERTURB fills fresh blocks with 0xAA so that it shows as well.
 * A recycled block could start with a 0 by chance, so the two tests that
 * need fresh blocks run first, and the second holds the block the first freed. */
static void *held[64];

static void hold_small_blocks(void)
{
	size_t i;

	for (i = 0; i < sizeof held / sizeof held[0]; i++)
		held[i] = malloc(64);
}

static void release_small_blocks(void)
{
	size_t i;

	for (i = 0; i < sizeof held / sizeof held[0]; i++)
		free(held[i]);
}

/* "always NUL-terminated": also when the first thing done is a reserve. */
TEST(reserve_on_empty_is_terminated)
{
	sb b = SB_INIT;

	CHECK_INT(sb_reserve(&b, 10), 0);
	CHECK_INT(b.len, 0);
	CHECK_INT(sb_str(&b)[0], '\0');
	sb_free(&b);
}

TEST(truncate)
{
	sb b = SB_INIT;

	sb_truncate(&b, 0);	/* on an empty buffer: nothing to do */
	CHECK_STR(sb_str(&b), "");
	CHECK_INT(sb_puts(&b, "hello world"), 0);
	sb_truncate(&b, 5);
	CHECK_STR(sb_str(&b), "hello");
	CHECK_INT(b.len, 5);
	sb_truncate(&b, 50);	/* longer: no change */
	CHECK_STR(sb_str(&b), "hello");
	CHECK_INT(b.len, 5);
	CHECK_INT(sb_puts(&b, "!"), 0);
	CHECK_STR(sb_str(&b), "hello!");
	sb_truncate(&b, 0);
	CHECK_STR(sb_str(&b), "");
	CHECK_INT(b.len, 0);
	sb_free(&b);
}

TEST(take)
{
	sb b = SB_INIT;
	char *p;

	CHECK_INT(sb_puts(&b, "owned"), 0);
	p = sb_take(&b);
	CHECK_STR(p, "owned");
	CHECK(b.buf == NULL);
	CHECK_INT(b.len, 0);
	CHECK_STR(sb_str(&b), "");
	free(p);
	/* the buffer is reusable after the hand-over */
	CHECK_INT(sb_puts(&b, "next"), 0);
	CHECK_STR(sb_str(&b), "next");
	p = sb_take(&b);
	CHECK_STR(p, "next");
	free(p);
}

/* Taking an empty buffer gives "" (never NULL), not unset memory. */
TEST(take_empty)
{
	sb b = SB_INIT;
	char *p;

	hold_small_blocks();
	p = sb_take(&b);
	if (CHECK(p != NULL))
		CHECK_INT(p[0], '\0');
	free(p);
	release_small_blocks();
	/* and after everything was truncated away */
	CHECK_INT(sb_puts(&b, "gone"), 0);
	sb_truncate(&b, 0);
	p = sb_take(&b);
	if (CHECK(p != NULL))
		CHECK_STR(p, "");
	free(p);
}

int main(void)
{
#ifdef __GLIBC__
	/* Fresh allocations come filled with 0xAA rather than, by luck, zeros,
	 * so an unterminated buffer shows without valgrind too. */
	mallopt(M_PERTURB, 0x55);
#endif
	/* first, while no small block has been freed and could come back */
	RUN(reserve_on_empty_is_terminated);
	RUN(take_empty);
	RUN(empty);
	RUN(append_puts_putc);
	RUN(append_nothing);
	RUN(embedded_nul);
	RUN(grows);
	RUN(put_cp);
	RUN(reserve);
	RUN(reserve_overflow);
	RUN(truncate);
	RUN(take);
	return unit_done();
}
