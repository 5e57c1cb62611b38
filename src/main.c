/* processor: placeholder entry point, replaced by the pipeline. */
#include "autoconf.h"
int main(void);
int main(void) { return 0; }
