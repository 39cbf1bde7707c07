#include "paths.h"
#include "msg.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct frame {
	char *dir;
	char **names;
	size_t n, i;
};

struct paths {
	char **args;
	int nargs, argi;
	FILE *list;
	int own_list, nul, recursive, failed, list_done;
	char *line;
	size_t linecap;
	char *current;
	struct frame *stack;
	size_t depth, cap;
};

paths *paths_new(char **args, int nargs, const char *list_file, int nul, int recursive)
{
	paths *p = calloc(1, sizeof *p);

	if (p == NULL)
		return NULL;
	p->args = args;
	p->nargs = nargs;
	p->nul = nul;
	p->recursive = recursive;
	p->list_done = list_file == NULL;
	if (list_file) {
		if (strcmp(list_file, "-") == 0) {
			p->list = stdin;
		} else {
			p->list = fopen(list_file, "r");
			if (p->list == NULL) {
				msg_error("%s: %s", list_file, strerror(errno));
				free(p);
				return NULL;
			}
			p->own_list = 1;
		}
	}
	return p;
}

static void pop(paths *p)
{
	struct frame *f = &p->stack[--p->depth];

	while (f->i < f->n)
		free(f->names[f->i++]);
	free(f->names);
	free(f->dir);
}

void paths_free(paths *p)
{
	if (p == NULL)
		return;
	while (p->depth)
		pop(p);
	free(p->stack);
	if (p->own_list)
		fclose(p->list);
	free(p->line);
	free(p->current);
	free(p);
}

int paths_failed(const paths *p)
{
	return p->failed;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int push_dir(paths *p, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct frame f = { 0 };
	size_t cap = 0;

	if (d == NULL) {
		msg_error("%s: %s", dir, strerror(errno));
		p->failed = 1;
		return 0;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;	/* ., .. and hidden files */
		if (f.n == cap) {
			char **v;

			cap = cap ? cap * 2 : 32;
			v = realloc(f.names, cap * sizeof *v);
			if (v == NULL)
				goto nomem;
			f.names = v;
		}
		if ((f.names[f.n] = strdup(e->d_name)) == NULL)
			goto nomem;
		f.n++;
	}
	closedir(d);
	d = NULL;
	if (f.n > 1)
		qsort(f.names, f.n, sizeof *f.names, cmp_names);
	if ((f.dir = strdup(dir)) == NULL)
		goto nomem;
	if (p->depth == p->cap) {
		size_t c = p->cap ? p->cap * 2 : 8;
		struct frame *v = realloc(p->stack, c * sizeof *v);

		if (v == NULL)
			goto nomem;
		p->stack = v;
		p->cap = c;
	}
	p->stack[p->depth++] = f;
	return 0;
nomem:
	if (d)
		closedir(d);
	while (f.n)
		free(f.names[--f.n]);
	free(f.names);
	free(f.dir);
	msg_error("%s: out of memory", dir);
	return -1;
}

/* Decide what to do with one name: 1 = hand it out, 0 = passed over. */
static int consider(paths *p, const char *path, int walked)
{
	struct stat st;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		if (!p->recursive) {
			msg_error("%s: is a directory (use -r to walk it)", path);
			p->failed = 1;
			return 0;
		}
		if (walked) {
			struct stat lst;

			/* a link to a directory could make a cycle */
			if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode))
				return 0;
		}
		return push_dir(p, path) < 0 ? -1 : 0;
	}
	if (walked && stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return 0;	/* fifos, sockets, devices met on a walk */
	return 1;
}

static int set_current(paths *p, const char *s)
{
	free(p->current);
	p->current = strdup(s);
	return p->current ? 0 : -1;
}

int paths_next(paths *p, const char **path, int *walked)
{
	for (;;) {
		int r;

		if (p->depth > 0) {
			struct frame *f = &p->stack[p->depth - 1];
			size_t dl;
			char *full;

			if (f->i == f->n) {
				pop(p);
				continue;
			}
			dl = strlen(f->dir);
			full = malloc(dl + strlen(f->names[f->i]) + 2);
			if (full == NULL) {
				msg_error("out of memory");
				return -1;
			}
			sprintf(full, "%s%s%s", f->dir, dl && f->dir[dl - 1] == '/' ? "" : "/", f->names[f->i]);
			free(f->names[f->i]);
			f->i++;
			free(p->current);
			p->current = full;
			r = consider(p, full, 1);
			if (r < 0)
				return -1;
			if (r > 0) {
				*path = p->current;
				*walked = 1;
				return 1;
			}
			continue;
		}
		if (p->argi < p->nargs) {
			if (set_current(p, p->args[p->argi++]) < 0)
				return -1;
		} else if (!p->list_done) {
			ssize_t n = getdelim(&p->line, &p->linecap, p->nul ? '\0' : '\n', p->list);

			if (n < 0) {
				p->list_done = 1;
				if (ferror(p->list)) {
					msg_error("reading the list of files: %s", strerror(errno));
					return -1;
				}
				continue;
			}
			if (n > 0 && p->line[n - 1] == (p->nul ? '\0' : '\n'))
				p->line[--n] = '\0';
			if (!p->nul && n > 0 && p->line[n - 1] == '\r')
				p->line[--n] = '\0';
			if (n == 0)
				continue;
			if (set_current(p, p->line) < 0)
				return -1;
		} else {
			return 0;
		}
		r = consider(p, p->current, 0);
		if (r < 0)
			return -1;
		if (r > 0) {
			*path = p->current;
			*walked = 0;
			return 1;
		}
	}
}

int paths_absolute(const char *path, char *out, size_t outlen)
{
	size_t n = 0;
	const char *c = path;

	if (outlen < 2) {
		errno = ERANGE;
		return -1;
	}
	if (path[0] != '/') {
		if (getcwd(out, outlen) == NULL)
			return -1;
		n = strlen(out);
	}
	while (*c) {
		const char *e;
		size_t len;

		while (*c == '/')
			c++;
		e = strchrnul(c, '/');
		len = (size_t)(e - c);
		if (len == 0 || (len == 1 && c[0] == '.')) {
			c = e;
			continue;
		}
		if (n > 0 && out[n - 1] == '/')
			n--;
		if (n + 1 + len + 1 > outlen) {
			errno = ERANGE;
			return -1;
		}
		out[n++] = '/';
		memcpy(out + n, c, len);
		n += len;
		c = e;
	}
	if (n == 0)
		out[n++] = '/';
	out[n] = '\0';
	return 0;
}

long long paths_input_size(char *const *paths, int npaths)
{
	long long total = 0;
	struct stat st;
	int i;

	if (npaths == 0)
		return fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode) ? (long long)st.st_size : 0;
	for (i = 0; i < npaths; i++) {
		int r = strcmp(paths[i], "-") == 0 ? fstat(STDIN_FILENO, &st) : stat(paths[i], &st);

		if (r < 0 || !S_ISREG(st.st_mode))
			return 0;
		total += (long long)st.st_size;
	}
	return total;
}

int paths_mkdirs(const char *dir, mode_t mode)
{
	char path[4096];
	size_t i, n = strlen(dir);

	if (n == 0 || n >= sizeof path) {
		errno = n ? ENAMETOOLONG : ENOENT;
		return -1;
	}
	memcpy(path, dir, n + 1);
	for (i = 1; i <= n; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, mode) < 0 && errno != EEXIST)
			return -1;
		path[i] = i < n ? '/' : '\0';
	}
	return 0;
}
