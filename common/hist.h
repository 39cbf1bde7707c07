/* hist: a conversation kept in a JSON-lines file, one
 * {"question":"...","answer":"..."} object per turn (other members are
 * allowed and ignored, so an earlier output of rag-answer serves too).
 *
 * Only the last few turns are kept in memory, to be sent with the next
 * question. A new turn is appended so that the file is at every instant
 * either as it was or with the whole new line: the old contents and the new
 * line are written to a temporary file beside it, flushed to disk and
 * renamed over it, with interrupting signals held off meanwhile and an
 * exclusive lock on the directory, so that two processes appending to the
 * same file lose nothing. */
#ifndef RAGPIPE_HIST_H
#define RAGPIPE_HIST_H

#include <stddef.h>

typedef struct {
	char *question;
	char *answer;
} hist_turn;

typedef struct {
	char *path;
	int max;		/* turns kept */
	hist_turn *ring;
	size_t start, n;
} hist;

/* Read the last max turns of the file at path (none when it does not
 * exist yet). -1 with the reason in err (naming the file and line). */
int hist_open(hist *h, const char *path, int max, char *err, size_t errlen);
void hist_close(hist *h);

/* The turns kept, oldest first. */
size_t hist_count(const hist *h);
const hist_turn *hist_at(const hist *h, size_t i);

/* Append a turn to the file and keep it. -1 with the reason in err (the
 * file is then unchanged). */
int hist_append(hist *h, const char *q, size_t qlen, const char *a, size_t alen, char *err, size_t errlen);

#endif
