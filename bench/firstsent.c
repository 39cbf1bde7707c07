/* firstsent: the trivial answerer rag-answer's extractive one is measured
 * against (bench/answer.sh): the first sentence of the top hit, cut by the
 * same sentence splitter (common/sent.c). A first line that is the hit's
 * title (rag-split's chunks begin with their heading) is not a sentence of
 * the text: the one after it is taken.
 *
 *	firstsent < hits.jsonl > answers.jsonl
 *
 * Each hits record becomes the record with "hits" replaced by "answer"
 * (empty when there are no hits). */
#include "jl.h"
#include "msg.h"
#include "sb.h"
#include "sent.h"

#include <stdio.h>
#include <string.h>

struct first {
	const char *text, *title;
	size_t start, end;
};

static int first(void *ctx, size_t start, size_t end)
{
	struct first *f = ctx;

	if (f->title && end - start == strlen(f->title) && memcmp(f->text + start, f->title, end - start) == 0)
		return 0;
	f->start = start;
	f->end = end;
	return -1;
}

int main(int argc, char **argv)
{
	jl_reader *r = jl_reader_new(stdin, "stdin");
	json_object *o, *hits, *top, *text, *title;
	enum jl_status st;
	int status = 0;

	(void)argc;
	msg_init(argv);
	if (r == NULL)
		return 1;
	while ((st = jl_read(r, &o)) != JL_EOF) {
		struct first f = { "", NULL, 0, 0 };

		if (st != JL_OK) {
			msg_error("stdin: line %ld: %s", jl_lineno(r), jl_reason(r));
			status = 1;
			if (st == JL_IOERR)
				break;
			continue;
		}
		if (json_object_object_get_ex(o, "hits", &hits) && json_object_is_type(hits, json_type_array)
		    && json_object_array_length(hits) > 0 && (top = json_object_array_get_idx(hits, 0))
		    && json_object_object_get_ex(top, "text", &text) && json_object_is_type(text, json_type_string)) {
			f.text = json_object_get_string(text);
			if (json_object_object_get_ex(top, "title", &title) && json_object_is_type(title, json_type_string))
				f.title = json_object_get_string(title);
			sent_each(f.text, strlen(f.text), first, &f);
		}
		/* the text lives in the hits: the answer is made before they go */
		json_object_object_add(o, "answer", json_object_new_string_len(f.text + f.start, (int)(f.end - f.start)));
		json_object_object_del(o, "hits");
		if (jl_write(stdout, o) < 0) {
			json_object_put(o);
			status = jl_output_failed();
			break;
		}
		json_object_put(o);
	}
	jl_reader_free(r);
	return status;
}
