/* jl: JSON lines in and out. One record per '\n'-terminated line, of any
 * length; strict JSON, strict UTF-8; errors carry the line number. */
#ifndef RAGPIPE_JL_H
#define RAGPIPE_JL_H

#include <stdio.h>
#include <json-c/json.h>

#include "sb.h"

typedef struct jl_reader jl_reader;

enum jl_status {
	JL_EOF = 0,
	JL_OK = 1,
	JL_BAD = -1,	/* this line is unusable (see jl_reason); the next one may be fine */
	JL_IOERR = -2,	/* reading failed (errno set) or memory ran out; stop */
};

/* name is used in messages ("stdin" for standard input). The stream is
 * borrowed; the name is copied. */
jl_reader *jl_reader_new(FILE *in, const char *name);
void jl_reader_free(jl_reader *r);

/* The next line without its '\n' (and '\r'), borrowed until the next call.
 * Invalid UTF-8 makes it JL_BAD. */
enum jl_status jl_read_line(jl_reader *r, const char **line, size_t *len);

/* The next non-blank line parsed as a JSON object (*out owned by the caller). */
enum jl_status jl_read(jl_reader *r, json_object **out);

/* Check that a line is one strict JSON object, without building it (then
 * read it with jl_members); JL_BAD with a reason otherwise. */
enum jl_status jl_check(jl_reader *r, const char *line, size_t len);

/* Parse one line as a JSON object; JL_BAD with a reason otherwise. */
enum jl_status jl_parse(jl_reader *r, const char *line, size_t len, json_object **out);

/* Take the line last read, with the buffer it is in (malloc'd, *cap bytes),
 * and give the reader *buf (or NULL) for the next: no copy. */
void jl_take_line(jl_reader *r, char **buf, size_t *cap);

long jl_lineno(const jl_reader *r);	/* of the line last returned */
const char *jl_name(const jl_reader *r);
const char *jl_reason(const jl_reader *r);	/* why the last line was JL_BAD */

/* The members of the JSON object text s, in order: fn gets each one's key
 * as written between its quotes and the bytes [start, end) of `"key": value`,
 * and returns 0 to go on, 1 to stop there (the rest is not looked at) or -1.
 * -1 when s is not an object (or fn returned -1). */
typedef int (*jl_member_fn)(void *ctx, const char *key, size_t keylen, size_t start, size_t end);
int jl_members(const char *s, size_t len, jl_member_fn fn, void *ctx);
/* The same for an object that jl_check has passed: faster, as nothing is
 * checked again. */
int jl_members_valid(const char *s, size_t len, jl_member_fn fn, void *ctx);

/* What an input line holds, told from its first bytes and its top-level
 * members, so that a stage fed another stage's output (or a document) can
 * say at once which order the pipeline goes in. */
enum jl_kind {
	JL_KIND_DOCUMENT,	/* the first bytes of a PDF, a ZIP (EPUB, Office), an OLE file */
	JL_KIND_BINARY,		/* NUL bytes or invalid UTF-8 */
	JL_KIND_TEXT,		/* not a JSON object: a plain line */
	JL_KIND_QUESTION,	/* an object with "question", no "hits" or "answer" */
	JL_KIND_CHUNK,		/* "text", no "embedding" (rag-split) */
	JL_KIND_EMBEDDED,	/* "text" and "embedding" (rag-embed) */
	JL_KIND_HITS,		/* "hits" (rag-query) */
	JL_KIND_ANSWER,		/* "answer", no "hits" (rag-answer) */
	JL_KIND_OTHER		/* another object */
};
enum jl_kind jl_kind_of(const char *line, size_t len);
/* "a PDF document", "rag-query's hits", ...: for messages. */
const char *jl_kind_name(enum jl_kind k, const char *line, size_t len);

/* The elements of the JSON array text s, in order: fn gets each one's bytes
 * [start, end). -1 when s is not an array (or fn returned -1). */
typedef int (*jl_element_fn)(void *ctx, size_t start, size_t end);
int jl_elements(const char *s, size_t len, jl_element_fn fn, void *ctx);

/* Append the UTF-8 of the valid JSON string literal s (quotes included) to
 * out. -1 for no memory, or a \u0000, which no C string can hold. */
int jl_get_string(const char *s, size_t len, sb *out);

/* The value of the valid JSON number text s, exactly as strtod reads it
 * (correctly rounded), but without strtod's cost in the common cases. */
double jl_number(const char *s, size_t len);

/* Append s (valid UTF-8) as a JSON string, quotes included. */
int jl_put_string(sb *out, const char *s, size_t len);

/* Append a finite float32 as a JSON number that reads back (as a double,
 * then float) to exactly the same value: 7 significant digits when they do,
 * else 9, which always do. -1 for NaN, infinities or no memory. */
int jl_put_float(sb *out, float f);

/* Write obj as one line. -1 with errno set when the write failed. */
int jl_write(FILE *out, json_object *obj);

/* Report a failed write of standard output and give the exit status: a reader
 * that went away (EPIPE, as with `| head -1`) ends the program quietly with 0;
 * anything else (a full disk) is an error. */
int jl_output_failed(void);

#endif
