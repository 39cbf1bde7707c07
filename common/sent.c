#include "sent.h"
#include "u8.h"

#include <string.h>
#include <strings.h>

/* Words that end with a '.' without ending the sentence (compared without
 * the dot, case-insensitively). */
static const char *const abbrevs[] = {
	"mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "cf", "al", "fig", "figs", "eq", "eqs",
	"no", "nos", "vol", "vols", "pp", "p", "ch", "chap", "sec", "sect", "ref", "refs", "tab", "approx", "ca",
	"resp", "dept", "univ", "inc", "ltd", "co", "corp", "jan", "feb", "mar", "apr", "jun", "jul", "aug",
	"sep", "sept", "oct", "nov", "dec", "ed", "eds", "op", "art", "min", "max", "est", "viz", "incl",
};

static int is_cjk_stop(int32_t c)
{
	return c == 0x3002 || c == 0xFF01 || c == 0xFF1F || c == 0xFF61 || c == 0xFF0E;
}

static int is_closer(int32_t c)
{
	return c == '"' || c == '\'' || c == ')' || c == ']' || c == 0x201D || c == 0x2019 || c == 0x300D
	    || c == 0x300F || c == 0xFF09 || c == 0x300B || c == 0x3011 || c == 0x3009 || c == 0xFF63 || c == 0xFF3D;
}

static int is_han(int32_t c)
{
	return u8_is_cjk_letter(c);
}

static int is_ascii_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Does a letter or digit (of any script) occur in [s, s + len)? */
static int has_word_char(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		int32_t c;
		size_t n = u8_decode(s + i, len - i, &c, NULL);

		if (c < 0x80 ? is_ascii_alnum(c) : !u8_is_space(c) && !(c >= 0x2000 && c <= 0x206F)
		    && !(c >= 0x3000 && c <= 0x303F) && !(c >= 0xFF00 && c <= 0xFF0F) && !(c >= 0xFF1A && c <= 0xFF20)
		    && !(c >= 0xFF3B && c <= 0xFF40) && !(c >= 0xFF5B && c <= 0xFF65))
			return 1;
		i += n;
	}
	return 0;
}

/* Is the '.' at dot the end of an abbreviation or an initial? */
static int abbreviation_before(const char *s, size_t dot)
{
	size_t b = dot, i;
	int inner_dot = 0;

	while (b > 0 && (is_ascii_alnum((unsigned char)s[b - 1]) || (s[b - 1] == '.' && b > 1
								      && is_ascii_alnum((unsigned char)s[b - 2])))) {
		if (s[b - 1] == '.')
			inner_dot = 1;
		b--;
	}
	if (b == dot)
		return 0;
	if (inner_dot)
		return 1;	/* e.g. i.e. U.S. Ph.D. */
	if (dot - b == 1 && ((s[b] >= 'A' && s[b] <= 'Z') || (s[b] >= 'a' && s[b] <= 'z')))
		return 1;	/* an initial: "J. Smith", "p. 42" */
	for (i = 0; i < sizeof abbrevs / sizeof abbrevs[0]; i++)
		if (strlen(abbrevs[i]) == dot - b && strncasecmp(abbrevs[i], s + b, dot - b) == 0)
			return 1;
	return 0;
}

/* If a sentence ends with the terminal punctuation at q, the offset just
 * past it (and its closers); 0 otherwise. */
static size_t end_at(const char *s, size_t len, size_t q)
{
	int32_t c, prev = 0, next;
	size_t p, n;
	int cjk, dot;

	n = u8_decode(s + q, len - q, &c, NULL);
	if (is_cjk_stop(c))
		cjk = 1;
	else if (c == '.' || c == '!' || c == '?')
		cjk = 0;
	else
		return 0;
	dot = c == '.';
	if (q > 0)
		u8_decode(s + u8_back(s, q - 1), len - u8_back(s, q - 1), &prev, NULL);
	p = q + n;
	/* a run of stops ("?!", "。。。", "...") ends where the run ends */
	while (p < len) {
		n = u8_decode(s + p, len - p, &c, NULL);
		if (!(is_cjk_stop(c) || c == '.' || c == '!' || c == '?'))
			break;
		if (is_cjk_stop(c))
			cjk = 1;
		if (c != '.')
			dot = 0;
		p += n;
	}
	while (p < len) {
		n = u8_decode(s + p, len - p, &c, NULL);
		if (!is_closer(c))
			break;
		p += n;
	}
	if (cjk || p >= len)
		return p;
	u8_decode(s + p, len - p, &next, NULL);
	/* "DenseNet.它" and "好!下" : ASCII punctuation inside Chinese text */
	if (is_han(next))
		return prev >= '0' && prev <= '9' ? 0 : p;
	if (!u8_is_space(next))
		return 0;	/* 3.14, v1.2, example.com */
	if (dot) {
		size_t k = p;

		while (k < len && u8_is_space((unsigned char)s[k]))
			k++;
		if (k < len && s[k] >= 'a' && s[k] <= 'z')
			return 0;	/* "e.g. the", "approx. ten" */
		if (abbreviation_before(s, q))
			return 0;
	}
	return p;
}

/* Is the line break at q (a '\n') a sentence boundary? */
static int break_at(const char *s, size_t len, size_t q)
{
	size_t a = q, b = q + 1;
	int32_t before = 0, after = 0;

	while (a > 0 && (s[a - 1] == ' ' || s[a - 1] == '\t' || s[a - 1] == '\r'))
		a--;
	while (b < len && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r'))
		b++;
	if (b < len && s[b] == '\n')
		return 1;	/* a blank line */
	if (a == 0 || b >= len)
		return 1;
	u8_decode(s + u8_back(s, a - 1), len - u8_back(s, a - 1), &before, NULL);
	u8_decode(s + b, len - b, &after, NULL);
	if (after >= 'a' && after <= 'z' && (before < 0x80 ? is_ascii_alnum(before) || before == ',' || before == '-'
					     : !u8_is_cjk(before)))
		return 0;
	if (is_han(before) && is_han(after))
		return 0;
	return 1;
}

int sent_each(const char *text, size_t len, sent_fn fn, void *ctx)
{
	size_t i = 0, start = 0, n;

	for (;;) {
		size_t end = 0, next = 0, e;
		int32_t c;

		/* find the next boundary: end of this sentence, start of the next */
		while (i < len) {
			n = u8_decode(text + i, len - i, &c, NULL);
			if (c == '\n' && break_at(text, len, i)) {
				end = i;
				next = i + 1;
				break;
			}
			if ((e = end_at(text, len, i)) != 0) {
				end = next = e;
				break;
			}
			i += n;
		}
		if (i >= len)
			end = next = len;
		/* trim */
		while (start < end) {
			n = u8_decode(text + start, end - start, &c, NULL);
			if (!u8_is_space(c))
				break;
			start += n;
		}
		e = end;
		while (e > start) {
			size_t b = u8_back(text, e - 1);

			u8_decode(text + b, e - b, &c, NULL);
			if (!u8_is_space(c))
				break;
			e = b;
		}
		if (e > start && has_word_char(text + start, e - start) && fn(ctx, start, e) < 0)
			return -1;
		if (next >= len)
			return 0;
		i = start = next;
	}
}

struct prefix {
	const char *text;
	long max, sum;
	size_t best;
	sent_measure_fn measure;
	void *ctx;
};

static int take_prefix(void *ctx, size_t start, size_t end)
{
	struct prefix *p = ctx;
	long m;

	(void)start;
	m = p->measure ? p->measure(p->ctx, p->text + p->best, end - p->best) : (long)(end - p->best);
	if (p->sum + m > p->max)
		return -1;
	p->sum += m;
	p->best = end;
	return 0;
}

size_t sent_prefix(const char *text, size_t len, long max, sent_measure_fn measure, void *ctx)
{
	struct prefix p = { text, max, 0, 0, measure, ctx };

	while (len > 0 && u8_is_space((unsigned char)text[len - 1]))
		len--;
	if ((measure ? measure(ctx, text, len) : (long)len) <= max)
		return len;
	sent_each(text, len, take_prefix, &p);
	return p.best;
}

enum sent_end sent_end_of(const char *s, size_t len)
{
	int32_t c = 0;
	size_t at = len, b;

	do {
		if (at == 0)
			return SENT_OPEN;
		b = u8_back(s, at - 1);
		u8_decode(s + b, at - b, &c, NULL);
		at = b;
	} while (is_closer(c));
	if (c == '?' || c == 0xFF1F)
		return SENT_QUESTION;
	if (c == ':' || c == 0xFF1A)
		return SENT_COLON;
	if (c == '.') {
		/* "...", ". . .": the text goes on */
		while (at > 0 && (s[at - 1] == ' ' || s[at - 1] == '.')) {
			if (s[at - 1] == '.')
				return SENT_OPEN;
			at--;
		}
		return SENT_STOP;
	}
	return is_cjk_stop(c) || c == '!' || c == ';' || c == 0xFF1B ? SENT_STOP : SENT_OPEN;
}
