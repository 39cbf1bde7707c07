/* sha256: FIPS 180-4 SHA-256, for content keys (the embedding cache). */
#ifndef RAGPIPE_SHA256_H
#define RAGPIPE_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
	uint32_t h[8];
	uint64_t bytes;
	unsigned char block[64];
	size_t fill;
} sha256_ctx;

void sha256_init(sha256_ctx *c);
void sha256_update(sha256_ctx *c, const void *data, size_t len);
void sha256_final(sha256_ctx *c, unsigned char digest[32]);
/* One call: digest of data; hex (65 bytes) gets it in hexadecimal when given. */
void sha256(const void *data, size_t len, unsigned char digest[32], char *hex);

#endif
