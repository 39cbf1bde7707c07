/* rag-split: documents to chunk records. */
#include "doc.h"
#include "jl.h"
#include "msg.h"
#include "opt.h"
#include "par.h"
#include "paths.h"
#include "prog.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
	"usage: rag-split [-hqvr0] [-j N] [-s N] [-o N] [-T FILE] [--separators JSON] [--compat langchain] [FILE...]\n"
	"Split documents (PDF, EPUB, XPS, FB2, MOBI, HTML, text, Markdown) into chunk records.\n"
	"\n"
	"  -s, --size N          longest chunk, in characters (default 1000)\n"
	"  -o, --overlap N       characters shared by consecutive chunks (default 150)\n"
	"      --separators JSON separators from coarse to fine, as a JSON array of strings\n"
	"      --compat langchain  cut exactly as LangChain's RecursiveCharacterTextSplitter\n"
	"  -T, --files-from FILE read the paths to split from FILE ('-': standard input)\n"
	"  -0, --null            paths in FILE are separated by NUL, not newline\n"
	"  -r, --recursive       walk directories\n"
	"  -j, --jobs N          split N files at once (default 1)\n"
	"  -q, --quiet           no warnings, no progress\n"
	"  -v, --verbose         say what was cleaned from each file\n"
	"  -h, --help            this text\n"
	"      --version         print the version\n";

enum { OPT_SEPARATORS = OPT_FIRST_PRIVATE, OPT_COMPAT };

struct run {
	doc_reader *reader;
	paths *paths;
	const char *path;	/* the current job's file */
	int walked;
	FILE *out;
	long seq;
	int write_failed;
	int status;
	long files, chunks;
	prog *progress;
};

static int write_chunk(void *ctx, const char *hash, const doc_chunk *c)
{
	struct run *run = ctx;
	json_object *o = json_object_new_object();
	char id[64];
	size_t plen = strlen(run->path);
	char *full;
	int r = -1;

	if (o == NULL)
		return -1;
	run->seq++;
	snprintf(id, sizeof id, "#%ld", run->seq);
	full = malloc(plen + strlen(id) + 1);
	if (full == NULL)
		goto out;
	memcpy(full, run->path, plen);
	strcpy(full + plen, id);
	if (json_object_object_add(o, "id", json_object_new_string(full))
	    || json_object_object_add(o, "source", json_object_new_string(run->path))
	    || json_object_object_add(o, "doc", json_object_new_string(hash))
	    || json_object_object_add(o, "seq", json_object_new_int64(run->seq)))
		goto out;
	if (c->page > 0 && (json_object_object_add(o, "page", json_object_new_int(c->page))
			    || json_object_object_add(o, "page_end", json_object_new_int(c->page_end))))
		goto out;
	if (c->title && json_object_object_add(o, "title", json_object_new_string(c->title)))
		goto out;
	if (json_object_object_add(o, "text", json_object_new_string_len(c->text, (int)c->len)))
		goto out;
	if (c->nfootnotes > 0) {
		json_object *a = json_object_new_array();
		size_t i;

		if (a == NULL || json_object_object_add(o, "footnotes", a))
			goto out;
		for (i = 0; i < c->nfootnotes; i++)
			if (json_object_array_add(a, json_object_new_string(c->footnotes[i])))
				goto out;
	}
	if (c->forced)
		msg_info("%s: chunk %ld: no separator within --size characters, cut mid-word", run->path, run->seq);
	if (jl_write(run->out, o) < 0) {
		run->write_failed = errno ? errno : EIO;
		goto out;
	}
	run->chunks++;
	r = 0;
out:
	free(full);
	json_object_put(o);
	return r;
}

/* Split the current file; returns 0, or 1 when it failed. */
static int split_one(struct run *run)
{
	doc_stats st;
	char err[512];
	enum doc_status ds;

	run->seq = 0;
	ds = doc_split_file(run->reader, run->path, write_chunk, run, &st, err, sizeof err);
	switch (ds) {
	case DOC_OK:
		break;
	case DOC_FAILED:
		if (run->walked && st.format == DOC_UNKNOWN) {
			msg_info("%s: skipped: %s", run->path, err);
			return 0;
		}
		msg_error("%s: %s", run->path, err);
		return 1;
	case DOC_STOPPED:
		return run->write_failed ? -1 : 1;
	case DOC_NOMEM:
		msg_error("%s: out of memory", run->path);
		return 1;
	}
	if (st.bad_utf8) {
		msg_warn("%s: line %ld: invalid UTF-8 replaced by U+FFFD", run->path, st.first_bad_line);
		msg_info("%s: %ld invalid byte%s in all", run->path, st.bad_utf8, st.bad_utf8 == 1 ? "" : "s");
	}
	if (st.chunks == 0) {
		if (st.format == DOC_PDF && st.pages > 0)
			msg_warn("%s: no text layer (scanned?): pages that are images are not read yet;"
				 " give it a text layer first (ocrmypdf FILE OUT.pdf, Debian package ocrmypdf)", run->path);
		else
			msg_warn("%s: no text", run->path);
	}
	msg_info("%s: %d pages, %ld chunks, removed %ld toc lines, %ld header/footer lines, %ld footnote lines, "
		 "%ld hyphenations", run->path, st.pages, st.chunks, st.toc_lines, st.furniture_lines,
		 st.footnote_lines, st.hyphenations);
	if (st.nav_lines)
		msg_info("%s: removed %ld navigation lines", run->path, st.nav_lines);
	return 0;
}

static int next_job(void *ctx, long job)
{
	struct run *run = ctx;
	int r;

	(void)job;
	r = paths_next(run->paths, &run->path, &run->walked);
	if (r < 0)
		return -1;
	if (r == 0)
		return 0;
	return 1;
}

static int run_job(void *ctx, long job, FILE *out)
{
	struct run *run = ctx;
	int r;

	(void)job;
	run->out = out;
	r = split_one(run);
	return r < 0 ? 1 : r;
}

static void job_done(void *ctx, long job, int status)
{
	struct run *run = ctx;

	(void)job;
	run->files++;
	if (status < 0)
		msg_error("a worker was killed by signal %d", -status);
	if (status != 0)
		run->status = EXIT_SOME_FAILED;
	prog_update(run->progress, run->files, NULL);
}

static int parse_separators(const char *arg, const char ***out, int *n)
{
	json_object *a = json_tokener_parse(arg);
	size_t i, len;
	const char **v;

	if (a == NULL || !json_object_is_type(a, json_type_array)) {
		json_object_put(a);
		return -1;
	}
	len = json_object_array_length(a);
	if (len == 0) {
		/* as LangChain does with an empty list: the default separators */
		json_object_put(a);
		*out = NULL;
		*n = 0;
		return 0;
	}
	v = calloc(len, sizeof *v);
	if (v == NULL) {
		json_object_put(a);
		return -1;
	}
	for (i = 0; i < len; i++) {
		json_object *e = json_object_array_get_idx(a, i);

		if (!json_object_is_type(e, json_type_string) || (v[i] = strdup(json_object_get_string(e))) == NULL) {
			while (i-- > 0)
				free((char *)v[i]);
			free(v);
			json_object_put(a);
			return -1;
		}
	}
	json_object_put(a);
	*out = v;
	*n = (int)len;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "overlap", required_argument, NULL, 'o' },
		{ "separators", required_argument, NULL, OPT_SEPARATORS },
		{ "compat", required_argument, NULL, OPT_COMPAT },
		{ "files-from", required_argument, NULL, 'T' },
		{ "null", no_argument, NULL, '0' },
		{ "recursive", no_argument, NULL, 'r' },
		{ "jobs", required_argument, NULL, 'j' },
		OPT_STD_LONG,
		{ NULL, 0, NULL, 0 }
	};
	split_opts so = { 1000, 150, NULL, 0, 0 };
	struct run run = { 0 };
	const char *files_from = NULL;
	int nul = 0, recursive = 0, c, i, r, overlap_given = 0, output_failed = 0;
	long jobs = 1;

	msg_init(argv);
	while ((c = getopt_long(argc, argv, "s:o:T:0rj:" OPT_STD_SHORT, longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (opt_long("--size", optarg, 1, 10000000, &so.size) < 0)
				return EXIT_USAGE;
			break;
		case 'o':
			if (opt_long("--overlap", optarg, 0, 10000000, &so.overlap) < 0)
				return EXIT_USAGE;
			overlap_given = 1;
			break;
		case OPT_SEPARATORS:
			if (parse_separators(optarg, &so.separators, &so.nseparators) < 0) {
				opt_usage_error(help, "--separators: expected a JSON array of strings, got '%s'", optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_COMPAT:
			if (strcmp(optarg, "langchain") != 0) {
				opt_usage_error(help, "--compat: unknown rule set '%s' (known: langchain)", optarg);
				return EXIT_USAGE;
			}
			so.langchain = 1;
			break;
		case 'T':
			files_from = optarg;
			break;
		case '0':
			nul = 1;
			break;
		case 'r':
			recursive = 1;
			break;
		case 'j':
			if (opt_long("--jobs", optarg, 1, 1024, &jobs) < 0)
				return EXIT_USAGE;
			break;
		default:
			if ((r = opt_std(c, help)) != OPT_GO_ON)
				return r;
		}
	}
	if (!overlap_given && so.overlap >= so.size)
		so.overlap = so.size / 2;
	if (so.overlap >= so.size) {
		opt_usage_error(help, "--overlap (%ld) must be smaller than --size (%ld)", so.overlap, so.size);
		return EXIT_USAGE;
	}
	if (optind == argc && files_from == NULL) {
		opt_usage_error(help, "no documents named (give FILE arguments or -T FILE)");
		return EXIT_USAGE;
	}

	/* a reader that goes away ends us quietly (see jl_output_failed) */
	signal(SIGPIPE, SIG_IGN);
	run.paths = paths_new(argv + optind, argc - optind, files_from, nul, recursive);
	run.reader = doc_reader_new(&so);
	if (run.paths == NULL || run.reader == NULL) {
		msg_error("cannot start: %s", run.paths == NULL ? "out of memory or unreadable -T file" : "cannot initialise mupdf");
		return EXIT_SOME_FAILED;
	}
	run.out = stdout;
	/* the total is known when the files are all named */
	run.progress = prog_new("files", files_from == NULL && !recursive ? argc - optind : 0);
	if (jobs > 1) {
		int r = par_run((int)jobs, next_job, run_job, job_done, &run, stdout);

		if (r == -1) {
			run.status = jl_output_failed();
			output_failed = 1;
		} else if (r < 0)
			run.status = EXIT_SOME_FAILED;
	} else {
		for (;;) {
			int r = next_job(&run, 0);

			if (r <= 0) {
				if (r < 0)
					run.status = EXIT_SOME_FAILED;
				break;
			}
			r = split_one(&run);
			if (r < 0 || fflush(stdout) != 0) {
				errno = run.write_failed ? run.write_failed : errno;
				run.status = jl_output_failed();
				output_failed = 1;
				break;
			}
			if (r > 0)
				run.status = EXIT_SOME_FAILED;
			run.files++;
			prog_update(run.progress, run.files, NULL);
		}
	}
	if (paths_failed(run.paths) && !output_failed)
		run.status = EXIT_SOME_FAILED;
	if (!output_failed) {
		char summary[96];

		/* with -j the chunks are counted by the workers */
		if (jobs > 1)
			snprintf(summary, sizeof summary, "%ld files", run.files);
		else
			snprintf(summary, sizeof summary, "%ld files, %ld chunks", run.files, run.chunks);
		prog_end(run.progress, summary);
	} else {
		prog_free(run.progress);
	}
	doc_reader_free(run.reader);
	paths_free(run.paths);
	for (i = 0; i < so.nseparators; i++)
		free((char *)so.separators[i]);
	free(so.separators);
	if (!output_failed && fflush(stdout) != 0)
		return jl_output_failed();
	return run.status;
}
