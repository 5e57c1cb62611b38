/* Fatal-signal report for workers: async-signal-safe, then a distinct exit code. */
#ifndef PROCESSOR_CRASH_H
#define PROCESSOR_CRASH_H

/* Install handlers for SIGSEGV, SIGBUS, SIGABRT, SIGFPE and SIGILL. */
void	crash_install(int slot);
/* The stream entry being worked on (NULL when none); kept by pointer, not copied. */
void	crash_set_entry(const char *id);

#endif
