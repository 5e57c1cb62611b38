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
/* 1 when fd 2 is the stream named by $JOURNAL_STREAM (log_init checks once). */
int	log_stderr_is_journal(void);
void	log_procinit(const char *procname);
void	log_setlevel(enum log_level);
enum log_level log_getlevel(void);
int	log_parse_level(const char *, enum log_level *);
const char *log_level_name(enum log_level);

/*
 * The message is printf-formatted.  log_emit appends fields, a JSON fragment
 * of "key":value pairs built with the log_fields_* calls below (or NULL),
 * after the process's context fields (log_context).  Tests and operators
 * match on fields ("sqlstate", "entry", "worker"), not on sentences.
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

/* A fragment of "key":value pairs; too long a fragment is cut at a pair. */
#define LOG_FIELDS_MAX	768
struct log_fields {
	char	lf_buf[LOG_FIELDS_MAX];
	size_t	lf_len;
};

void	log_fields_init(struct log_fields *);
struct log_fields *log_fields_str(struct log_fields *, const char *key,
	    const char *value);
struct log_fields *log_fields_int(struct log_fields *, const char *key,
	    long long value);
struct log_fields *log_fields_num(struct log_fields *, const char *key,
	    double value);
const char *log_fields_get(const struct log_fields *);
/*
 * Fields every later line of this process carries, e.g. the worker's slot
 * and consumer (pgbouncer's slog_* prefix the connection the same way).
 * Copied; NULL clears.  Reset by log_procinit.
 */
void	log_context(const struct log_fields *);

/* Append a JSON-escaped copy of s (n bytes) to dst (size dstsz); returns bytes needed. */
size_t	log_json_escape(char *dst, size_t dstsz, const char *s, size_t n);

#endif
