/* The PDF path of rag-split (doc.h through mupdf): a damaged file must be
 * an error with a reason or a set of sane chunks, never a crash. doc_split_file
 * reads a path, so each input is written to one scratch file first; its name
 * ends in .pdf, but the format is still found by content, so inputs that
 * stop looking like a PDF exercise the other readers too. */
#include "fuzz.h"
#include "doc.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static doc_reader *reader;
static char path[256];
static split_opts opts = { .size = 300, .overlap = 50 };

static int check_chunk(void *ctx, const char *hash, const doc_chunk *c)
{
	long *n = ctx;

	FUZZ_CHECK(strlen(hash) == 64, "hash of %zu characters", strlen(hash));
	FUZZ_CHECK(c->len > 0 && fuzz_valid_utf8(c->text, c->len), "chunk is empty or not valid UTF-8");
	FUZZ_CHECK((long)u8_count(c->text, c->len) <= opts.size, "chunk longer than the size");
	FUZZ_CHECK(c->page <= c->page_end, "chunk on pages %d..%d", c->page, c->page_end);
	if (c->title)
		FUZZ_CHECK(fuzz_valid_utf8(c->title, strlen(c->title)), "title is not valid UTF-8");
	(*n)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	doc_stats st;
	char err[512];
	long n = 0;
	enum doc_status ds;
	int fd;

	if (reader == NULL) {
		const char *tmp = getenv("TMPDIR");

		snprintf(path, sizeof path, "%s/ragpipe-fuzz-%ld.pdf", tmp ? tmp : "/tmp", (long)getpid());
		reader = doc_reader_new(&opts);
		FUZZ_CHECK(reader != NULL, "doc_reader_new failed");
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	FUZZ_CHECK(fd >= 0, "cannot write %s", path);
	FUZZ_CHECK(write(fd, data, size) == (ssize_t)size, "cannot write %s", path);
	close(fd);
	ds = doc_split_file(reader, path, check_chunk, &n, &st, err, sizeof err);
	FUZZ_CHECK(ds == DOC_OK || ds == DOC_FAILED, "doc_split_file returned %d", (int)ds);
	if (ds == DOC_FAILED)
		FUZZ_CHECK(err[0] != '\0' && n >= 0, "a failure without a reason");
	else
		FUZZ_CHECK(n == st.chunks, "%ld chunks seen, %ld counted", n, st.chunks);
	unlink(path);
	return 0;
}
