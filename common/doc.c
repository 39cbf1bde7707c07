#include "doc.h"
#include "msg.h"
#include "sb.h"
#include "txt.h"
#include "u8.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mupdf/fitz.h>

#define HEAD_BYTES 4096
#define TAIL_BYTES 65536
/* Pages looked at on each side when deciding what is a running header. */
#define FURNITURE_WINDOW 4
/* Lines at the top and bottom of a page that may be headers or footers. */
#define FURNITURE_ZONE 3
#define FURNITURE_MAX_KEY 100
/* Reflowable formats are laid out on tall pages so that few paragraphs are
 * cut by a page break that the document does not have. */
#define REFLOW_WIDTH 600
#define REFLOW_HEIGHT 20000
#define REFLOW_EM 12

/* ---- format recognition ---- */

static const char *skip_prolog(const char *p, const char *e)
{
	/* BOM, white space, an XML declaration, comments, a doctype */
	if (e - p >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	for (;;) {
		while (p < e && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
			p++;
		if (e - p >= 5 && memcmp(p, "<?xml", 5) == 0) {
			const char *q = memmem(p, (size_t)(e - p), "?>", 2);

			if (q == NULL)
				return e;
			p = q + 2;
		} else if (e - p >= 4 && memcmp(p, "<!--", 4) == 0) {
			const char *q = memmem(p, (size_t)(e - p), "-->", 3);

			if (q == NULL)
				return e;
			p = q + 3;
		} else {
			return p;
		}
	}
}

static int has_suffix(const char *name, const char *suffix)
{
	size_t n = strlen(name), s = strlen(suffix);

	return n >= s && strcasecmp(name + n - s, suffix) == 0;
}

static int looks_like_text(const char *head, size_t len)
{
	size_t i, ctrl = 0, valid;

	if (memchr(head, '\0', len) != NULL)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)head[i];

		if (c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f' && c != 0x1b)
			ctrl++;
	}
	if (ctrl * 100 > len)
		return 0;
	/* mostly valid UTF-8 (a cut at the end of the sample is fine) */
	valid = 0;
	for (i = 0; i < len;) {
		int32_t cp;
		int bad = 0;
		size_t n = u8_decode(head + i, len - i, &cp, &bad);

		if (!bad)
			valid += n;
		i += n;
	}
	return len == 0 || valid * 10 >= len * 9;
}

enum doc_format doc_sniff(const char *head, size_t headlen, const char *tail, size_t taillen,
			  const char *name)
{
	const char *p, *e = head + headlen;

	if (headlen >= 5 && memmem(head, headlen < 1024 ? headlen : 1024, "%PDF-", 5) != NULL)
		return DOC_PDF;
	if (headlen >= 4 && memcmp(head, "PK\x03\x04", 4) == 0) {
		if (headlen >= 58 && memcmp(head + 30, "mimetypeapplication/epub+zip", 28) == 0)
			return DOC_EPUB;
		if (memmem(tail, taillen, ".fpage", 6) || memmem(tail, taillen, ".fdseq", 6)
		    || memmem(tail, taillen, "FixedDocumentSequence", 21))
			return DOC_XPS;
		if (memmem(tail, taillen, "META-INF/container.xml", 22) && memmem(tail, taillen, ".opf", 4))
			return DOC_EPUB;
		/* before the comic-book test: an Office file holds pictures too */
		if ((headlen >= 65 && memcmp(head + 30, "mimetypeapplication/vnd.oasis.opendocument", 42) == 0)
		    || memmem(tail, taillen, "word/document.xml", 17) || memmem(tail, taillen, "xl/workbook.xml", 15)
		    || memmem(tail, taillen, "ppt/presentation.xml", 20))
			return DOC_OFFICE;
		if (memmem(tail, taillen, ".jpg", 4) || memmem(tail, taillen, ".png", 4)
		    || memmem(tail, taillen, ".jpeg", 5))
			return DOC_CBZ;
		return DOC_UNKNOWN;
	}
	if (headlen >= 8 && memcmp(head, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8) == 0)
		return DOC_OFFICE;
	if (headlen >= 68 && (memcmp(head + 60, "BOOKMOBI", 8) == 0 || memcmp(head + 60, "TEXtREAd", 8) == 0))
		return DOC_MOBI;
	p = skip_prolog(head, e);
	if (e - p >= 12 && memmem(p, (size_t)(e - p), "<FictionBook", 12) != NULL)
		return DOC_FB2;
	if ((e - p >= 14 && strncasecmp(p, "<!doctype html", 14) == 0) || (e - p >= 5 && strncasecmp(p, "<html", 5) == 0))
		return DOC_HTML;
	if (!looks_like_text(head, headlen))
		return DOC_UNKNOWN;
	if (has_suffix(name, ".md") || has_suffix(name, ".markdown") || has_suffix(name, ".mdown")
	    || has_suffix(name, ".mkd"))
		return DOC_MARKDOWN;
	return DOC_TEXT;
}

static const char *mupdf_magic(enum doc_format f)
{
	switch (f) {
	case DOC_PDF: return "application/pdf";
	case DOC_XPS: return "application/oxps";
	case DOC_EPUB: return "application/epub+zip";
	case DOC_FB2: return "application/x-fictionbook";
	case DOC_MOBI: return "application/x-mobipocket-ebook";
	case DOC_HTML: return "text/html";
	case DOC_CBZ: return "application/x-cbz";
	default: return NULL;
	}
}

/* ---- the reader ---- */

struct outline_entry {
	int page;	/* 0-based page index */
	float y;
	int title;	/* index into titles */
};

/* One line as printed: mupdf's lines of one block that share a baseline
 * (a table-of-contents entry comes as number, title, leader and page). */
struct pline {
	char *text;	/* with superscript markers */
	size_t len;
	char *bare;	/* without them; NULL: no marker */
	size_t barelen;
	char marks[32];	/* ",3,4,": the superscript markers in the line */
	char lead[8];	/* the marker the line starts with ("": none) */
	float y0, y1, base;	/* top, bottom, baseline of the first piece */
	float x0, x1;	/* left and right edges */
	float size;	/* font size of most of its characters */
	int chars, mono;	/* characters, of which in a monospaced font */
	int block;	/* mupdf's block */
	int new_block;
	int furniture, footnote, toc;
};

struct ppage {
	int index;
	struct pline *lines;
	size_t n, cap;
	float body_size;	/* the font size of most characters */
	char *keys[2][FURNITURE_ZONE];	/* top and bottom zone keys */
	char *shapes[2][FURNITURE_ZONE];	/* and their shapes */
};

/* A footnote waiting for the chunk that reaches its page. */
struct note {
	int page;
	char *text;
};

struct doc_reader {
	split_opts opts;
	fz_context *ctx;
	char warning[256];
	long warnings;

	/* per file */
	split *sp;
	doc_chunk_fn fn;
	void *fnctx;
	doc_stats *st;
	char hash[65];
	char **titles;
	size_t ntitles, captitles;
	int stopped;
	struct note *notes;
	size_t nnotes, capnotes;
	/* characters of each font size in the pages read so far: the most
	 * common is the body text's */
	float hsize[32];
	long hcount[32];
	int nsizes;

	/* the paragraph being assembled: the last line is held back until the
	 * next one shows how to join them */
	sb pending;
	int pending_page, pending_title, has_pending;
	int pending_starts;	/* the held line began its paragraph */
	int title;
	/* lines fed since the last section break, and of them not headings */
	long sect_lines, sect_body;
	/* the held line as printed, for joining it to the next one */
	struct {
		int page, full, heading, mono;
		float size, base;
	} last;
	sb tmp, norm, tmp2, norm2;
	int join_flags;	/* TXT_JOIN_*: how the document's lines were broken */
	txt_nav nav;
};

static void warning_cb(void *user, const char *message)
{
	doc_reader *r = user;

	if (strstr(message, "ICC support is not available") != NULL)
		return;
	r->warnings++;
	snprintf(r->warning, sizeof r->warning, "%s", message);
}

static void error_cb(void *user, const char *message)
{
	(void)user;
	(void)message;	/* reported through fz_caught_message where it matters */
}

static int register_handlers(fz_context *ctx)
{
	int ok = 1;

	fz_try(ctx)
		fz_register_document_handlers(ctx);
	fz_catch(ctx)
		ok = 0;
	return ok ? 0 : -1;
}

doc_reader *doc_reader_new(const split_opts *opts)
{
	doc_reader *r = calloc(1, sizeof *r);

	if (r == NULL)
		return NULL;
	r->opts = *opts;
	/* a modest store: fonts stay cached across pages, images are not kept */
	r->ctx = fz_new_context(NULL, NULL, 64 << 20);
	if (r->ctx == NULL) {
		free(r);
		return NULL;
	}
	fz_set_warning_callback(r->ctx, warning_cb, r);
	fz_set_error_callback(r->ctx, error_cb, r);
	if (register_handlers(r->ctx) < 0) {
		fz_drop_context(r->ctx);
		free(r);
		return NULL;
	}
	return r;
}

void doc_reader_free(doc_reader *r)
{
	if (r == NULL)
		return;
	fz_drop_context(r->ctx);
	sb_free(&r->pending);
	sb_free(&r->tmp);
	sb_free(&r->norm);
	sb_free(&r->tmp2);
	sb_free(&r->norm2);
	free(r->notes);
	free(r);
}

static void free_titles(doc_reader *r)
{
	size_t i;

	for (i = 0; i < r->ntitles; i++)
		free(r->titles[i]);
	free(r->titles);
	r->titles = NULL;
	r->ntitles = r->captitles = 0;
}

/* Store a title (normalised); returns its index or -1. */
static int add_title(doc_reader *r, const char *text, size_t len)
{
	sb t = SB_INIT;

	if (txt_normalize(text, len, &t, NULL) < 0)
		return -1;
	if (r->ntitles == r->captitles) {
		size_t cap = r->captitles ? r->captitles * 2 : 16;
		char **v = realloc(r->titles, cap * sizeof *v);

		if (v == NULL) {
			sb_free(&t);
			return -1;
		}
		r->titles = v;
		r->captitles = cap;
	}
	r->titles[r->ntitles] = sb_take(&t);
	if (r->titles[r->ntitles] == NULL)
		return -1;
	return (int)r->ntitles++;
}

static void free_notes(doc_reader *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(r->notes[i].text);
	if (r->nnotes > n)
		memmove(r->notes, r->notes + n, (r->nnotes - n) * sizeof *r->notes);
	r->nnotes -= n;
}

/* Queue a footnote (text is taken) for the first chunk that reaches page. */
static int add_note(doc_reader *r, int page, char *text)
{
	if (r->nnotes == r->capnotes) {
		size_t cap = r->capnotes ? r->capnotes * 2 : 8;
		struct note *v = realloc(r->notes, cap * sizeof *v);

		if (v == NULL) {
			free(text);
			return -1;
		}
		r->notes = v;
		r->capnotes = cap;
	}
	r->notes[r->nnotes].page = page;
	r->notes[r->nnotes].text = text;
	r->nnotes++;
	return 0;
}

static int emit_chunk(void *ctx, const char *text, size_t len, int page, int page_end, int title, int forced)
{
	doc_reader *r = ctx;
	doc_chunk c;
	const char *notes[64];
	size_t n = 0;
	int rc = 0;

	c.text = text;
	c.len = len;
	c.page = page;
	c.page_end = page_end;
	c.title = title >= 0 && (size_t)title < r->ntitles && r->titles[title][0] ? r->titles[title] : NULL;
	c.forced = forced;
	/* the notes of the pages this chunk reaches, in page order */
	while (n < r->nnotes && n < sizeof notes / sizeof notes[0] && r->notes[n].page <= page_end) {
		notes[n] = r->notes[n].text;
		n++;
	}
	c.footnotes = notes;
	c.nfootnotes = n;
	r->st->chunks++;
	if (forced)
		r->st->forced_cuts++;
	if (r->fn(r->fnctx, r->hash, &c) < 0) {
		r->stopped = 1;
		rc = -1;
	}
	free_notes(r, n);
	return rc;
}

/* ---- paragraph assembly ---- */

static int feed(doc_reader *r, const char *s, size_t len)
{
	return split_feed(r->sp, s, len, r->pending_page, r->pending_title);
}

enum join { JOIN_WORDS, JOIN_LINE, JOIN_PARA };

/* Do two lines read the same, case and spaces aside? */
static int same_words(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t i = 0, j = 0;

	for (;;) {
		while (i < alen && a[i] == ' ')
			i++;
		while (j < blen && b[j] == ' ')
			j++;
		if (i == alen || j == blen)
			return i == alen && j == blen;
		if (tolower((unsigned char)a[i]) != tolower((unsigned char)b[j]))
			return 0;
		i++;
		j++;
	}
}

/* Add one cleaned, non-empty line; heading: it is a heading (it goes with
 * the text it heads, and a copy of it right below is said once). */
static int asm_line(doc_reader *r, const char *line, size_t len, int page, enum join how, int heading)
{
	int starts = how == JOIN_PARA || !r->has_pending;

	if (r->has_pending && how == JOIN_PARA && r->pending_starts && (heading || r->last.heading) && len < 200
	    && same_words(r->pending.buf, r->pending.len, line, len))
		return 0;
	if (r->has_pending) {
		if (how == JOIN_PARA || how == JOIN_LINE) {
			if (feed(r, r->pending.buf, r->pending.len) < 0
			    || feed(r, how == JOIN_PARA ? "\n\n" : "\n", how == JOIN_PARA ? 2 : 1) < 0)
				return -1;
		} else {
			size_t keep;
			int j;

			sb_truncate(&r->tmp, 0);
			if (sb_append(&r->tmp, r->pending.buf, r->pending.len) < 0)
				return -1;
			j = txt_join_line(&r->tmp, line, len, r->join_flags);
			if (j < 0)
				return -1;
			r->st->hyphenations += j;
			keep = r->tmp.len - len;
			if (feed(r, r->tmp.buf, keep) < 0)
				return -1;
		}
	}
	sb_truncate(&r->pending, 0);
	if (sb_append(&r->pending, line, len) < 0)
		return -1;
	r->pending_page = page;
	r->pending_title = r->title;
	r->has_pending = 1;
	r->pending_starts = starts;
	r->last.heading = heading;
	r->sect_lines++;
	r->sect_body += !heading;
	return 0;
}

static int asm_flush_pending(doc_reader *r)
{
	if (!r->has_pending)
		return 0;
	r->has_pending = 0;
	return feed(r, r->pending.buf, r->pending.len);
}

/* A new section: chunks never straddle two. */
static int asm_section(doc_reader *r, int title)
{
	if (title == r->title)
		return 0;
	/* a section that is only its heading so far stays with the next one */
	if (r->sect_lines > 0 && r->sect_body == 0 && !r->opts.langchain) {
		r->title = title;
		return 0;
	}
	if (asm_flush_pending(r) < 0)
		return -1;
	if (!r->opts.langchain && split_flush(r->sp) < 0)
		return -1;
	r->sect_lines = r->sect_body = 0;
	r->title = title;
	return 0;
}

static int asm_end(doc_reader *r)
{
	if (asm_flush_pending(r) < 0)
		return -1;
	return split_flush(r->sp);
}

static int ends_sentence(const sb *s)
{
	int32_t c;
	size_t q;

	if (s->len == 0)
		return 1;
	q = u8_back(s->buf, s->len - 1);
	u8_decode(s->buf + q, s->len - q, &c, NULL);
	return strchr(".!?:;\"')", c < 0x80 ? (int)c : 'x') != NULL || c == 0x3002 || c == 0xFF01
	       || c == 0xFF1F || c == 0xFF1B || c == 0x201D || c == 0xFF1A;
}

/* Does a paragraph cut by a page break go on with this line? */
static int continues(doc_reader *r, const char *line, size_t len)
{
	int32_t first, last;
	size_t q;

	if (!r->has_pending || ends_sentence(&r->pending) || len == 0)
		return 0;
	u8_decode(line, len, &first, NULL);
	q = u8_back(r->pending.buf, r->pending.len - 1);
	u8_decode(r->pending.buf + q, r->pending.len - q, &last, NULL);
	if (u8_is_cjk_letter(first) && u8_is_cjk_letter(last))
		return 1;
	return first >= 'a' && first <= 'z';
}

/* ---- pages and running headers ---- */

static void page_clear(struct ppage *p)
{
	size_t i;
	int z, k;

	for (i = 0; i < p->n; i++) {
		free(p->lines[i].text);
		free(p->lines[i].bare);
	}
	free(p->lines);
	for (z = 0; z < 2; z++)
		for (k = 0; k < FURNITURE_ZONE; k++) {
			free(p->keys[z][k]);
			free(p->shapes[z][k]);
		}
	memset(p, 0, sizeof *p);
}

static size_t zone_size(const struct ppage *p)
{
	return p->n < FURNITURE_ZONE ? p->n : FURNITURE_ZONE;
}

static int page_keys(struct ppage *p, sb *key)
{
	size_t k, z = zone_size(p);

	for (k = 0; k < z; k++) {
		int side;

		for (side = 0; side < 2; side++) {
			const struct pline *l = &p->lines[side == 0 ? k : p->n - 1 - k];

			if (txt_is_page_number(l->text, l->len)) {
				sb_truncate(key, 0);
				if (sb_puts(key, "\x01page") < 0)
					return -1;
			} else if (txt_furniture_key(l->text, l->len, key) < 0) {
				return -1;
			}
			p->keys[side][k] = strdup(sb_str(key));
			if (p->keys[side][k] == NULL || txt_line_shape(l->text, l->len, key) < 0)
				return -1;
			p->shapes[side][k] = strdup(sb_str(key));
			if (p->shapes[side][k] == NULL)
				return -1;
		}
	}
	return 0;
}

/* The line of a zone: k-th from the top (side 0) or the bottom (side 1). */
static const struct pline *zone_line(const struct ppage *p, int side, size_t k)
{
	return &p->lines[side == 0 ? k : p->n - 1 - k];
}

/* Is zone line k set off from the body by more than a line's spacing? */
static int set_off(const struct ppage *p, int side, size_t k)
{
	const struct pline *l = zone_line(p, side, k), *n;

	if (k + 1 >= p->n)
		return 1;
	n = zone_line(p, side, k + 1);
	return side == 0 ? n->y0 - l->y1 >= l->size * 0.8f : l->y0 - n->y1 >= l->size * 0.8f;
}

/* Does line m, d pages after line l, begin or end with l's page number
 * plus d? */
static int page_number_moves(const struct pline *l, const struct pline *m, long d)
{
	long lf, ll, mf, ml;

	txt_edge_numbers(l->text, l->len, &lf, &ll);
	txt_edge_numbers(m->text, m->len, &mf, &ml);
	return (lf >= 0 && mf >= 0 && mf == lf + d) || (ll >= 0 && ml >= 0 && ml == ll + d);
}

/* Does zone line k of page q look like line l of page p, a running head or
 * foot? The same text with digits folded; or at the same height, a page
 * number at the same end that moves with the page; or at the same height,
 * set off from the body, the same shape with a number in it (the title of
 * the current section: "§3.5 Special environments", "2 Things to Know"). */
static int furniture_like(const struct ppage *p, int side, size_t kl, const struct ppage *q, size_t k)
{
	const struct pline *l = zone_line(p, side, kl), *m = zone_line(q, side, k);
	long d = q->index - p->index;

	if (strcmp(p->keys[side][kl], q->keys[side][k]) == 0)
		return 1;
	if (fabsf(l->base - m->base) > 3 || l->len > 4 * FURNITURE_MAX_KEY || m->len > 4 * FURNITURE_MAX_KEY)
		return 0;
	if (page_number_moves(l, m, d))
		return 1;
	return fabsf(l->size - m->size) < 0.5f && l->size <= p->body_size * 1.1f
	       && strcmp(p->shapes[side][kl], q->shapes[side][k]) == 0 && strchr(p->shapes[side][kl], '#')
	       && set_off(p, side, kl) && set_off(q, side, k);
}

/* Mark the lines of win[c] that recur at the same edge of most pages near it
 * (of most pages of the same parity: odd and even pages have their own). */
static void mark_furniture(struct ppage *win, int nwin, int c)
{
	struct ppage *p = &win[c];
	size_t k, z = zone_size(p);
	int side, q;

	if (nwin < 3)
		return;
	for (side = 0; side < 2; side++) {
		for (k = 0; k < z; k++) {
			const char *key = p->keys[side][k];
			int all = 1, same = 1, nsame = 1;

			/* running heads are short; body text is not furniture */
			if (key == NULL || key[0] == '\0' || strlen(key) > FURNITURE_MAX_KEY)
				continue;
			for (q = 0; q < nwin; q++) {
				size_t j, zq = zone_size(&win[q]);
				int hit = 0, par = (win[q].index - p->index) % 2 == 0;

				if (q == c)
					continue;
				for (j = 0; j < zq && !hit; j++)
					hit = furniture_like(p, side, k, &win[q], j);
				/* a bare page number moves with the numbers of the
				 * other edge too (chapter pages put it at the foot) */
				for (j = 0; j < zq && !hit && strcmp(key, "\x01page") == 0; j++)
					hit = page_number_moves(zone_line(p, side, k), zone_line(&win[q], !side, j),
								win[q].index - p->index);
				all += hit;
				same += hit && par;
				nsame += par;
			}
			if ((all >= 3 && all * 2 >= nwin) || (same >= 3 && same * 2 > nsame))
				p->lines[side == 0 ? k : p->n - 1 - k].furniture = 1;
		}
	}
}

/* ---- mupdf ---- */

static int cmp_outline(const void *a, const void *b)
{
	const struct outline_entry *x = a, *y = b;

	if (x->page != y->page)
		return x->page < y->page ? -1 : 1;
	if (x->y != y->y)
		return x->y < y->y ? -1 : 1;
	return x->title < y->title ? -1 : x->title > y->title;
}

struct outline_list {
	struct outline_entry *v;
	size_t n, cap;
};

/* The page an outline entry points at; EPUB entries carry only a link. */
static int page_of(fz_context *ctx, fz_document *doc, const fz_outline *o, float *y)
{
	volatile int page = -1;
	volatile float yy = isfinite(o->y) ? o->y : 0;

	fz_try(ctx) {
		fz_location loc = o->page;

		if ((loc.chapter < 0 || loc.page < 0) && o->uri) {
			float xp = 0, yp = 0;

			loc = fz_resolve_link(ctx, doc, o->uri, &xp, &yp);
			yy = isfinite(yp) ? yp : 0;
		}
		page = loc.chapter < 0 || loc.page < 0 ? -1 : fz_page_number_from_location(ctx, doc, loc);
	}
	fz_catch(ctx)
		page = -1;
	*y = yy;
	return page;
}

static int flatten_outline(doc_reader *r, fz_document *doc, fz_outline *o, struct outline_list *out)
{
	for (; o; o = o->next) {
		if (o->title && o->title[0]) {
			float y;
			int page = page_of(r->ctx, doc, o, &y);

			if (page >= 0) {
				int t = add_title(r, o->title, strlen(o->title));

				if (t < 0)
					return -1;
				if (out->n == out->cap) {
					size_t cap = out->cap ? out->cap * 2 : 32;
					struct outline_entry *v = realloc(out->v, cap * sizeof *v);

					if (v == NULL)
						return -1;
					out->v = v;
					out->cap = cap;
				}
				out->v[out->n].page = page;
				out->v[out->n].y = y;
				out->v[out->n].title = t;
				out->n++;
			}
		}
		if (o->down && flatten_outline(r, doc, o->down, out) < 0)
			return -1;
	}
	return 0;
}

static fz_stext_page *page_text(fz_context *ctx, fz_document *doc, int idx, char *err, size_t errlen)
{
	fz_page *page = NULL;
	fz_stext_page *tp = NULL;
	fz_stext_options opts = { 0 };

	fz_var(page);
	fz_var(tp);
	fz_try(ctx) {
		page = fz_load_page(ctx, doc, idx);
		tp = fz_new_stext_page_from_page(ctx, page, &opts);
	}
	fz_always(ctx)
		fz_drop_page(ctx, page);
	fz_catch(ctx) {
		snprintf(err, errlen, "page %d: %s", idx + 1, fz_caught_message(ctx));
		return NULL;
	}
	return tp;
}

static int is_mono_font(fz_context *ctx, fz_font *f)
{
	const char *name;

	if (f == NULL)
		return 0;
	if (fz_font_is_monospaced(ctx, f))
		return 1;
	name = fz_font_name(ctx, f);
	return name != NULL && (strstr(name, "Mono") || strstr(name, "Courier") || strstr(name, "CMTT")
				|| strstr(name, "SFTT") || strstr(name, "Typewriter") || strstr(name, "Consol"));
}

/* A footnote marker: one to three digits, or one of * † ‡ § ¶. */
static int is_marker_run(const int32_t *cps, int n)
{
	int i;

	if (n == 1 && (cps[0] == '*' || cps[0] == 0x2020 || cps[0] == 0x2021 || cps[0] == 0xA7 || cps[0] == 0xB6))
		return 1;
	if (n == 0 || n > 3)
		return 0;
	for (i = 0; i < n; i++)
		if (cps[i] < '0' || cps[i] > '9')
			return 0;
	return 1;
}

/* What read_line learns of one of mupdf's lines besides its text. */
struct piece {
	float size, base;
	int chars, mono;
	char marks[32], lead[8];
};

#define SUP_RUN 8

/* Append a run of raised small characters: a footnote marker goes to the
 * text with markers only, anything else (the A of LaTeX) to both. */
static int put_run(doc_reader *r, const int32_t *run, int n, int *at_start, struct piece *pc)
{
	int i, marker = is_marker_run(run, n);

	for (i = 0; i < n; i++)
		if (sb_put_cp(&r->tmp, run[i]) < 0 || (!marker && sb_put_cp(&r->tmp2, run[i]) < 0))
			return -1;
	if (marker) {
		char m[sizeof pc->lead];
		size_t k, have = strlen(pc->marks);

		/* n <= 3 digits, or one symbol written as '*' */
		for (k = 0; k < (size_t)n; k++)
			m[k] = run[k] < 0x80 ? (char)run[k] : '*';
		m[k] = '\0';
		if (*at_start && pc->lead[0] == '\0')
			memcpy(pc->lead, m, sizeof m);
		if (have + k + 2 < sizeof pc->marks) {
			if (have == 0)
				pc->marks[have++] = ',';
			memcpy(pc->marks + have, m, k);
			pc->marks[have + k] = ',';
			pc->marks[have + k + 1] = '\0';
		}
	}
	if (n > 0)
		*at_start = 0;
	return 0;
}

/* The text of one of mupdf's lines into r->tmp, and without its superscript
 * footnote markers into r->tmp2. */
static int read_line(doc_reader *r, fz_stext_line *l, struct piece *pc)
{
	float sz[8];
	int cnt[8], ns = 0, best = 0, i, nrun = 0, at_start = 1;
	int32_t run[SUP_RUN];
	fz_font *last_font = NULL;
	int last_mono = 0;
	fz_stext_char *ch;

	memset(pc, 0, sizeof *pc);
	sb_truncate(&r->tmp, 0);
	sb_truncate(&r->tmp2, 0);
	for (ch = l->first_char; ch; ch = ch->next) {
		if (ch->c == ' ')
			continue;
		for (i = 0; i < ns && fabsf(sz[i] - ch->size) > 0.01f; i++)
			;
		if (i == ns && ns < 8) {
			sz[ns] = ch->size;
			cnt[ns++] = 0;
		}
		if (i < ns)
			cnt[i]++;
	}
	for (i = 1; i < ns; i++)
		if (cnt[i] > cnt[best])
			best = i;
	pc->size = ns ? sz[best] : (l->first_char ? l->first_char->size : 0);
	pc->base = l->first_char ? l->first_char->origin.y : l->bbox.y1;
	for (ch = l->first_char; ch; ch = ch->next)
		if (fabsf(ch->size - pc->size) <= 0.01f) {
			pc->base = ch->origin.y;
			break;
		}
	for (ch = l->first_char; ch; ch = ch->next) {
		int32_t cp = ch->c > 0 && ch->c <= 0x10FFFF ? ch->c : U8_REPLACEMENT;
		int sup;

		/* a math font's private glyphs and what could not be mapped */
		if (txt_is_unmapped(cp))
			continue;
		sup = cp != ' ' && ch->size < pc->size * 0.8f && ch->origin.y < pc->base - pc->size * 0.15f;

		if (sup && nrun < SUP_RUN) {
			run[nrun++] = cp;
			continue;
		}
		if (put_run(r, run, nrun, &at_start, pc) < 0)
			return -1;
		nrun = 0;
		if (sup) {
			run[nrun++] = cp;
			continue;
		}
		if (sb_put_cp(&r->tmp, cp) < 0 || sb_put_cp(&r->tmp2, cp) < 0)
			return -1;
		if (cp != ' ') {
			at_start = 0;
			if (ch->font != last_font) {
				last_font = ch->font;
				last_mono = is_mono_font(r->ctx, ch->font);
			}
			pc->chars++;
			pc->mono += last_mono;
		}
	}
	return put_run(r, run, nrun, &at_start, pc);
}

static int append_text(char **text, size_t *len, const char *sep, const char *s, size_t n)
{
	size_t seplen = strlen(sep);
	char *t = realloc(*text, *len + seplen + n + 1);

	if (t == NULL)
		return -1;
	memcpy(t + *len, sep, seplen);
	memcpy(t + *len + seplen, s, n);
	*len += seplen + n;
	t[*len] = '\0';
	*text = t;
	return 0;
}

static char *dup_text(const char *s, size_t n)
{
	char *t = malloc(n + 1);

	if (t != NULL) {
		memcpy(t, s, n);
		t[n] = '\0';
	}
	return t;
}

/* Add a piece (text in r->norm, without markers in r->norm2) to the page:
 * to the last line when it is of the same block and baseline, else as a
 * line of its own. */
static int page_add_piece(doc_reader *r, struct ppage *p, const struct piece *pc, fz_rect box, int block,
			  int new_block)
{
	struct pline *l = p->n ? &p->lines[p->n - 1] : NULL;
	int has_bare = pc->marks[0] != '\0';

	if (l != NULL && l->block == block && box.x0 >= l->x1 - 1) {
		float top = box.y0 > l->y0 ? box.y0 : l->y0, bottom = box.y1 < l->y1 ? box.y1 : l->y1;
		float h = box.y1 - box.y0 < l->y1 - l->y0 ? box.y1 - box.y0 : l->y1 - l->y0;

		if (h > 0 && bottom - top >= h * 0.5f) {
			const char *sep = box.x0 - l->x1 > pc->size * 0.25f ? " " : "";

			if ((has_bare || l->bare) && l->bare == NULL) {
				l->bare = dup_text(l->text, l->len);
				if (l->bare == NULL)
					return -1;
				l->barelen = l->len;
			}
			if (append_text(&l->text, &l->len, sep, r->norm.buf, r->norm.len) < 0)
				return -1;
			if (l->bare && append_text(&l->bare, &l->barelen, sep, has_bare ? sb_str(&r->norm2) : r->norm.buf,
						   has_bare ? r->norm2.len : r->norm.len) < 0)
				return -1;
			if (strlen(l->marks) + strlen(pc->marks) < sizeof l->marks)
				strcat(l->marks, l->marks[0] && pc->marks[0] ? pc->marks + 1 : pc->marks);
			if (pc->chars > l->chars)
				l->size = pc->size;
			l->chars += pc->chars;
			l->mono += pc->mono;
			l->x1 = box.x1 > l->x1 ? box.x1 : l->x1;
			l->y0 = box.y0 < l->y0 ? box.y0 : l->y0;
			l->y1 = box.y1 > l->y1 ? box.y1 : l->y1;
			return 0;
		}
	}
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 32;
		struct pline *v = realloc(p->lines, cap * sizeof *v);

		if (v == NULL)
			return -1;
		p->lines = v;
		p->cap = cap;
	}
	l = &p->lines[p->n];
	memset(l, 0, sizeof *l);
	l->text = dup_text(r->norm.buf, r->norm.len);
	if (l->text == NULL)
		return -1;
	l->len = r->norm.len;
	p->n++;
	if (has_bare) {
		l->bare = dup_text(sb_str(&r->norm2), r->norm2.len);
		if (l->bare == NULL)
			return -1;
		l->barelen = r->norm2.len;
	}
	memcpy(l->marks, pc->marks, sizeof l->marks);
	memcpy(l->lead, pc->lead, sizeof l->lead);
	l->y0 = box.y0;
	l->y1 = box.y1;
	l->base = pc->base;
	l->x0 = box.x0;
	l->x1 = box.x1;
	l->size = pc->size;
	l->chars = pc->chars;
	l->mono = pc->mono;
	l->block = block;
	l->new_block = new_block;
	return 0;
}

/* Read page number idx into p: cleaned lines with their block starts. */
static int load_page(doc_reader *r, fz_document *doc, int idx, struct ppage *p, char *err, size_t errlen)
{
	fz_context *ctx = r->ctx;
	fz_stext_page *tp;
	float hsz[16];
	long hcnt[16];
	int nh = 0, block = 0, i, best = 0;
	int rc = 0;

	p->index = idx;
	tp = page_text(ctx, doc, idx, err, errlen);
	if (tp == NULL)
		return 1;
	for (fz_stext_block *b = tp->first_block; b && rc == 0; b = b->next) {
		int first = 1;

		if (b->type != FZ_STEXT_BLOCK_TEXT)
			continue;
		block++;
		for (fz_stext_line *l = b->u.t.first_line; l && rc == 0; l = l->next) {
			struct piece pc;

			if (read_line(r, l, &pc) < 0) {
				rc = -1;
				break;
			}
			sb_truncate(&r->norm, 0);
			sb_truncate(&r->norm2, 0);
			if (txt_normalize(sb_str(&r->tmp), r->tmp.len, &r->norm, NULL) < 0
			    || (pc.marks[0] && txt_normalize(sb_str(&r->tmp2), r->tmp2.len, &r->norm2, NULL) < 0)) {
				rc = -1;
				break;
			}
			if (r->norm.len == 0)
				continue;
			rc = page_add_piece(r, p, &pc, l->bbox, block, first);
			first = 0;
			for (i = 0; i < nh && fabsf(hsz[i] - pc.size) > 0.01f; i++)
				;
			if (i == nh && nh < 16) {
				hsz[nh] = pc.size;
				hcnt[nh++] = 0;
			}
			if (i < nh)
				hcnt[i] += pc.chars - pc.mono;	/* code is not body text */
		}
	}
	fz_drop_stext_page(ctx, tp);
	for (i = 1; i < nh; i++)
		if (hcnt[i] > hcnt[best])
			best = i;
	p->body_size = nh ? hsz[best] : 0;
	for (i = 0; i < nh; i++) {
		int k;

		for (k = 0; k < r->nsizes && fabsf(r->hsize[k] - hsz[i]) > 0.01f; k++)
			;
		if (k == r->nsizes && r->nsizes < 32) {
			r->hsize[k] = hsz[i];
			r->hcount[r->nsizes++] = 0;
		}
		if (k < r->nsizes)
			r->hcount[k] += hcnt[i];
	}
	if (rc == 0 && page_keys(p, &r->tmp) < 0)
		rc = -1;
	return rc;
}

/* The left and right edges of the body text of a page: lines of the body's
 * font size, the left edge of those that fill the width (not of a margin
 * note or an indented line). */
static void body_edges(const struct ppage *p, float *left, float *right)
{
	size_t k;
	int any = 0;

	*left = 1e9f;
	*right = -1e9f;
	for (k = 0; k < p->n; k++) {
		const struct pline *l = &p->lines[k];

		if (l->furniture || l->footnote || fabsf(l->size - p->body_size) > p->body_size * 0.15f)
			continue;
		if (l->x1 > *right)
			*right = l->x1;
		any = 1;
	}
	for (k = 0; k < p->n && any; k++) {
		const struct pline *l = &p->lines[k];

		if (l->furniture || l->footnote || fabsf(l->size - p->body_size) > p->body_size * 0.15f)
			continue;
		if (l->x1 >= *right - 2.5f * l->size && l->x0 < *left)
			*left = l->x0;
	}
	if (*left > *right) {
		*left = 0;
		*right = 0;
	}
}

/* The usual distance between the baselines of consecutive body lines of a
 * page (0: none seen). */
static float line_pitch(const struct ppage *p)
{
	float v[16];
	int c[16], nv = 0, best = -1, i;
	size_t k;

	for (k = 1; k < p->n; k++) {
		const struct pline *a = &p->lines[k - 1], *b = &p->lines[k];
		float d = b->base - a->base;

		if (a->furniture || b->furniture || a->footnote || b->footnote || d <= 0 || d > 3 * p->body_size
		    || fabsf(a->size - p->body_size) > 0.01f || fabsf(b->size - p->body_size) > 0.01f)
			continue;
		for (i = 0; i < nv && fabsf(v[i] - d) > 0.5f; i++)
			;
		if (i == nv) {
			if (nv == 16)
				continue;
			v[nv] = d;
			c[nv++] = 0;
		}
		c[i]++;
	}
	for (i = 0; i < nv; i++)
		if (best < 0 || c[i] > c[best])
			best = i;
	return best < 0 ? 0 : v[best];
}

/* Is the line the section's title, with or without its number before it
 * ("1.2.1 Fonts" for the outline's "Fonts")? */
static int is_title_line(const char *title, const char *s, size_t len)
{
	size_t tl = strlen(title), i;

	if (tl == 0 || len > tl + 40)
		return 0;
	if (same_words(title, tl, s, len))
		return 1;
	for (i = 1; i < len; i++)
		if (s[i - 1] == ' ' && same_words(title, tl, s + i, len - i))
			return 1;
	return 0;
}

/* Does the line begin a list item (a bullet, "1.", "(a)")? */
static int starts_item(const char *s, size_t len)
{
	size_t i = 0;

	if (len >= 3 && (memcmp(s, "\xe2\x80\xa2", 3) == 0 || memcmp(s, "\xe2\x97\xa6", 3) == 0
			 || memcmp(s, "\xe2\x96\xaa", 3) == 0 || memcmp(s, "\xe2\x80\x93 ", 4) == 0))
		return 1;
	if (len >= 2 && (s[0] == '-' || s[0] == '*') && s[1] == ' ')
		return 1;
	if (len >= 3 && s[0] == '(' && s[2] == ')')
		return 1;
	while (i < len && i < 3 && isdigit((unsigned char)s[i]))
		i++;
	return i > 0 && i + 1 < len && (s[i] == '.' || s[i] == ')') && s[i + 1] == ' ';
}

static int has_mark(const char *marks, const char *set)
{
	const char *m = marks;

	while (*m == ',' && m[1]) {
		const char *e = strchr(m + 1, ',');
		char one[16];

		if (e == NULL || (size_t)(e - m) + 1 >= sizeof one)
			return 0;
		memcpy(one, m, (size_t)(e - m) + 1);
		one[e - m + 1] = '\0';
		if (strstr(set, one))
			return 1;
		m = e;
	}
	return 0;
}

/* Footnotes: at the foot of the page, lines smaller than the body, the first
 * beginning with a raised marker. They are marked, queued for the chunk that
 * reaches the page, and their markers collected into marks (",1,2,"). */
static int page_footnotes(doc_reader *r, struct ppage *p, int page_no, char *marks, size_t markslen)
{
	long i, top = -1;
	sb note = SB_INIT;
	size_t have = 0;
	int rc = 0;

	marks[0] = '\0';
	for (i = (long)p->n - 1; i >= 0; i--) {
		const struct pline *l = &p->lines[i];

		if (l->furniture || txt_is_page_number(l->text, l->len))
			continue;
		if (l->size >= p->body_size * 0.92f || l->mono * 2 > l->chars)
			break;
		if (l->lead[0])
			top = i;
	}
	if (top < 0)
		return 0;
	for (i = top; i < (long)p->n && rc == 0; i++) {
		struct pline *l = &p->lines[i];
		const char *t = l->bare ? l->bare : l->text;
		size_t tl = l->bare ? l->barelen : l->len;

		if (l->furniture || txt_is_page_number(l->text, l->len))
			continue;
		l->footnote = 1;
		r->st->footnote_lines++;
		if (l->lead[0]) {
			if (note.len > 0 && (rc = add_note(r, page_no, sb_take(&note))) < 0)
				break;
			if (have + strlen(l->lead) + 2 < markslen)
				have += (size_t)snprintf(marks + have, markslen - have, "%s%s,", have ? "" : ",", l->lead);
			if (sb_puts(&note, l->lead) < 0 || sb_putc(&note, ' ') < 0 || sb_append(&note, t, tl) < 0)
				rc = -1;
		} else if (txt_join_line(&note, t, tl, r->join_flags) < 0) {
			rc = -1;
		}
	}
	if (rc == 0 && note.len > 0)
		rc = add_note(r, page_no, sb_take(&note));
	sb_free(&note);
	return rc;
}

/* Table-of-contents lines: those with a leader, and next to them the parts
 * of an entry cut over two lines and the entries without a leader (a
 * chapter's line ending in its page number). */
static void page_toc(struct ppage *p)
{
	size_t i;
	int pass;

	for (i = 0; i < p->n; i++)
		p->lines[i].toc = !p->lines[i].furniture && !p->lines[i].footnote
				  && txt_is_toc_line(p->lines[i].text, p->lines[i].len);
	/* first the lines ending in a page number next to a leader line, then
	 * the lines between entries (an entry's first half) */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < p->n; i++) {
			struct pline *l = &p->lines[i];
			long prev = (long)i - 1, next = (long)i + 1, next2;
			int pt, nt, nnt;
			long first, last;

			if (l->toc || l->furniture || l->footnote)
				continue;
			while (prev >= 0 && (p->lines[prev].furniture || p->lines[prev].footnote))
				prev--;
			while (next < (long)p->n && (p->lines[next].furniture || p->lines[next].footnote))
				next++;
			next2 = next + 1;
			while (next2 < (long)p->n && (p->lines[next2].furniture || p->lines[next2].footnote))
				next2++;
			pt = prev >= 0 && p->lines[prev].toc;
			nt = next < (long)p->n && p->lines[next].toc;
			nnt = next2 < (long)p->n && p->lines[next2].toc;
			if (pass == 0) {
				txt_edge_numbers(l->text, l->len, &first, &last);
				if ((pt || nt) && last >= 0 && (pt ? p->lines[prev].toc : p->lines[next].toc) == 1)
					l->toc = 2;
			} else if (nt && (pt || nnt)) {
				l->toc = 2;
			}
		}
	}
}

/* Hand the kept lines of a page to the assembler, opening sections where the
 * outline says they begin. */
static int emit_page(doc_reader *r, struct ppage *p, int paged, const struct outline_list *ol, size_t *oi)
{
	size_t i;
	int page_no = paged ? p->index + 1 : 0;
	int first = 1, opened = 0;
	/* the last kept line, when it was a block of one full-width line: mupdf
	 * makes the indented first line of a paragraph a block of its own */
	long lone = -1;
	float left, right, pitch;
	char marks[64] = "";

	{
		int k, best = 0;

		for (k = 1; k < r->nsizes; k++)
			if (r->hcount[k] > r->hcount[best])
				best = k;
		if (r->nsizes > 0)
			p->body_size = r->hsize[best];
	}
	if (paged && page_footnotes(r, p, page_no, marks, sizeof marks) < 0)
		return -1;
	page_toc(p);
	body_edges(p, &left, &right);
	pitch = line_pitch(p);
	for (i = 0; i < p->n; i++) {
		struct pline *l = &p->lines[i];
		enum join how;
		const char *text = l->text;
		size_t len = l->len;
		int heading, full, indented, mono;

		/* outline entries that begin at or above this line */
		while (*oi < ol->n && (ol->v[*oi].page < p->index
				       || (ol->v[*oi].page == p->index && ol->v[*oi].y <= l->y0 + 2))) {
			if (asm_section(r, ol->v[*oi].title) < 0)
				return -1;
			lone = -1;
			opened = 1;
			(*oi)++;
		}
		if (l->furniture) {
			r->st->furniture_lines++;
			continue;
		}
		if (r->st->format == DOC_HTML && txt_nav_line(&r->nav, l->text, l->len, l->new_block)) {
			r->st->nav_lines++;
			continue;
		}
		if (l->footnote)
			continue;
		if (l->toc) {
			r->st->toc_lines++;
			continue;
		}
		if (l->bare && marks[0] && has_mark(l->marks, marks)) {
			text = l->bare;
			len = l->barelen;
			if (len == 0)
				continue;
		}
		full = right > left && l->x1 >= right - 2.5f * l->size;
		indented = l->x0 > left + 0.6f * l->size;
		mono = l->chars > 0 && l->mono * 10 >= l->chars * 9;
		heading = (l->size >= p->body_size * 1.12f && len < 300 && (!full || l->size >= p->body_size * 1.3f))
			  || (opened && r->title >= 0 && (size_t)r->title < r->ntitles
			      && is_title_line(r->titles[r->title], text, len));
		if (!r->has_pending) {
			how = JOIN_PARA;
		} else {
			int samepage = r->last.page == p->index + 1;
			float big = l->size > r->last.size ? l->size : r->last.size;
			int similar = fabsf(l->size - r->last.size) <= 0.12f * big;
			float gap = l->base - r->last.base;
			int close = samepage && gap > 0 && (pitch > 0 ? gap <= pitch * 1.15f : gap <= 1.45f * big);

			if (mono && r->last.mono)
				how = !l->new_block || close ? JOIN_LINE : JOIN_PARA;
			else if (heading && r->last.heading && similar && (close || !l->new_block))
				how = JOIN_WORDS;	/* a heading of two lines */
			else if (heading || r->last.heading || !similar)
				how = JOIN_PARA;
			else if (!l->new_block)
				how = JOIN_WORDS;
			else if (mono != r->last.mono)
				how = JOIN_PARA;
			else if (r->last.full && !indented && !starts_item(text, len)
				 && (samepage ? close : !ends_sentence(&r->pending)))
				how = JOIN_WORDS;
			else if ((first || lone >= 0) && continues(r, text, len))
				how = JOIN_WORDS;
			else
				how = JOIN_PARA;
		}
		first = 0;
		opened = 0;
		lone = l->new_block && (i + 1 == p->n || p->lines[i + 1].new_block) && full ? (long)i : -1;
		if (asm_line(r, text, len, page_no, how, heading) < 0)
			return -1;
		r->last.page = p->index + 1;
		r->last.full = full;
		r->last.mono = mono;
		r->last.size = l->size;
		r->last.base = l->base;
	}
	return 0;
}

/* Open and lay out a document; NULL with err set when it cannot be read. */
static fz_document *open_doc(doc_reader *r, const char *path, enum doc_format fmt, int *paged, int *npages,
			     fz_outline **outline, char *err, size_t errlen)
{
	fz_context *ctx = r->ctx;
	fz_document *doc = NULL;
	fz_stream *stm = NULL;

	*outline = NULL;
	fz_var(doc);
	fz_var(stm);
	fz_try(ctx) {
		stm = fz_open_file(ctx, path);
		doc = fz_open_document_with_stream(ctx, mupdf_magic(fmt), stm);
	}
	fz_always(ctx)
		fz_drop_stream(ctx, stm);
	fz_catch(ctx) {
		snprintf(err, errlen, "truncated or damaged: %s", fz_caught_message(ctx));
		return NULL;
	}
	fz_try(ctx) {
		if (fz_needs_password(ctx, doc) && !fz_authenticate_password(ctx, doc, ""))
			fz_throw(ctx, FZ_ERROR_GENERIC, "\001encrypted");
		*paged = !fz_is_document_reflowable(ctx, doc);
		if (!*paged)
			fz_layout_document(ctx, doc, REFLOW_WIDTH, REFLOW_HEIGHT, REFLOW_EM);
		*npages = fz_count_pages(ctx, doc);
	}
	fz_catch(ctx) {
		const char *m = fz_caught_message(ctx);

		if (m[0] == '\001')
			snprintf(err, errlen, "encrypted (password required)");
		else
			snprintf(err, errlen, "truncated or damaged: %s", m);
		fz_drop_document(ctx, doc);
		return NULL;
	}
	/* a broken outline is no reason to give up on the text */
	fz_try(ctx)
		*outline = fz_load_outline(ctx, doc);
	fz_catch(ctx)
		*outline = NULL;
	return doc;
}

static enum doc_status split_mupdf(doc_reader *r, const char *path, enum doc_format fmt, char *err, size_t errlen)
{
	fz_context *ctx = r->ctx;
	fz_document *doc = NULL;
	fz_outline *outline = NULL;
	struct outline_list ol = { 0 };
	struct ppage win[2 * FURNITURE_WINDOW + 1];
	int npages = 0, paged = 1, next = 0, nwin = 0, emit, i;
	size_t oi = 0;
	enum doc_status st = DOC_OK;
	int page_errors = 0;

	memset(win, 0, sizeof win);
	doc = open_doc(r, path, fmt, &paged, &npages, &outline, err, errlen);
	if (doc == NULL)
		return DOC_FAILED;
	r->join_flags = TXT_JOIN_LAYOUT | (paged ? 0 : TXT_JOIN_REFLOW);
	if (outline && flatten_outline(r, doc, outline, &ol) < 0) {
		st = DOC_NOMEM;
		goto out;
	}
	fz_drop_outline(ctx, outline);
	outline = NULL;
	if (ol.n > 1)
		qsort(ol.v, ol.n, sizeof *ol.v, cmp_outline);
	r->st->pages = npages;

	/* Pages [emit - W, emit + W] are held; win[0] is the oldest. */
	for (emit = 0; emit < npages; emit++) {
		int centre;

		while (next < npages && next <= emit + FURNITURE_WINDOW) {
			int lr = load_page(r, doc, next, &win[nwin], err, errlen);

			if (lr < 0) {
				st = DOC_NOMEM;
				goto out;
			}
			if (lr > 0) {
				/* one bad page does not lose the rest of the book */
				page_errors++;
				msg_warn("%s: %s", path, err);
				page_clear(&win[nwin]);
				win[nwin].index = next;
			}
			nwin++;
			next++;
		}
		centre = emit - win[0].index;
		if (paged && npages >= 3)
			mark_furniture(win, nwin, centre);
		if (emit_page(r, &win[centre], paged, &ol, &oi) < 0) {
			st = r->stopped ? DOC_STOPPED : DOC_NOMEM;
			goto out;
		}
		if (emit + 1 - win[0].index > FURNITURE_WINDOW) {
			page_clear(&win[0]);
			memmove(win, win + 1, (size_t)(nwin - 1) * sizeof *win);
			memset(&win[nwin - 1], 0, sizeof win[0]);
			nwin--;
		}
	}
	/* outline entries past the last line still close the section */
	if (asm_end(r) < 0)
		st = r->stopped ? DOC_STOPPED : DOC_NOMEM;
	if (st == DOC_OK && page_errors > 0) {
		snprintf(err, errlen, "%d of %d pages could not be read", page_errors, npages);
		st = DOC_FAILED;
	}
out:
	for (i = 0; i < 2 * FURNITURE_WINDOW + 1; i++)
		page_clear(&win[i]);
	free(ol.v);
	fz_drop_outline(ctx, outline);
	fz_drop_document(ctx, doc);
	return st;
}

/* ---- text and Markdown ---- */

static int md_heading(const char *s, size_t len, size_t *tb, size_t *te)
{
	size_t i = 0, b, e;

	while (i < len && i < 3 && s[i] == ' ')
		i++;
	b = i;
	while (i < len && s[i] == '#')
		i++;
	if (i == b || i - b > 6 || (i < len && s[i] != ' ' && s[i] != '\t'))
		return 0;
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	e = len;
	while (e > i && (s[e - 1] == ' ' || s[e - 1] == '\t'))
		e--;
	while (e > i && s[e - 1] == '#')
		e--;
	*tb = i;
	*te = e;
	return 1;
}

static int md_keeps_line_break(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && s[i] == ' ')
		i++;
	if (i >= 4)
		return 1;	/* indented code */
	if (i + 1 < len && strchr("-*+>|", s[i]) && s[i] != '\0' && (s[i + 1] == ' ' || s[i] == '|'))
		return 1;
	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++;
	return i > 0 && i + 1 < len && (s[i] == '.' || s[i] == ')') && s[i + 1] == ' ';
}

static enum doc_status split_text(doc_reader *r, const char *path, int markdown, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	long lineno = 0;
	int blank = 1, fence = 0, rc = 0;
	sb raw = SB_INIT;

	if (f == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		return DOC_FAILED;
	}
	while (rc == 0 && (n = getline(&line, &cap, f)) >= 0) {
		size_t len = (size_t)n, bad = 0, tb, te;

		lineno++;
		if (r->opts.langchain) {
			/* the file's text as it is, line ends and all: invalid
			 * UTF-8 becomes U+FFFD, nothing else changes */
			size_t i;

			sb_truncate(&raw, 0);
			for (i = 0; i < len && rc == 0;) {
				int32_t cp;
				int invalid = 0;
				size_t k = u8_decode(line + i, len - i, &cp, &invalid);

				bad += (size_t)invalid;
				rc = invalid ? sb_put_cp(&raw, cp) : sb_append(&raw, line + i, k);
				i += k;
			}
			if (rc == 0)
				rc = split_feed(r->sp, sb_str(&raw), raw.len, 0, -1);
		} else {
			while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
				len--;
			sb_truncate(&r->norm, 0);
			if (markdown && len >= 3 && (memcmp(line, "```", 3) == 0 || memcmp(line, "~~~", 3) == 0)) {
				fence = !fence;
				continue;
			}
			if (!fence && markdown && md_heading(line, len, &tb, &te)) {
				int t = add_title(r, line + tb, te - tb);

				if (t < 0 || asm_section(r, t) < 0) {
					rc = -1;
					break;
				}
				rc = txt_normalize(line + tb, te - tb, &r->norm, &bad);
				if (rc == 0 && r->norm.len)
					rc = asm_line(r, r->norm.buf, r->norm.len, 0, JOIN_PARA, 1);
				blank = 1;	/* the heading is a paragraph of its own */
				goto counted;
			}
			rc = txt_normalize(line, len, &r->norm, &bad);
			if (rc < 0)
				break;
			if (r->norm.len == 0) {
				blank = 1;
			} else {
				enum join how = blank ? JOIN_PARA : JOIN_WORDS;

				if (markdown && !blank && (fence || md_keeps_line_break(line, len)))
					how = JOIN_LINE;
				if (txt_is_toc_line(r->norm.buf, r->norm.len))
					r->st->toc_lines++;
				else
					rc = asm_line(r, r->norm.buf, r->norm.len, 0, how, 0);
				blank = 0;
			}
		}
counted:
		if (bad) {
			if (r->st->bad_utf8 == 0)
				r->st->first_bad_line = lineno;
			r->st->bad_utf8 += (long)bad;
		}
	}
	if (rc == 0 && ferror(f)) {
		snprintf(err, errlen, "read error: %s", strerror(errno));
		fclose(f);
		free(line);
		sb_free(&raw);
		return DOC_FAILED;
	}
	fclose(f);
	free(line);
	sb_free(&raw);
	if (rc == 0)
		rc = asm_end(r);
	if (rc < 0)
		return r->stopped ? DOC_STOPPED : DOC_NOMEM;
	return DOC_OK;
}

/* ---- one file ---- */

/* SHA-256 of the file, its first and last bytes. */
static int read_whole(const char *path, char hash[65], char *head, size_t *headlen, char *tail, size_t *taillen,
		      char *err, size_t errlen)
{
	unsigned char buf[65536], digest[32];
	fz_sha256 sha;
	struct stat stt;
	ssize_t n;
	int fd = open(path, O_RDONLY);
	int i;

	if (fd < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &stt) < 0 || S_ISDIR(stt.st_mode)) {
		snprintf(err, errlen, "%s", S_ISDIR(stt.st_mode) ? "is a directory" : strerror(errno));
		close(fd);
		return -1;
	}
	*headlen = *taillen = 0;
	fz_sha256_init(&sha);
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		size_t m = (size_t)n;

		fz_sha256_update(&sha, buf, m);
		if (*headlen < HEAD_BYTES) {
			size_t k = HEAD_BYTES - *headlen < m ? HEAD_BYTES - *headlen : m;

			memcpy(head + *headlen, buf, k);
			*headlen += k;
		}
		/* keep the last TAIL_BYTES seen */
		if (m >= TAIL_BYTES) {
			memcpy(tail, buf + m - TAIL_BYTES, TAIL_BYTES);
			*taillen = TAIL_BYTES;
		} else {
			size_t keep = *taillen + m > TAIL_BYTES ? TAIL_BYTES - m : *taillen;

			memmove(tail, tail + *taillen - keep, keep);
			memcpy(tail + keep, buf, m);
			*taillen = keep + m;
		}
	}
	if (n < 0) {
		snprintf(err, errlen, "read error: %s", strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	fz_sha256_final(&sha, digest);
	for (i = 0; i < 32; i++)
		snprintf(hash + 2 * i, 3, "%02x", digest[i]);
	return 0;
}

enum doc_status doc_split_file(doc_reader *r, const char *path, doc_chunk_fn fn, void *ctx,
			       doc_stats *st, char *err, size_t errlen)
{
	static char head[HEAD_BYTES], tail[TAIL_BYTES];
	size_t headlen, taillen;
	enum doc_status res;
	enum doc_format fmt;

	memset(st, 0, sizeof *st);
	err[0] = '\0';
	if (read_whole(path, r->hash, head, &headlen, tail, &taillen, err, errlen) < 0)
		return DOC_FAILED;
	fmt = doc_sniff(head, headlen, tail, taillen, path);
	st->format = fmt;
	if (fmt == DOC_UNKNOWN) {
		snprintf(err, errlen, "not a document (unrecognised format)");
		return DOC_FAILED;
	}
	if (fmt == DOC_OFFICE) {
		snprintf(err, errlen, "an Office document, not read yet: convert it first"
			 " (libreoffice --headless --convert-to pdf FILE)");
		return DOC_FAILED;
	}
	if (fmt == DOC_PDF) {
		size_t look = taillen < 2048 ? taillen : 2048;

		if (memmem(tail + taillen - look, look, "%%EOF", 5) == NULL) {
			snprintf(err, errlen, "truncated or damaged: no %%EOF at the end of the PDF");
			return DOC_FAILED;
		}
	}
	r->sp = split_new(&r->opts, emit_chunk, r);
	if (r->sp == NULL)
		return DOC_NOMEM;
	r->fn = fn;
	r->fnctx = ctx;
	r->st = st;
	r->stopped = 0;
	r->has_pending = 0;
	r->nsizes = 0;
	r->sect_lines = r->sect_body = 0;
	memset(&r->last, 0, sizeof r->last);
	r->title = -1;
	r->join_flags = 0;
	r->nav = (txt_nav)TXT_NAV_INIT;
	r->warnings = 0;
	r->warning[0] = '\0';
	if (fmt == DOC_TEXT || fmt == DOC_MARKDOWN)
		res = split_text(r, path, fmt == DOC_MARKDOWN, err, errlen);
	else
		res = split_mupdf(r, path, fmt, err, errlen);
	st->engine_warnings = r->warnings;
	if (r->warnings && msg_verbosity >= 2)
		msg_info("%s: %ld warning(s) from mupdf, the last: %s", path, r->warnings, r->warning);
	split_free(r->sp);
	r->sp = NULL;
	free_titles(r);
	free_notes(r, r->nnotes);
	return res;
}
