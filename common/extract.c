#include "extract.h"
#include "emb.h"
#include "tok.h"
#include "sent.h"
#include "u8.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
	uint64_t part[2];	/* a pair's characters */
};

/* One sentence as sent_each cuts it, and its shape. */
enum {
	R_LINE = 1,	/* alone on its line(s) */
	R_END_STOP = 2,	/* ends with a stop or a question mark */
	R_QUESTION = 4,
	R_COLON = 8,
	R_CODE = 16,
	R_LIST = 32,
	R_HEADING = 64,
	R_LOWER = 128,	/* begins with a lower-case ASCII letter */
	R_UPPER = 256,	/* with an upper-case one: a new sentence, after code */
	R_CONTENTS = 512	/* an entry of a table of contents, a page number: heads nothing here */
};

struct raw {
	size_t start, end;
	long chars;
	unsigned shape;
};

/* A candidate answer: one sentence, or a few that belong together. */
struct sentence {
	int passage;
	size_t start, end;
	size_t off, n;	/* its terms: hashes[off .. off + n), sorted */
	long chars;
	int holds;	/* EXT_WANT_* */
	int reference;	/* it points elsewhere */
	int no_answer;	/* a question: it counts for what the passages are about, no more */
	size_t head, nhead;	/* the terms of the heading before it: hashes[head .. head + nhead), sorted */
	double score, cover;
};

struct work {
	uint64_t *hashes;
	size_t nh, caph;
	int *kinds;	/* for the question's terms only */
	struct sentence *s;
	size_t ns, caps;
	struct raw *r;	/* the passage being cut */
	size_t nr, capr;
	int passage;
	const char *text;
	size_t len;
	const char *title;	/* of the passage being cut, or NULL */
	const char *question;
	size_t qlen;
	int wants;
	size_t subject, nsubject;	/* what the question asks the meaning of, in it */
	struct qterm *qt;	/* the question's terms, their df counted as sentences are cut */
	size_t nq;
	size_t nsent;		/* sentences cut */
	struct work *scratch;	/* the terms of the sentence being cut */
	size_t head, nhead;	/* the terms of the last heading of the passage being cut */
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

/* ---- the shape of a sentence: code, list items, headings ---- */

static int is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int is_alnum(int c)
{
	return is_alpha(c) || is_digit(c);
}

/* Can a code token start after byte c ("-x" after a space, "/usr" after a quote)? */
static int token_edge(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '"' || c == '\'' || c == '(' || c == '=' || c == '`'
	    || (c & 0x80);	/* after a non-ASCII character: a quote, CJK text */
}

/* Does s hold a path ("/usr/share", "~/.bashrc", "./x", "C:\texlive")? */
static int has_path(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		int edge = i == 0 || token_edge((unsigned char)s[i - 1]);

		if (s[i] == '/' && edge && i + 1 < n && (is_alnum((unsigned char)s[i + 1]) || s[i + 1] == '.'))
			return 1;
		if ((s[i] == '~' || s[i] == '.') && edge && i + 1 < n && s[i + 1] == '/')
			return 1;
		if (is_alpha((unsigned char)s[i]) && edge && i + 2 < n && s[i + 1] == ':' && s[i + 2] == '\\')
			return 1;
	}
	return 0;
}

/* Does s hold something only code has: a TeX command or a Windows path
 * (\x), an option (--x, -x), a path, =, braces, a pipe, <x>, a shell
 * variable ($x), snake_case, a call or a manual page (name(...))? */
static int has_code_token(const char *s, size_t n)
{
	size_t i;

	if (has_path(s, n))
		return 1;
	for (i = 0; i < n; i++) {
		int c = (unsigned char)s[i], next = i + 1 < n ? (unsigned char)s[i + 1] : 0;
		int edge = i == 0 || token_edge((unsigned char)s[i - 1]);

		if ((c == '\\' && is_alpha(next)) || c == '=' || c == '{' || c == '}' || c == '|')
			return 1;
		if (c == '-' && edge && (is_alpha(next) || (next == '-' && i + 2 < n && is_alpha((unsigned char)s[i + 2]))))
			return 1;
		if (c == '$' && (is_alpha(next) || next == '{' || next == '('))
			return 1;
		if (c == '<' && is_alpha(next) && memchr(s + i, '>', n - i))
			return 1;
		if (c == '_' && i > 0 && is_alnum((unsigned char)s[i - 1]) && is_alnum(next))
			return 1;
		if (c == '(' && i >= 2 && is_alnum((unsigned char)s[i - 1]) && is_alnum((unsigned char)s[i - 2])
		    && memchr(s + i, ')', n - i))
			return 1;
	}
	return 0;
}

static int starts(const char *s, size_t n, const char *lit)
{
	size_t k = strlen(lit);

	return n >= k && memcmp(s, lit, k) == 0;
}

/* The length of a listing's line number ("12 ") that s begins with. */
static size_t line_number(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && i < 4 && is_digit((unsigned char)s[i]))
		i++;
	if (i == 0 || i >= n || s[i] != ' ')
		return 0;
	while (i < n && s[i] == ' ')
		i++;
	return i;
}

/* Does s begin with a prompt: a shell's ("$ ls", "# mount"), an
 * interpreter's ("> x <- 1", ">>> import os")? */
static int has_prompt(const char *s, size_t n)
{
	size_t i = starts(s, n, ">>> ") ? 4 : 2;

	return n > i && (s[0] == '$' || s[0] == '#' || s[0] == '>') && s[i - 1] == ' ' && is_alpha((unsigned char)s[i]);
}

/* Is the sentence s a line of code: little CJK text, no ending of prose,
 * and (after a listing's line number) a code token, a shell prompt, or a
 * short line of lower-case ASCII words ("set boxwidth 0.5 relative")? */
static int is_code_line(const char *s, size_t n)
{
	size_t p = line_number(s, n), i = p, chars = 0, cjk = 0, words = 0;
	int32_t c = 0, last = 0;
	int ascii = 1;

	if (p == n)
		return 0;
	while (i < n) {
		i += u8_decode(s + i, n - i, &c, NULL);
		if (u8_is_space(c))
			continue;
		chars++;
		cjk += u8_is_cjk_letter(c) != 0;
		if (c >= 0x80)
			ascii = 0;
		last = c;
	}
	if (cjk * 4 > chars)
		return 0;
	if (last == ',' || last == 0xFF0C || last == 0x3001)
		return 0;
	if (sent_end_of(s, n) == SENT_STOP && (last == '.' || last == 0x3002 || last == '!' || last == 0xFF01))
		return 0;
	if (has_prompt(s + p, n - p) || has_code_token(s + p, n - p))
		return 1;
	if (!ascii || !(s[p] >= 'a' && s[p] <= 'z'))
		return 0;
	for (i = p; i < n; i++)
		if (s[i] == ' ' && i + 1 < n && s[i + 1] != ' ')
			words++;
	return words < 8;
}

/* Does s begin as an item of a list: a bullet, "1.", "2)", "3、", "(4)"? */
static int is_list_item(const char *s, size_t n)
{
	int32_t c;
	size_t i = 0, k = u8_decode(s, n, &c, NULL);

	if ((c == 0x2022 || c == 0x25E6 || c == 0x25AA || c == 0x25CF || c == 0x00B7 || c == 0x2013 || c == 0x2014
	     || c == '-' || c == '*') && k < n && u8_is_space((unsigned char)s[k]))
		return 1;
	if (starts(s, n, "("))
		i = 1;
	else if (starts(s, n, "\xef\xbc\x88"))	/* （ */
		i = 3;
	k = i;
	while (i < n && i < k + 3 && is_digit((unsigned char)s[i]))
		i++;
	if (i == k || i >= n)
		return 0;
	if (k > 0)
		return s[i] == ')' || starts(s + i, n - i, "\xef\xbc\x89");	/* ） */
	if (s[i] == ')' || s[i] == '.')
		return i + 1 < n && s[i + 1] == ' ';
	return starts(s + i, n - i, "\xe3\x80\x81");	/* 、 */
}

/* Does s hold clause punctuation (，, ；; 。) before its end? */
static int has_clause_mark(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		int32_t c;
		size_t k = u8_decode(s + i, n - i, &c, NULL);

		if (i + k < n && (c == 0xFF0C || c == 0xFF1B || c == 0x3002 || c == ';'
				  || (c == ',' && u8_is_space((unsigned char)s[i + k]))))
			return 1;
		i += k;
	}
	return 0;
}
/* ---- what a question asks for, and what a sentence holds ---- */

/* Phrases that say what is asked for. English ones match whole words,
 * case-insensitively; Chinese ones (simplified and traditional) anywhere. */
struct ask {
	const char *phrase;
	int wants;
	int wording;	/* the phrase only says how it asks ("how many", "如何"), not about what ("command") */
};

static const struct ask asks[] = {
	{ "how many", EXT_WANT_NUMBER, 1 }, { "how much", EXT_WANT_NUMBER, 1 }, { "how long", EXT_WANT_NUMBER, 1 },
	{ "how often", EXT_WANT_NUMBER, 1 }, { "how old", EXT_WANT_NUMBER, 1 }, { "how far", EXT_WANT_NUMBER, 1 },
	{ "how large", EXT_WANT_NUMBER, 1 }, { "how big", EXT_WANT_NUMBER, 1 }, { "how high", EXT_WANT_NUMBER, 1 },
	{ "how tall", EXT_WANT_NUMBER, 1 }, { "how wide", EXT_WANT_NUMBER, 1 }, { "how deep", EXT_WANT_NUMBER, 1 },
	{ "how fast", EXT_WANT_NUMBER, 1 }, { "what year", EXT_WANT_NUMBER, 0 }, { "which year", EXT_WANT_NUMBER, 0 },
	{ "when", EXT_WANT_NUMBER, 1 }, { "what percentage", EXT_WANT_NUMBER, 0 }, { "what size", EXT_WANT_NUMBER, 0 },
	{ "多少", EXT_WANT_NUMBER, 1 }, { "几", EXT_WANT_NUMBER, 1 }, { "幾", EXT_WANT_NUMBER, 1 },
	{ "多长", EXT_WANT_NUMBER, 1 }, { "多長", EXT_WANT_NUMBER, 1 }, { "多久", EXT_WANT_NUMBER, 1 },
	{ "多大", EXT_WANT_NUMBER, 1 }, { "多高", EXT_WANT_NUMBER, 1 }, { "多远", EXT_WANT_NUMBER, 1 },
	{ "多遠", EXT_WANT_NUMBER, 1 }, { "多重", EXT_WANT_NUMBER, 1 }, { "哪一年", EXT_WANT_NUMBER, 0 },
	{ "哪年", EXT_WANT_NUMBER, 0 }, { "何时", EXT_WANT_NUMBER, 1 }, { "何時", EXT_WANT_NUMBER, 1 },
	{ "什么时候", EXT_WANT_NUMBER, 1 }, { "什麼時候", EXT_WANT_NUMBER, 1 }, { "哪一天", EXT_WANT_NUMBER, 0 },

	{ "how do i", EXT_WANT_COMMAND, 1 }, { "how can i", EXT_WANT_COMMAND, 1 }, { "how should i", EXT_WANT_COMMAND, 1 },
	{ "how do you", EXT_WANT_COMMAND, 1 }, { "how can you", EXT_WANT_COMMAND, 1 }, { "how to", EXT_WANT_COMMAND, 1 },
	{ "how does one", EXT_WANT_COMMAND, 1 }, { "how would i", EXT_WANT_COMMAND, 1 }, { "command", EXT_WANT_COMMAND, 0 },
	{ "commands", EXT_WANT_COMMAND, 0 }, { "option", EXT_WANT_COMMAND, 0 }, { "options", EXT_WANT_COMMAND, 0 },
	{ "flag", EXT_WANT_COMMAND, 0 }, { "which function", EXT_WANT_COMMAND, 0 }, { "what function", EXT_WANT_COMMAND, 0 },
	{ "what line", EXT_WANT_COMMAND, 0 }, { "what do i type", EXT_WANT_COMMAND, 0 }, { "what do i put", EXT_WANT_COMMAND, 0 },
	{ "what do i write", EXT_WANT_COMMAND, 0 }, { "what do i run", EXT_WANT_COMMAND, 0 }, { "syntax", EXT_WANT_COMMAND, 0 },
	{ "如何", EXT_WANT_COMMAND, 1 }, { "怎么", EXT_WANT_COMMAND, 1 }, { "怎麼", EXT_WANT_COMMAND, 1 },
	{ "怎样", EXT_WANT_COMMAND, 1 }, { "怎樣", EXT_WANT_COMMAND, 1 }, { "命令", EXT_WANT_COMMAND, 0 },
	{ "指令", EXT_WANT_COMMAND, 0 }, { "选项", EXT_WANT_COMMAND, 0 }, { "選項", EXT_WANT_COMMAND, 0 },
	{ "参数", EXT_WANT_COMMAND, 0 }, { "參數", EXT_WANT_COMMAND, 0 }, { "语法", EXT_WANT_COMMAND, 0 },
	{ "語法", EXT_WANT_COMMAND, 0 },

	{ "who", EXT_WANT_NAME, 1 }, { "whom", EXT_WANT_NAME, 1 }, { "whose", EXT_WANT_NAME, 1 },
	{ "谁", EXT_WANT_NAME, 1 }, { "誰", EXT_WANT_NAME, 1 }, { "哪位", EXT_WANT_NAME, 1 },
	{ "什么人", EXT_WANT_NAME, 1 }, { "什麼人", EXT_WANT_NAME, 1 },

	{ "where", EXT_WANT_PATH, 1 }, { "which directory", EXT_WANT_PATH, 0 }, { "what directory", EXT_WANT_PATH, 0 },
	{ "which file", EXT_WANT_PATH, 0 }, { "what file", EXT_WANT_PATH, 0 }, { "which folder", EXT_WANT_PATH, 0 },
	{ "path", EXT_WANT_PATH, 0 }, { "哪里", EXT_WANT_PATH, 1 }, { "哪裡", EXT_WANT_PATH, 1 },
	{ "哪儿", EXT_WANT_PATH, 1 }, { "哪兒", EXT_WANT_PATH, 1 }, { "在哪", EXT_WANT_PATH, 1 },
	{ "目录", EXT_WANT_PATH, 0 }, { "目錄", EXT_WANT_PATH, 0 }, { "路径", EXT_WANT_PATH, 0 },
	{ "路徑", EXT_WANT_PATH, 0 }, { "哪个文件", EXT_WANT_PATH, 0 }, { "哪個檔案", EXT_WANT_PATH, 0 },
	{ "文件夹", EXT_WANT_PATH, 0 }, { "資料夾", EXT_WANT_PATH, 0 },
};

/* The question asks what X is ("What is X?", "什么是X？", "X是什么？"):
 * X's bytes in it, when X is a few words (and not "the Y of Z", "X的Y"). */
static int defined_subject(const char *q, size_t len, size_t *at, size_t *n)
{
	static const char *const before[] = { "what is a ", "what is an ", "what is the ", "what are the ", "what is ",
					      "what are ", "what's ", "什么是", "什麼是", "何谓", "何謂" };
	static const char *const after[] = { "是什么意思", "是什麼意思", "是干什么的", "是幹什麼的", "是指什么",
					     "是指什麼", "是什么", "是什麼", "指什么", "指什麼", "什么意思", "什麼意思" };
	size_t a = 0, b = len, i, words = 0;
	int cjk = 0;

	/* the question without its mark and white space */
	while (b > a) {
		size_t k = u8_back(q, b - 1);
		int32_t c;

		u8_decode(q + k, b - k, &c, NULL);
		if (!(u8_is_space(c) || c == '?' || c == 0xFF1F || c == '.' || c == 0x3002))
			break;
		b = k;
	}
	while (a < b && u8_is_space((unsigned char)q[a]))
		a++;
	for (i = 0; i < sizeof before / sizeof before[0]; i++)
		if (b - a > strlen(before[i]) && strncasecmp(q + a, before[i], strlen(before[i])) == 0) {
			a += strlen(before[i]);
			break;
		}
	if (i == sizeof before / sizeof before[0]) {
		for (i = 0; i < sizeof after / sizeof after[0]; i++) {
			size_t k = strlen(after[i]);

			if (b - a > k && memcmp(q + b - k, after[i], k) == 0) {
				b -= k;
				cjk = 1;
				break;
			}
		}
		if (i == sizeof after / sizeof after[0])
			return 0;
	}
	while (a < b && q[a] == ' ')
		a++;
	while (b > a && q[b - 1] == ' ')
		b--;
	if (a == b || u8_count(q + a, b - a) > EXT_SUBJECT_CHARS)
		return 0;
	for (i = a; i < b; i++)
		words += q[i] == ' ';
	if (words >= 4 || memmem(q + a, b - a, " of ", 4) || (cjk && memmem(q + a, b - a, "的", 3)))
		return 0;
	*at = a;
	*n = b - a;
	return 1;
}

/* Does s say what subject is: begin "subject is ...", "A subject is ...",
 * "subject（...）是...", or hold "... 称为 subject", "... called subject"? */
static int defines(const char *s, size_t n, const char *subject, size_t len)
{
	static const char *const articles[] = { "a ", "an ", "the " };
	static const char *const is[] = { "is ", "are ", "refers to", "means ", "stands for", "是", "指", "即",
					  "就是", "称", "稱", "叫" };
	static const char *const called[] = { "称为", "稱為", "叫做", "叫作", "called ", "known as " };
	size_t i, j, k;

	if (len == 0)
		return 0;
	for (i = 0; i + len <= n; i++) {
		if (strncasecmp(s + i, subject, len) != 0)
			continue;
		for (k = i; k > 0 && s[k - 1] == ' '; k--)
			;
		for (j = 0; j < sizeof called / sizeof called[0]; j++)
			if (k >= strlen(called[j]) && memcmp(s + k - strlen(called[j]), called[j], strlen(called[j])) == 0)
				return 1;
	}
	k = 0;
	for (j = 0; j < sizeof articles / sizeof articles[0]; j++)
		if (n >= strlen(articles[j]) && strncasecmp(s, articles[j], strlen(articles[j])) == 0)
			k = strlen(articles[j]);
	if (k + len > n || strncasecmp(s + k, subject, len) != 0)
		return 0;
	k += len;
	if (k < n && (s[k] == 's' || s[k] == 'S') && len > 0 && is_alpha((unsigned char)subject[len - 1]))
		k++;	/* "Keys are" */
	while (k < n && s[k] == ' ')
		k++;
	/* "DenseNet (dense network) is", "稠密网络（DenseNet）是" */
	if (k < n && (s[k] == '(' || starts(s + k, n - k, "\xef\xbc\x88"))) {
		size_t e = k;

		while (e < n && e < k + 60 && s[e] != ')' && !starts(s + e, n - e, "\xef\xbc\x89"))
			e++;
		if (e < n && e < k + 60)
			k = e + (s[e] == ')' ? 1 : 3);
		while (k < n && s[k] == ' ')
			k++;
	}
	for (j = 0; j < sizeof is / sizeof is[0]; j++)
		if (starts(s + k, n - k, is[j]))
			return 1;
	return 0;
}

/* Phrases that hold a word of asks[] without asking for it. */
static const char *const not_asks[] = { "几乎", "幾乎", "茶几", "茶幾" };

/* Does the ASCII-lowered s hold phrase, as whole words when it is ASCII? */
static int has_phrase(const char *s, size_t n, const char *phrase)
{
	size_t k = strlen(phrase), i;
	int ascii = (unsigned char)phrase[0] < 0x80;

	for (i = 0; i + k <= n; i++) {
		if (memcmp(s + i, phrase, k) != 0)
			continue;
		if (!ascii)
			return 1;
		if ((i == 0 || !is_alnum((unsigned char)s[i - 1])) && (i + k == n || !is_alnum((unsigned char)s[i + k])))
			return 1;
	}
	return 0;
}

/* The question lower-cased (ASCII), the phrases that ask for nothing
 * ("几乎") blanked out; NULL when memory ran out. */
static char *lowered(const char *question, size_t len)
{
	char *low = malloc(len + 1);
	size_t i, j;

	if (low == NULL)
		return NULL;
	for (i = 0; i < len; i++)
		low[i] = question[i] >= 'A' && question[i] <= 'Z' ? (char)(question[i] - 'A' + 'a') : question[i];
	low[len] = '\0';
	for (j = 0; j < sizeof not_asks / sizeof not_asks[0]; j++) {
		size_t k = strlen(not_asks[j]);

		for (i = 0; i + k <= len; i++)
			if (memcmp(low + i, not_asks[j], k) == 0)
				memset(low + i, ' ', k);
	}
	return low;
}

int ext_wants(const char *question, size_t len)
{
	char *low = lowered(question, len);
	size_t i, j;
	int wants = 0;

	if (low == NULL)
		return 0;
	for (j = 0; j < sizeof asks / sizeof asks[0]; j++)
		if (!(wants & asks[j].wants) && has_phrase(low, len, asks[j].phrase))
			wants |= asks[j].wants;
	free(low);
	if (defined_subject(question, len, &i, &j))
		wants |= EXT_WANT_DEFINITION;
	return wants;
}

struct mute {
	struct qterm *qt;
	size_t nq;
};

static int mute_term(void *ctx, enum tok_kind kind, const char *term, size_t len, size_t start, size_t end)
{
	struct mute *m = ctx;
	uint64_t hash = emb_lex_hash(kind, term, len);
	size_t j;

	(void)start;
	(void)end;
	for (j = 0; j < m->nq; j++)
		if (m->qt[j].hash == hash && m->qt[j].w > EXT_WORDING_WEIGHT)
			m->qt[j].w = EXT_WORDING_WEIGHT;
	return 0;
}

/* The words that only say how the question asks ("how many", "如何")
 * count as little as those every question has: the answer need not
 * repeat them. -1 when memory ran out. */
static int mute_wording(const char *question, size_t len, struct qterm *qt, size_t nq)
{
	char *low = lowered(question, len);
	struct mute m = { qt, nq };
	size_t j;
	int r = 0;

	if (low == NULL)
		return -1;
	for (j = 0; j < sizeof asks / sizeof asks[0] && r == 0; j++)
		if (asks[j].wording && has_phrase(low, len, asks[j].phrase))
			r = tok_each(asks[j].phrase, strlen(asks[j].phrase), TOK_STEM, mute_term, &m);
	free(low);
	return r;
}

static int is_cjk_numeral(int32_t c)
{
	static const int32_t numerals[] = { 0x4E00, 0x4E8C, 0x4E09, 0x56DB, 0x4E94, 0x516D, 0x4E03, 0x516B, 0x4E5D,
					    0x5341, 0x767E, 0x5343, 0x4E07, 0x842C, 0x4EBF, 0x5104, 0x4E24, 0x5169,
					    0x96F6, 0x3007 };	/* 一二三四五六七八九十百千万萬亿億两兩零〇 */
	size_t i;

	for (i = 0; i < sizeof numerals / sizeof numerals[0]; i++)
		if (c == numerals[i])
			return 1;
	return 0;
}

static const char *const number_words[] = {
	"two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen",
	"fifteen", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety", "hundred",
	"thousand", "million", "billion", "dozen", "half", "twice", "once",
};

/* Does s hold a number the question does not: digits, Chinese numerals
 * (not a lone 一, most often "a"), a number word? Section numbers
 * ("6.3.8") and page references ("p. 44") are not what is asked for. */
static int has_new_number(const char *s, size_t n, const char *q, size_t qlen)
{
	size_t i = 0, j;

	while (i < n) {
		int32_t c;
		size_t k = u8_decode(s + i, n - i, &c, NULL), a = i, b, dots = 0, cjk = 0, one = 0;

		if (!is_digit(c) && !is_cjk_numeral(c)) {
			if (is_alpha(c) && (i == 0 || !is_alpha((unsigned char)s[i - 1]))) {
				for (b = i; b < n && is_alpha((unsigned char)s[b]); b++)
					;
				for (j = 0; j < sizeof number_words / sizeof number_words[0]; j++)
					if (strlen(number_words[j]) == b - i && strncasecmp(s + i, number_words[j], b - i) == 0
					    && !memmem(q, qlen, s + i, b - i))
						return 1;
				i = b;
				continue;
			}
			i += k;
			continue;
		}
		/* the whole run: 1977, 3.14, 6.3.8, 二十五 */
		b = i;
		while (b < n) {
			k = u8_decode(s + b, n - b, &c, NULL);
			if (is_digit(c))
				b += k;
			else if (is_cjk_numeral(c)) {
				cjk++;
				one += c == 0x4E00;
				b += k;
			} else if (c == '.' && b + 1 < n && is_digit((unsigned char)s[b + 1]) && b > a
				   && is_digit((unsigned char)s[b - 1])) {
				dots++;
				b++;
			} else
				break;
		}
		i = b;
		if (dots >= 2 || (cjk > 0 && cjk == one && b - a == 3))
			continue;
		if (a >= 3 && (memcmp(s + a - 3, "p. ", 3) == 0 || memcmp(s + a - 3, "\xe7\xaf\x80", 3) == 0
			       || memcmp(s + a - 3, "\xe8\x8a\x82", 3) == 0))
			continue;	/* p. 44, 節 9.5, 节 2.1 */
		if (a >= 4 && (memcmp(s + a - 4, "\xe7\xaf\x80 ", 4) == 0 || memcmp(s + a - 4, "\xe8\x8a\x82 ", 4) == 0))
			continue;
		if (!memmem(q, qlen, s + a, b - a))
			return 1;
	}
	return 0;
}

/* Does the question hold word (ASCII, in any case)? */
static int question_has(const char *q, size_t qlen, const char *word, size_t len)
{
	size_t i;

	for (i = 0; i + len <= qlen; i++)
		if (strncasecmp(q + i, word, len) == 0)
			return 1;
	return 0;
}

/* Does s hold a name the question does not: a Latin word in CJK text
 * ("syntonly", "TeXShop"), a capitalised word past the first in Latin
 * text ("Leslie Lamport"), a transliterated name ("列夫·托尔斯泰")? */
static int has_new_name(const char *s, size_t n, const char *q, size_t qlen)
{
	size_t i, b;

	for (i = 0; i < n; i = b) {
		int cjk_before = 0, cjk_after = 0;
		size_t k;

		b = i + 1;
		if (i + 2 < n && memcmp(s + i, "\xc2\xb7", 2) == 0 && i > 0 && (s[i - 1] & 0x80) && (s[i + 2] & 0x80))
			return 1;
		if (!is_alpha((unsigned char)s[i]) || (i > 0 && is_alnum((unsigned char)s[i - 1])))
			continue;
		while (b < n && is_alnum((unsigned char)s[b]))
			b++;
		if (b - i < 2 || question_has(q, qlen, s + i, b - i))
			continue;
		for (k = i; k > 0 && s[k - 1] == ' '; k--)
			;
		cjk_before = k > 0 && (s[k - 1] & 0x80);
		for (k = b; k < n && s[k] == ' '; k++)
			;
		cjk_after = k < n && (s[k] & 0x80);
		if (cjk_before || cjk_after || (i > 0 && s[i] >= 'A' && s[i] <= 'Z'))
			return 1;
	}
	return 0;
}

/* Is s a pointer elsewhere ("See set xrange (p. 226).", "參見節 9.5.11")
 * rather than something said? */
static int is_reference(const char *s, size_t n)
{
	static const char *const sees[] = { "See ", "see ", "参见", "參見", "详见", "詳見", "请参考", "請參考",
					    "请参见", "請參見", "请参阅", "請參閱" };
	size_t i;

	for (i = 0; i < sizeof sees / sizeof sees[0]; i++)
		if (starts(s, n, sees[i]))
			return u8_count(s, n) <= EXT_REFERENCE_CHARS;
	return 0;
}

/* ---- cutting a passage into candidates ---- */

/* Do dot leaders ("Ternary . . . . 43") follow the sentence that ends at
 * end of t? */
static int dot_leader(const char *t, size_t len, size_t end)
{
	size_t i = end;

	while (i < len && t[i] == ' ')
		i++;
	return i + 2 < len && t[i] == '.' && (t[i + 1] == ' ' || t[i + 1] == '.') && t[i + 2] == '.';
}

/* Does s hold a letter (not only digits and marks: "43", "3.1")? */
static int has_letter(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		int32_t c;
		size_t k = u8_decode(s + i, n - i, &c, NULL);

		if (is_alpha(c) || u8_is_cjk_letter(c) || (c >= 0x80 && !u8_is_cjk(c) && !u8_is_space(c)))
			return 1;
		i += k;
	}
	return 0;
}

static int add_raw(void *ctx, size_t start, size_t end)
{
	struct work *w = ctx;
	const char *t = w->text, *s = t + start;
	size_t n = end - start, a = start, b = end, i, j;
	struct raw *r;
	enum sent_end e;

	/* a chunk that begins with its heading: the heading is no answer */
	if (w->title && n == strlen(w->title) && memcmp(s, w->title, n) == 0)
		return 0;
	if (w->nr == w->capr) {
		size_t cap = w->capr ? w->capr * 2 : 64;
		struct raw *v = realloc(w->r, cap * sizeof *v);

		if (v == NULL)
			return -1;
		w->r = v;
		w->capr = cap;
	}
	/* how many sentences hold each term of the question */
	w->nsent++;
	w->scratch->nh = 0;
	if (emb_lex_terms(s, n, add_hash, w->scratch) < 0)
		return -1;
	for (j = 0; j < w->nq; j++)
		for (i = 0; i < w->scratch->nh; i++)
			if (w->scratch->hashes[i] == w->qt[j].hash) {
				w->qt[j].df++;
				break;
			}
	r = &w->r[w->nr++];
	r->start = start;
	r->end = end;
	r->chars = (long)u8_count(s, n);
	r->shape = 0;
	while (a > 0 && (t[a - 1] == ' ' || t[a - 1] == '\t' || t[a - 1] == '\r'))
		a--;
	while (b < w->len && (t[b] == ' ' || t[b] == '\t' || t[b] == '\r'))
		b++;
	if ((a == 0 || t[a - 1] == '\n') && (b == w->len || t[b] == '\n'))
		r->shape |= R_LINE;
	e = sent_end_of(s, n);
	if (e == SENT_STOP || e == SENT_QUESTION)
		r->shape |= R_END_STOP;
	if (e == SENT_QUESTION)
		r->shape |= R_QUESTION;
	if (e == SENT_COLON)
		r->shape |= R_COLON;
	if (is_code_line(s, n))
		r->shape |= R_CODE;
	if (is_list_item(s, n))
		r->shape |= R_LIST;
	if (s[0] >= 'a' && s[0] <= 'z')
		r->shape |= R_LOWER;
	if (s[0] >= 'A' && s[0] <= 'Z')
		r->shape |= R_UPPER;
	/* a short line of its own that does not end as a sentence does; an
	 * entry of a table of contents ("Ternary . . . . 43"); a page number */
	if ((r->shape & R_LINE) && e == SENT_OPEN && !(r->shape & (R_CODE | R_LIST)) && r->chars <= EXT_HEADING_CHARS
	    && !has_clause_mark(s, n))
		r->shape |= R_HEADING;
	if (dot_leader(t, w->len, end) || !has_letter(s, n))
		r->shape |= R_HEADING | R_CONTENTS;
	return 0;
}

/* Does raw sentence b go on from a, in one candidate? listing: a lead-in
 * began a list; open: a sentence began before a and has not ended. */
static int goes_on(const struct raw *a, const struct raw *b, int listing, int open)
{
	if (a->shape & R_COLON)
		return 1;	/* a lead-in takes what follows it */
	if (listing && (a->shape & R_LIST) && (b->shape & R_LIST))
		return 1;	/* the rest of the list a lead-in began */
	if (a->shape & (R_END_STOP | R_COLON))
		return 0;
	/* a did not end: the code it leads in ("The command" "set minussign"),
	 * the words that go on after a line of code or a break in the layout
	 * ("causes gprintf() to..."), or the rest of its sentence; but a
	 * heading only leads in code */
	if (b->shape & R_CODE)
		return 1;
	if (a->shape & R_HEADING)
		return 0;
	if (b->shape & R_LOWER)
		return 1;
	if (b->shape & (R_LIST | R_HEADING))
		return 0;
	if (a->shape & R_CODE)
		return open && !(b->shape & R_UPPER);	/* "使用" "\CJKnospace" "则进入 CJK* 模式" */
	return !(a->shape & R_LIST);
}

static int has_code(const struct work *w, size_t a, size_t b)
{
	size_t i;

	for (i = a; i <= b; i++)
		if (w->r[i].shape & R_CODE)
			return 1;
	return has_code_token(w->text + w->r[a].start, w->r[b].end - w->r[a].start);
}

static int all_code(const struct work *w, size_t a, size_t b)
{
	size_t i;

	for (i = a; i <= b; i++)
		if (!(w->r[i].shape & R_CODE))
			return 0;
	return 1;
}

static long chars_of(const struct work *w, size_t a, size_t b)
{
	long n = 0;
	size_t i;

	for (i = a; i <= b; i++)
		n += w->r[i].chars;
	return n;
}

/* The candidate of raw sentences a..b, unless it is no answer. */
static int add_candidate(struct work *w, size_t a, size_t b)
{
	const struct raw *last = &w->r[b];
	struct sentence *s;
	size_t off = w->nh, start = w->r[a].start, end = last->end;
	int bare;

	if (a == b && (last->shape & R_HEADING)) {
		/* a heading is no answer, but it says what follows is about */
		if (!(last->shape & R_CONTENTS)) {
			w->head = w->nh;
			if (emb_lex_terms(w->text + start, end - start, add_hash, w) < 0)
				return -1;
			w->nhead = w->nh - w->head;
			qsort(w->hashes + w->head, w->nhead, sizeof *w->hashes, cmp_u64);
		}
		return 0;
	}
	if (last->shape & R_COLON)
		return 0;	/* a lead-in with nothing after it */
	bare = !(w->wants & EXT_WANT_COMMAND) && all_code(w, a, b);
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
	s->chars = chars_of(w, a, b);
	s->head = w->head;
	s->nhead = w->nhead;
	/* a question is no answer either, nor a bare line of code unless
	 * code is asked for; but they too say what the passage is about */
	s->no_answer = (last->shape & R_QUESTION) || bare;
	qsort(w->hashes + off, s->n, sizeof *w->hashes, cmp_u64);
	if (has_code(w, a, b))
		s->holds |= EXT_WANT_COMMAND;
	if (has_new_number(w->text + start, end - start, w->question, w->qlen))
		s->holds |= EXT_WANT_NUMBER;
	if (has_new_name(w->text + start, end - start, w->question, w->qlen))
		s->holds |= EXT_WANT_NAME;
	if (has_path(w->text + start, end - start))
		s->holds |= EXT_WANT_PATH;
	if (defines(w->text + start, end - start, w->question + w->subject, w->nsubject))
		s->holds |= EXT_WANT_DEFINITION;
	s->reference = is_reference(w->text + start, end - start);
	return 0;
}

/* The candidates of one passage: its sentences, each with what must go
 * with it (see extract.h). */
static int cut_passage(struct work *w, const char *text, size_t len)
{
	size_t i = 0, a = 0, b = 0;
	int have = 0;

	w->text = text;
	w->len = len;
	w->nr = 0;
	w->nhead = 0;
	if (sent_each(text, len, add_raw, w) < 0)
		return -1;
	while (i < w->nr) {
		size_t ua = i, ub = i;
		int listing = (w->r[i].shape & R_COLON) != 0;
		long chars = w->r[i].chars;

		int open = !(w->r[i].shape & (R_END_STOP | R_COLON | R_CODE));

		while (ub + 1 < w->nr && goes_on(&w->r[ub], &w->r[ub + 1], listing, open)) {
			if (chars + w->r[ub + 1].chars > EXT_UNIT_CHARS)
				break;	/* a lead-in left alone this way is no answer */
			ub++;
			chars += w->r[ub].chars;
			if (w->r[ub].shape & R_COLON)
				listing = 1;
			if (!(w->r[ub].shape & R_CODE))
				open = !(w->r[ub].shape & (R_END_STOP | R_COLON));
		}
		i = ub + 1;
		/* asked how to do something: the code after a sentence goes
		 * with it, and so does the sentence after code, unless a
		 * sentence led the code in and this one begins as a new English
		 * one does (Chinese text most often goes on to say what the code
		 * does) */
		if (have && (w->wants & EXT_WANT_COMMAND) && chars_of(w, a, b) + chars <= EXT_UNIT_CHARS
		    && ((all_code(w, ua, ub) && !all_code(w, a, b))
			|| ((w->r[b].shape & R_CODE) && !has_code(w, ua, ub)
			    && (all_code(w, a, b) || !(w->r[ua].shape & R_UPPER))))) {
			b = ub;
			continue;
		}
		if (have && add_candidate(w, a, b) < 0)
			return -1;
		a = ua;
		b = ub;
		have = 1;
	}
	if (have && add_candidate(w, a, b) < 0)
		return -1;
	return 0;
}

/* Does the candidate say nothing the question does not? */
static int echoes(const struct work *w, const struct sentence *s, const struct qterm *qt, size_t nq)
{
	const uint64_t *h = w->hashes + s->off;
	size_t i, j;

	for (i = 0; i < s->n; i++) {
		for (j = 0; j < nq && qt[j].hash != h[i]; j++)
			;
		if (j == nq)
			return 0;
	}
	return 1;
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

struct qterms {
	struct qterm *t;
	size_t n, cap;
};

static int add_qterm(void *ctx, enum tok_kind kind, const char *term, size_t len, size_t start, size_t end)
{
	struct qterms *q = ctx;
	uint64_t hash = emb_lex_hash(kind, term, len);
	struct qterm *t;
	size_t i;

	(void)start;
	(void)end;
	for (i = 0; i < q->n; i++)
		if (q->t[i].hash == hash)
			return 0;
	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 32;
		struct qterm *v = realloc(q->t, cap * sizeof *v);

		if (v == NULL)
			return -1;
		q->t = v;
		q->cap = cap;
	}
	t = &q->t[q->n++];
	memset(t, 0, sizeof *t);
	t->hash = hash;
	t->kind = kind;
	t->w = emb_lex_question_term_weight(hash, kind);
	if (kind == TOK_BIGRAM) {
		int32_t c;
		size_t k = u8_decode(term, len, &c, NULL);

		t->part[0] = emb_lex_hash(TOK_UNIGRAM, term, k);
		t->part[1] = emb_lex_hash(TOK_UNIGRAM, term + k, len - k);
		/* two characters every question has make no word it is about: "么是" */
		if (emb_lex_question_term_weight(t->part[0], TOK_UNIGRAM) <= EXT_COMMON_WEIGHT
		    && emb_lex_question_term_weight(t->part[1], TOK_UNIGRAM) <= EXT_COMMON_WEIGHT && t->w > EXT_WORDING_WEIGHT)
			t->w = EXT_WORDING_WEIGHT;
	}
	return 0;
}

/* The question's distinct terms, with their weights before rarity. */
static int question_terms(const char *q, size_t qlen, struct qterm **out, size_t *nout)
{
	struct qterms t = { 0 };

	if (tok_each(q, qlen, TOK_STEM, add_qterm, &t) < 0) {
		free(t.t);
		return -1;
	}
	if (t.t == NULL && (t.t = calloc(1, sizeof *t.t)) == NULL)
		return -1;
	*out = t.t;
	*nout = t.n;
	return 0;
}

/* How many sentences hold the question's term hash (0 when it is none of them). */
static size_t df_of(const struct qterm *qt, size_t nq, uint64_t hash)
{
	size_t j;

	for (j = 0; j < nq; j++)
		if (qt[j].hash == hash)
			return qt[j].df;
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
	struct work w = { 0 }, tw = { 0 }, sw = { 0 };
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
	if (mute_wording(question, qlen, qt, nq) < 0)
		goto out;
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
	w.question = question;
	w.qlen = qlen;
	w.qt = qt;
	w.nq = nq;
	w.scratch = &sw;
	w.wants = ext_wants(question, qlen);
	if (!defined_subject(question, qlen, &w.subject, &w.nsubject))
		w.nsubject = 0;
	for (i = 0; i < n; i++) {
		w.passage = (int)i;
		w.title = titles ? titles[i] : NULL;
		if (cut_passage(&w, texts[i], lens[i]) < 0)
			goto out;
	}
	if (w.ns == 0 || nq == 0) {
		r = 0;
		goto out;
	}
	/* rarity among the sentences (not the candidates, whose number
	 * depends on how many went together) */
	for (j = 0; j < nq; j++) {
		qt[j].q = qt[j].w * log(1 + ((double)w.nsent - (double)qt[j].df + 0.5) / ((double)qt[j].df + 0.5));
		/* a pair of characters found nowhere, each of them found, is most
		 * often the end of one word and the start of the next ("設成",
		 * "列的"): the question's wording, not what it asks about */
		if (qt[j].kind == TOK_BIGRAM && qt[j].df == 0 && df_of(qt, nq, qt[j].part[0]) > 0
		    && df_of(qt, nq, qt[j].part[1]) > 0)
			qt[j].q = 0;
		/* nor is a word every question has, that no sentence has */
		if (qt[j].df == 0 && qt[j].w <= EXT_COMMON_WEIGHT)
			qt[j].q = 0;
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
		double norm = EXT_K1 * (1 - EXT_B + EXT_B * (double)s->n / avgdl), sum = 0, cov = 0, tcov = 0;

		for (j = 0; j < nq; j++) {
			double tf = (double)term_freq(&w, s, qt[j].hash);
			int titled = in_title(tw.hashes + toff[s->passage], toff[s->passage + 1] - toff[s->passage],
					      qt[j].hash);

			if (tf > 0) {
				sum += (titled ? EXT_TITLE_WEIGHT : 1) * qt[j].q * tf * (EXT_K1 + 1) / (tf + norm);
				cov += qt[j].q;
			} else if (titled || in_title(w.hashes + s->head, s->nhead, qt[j].hash)) {
				tcov += qt[j].q;
			}
		}
		/* what the question asks about is there when the sentence, or
		 * the title of the passage it matches or the heading before it,
		 * has it */
		if (sum > 0)
			cov += tcov;
		/* a passage whose title is what the question asks about is the
		 * place to look; and when the question asks only about that
		 * ("What is DenseNet?"), its first sentence most often says */
		if (sum > 0)
			sum += EXT_TITLE_BONUS * title_q[s->passage];
		if ((i == 0 || w.s[i - 1].passage != s->passage) && content > 0
		    && title_content[s->passage] >= content * (1 - 1e-9))
			sum *= 1 + EXT_LEAD_BONUS;
		/* the sentence that holds what is asked for: a number, a command... */
		if (s->holds & w.wants)
			sum *= 1 + EXT_WANT_BONUS;
		if (s->reference)
			sum *= EXT_REFERENCE_WEIGHT;
		/* the question said back is no answer, but it says the
		 * passages are about the question */
		if (s->no_answer || echoes(&w, s, qt, nq))
			sum = 0;
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
	free(w.r);
	free(sw.hashes);
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

/* Append s, each run of white space that holds a line break made one
 * space, or none between CJK characters: a candidate can span lines. */
static int put_clean(sb *out, const char *s, size_t len)
{
	size_t i = 0;
	int32_t prev = 0;

	while (i < len) {
		int32_t c, next = 0;
		size_t k = u8_decode(s + i, len - i, &c, NULL), j = i;
		int brk = 0;

		if (!u8_is_space(c)) {
			if (sb_append(out, s + i, k) < 0)
				return -1;
			prev = c;
			i += k;
			continue;
		}
		while (j < len) {
			k = u8_decode(s + j, len - j, &c, NULL);
			if (!u8_is_space(c))
				break;
			brk |= c == '\n' || c == '\r';
			j += k;
		}
		if (!brk) {
			if (sb_append(out, s + i, j - i) < 0)
				return -1;
		} else {
			if (j < len)
				u8_decode(s + j, len - j, &next, NULL);
			if (!(u8_is_cjk(prev) && u8_is_cjk(next)) && sb_putc(out, ' ') < 0)
				return -1;
		}
		i = j;
	}
	return 0;
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
			if (put_clean(out, t + p->start, at - p->start) < 0 || sb_putc(out, ' ') < 0 || sb_puts(out, mark) < 0
			    || sb_append(out, t + at, end - at) < 0)
				return -1;
			continue;
		}
		if (put_clean(out, t + p->start, end - p->start) < 0 || (!u8_is_cjk(c) && sb_putc(out, ' ') < 0)
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
