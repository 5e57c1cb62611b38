/* Sanity checks of the shared helpers: buf and log escaping. */
#include "autoconf.h"

#include <string.h>

#include "util/buf.h"
#include "util/log.h"
#include "tap.h"

int
main(void)
{
	struct buf	 b;
	char		 out[64];
	size_t		 n;
	int		 i;

	plan(8);
	buf_init(&b);
	for (i = 0; i < 1000; i++)
		buf_printf(&b, "%d,", i);
	ok(b.b_len == 3890, "buf grows through 1000 appends (len %zu)", b.b_len);
	ok(strncmp(buf_cstr(&b), "0,1,2,", 6) == 0, "buf keeps content in order");
	buf_reset(&b);
	is_int((long long)b.b_len, 0, "buf_reset empties");
	buf_free(&b);
	n = log_json_escape(out, sizeof(out), "a\"b\\c\n\x01", 7);
	is_string(out, "a\\\"b\\\\c\\n\\u0001", "log escapes quotes, backslash, controls");
	is_int((long long)n, 15, "log escape reports its length");
	n = log_json_escape(out, 4, "abcdef", 6);
	ok(n == 6 && strlen(out) == 3, "log escape truncates safely");
	log_json_escape(out, sizeof(out), "\xc3\xa9x\xff\xc3", 5);
	is_string(out, "\xc3\xa9x\\ufffd\\ufffd", "valid UTF-8 kept, invalid bytes replaced");
	log_json_escape(out, sizeof(out), "\xed\xa0\x80", 3);
	is_string(out, "\\ufffd\\ufffd\\ufffd", "UTF-8 encoded surrogate replaced");
	return tap_done();
}
