/* Unit tests of common/paths: which files a program reads, in which order. */
#include "unit.h"
#include "paths.h"
#include "msg.h"

#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[64];	/* a temporary directory for the whole run */

static void make_file(const char *rel, const char *content, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", root, rel);
	f = fopen(path, "wb");
	if (f == NULL) {
		printf("# cannot create %s\n", path);
		return;
	}
	fwrite(content, 1, len, f);
	fclose(f);
}

#define MAKE_FILE(rel, lit) make_file((rel), (lit), sizeof(lit) - 1)

static void make_dir(const char *rel)
{
	char path[512];

	snprintf(path, sizeof path, "%s/%s", root, rel);
	mkdir(path, 0755);
}

static const char *in_root(const char *rel)
{
	static char path[4][512];
	static int k;

	k = (k + 1) % 4;
	snprintf(path[k], sizeof path[k], "%s/%s", root, rel);
	return path[k];
}

/* All the paths p gives, joined with '|', walked ones marked with '*'. */
static const char *all_paths(paths *p)
{
	static char out[4096];
	const char *path;
	int walked = -1, r;
	size_t n = 0;

	out[0] = '\0';
	while ((r = paths_next(p, &path, &walked)) == 1) {
		const char *shown = strncmp(path, root, strlen(root)) == 0 ? path + strlen(root) : path;

		n += (size_t)snprintf(out + n, sizeof out - n, "%s%s%s", n ? "|" : "", walked ? "*" : "", shown);
		if (n >= sizeof out)
			break;
	}
	if (r < 0)
		snprintf(out + strlen(out), sizeof out - strlen(out), "|(error)");
	/* the end is sticky */
	if (r == 0 && paths_next(p, &path, &walked) != 0)
		snprintf(out + strlen(out), sizeof out - strlen(out), "|(more after the end)");
	return out;
}

TEST(arguments_in_order)
{
	char *args[] = { "b.txt", "a.txt", "dir/c.md", "-" };
	paths *p = paths_new(args, 4, NULL, 0, 0);

	if (!CHECK(p != NULL))
		return;
	CHECK_STR(all_paths(p), "b.txt|a.txt|dir/c.md|-");
	CHECK(!paths_failed(p));
	paths_free(p);
	/* nothing at all */
	p = paths_new(NULL, 0, NULL, 0, 0);
	if (!CHECK(p != NULL))
		return;
	CHECK_STR(all_paths(p), "");
	CHECK(!paths_failed(p));
	paths_free(p);
}

/* A name that does not exist is not dropped silently: either it is handed
 * out (for the reader to report) or it is reported here. */
TEST(missing_file_not_dropped)
{
	char *args[] = { "/nonexistent/ragpipe-test-file" };
	paths *p = paths_new(args, 1, NULL, 0, 0);
	const char *out;

	if (!CHECK(p != NULL))
		return;
	out = all_paths(p);
	CHECK(strcmp(out, "/nonexistent/ragpipe-test-file") == 0 || paths_failed(p));
	paths_free(p);
}

TEST(list_file_lines)
{
	char *args[] = { "first.txt" };
	paths *p;

	/* blank lines skipped, CRLF and a missing last newline handled,
	 * spaces inside names kept */
	MAKE_FILE("list.txt", "x.txt\r\n\r\n\nname with spaces.pdf\n\ny.txt\nz.txt");
	p = paths_new(args, 1, in_root("list.txt"), 0, 0);
	if (!CHECK(p != NULL))
		return;
	CHECK_STR(all_paths(p), "first.txt|x.txt|name with spaces.pdf|y.txt|z.txt");
	CHECK(!paths_failed(p));
	paths_free(p);
	/* an empty list */
	MAKE_FILE("empty.txt", "");
	p = paths_new(NULL, 0, in_root("empty.txt"), 0, 0);
	if (!CHECK(p != NULL))
		return;
	CHECK_STR(all_paths(p), "");
	paths_free(p);
}

TEST(list_file_nul_separated)
{
	paths *p;

	/* names may hold newlines and carriage returns; empty names skipped */
	MAKE_FILE("list0", "a b.txt\0\0c\nd.txt\0e\r\0f.txt");
	p = paths_new(NULL, 0, in_root("list0"), 1, 0);
	if (!CHECK(p != NULL))
		return;
	CHECK_STR(all_paths(p), "a b.txt|c\nd.txt|e\r|f.txt");
	paths_free(p);
}

TEST(list_from_stdin)
{
	paths *p;

	MAKE_FILE("stdin-list", "one\ntwo\n");
	if (!CHECK(freopen(in_root("stdin-list"), "r", stdin) != NULL))
		return;
	p = paths_new(NULL, 0, "-", 0, 0);
	if (!CHECK(p != NULL))
		return;
	CHECK_STR(all_paths(p), "one|two");
	paths_free(p);
}

TEST(missing_list_file)
{
	paths *p = paths_new(NULL, 0, "/nonexistent/ragpipe-list", 0, 0);

	CHECK(p == NULL);	/* reported */
	paths_free(p);
}

/* The tree used by the walking tests. */
static void make_tree(void)
{
	make_dir("tree");
	MAKE_FILE("tree/b.txt", "b");
	MAKE_FILE("tree/a.txt", "a");
	MAKE_FILE("tree/C.txt", "C");			/* 'C' < 'a' in byte order */
	MAKE_FILE("tree/\xC3\xA9.txt", "e");		/* é.txt: after ASCII */
	MAKE_FILE("tree/.hidden", "h");
	make_dir("tree/.git");
	MAKE_FILE("tree/.git/config", "g");
	make_dir("tree/sub");
	MAKE_FILE("tree/sub/z.md", "z");
	MAKE_FILE("tree/sub/a.md", "a");
	make_dir("tree/sub/deeper");
	MAKE_FILE("tree/sub/deeper/x.txt", "x");
	make_dir("tree/sub-2");				/* '-' < '/' : sorts by name, not path */
	MAKE_FILE("tree/sub-2/y.txt", "y");
	make_dir("tree/empty");
	mkfifo(in_root("tree/fifo"), 0644);		/* not a regular file: skipped on a walk */
	if (symlink(".", in_root("tree/loop")) != 0)	/* a cycle: not followed */
		printf("# symlink failed\n");
	if (symlink("a.txt", in_root("tree/link.txt")) != 0)	/* a link to a file is a file */
		printf("# symlink failed\n");
}

TEST(walk_sorted_hidden_skipped)
{
	char *args[] = { NULL };
	char dir[512];
	paths *p;

	snprintf(dir, sizeof dir, "%s/tree", root);
	args[0] = dir;
	p = paths_new(args, 1, NULL, 0, 1);
	if (!CHECK(p != NULL))
		return;
	CHECK_STR(all_paths(p), "*/tree/C.txt|*/tree/a.txt|*/tree/b.txt|*/tree/link.txt"
		  "|*/tree/sub/a.md|*/tree/sub/deeper/x.txt|*/tree/sub/z.md|*/tree/sub-2/y.txt|*/tree/\xC3\xA9.txt");
	CHECK(!paths_failed(p));
	paths_free(p);

	/* a trailing slash does not double */
	snprintf(dir, sizeof dir, "%s/tree/sub/", root);
	p = paths_new(args, 1, NULL, 0, 1);
	if (!CHECK(p != NULL))
		return;
	CHECK_STR(all_paths(p), "*/tree/sub/a.md|*/tree/sub/deeper/x.txt|*/tree/sub/z.md");
	paths_free(p);
}

/* An empty directory gives nothing and is no failure. */
TEST(walk_empty_directory)
{
	char d[512];
	char *args[] = { d };
	paths *p;

	snprintf(d, sizeof d, "%s/tree/empty", root);
	p = paths_new(args, 1, NULL, 0, 1);
	if (!CHECK(p != NULL))
		return;
	CHECK_STR(all_paths(p), "");
	CHECK(!paths_failed(p));
	paths_free(p);
}

/* Named files and walked directories mix, in the order given. */
TEST(walk_mixed_with_files_and_list)
{
	char a[512], b[512], d[512];
	char *args[] = { a, d, b };
	paths *p;
	char list[1024];

	snprintf(a, sizeof a, "%s/tree/b.txt", root);
	snprintf(b, sizeof b, "%s/tree/a.txt", root);
	snprintf(d, sizeof d, "%s/tree/sub/deeper", root);
	snprintf(list, sizeof list, "%s/tree/sub-2\n%s/tree/C.txt\n", root, root);
	make_file("dirlist", list, strlen(list));
	p = paths_new(args, 3, in_root("dirlist"), 0, 1);
	if (!CHECK(p != NULL))
		return;
	CHECK_STR(all_paths(p), "/tree/b.txt|*/tree/sub/deeper/x.txt|/tree/a.txt|*/tree/sub-2/y.txt|/tree/C.txt");
	CHECK(!paths_failed(p));
	paths_free(p);
}

/* Without recursion a directory is reported, passed over, and remembered. */
TEST(directory_without_recursion)
{
	char a[512], d[512], b[512];
	char *args[] = { a, d, b };
	paths *p;

	snprintf(a, sizeof a, "%s/tree/a.txt", root);
	snprintf(d, sizeof d, "%s/tree/sub", root);
	snprintf(b, sizeof b, "%s/tree/b.txt", root);
	p = paths_new(args, 3, NULL, 0, 0);
	if (!CHECK(p != NULL))
		return;
	CHECK(!paths_failed(p));
	CHECK_STR(all_paths(p), "/tree/a.txt|/tree/b.txt");
	CHECK(paths_failed(p));
	paths_free(p);

	/* the same for a directory named in a list */
	{
		char list[600];

		snprintf(list, sizeof list, "%s/tree\n", root);
		make_file("dirlist2", list, strlen(list));
	}
	p = paths_new(NULL, 0, in_root("dirlist2"), 0, 0);
	if (!CHECK(p != NULL))
		return;
	CHECK_STR(all_paths(p), "");
	CHECK(paths_failed(p));
	paths_free(p);
}

/* Stopping early frees everything (valgrind checks). */
TEST(free_midway)
{
	char d[512];
	char *args[] = { d };
	paths *p;
	const char *path;
	int walked;

	snprintf(d, sizeof d, "%s/tree", root);
	p = paths_new(args, 1, in_root("list.txt"), 0, 1);
	if (!CHECK(p != NULL))
		return;
	CHECK_INT(paths_next(p, &path, &walked), 1);
	CHECK_INT(paths_next(p, &path, &walked), 1);
	paths_free(p);
	paths_free(NULL);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int main(void)
{
	int status;

	/* messages on stderr read as TAP comments */
	msg_progname = "# test_paths";
	snprintf(root, sizeof root, "/tmp/ragpipe-paths-XXXXXX");
	if (mkdtemp(root) == NULL) {
		printf("Bail out! cannot create a temporary directory\n");
		return 1;
	}
	make_tree();
	RUN(arguments_in_order);
	RUN(missing_file_not_dropped);
	RUN(list_file_lines);
	RUN(list_file_nul_separated);
	RUN(list_from_stdin);
	RUN(missing_list_file);
	RUN(walk_empty_directory);
	RUN(walk_sorted_hidden_skipped);
	RUN(walk_mixed_with_files_and_list);
	RUN(directory_without_recursion);
	RUN(free_midway);
	status = unit_done();
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return status;
}
