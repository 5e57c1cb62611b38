/* Test-only fault hooks, compiled in with --enable-fault-injection. */
#ifndef PROCESSOR_FAULT_H
#define PROCESSOR_FAULT_H

/*
 * PROCESSOR_FAULT holds a comma-separated list of fault names, each
 * optionally NAME=VALUE.  fault_active(NAME) says whether NAME is listed;
 * fault_value(NAME) returns its value or NULL.  Without FAULT_INJECTION both
 * always say no, so release builds carry no hooks.
 */
int		 fault_active(const char *name);
const char	*fault_value(const char *name);

#endif
