/* The text cleaner (txt.h) and the splitter (split.h). The input's first
 * bytes choose the chunk size, the overlap and the rule set; the rest is
 * lines of any bytes. Each line is normalised (the result must be valid
 * UTF-8, trimmed, without runs of spaces, and normalising it again must
 * change nothing), classified, joined into paragraphs and split; raw input
 * that is valid UTF-8 is also split as it is. Every chunk must be non-empty
 * valid UTF-8 of at most `size` code points, on pages in order. */
#include "fuzz.h"
#include "sb.h"
#include "split.h"
#include "txt.h"

#include <string.h>

struct chunks {
	long size;
	long n;
	int last_page;
};

static int check_chunk(void *ctx, const char *text, size_t len, int page, int page_end, int title, int forced)
{
	struct chunks *c = ctx;
	size_t cps;

	(void)title;
	(void)forced;
	FUZZ_CHECK(len > 0, "empty chunk");
	FUZZ_CHECK(fuzz_valid_utf8(text, len), "chunk is not valid UTF-8");
	cps = u8_count(text, len);
	FUZZ_CHECK((long)cps <= c->size, "chunk of %zu code points, size %ld", cps, c->size);
	FUZZ_CHECK(page <= page_end, "chunk on pages %d..%d", page, page_end);
	FUZZ_CHECK(page >= c->last_page, "chunk on page %d after one on page %d", page, c->last_page);
	c->last_page = page;
	c->n++;
	return 0;
}

static void check_normalized(const char *s, size_t len, sb *again)
{
	size_t bad = 0;

	FUZZ_CHECK(fuzz_valid_utf8(s, len), "normalised text is not valid UTF-8");
	FUZZ_CHECK(memchr(s, '\0', len) == NULL, "normalised text holds a NUL");
	if (len > 0)
		FUZZ_CHECK(s[0] != ' ' && s[len - 1] != ' ', "normalised text is not trimmed");
	FUZZ_CHECK(memmem(s, len, "  ", 2) == NULL, "normalised text has a run of spaces");
	sb_truncate(again, 0);
	FUZZ_CHECK(txt_normalize(s, len, again, &bad) == 0, "out of memory");
	FUZZ_CHECK(bad == 0, "normalised text has bad UTF-8");
	FUZZ_CHECK(again->len == len && memcmp(sb_str(again), s, len) == 0,
		   "normalising twice changes the text: \"%.*s\" -> \"%s\"", (int)len, s, sb_str(again));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	split_opts o = { 0 };
	struct chunks c1 = { 0 }, c2 = { 0 };
	split *sp, *raw;
	sb norm = SB_INIT, again = SB_INIT, para = SB_INIT, key = SB_INIT;
	size_t i, start;
	int page = 1, mode, flags;
	txt_nav nav = TXT_NAV_INIT;

	o.size = 1 + (long)(fuzz_byte(&data, &size) % 200);
	o.overlap = (long)fuzz_byte(&data, &size) % o.size;
	mode = fuzz_byte(&data, &size);
	o.langchain = mode & 1;
	flags = (mode >> 1) & (TXT_JOIN_LAYOUT | TXT_JOIN_REFLOW);
	c1.size = c2.size = o.size;
	c1.last_page = c2.last_page = 0;
	sp = split_new(&o, check_chunk, &c1);
	raw = split_new(&o, check_chunk, &c2);
	FUZZ_CHECK(sp && raw, "out of memory");

	for (start = 0; start <= size; start = i + 1) {
		const char *line = (const char *)data + start;
		size_t len, bad = 0;

		for (i = start; i < size && data[i] != '\n'; i++)
			;
		len = i - start;
		sb_truncate(&norm, 0);
		FUZZ_CHECK(txt_normalize(line, len, &norm, &bad) == 0, "out of memory");
		check_normalized(sb_str(&norm), norm.len, &again);
		(void)txt_is_toc_line(norm.buf ? norm.buf : "", norm.len);
		(void)txt_furniture_key(norm.buf ? norm.buf : "", norm.len, &key);
		(void)txt_is_list_item(norm.buf ? norm.buf : "", norm.len);
		if (txt_nav_line(&nav, norm.buf ? norm.buf : "", norm.len, (mode >> 3) & 1))
			continue;
		if (txt_is_page_number(norm.buf ? norm.buf : "", norm.len) || norm.len == 0) {
			/* a paragraph ends */
			if (para.len > 0) {
				FUZZ_CHECK(split_feed(sp, para.buf, para.len, page, -1) == 0, "split_feed failed");
				FUZZ_CHECK(split_feed(sp, "\n\n", 2, page, -1) == 0, "split_feed failed");
			}
			sb_truncate(&para, 0);
			if (norm.len > 0)
				page++;
			continue;
		}
		FUZZ_CHECK(txt_join_line(&para, norm.buf, norm.len, flags) >= 0, "out of memory");
		FUZZ_CHECK(fuzz_valid_utf8(para.buf, para.len), "joined paragraph is not valid UTF-8");
		if (norm.len > 0 && norm.buf[0] == '#')
			FUZZ_CHECK(split_flush(sp) == 0, "split_flush failed");
	}
	if (para.len > 0)
		FUZZ_CHECK(split_feed(sp, para.buf, para.len, page, -1) == 0, "split_feed failed");
	FUZZ_CHECK(split_flush(sp) == 0, "split_flush failed");

	/* the raw text, in pieces cut at code point boundaries */
	if (fuzz_valid_utf8((const char *)data, size)) {
		size_t at = 0, step = 1 + size / 3;

		while (at < size) {
			size_t end = at + step < size ? at + step : size;

			while (end < size && (data[end] & 0xC0) == 0x80)
				end++;
			FUZZ_CHECK(split_feed(raw, (const char *)data + at, end - at, 1 + (int)(at / 64), 0) == 0,
				   "split_feed failed");
			at = end;
		}
		FUZZ_CHECK(split_flush(raw) == 0, "split_flush failed");
	}
	split_free(sp);
	split_free(raw);
	sb_free(&norm);
	sb_free(&again);
	sb_free(&para);
	sb_free(&key);
	return 0;
}
