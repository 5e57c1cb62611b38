/* Logging: one JSON object per line on stderr, with a per-process name. */
#ifndef PROCESSOR_LOG_H
#define PROCESSOR_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LVL_DEBUG = 0,
	LOG_LVL_INFO,
	LOG_LVL_WARN,
	LOG_LVL_ERROR,
	LOG_LVL_CRIT
};

void	log_init(enum log_level, const char *procname);
void	log_procinit(const char *procname);
void	log_setlevel(enum log_level);
enum log_level log_getlevel(void);
int	log_parse_level(const char *, enum log_level *);
const char *log_level_name(enum log_level);

/*
 * The message is printf-formatted.  Fields are appended as "key":value pairs
 * via the *f variants: fields is a preformatted JSON fragment such as
 * "\"entry\":\"1-0\",\"count\":3" (build it with log_field_* helpers), or NULL.
 */
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_error(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_emit(enum log_level, const char *fields, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	log_vemit(enum log_level, const char *fields, const char *, va_list)
	    __attribute__((format(printf, 3, 0)));
__attribute__((noreturn)) void fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2)));

/* Append a JSON-escaped copy of s (n bytes) to dst (size dstsz); returns bytes needed. */
size_t	log_json_escape(char *dst, size_t dstsz, const char *s, size_t n);

#endif
