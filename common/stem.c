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

static int ends(struct word *w, const char *s)
{
	int len = (int)strlen(s);

	if (len > w->k + 1 || memcmp(w->b + w->k - len + 1, s, (size_t)len) != 0)
		return 0;
	w->j = w->k - len;
	return 1;
}

static void set_to(struct word *w, const char *s)
{
	int len = (int)strlen(s);

	memcpy(w->b + w->j + 1, s, (size_t)len);
	w->k = w->j + len;
}

static void replace_if_m(struct word *w, const char *s)
{
	if (measure(w) > 0)
		set_to(w, s);
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
	static const char *const rules[][2] = {
		{ "ational", "ate" }, { "tional", "tion" }, { "enci", "ence" }, { "anci", "ance" },
		{ "izer", "ize" }, { "bli", "ble" }, { "alli", "al" }, { "entli", "ent" }, { "eli", "e" },
		{ "ousli", "ous" }, { "ization", "ize" }, { "ation", "ate" }, { "ator", "ate" },
		{ "alism", "al" }, { "iveness", "ive" }, { "fulness", "ful" }, { "ousness", "ous" },
		{ "aliti", "al" }, { "iviti", "ive" }, { "biliti", "ble" }, { "logi", "log" },
	};
	size_t i;

	if (w->k < 1)
		return;
	for (i = 0; i < sizeof rules / sizeof rules[0]; i++) {
		if (ends(w, rules[i][0])) {
			replace_if_m(w, rules[i][1]);
			return;
		}
	}
}

static void step3(struct word *w)
{
	static const char *const rules[][2] = {
		{ "icate", "ic" }, { "ative", "" }, { "alize", "al" }, { "iciti", "ic" },
		{ "ical", "ic" }, { "ful", "" }, { "ness", "" },
	};
	size_t i;

	for (i = 0; i < sizeof rules / sizeof rules[0]; i++) {
		if (ends(w, rules[i][0])) {
			replace_if_m(w, rules[i][1]);
			return;
		}
	}
}

static void step4(struct word *w)
{
	static const char *const suffixes[] = {
		"al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent",
		"ion", "ou", "ism", "ate", "iti", "ous", "ive", "ize",
	};
	size_t i;

	if (w->k < 1)
		return;
	for (i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
		if (ends(w, suffixes[i])) {
			if (strcmp(suffixes[i], "ion") == 0 && !(w->j >= 0 && (w->b[w->j] == 's' || w->b[w->j] == 't')))
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
