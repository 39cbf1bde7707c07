/* u8: UTF-8 decoding and the character classes the text code needs. */
#ifndef RAGPIPE_U8_H
#define RAGPIPE_U8_H

#include <stddef.h>
#include <stdint.h>

#define U8_REPLACEMENT 0xFFFD

/* Decode the code point at s (len bytes available). Returns the number of bytes
 * it takes (at least 1 when len > 0). An invalid or overlong sequence, a
 * surrogate or a value past U+10FFFF yields U8_REPLACEMENT for one byte and
 * sets *invalid (when given) to 1. */
size_t u8_decode(const char *s, size_t len, int32_t *cp, int *invalid);

/* Encode cp (assumed valid) into out; returns its length 1..4. */
size_t u8_encode(int32_t cp, char out[4]);

/* Length of the longest valid UTF-8 prefix of s. */
size_t u8_valid_prefix(const char *s, size_t len);

/* Number of code points in a valid UTF-8 string. */
size_t u8_count(const char *s, size_t len);

/* Byte offset of the start of the code point that contains offset off. */
size_t u8_back(const char *s, size_t off);

/* Han, kana, hangul and their punctuation: text written without spaces. */
int u8_is_cjk(int32_t cp);
/* Ideographs and kana only (not punctuation). */
int u8_is_cjk_letter(int32_t cp);
/* Unicode White_Space, as Python's str.isspace() sees it. */
int u8_is_space(int32_t cp);

#endif
