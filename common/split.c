#include "split.h"
#include "sb.h"
#include "u8.h"

#include <stdlib.h>
#include <string.h>

const char *split_native_separators[] = { "\n\n", "\n", SPLIT_SENTENCE, SPLIT_CLAUSE, " ", "" };
const int split_native_nseparators = 6;
const char *split_langchain_separators[] = { "\n\n", "\n", " ", "" };
const int split_langchain_nseparators = 4;

struct mark {
	size_t off;	/* absolute byte offset where page/title take effect */
	int page, title;
};

/* A piece of the text, [start, end) in absolute byte offsets. */
struct piece {
	size_t start, end;
	long len;	/* code points */
};

/* The state of one LangChain _merge_splits call. */
struct merge {
	struct piece *v;
	size_t head, n, cap;
	long total;
};

struct split {
	split_opts o;
	split_emit_fn emit;
	void *ctx;
	sb buf;
	size_t base;	/* absolute offset of buf.buf[0] */
	struct mark *marks;
	size_t nmarks, capmarks;
	int failed;

	/* native */
	size_t start;	/* where the pending chunk begins */
	size_t prev_cut;
	int pending;	/* a chunk ended at prev_cut; the next start is undecided */

	/* langchain: the top level is streamed */
	int top;	/* index of the top separator, -1 until known */
	size_t scan;	/* where the next search for it resumes */
	size_t piece_start;
	struct merge top_merge;
};

/* ---- buffer and marks ---- */

static const char *at(const split *s, size_t abs)
{
	return s->buf.buf + (abs - s->base);
}

static size_t end_off(const split *s)
{
	return s->base + s->buf.len;
}

static int mark_at(const split *s, size_t off, int *page, int *title)
{
	size_t lo = 0, hi = s->nmarks;

	/* last mark with mark.off <= off */
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;

		if (s->marks[mid].off <= off)
			lo = mid;
		else
			hi = mid;
	}
	if (s->nmarks == 0) {
		*page = 0;
		*title = -1;
		return 0;
	}
	*page = s->marks[lo].page;
	*title = s->marks[lo].title;
	return 0;
}

/* Forget the text before abs (keeping the mark in force there). */
static void discard_before(split *s, size_t abs)
{
	size_t drop, i, keep;

	if (abs <= s->base)
		return;
	/* Moving the rest down costs its length, so it waits until the part
	 * dropped is at least as long: each byte then moves a bounded number
	 * of times, even when one long piece yields thousands of chunks. */
	drop = abs - s->base;
	if (drop >= s->buf.len - drop) {
		memmove(s->buf.buf, s->buf.buf + drop, s->buf.len - drop + 1);
		s->buf.len -= drop;
		s->base = abs;
	}
	for (keep = 0; keep + 1 < s->nmarks && s->marks[keep + 1].off <= abs; keep++)
		;
	if (keep > 0) {
		for (i = keep; i < s->nmarks; i++)
			s->marks[i - keep] = s->marks[i];
		s->nmarks -= keep;
	}
}

static int is_space_at(const split *s, size_t off, size_t *n)
{
	int32_t cp;

	*n = u8_decode(at(s, off), end_off(s) - off, &cp, NULL);
	return u8_is_space(cp);
}

static int emit_exact(split *s, size_t a, size_t b, int forced)
{
	int page, title, page_end, title_end;

	mark_at(s, a, &page, &title);
	mark_at(s, b - 1, &page_end, &title_end);
	if (s->emit(s->ctx, at(s, a), b - a, page, page_end, title, forced) < 0) {
		s->failed = 1;
		return -1;
	}
	return 0;
}

/* Trim whitespace (Unicode White_Space, like Python's str.strip) and emit. */
static int emit_range(split *s, size_t a, size_t b, int forced)
{
	size_t n;

	while (a < b && is_space_at(s, a, &n))
		a += n;
	while (b > a) {
		size_t q = s->base + u8_back(s->buf.buf, b - 1 - s->base);

		if (!is_space_at(s, q, &n))
			break;
		b = q;
	}
	if (a >= b)
		return 0;
	return emit_exact(s, a, b, forced);
}

/* Offset after n code points from abs (or the end of the buffer). */
static size_t advance_cp(const split *s, size_t abs, long n, long *got)
{
	const char *p = at(s, abs), *e = s->buf.buf + s->buf.len;
	long k = 0;

	while (p < e && k < n) {
		p++;
		while (p < e && ((unsigned char)*p & 0xC0) == 0x80)
			p++;
		k++;
	}
	if (got)
		*got = k;
	return s->base + (size_t)(p - s->buf.buf);
}

static size_t back_cp(const split *s, size_t abs, long n, size_t floor)
{
	while (n-- > 0 && abs > floor)
		abs = s->base + u8_back(s->buf.buf, abs - 1 - s->base);
	return abs;
}

static int find_sep(const split *s, const char *sep, size_t from, size_t to, size_t *where);

/* ---- separator classes ---- */

static int is_closer(int32_t c)
{
	return c == '"' || c == '\'' || c == ')' || c == ']' || c == 0x201D || c == 0x2019
	    || c == 0x300D || c == 0x300F || c == 0xFF09 || c == 0x300B || c == 0x3011 || c == 0x3009
	    || c == 0xFF63;
}

static int is_cjk_stop(int32_t c)
{
	return c == 0x3002 || c == 0xFF01 || c == 0xFF1F || c == 0xFF1B || c == 0xFF61 || c == 0xFF0E;
}

/* Punctuation that belongs to what precedes it: a chunk never starts with it. */
static int is_no_start(int32_t c)
{
	return is_closer(c) || is_cjk_stop(c) || c == 0xFF0C || c == 0x3001 || c == 0xFF1A || c == 0xFF1B
	    || c == ',' || c == '.' || c == ';' || c == ':' || c == '!' || c == '?';
}

static int no_start_at(const split *s, size_t off)
{
	int32_t c;

	if (off >= end_off(s))
		return 0;
	u8_decode(at(s, off), end_off(s) - off, &c, NULL);
	return is_no_start(c);
}

/* If a sentence (or clause) ends with the code point at q, the offset just
 * past it and any closing quotes; 0 otherwise. */
static size_t class_end_at(const split *s, size_t q, int clause)
{
	size_t e = end_off(s), p, n;
	int32_t c;
	int ascii;

	n = u8_decode(at(s, q), e - q, &c, NULL);
	if (clause) {
		if (c == 0xFF0C || c == 0xFF1B || c == 0x3001)
			return q + n;
		if (c != ',' && c != ';')
			return 0;
		ascii = 1;
	} else if (is_cjk_stop(c)) {
		ascii = 0;
	} else if (c == '.' || c == '!' || c == '?') {
		ascii = 1;
	} else {
		return 0;
	}
	p = q + n;
	if (!clause) {
		while (p < e) {
			n = u8_decode(at(s, p), e - p, &c, NULL);
			if (!is_closer(c))
				break;
			p += n;
		}
	}
	if (ascii) {
		/* "3.14" and "1,000" are not boundaries */
		if (p >= e)
			return 0;
		u8_decode(at(s, p), e - p, &c, NULL);
		if (!u8_is_space(c))
			return 0;
	}
	return p;
}

/* The largest p in [lo, hi] such that a separator ends exactly at p and
 * starts at or after floor; 0 when there is none. */
static size_t last_sep_end(const split *s, const char *sep, size_t floor, size_t lo, size_t hi)
{
	size_t q;

	if (hi <= floor || lo > hi)
		return 0;
	if (sep[0] == '\0') {
		q = s->base + u8_back(s->buf.buf, hi - s->base);
		return q >= lo && q > floor ? q : 0;
	}
	if (sep[0] == '\x01') {
		int clause = strcmp(sep, SPLIT_CLAUSE) == 0;

		for (q = hi; q-- > floor;) {
			size_t p;

			if (((unsigned char)*at(s, q) & 0xC0) == 0x80)
				continue;
			p = class_end_at(s, q, clause);
			if (p && p <= hi) {
				if (p < lo)
					return 0;
				return p;
			}
		}
		return 0;
	} else {
		size_t len = strlen(sep);

		if (hi - floor < len)
			return 0;
		for (q = hi - len + 1; q-- > floor;) {
			if (memcmp(at(s, q), sep, len) == 0)
				return q + len >= lo ? q + len : 0;
		}
		return 0;
	}
}

/* ---- native rules ---- */

static size_t native_cut(split *s, size_t wend, int *forced)
{
	size_t half, lo, floor, p, fresh, n;
	int i;

	floor = s->start;
	half = advance_cp(s, s->start, s->o.size / 2, NULL);
	/* the chunk must end past the last one, with some text of its own */
	fresh = s->prev_cut > s->start ? s->prev_cut : s->start;
	while (fresh < wend && is_space_at(s, fresh, &n))
		fresh += n;
	fresh = advance_cp(s, fresh, 1, NULL);
	lo = half > fresh ? half : fresh;
	*forced = 0;
	/* the coarsest separator that leaves the chunk at least half full */
	for (i = 0; i < s->o.nseparators; i++) {
		if (s->o.separators[i][0] == '\0')
			break;
		p = last_sep_end(s, s->o.separators[i], floor, lo, wend);
		if (p)
			return p;
	}
	/* else any separator at all, rather than cutting a word */
	lo = fresh;
	for (i = 0; i < s->o.nseparators; i++) {
		if (s->o.separators[i][0] == '\0')
			break;
		p = last_sep_end(s, s->o.separators[i], floor, lo, wend);
		if (p)
			return p;
	}
	*forced = 1;
	/* not even a character cut may leave "。" or "》" to start the next chunk */
	p = wend;
	while (no_start_at(s, p) && p > lo) {
		size_t q = s->base + u8_back(s->buf.buf, p - 1 - s->base);

		if (q <= s->start)
			break;
		p = q;
	}
	return no_start_at(s, p) ? wend : p;
}

/* The smallest p in [lo, hi] at which a separator ends; 0 when none. */
static size_t first_sep_end(const split *s, const char *sep, size_t lo, size_t hi)
{
	size_t q, p;

	if (sep[0] == '\x01') {
		int clause = strcmp(sep, SPLIT_CLAUSE) == 0;

		/* closing quotes may follow the mark: start a little early */
		for (q = lo > s->start + 16 ? lo - 16 : s->start; q < hi; q++) {
			if (((unsigned char)*at(s, q) & 0xC0) == 0x80)
				continue;
			p = class_end_at(s, q, clause);
			if (p >= lo && p <= hi)
				return p;
		}
		return 0;
	} else {
		size_t len = strlen(sep);

		q = lo >= s->start + len ? lo - len : s->start;
		return find_sep(s, sep, q, hi, &p) && p + len <= hi ? p + len : 0;
	}
}

static size_t distance(size_t a, size_t b)
{
	return a > b ? a - b : b - a;
}

/* Where the chunk after one ending at cut begins: about `overlap` code points
 * back, at the nearest sentence boundary if one is near, else the nearest
 * word boundary, else exactly there. */
static size_t native_next_start(split *s, size_t cut)
{
	static const char *levels[2][2] = { { "\n", SPLIT_SENTENCE }, { " ", SPLIT_CLAUSE } };
	size_t target, lo, hi, best = 0, n, p, first, fresh;
	int l, i;

	if (s->o.overlap <= 0)
		return cut;
	target = back_cp(s, cut, s->o.overlap, s->start);
	lo = back_cp(s, target, s->o.overlap / 2, s->start);
	hi = advance_cp(s, target, s->o.overlap / 2, NULL);
	if (hi > cut)
		hi = cut;
	for (l = 0; l < 2 && !best; l++) {
		for (i = 0; i < 2; i++) {
			size_t before = last_sep_end(s, levels[l][i], s->start, lo, target);
			size_t after = first_sep_end(s, levels[l][i], target, hi);

			if (before > s->start && (!best || distance(before, target) < distance(best, target)))
				best = before;
			if (after && after < cut && (!best || distance(after, target) < distance(best, target)))
				best = after;
		}
	}
	p = best ? best : target;
	while (p < cut && (is_space_at(s, p, &n) || no_start_at(s, p)))
		p = advance_cp(s, p, 1, NULL);
	/* the next chunk must start after this one did (its first letter) */
	first = s->start;
	while (first < cut && is_space_at(s, first, &n))
		first += n;
	if (p <= first)
		p = cut;
	/* and its window must reach past the white space after the cut, or it
	 * would hold nothing new */
	fresh = cut;
	while (fresh < end_off(s) && is_space_at(s, fresh, &n))
		fresh += n;
	if (fresh < end_off(s)) {
		size_t least = back_cp(s, advance_cp(s, fresh, 1, NULL), s->o.size, s->start);

		if (p < least) {
			p = least;
			while (p < cut && (is_space_at(s, p, &n) || no_start_at(s, p)))
				p = advance_cp(s, p, 1, NULL);
		}
	}
	return p;
}

static int has_text_after(const split *s, size_t from)
{
	size_t n;

	for (; from < end_off(s); from += n)
		if (!is_space_at(s, from, &n))
			return 1;
	return 0;
}

static int native_drain(split *s, int final)
{
	for (;;) {
		size_t wend, cut;
		int forced;

		if (s->pending) {
			/* Where the next chunk starts depends on the first letter
			 * after the cut: wait until it has come. */
			if (!final && !has_text_after(s, s->prev_cut))
				return 0;
			s->pending = 0;
			s->start = native_next_start(s, s->prev_cut);
			discard_before(s, s->start);
		}
		wend = advance_cp(s, s->start, s->o.size, NULL);
		if (wend >= end_off(s)) {
			/* The window reaches the end of what we have: only a flush
			 * may emit it, more text may still come. */
			if (!final)
				return 0;
			/* what is left may be only the overlap of the last chunk */
			if (has_text_after(s, s->prev_cut > s->start ? s->prev_cut : s->start)
			    && emit_range(s, s->start, end_off(s), 0) < 0)
				return -1;
			s->start = s->prev_cut = end_off(s);
			discard_before(s, s->start);
			return 0;
		}
		cut = native_cut(s, wend, &forced);
		if (emit_range(s, s->start, cut, forced) < 0)
			return -1;
		s->prev_cut = cut;
		s->pending = 1;
	}
}

/* ---- LangChain rules ---- */

static long cp_len(const split *s, size_t a, size_t b)
{
	return (long)u8_count(at(s, a), b - a);
}

static int merge_emit(split *s, struct merge *m)
{
	int r;

	if (m->n == m->head)
		return 0;
	r = emit_range(s, m->v[m->head].start, m->v[m->n - 1].end, 0);
	return r;
}

/* One step of _merge_splits (the join separator is "" with keep_separator). */
static int merge_add(split *s, struct merge *m, struct piece d)
{
	if (m->total + d.len > s->o.size) {
		if (m->n > m->head) {
			if (merge_emit(s, m) < 0)
				return -1;
			while (m->n > m->head
			       && (m->total > s->o.overlap || (m->total + d.len > s->o.size && m->total > 0))) {
				m->total -= m->v[m->head].len;
				m->head++;
			}
		}
	}
	if (m->head == m->n)
		m->head = m->n = 0;
	if (m->n == m->cap) {
		size_t cap;
		struct piece *v;

		if (m->head > 0) {
			memmove(m->v, m->v + m->head, (m->n - m->head) * sizeof *m->v);
			m->n -= m->head;
			m->head = 0;
		}
		if (m->n == m->cap) {
			cap = m->cap ? m->cap * 2 : 16;
			v = realloc(m->v, cap * sizeof *v);
			if (v == NULL)
				return -1;
			m->v = v;
			m->cap = cap;
		}
	}
	m->v[m->n++] = d;
	m->total += d.len;
	return 0;
}

static int merge_finish(split *s, struct merge *m)
{
	int r = merge_emit(s, m);

	m->head = m->n = 0;
	m->total = 0;
	return r;
}

static int find_sep(const split *s, const char *sep, size_t from, size_t to, size_t *where)
{
	size_t len = strlen(sep);
	const char *hit;

	if (to < from || to - from < len)
		return 0;
	hit = memmem(at(s, from), to - from, sep, len);
	if (hit == NULL)
		return 0;
	*where = s->base + (size_t)(hit - s->buf.buf);
	return 1;
}

static int lc_split_range(split *s, size_t a, size_t b, int first);

/* A piece produced by splitting with separator index sepi: short ones are
 * merged, long ones split again with the finer separators. */
static int lc_piece(split *s, struct merge *m, size_t a, size_t b, int next_sep)
{
	struct piece d = { a, b, cp_len(s, a, b) };

	if (a == b)
		return 0;
	if (d.len < s->o.size)
		return merge_add(s, m, d);
	if (merge_finish(s, m) < 0)
		return -1;
	if (next_sep >= s->o.nseparators || next_sep < 0) {
		/* LangChain appends such a piece as it is, unstripped */
		return emit_exact(s, a, b, 1);
	}
	return lc_split_range(s, a, b, next_sep);
}

/* _split_text on [a, b) with separators[first..]. */
static int lc_split_range(split *s, size_t a, size_t b, int first)
{
	struct merge m = { 0 };
	int i, sepi = s->o.nseparators - 1, next = s->o.nseparators;
	size_t q, prev, where;
	int r = 0;

	for (i = first; i < s->o.nseparators; i++) {
		if (s->o.separators[i][0] == '\0') {
			sepi = i;
			next = s->o.nseparators;
			break;
		}
		if (find_sep(s, s->o.separators[i], a, b, &where)) {
			sepi = i;
			next = i + 1;
			break;
		}
	}
	if (s->o.separators[sepi][0] == '\0') {
		for (q = a; q < b && r == 0;) {
			size_t n = advance_cp(s, q, 1, NULL) - q;

			r = lc_piece(s, &m, q, q + n, next);
			q += n;
		}
	} else {
		size_t len = strlen(s->o.separators[sepi]);

		prev = a;
		for (q = a; r == 0 && find_sep(s, s->o.separators[sepi], q, b, &where); q = where + len) {
			r = lc_piece(s, &m, prev, where, next);
			prev = where;
		}
		if (r == 0)
			r = lc_piece(s, &m, prev, b, next);
	}
	if (r == 0)
		r = merge_finish(s, &m);
	free(m.v);
	return r;
}

/* Stream the top level once its separator is known; at the end (final) the
 * rest of the buffer is the last piece. */
static int lc_drain(split *s, int final)
{
	const char *sep;
	size_t len, where, keep;

	if (s->top < 0) {
		size_t dummy, len0 = strlen(s->o.separators[0]);

		if (len0 == 0 || find_sep(s, s->o.separators[0], s->scan, end_off(s), &dummy)) {
			s->top = 0;
			s->scan = s->piece_start;
		} else if (!final) {
			/* the first separator may still come */
			if (end_off(s) - s->scan >= len0)
				s->scan = end_off(s) - len0 + 1;
			return 0;
		} else {
			/* the whole text is known: choose as _split_text does */
			int r = lc_split_range(s, s->piece_start, end_off(s), 0);

			discard_before(s, end_off(s));
			s->piece_start = s->scan = end_off(s);
			return r;
		}
	}
	sep = s->o.separators[s->top];
	len = strlen(sep);
	if (len == 0) {
		while (s->piece_start < end_off(s)) {
			size_t n = advance_cp(s, s->piece_start, 1, NULL) - s->piece_start;

			if (lc_piece(s, &s->top_merge, s->piece_start, s->piece_start + n, s->o.nseparators) < 0)
				return -1;
			s->piece_start += n;
		}
	} else {
		while (find_sep(s, sep, s->scan, end_off(s), &where)) {
			if (lc_piece(s, &s->top_merge, s->piece_start, where, s->top + 1) < 0)
				return -1;
			s->piece_start = where;
			s->scan = where + len;
		}
		if (end_off(s) - s->scan >= len)
			s->scan = end_off(s) - len + 1;
		if (final) {
			if (lc_piece(s, &s->top_merge, s->piece_start, end_off(s), s->top + 1) < 0)
				return -1;
			s->piece_start = s->scan = end_off(s);
		}
	}
	if (final && merge_finish(s, &s->top_merge) < 0)
		return -1;
	keep = s->piece_start;
	if (s->top_merge.n > s->top_merge.head && s->top_merge.v[s->top_merge.head].start < keep)
		keep = s->top_merge.v[s->top_merge.head].start;
	discard_before(s, keep);
	if (final)
		s->top = -1;
	return 0;
}

/* ---- interface ---- */

split *split_new(const split_opts *opts, split_emit_fn emit, void *ctx)
{
	split *s = calloc(1, sizeof *s);

	if (s == NULL)
		return NULL;
	s->o = *opts;
	if (s->o.separators == NULL) {
		s->o.separators = opts->langchain ? split_langchain_separators : split_native_separators;
		s->o.nseparators = opts->langchain ? split_langchain_nseparators : split_native_nseparators;
	}
	s->emit = emit;
	s->ctx = ctx;
	s->top = -1;
	if (sb_reserve(&s->buf, 0) < 0) {
		free(s);
		return NULL;
	}
	return s;
}

void split_free(split *s)
{
	if (s == NULL)
		return;
	sb_free(&s->buf);
	free(s->marks);
	free(s->top_merge.v);
	free(s);
}

int split_feed(split *s, const char *text, size_t len, int page, int title)
{
	if (s->failed)
		return -1;
	if (len == 0)
		return 0;
	if (s->nmarks == 0 || s->marks[s->nmarks - 1].page != page || s->marks[s->nmarks - 1].title != title) {
		if (s->nmarks == s->capmarks) {
			size_t cap = s->capmarks ? s->capmarks * 2 : 8;
			struct mark *m = realloc(s->marks, cap * sizeof *m);

			if (m == NULL)
				return -1;
			s->marks = m;
			s->capmarks = cap;
		}
		s->marks[s->nmarks].off = end_off(s);
		s->marks[s->nmarks].page = page;
		s->marks[s->nmarks].title = title;
		s->nmarks++;
	}
	if (sb_append(&s->buf, text, len) < 0)
		return -1;
	return s->o.langchain ? lc_drain(s, 0) : native_drain(s, 0);
}

int split_flush(split *s)
{
	int r;

	if (s->failed)
		return -1;
	r = s->o.langchain ? lc_drain(s, 1) : native_drain(s, 1);
	if (r < 0)
		return -1;
	/* the next section starts afresh */
	s->pending = 0;
	s->start = s->prev_cut = s->piece_start = s->scan = end_off(s);
	discard_before(s, end_off(s));
	return 0;
}
