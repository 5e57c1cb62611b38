/* Micro-benchmark of codec_decode over a generated, realistic record mix. */
#include "autoconf.h"

int
main(void)
{
	return 0;
}
