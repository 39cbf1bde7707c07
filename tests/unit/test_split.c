/* Unit tests of common/split: cutting a stream of text into chunks. */
#include "unit.h"
#include "split.h"
#include "u8.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- collecting chunks ---- */

typedef struct {
	char *text;
	size_t len;
	int page, page_end, title, forced;
} chunk;

typedef struct {
	chunk *v;
	size_t n, cap;
	long stop_after;	/* make the callback fail after this many; 0: never */
} chunks;

static int collect(void *ctx, const char *text, size_t len, int page, int page_end, int title, int forced)
{
	chunks *c = ctx;
	chunk *k;

	if (c->stop_after && (long)c->n >= c->stop_after)
		return -1;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		chunk *v = realloc(c->v, cap * sizeof *v);

		if (v == NULL)
			return -1;
		c->v = v;
		c->cap = cap;
	}
	k = &c->v[c->n];
	k->text = malloc(len + 1);
	if (k->text == NULL)
		return -1;
	memcpy(k->text, text, len);
	k->text[len] = '\0';
	k->len = len;
	k->page = page;
	k->page_end = page_end;
	k->title = title;
	k->forced = forced;
	c->n++;
	return 0;
}

static void chunks_free(chunks *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->v[i].text);
	free(c->v);
	memset(c, 0, sizeof *c);
}

static split_opts native(long size, long overlap)
{
	split_opts o = { size, overlap, NULL, 0, 0 };

	return o;
}

static split_opts langchain(long size, long overlap)
{
	split_opts o = { size, overlap, NULL, 0, 1 };

	return o;
}

/* The test's own deterministic pseudo-random numbers. */
static uint64_t rng = 1;

static unsigned rnd(unsigned n)
{
	rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned)((rng >> 33) % n);
}

/* Split text as one section (then flushed), fed in pieces of `piece` bytes
 * (0: all at once; -1: random sizes), each piece widened to end on a code
 * point boundary so that it is valid UTF-8 as split_feed asks. */
static int run(const split_opts *o, const char *text, size_t len, long piece, chunks *out)
{
	split *s = split_new(o, collect, out);
	size_t off = 0;
	int r = 0;

	if (s == NULL)
		return -1;
	while (off < len && r == 0) {
		size_t n = piece == 0 ? len - off : piece < 0 ? 1 + rnd(40) : (size_t)piece;

		if (n > len - off)
			n = len - off;
		while (off + n < len && ((unsigned char)text[off + n] & 0xC0) == 0x80)
			n++;
		r = split_feed(s, text + off, n, 1, 0);
		off += n;
	}
	if (r == 0)
		r = split_flush(s);
	split_free(s);
	return r;
}

/* Run on a C string, all at once. */
static void run_str(const split_opts *o, const char *text, chunks *out)
{
	memset(out, 0, sizeof *out);
	CHECK_INT(run(o, text, strlen(text), 0, out), 0);
}

/* Compare chunk texts with a NULL-terminated list. */
static int texts_are(const chunks *c, const char *const *want)
{
	size_t i, n = 0;
	int ok = 1;

	while (want[n])
		n++;
	if (!CHECK_INT(c->n, n))
		ok = 0;
	for (i = 0; i < c->n && i < n; i++)
		if (!CHECK_STR(c->v[i].text, want[i]))
			ok = 0;
	return ok;
}

/* Chunk text for a diagnostic: UTF-8 as it is, controls and quotes escaped. */
static const char *show(const char *s, size_t len, char *out, size_t size)
{
	size_t i, o = 0;

	out[o++] = '"';
	for (i = 0; i < len && o + 8 < size; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n')
			o += (size_t)snprintf(out + o, size - o, "\\n");
		else if (c < 0x20 || c == '"' || c == '\\')
			o += (size_t)snprintf(out + o, size - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

static int same_chunks(const chunks *a, const chunks *b, const char *what)
{
	size_t i;

	if (a->n != b->n) {
		printf("#   %s: %zu chunks against %zu\n", what, a->n, b->n);
		return 0;
	}
	for (i = 0; i < a->n; i++) {
		const chunk *x = &a->v[i], *y = &b->v[i];

		if (x->len != y->len || memcmp(x->text, y->text, x->len) != 0 || x->page != y->page
		    || x->page_end != y->page_end || x->title != y->title || x->forced != y->forced) {
			char qa[800], qb[800];

			printf("#   %s: chunk %zu differs:\n#     %s (page %d-%d title %d forced %d)\n"
			       "#     %s (page %d-%d title %d forced %d)\n", what, i,
			       unit_quote(x->text, x->len, qa, sizeof qa), x->page, x->page_end, x->title, x->forced,
			       unit_quote(y->text, y->len, qb, sizeof qb), y->page, y->page_end, y->title, y->forced);
			return 0;
		}
	}
	return 1;
}

/* ---- generated texts ---- */

static const char *const en_words[] = {
	"a", "I", "of", "to", "in", "the", "and", "that", "with", "model", "layer", "network", "training",
	"gradient", "dense", "block", "feature", "maps", "are", "concatenated", "each", "convolution",
	"output", "input", "batch", "normalization", "parameters", "efficient", "deep", "learning",
	"x", "is", "3.14", "1,000", "e.g.", "U.S.", "data", "we", "it", "can", "be", "shown",
	"representation", "backpropagation",
};

/* English prose: sentences, clauses, quotes, line and paragraph breaks. */
static size_t gen_english(char *buf, size_t max)
{
	size_t n = 0;
	int quoted = 0;

	while (n + 40 < max) {
		const char *w = en_words[rnd(sizeof en_words / sizeof en_words[0])];
		unsigned p = rnd(100);

		if (!quoted && p < 3) {
			buf[n++] = '"';
			quoted = 1;
		}
		n += (size_t)sprintf(buf + n, "%s", w);
		if (p < 10) {
			n += (size_t)sprintf(buf + n, quoted ? ".\" " : ". ");
			quoted = 0;
		} else if (p < 13) {
			n += (size_t)sprintf(buf + n, quoted ? "!\"\n" : ".\n");
			quoted = 0;
		} else if (p < 15) {
			n += (size_t)sprintf(buf + n, ".\n\n");
			quoted = 0;
		} else if (p < 22) {
			n += (size_t)sprintf(buf + n, ", ");
		} else if (p < 24) {
			n += (size_t)sprintf(buf + n, "; ");
		} else {
			buf[n++] = ' ';
		}
	}
	if (quoted)
		buf[n++] = '"';
	buf[n] = '\0';
	return n;
}

static const char *const cjk_chars[] = {
	"我", "们", "的", "模", "型", "网", "络", "中", "文", "数", "据", "训", "练", "特", "征", "图", "层",
	"是", "在", "有", "一", "个", "这", "深", "度", "学", "习", "稠", "密", "连", "接", "卷", "积",
};

/* Chinese prose: clauses (，、), sentences (。！？), quotes “…。”, 「…」, line breaks. */
static size_t gen_chinese(char *buf, size_t max)
{
	size_t n = 0;

	while (n + 40 < max) {
		unsigned k = 2 + rnd(9), p = rnd(100);
		int quote = p < 12, corner = p >= 12 && p < 16;

		if (quote)
			n += (size_t)sprintf(buf + n, "他说：\xE2\x80\x9C");	/* 他说：“ */
		if (corner)
			n += (size_t)sprintf(buf + n, "\xE3\x80\x8C");		/* 「 */
		while (k--)
			n += (size_t)sprintf(buf + n, "%s", cjk_chars[rnd(sizeof cjk_chars / sizeof cjk_chars[0])]);
		p = rnd(100);
		if (quote)
			n += (size_t)sprintf(buf + n, "\xE3\x80\x82\xE2\x80\x9D");		/* 。” */
		else if (corner)
			n += (size_t)sprintf(buf + n, "\xEF\xBC\x81\xE3\x80\x8D");		/* ！」 */
		else if (p < 40)
			n += (size_t)sprintf(buf + n, "\xEF\xBC\x8C");			/* ， */
		else if (p < 50)
			n += (size_t)sprintf(buf + n, "\xE3\x80\x81");			/* 、 */
		else if (p < 80)
			n += (size_t)sprintf(buf + n, "\xE3\x80\x82");			/* 。 */
		else if (p < 85)
			n += (size_t)sprintf(buf + n, "\xEF\xBC\x9F");			/* ？ */
		else if (p < 95)
			n += (size_t)sprintf(buf + n, "\xE3\x80\x82\n");
		else
			n += (size_t)sprintf(buf + n, "Dense Net 121\xE3\x80\x82");
	}
	buf[n] = '\0';
	return n;
}

/* ---- the native rules ---- */

static int is_ws(const char *s, size_t len, size_t off, size_t *n)
{
	int32_t cp;

	*n = u8_decode(s + off, len - off, &cp, NULL);
	return u8_is_space(cp);
}

static size_t skip_ws(const char *s, size_t len, size_t off)
{
	size_t n;

	while (off < len && is_ws(s, len, off, &n))
		off += n;
	return off;
}

/* Characters a chunk must not start with: they end what came before. */
static int starts_badly(const chunk *k)
{
	static const char *const closers[] = {
		"\xE3\x80\x82", "\xEF\xBC\x8C", "\xE3\x80\x81", "\xEF\xBC\x81", "\xEF\xBC\x9F",	/* 。，、！？ */
		"\xEF\xBC\x9B", "\xEF\xBC\x9A",		/* ；： */
		"\xE2\x80\x9D", "\xE3\x80\x8D", "\xE3\x80\x8B",	/* ” 」 》 */
	};
	size_t i;

	for (i = 0; i < sizeof closers / sizeof closers[0]; i++)
		if (strncmp(k->text, closers[i], strlen(closers[i])) == 0)
			return 1;
	return 0;
}

/* Split text fed one code point at a time, each on its own "page": the page
 * numbers of a chunk then give exactly where it lies in the text. Fills
 * at[] with the byte offset of every code point (and of the end). */
static int run_located(const split_opts *o, const char *text, size_t len, chunks *out, size_t *at, size_t *ncp)
{
	split *s = split_new(o, collect, out);
	size_t off = 0, k = 0;
	int r = 0;

	if (s == NULL)
		return -1;
	while (off < len && r == 0) {
		size_t n = 1;

		while (off + n < len && ((unsigned char)text[off + n] & 0xC0) == 0x80)
			n++;
		at[k++] = off;
		r = split_feed(s, text + off, n, (int)k, 0);
		off += n;
	}
	at[k] = len;
	*ncp = k;
	if (r == 0)
		r = split_flush(s);
	split_free(s);
	return r;
}

/* Check the native contract on the chunks of one section of text:
 *  - each chunk is 1..size code points, trimmed of whitespace, and is the
 *    text between the pages (here: code points) it reports;
 *  - (progress) each starts after the previous one started and ends after
 *    it ended: no chunk is only a repeat of the end of the one before;
 *  - no text is lost: with overlap 0 only whitespace lies between chunks
 *    (they give back the text, modulo whitespace at the cuts); with an
 *    overlap the next starts at or before the end of the previous one,
 *    sharing at most about 1.5 * overlap code points with it, and at least
 *    one when the overlap is 8 or more and the previous chunk more than
 *    twice as long (a short overlap may be just the end of the sentence the
 *    cut follows, and a chunk not much longer than the overlap is not
 *    repeated);
 *  - no chunk starts with the punctuation that ends a clause or sentence
 *    or closes a quote, not even after a forced cut.
 * Returns the number of violations (the first few are printed). */
static int check_native(const split_opts *o, const char *text, size_t len, int progress)
{
	static size_t at[8192];
	chunks c = { 0 };
	size_t i, ncp = 0, prev_start = 0, prev_end = 0, n;
	int bad = 0;
	char q[2000], qp[2000];

	if (!CHECK(len < sizeof at / sizeof at[0]) || !CHECK_INT(run_located(o, text, len, &c, at, &ncp), 0)) {
		chunks_free(&c);
		return 1;
	}
#define VIOLATION(...) do { if (bad++ < 3) { \
	printf("#   size %ld overlap %ld chunk %zu: ", o->size, o->overlap, i); printf(__VA_ARGS__); \
	printf("\n#     previous: %s\n#     this:     %s\n", \
	       i > 0 ? show(c.v[i - 1].text, c.v[i - 1].len, qp, sizeof qp) : "-", \
	       show(c.v[i].text, c.v[i].len, q, sizeof q)); } } while (0)

	for (i = 0; i < c.n; i++) {
		const chunk *k = &c.v[i];
		long cps = (long)u8_count(k->text, k->len), shared;
		size_t start, end;

		if (k->page < 1 || k->page_end < k->page || (size_t)k->page_end > ncp) {
			VIOLATION("pages %d-%d", k->page, k->page_end);
			break;
		}
		start = at[k->page - 1];
		end = at[k->page_end];
		if (end - start != k->len || memcmp(text + start, k->text, k->len) != 0)
			VIOLATION("not the text of code points %d-%d", k->page, k->page_end);
		if (k->len == 0)
			VIOLATION("empty");
		else if (is_ws(k->text, k->len, 0, &n) || is_ws(k->text, k->len, u8_back(k->text, k->len - 1), &n))
			VIOLATION("not trimmed");
		if (cps > o->size)
			VIOLATION("%ld code points", cps);
		if (starts_badly(k))
			VIOLATION("starts with closing punctuation");
		if (i == 0) {
			if (skip_ws(text, len, 0) != start)
				VIOLATION("the text before it is lost");
		} else {
			if (progress && start <= prev_start)
				VIOLATION("does not start after the previous one");
			if (progress && end <= prev_end)
				VIOLATION("has no text beyond the previous one");
			if (start > skip_ws(text, len, prev_end))
				VIOLATION("the text before it is lost");
			shared = start < prev_end ? (long)u8_count(text + start, prev_end - start) : 0;
			if (o->overlap == 0 && shared > 0)
				VIOLATION("overlaps the previous chunk");
			if (shared > o->overlap + o->overlap / 2 + 1)
				VIOLATION("shares %ld code points with the previous chunk", shared);
			if (o->overlap >= 8 && u8_count(c.v[i - 1].text, c.v[i - 1].len) > (size_t)o->overlap * 2
			    && shared == 0)
				VIOLATION("does not overlap the previous chunk");
		}
		prev_start = start;
		prev_end = end;
	}
	if (i == c.n && skip_ws(text, len, prev_end) != len && bad++ < 3)
		printf("#   size %ld overlap %ld: the text after byte %zu is lost\n", o->size, o->overlap, prev_end);
#undef VIOLATION
	chunks_free(&c);
	return bad;
}

static const long sizes[] = { 8, 13, 20, 37, 64, 100, 257 };

static void native_properties(size_t (*gen)(char *, size_t), uint64_t seed, int progress)
{
	static char text[6000];
	size_t len, si;
	long overlaps[5];
	int oi, total = 0;

	rng = seed;
	len = gen(text, sizeof text);
	for (si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
		long size = sizes[si];

		overlaps[0] = 0;
		overlaps[1] = 1;
		overlaps[2] = size / 8;
		overlaps[3] = size / 4;
		overlaps[4] = size / 2;
		for (oi = 0; oi < 5; oi++) {
			split_opts o = native(size, overlaps[oi]);

			if (oi > 0 && overlaps[oi] == overlaps[oi - 1])
				continue;
			total += check_native(&o, text, len, progress);
		}
	}
	CHECK_INT(total, 0);
}

TEST(native_english_properties)
{
	native_properties(gen_english, 1, 0);
	native_properties(gen_english, 2, 0);
}

TEST(native_chinese_properties)
{
	native_properties(gen_chinese, 3, 0);
	native_properties(gen_chinese, 4, 0);
}

/* Every chunk brings text the previous one did not have: none is only the
 * overlap repeated. */
TEST(native_every_chunk_moves_forward)
{
	split_opts o = native(20, 10);
	chunks c;

	/* the first chunk ends at "dddd." just before the paragraph break;
	 * the next must not be "cccc dddd." again */
	run_str(&o, "aaaa bbbb cccc dddd.\n\neeee ffff gggg hhhh.", &c);
	CHECK(c.n >= 2 && strcmp(c.v[0].text, "aaaa bbbb cccc dddd.") == 0);
	CHECK(c.n >= 2 && strstr(c.v[1].text, "eeee") != NULL);
	if (c.n >= 2 && strstr(c.v[1].text, "eeee") == NULL)
		printf("#   second chunk: \"%s\"\n", c.v[1].text);
	chunks_free(&c);
	native_properties(gen_english, 1, 1);
	native_properties(gen_chinese, 3, 1);
}

/* The same when the overlap and the whitespace after a cut fill the window. */
TEST(native_moves_forward_with_large_overlap)
{
	split_opts o = native(4, 3);
	chunks c;
	size_t i;

	/* not "aaaa", "aaa", "aa", "a\n\nb", ... */
	run_str(&o, "aaaa\n\nbbbb", &c);
	for (i = 1; i < c.n; i++)
		if (!CHECK(strchr(c.v[i].text, 'b') != NULL))
			printf("#   chunk %zu \"%s\" repeats the one before\n", i, c.v[i].text);
	chunks_free(&c);
}

/* Feeding the text in any pieces gives the same chunks as all at once. */
static void streaming_invariance(int lc, size_t (*gen)(char *, size_t), uint64_t seed)
{
	static char text[4000];
	static const long pieces[] = { 1, 2, 7, 64, -1 };
	size_t len, si, pi;

	rng = seed;
	len = gen(text, sizeof text);
	for (si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
		long size = sizes[si], overlap;

		for (overlap = 0; overlap < size; overlap += size / 3 + 1) {
			split_opts o = lc ? langchain(size, overlap) : native(size, overlap);
			chunks whole = { 0 };
			char what[96];

			CHECK_INT(run(&o, text, len, 0, &whole), 0);
			for (pi = 0; pi < sizeof pieces / sizeof pieces[0]; pi++) {
				chunks c = { 0 };

				CHECK_INT(run(&o, text, len, pieces[pi], &c), 0);
				snprintf(what, sizeof what, "%s size %ld overlap %ld pieces %ld", lc ? "langchain" : "native",
					 size, overlap, pieces[pi]);
				CHECK(same_chunks(&c, &whole, what));
				chunks_free(&c);
			}
			chunks_free(&whole);
		}
	}
}

TEST(native_streaming_invariance)
{
	streaming_invariance(0, gen_english, 11);
	streaming_invariance(0, gen_chinese, 12);
}

TEST(langchain_streaming_invariance)
{
	streaming_invariance(1, gen_english, 13);
	streaming_invariance(1, gen_chinese, 14);
}

TEST(native_small_cases)
{
	split_opts o = native(20, 0);
	chunks c;

	/* short text: one chunk, trimmed */
	run_str(&o, "  Hello, world.  \n", &c);
	texts_are(&c, (const char *const[]){ "Hello, world.", NULL });
	CHECK(c.n == 1 && c.v[0].forced == 0 && c.v[0].page == 1 && c.v[0].page_end == 1);
	chunks_free(&c);
	/* nothing, or only whitespace: no chunk */
	run_str(&o, "", &c);
	CHECK_INT(c.n, 0);
	chunks_free(&c);
	run_str(&o, " \n\n \t ", &c);
	CHECK_INT(c.n, 0);
	chunks_free(&c);
	/* cut at the paragraph break rather than mid-sentence */
	run_str(&o, "One two three.\n\nFour five six seven.", &c);
	texts_are(&c, (const char *const[]){ "One two three.", "Four five six seven.", NULL });
	chunks_free(&c);
	/* a sentence end beats a space */
	o = native(30, 0);
	run_str(&o, "Alpha beta gamma. Delta epsilon zeta eta theta.", &c);
	texts_are(&c, (const char *const[]){ "Alpha beta gamma.", "Delta epsilon zeta eta theta.", NULL });
	chunks_free(&c);
	/* "3.14" is not a sentence end */
	o = native(16, 0);
	run_str(&o, "Pi is 3.14 and e is 2.71 too.", &c);
	texts_are(&c, (const char *const[]){ "Pi is 3.14 and", "e is 2.71 too.", NULL });
	chunks_free(&c);
}

TEST(native_chinese_punctuation)
{
	/* 第一句话很长很长。第二句话也很长。第三句。 */
	const char *text = "\xE7\xAC\xAC\xE4\xB8\x80\xE5\x8F\xA5\xE8\xAF\x9D\xE5\xBE\x88\xE9\x95\xBF\xE5\xBE\x88\xE9\x95\xBF\xE3\x80\x82"
			   "\xE7\xAC\xAC\xE4\xBA\x8C\xE5\x8F\xA5\xE8\xAF\x9D\xE4\xB9\x9F\xE5\xBE\x88\xE9\x95\xBF\xE3\x80\x82"
			   "\xE7\xAC\xAC\xE4\xB8\x89\xE5\x8F\xA5\xE3\x80\x82";
	split_opts o = native(10, 0);
	chunks c;

	run_str(&o, text, &c);
	texts_are(&c, (const char *const[]){
		"\xE7\xAC\xAC\xE4\xB8\x80\xE5\x8F\xA5\xE8\xAF\x9D\xE5\xBE\x88\xE9\x95\xBF\xE5\xBE\x88\xE9\x95\xBF\xE3\x80\x82",
		"\xE7\xAC\xAC\xE4\xBA\x8C\xE5\x8F\xA5\xE8\xAF\x9D\xE4\xB9\x9F\xE5\xBE\x88\xE9\x95\xBF\xE3\x80\x82",
		"\xE7\xAC\xAC\xE4\xB8\x89\xE5\x8F\xA5\xE3\x80\x82", NULL });
	chunks_free(&c);

	/* 他说：“好的。”然后走了。 : the closing quote stays with its sentence */
	o = native(10, 0);
	run_str(&o, "\xE4\xBB\x96\xE8\xAF\xB4\xEF\xBC\x9A\xE2\x80\x9C\xE5\xA5\xBD\xE7\x9A\x84\xE3\x80\x82\xE2\x80\x9D"
		    "\xE7\x84\xB6\xE5\x90\x8E\xE8\xB5\xB0\xE4\xBA\x86\xE3\x80\x82", &c);
	texts_are(&c, (const char *const[]){
		"\xE4\xBB\x96\xE8\xAF\xB4\xEF\xBC\x9A\xE2\x80\x9C\xE5\xA5\xBD\xE7\x9A\x84\xE3\x80\x82\xE2\x80\x9D",
		"\xE7\x84\xB6\xE5\x90\x8E\xE8\xB5\xB0\xE4\xBA\x86\xE3\x80\x82", NULL });
	chunks_free(&c);

	/* English: He said "Stop." Then he left. */
	o = native(22, 0);
	run_str(&o, "He said \"Stop here.\" Then he left.", &c);
	texts_are(&c, (const char *const[]){ "He said \"Stop here.\"", "Then he left.", NULL });
	chunks_free(&c);
}

/* With an overlap, the next chunk begins with text that ends the previous one. */
TEST(native_overlap)
{
	split_opts o = native(40, 10);
	chunks c;
	size_t i;

	run_str(&o, "The first sentence is here. The second one follows it. A third one ends the text.", &c);
	CHECK(c.n >= 2);
	for (i = 1; i < c.n; i++) {
		const chunk *a = &c.v[i - 1], *b = &c.v[i];
		size_t k, best = 0;

		for (k = 1; k <= a->len && k <= b->len; k++)
			if (memcmp(a->text + a->len - k, b->text, k) == 0)
				best = k;
		if (!CHECK(best > 0))
			printf("#   %s | %s\n", a->text, b->text);
	}
	chunks_free(&c);
	/* and none without one */
	o = native(40, 0);
	run_str(&o, "The first sentence is here. The second one follows it. A third one ends the text.", &c);
	texts_are(&c, (const char *const[]){ "The first sentence is here.", "The second one follows it.",
					     "A third one ends the text.", NULL });
	chunks_free(&c);
}

/* Forced: no separator within size, so the cut falls mid-word. */
TEST(native_forced)
{
	split_opts o = native(8, 0);
	chunks c;
	size_t i;

	run_str(&o, "abcdefghijklmnopqrstuvwxyz", &c);
	texts_are(&c, (const char *const[]){ "abcdefgh", "ijklmnop", "qrstuvwx", "yz", NULL });
	for (i = 0; i + 1 < c.n; i++)
		CHECK_INT(c.v[i].forced, 1);
	if (c.n == 4)
		CHECK_INT(c.v[3].forced, 0);	/* the rest fits: nothing was cut */
	chunks_free(&c);
	/* Chinese without punctuation: cut after exactly 8 characters */
	run_str(&o, "\xE4\xB8\x80\xE4\xBA\x8C\xE4\xB8\x89\xE5\x9B\x9B\xE4\xBA\x94\xE5\x85\xAD\xE4\xB8\x83\xE5\x85\xAB\xE4\xB9\x9D\xE5\x8D\x81", &c);
	texts_are(&c, (const char *const[]){
		"\xE4\xB8\x80\xE4\xBA\x8C\xE4\xB8\x89\xE5\x9B\x9B\xE4\xBA\x94\xE5\x85\xAD\xE4\xB8\x83\xE5\x85\xAB",
		"\xE4\xB9\x9D\xE5\x8D\x81", NULL });
	CHECK(c.n == 2 && c.v[0].forced == 1 && c.v[1].forced == 0);
	chunks_free(&c);
	/* words that fit: never forced */
	run_str(&o, "one two three four five six seven", &c);
	CHECK(c.n > 1);
	for (i = 0; i < c.n; i++)
		CHECK_INT(c.v[i].forced, 0);
	chunks_free(&c);
}

/* Pages and titles: a chunk reports where it starts and ends. Every word of
 * the text names its page ("p3w17"), so the first and last words of a chunk
 * tell which pages it must report. */
static void pages_and_titles(int lc)
{
	split_opts o = lc ? langchain(45, 10) : native(45, 10);
	chunks c = { 0 };
	split *s = split_new(&o, collect, &c);
	int page, w, bad = 0;
	size_t i;

	if (!CHECK(s != NULL))
		return;
	for (page = 1; page <= 6; page++) {
		/* pages 1-3 under title 0, 4-6 under title 1; the words
		 * of a page come in several split_feed calls */
		for (w = 0; w < 12; w++) {
			char word[32];
			int n = snprintf(word, sizeof word, "p%dw%d%s", page, w, w % 5 == 4 ? ".\n" : " ");

			CHECK_INT(split_feed(s, word, (size_t)n, page, page <= 3 ? 0 : 1), 0);
		}
	}
	CHECK_INT(split_flush(s), 0);
	split_free(s);
	CHECK(c.n > 6);
	for (i = 0; i < c.n; i++) {
		const chunk *k = &c.v[i];
		const char *last = k->text + k->len;
		int first_page = -1, last_page = -1;

		while (last > k->text && last[-1] != 'p')
			last--;
		sscanf(k->text, "p%d", &first_page);
		if (last > k->text)
			sscanf(last - 1, "p%d", &last_page);
		if (k->page != first_page || k->page_end != last_page || k->title != (first_page <= 3 ? 0 : 1)) {
			if (bad++ < 3)
				printf("#   pages %d-%d title %d for \"%s\"\n", k->page, k->page_end, k->title, k->text);
		}
	}
	CHECK_INT(bad, 0);
	chunks_free(&c);
}

TEST(native_pages_and_titles)
{
	pages_and_titles(0);
}

TEST(langchain_pages_and_titles)
{
	pages_and_titles(1);
}

/* No chunk crosses a split_flush, and there is no overlap across it. */
static void flush_is_a_wall(int lc)
{
	split_opts o = lc ? langchain(30, 12) : native(30, 12);
	chunks c = { 0 };
	split *s = split_new(&o, collect, &c);
	size_t i;
	int sec, bad = 0;

	if (!CHECK(s != NULL))
		return;
	for (sec = 0; sec < 4; sec++) {
		char text[200];
		int n = snprintf(text, sizeof text, "%c%c one two three. %c%c four five six seven eight. %c%c nine ten",
				 'A' + sec, 'A' + sec, 'A' + sec, 'A' + sec, 'A' + sec, 'A' + sec);

		CHECK_INT(split_feed(s, text, (size_t)n, 1, sec), 0);
		CHECK_INT(split_flush(s), 0);
		CHECK_INT(split_flush(s), 0);	/* a second flush adds nothing */
	}
	split_free(s);
	for (i = 0; i < c.n; i++) {
		/* every word of a chunk is of one section: AA..., BB... */
		const char *t = c.v[i].text, *p;
		char tag = 0;

		for (p = t; *p; p++)
			if (p[0] >= 'A' && p[0] <= 'D' && p[1] == p[0]) {
				if (tag && tag != p[0] && bad++ < 3)
					printf("#   crosses a flush: \"%s\"\n", t);
				tag = p[0];
			}
		if (tag && c.v[i].title != tag - 'A' && bad++ < 3)
			printf("#   title %d for \"%s\"\n", c.v[i].title, t);
	}
	/* each section's first chunk starts with its tag: no overlap from before */
	for (sec = 0, i = 0; i < c.n; i++)
		if (i == 0 || c.v[i].title != c.v[i - 1].title) {
			if (!(c.v[i].text[0] == 'A' + c.v[i].title && c.v[i].text[1] == c.v[i].text[0]) && bad++ < 3)
				printf("#   section starts with \"%s\"\n", c.v[i].text);
			sec++;
		}
	CHECK_INT(sec, 4);
	CHECK_INT(bad, 0);
	chunks_free(&c);
}

TEST(native_flush_is_a_wall)
{
	flush_is_a_wall(0);
}

TEST(langchain_flush_is_a_wall)
{
	flush_is_a_wall(1);
}

/* A failing callback stops the splitter: -1 from then on. */
TEST(callback_failure_stops)
{
	split_opts o = native(10, 0);
	chunks c = { 0 };
	split *s;
	const char *text = "one two three four five six seven eight nine ten eleven twelve";

	c.stop_after = 2;
	s = split_new(&o, collect, &c);
	if (!CHECK(s != NULL))
		return;
	CHECK_INT(split_feed(s, text, strlen(text), 1, -1), -1);
	CHECK_INT(split_feed(s, "more", 4, 1, -1), -1);
	CHECK_INT(split_flush(s), -1);
	CHECK_INT(c.n, 2);
	split_free(s);
	chunks_free(&c);
}

/* ---- the LangChain rules ---- */

/* The documented algorithm of LangChain's RecursiveCharacterTextSplitter
 * (keep_separator="start", strip_whitespace=True, length = code points),
 * written plainly over a whole text: the reference the streaming code must
 * match. See tests/langchain/oracle.py. */

typedef struct {
	const char *s;
	size_t len;
} piece;

static long cplen(piece p)
{
	return (long)u8_count(p.s, p.len);
}

static void ref_emit(chunks *out, const char *s, size_t len, int strip)
{
	size_t n;

	if (strip) {
		while (len > 0 && is_ws(s, len, 0, &n)) {
			s += n;
			len -= n;
		}
		while (len > 0 && is_ws(s, len, u8_back(s, len - 1), &n))
			len = u8_back(s, len - 1);
	}
	if (len > 0)
		collect(out, s, len, 0, 0, 0, 0);
}

/* _merge_splits with separator "": the parts are adjacent in the text. */
static void ref_merge(const piece *parts, size_t n, long size, long overlap, chunks *out)
{
	size_t head = 0, tail = 0, i;
	long total = 0;

	for (i = 0; i < n; i++) {
		long len = cplen(parts[i]);

		if (total + len > size && tail > head) {
			ref_emit(out, parts[head].s, (size_t)(parts[tail - 1].s + parts[tail - 1].len - parts[head].s), 1);
			while (tail > head && (total > overlap || (total + len > size && total > 0))) {
				total -= cplen(parts[head]);
				head++;
			}
		}
		tail = i + 1;
		total += len;
	}
	if (tail > head)
		ref_emit(out, parts[head].s, (size_t)(parts[tail - 1].s + parts[tail - 1].len - parts[head].s), 1);
}

static void ref_split(const char *text, size_t len, const char *const *seps, int nseps, long size, long overlap,
		      chunks *out)
{
	const char *sep = seps[nseps - 1];
	int i, next = nseps;	/* first finer separator; nseps: none */
	piece *parts = calloc(len + 1, sizeof *parts), *small = calloc(len + 1, sizeof *small);
	size_t nparts = 0, nsmall = 0, k;

	for (i = 0; i < nseps; i++) {
		if (seps[i][0] == '\0') {
			sep = seps[i];
			break;
		}
		if (memmem(text, len, seps[i], strlen(seps[i])) != NULL) {
			sep = seps[i];
			next = i + 1;
			break;
		}
	}
	if (sep[0] == '\0') {
		for (k = 0; k < len;) {
			size_t n = 1;

			while (k + n < len && ((unsigned char)text[k + n] & 0xC0) == 0x80)
				n++;
			parts[nparts++] = (piece){ text + k, n };
			k += n;
		}
	} else {
		/* text.split(sep), the separator put back in front of every part but the first */
		size_t sl = strlen(sep), start = 0;
		const char *hit;

		k = 0;
		while ((hit = memmem(text + k, len - k, sep, sl)) != NULL) {
			size_t at = (size_t)(hit - text);

			if (at > start)
				parts[nparts++] = (piece){ text + start, at - start };
			start = at;
			k = at + sl;
		}
		if (len > start)
			parts[nparts++] = (piece){ text + start, len - start };
	}
	for (k = 0; k < nparts; k++) {
		if (cplen(parts[k]) < size) {
			small[nsmall++] = parts[k];
			continue;
		}
		ref_merge(small, nsmall, size, overlap, out);
		nsmall = 0;
		if (next < nseps)
			ref_split(parts[k].s, parts[k].len, seps + next, nseps - next, size, overlap, out);
		else
			ref_emit(out, parts[k].s, parts[k].len, 0);
	}
	ref_merge(small, nsmall, size, overlap, out);
	free(parts);
	free(small);
}

static int same_texts(const chunks *got, const chunks *want, const char *what)
{
	size_t i;
	char qa[800], qb[800];

	for (i = 0; i < got->n && i < want->n; i++)
		if (got->v[i].len != want->v[i].len || memcmp(got->v[i].text, want->v[i].text, got->v[i].len) != 0) {
			printf("#   %s: chunk %zu\n#     got:      %s\n#     expected: %s\n", what, i,
			       unit_quote(got->v[i].text, got->v[i].len, qa, sizeof qa),
			       unit_quote(want->v[i].text, want->v[i].len, qb, sizeof qb));
			return 0;
		}
	if (got->n != want->n) {
		printf("#   %s: %zu chunks, expected %zu\n", what, got->n, want->n);
		return 0;
	}
	return 1;
}

/* Check split in LangChain mode against the reference on one text. */
static int lc_matches(const char *text, size_t len, long size, long overlap, const char **seps, int nseps)
{
	split_opts o = langchain(size, overlap);
	chunks got = { 0 }, want = { 0 };
	char what[128];
	int ok;

	if (seps) {
		o.separators = seps;
		o.nseparators = nseps;
	} else {
		seps = split_langchain_separators;
		nseps = split_langchain_nseparators;
	}
	CHECK_INT(run(&o, text, len, 0, &got), 0);
	ref_split(text, len, seps, nseps, size, overlap, &want);
	snprintf(what, sizeof what, "size %ld overlap %ld separators %d from \"%s\"", size, overlap, nseps,
		 seps[0][0] == '\n' ? "\\n..." : seps[0]);
	ok = same_texts(&got, &want, what);
	chunks_free(&got);
	chunks_free(&want);
	return ok;
}

static void lc_text_is(const char *text, long size, long overlap, const char *const *want)
{
	split_opts o = langchain(size, overlap);
	chunks c;

	run_str(&o, text, &c);
	if (!texts_are(&c, want))
		printf("#   size %ld overlap %ld on \"%s\"\n", size, overlap, text);
	chunks_free(&c);
}

/* Cases worked out by hand from the algorithm (and checked with
 * tests/langchain/oracle.py). */
TEST(langchain_hand_checked)
{
	/* " " splits into aaaa | _bbbb | _cccc | _dddd (4,5,5,5): 4+5 fits, +5 does not */
	lc_text_is("aaaa bbbb cccc dddd", 10, 0, (const char *const[]){ "aaaa bbbb", "cccc dddd", NULL });
	/* overlap 5: after emitting [aaaa, _bbbb] (9 > 5) aaaa goes; 5 + 5 <= 10 keeps _bbbb */
	lc_text_is("aaaa bbbb cccc dddd", 10, 5,
		   (const char *const[]){ "aaaa bbbb", "bbbb cccc", "cccc dddd", NULL });
	/* a word of size or more is split again, by characters */
	lc_text_is("abcdefghijkl mn", 5, 0, (const char *const[]){ "abcde", "fghij", "kl", "mn", NULL });
	/* "\n\n" first: each paragraph on its own when two do not fit */
	lc_text_is("Para one.\n\nPara two.\n\nThree", 12, 0,
		   (const char *const[]){ "Para one.", "Para two.", "Three", NULL });
	/* paragraphs that fit together are merged, the separator kept inside */
	lc_text_is("a b\n\nc d\n\ne", 20, 0, (const char *const[]){ "a b\n\nc d\n\ne", NULL });
	/* the separator starts the next piece, whitespace stripped at the ends */
	lc_text_is("  hello world  ", 6, 0, (const char *const[]){ "hello", "world", NULL });
	/* Chinese has no spaces: characters */
	lc_text_is("\xE4\xB8\x80\xE4\xBA\x8C\xE4\xB8\x89\xE5\x9B\x9B\xE4\xBA\x94", 2, 0,
		   (const char *const[]){ "\xE4\xB8\x80\xE4\xBA\x8C", "\xE4\xB8\x89\xE5\x9B\x9B", "\xE4\xBA\x94", NULL });
	lc_text_is("\xE4\xB8\x80\xE4\xBA\x8C\xE4\xB8\x89\xE5\x9B\x9B\xE4\xBA\x94", 3, 1,
		   (const char *const[]){ "\xE4\xB8\x80\xE4\xBA\x8C\xE4\xB8\x89", "\xE4\xB8\x89\xE5\x9B\x9B\xE4\xBA\x94", NULL });
	/* only whitespace: nothing */
	lc_text_is(" \n\n \n ", 4, 0, (const char *const[]){ NULL });
}

/* A piece that cannot be split further is emitted as it is: too long and
 * unstripped, flagged forced. */
TEST(langchain_unsplittable_piece)
{
	static const char *seps[] = { "XYZ" };
	split_opts o = langchain(5, 0);
	chunks c;

	o.separators = seps;
	o.nseparators = 1;
	run_str(&o, "ab cdefgh XYZ ij", &c);
	/* pieces "ab cdefgh " (10 >= 5: emitted raw) and "XYZ ij" (6 >= 5: raw) */
	texts_are(&c, (const char *const[]){ "ab cdefgh ", "XYZ ij", NULL });
	CHECK(c.n == 2 && c.v[0].forced == 1 && c.v[1].forced == 1);
	chunks_free(&c);
}

static const char *seps_cjk[] = { "\xE3\x80\x82", "\xEF\xBC\x8C", "" };	/* 。 ， "" */
static const char *seps_odd[] = { ", ", "e", "" };
static const char *seps_nofallback[] = { "\n\n", "\n" };
static const char *seps_sentence[] = { ". ", " ", "" };
static const char *seps_absent[] = { "XYZ" };

/* Many texts, sizes and overlaps against the reference. */
TEST(langchain_matches_reference)
{
	static char text[5000];
	static const struct {
		const char **seps;
		int n;
	} lists[] = {
		{ NULL, 0 }, { seps_cjk, 3 }, { seps_odd, 3 }, { seps_nofallback, 2 }, { seps_sentence, 3 },
		{ seps_absent, 1 },
	};
	size_t (*gens[])(char *, size_t) = { gen_english, gen_chinese };
	size_t g, l, si, len;
	int bad = 0;

	for (g = 0; g < 2; g++) {
		for (l = 0; l < sizeof lists / sizeof lists[0]; l++) {
			rng = 100 + g * 10 + l;
			len = gens[g](text, 1000 + 500 * l);
			for (si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
				long size = sizes[si], overlap;

				for (overlap = 0; overlap < size; overlap += size / 4 + 1)
					if (!lc_matches(text, len, size, overlap, lists[l].seps, lists[l].n) && bad++ > 5)
						goto out;
			}
		}
	}
out:
	CHECK_INT(bad, 0);
}

/* Check the reference itself on the case the brief of the module gives. */
TEST(langchain_reference_sanity)
{
	chunks c = { 0 };

	ref_split("aaaa bbbb cccc dddd", 19, split_langchain_separators, split_langchain_nseparators, 10, 0, &c);
	texts_are(&c, (const char *const[]){ "aaaa bbbb", "cccc dddd", NULL });
	chunks_free(&c);
}

int main(void)
{
	RUN(native_small_cases);
	RUN(native_chinese_punctuation);
	RUN(native_overlap);
	RUN(native_forced);
	RUN(native_english_properties);
	RUN(native_chinese_properties);
	RUN(native_every_chunk_moves_forward);
	RUN(native_moves_forward_with_large_overlap);
	RUN(native_streaming_invariance);
	RUN(native_pages_and_titles);
	RUN(native_flush_is_a_wall);
	RUN(callback_failure_stops);
	RUN(langchain_reference_sanity);
	RUN(langchain_hand_checked);
	RUN(langchain_unsplittable_piece);
	RUN(langchain_matches_reference);
	RUN(langchain_streaming_invariance);
	RUN(langchain_pages_and_titles);
	RUN(langchain_flush_is_a_wall);
	return unit_done();
}
