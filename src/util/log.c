/* Logging: one JSON object per line on stderr; errno survives every call. */
#include "autoconf.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"

static enum log_level	 log_level = LOG_LVL_INFO;
static char		 log_proc[32] = "processor";
static char		log_ctx[LOG_FIELDS_MAX];	/* log_context */
static int		 log_journal;	/* stderr is journald's stream: <N> prefix */

static const char *const level_names[] = {
	[LOG_LVL_DEBUG] = "debug",
	[LOG_LVL_INFO] = "info",
	[LOG_LVL_WARN] = "warning",
	[LOG_LVL_ERROR] = "error",
	[LOG_LVL_CRIT] = "critical",
};

/* syslog priorities, so journald (SyslogLevelPrefix=) files lines right. */
static const int level_prio[] = { 7, 6, 4, 3, 2 };

/*
 * systemd sets JOURNAL_STREAM to "DEV:INO" of the stream it connected to the
 * service's stdout/stderr (systemd.exec(5)).  Only when fd 2 is that very
 * stream does a <N> syslog prefix mean anything; anywhere else (a terminal,
 * a file, docker logs, a pipe that merely inherited the variable) it would
 * break the one-JSON-object-per-line promise.
 */
int
log_stderr_is_journal(void)
{
	struct stat		 st;
	unsigned long long	 dev, ino;
	const char		*js;
	char			 tail;

	if ((js = getenv("JOURNAL_STREAM")) == NULL ||
	    sscanf(js, "%llu:%llu%c", &dev, &ino, &tail) != 2)
		return 0;
	if (fstat(STDERR_FILENO, &st) == -1)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void
log_init(enum log_level level, const char *procname)
{
	log_level = level;
	log_journal = log_stderr_is_journal();
	log_procinit(procname);
}

void
log_procinit(const char *procname)
{
	snprintf(log_proc, sizeof(log_proc), "%s", procname);
	log_ctx[0] = '\0';
}

void
log_setlevel(enum log_level level)
{
	log_level = level;
}

enum log_level
log_getlevel(void)
{
	return log_level;
}

const char *
log_level_name(enum log_level level)
{
	return level_names[level];
}

int
log_parse_level(const char *s, enum log_level *out)
{
	size_t	i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	if (strcmp(s, "warn") == 0) {
		*out = LOG_LVL_WARN;
		return 0;
	}
	return -1;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 if invalid. */
static size_t
log_utf8_len(const unsigned char *s, size_t n)
{
	size_t		len, i;
	uint32_t	cp;

	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	len = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	if (len > n)
		return 0;
	cp = s[0] & (0xff >> (len + 1));
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

size_t
log_json_escape(char *dst, size_t dstsz, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t		  o = 0, i;
	char		  esc[7];
	const char	 *piece;
	size_t		  plen;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		piece = esc;
		plen = 2;
		esc[0] = '\\';
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			if (c < 0x20 || c == 0x7f) {
				memcpy(esc, "\\u00", 4);
				esc[4] = hex[c >> 4];
				esc[5] = hex[c & 0xf];
				plen = 6;
			} else if (c >= 0x80) {
				/* keep the line valid JSON whatever bytes a message quotes */
				plen = log_utf8_len((const unsigned char *)s + i, n - i);
				if (plen == 0) {
					piece = "\\ufffd";
					plen = 6;
				} else {
					piece = s + i;
					i += plen - 1;
				}
			} else {
				piece = (const char *)&s[i];
				plen = 1;
			}
		}
		if (o + plen < dstsz)
			memcpy(dst + o, piece, plen);
		o += plen;
	}
	if (dstsz > 0)
		dst[o < dstsz ? o : dstsz - 1] = '\0';
	return o;
}

void
log_fields_init(struct log_fields *f)
{
	f->lf_buf[0] = '\0';
	f->lf_len = 0;
}

/* Append ,"key":<value> where value is already JSON; drop it if it won't fit. */
static struct log_fields *
log_fields_raw(struct log_fields *f, const char *key, const char *json)
{
	char	ekey[128];
	int	n;

	log_json_escape(ekey, sizeof(ekey), key, strlen(key));
	n = snprintf(f->lf_buf + f->lf_len, sizeof(f->lf_buf) - f->lf_len,
	    "%s\"%s\":%s", f->lf_len ? "," : "", ekey, json);
	if (n < 0 || (size_t)n >= sizeof(f->lf_buf) - f->lf_len)
		f->lf_buf[f->lf_len] = '\0';
	else
		f->lf_len += (size_t)n;
	return f;
}

struct log_fields *
log_fields_str(struct log_fields *f, const char *key, const char *value)
{
	char	ev[LOG_FIELDS_MAX];
	size_t	n;

	ev[0] = '"';
	n = log_json_escape(ev + 1, sizeof(ev) - 2, value ? value : "",
	    value ? strlen(value) : 0);
	if (n >= sizeof(ev) - 2)
		return f;
	ev[n + 1] = '"';
	ev[n + 2] = '\0';
	return log_fields_raw(f, key, ev);
}

struct log_fields *
log_fields_int(struct log_fields *f, const char *key, long long value)
{
	char	v[32];

	snprintf(v, sizeof(v), "%lld", value);
	return log_fields_raw(f, key, v);
}

struct log_fields *
log_fields_num(struct log_fields *f, const char *key, double value)
{
	char	v[40];

	if (value != value || value > 1e300 || value < -1e300)
		return log_fields_raw(f, key, "null");
	snprintf(v, sizeof(v), "%.6g", value);
	return log_fields_raw(f, key, v);
}

const char *
log_fields_get(const struct log_fields *f)
{
	return f->lf_buf;
}

void
log_context(const struct log_fields *f)
{
	snprintf(log_ctx, sizeof(log_ctx), "%s", f ? f->lf_buf : "");
}

void
log_vemit(enum log_level level, const char *fields, const char *fmt, va_list ap)
{
	char		 msg[2048], emsg[4096], line[8192], ts[32];
	struct timespec	 now;
	struct tm	 tm;
	int		 saved_errno = errno, n;

	if (level < log_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_json_escape(emsg, sizeof(emsg), msg, strlen(msg));
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	n = 0;
	if (log_journal)
		n = snprintf(line, sizeof(line), "<%d>", level_prio[level]);
	n += snprintf(line + n, sizeof(line) - (size_t)n,
	    "{\"time\":\"%s.%03ldZ\",\"level\":\"%s\",\"process\":\"%s\","
	    "\"pid\":%ld,\"message\":\"%s\"%s%s%s%s}\n",
	    ts, now.tv_nsec / 1000000L, level_names[level],
	    log_proc, (long)getpid(), emsg, *log_ctx ? "," : "", log_ctx,
	    fields && *fields ? "," : "", fields ? fields : "");
	if (n < 0)
		goto out;
	if ((size_t)n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	/* One write(2) per line so lines from several processes never interleave. */
	(void)write(STDERR_FILENO, line, (size_t)n);
out:
	errno = saved_errno;
}

void
log_emit(enum log_level level, const char *fields, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vemit(level, fields, fmt, ap);
	va_end(ap);
}

#define LOG_WRAPPER(name, level)			\
void							\
name(const char *fmt, ...)				\
{							\
	va_list	ap;					\
							\
	va_start(ap, fmt);				\
	log_vemit(level, NULL, fmt, ap);		\
	va_end(ap);					\
}

LOG_WRAPPER(log_debug, LOG_LVL_DEBUG)
LOG_WRAPPER(log_info, LOG_LVL_INFO)
LOG_WRAPPER(log_warnx, LOG_LVL_WARN)
LOG_WRAPPER(log_error, LOG_LVL_ERROR)

/* Log at level with ": strerror(errno)" appended; errno is kept. */
static void
log_verrno(enum log_level level, const char *fmt, va_list ap)
{
	char	msg[1024];
	int	saved_errno = errno;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_emit(level, NULL, "%s: %s", msg, strerror(saved_errno));
	errno = saved_errno;
}

void
log_warn(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_verrno(LOG_LVL_WARN, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_verrno(LOG_LVL_CRIT, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vemit(LOG_LVL_CRIT, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}
