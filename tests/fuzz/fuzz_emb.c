/* The /embeddings answer decoder (emb_response in emb.h), given any bytes
 * as a server's answer for n texts (n and whether the dimension is known
 * come from the first bytes). The body is not NUL-terminated, as an answer
 * read off the network need not be. On success every vector is there, of
 * the dimension, and finite; on failure there is a reason and nothing to
 * free. */
#include "fuzz.h"
#include "emb.h"

#include <math.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n = 1 + fuzz_byte(&data, &size) % 8, i;
	int given = (int)(fuzz_byte(&data, &size) % 4);	/* 0: take the dimension from the answer */
	int dim = given;
	float *vecs = (float *)1;
	char err[256];
	char *body = malloc(size ? size : 1);

	FUZZ_CHECK(body != NULL, "out of memory");
	memcpy(body, data, size);
	if (emb_response(body, size, n, &dim, &vecs, err, sizeof err) == 0) {
		FUZZ_CHECK(dim > 0 && dim <= 65536, "dimension %d", dim);
		FUZZ_CHECK(given == 0 || dim == given, "dimension %d, asked for %d", dim, given);
		FUZZ_CHECK(vecs != NULL, "no vectors");
		for (i = 0; i < n * (size_t)dim; i++)
			FUZZ_CHECK(isfinite(vecs[i]), "value %zu is not finite", i);
		free(vecs);
	} else {
		FUZZ_CHECK(err[0] != '\0', "a failure without a reason");
		FUZZ_CHECK(vecs == NULL, "vectors left behind on failure");
	}
	free(body);
	return 0;
}
