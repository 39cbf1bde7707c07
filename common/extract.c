#include "extract.h"
#include "emb.h"
#include "sent.h"
#include "u8.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXT_K1 1.2
#define EXT_B 0.75
#define EXT_RANK_DECAY 0.3	/* passage k's sentences score 1 / (1 + decay * (k - 1)) */
#define EXT_NEAR_COPY 0.7	/* share of distinct terms two sentences must share to be one */

struct qterm {
	uint64_t hash;
	int kind;
	double w;	/* weight before rarity */
	double q;	/* with rarity */
	size_t df;
};

struct sentence {
	int passage;
	size_t start, end;
	size_t off, n;	/* its terms: hashes[off .. off + n), sorted */
	long chars;
	double score, cover;
};

struct work {
	uint64_t *hashes;
	size_t nh, caph;
	int *kinds;	/* for the question's terms only */
	struct sentence *s;
	size_t ns, caps;
	int passage;
	const char *text;
	const char *title;	/* of the passage being cut, or NULL */
	int failed;
};

void ext_opts_init(ext_opts *o)
{
	o->max_sentences = EXT_MAX_SENTENCES;
	o->max_chars = EXT_MAX_CHARS;
	o->min_coverage = EXT_MIN_COVERAGE;
}

static int add_hash(void *ctx, uint64_t hash, int kind)
{
	struct work *w = ctx;

	if (w->nh == w->caph) {
		size_t cap = w->caph ? w->caph * 2 : 1024;
		uint64_t *h = realloc(w->hashes, cap * sizeof *h);
		int *k;

		if (h == NULL)
			return -1;
		w->hashes = h;
		if (w->kinds) {
			k = realloc(w->kinds, cap * sizeof *k);
			if (k == NULL)
				return -1;
			w->kinds = k;
		}
		w->caph = cap;
	}
	if (w->kinds)
		w->kinds[w->nh] = kind;
	w->hashes[w->nh++] = hash;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int add_sentence(void *ctx, size_t start, size_t end)
{
	struct work *w = ctx;
	struct sentence *s;
	size_t off = w->nh;

	/* a chunk that begins with its heading: the heading is no answer */
	if (w->title && end - start == strlen(w->title) && memcmp(w->text + start, w->title, end - start) == 0)
		return 0;
	if (w->ns == w->caps) {
		size_t cap = w->caps ? w->caps * 2 : 64;
		struct sentence *v = realloc(w->s, cap * sizeof *v);

		if (v == NULL)
			return -1;
		w->s = v;
		w->caps = cap;
	}
	if (emb_lex_terms(w->text + start, end - start, add_hash, w) < 0)
		return -1;
	s = &w->s[w->ns++];
	memset(s, 0, sizeof *s);
	s->passage = w->passage;
	s->start = start;
	s->end = end;
	s->off = off;
	s->n = w->nh - off;
	s->chars = (long)u8_count(w->text + start, end - start);
	qsort(w->hashes + off, s->n, sizeof *w->hashes, cmp_u64);
	return 0;
}

/* How often hash occurs among the sorted terms of s. */
static size_t term_freq(const struct work *w, const struct sentence *s, uint64_t hash)
{
	const uint64_t *h = w->hashes + s->off;
	size_t lo = 0, hi = s->n, k = 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (h[mid] < hash)
			lo = mid + 1;
		else
			hi = mid;
	}
	while (lo + k < s->n && h[lo + k] == hash)
		k++;
	return k;
}

/* The question's distinct terms, with their weights before rarity. */
static int question_terms(const char *q, size_t qlen, struct qterm **out, size_t *nout)
{
	struct work w = { 0 };
	struct qterm *t;
	size_t i, j, n = 0;

	w.kinds = malloc(16 * sizeof *w.kinds);
	w.hashes = malloc(16 * sizeof *w.hashes);
	w.caph = 16;
	if (w.kinds == NULL || w.hashes == NULL || emb_lex_terms(q, qlen, add_hash, &w) < 0) {
		free(w.kinds);
		free(w.hashes);
		return -1;
	}
	t = calloc(w.nh ? w.nh : 1, sizeof *t);
	if (t == NULL) {
		free(w.kinds);
		free(w.hashes);
		return -1;
	}
	for (i = 0; i < w.nh; i++) {
		for (j = 0; j < n && t[j].hash != w.hashes[i]; j++)
			;
		if (j < n)
			continue;
		t[n].hash = w.hashes[i];
		t[n].kind = w.kinds[i];
		t[n].w = emb_lex_question_term_weight(w.hashes[i], w.kinds[i]);
		n++;
	}
	free(w.kinds);
	free(w.hashes);
	*out = t;
	*nout = n;
	return 0;
}

/* Share of the distinct terms of the smaller of a and b that both have. */
static double overlap(const struct work *w, const struct sentence *a, const struct sentence *b)
{
	const uint64_t *x = w->hashes + a->off, *y = w->hashes + b->off;
	size_t i = 0, j = 0, da = 0, db = 0, both = 0;

	while (i < a->n || j < b->n) {
		if (j >= b->n || (i < a->n && x[i] < y[j])) {
			da++;
			do
				i++;
			while (i < a->n && x[i] == x[i - 1]);
		} else if (i >= a->n || y[j] < x[i]) {
			db++;
			do
				j++;
			while (j < b->n && y[j] == y[j - 1]);
		} else {
			da++;
			db++;
			both++;
			do
				i++;
			while (i < a->n && x[i] == x[i - 1]);
			do
				j++;
			while (j < b->n && y[j] == y[j - 1]);
		}
	}
	if (da == 0 || db == 0)
		return 0;
	return (double)both / (double)(da < db ? da : db);
}

static const struct work *sort_work;

static int by_score(const void *a, const void *b)
{
	const struct sentence *x = &sort_work->s[*(const size_t *)a], *y = &sort_work->s[*(const size_t *)b];

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	if (x->passage != y->passage)
		return x->passage < y->passage ? -1 : 1;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* Answer order: passages by their best pick (the order picked), sentences
 * in text order within a passage. */
static int by_place(const void *a, const void *b)
{
	const ext_pick *x = a, *y = b;

	if (x->passage != y->passage)
		return 0;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* Is hash among the sorted terms of a title? */
static int in_title(const uint64_t *t, size_t n, uint64_t hash)
{
	return n > 0 && bsearch(&hash, t, n, sizeof *t, cmp_u64) != NULL;
}

int ext_choose(const char *question, size_t qlen, const char *const *texts, const size_t *lens,
	       const char *const *titles, size_t n, const ext_opts *o, ext_result *res)
{
	struct work w = { 0 }, tw = { 0 };
	size_t *toff = NULL;
	double *title_q = NULL, *title_content = NULL, content = 0;
	struct qterm *qt = NULL;
	size_t nq = 0, i, j, *order = NULL, *chosen = NULL, nchosen = 0;
	double total = 0, avgdl = 0, best;
	unsigned char *covered = NULL;
	long chars = 0;
	int r = -1;

	memset(res, 0, sizeof *res);
	if (question_terms(question, qlen, &qt, &nq) < 0)
		return -1;
	/* the terms of each title, sorted: passage i's are tw.hashes[toff[i] .. toff[i + 1]) */
	toff = calloc(n + 1, sizeof *toff);
	if (toff == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		toff[i] = tw.nh;
		if (titles && titles[i] && emb_lex_terms(titles[i], strlen(titles[i]), add_hash, &tw) < 0)
			goto out;
		if (tw.nh > toff[i])
			qsort(tw.hashes + toff[i], tw.nh - toff[i], sizeof *tw.hashes, cmp_u64);
	}
	toff[n] = tw.nh;
	for (i = 0; i < n; i++) {
		w.passage = (int)i;
		w.text = texts[i];
		w.title = titles ? titles[i] : NULL;
		if (sent_each(texts[i], lens[i], add_sentence, &w) < 0)
			goto out;
	}
	if (w.ns == 0 || nq == 0) {
		r = 0;
		goto out;
	}
	/* rarity among these sentences */
	for (j = 0; j < nq; j++) {
		for (i = 0; i < w.ns; i++)
			if (term_freq(&w, &w.s[i], qt[j].hash) > 0)
				qt[j].df++;
		qt[j].q = qt[j].w * log(1 + ((double)w.ns - (double)qt[j].df + 0.5) / ((double)qt[j].df + 0.5));
		total += qt[j].q;
	}
	for (i = 0; i < w.ns; i++)
		avgdl += (double)w.s[i].n;
	avgdl /= (double)w.ns;
	if (avgdl <= 0)
		avgdl = 1;
	/* how much of the question each passage's title holds */
	title_q = calloc(n ? n : 1, sizeof *title_q);
	title_content = calloc(n ? n : 1, sizeof *title_content);
	if (title_q == NULL || title_content == NULL)
		goto out;
	for (j = 0; j < nq; j++)
		if (qt[j].w > EXT_COMMON_WEIGHT)
			content += qt[j].q;
	for (i = 0; i < n; i++)
		for (j = 0; j < nq; j++)
			if (in_title(tw.hashes + toff[i], toff[i + 1] - toff[i], qt[j].hash)) {
				title_q[i] += qt[j].q;
				if (qt[j].w > EXT_COMMON_WEIGHT)
					title_content[i] += qt[j].q;
			}
	for (i = 0; i < w.ns; i++) {
		struct sentence *s = &w.s[i];
		double norm = EXT_K1 * (1 - EXT_B + EXT_B * (double)s->n / avgdl), sum = 0, cov = 0;

		for (j = 0; j < nq; j++) {
			double tf = (double)term_freq(&w, s, qt[j].hash);

			if (tf > 0) {
				double tw_ = in_title(tw.hashes + toff[s->passage], toff[s->passage + 1] - toff[s->passage],
						      qt[j].hash) ? EXT_TITLE_WEIGHT : 1;

				sum += tw_ * qt[j].q * tf * (EXT_K1 + 1) / (tf + norm);
				cov += qt[j].q;
			}
		}
		/* a passage whose title is what the question asks about is the
		 * place to look; and when the question asks only about that
		 * ("What is DenseNet?"), its first sentence most often says */
		if (sum > 0)
			sum += EXT_TITLE_BONUS * title_q[s->passage];
		if ((i == 0 || w.s[i - 1].passage != s->passage) && content > 0
		    && title_content[s->passage] >= content * (1 - 1e-9))
			sum *= 1 + EXT_LEAD_BONUS;
		s->score = sum / (1 + EXT_RANK_DECAY * s->passage);
		s->cover = total > 0 ? cov / total : 0;
	}
	order = malloc(w.ns * sizeof *order);
	chosen = malloc(w.ns * sizeof *chosen);
	covered = calloc(nq, 1);
	if (order == NULL || chosen == NULL || covered == NULL)
		goto out;
	for (i = 0; i < w.ns; i++)
		order[i] = i;
	sort_work = &w;
	qsort(order, w.ns, sizeof *order, by_score);
	best = w.s[order[0]].score;
	for (i = 0; i < w.ns; i++)
		if (w.s[i].cover > res->coverage)
			res->coverage = w.s[i].cover;
	if (best <= 0 || res->coverage < o->min_coverage) {
		r = 0;
		goto out;
	}
	for (i = 0; i < w.ns && (int)nchosen < o->max_sentences; i++) {
		struct sentence *s = &w.s[order[i]];
		double gain = 0;
		size_t k;
		int copy = 0;

		if (s->score < EXT_KEEP_RATIO * best)
			break;
		if (nchosen > 0 && chars + s->chars > o->max_chars)
			continue;
		for (j = 0; j < nq; j++)
			if (!covered[j] && term_freq(&w, s, qt[j].hash) > 0)
				gain += qt[j].q;
		if (nchosen > 0 && gain <= 0)
			continue;
		for (k = 0; k < nchosen && !copy; k++)
			copy = overlap(&w, s, &w.s[chosen[k]]) >= EXT_NEAR_COPY;
		if (copy)
			continue;
		for (j = 0; j < nq; j++)
			if (term_freq(&w, s, qt[j].hash) > 0)
				covered[j] = 1;
		chosen[nchosen++] = order[i];
		if (nchosen > 1)
			chars += s->chars;
	}
	res->picks = calloc(nchosen, sizeof *res->picks);
	if (res->picks == NULL)
		goto out;
	/* passages in the order of their best pick, each passage's picks together */
	for (i = 0; i < nchosen; i++) {
		const struct sentence *s = &w.s[chosen[i]];
		size_t at = res->npicks;

		for (j = 0; j < res->npicks; j++)
			if (res->picks[j].passage == s->passage)
				at = j + 1;
		memmove(res->picks + at + 1, res->picks + at, (res->npicks - at) * sizeof *res->picks);
		res->picks[at].passage = s->passage;
		res->picks[at].start = s->start;
		res->picks[at].end = s->end;
		res->picks[at].score = s->score;
		res->npicks++;
	}
	/* a stable insertion sort by place within each passage's run */
	for (i = 1; i < res->npicks; i++) {
		ext_pick p = res->picks[i];

		for (j = i; j > 0 && by_place(&p, &res->picks[j - 1]) < 0; j--)
			res->picks[j] = res->picks[j - 1];
		res->picks[j] = p;
	}
	res->found = res->npicks > 0;
	r = 0;
out:
	free(qt);
	free(order);
	free(chosen);
	free(covered);
	free(w.hashes);
	free(w.s);
	free(tw.hashes);
	free(toff);
	free(title_q);
	free(title_content);
	if (r < 0)
		ext_result_free(res);
	return r;
}

static int32_t last_cp(const char *s, size_t end, size_t *at)
{
	int32_t c = 0;

	if (end == 0)
		return 0;
	*at = u8_back(s, end - 1);
	u8_decode(s + *at, end - *at, &c, NULL);
	return c;
}

int ext_compose(const ext_result *res, const char *const *texts, sb *out)
{
	size_t i;
	char mark[32];
	int32_t prev_last = 0;	/* the last character of the sentence before */

	for (i = 0; i < res->npicks; i++) {
		const ext_pick *p = &res->picks[i];
		const char *t = texts[p->passage];
		size_t end = p->end, at = 0, before = 0;
		int32_t c = last_cp(t, end, &at), prev;

		if (i > 0) {
			/* no space between sentences of Chinese text */
			int32_t first;

			u8_decode(t + p->start, p->end - p->start, &first, NULL);
			if (!(u8_is_cjk(prev_last) && u8_is_cjk(first)) && sb_putc(out, ' ') < 0)
				return -1;
		}
		prev_last = c;
		snprintf(mark, sizeof mark, "[%d]", p->passage + 1);
		prev = last_cp(t, at, &before);
		if ((c == '.' || c == '!' || c == '?') && at > p->start && prev != '.' && prev != '!' && prev != '?') {
			/* "... layers [2]." */
			if (sb_append(out, t + p->start, at - p->start) < 0 || sb_putc(out, ' ') < 0 || sb_puts(out, mark) < 0
			    || sb_append(out, t + at, end - at) < 0)
				return -1;
			continue;
		}
		if (sb_append(out, t + p->start, end - p->start) < 0 || (!u8_is_cjk(c) && sb_putc(out, ' ') < 0)
		    || sb_puts(out, mark) < 0)
			return -1;
	}
	return 0;
}

void ext_result_free(ext_result *res)
{
	free(res->picks);
	memset(res, 0, sizeof *res);
}
