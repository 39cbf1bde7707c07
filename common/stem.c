/* The Porter stemming algorithm (M. F. Porter, "An algorithm for suffix
 * stripping", Program 14(3), 1980), for lower-case ASCII words. */
#include "stem.h"

#include <string.h>

struct word {
	char *b;
	int k;	/* index of the last letter */
	int j;	/* end of the stem while a suffix is examined */
};

static int cons(const struct word *w, int i)
{
	switch (w->b[i]) {
	case 'a': case 'e': case 'i': case 'o': case 'u':
		return 0;
	case 'y':
		return i == 0 ? 1 : !cons(w, i - 1);
	default:
		return 1;
	}
}

/* The number of vowel-consonant sequences in b[0..j]. */
static int measure(const struct word *w)
{
	int n = 0, i = 0;

	for (;;) {
		if (i > w->j)
			return n;
		if (!cons(w, i))
			break;
		i++;
	}
	i++;
	for (;;) {
		for (;;) {
			if (i > w->j)
				return n;
			if (cons(w, i))
				break;
			i++;
		}
		i++;
		n++;
		for (;;) {
			if (i > w->j)
				return n;
			if (!cons(w, i))
				break;
			i++;
		}
		i++;
	}
}

static int vowel_in_stem(const struct word *w)
{
	int i;

	for (i = 0; i <= w->j; i++)
		if (!cons(w, i))
			return 1;
	return 0;
}

static int double_cons(const struct word *w, int j)
{
	return j >= 1 && w->b[j] == w->b[j - 1] && cons(w, j);
}

/* consonant-vowel-consonant ending at i, the last not w, x or y */
static int cvc(const struct word *w, int i)
{
	int ch;

	if (i < 2 || !cons(w, i) || cons(w, i - 1) || !cons(w, i - 2))
		return 0;
	ch = w->b[i];
	return ch != 'w' && ch != 'x' && ch != 'y';
}

/* A suffix and its length, so that the hot loop needs no strlen. */
struct sfx {
	const char *s;
	int len;
};

#define SFX(lit) { lit, (int)sizeof(lit) - 1 }

static int ends_sfx(struct word *w, const struct sfx *x)
{
	/* most suffixes fail on their last letter: test it first */
	if (x->len > w->k + 1 || w->b[w->k] != x->s[x->len - 1]
	    || memcmp(w->b + w->k - x->len + 1, x->s, (size_t)x->len) != 0)
		return 0;
	w->j = w->k - x->len;
	return 1;
}

static int ends(struct word *w, const char *s)
{
	struct sfx x = { s, (int)strlen(s) };

	return ends_sfx(w, &x);
}

static void set_to_sfx(struct word *w, const struct sfx *x)
{
	memcpy(w->b + w->j + 1, x->s, (size_t)x->len);
	w->k = w->j + x->len;
}

static void set_to(struct word *w, const char *s)
{
	struct sfx x = { s, (int)strlen(s) };

	set_to_sfx(w, &x);
}

static void replace_if_m(struct word *w, const struct sfx *x)
{
	if (measure(w) > 0)
		set_to_sfx(w, x);
}

static void step1ab(struct word *w)
{
	if (w->b[w->k] == 's') {
		if (ends(w, "sses"))
			w->k -= 2;
		else if (ends(w, "ies"))
			set_to(w, "i");
		else if (w->k >= 1 && w->b[w->k - 1] != 's')
			w->k--;
	}
	if (ends(w, "eed")) {
		if (measure(w) > 0)
			w->k--;
	} else if ((ends(w, "ed") || ends(w, "ing")) && vowel_in_stem(w)) {
		w->k = w->j;
		if (ends(w, "at"))
			set_to(w, "ate");
		else if (ends(w, "bl"))
			set_to(w, "ble");
		else if (ends(w, "iz"))
			set_to(w, "ize");
		else if (double_cons(w, w->k)) {
			int ch = w->b[w->k];

			if (ch != 'l' && ch != 's' && ch != 'z')
				w->k--;
		} else {
			w->j = w->k;
			if (measure(w) == 1 && cvc(w, w->k))
				set_to(w, "e");
		}
	}
}

static void step1c(struct word *w)
{
	if (ends(w, "y") && vowel_in_stem(w))
		w->b[w->k] = 'i';
}

static void step2(struct word *w)
{
	static const struct sfx rules[][2] = {
		{ SFX("ational"), SFX("ate") }, { SFX("tional"), SFX("tion") }, { SFX("enci"), SFX("ence") }, { SFX("anci"), SFX("ance") },
		{ SFX("izer"), SFX("ize") }, { SFX("bli"), SFX("ble") }, { SFX("alli"), SFX("al") }, { SFX("entli"), SFX("ent") }, { SFX("eli"), SFX("e") },
		{ SFX("ousli"), SFX("ous") }, { SFX("ization"), SFX("ize") }, { SFX("ation"), SFX("ate") }, { SFX("ator"), SFX("ate") },
		{ SFX("alism"), SFX("al") }, { SFX("iveness"), SFX("ive") }, { SFX("fulness"), SFX("ful") }, { SFX("ousness"), SFX("ous") },
		{ SFX("aliti"), SFX("al") }, { SFX("iviti"), SFX("ive") }, { SFX("biliti"), SFX("ble") }, { SFX("logi"), SFX("log") },
	};
	size_t i;
	char last, pen;

	if (w->k < 1)
		return;
	/* as Porter's own code, look only at rules ending in the word's last two letters */
	last = w->b[w->k];
	pen = w->b[w->k - 1];
	for (i = 0; i < sizeof rules / sizeof rules[0]; i++) {
		const struct sfx *x = &rules[i][0];

		if (x->s[x->len - 1] != last || x->s[x->len - 2] != pen)
			continue;
		if (ends_sfx(w, x)) {
			replace_if_m(w, &rules[i][1]);
			return;
		}
	}
}

static void step3(struct word *w)
{
	static const struct sfx rules[][2] = {
		{ SFX("icate"), SFX("ic") }, { SFX("ative"), SFX("") }, { SFX("alize"), SFX("al") }, { SFX("iciti"), SFX("ic") },
		{ SFX("ical"), SFX("ic") }, { SFX("ful"), SFX("") }, { SFX("ness"), SFX("") },
	};
	size_t i;

	for (i = 0; i < sizeof rules / sizeof rules[0]; i++) {
		if (ends_sfx(w, &rules[i][0])) {
			replace_if_m(w, &rules[i][1]);
			return;
		}
	}
}

static void step4(struct word *w)
{
	static const struct sfx suffixes[] = {
		SFX("al"), SFX("ance"), SFX("ence"), SFX("er"), SFX("ic"), SFX("able"), SFX("ible"), SFX("ant"),
		SFX("ement"), SFX("ment"), SFX("ent"), SFX("ion"), SFX("ou"), SFX("ism"), SFX("ate"), SFX("iti"),
		SFX("ous"), SFX("ive"), SFX("ize"),
	};
	size_t i;
	char last, pen;

	if (w->k < 1)
		return;
	last = w->b[w->k];
	pen = w->b[w->k - 1];
	for (i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
		if (suffixes[i].s[suffixes[i].len - 1] != last || suffixes[i].s[suffixes[i].len - 2] != pen)
			continue;
		if (ends_sfx(w, &suffixes[i])) {
			if (suffixes[i].len == 3 && memcmp(suffixes[i].s, "ion", 3) == 0
			    && !(w->j >= 0 && (w->b[w->j] == 's' || w->b[w->j] == 't')))
				continue;
			/* "ement" before "ment" before "ent": the longest match decides */
			if (measure(w) > 1)
				w->k = w->j;
			return;
		}
	}
}

static void step5(struct word *w)
{
	w->j = w->k;
	if (w->b[w->k] == 'e') {
		int m = measure(w);

		if (m > 1 || (m == 1 && !cvc(w, w->k - 1)))
			w->k--;
	}
	if (w->b[w->k] == 'l' && double_cons(w, w->k) && measure(w) > 1)
		w->k--;
}

size_t stem_porter(char *b, size_t len)
{
	struct word w;

	if (len <= 2)
		return len;
	w.b = b;
	w.k = (int)len - 1;
	w.j = 0;
	step1ab(&w);
	if (w.k > 0) {
		step1c(&w);
		step2(&w);
		step3(&w);
		step4(&w);
		step5(&w);
	}
	return (size_t)w.k + 1;
}
