/* Test-only fault hooks, compiled in with --enable-fault-injection. */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "util/fault.h"

#ifdef FAULT_INJECTION
const char *
fault_value(const char *name)
{
	static char	 value[512];
	static const char *list;
	static int	 looked;
	const char	*p;
	size_t		 n = strlen(name), vlen;

	/* hooks sit on the per-record path: read the environment once */
	if (!looked) {
		list = getenv("PROCESSOR_FAULT");
		looked = 1;
	}

	for (p = list; p != NULL && *p != '\0'; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
		if (strncmp(p, name, n) != 0)
			continue;
		if (p[n] == ',' || p[n] == '\0')
			return "";
		if (p[n] != '=')
			continue;
		vlen = strcspn(p + n + 1, ",");
		if (vlen >= sizeof(value))
			vlen = sizeof(value) - 1;
		memcpy(value, p + n + 1, vlen);
		value[vlen] = '\0';
		return value;
	}
	return NULL;
}

int
fault_active(const char *name)
{
	return fault_value(name) != NULL;
}
#else
const char *
fault_value(const char *name)
{
	(void)name;
	return NULL;
}

int
fault_active(const char *name)
{
	(void)name;
	return 0;
}
#endif
