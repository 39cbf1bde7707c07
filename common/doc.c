#include "doc.h"
#include "msg.h"
#include "sb.h"
#include "txt.h"
#include "u8.h"

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
		if (memmem(tail, taillen, ".jpg", 4) || memmem(tail, taillen, ".png", 4)
		    || memmem(tail, taillen, ".jpeg", 5))
			return DOC_CBZ;
		return DOC_UNKNOWN;
	}
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

const char *doc_format_name(enum doc_format f)
{
	static const char *names[] = { "unknown", "PDF", "XPS", "EPUB", "FB2", "MOBI", "HTML", "CBZ",
				       "text", "Markdown" };

	return names[f];
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

struct pline {
	char *text;
	size_t len;
	float y;
	float x0, x1;	/* left and right edges */
	int new_block;
	int furniture;
};

struct ppage {
	int index;
	struct pline *lines;
	size_t n, cap;
	char *keys[2][FURNITURE_ZONE];	/* top and bottom zone keys */
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

	/* the paragraph being assembled: the last line is held back until the
	 * next one shows how to join them */
	sb pending;
	int pending_page, pending_title, has_pending;
	int title;
	sb tmp, norm;
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

static int emit_chunk(void *ctx, const char *text, size_t len, int page, int page_end, int title, int forced)
{
	doc_reader *r = ctx;
	doc_chunk c;

	c.text = text;
	c.len = len;
	c.page = page;
	c.page_end = page_end;
	c.title = title >= 0 && (size_t)title < r->ntitles && r->titles[title][0] ? r->titles[title] : NULL;
	c.forced = forced;
	r->st->chunks++;
	if (forced)
		r->st->forced_cuts++;
	if (r->fn(r->fnctx, r->hash, &c) < 0) {
		r->stopped = 1;
		return -1;
	}
	return 0;
}

/* ---- paragraph assembly ---- */

static int feed(doc_reader *r, const char *s, size_t len)
{
	return split_feed(r->sp, s, len, r->pending_page, r->pending_title);
}

enum join { JOIN_WORDS, JOIN_LINE, JOIN_PARA };

/* Add one cleaned, non-empty line. */
static int asm_line(doc_reader *r, const char *line, size_t len, int page, enum join how)
{
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
	if (asm_flush_pending(r) < 0)
		return -1;
	if (!r->opts.langchain && split_flush(r->sp) < 0)
		return -1;
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

	for (i = 0; i < p->n; i++)
		free(p->lines[i].text);
	free(p->lines);
	for (z = 0; z < 2; z++)
		for (k = 0; k < FURNITURE_ZONE; k++)
			free(p->keys[z][k]);
	memset(p, 0, sizeof *p);
}

static int page_add_line(struct ppage *p, const char *text, size_t len, fz_rect box, int new_block)
{
	struct pline *l;

	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 32;
		struct pline *v = realloc(p->lines, cap * sizeof *v);

		if (v == NULL)
			return -1;
		p->lines = v;
		p->cap = cap;
	}
	l = &p->lines[p->n];
	l->text = malloc(len + 1);
	if (l->text == NULL)
		return -1;
	memcpy(l->text, text, len);
	l->text[len] = '\0';
	l->len = len;
	l->y = box.y0;
	l->x0 = box.x0;
	l->x1 = box.x1;
	l->new_block = new_block;
	l->furniture = 0;
	p->n++;
	return 0;
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
			if (p->keys[side][k] == NULL)
				return -1;
		}
	}
	return 0;
}

static int zone_has(const struct ppage *p, int side, const char *key)
{
	size_t k;

	for (k = 0; k < FURNITURE_ZONE; k++)
		if (p->keys[side][k] && strcmp(p->keys[side][k], key) == 0)
			return 1;
	return 0;
}

/* Mark the lines of win[c] that recur at the same edge of most pages near it. */
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
			int count = 0;

			/* running heads are short; body text is not furniture */
			if (key == NULL || key[0] == '\0' || strlen(key) > FURNITURE_MAX_KEY)
				continue;
			for (q = 0; q < nwin; q++)
				count += zone_has(&win[q], side, key);
			if (count >= 3 && count * 2 >= nwin)
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

/* Read page number idx into p: cleaned lines with their block starts. */
static int load_page(doc_reader *r, fz_document *doc, int idx, struct ppage *p, char *err, size_t errlen)
{
	fz_context *ctx = r->ctx;
	fz_stext_page *tp;
	int rc = 0;

	p->index = idx;
	tp = page_text(ctx, doc, idx, err, errlen);
	if (tp == NULL)
		return 1;
	for (fz_stext_block *b = tp->first_block; b && rc == 0; b = b->next) {
		int first = 1;

		if (b->type != FZ_STEXT_BLOCK_TEXT)
			continue;
		for (fz_stext_line *l = b->u.t.first_line; l && rc == 0; l = l->next) {
			sb_truncate(&r->tmp, 0);
			for (fz_stext_char *ch = l->first_char; ch; ch = ch->next)
				if (!txt_is_unmapped(ch->c) && sb_put_cp(&r->tmp, ch->c) < 0)
					rc = -1;
			sb_truncate(&r->norm, 0);
			if (rc == 0 && txt_normalize(sb_str(&r->tmp), r->tmp.len, &r->norm, NULL) < 0)
				rc = -1;
			if (rc == 0 && r->norm.len > 0) {
				rc = page_add_line(p, r->norm.buf, r->norm.len, l->bbox, first);
				first = 0;
			}
		}
	}
	fz_drop_stext_page(ctx, tp);
	if (rc == 0 && page_keys(p, &r->tmp) < 0)
		rc = -1;
	return rc;
}

/* Hand the kept lines of a page to the assembler, opening sections where the
 * outline says they begin. */
/* Does line i fill the width of the text on its page? */
static int full_width(const struct ppage *p, size_t i)
{
	float left = p->lines[i].x0, right = p->lines[i].x1;
	size_t k;

	for (k = 0; k < p->n; k++) {
		if (p->lines[k].furniture)
			continue;
		if (p->lines[k].x0 < left)
			left = p->lines[k].x0;
		if (p->lines[k].x1 > right)
			right = p->lines[k].x1;
	}
	return right > left && p->lines[i].x1 >= right - (right - left) * 0.1f;
}

/* Hand the kept lines of a page to the assembler, opening sections where the
 * outline says they begin. */
static int emit_page(doc_reader *r, struct ppage *p, int paged, const struct outline_list *ol, size_t *oi)
{
	size_t i;
	int page_no = paged ? p->index + 1 : 0;
	int first = 1;
	/* the last kept line, when it was a block of one full-width line: mupdf
	 * makes the indented first line of a paragraph a block of its own */
	long lone = -1;

	for (i = 0; i < p->n; i++) {
		struct pline *l = &p->lines[i];
		enum join how;

		/* outline entries that begin at or above this line */
		while (*oi < ol->n && (ol->v[*oi].page < p->index
				       || (ol->v[*oi].page == p->index && ol->v[*oi].y <= l->y + 2))) {
			if (asm_section(r, ol->v[*oi].title) < 0)
				return -1;
			lone = -1;
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
		if (txt_is_toc_line(l->text, l->len)) {
			r->st->toc_lines++;
			continue;
		}
		if (l->new_block && (first || lone >= 0) && continues(r, l->text, l->len))
			how = JOIN_WORDS;
		else
			how = l->new_block ? JOIN_PARA : JOIN_WORDS;
		first = 0;
		lone = l->new_block && (i + 1 == p->n || p->lines[i + 1].new_block) && full_width(p, i) ? (long)i : -1;
		if (asm_line(r, l->text, l->len, page_no, how) < 0)
			return -1;
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
					rc = asm_line(r, r->norm.buf, r->norm.len, 0, JOIN_PARA);
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
					rc = asm_line(r, r->norm.buf, r->norm.len, 0, how);
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
	return res;
}
