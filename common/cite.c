#include "cite.h"
#include "u8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CITE_MAX_INSIDE 64	/* bytes between the brackets of a marker */
#define CITE_MAX_NUMS 64	/* numbers in one marker */
#define CITE_MAX_RANGE 50

int cite_init(cite_filter *f, int npassages)
{
	memset(f, 0, sizeof *f);
	f->npassages = npassages > 0 ? npassages : 0;
	f->cited = calloc((size_t)f->npassages + 1, 1);
	return f->cited ? 0 : -1;
}

void cite_free(cite_filter *f)
{
	free(f->cited);
	sb_free(&f->in);
	sb_free(&f->held);
	memset(f, 0, sizeof *f);
}

int cite_used(const cite_filter *f, int n)
{
	return n >= 1 && n <= f->npassages && f->cited[n];
}

enum { NO, YES, MORE };	/* decided no, decided yes, need more bytes */

/* Does s (len bytes) start with one of the UTF-8 sequences in set? YES with
 * its length, MORE when s is a proper prefix of one. */
static int starts_with(const char *s, size_t len, const char *const *set, size_t *n)
{
	int more = 0;

	for (; *set; set++) {
		size_t k = strlen(*set);

		if (len >= k && memcmp(s, *set, k) == 0) {
			*n = k;
			return YES;
		}
		if (len < k && memcmp(s, *set, len) == 0)
			more = 1;
	}
	return more ? MORE : NO;
}

static const char *const openers[] = { "[", "\xEF\xBC\xBB", "\xE3\x80\x90", NULL };	/* [ ［ 【 */
static const char *const closers[] = { "]", "\xEF\xBC\xBD", "\xE3\x80\x91", NULL };	/* ] ］ 】 */
static const char *const commas[] = { ",", ";", "\xEF\xBC\x8C", "\xE3\x80\x81", "\xEF\xBC\x9B", NULL };	/* ， 、 ； */
static const char *const dashes[] = { "-", "~", "\xE2\x80\x93", "\xEF\xBD\x9E", NULL };	/* – ～ */

/* Parse the inside of a marker starting at s (after the opener). YES with
 * the numbers and the length up to and including the closer; NO when it is
 * not a marker; MORE when s ends before that is known. */
static int parse_marker(const char *s, size_t len, long *nums, int *nnums, size_t *used)
{
	size_t i = 0, k;
	int n = 0, range = 0;

	for (;;) {
		long v = 0;
		size_t d = 0;

		while (i < len && (s[i] == ' ' || s[i] == '\t'))
			i++;
		while (i < len && s[i] >= '0' && s[i] <= '9' && d < 7) {
			v = v * 10 + (s[i] - '0');
			i++;
			d++;
		}
		if (i > CITE_MAX_INSIDE || d >= 7)
			return NO;
		if (i >= len)
			return MORE;
		if (d == 0)
			return NO;
		if (range) {
			long a = nums[n - 1], x;

			if (v < a || v - a > CITE_MAX_RANGE)
				return NO;
			for (x = a + 1; x <= v; x++) {
				if (n == CITE_MAX_NUMS)
					return NO;
				nums[n++] = x;
			}
			range = 0;
		} else {
			if (n == CITE_MAX_NUMS)
				return NO;
			nums[n++] = v;
		}
		while (i < len && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i > CITE_MAX_INSIDE)
			return NO;
		if (i >= len)
			return MORE;
		switch (starts_with(s + i, len - i, closers, &k)) {
		case YES:
			*nnums = n;
			*used = i + k;
			return YES;
		case MORE:
			return MORE;
		}
		switch (starts_with(s + i, len - i, commas, &k)) {
		case YES:
			i += k;
			continue;
		case MORE:
			return MORE;
		}
		switch (starts_with(s + i, len - i, dashes, &k)) {
		case YES:
			i += k;
			range = 1;
			continue;
		case MORE:
			return MORE;
		}
		return NO;
	}
}

/* What may follow a removed marker for the space before it to go too. */
static int closes_phrase(int32_t c)
{
	return c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?' || c == ')' || c == ' ' || c == '\t'
	    || c == '\n' || c == '\r' || c == 0x3002 || c == 0xFF0C || c == 0xFF1B || c == 0xFF1A || c == 0xFF01
	    || c == 0xFF1F || c == 0x3001 || c == 0xFF09;
}

/* Before anything but white space: the held white space goes out, or (after
 * a removed marker, before punctuation) goes away. */
static int release_held(cite_filter *f, int drop, sb *out)
{
	int r = 0;

	if (!(f->dropped && drop) && f->held.len > 0) {
		r = sb_append(out, f->held.buf, f->held.len);
		f->emitted = 1;
	}
	sb_truncate(&f->held, 0);
	f->dropped = 0;
	return r;
}

static int process(cite_filter *f, int final, sb *out)
{
	const char *s = f->in.buf;
	size_t len = f->in.len, i = 0, k, used;
	long nums[CITE_MAX_NUMS];
	char mark[32];
	int nnums, j, kept, r;

	while (i < len) {
		int32_t c;
		size_t n;
		int invalid = 0;

		if (s[i] == ' ' || s[i] == '\t') {
			if (f->dropped && !f->emitted) {
				i++;	/* the answer began with a removed marker */
				continue;
			}
			if (f->dropped && f->held.len > 0) {
				/* "shown [9] next": one space stays, not two */
				sb_truncate(&f->held, 0);
				f->dropped = 0;
			}
			if (sb_putc(&f->held, s[i]) < 0)
				return -1;
			i++;
			continue;
		}
		r = starts_with(s + i, len - i, openers, &k);
		if (r == MORE && !final)
			break;
		if (r == YES) {
			r = parse_marker(s + i + k, len - i - k, nums, &nnums, &used);
			if (r == MORE && !final)
				break;
			if (r == YES) {
				kept = 0;
				for (j = 0; j < nnums; j++)
					if (nums[j] >= 1 && nums[j] <= f->npassages)
						kept++;
				if (kept == 0) {
					f->unverified += nnums;
					f->dropped = 1;
					i += k + used;
					continue;
				}
				if (release_held(f, 0, out) < 0)
					return -1;
				for (j = 0; j < nnums; j++) {
					if (nums[j] >= 1 && nums[j] <= f->npassages) {
						snprintf(mark, sizeof mark, "[%ld]", nums[j]);
						if (sb_puts(out, mark) < 0)
							return -1;
						f->emitted = 1;
						f->cited[nums[j]] = 1;
						f->verified++;
					} else {
						f->unverified++;
					}
				}
				i += k + used;
				continue;
			}
		}
		/* ordinary text, one whole character at a time */
		n = u8_decode(s + i, len - i, &c, &invalid);
		if (invalid && !final && len - i < 4 && (unsigned char)s[i] >= 0xC0) {
			/* maybe the rest of the character comes with the next piece */
			size_t need = (unsigned char)s[i] >= 0xF0 ? 4 : (unsigned char)s[i] >= 0xE0 ? 3 : 2;

			if (len - i < need)
				break;
		}
		if (release_held(f, closes_phrase(c), out) < 0 || sb_append(out, s + i, n) < 0)
			return -1;
		f->emitted = 1;
		i += n;
	}
	if (final && release_held(f, 1, out) < 0)
		return -1;
	if (i > 0) {
		memmove(f->in.buf, f->in.buf + i, len - i);
		sb_truncate(&f->in, len - i);
	}
	return 0;
}

int cite_feed(cite_filter *f, const char *s, size_t len, sb *out)
{
	if (sb_append(&f->in, s, len) < 0)
		return -1;
	return process(f, 0, out);
}

int cite_finish(cite_filter *f, sb *out)
{
	return process(f, 1, out);
}
