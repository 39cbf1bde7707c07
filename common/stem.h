/* stem: English suffix stripping. */
#ifndef RAGPIPE_STEM_H
#define RAGPIPE_STEM_H

#include <stddef.h>

/* Porter's algorithm on a lower-case ASCII word, in place; returns the new
 * length (never longer). */
size_t stem_porter(char *word, size_t len);

#endif
