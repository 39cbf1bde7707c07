/* paths: the files a program is asked to read, in order: its arguments, then
 * the lines (or NUL-separated names) of a list file, directories walked in
 * byte order when asked. */
#ifndef RAGPIPE_PATHS_H
#define RAGPIPE_PATHS_H

#include <sys/types.h>

typedef struct paths paths;

/* args are borrowed; list_file may be NULL or "-" for standard input. */
paths *paths_new(char **args, int nargs, const char *list_file, int nul, int recursive);
void paths_free(paths *p);

/* The next file: 1 with *path (valid until the next call) and *walked (found
 * by walking a directory rather than named), 0 at the end, -1 when reading
 * the list failed (reported). A directory named without recursion, or one
 * that cannot be read, is reported and passed over. */
int paths_next(paths *p, const char **path, int *walked);

/* Was anything reported and passed over? */
int paths_failed(const paths *p);

/* path made absolute against the working directory, "." components and
 * doubled slashes left out (symbolic links are kept as named): into out,
 * outlen bytes. -1 with errno (ERANGE when it does not fit). */
int paths_absolute(const char *path, char *out, size_t outlen);

/* The bytes a program will read from these inputs ("-" or none: standard
 * input), for its progress: 0 when one of them is not a regular file (a
 * pipe, a terminal) or cannot be looked at. */
long long paths_input_size(char *const *paths, int npaths);

/* mkdir -p: dir and its missing parents, made with mode. -1 with errno. */
int paths_mkdirs(const char *dir, mode_t mode);

#endif
