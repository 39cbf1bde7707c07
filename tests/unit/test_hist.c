/* Unit tests of common/hist: the conversation file. */
#include "unit.h"
#include "hist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/ragpipe-test-hist.XXXXXX";

static const char *path(const char *name)
{
	static char buf[256];

	snprintf(buf, sizeof buf, "%s/%s", dir, name);
	return buf;
}

static void put(const char *name, const char *text)
{
	FILE *f = fopen(path(name), "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static const char *get(const char *name, char *buf, size_t len)
{
	FILE *f = fopen(path(name), "r");
	size_t n = 0;

	buf[0] = '\0';
	if (f) {
		n = fread(buf, 1, len - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

TEST(new_file_then_appends)
{
	hist h;
	char err[300], buf[1000];

	CHECK_INT(hist_open(&h, path("new.jsonl"), 2, err, sizeof err), 0);
	CHECK_INT(hist_count(&h), 0);
	CHECK_INT(hist_append(&h, "q1", 2, "a1 [1]", 6, err, sizeof err), 0);
	CHECK_INT(hist_append(&h, "q\"2\n", 4, "a2", 2, err, sizeof err), 0);
	CHECK_INT(hist_append(&h, "q3", 2, "a3", 2, err, sizeof err), 0);
	CHECK_STR(get("new.jsonl", buf, sizeof buf), "{\"question\":\"q1\",\"answer\":\"a1 [1]\"}\n"
		  "{\"question\":\"q\\\"2\\n\",\"answer\":\"a2\"}\n{\"question\":\"q3\",\"answer\":\"a3\"}\n");
	/* the last two kept, oldest first */
	CHECK_INT(hist_count(&h), 2);
	CHECK_STR(hist_at(&h, 0)->question, "q\"2\n");
	CHECK_STR(hist_at(&h, 1)->answer, "a3");
	CHECK(hist_at(&h, 2) == NULL);
	hist_close(&h);
	/* read back: the last two */
	CHECK_INT(hist_open(&h, path("new.jsonl"), 2, err, sizeof err), 0);
	CHECK_INT(hist_count(&h), 2);
	CHECK_STR(hist_at(&h, 0)->question, "q\"2\n");
	CHECK_STR(hist_at(&h, 1)->question, "q3");
	hist_close(&h);
	/* no turns wanted: none kept, but the file still grows */
	CHECK_INT(hist_open(&h, path("new.jsonl"), 0, err, sizeof err), 0);
	CHECK_INT(hist_count(&h), 0);
	CHECK_INT(hist_append(&h, "q4", 2, "a4", 2, err, sizeof err), 0);
	CHECK_INT(hist_count(&h), 0);
	hist_close(&h);
	CHECK(strstr(get("new.jsonl", buf, sizeof buf), "\"q4\"") != NULL);
}

TEST(bad_lines)
{
	hist h;
	char err[300];

	put("bad1.jsonl", "{\"question\":\"a\",\"answer\":\"b\"}\n\n{\"question\":\"c\",\"answer\":5}\n");
	CHECK_INT(hist_open(&h, path("bad1.jsonl"), 4, err, sizeof err), -1);
	CHECK(strstr(err, "bad1.jsonl: line 3: not a turn (no \"question\" and \"answer\" strings)") != NULL);
	put("bad2.jsonl", "not json\n");
	CHECK_INT(hist_open(&h, path("bad2.jsonl"), 4, err, sizeof err), -1);
	CHECK(strstr(err, "bad2.jsonl: line 1: not valid JSON") != NULL);
	/* other members are fine: an answer record is a turn */
	put("rec.jsonl", "{\"question\":\"a\",\"answer\":\"b\",\"citations\":[],\"answerer\":\"x\"}\n");
	CHECK_INT(hist_open(&h, path("rec.jsonl"), 4, err, sizeof err), 0);
	CHECK_INT(hist_count(&h), 1);
	hist_close(&h);
}

TEST(no_final_newline_and_links)
{
	hist h;
	char err[300], buf[1000];

	put("nonl.jsonl", "{\"question\":\"a\",\"answer\":\"b\"}");
	CHECK_INT(hist_open(&h, path("nonl.jsonl"), 4, err, sizeof err), 0);
	CHECK_INT(hist_append(&h, "c", 1, "d", 1, err, sizeof err), 0);
	hist_close(&h);
	CHECK_STR(get("nonl.jsonl", buf, sizeof buf),
		  "{\"question\":\"a\",\"answer\":\"b\"}\n{\"question\":\"c\",\"answer\":\"d\"}\n");
	/* through a link the file it names grows, the link stays */
	CHECK_INT(symlink("nonl.jsonl", path("link.jsonl")), 0);
	CHECK_INT(hist_open(&h, path("link.jsonl"), 4, err, sizeof err), 0);
	CHECK_INT(hist_count(&h), 2);
	CHECK_INT(hist_append(&h, "e", 1, "f", 1, err, sizeof err), 0);
	hist_close(&h);
	CHECK(strstr(get("nonl.jsonl", buf, sizeof buf), "\"e\"") != NULL);
	{
		struct stat st;

		CHECK(lstat(path("link.jsonl"), &st) == 0 && S_ISLNK(st.st_mode));
	}
}

TEST(failed_append_leaves_the_file)
{
	hist h;
	char err[300], buf[1000];

	if (geteuid() == 0) {
		/* root writes anywhere: make the target a directory's place instead */
		CHECK_INT(mkdir(path("ro"), 0755), 0);
		put("ro/h.jsonl", "{\"question\":\"a\",\"answer\":\"b\"}\n");
		CHECK_INT(hist_open(&h, path("ro/h.jsonl"), 4, err, sizeof err), 0);
		/* a directory where the temporary file would go */
		{
			char tmp[300];

			snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path("ro/h.jsonl"), (long)getpid());
			CHECK_INT(mkdir(tmp, 0755), 0);
		}
	} else {
		CHECK_INT(mkdir(path("ro"), 0755), 0);
		put("ro/h.jsonl", "{\"question\":\"a\",\"answer\":\"b\"}\n");
		CHECK_INT(hist_open(&h, path("ro/h.jsonl"), 4, err, sizeof err), 0);
		CHECK_INT(chmod(path("ro"), 0555), 0);
	}
	CHECK_INT(hist_append(&h, "c", 1, "d", 1, err, sizeof err), -1);
	CHECK(strstr(err, "cannot append to the history") != NULL);
	CHECK_INT(hist_count(&h), 1);
	hist_close(&h);
	CHECK_STR(get("ro/h.jsonl", buf, sizeof buf), "{\"question\":\"a\",\"answer\":\"b\"}\n");
	chmod(path("ro"), 0755);
}

int main(void)
{
	char cmd[300];
	int r;

	if (mkdtemp(dir) == NULL) {
		printf("not ok 1 - mkdtemp\n");
		return 1;
	}
	RUN(new_file_then_appends);
	RUN(bad_lines);
	RUN(no_final_newline_and_links);
	RUN(failed_append_leaves_the_file);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	r = system(cmd);
	(void)r;
	return unit_done();
}
