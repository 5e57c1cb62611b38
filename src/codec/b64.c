/* Strict RFC 4648 base64 and PostgreSQL bytea hex text, in place, for __buffer_b64. */
#include "autoconf.h"

#include "codec/b64.h"

static int
b64_digit(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Decode padded base64 in place (the bytes land at the front of p; each
 * quantum is read before its bytes are written).  Strict: no whitespace, no
 * URL alphabet, padding only at the end, unused bits of the last quantum zero,
 * so that every byte string has exactly one accepted encoding.
 */
int
b64_decode(unsigned char *p, size_t n, size_t *out, const char **why)
{
	size_t	 i, o = 0;
	int	 a, b, c, d, last;

	if (n % 4 != 0) {
		*why = "length is not a multiple of 4 (missing padding?)";
		return -1;
	}
	for (i = 0; i < n; i += 4) {
		last = i + 4 == n;
		a = b64_digit(p[i]);
		b = b64_digit(p[i + 1]);
		c = b64_digit(p[i + 2]);
		d = b64_digit(p[i + 3]);
		if (a < 0 || b < 0)
			goto bad;
		if (last && p[i + 2] == '=' && p[i + 3] == '=') {
			if (b & 0x0f)
				goto bits;
			p[o++] = (unsigned char)(a << 2 | b >> 4);
			break;
		}
		if (c < 0)
			goto bad;
		if (last && p[i + 3] == '=') {
			if (c & 0x03)
				goto bits;
			p[o++] = (unsigned char)(a << 2 | b >> 4);
			p[o++] = (unsigned char)((b & 0x0f) << 4 | c >> 2);
			break;
		}
		if (d < 0)
			goto bad;
		p[o++] = (unsigned char)(a << 2 | b >> 4);
		p[o++] = (unsigned char)((b & 0x0f) << 4 | c >> 2);
		p[o++] = (unsigned char)((c & 0x03) << 6 | d);
	}
	*out = o;
	return 0;
 bad:
	*why = "character outside the base64 alphabet or misplaced padding";
	return -1;
 bits:
	*why = "non-zero bits in the padding";
	return -1;
}

/*
 * Turn n raw bytes at p into the JSON string "\\x<hex>" in place; p must have
 * room for 2n + 5 bytes.  Runs backwards so no byte is overwritten unread.
 */
size_t
b64_bytea(unsigned char *p, size_t n)
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 i;
	unsigned char		 c;

	p[4 + 2 * n] = '"';
	for (i = n; i-- > 0;) {
		c = p[i];
		p[4 + 2 * i] = (unsigned char)hex[c >> 4];
		p[5 + 2 * i] = (unsigned char)hex[c & 0x0f];
	}
	p[0] = '"';
	p[1] = '\\';
	p[2] = '\\';
	p[3] = 'x';
	return 2 * n + 5;
}
