#include "u8.h"

size_t u8_decode(const char *str, size_t len, int32_t *cp, int *invalid)
{
	const unsigned char *s = (const unsigned char *)str;
	int32_t c, min;
	size_t n, i;

	if (len == 0) {
		*cp = U8_REPLACEMENT;
		if (invalid)
			*invalid = 1;
		return 0;
	}
	c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2; c &= 0x1F; min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3; c &= 0x0F; min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4; c &= 0x07; min = 0x10000;
	} else {
		goto bad;
	}
	if (len < n)
		goto bad;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			goto bad;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		goto bad;
	*cp = c;
	return n;
bad:
	*cp = U8_REPLACEMENT;
	if (invalid)
		*invalid = 1;
	return 1;
}

size_t u8_encode(int32_t cp, char out[4])
{
	unsigned char *o = (unsigned char *)out;

	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xC0 | (cp >> 6));
		o[1] = (unsigned char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xE0 | (cp >> 12));
		o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (unsigned char)(0xF0 | (cp >> 18));
	o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
	o[3] = (unsigned char)(0x80 | (cp & 0x3F));
	return 4;
}

size_t u8_valid_prefix(const char *s, size_t len)
{
	size_t off = 0;

	while (off < len) {
		int32_t cp;
		int bad = 0;
		size_t n;

		if ((unsigned char)s[off] < 0x80) {
			off++;
			continue;
		}
		n = u8_decode(s + off, len - off, &cp, &bad);
		if (bad)
			break;
		off += n;
	}
	return off;
}

size_t u8_count(const char *s, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			n++;
	return n;
}

size_t u8_back(const char *s, size_t off)
{
	while (off > 0 && ((unsigned char)s[off] & 0xC0) == 0x80)
		off--;
	return off;
}

int u8_is_cjk_letter(int32_t c)
{
	return (c >= 0x3040 && c <= 0x30FF)	/* hiragana, katakana */
	    || (c >= 0x3400 && c <= 0x4DBF)	/* ext A */
	    || (c >= 0x4E00 && c <= 0x9FFF)	/* unified ideographs */
	    || (c >= 0xF900 && c <= 0xFAFF)	/* compatibility ideographs */
	    || (c >= 0x20000 && c <= 0x3FFFF)	/* ext B and later */
	    || (c >= 0x2E80 && c <= 0x2FDF)	/* radicals */
	    || (c >= 0x31F0 && c <= 0x31FF)	/* katakana ext */
	    || (c >= 0xAC00 && c <= 0xD7AF)	/* hangul syllables */
	    || (c >= 0x1100 && c <= 0x11FF);	/* hangul jamo */
}

int u8_is_cjk(int32_t c)
{
	return u8_is_cjk_letter(c)
	    || (c >= 0x3000 && c <= 0x303F)	/* CJK symbols and punctuation */
	    || (c >= 0xFF00 && c <= 0xFF65)	/* full-width forms */
	    || (c >= 0xFE30 && c <= 0xFE4F);	/* CJK compatibility forms */
}

int u8_is_space(int32_t c)
{
	return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0
	    || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029
	    || c == 0x202F || c == 0x205F || c == 0x3000;
}
