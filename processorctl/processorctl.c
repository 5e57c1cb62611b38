/* processorctl: send one request to the master's control socket and print its reply. */
#include "autoconf.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "wire/ctlproto.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION	"unknown"
#endif

/* Exit codes (processorctl(8)). */
#define PCTL_OK		0
#define PCTL_FAILED	1	/* the master answered ok=false */
#define PCTL_NOTREADY	1	/* status: the master answered, not ready */
#define PCTL_USAGE	2
#define PCTL_CONNECT	3	/* cannot reach the master */
#define PCTL_BADREPLY	4	/* malformed reply, or none in time */

#define PCTL_DEFAULT_CONFIG	"/etc/processor/processor.conf"
#define PCTL_MAX_REPLY	(64 * 1024 * 1024)
#define PCTL_TIMEOUT_S	60
#define PCTL_COLS	10

static const char	*progname = "processorctl";

/* ---- a small aligned table ---------------------------------------------- */

struct pctl_table {
	int	  t_cols;
	size_t	  t_rows;
	char	**t_cells;	/* t_rows * t_cols strings */
};

static void
pctl_table_row(struct pctl_table *t, ...)
{
	va_list	 ap;
	char	**n;
	int	 i;

	if ((n = realloc(t->t_cells, (t->t_rows + 1) * (size_t)t->t_cols *
	    sizeof(*n))) == NULL)
		return;
	t->t_cells = n;
	va_start(ap, t);
	for (i = 0; i < t->t_cols; i++) {
		const char *s = va_arg(ap, const char *);

		n[t->t_rows * (size_t)t->t_cols + (size_t)i] = strdup(s ? s : "-");
	}
	va_end(ap);
	t->t_rows++;
}

static void
pctl_table_print(struct pctl_table *t, const char *indent)
{
	size_t	w[PCTL_COLS] = { 0 }, r, len;
	int	c;

	for (r = 0; r < t->t_rows; r++)
		for (c = 0; c < t->t_cols; c++) {
			const char *s = t->t_cells[r * (size_t)t->t_cols + (size_t)c];

			if (s != NULL && (len = strlen(s)) > w[c])
				w[c] = len;
		}
	for (r = 0; r < t->t_rows; r++) {
		fputs(indent, stdout);
		for (c = 0; c < t->t_cols; c++) {
			const char *s = t->t_cells[r * (size_t)t->t_cols + (size_t)c];

			if (c == t->t_cols - 1)
				printf("%s\n", s ? s : "");
			else
				printf("%-*s  ", (int)w[c], s ? s : "");
		}
	}
	for (r = 0; r < t->t_rows * (size_t)t->t_cols; r++)
		free(t->t_cells[r]);
	free(t->t_cells);
	t->t_cells = NULL;
	t->t_rows = 0;
}

/* A JSON scalar as text; s must hold 64 bytes. Strings are returned as is. */
static const char *
pctl_js(const json_t *v, char *s)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		return json_string_value(v);
	case JSON_INTEGER:
		snprintf(s, 64, "%lld", (long long)json_integer_value(v));
		return s;
	case JSON_REAL:
		snprintf(s, 64, "%.15g", json_real_value(v));
		return s;
	case JSON_TRUE:
		return "yes";
	case JSON_FALSE:
		return "no";
	default:
		return "-";
	}
}

static const char *
pctl_jget(const json_t *o, const char *key, char *s)
{
	const json_t	*v = json_object_get(o, key);

	return v == NULL ? "-" : pctl_js(v, s);
}

/* ---- printers ----------------------------------------------------------- */

static void
pctl_print_workers(const json_t *ws)
{
	struct pctl_table	 t = { .t_cols = 9 };
	const json_t	*w;
	size_t		 i;
	char		 a[64], b[64], c[64], d[64], e[64], f[64], g[64], rate[64];

	pctl_table_row(&t, "SLOT", "PID", "CONSUMER", "STATE", "READY", "RESTARTS",
	    "INSERTED", "ROWS/S", "NOTE");
	json_array_foreach(ws, i, w) {
		snprintf(rate, sizeof(rate), "%.1f",
		    json_real_value(json_object_get(w, "rows_per_s")));
		pctl_table_row(&t, pctl_jget(w, "slot", a), pctl_jget(w, "pid", b),
		    pctl_jget(w, "consumer", c), pctl_jget(w, "state", d),
		    pctl_jget(w, "ready", e), pctl_jget(w, "restarts", f),
		    pctl_jget(w, "inserted", g), rate,
		    json_is_true(json_object_get(w, "draining")) ? "draining" :
		    json_string_value(json_object_get(w, "why")));
	}
	pctl_table_print(&t, "");
}

static void
pctl_print_duration(long long s)
{
	if (s >= 86400)
		printf("%lldd%02lldh%02lldm", s / 86400, s % 86400 / 3600,
		    s % 3600 / 60);
	else if (s >= 3600)
		printf("%lldh%02lldm%02llds", s / 3600, s % 3600 / 60, s % 60);
	else if (s >= 60)
		printf("%lldm%02llds", s / 60, s % 60);
	else
		printf("%llds", s);
}

static void
pctl_print_status(const json_t *r)
{
	const json_t	*g = json_object_get(r, "group");
	char		 a[64], b[64], c[64];

	printf("processor %s, pid %s, up ", pctl_jget(r, "version", a),
	    pctl_jget(r, "pid", b));
	pctl_print_duration(json_integer_value(json_object_get(r, "uptime_s")));
	printf("\nconfig:   %s\n", pctl_jget(r, "config", a));
	if (json_is_true(json_object_get(r, "ready")))
		printf("state:    %s, ready\n", pctl_jget(r, "state", a));
	else
		printf("state:    %s, not ready (%s)\n", pctl_jget(r, "state", a),
		    pctl_jget(r, "not_ready", b));
	if (json_is_true(json_object_get(r, "draining")))
		printf("draining: yes (processorctl resume to read again)\n");
	if (g != NULL)
		printf("group:    %s, %s pending, lag %s\n", pctl_jget(g, "name", a),
		    pctl_jget(g, "pending", b), pctl_jget(g, "lag", c));
	printf("workers:  %s configured\n\n", pctl_jget(r, "workers_configured", a));
	pctl_print_workers(json_object_get(r, "workers"));
}

static void
pctl_print_pending(const json_t *r)
{
	struct pctl_table	 t = { .t_cols = 2 }, o = { .t_cols = 4 };
	const json_t	*c, *e;
	size_t		 i, j;
	char		 a[64], b[64], d[64], f[64];

	printf("stream %s, group %s: %s pending", pctl_jget(r, "stream", a),
	    pctl_jget(r, "group", b), pctl_jget(r, "count", d));
	if (json_is_string(json_object_get(r, "min")))
		printf(" (ids %s .. %s)", pctl_jget(r, "min", a), pctl_jget(r, "max", b));
	if (json_object_get(r, "lag") != NULL)
		printf(", lag %s", pctl_jget(r, "lag", a));
	printf("\n");
	if (json_array_size(json_object_get(r, "consumers")) == 0)
		return;
	pctl_table_row(&t, "CONSUMER", "PENDING");
	pctl_table_row(&o, "CONSUMER", "ID", "IDLE_MS", "DELIVERIES");
	json_array_foreach(json_object_get(r, "consumers"), i, c) {
		pctl_table_row(&t, pctl_jget(c, "name", a), pctl_jget(c, "pending", b));
		json_array_foreach(json_object_get(c, "oldest"), j, e)
			pctl_table_row(&o, pctl_jget(c, "name", a), pctl_jget(e, "id", b),
			    pctl_jget(e, "idle_ms", d), pctl_jget(e, "deliveries", f));
	}
	printf("\n");
	pctl_table_print(&t, "");
	printf("\noldest entries:\n");
	pctl_table_print(&o, "");
}

static void
pctl_print_claim(const json_t *r)
{
	struct pctl_table	 t = { .t_cols = 3 };
	const json_t	*w;
	size_t		 i;
	char		 a[64], b[64], c[64];

	printf("claimed %s entries idle for at least %s ms; %s workers asked",
	    pctl_jget(r, "claimed", a), pctl_jget(r, "idle_ms", b),
	    pctl_jget(r, "workers_asked", c));
	if (json_integer_value(json_object_get(r, "workers_unanswered")) > 0)
		printf(", %s did not finish in time",
		    pctl_jget(r, "workers_unanswered", a));
	printf("\n");
	pctl_table_row(&t, "SLOT", "CLAIMED", "OK");
	json_array_foreach(json_object_get(r, "workers"), i, w)
		pctl_table_row(&t, pctl_jget(w, "slot", a), pctl_jget(w, "claimed", b),
		    pctl_jget(w, "ok", c));
	pctl_table_print(&t, "");
}

static void
pctl_print_dlq_list(const json_t *r)
{
	struct pctl_table	 t = { .t_cols = 6 };
	const json_t	*e;
	size_t		 i;
	char		 a[64], b[64], c[64], d[64], f[64], err[64];

	printf("%s: %s entries, %zu newest shown\n", pctl_jget(r, "dlq", a),
	    pctl_jget(r, "total", b), json_array_size(json_object_get(r, "entries")));
	if (json_array_size(json_object_get(r, "entries")) == 0)
		return;
	pctl_table_row(&t, "DLQ_ID", "ORIG_ID", "STAGE", "REASON", "FAILED_AT",
	    "ERROR");
	json_array_foreach(json_object_get(r, "entries"), i, e) {
		snprintf(err, sizeof(err), "%s", pctl_jget(e, "error", f));
		if (strlen(pctl_jget(e, "error", f)) >= sizeof(err))
			memcpy(err + sizeof(err) - 4, "...", 4);
		pctl_table_row(&t, pctl_jget(e, "dlq_id", a), pctl_jget(e, "id", b),
		    pctl_jget(e, "stage", c), pctl_jget(e, "reason", d),
		    pctl_jget(e, "failed_at", f), err);
	}
	pctl_table_print(&t, "");
}

static void
pctl_print_dlq_show(const json_t *r)
{
	const json_t	*e = json_object_get(r, "entry"), *v;
	const char	*k;
	char		 a[64];

	json_object_foreach((json_t *)e, k, v)
		if (strcmp(k, "payload") != 0 && strcmp(k, "payload_hex") != 0)
			printf("%-12s %s\n", k, pctl_js(v, a));
	if ((v = json_object_get(e, "payload")) != NULL)
		printf("payload:\n%s\n", json_string_value(v));
	else if ((v = json_object_get(e, "payload_hex")) != NULL)
		printf("payload (hex, not UTF-8):\n%s\n", json_string_value(v));
}

static void
pctl_print_dlq_replay(const json_t *r)
{
	struct pctl_table	 t = { .t_cols = 3 };
	const json_t	*e;
	size_t		 i;
	char		 a[64], b[64], c[64];

	json_array_foreach(json_object_get(r, "results"), i, e)
		pctl_table_row(&t, pctl_jget(e, "id", a), pctl_jget(e, "result", b),
		    pctl_jget(e, "reason", c));
	printf("replayed %s, skipped %s, failed %s\n", pctl_jget(r, "replayed", a),
	    pctl_jget(r, "skipped", b), pctl_jget(r, "failed", c));
	if (json_is_true(json_object_get(r, "more")))
		printf("more entries remain: run dlq replay --all again\n");
	pctl_table_print(&t, "  ");
}

static void
pctl_print_fields(const json_t *o, const char *indent)
{
	const json_t	*v;
	const char	*k;
	char		 a[64], *s;

	json_object_foreach((json_t *)o, k, v) {
		if (json_is_object(v) || json_is_array(v)) {
			s = json_dumps(v, JSON_COMPACT);
			printf("%s%-12s %s\n", indent, k, s ? s : "?");
			free(s);
		} else
			printf("%s%-12s %s\n", indent, k, pctl_js(v, a));
	}
}

/* Milliseconds as M:SS.mmm (or "-"), with a leading "+" for a gap. */
static const char *
pctl_ms(const json_t *v, const char *sign, char *s, size_t n)
{
	long long	ms;

	if (!json_is_integer(v))
		return "-";
	ms = json_integer_value(v);
	snprintf(s, n, "%s%lld:%02lld.%03lld", sign, ms / 60000, ms / 1000 % 60,
	    ms % 1000);
	return s;
}

static void
pctl_print_stage(const json_t *r)
{
	struct pctl_table	 t = { .t_cols = 7 };
	const json_t		*x;
	size_t			 i;
	char			 a[64], b[64], c[64], d[64], e[64], f[64], g[96];

	printf("stage %s (%s), %s\n", pctl_jget(r, "stage", a),
	    pctl_jget(r, "name", b), pctl_jget(r, "status", c));
	pctl_table_row(&t, "RANK", "CAR", "STATUS", "ELAPSED", "PENALTY", "GAP",
	    "LAST GATE");
	json_array_foreach(json_object_get(r, "standings"), i, x) {
		snprintf(e, sizeof(e), "%.1f", json_number_value(
		    json_object_get(x, "penalties_s")));
		snprintf(g, sizeof(g), "%s %s", json_is_string(json_object_get(x,
		    "last_gate_kind")) ? json_string_value(json_object_get(x,
		    "last_gate_kind")) : "-", json_is_null(json_object_get(x,
		    "last_gate")) ? "" : pctl_jget(x, "last_gate", f));
		pctl_table_row(&t, json_is_null(json_object_get(x, "rank")) ? "-" :
		    pctl_jget(x, "rank", a), pctl_jget(x, "car", b),
		    pctl_jget(x, "status", c), pctl_ms(json_object_get(x,
		    "elapsed_ms"), "", d, sizeof(d)), e, pctl_ms(json_object_get(x,
		    "gap_ms"), "+", f, sizeof(f)), g);
	}
	pctl_table_print(&t, "");
}

static void
pctl_print_consumers(const json_t *r)
{
	struct pctl_table	 t = { .t_cols = 4 };
	const json_t		*x;
	size_t			 i;
	char			 a[64], b[64], c[64];

	printf("group %s\n", pctl_jget(r, "group", a));
	pctl_table_row(&t, "CONSUMER", "PENDING", "IDLE", "OURS");
	json_array_foreach(json_object_get(r, "consumers"), i, x) {
		snprintf(b, sizeof(b), "%.1fs", (double)json_integer_value(
		    json_object_get(x, "idle_ms")) / 1000.0);
		pctl_table_row(&t, pctl_jget(x, "name", a), pctl_jget(x, "pending",
		    c), b, json_is_true(json_object_get(x, "ours")) ? "yes" :
		    "");
	}
	pctl_table_print(&t, "");
}

static void
pctl_print_domain(const json_t *d)
{
	const json_t	*en, *st;
	size_t		 i, j;
	char		 a[64], b[64], c[64], e[64], f[64], g[64], h[64];

	if (!json_is_array(d) || json_array_size(d) == 0) {
		printf("racing: no entry for this device\n");
		return;
	}
	json_array_foreach(d, i, en) {
		printf("racing: entry %s, car %s, event %s\n", pctl_jget(en, "entry",
		    a), pctl_jget(en, "car", b), pctl_jget(en, "event", c));
		json_array_foreach(json_object_get(en, "stages"), j, st)
			printf("  stage %s: %s, rank %s, elapsed %s, evaluated to %s "
			    "(%s evaluations, %s late)\n", pctl_jget(st, "stage", a),
			    pctl_jget(st, "status", b), json_is_null(json_object_get(st,
			    "rank")) ? "-" : pctl_jget(st, "rank", c),
			    pctl_ms(json_object_get(st, "elapsed_ms"), "", e, sizeof(e)),
			    pctl_jget(st, "evaluated_to", f),
			    pctl_jget(st, "evaluations", g), pctl_jget(st, "late", h));
	}
}

static void
pctl_print_device(const json_t *r)
{
	const json_t	*db = json_object_get(r, "database");
	char		 a[64], b[64];

	if (json_is_true(json_object_get(r, "in_memory"))) {
		printf("device %s: in memory of worker %s\n", pctl_jget(r, "device", a),
		    pctl_jget(r, "worker", b));
		pctl_print_fields(json_object_get(r, "last"), "  ");
		printf("  %-12s %s\n", "last_seen", pctl_jget(r, "last_seen", a));
		printf("  %-12s %s\n", "records", pctl_jget(r, "records", a));
	} else {
		printf("device %s: not in memory\n", pctl_jget(r, "device", a));
		if (json_is_object(db)) {
			printf("last row in PostgreSQL:\n");
			pctl_print_fields(db, "  ");
		} else
			printf("no row in PostgreSQL\n");
	}
	if (json_is_array(json_object_get(r, "domain")))
		pctl_print_domain(json_object_get(r, "domain"));
	else if (json_is_string(json_object_get(r, "domain_error")))
		printf("racing: unknown (%s)\n", pctl_jget(r, "domain_error", a));
}

static void
pctl_print_config(const json_t *r)
{
	struct pctl_table	 t = { .t_cols = 4 };
	const json_t	*k;
	size_t		 i;
	char		 a[64], b[64], c[64], d[64];
	const char	*v;

	printf("config: %s\n\n", json_is_string(json_object_get(r, "config")) ?
	    json_string_value(json_object_get(r, "config")) :
	    "none (built-in defaults)");
	pctl_table_row(&t, "SECTION", "KEY", "VALUE", "SOURCE");
	json_array_foreach(json_object_get(r, "keys"), i, k) {
		v = pctl_jget(k, "value", c);
		pctl_table_row(&t, pctl_jget(k, "section", a), pctl_jget(k, "key", b),
		    *v == '\0' ? "\"\"" : v, pctl_jget(k, "source", d));
	}
	pctl_table_print(&t, "");
}

static void
pctl_print_reply(enum ctlproto_action a, const json_t *r)
{
	char	b[64], c[64];

	switch (a) {
	case CTL_STATUS:
		pctl_print_status(r);
		break;
	case CTL_WORKERS:
		pctl_print_workers(json_object_get(r, "workers"));
		break;
	case CTL_PENDING:
		pctl_print_pending(r);
		break;
	case CTL_CLAIM:
		pctl_print_claim(r);
		break;
	case CTL_DLQ_LIST:
		pctl_print_dlq_list(r);
		break;
	case CTL_DLQ_SHOW:
		pctl_print_dlq_show(r);
		break;
	case CTL_DLQ_REPLAY:
		pctl_print_dlq_replay(r);
		break;
	case CTL_DLQ_PURGE:
		printf("purged %s entries from %s\n", pctl_jget(r, "purged", b),
		    pctl_jget(r, "dlq", c));
		break;
	case CTL_DEVICE:
		pctl_print_device(r);
		break;
	case CTL_RELOAD:
		printf("%s\n", pctl_jget(r, "message", b));
		break;
	case CTL_DRAIN:
		printf("draining: %s workers told to stop reading new entries\n",
		    pctl_jget(r, "workers", b));
		break;
	case CTL_RESUME:
		printf("resumed: %s workers told to read again\n",
		    pctl_jget(r, "workers", b));
		break;
	case CTL_CONFIG:
		pctl_print_config(r);
		break;
	case CTL_STAGE:
		pctl_print_stage(r);
		break;
	case CTL_CONSUMERS:
		pctl_print_consumers(r);
		break;
	case CTL_CONSUMERS_DELETE:
		printf("deleted consumer %s (%s pending entries claimed first; the "
		    "next claim sweep or processorctl claim processes them)\n",
		    pctl_jget(r, "deleted", b), pctl_jget(r, "claimed", c));
		break;
	case CTL_LOG_LEVEL:
		printf("log level %s in the master and %s processes, until the "
		    "next reload\n", pctl_jget(r, "level", b),
		    pctl_jget(r, "processes", c));
		break;
	default:
		break;
	}
}

/* ---- the exchange ------------------------------------------------------- */

/*
 * The socket the daemon listens on: key socket of section [control] in its
 * configuration file (processor.conf(5): INI, ';' or '#' comments).  Only
 * this one key is read, so processorctl needs none of the daemon's code.
 * Returns a malloc'ed path, or NULL when the file or the key is absent.
 */
static char *
pctl_conf_socket(const char *file)
{
	FILE	*f;
	char	 line[4096], *p, *e, *v, *path = NULL;
	int	 in_control = 0;

	if ((f = fopen(file, "re")) == NULL)
		return NULL;
	while (fgets(line, sizeof(line), f) != NULL) {
		for (p = line; *p == ' ' || *p == '\t'; p++)
			;
		e = p + strlen(p);
		while (e > p && (e[-1] == '\n' || e[-1] == '\r' ||
		    e[-1] == ' ' || e[-1] == '\t'))
			*--e = '\0';
		if (*p == '\0' || *p == ';' || *p == '#')
			continue;
		if (*p == '[') {
			in_control = strcmp(p, "[control]") == 0;
			continue;
		}
		if (!in_control || strncmp(p, "socket", 6) != 0)
			continue;
		for (v = p + 6; *v == ' ' || *v == '\t'; v++)
			;
		if (*v++ != '=')
			continue;
		while (*v == ' ' || *v == '\t')
			v++;
		free(path);
		path = *v != '\0' ? strdup(v) : NULL;
	}
	fclose(f);
	return path;
}

static void __attribute__((noreturn))
pctl_usage(int code)
{
	FILE	*f = code == 0 ? stdout : stderr;

	fprintf(f, "usage: %s [--config FILE] [--socket PATH] [--json] "
	    "[--timeout S] COMMAND [ARGS]\n\n%s\noptions:\n"
	    "  -c, --config FILE   read [control] socket from FILE (default "
	    "%s)\n"
	    "  -s, --socket PATH   control socket (default $PROCESSORCTL_SOCKET, "
	    "else\n                      the configuration's, else %s)\n"
	    "  -j, --json          print the raw JSON reply\n"
	    "  -t, --timeout S     give up after S seconds (default %d)\n"
	    "  -h, --help          this text\n"
	    "  -V, --version       print the version\n", progname,
	    ctlproto_usage_commands, PCTL_DEFAULT_CONFIG, CTL_DEFAULT_SOCKET,
	    PCTL_TIMEOUT_S);
	exit(code);
}

static int
pctl_connect(const char *path)
{
	struct sockaddr_un	sun;
	int			fd;

	if (ctlproto_sockaddr(path, &sun) == -1)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* The group that may use the socket: its owner group, else the packaged one. */
static const char *
pctl_sock_group(const char *path)
{
	struct stat	 st;
	struct group	*gr;

	if (stat(path, &st) == 0 && (gr = getgrgid(st.st_gid)) != NULL)
		return gr->gr_name;
	return "processor";
}

static int
pctl_wait(int fd, short events, double deadline)
{
	struct pollfd	pfd = { .fd = fd, .events = events };
	struct timespec	now;
	double		left;
	int		rc;

	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = deadline - ((double)now.tv_sec + now.tv_nsec / 1e9);
		if (left <= 0)
			return 0;
		rc = poll(&pfd, 1, (int)(left * 1000) + 1);
		if (rc == -1 && errno == EINTR)
			continue;
		return rc;
	}
}

/* Write the request line; -1 on error or timeout (errno ETIMEDOUT). */
static int
pctl_send(int fd, const char *s, size_t len, double deadline)
{
	ssize_t	n;
	size_t	off = 0;

	while (off < len) {
		if (pctl_wait(fd, POLLOUT, deadline) <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if ((n = send(fd, s + off, len - off, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -1;
		}
		off += (size_t)n;
	}
	return 0;
}

/* Read one reply line (NUL-terminated, newline stripped) into *out. */
static int
pctl_recv(int fd, char **out, double deadline, const char **why)
{
	char	*b = NULL, *nb, *nl;
	size_t	 len = 0, cap = 0;
	ssize_t	 n;

	for (;;) {
		if (len + 4097 > cap) {
			cap = cap ? cap * 2 : 8192;
			if (cap > PCTL_MAX_REPLY || (nb = realloc(b, cap)) == NULL) {
				*why = "reply too long";
				break;
			}
			b = nb;
		}
		if (pctl_wait(fd, POLLIN, deadline) <= 0) {
			*why = "no reply in time";
			break;
		}
		if ((n = read(fd, b + len, cap - len - 1)) == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			*why = strerror(errno);
			break;
		}
		if (n == 0) {
			*why = "the master closed the connection without a "
			    "complete reply";
			break;
		}
		len += (size_t)n;
		b[len] = '\0';
		if ((nl = memchr(b, '\n', len)) != NULL) {
			*nl = '\0';
			*out = b;
			return 0;
		}
	}
	free(b);
	return -1;
}

static double
pctl_deadline(double timeout)
{
	struct timespec	now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)now.tv_sec + now.tv_nsec / 1e9 + timeout;
}

static int
pctl_run(const char *path, const struct ctlproto_req *req, int raw, double timeout)
{
	json_t		*rq, *reply, *ok;
	json_error_t	 jerr;
	char		*line, *s;
	const char	*why = NULL;
	double		 deadline = pctl_deadline(timeout);
	int		 fd, rc;

	if ((fd = pctl_connect(path)) == -1) {
		if (errno == EACCES || errno == EPERM) {
			fprintf(stderr, "%s: %s: permission denied: add yourself "
			    "to group %s\n", progname, path, pctl_sock_group(path));
			return PCTL_FAILED;
		}
		fprintf(stderr, "%s: cannot connect to %s: %s\n"
		    "%s: is processor running? Try: systemctl status processor\n",
		    progname, path, strerror(errno), progname);
		return PCTL_CONNECT;
	}
	if ((rq = ctlproto_req_to_json(req)) == NULL ||
	    (s = json_dumps(rq, JSON_COMPACT)) == NULL) {
		fprintf(stderr, "%s: out of memory\n", progname);
		exit(PCTL_FAILED);
	}
	json_decref(rq);
	rc = pctl_send(fd, s, strlen(s), deadline) == -1 ||
	    pctl_send(fd, "\n", 1, deadline) == -1;
	free(s);
	if (rc) {
		/* a refused peer gets its error line, then the close */
		why = strerror(errno);
	}
	if (pctl_recv(fd, &line, deadline, &why) == -1) {
		close(fd);
		fprintf(stderr, "%s: %s: %s\n", progname, path, why);
		return PCTL_BADREPLY;
	}
	close(fd);
	reply = json_loads(line, 0, &jerr);
	if (reply == NULL || !json_is_object(reply) ||
	    !json_is_boolean(ok = json_object_get(reply, "ok"))) {
		fprintf(stderr, "%s: malformed reply from %s%s%s\n", progname,
		    path, reply ? "" : ": ", reply ? "" : jerr.text);
		json_decref(reply);
		free(line);
		return PCTL_BADREPLY;
	}
	if (raw)
		printf("%s\n", line);
	free(line);
	if (!json_is_true(ok)) {
		fprintf(stderr, "%s: %s\n", progname,
		    json_is_string(json_object_get(reply, "error")) ?
		    json_string_value(json_object_get(reply, "error")) :
		    "the command failed");
		json_decref(reply);
		return PCTL_FAILED;
	}
	if (!raw)
		pctl_print_reply(req->r_action, reply);
	/* like pg_isready: scripts and health checks test the exit status */
	rc = PCTL_OK;
	if (req->r_action == CTL_STATUS &&
	    !json_is_true(json_object_get(reply, "ready")))
		rc = PCTL_NOTREADY;
	json_decref(reply);
	return rc;
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "config",	required_argument,	NULL, 'c' },
		{ "socket",	required_argument,	NULL, 's' },
		{ "json",	no_argument,		NULL, 'j' },
		{ "timeout",	required_argument,	NULL, 't' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "version",	no_argument,		NULL, 'V' },
		{ NULL,		0,			NULL, 0 }
	};
	struct ctlproto_req	 req;
	const char	*path = NULL, *conf = NULL;
	char		 err[512], *end, *confpath = NULL;
	double		 timeout = PCTL_TIMEOUT_S;
	int		 ch, raw = 0, rc;

	/* "+": options stop at the command, so a device id may start with '-' */
	while ((ch = getopt_long(argc, argv, "+c:s:jt:hV", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 's':
			path = optarg;
			break;
		case 'j':
			raw = 1;
			break;
		case 't':
			timeout = strtod(optarg, &end);
			if (*optarg == '\0' || *end != '\0' || !(timeout > 0) ||
			    timeout > 86400) {
				fprintf(stderr, "%s: --timeout wants seconds "
				    "(0 < S <= 86400)\n", progname);
				return PCTL_USAGE;
			}
			break;
		case 'h':
			pctl_usage(0);
		case 'V':
			printf("processorctl %s\n", PACKAGE_VERSION);
			return 0;
		default:
			pctl_usage(PCTL_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	/* -s, then $PROCESSORCTL_SOCKET, then the configuration, then the default */
	if (path == NULL && (path = getenv("PROCESSORCTL_SOCKET")) != NULL &&
	    *path == '\0')
		path = NULL;
	if (path == NULL && conf != NULL && access(conf, R_OK) == -1) {
		fprintf(stderr, "%s: %s: %s\n", progname, conf, strerror(errno));
		return PCTL_USAGE;
	}
	if (path == NULL)
		path = confpath = pctl_conf_socket(conf != NULL ? conf :
		    PCTL_DEFAULT_CONFIG);
	if (path == NULL)
		path = CTL_DEFAULT_SOCKET;
	if (argc == 0)
		pctl_usage(PCTL_USAGE);
	ctlproto_req_init(&req);
	if (ctlproto_parse_argv(argc, argv, &req, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s: %s\n(%s --help lists the commands)\n",
		    progname, err, progname);
		ctlproto_req_free(&req);
		return PCTL_USAGE;
	}
	signal(SIGPIPE, SIG_IGN);
	rc = pctl_run(path, &req, raw, timeout);
	ctlproto_req_free(&req);
	free(confpath);
	return rc;
}
