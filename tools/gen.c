/* gen: publish deterministic sample Position records (and poison) to a Redis Stream. */
#include "autoconf.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#define GEN_BASE_MS	1777550400000LL	/* 2026-04-30T12:00:00Z */
#define GEN_IMEI_BASE	356307042440000ULL
#define GEN_CENTER_LAT	45.81
#define GEN_CENTER_LON	15.98
#define GEN_SPREAD_MS	86400000LL	/* realistic: devices start within a day before base */

/*
 * compact: every device starts at base and reports once a second, all in lockstep, and
 * one timestamp in eight is epoch ms (the records of every run before issue 13; the test
 * suite relies on this time layout).  realistic: each device starts at its own time in
 * the day before base and reports every 1-60 s (its own period) with up to 2 s of
 * jitter, ISO-8601 timestamps only, as the upstream's toISOString() writes them.  The
 * record content (12-20 IO elements, 10% with a __bigint, 5% with an 8-64 byte
 * __buffer_b64, about 360 bytes of JSON) is drawn the same way in both.
 */
enum shape {
	SHAPE_COMPACT,
	SHAPE_REALISTIC
};

enum poison_kind {
	P_INVALID_JSON,
	P_MISSING_LATITUDE,
	P_LAT_RANGE,
	P_UNKNOWN_SENTINEL,
	P_BAD_BASE64,
	P_BAD_BIGINT,
	P_NO_PAYLOAD,
	P_NKINDS
};

static const char *const poison_names[P_NKINDS] = {
	"invalid_json", "missing_latitude", "latitude_out_of_range",
	"unknown_sentinel", "bad_base64", "bad_bigint", "no_payload",
};

struct opts {
	const char	*o_url;
	const char	*o_stream;
	uint64_t	 o_n;
	uint64_t	 o_devices;
	uint64_t	 o_seed;
	double		 o_rate;
	long long	 o_base_ms;
	uint64_t	 o_poison_every;
	unsigned	 o_passes;
	unsigned	 o_pipeline;
	int		 o_quiet;
	int		 o_stdout;
	enum shape	 o_shape;
};

struct sbuf {
	char	*s_p;
	size_t	 s_len;
	size_t	 s_cap;
};

struct stats {
	uint64_t	 st_published;
	uint64_t	 st_valid;
	uint64_t	 st_poison;
	uint64_t	 st_kinds[P_NKINDS];
	long long	 st_first_ms;
	long long	 st_last_ms;
	unsigned char	*st_seen;	/* per device: has a valid record */
	uint64_t	 st_devices;
};

static void	usage(void) __attribute__((noreturn));
static void	die(const char *, ...) __attribute__((noreturn, format(printf, 1, 2)));

static void
die(const char *fmt, ...)
{
	va_list	ap;

	fputs("gen: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: gen [-q] [-o] [-u redis://host:port[/db]] [-s stream] [-n records]\n"
	    "           [-d devices] [-S seed] [-r rate_per_sec] [-t base_epoch_ms]\n"
	    "           [-p poison_every] [-D passes] [-B pipeline]\n"
	    "           [-k compact|realistic]\n");
	exit(64);
}

/* splitmix64: tiny, fast, and good enough to decorrelate per-record seeds. */
static uint64_t
rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t
rng_below(uint64_t *s, uint64_t n)
{
	return rng_next(s) % n;
}

static double
rng_unit(uint64_t *s)
{
	return (double)(rng_next(s) >> 11) / 9007199254740992.0;
}

static void
sb_reserve(struct sbuf *b, size_t more)
{
	if (b->s_len + more + 1 <= b->s_cap)
		return;
	while (b->s_len + more + 1 > b->s_cap)
		b->s_cap = b->s_cap ? b->s_cap * 2 : 1024;
	if ((b->s_p = realloc(b->s_p, b->s_cap)) == NULL)
		die("out of memory");
}

static void
sb_put(struct sbuf *b, const char *s, size_t n)
{
	sb_reserve(b, n);
	memcpy(b->s_p + b->s_len, s, n);
	b->s_len += n;
	b->s_p[b->s_len] = '\0';
}

static void
sb_str(struct sbuf *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

static void sb_fmt(struct sbuf *, const char *, ...) __attribute__((format(printf, 2, 3)));

static void
sb_fmt(struct sbuf *b, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	sb_reserve(b, 64);
	va_start(ap, fmt);
	n = vsnprintf(b->s_p + b->s_len, b->s_cap - b->s_len, fmt, ap);
	va_end(ap);
	if (n < 0)
		die("vsnprintf failed");
	if ((size_t)n >= b->s_cap - b->s_len) {
		sb_reserve(b, (size_t)n);
		va_start(ap, fmt);
		vsnprintf(b->s_p + b->s_len, b->s_cap - b->s_len, fmt, ap);
		va_end(ap);
	}
	b->s_len += (size_t)n;
}

/* Fast unsigned decimal, since snprintf dominates the profile otherwise. */
static void
sb_u64(struct sbuf *b, uint64_t v)
{
	char	tmp[24];
	int	i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	sb_put(b, tmp + i, sizeof(tmp) - (size_t)i);
}

static void
sb_base64(struct sbuf *b, const unsigned char *p, size_t n)
{
	static const char a[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char	q[4];
	size_t	i;

	for (i = 0; i + 2 < n; i += 3) {
		q[0] = a[p[i] >> 2];
		q[1] = a[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
		q[2] = a[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)];
		q[3] = a[p[i + 2] & 63];
		sb_put(b, q, 4);
	}
	if (n - i == 1) {
		q[0] = a[p[i] >> 2];
		q[1] = a[(p[i] & 3) << 4];
		q[2] = q[3] = '=';
		sb_put(b, q, 4);
	} else if (n - i == 2) {
		q[0] = a[p[i] >> 2];
		q[1] = a[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
		q[2] = a[(p[i + 1] & 15) << 2];
		q[3] = '=';
		sb_put(b, q, 4);
	}
}

static void
iso_time(char *dst, size_t sz, long long ms)
{
	time_t		t = (time_t)(ms / 1000);
	struct tm	tm;
	char		tmp[32];

	gmtime_r(&t, &tm);
	strftime(tmp, sizeof(tmp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(dst, sz, "%s.%03dZ", tmp, (int)(ms % 1000));
}

/*
 * The Teltonika IO ids a bag draws from, with a value range each.  78 (iButton) and
 * 385 (beacons) are left out: they carry the bigint and buffer sentinels below.
 */
struct io_def {
	unsigned	id;
	uint64_t	lo, hi;
};

static const struct io_def io_pool[] = {
	{ 239, 0, 1 },		/* ignition */
	{ 240, 0, 1 },		/* movement */
	{ 21, 0, 5 },		/* GSM signal */
	{ 200, 0, 4 },		/* sleep mode */
	{ 69, 0, 3 },		/* GNSS status */
	{ 181, 5, 40 },		/* GNSS PDOP */
	{ 182, 5, 30 },		/* GNSS HDOP */
	{ 66, 11000, 14500 },	/* external voltage, mV */
	{ 67, 3500, 4200 },	/* battery voltage, mV */
	{ 68, 0, 2000 },	/* battery current, mA */
	{ 16, 0, 400000000 },	/* total odometer, m */
	{ 199, 0, 500000 },	/* trip odometer, m */
	{ 241, 21901, 21910 },	/* GSM operator */
	{ 24, 0, 200 },		/* speed */
	{ 80, 0, 5 },		/* data mode */
	{ 113, 0, 100 },	/* battery level, % */
	{ 9, 0, 30000 },	/* analog input 1, mV */
	{ 1, 0, 1 },		/* digital input 1 */
	{ 2, 0, 1 },		/* digital input 2 */
	{ 179, 0, 1 },		/* digital output 1 */
	{ 180, 0, 1 },		/* digital output 2 */
	{ 17, 0, 65535 },	/* axis X */
	{ 18, 0, 65535 },	/* axis Y */
	{ 19, 0, 65535 },	/* axis Z */
	{ 72, 0, 4000 },	/* Dallas temperature 1 */
	{ 205, 0, 65535 },	/* GSM cell id */
	{ 206, 0, 65535 },	/* GSM area code */
};
#define IO_POOL_N	(sizeof(io_pool) / sizeof(io_pool[0]))

/*
 * Record i of a pass: device i % D, its (i / D)-th position, one second after the
 * previous one, so (device_id, ts) is unique across the run.  All content comes from a
 * PRNG seeded by (seed, i), so a later pass republishes the very same bytes.  Returns the
 * poison kind, or -1 for a valid record; *field is the stream field name to use.
 */
static int
gen_record(const struct opts *o, uint64_t i, struct sbuf *b, const char **field,
    long long *ts_out)
{
	uint64_t	 s = o->o_seed ^ (i * 0xd1342543de82ef95ULL) ^ 0x5851f42d4c957f2dULL;
	uint64_t	 dev = i % o->o_devices, seq = i / o->o_devices;
	long long	 ts = o->o_base_ms + (long long)seq * 1000;
	int		 kind = -1, epoch_ms;
	double		 radius, period, phase, theta, lat, lon, speed;
	unsigned	 nattr, k, idx[IO_POOL_N], angle;
	char		 tsbuf[40];

	if (o->o_poison_every && (i + 1) % o->o_poison_every == 0)
		kind = (int)(((i + 1) / o->o_poison_every - 1) % P_NKINDS);
	*field = kind == P_NO_PAYLOAD ? "data" : "payload";
	if (o->o_shape == SHAPE_REALISTIC) {
		static const unsigned periods[] = { 1, 2, 5, 10, 10, 15, 30, 30, 60 };
		uint64_t	ds = o->o_seed ^ (dev * 0x9e3779b97f4a7c15ULL) ^ 0x2545f4914f6cdd1dULL;
		uint64_t	js = s ^ 0x6a09e667f3bcc909ULL;
		long long	start, period_ms;

		/* per device: its start and period; per record: jitter below the period */
		start = o->o_base_ms - (long long)rng_below(&ds, (uint64_t)GEN_SPREAD_MS);
		period_ms = 1000LL * periods[rng_below(&ds, sizeof(periods) / sizeof(periods[0]))];
		ts = start + (long long)seq * period_ms +
		    (long long)rng_below(&js, (uint64_t)(period_ms < 2000 ? period_ms : 2000));
		if (ts < 0)
			ts = (long long)seq;	/* base near the epoch: stay valid and unique */
	}
	*ts_out = ts;

	/* A loop around Zagreb per device: radius 1-4 km, 10-15 minutes a lap. */
	radius = 0.01 + 0.03 * (double)(dev % 97) / 97.0;
	period = 600.0 + (double)(dev % 300);
	phase = (double)(dev % 360) * M_PI / 180.0;
	theta = phase + 2.0 * M_PI * (double)seq / period;
	lat = GEN_CENTER_LAT + radius * sin(theta);
	lon = GEN_CENTER_LON + radius * cos(theta) / cos(GEN_CENTER_LAT * M_PI / 180.0);
	angle = (unsigned)fmod(360.0 + 90.0 - theta * 180.0 / M_PI + 360000.0, 360.0);
	speed = 2.0 * M_PI * radius * 111.0 / period * 3600.0 + (rng_unit(&s) - 0.5) * 20.0;
	if (speed < 0)
		speed = 0;
	if (speed > 200)
		speed = 200;

	b->s_len = 0;
	sb_str(b, "{\"device_id\":\"");
	sb_u64(b, GEN_IMEI_BASE + dev);
	sb_str(b, "\",\"timestamp\":");
	epoch_ms = rng_below(&s, 8) == 0;
	if (epoch_ms && o->o_shape == SHAPE_COMPACT) {
		sb_u64(b, (uint64_t)ts);	/* epoch ms is allowed too */
	} else {
		iso_time(tsbuf, sizeof(tsbuf), ts);
		sb_fmt(b, "\"%s\"", tsbuf);
	}
	if (kind == P_LAT_RANGE)
		sb_str(b, ",\"latitude\":999");
	else if (kind != P_MISSING_LATITUDE)
		sb_fmt(b, ",\"latitude\":%.7f", lat);
	sb_fmt(b, ",\"longitude\":%.7f", lon);
	sb_str(b, ",\"altitude\":");
	sb_u64(b, 100 + rng_below(&s, 200));
	sb_str(b, ",\"angle\":");
	sb_u64(b, angle);
	sb_str(b, ",\"satellites\":");
	sb_u64(b, rng_below(&s, 10) == 0 ? rng_below(&s, 21) : 8 + rng_below(&s, 9));
	sb_str(b, ",\"speed\":");
	sb_u64(b, (uint64_t)speed);
	sb_str(b, ",\"priority\":");
	sb_u64(b, rng_below(&s, 20) == 0 ? 1 + rng_below(&s, 2) : 0);
	sb_str(b, ",\"event_io_id\":");
	sb_u64(b, rng_below(&s, 10) == 0 ? io_pool[rng_below(&s, 3)].id : 0);

	/* 12-18 distinct IO ids (up to 20 with the sentinels): a partial Fisher-Yates shuffle of the pool. */
	nattr = 12 + (unsigned)rng_below(&s, 7);
	for (k = 0; k < IO_POOL_N; k++)
		idx[k] = k;
	sb_str(b, ",\"attributes\":{");
	for (k = 0; k < nattr; k++) {
		unsigned j = k + (unsigned)rng_below(&s, IO_POOL_N - k), t = idx[k];
		const struct io_def *d;

		idx[k] = idx[j];
		idx[j] = t;
		d = &io_pool[idx[k]];
		if (k)
			sb_put(b, ",", 1);
		sb_put(b, "\"", 1);
		sb_u64(b, d->id);
		sb_put(b, "\":", 2);
		sb_u64(b, d->lo + rng_below(&s, d->hi - d->lo + 1));
	}
	if (rng_below(&s, 10) == 0) {
		sb_str(b, ",\"78\":{\"__bigint\":\"");
		sb_u64(b, 1 + rng_below(&s, 9));
		for (k = 1; k < 20; k++)
			sb_put(b, &"0123456789"[rng_below(&s, 10)], 1);
		sb_str(b, "\"}");
	}
	if (rng_below(&s, 20) == 0) {
		unsigned char	raw[64];
		unsigned	n = 8 + (unsigned)rng_below(&s, 57);

		for (k = 0; k < n; k++)
			raw[k] = (unsigned char)rng_next(&s);
		sb_str(b, ",\"385\":{\"__buffer_b64\":\"");
		sb_base64(b, raw, n);
		sb_str(b, "\"}");
	}
	if (kind == P_UNKNOWN_SENTINEL)
		sb_str(b, ",\"90\":{\"__weird\":\"x\"}");
	else if (kind == P_BAD_BASE64)
		sb_str(b, ",\"386\":{\"__buffer_b64\":\"AQID*A==\"}");
	else if (kind == P_BAD_BIGINT)
		sb_str(b, ",\"79\":{\"__bigint\":\"12a\"}");
	sb_str(b, "}}");
	if (kind == P_INVALID_JSON) {
		b->s_len /= 2;	/* cut mid-object: never valid JSON */
		b->s_p[b->s_len] = '\0';
	}
	return kind;
}

static int
parse_u64(const char *s, uint64_t *out)
{
	char			*end;
	unsigned long long	 v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-')
		return -1;
	*out = v;
	return 0;
}

/* redis://[[user]:password@]host[:port][/db] or unix:/path */
static redisContext *
connect_url(const char *url)
{
	struct timeval	 tv = { 5, 0 };
	redisContext	*c;
	redisReply	*r;
	char		 host[256] = "127.0.0.1", pass[256] = "";
	const char	*p, *at, *slash, *colon;
	int		 port = 6379, db = 0;

	if (strncmp(url, "unix:", 5) == 0) {
		p = url + 5;
		while (p[0] == '/' && p[1] == '/')
			p++;
		c = redisConnectUnixWithTimeout(p, tv);
	} else {
		if (strncmp(url, "redis://", 8) != 0)
			die("bad url %s: want redis://host:port[/db]", url);
		p = url + 8;
		slash = strchr(p, '/');
		at = strchr(p, '@');
		if (at && (!slash || at < slash)) {
			colon = memchr(p, ':', (size_t)(at - p));
			if (colon)
				snprintf(pass, sizeof(pass), "%.*s", (int)(at - colon - 1), colon + 1);
			p = at + 1;
		}
		colon = strchr(p, ':');
		if (colon && (!slash || colon < slash)) {
			snprintf(host, sizeof(host), "%.*s", (int)(colon - p), p);
			port = atoi(colon + 1);
		} else if (slash) {
			snprintf(host, sizeof(host), "%.*s", (int)(slash - p), p);
		} else if (*p) {
			snprintf(host, sizeof(host), "%s", p);
		}
		if (slash && slash[1])
			db = atoi(slash + 1);
		c = redisConnectWithTimeout(host, port, tv);
	}
	if (c == NULL || c->err)
		die("connect to %s: %s", url, c ? c->errstr : "out of memory");
	if (*pass) {
		r = redisCommand(c, "AUTH %s", pass);
		if (r == NULL || r->type == REDIS_REPLY_ERROR)
			die("AUTH failed: %s", r ? r->str : c->errstr);
		freeReplyObject(r);
	}
	if (db) {
		r = redisCommand(c, "SELECT %d", db);
		if (r == NULL || r->type == REDIS_REPLY_ERROR)
			die("SELECT %d failed: %s", db, r ? r->str : c->errstr);
		freeReplyObject(r);
	}
	return c;
}

static double
now_sec(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
sleep_until(double t)
{
	double		d = t - now_sec();
	struct timespec	ts;

	if (d <= 0)
		return;
	ts.tv_sec = (time_t)d;
	ts.tv_nsec = (long)((d - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Read the replies of one pipelined chunk; any error reply is fatal. */
static void
drain(redisContext *c, unsigned n)
{
	redisReply	*r;
	void		*v;

	while (n--) {
		if (redisGetReply(c, &v) != REDIS_OK)
			die("XADD failed: %s", c->errstr);
		r = v;
		if (r->type == REDIS_REPLY_ERROR)
			die("XADD failed: %s", r->str);
		freeReplyObject(r);
	}
}

int
main(int argc, char *argv[])
{
	struct opts	 o = {
		.o_url = "redis://127.0.0.1:6379", .o_stream = "telemetry:t", .o_n = 1000,
		.o_devices = 10, .o_seed = 1, .o_base_ms = GEN_BASE_MS, .o_passes = 1,
		.o_pipeline = 1000,
	};
	struct stats	 st = { .st_first_ms = -1 };
	struct sbuf	 b = { 0 };
	redisContext	*c = NULL;
	const char	*field, *argvv[5];
	size_t		 argl[5];
	uint64_t	 i, v, inchunk = 0, chunk;
	unsigned	 pass;
	long long	 ts;
	double		 t0, dt;
	char		 first[40], last[40];
	int		 ch, kind;

	while ((ch = getopt(argc, argv, "B:d:D:k:n:op:qr:s:S:t:u:")) != -1) {
		switch (ch) {
		case 'k':
			if (strcmp(optarg, "compact") == 0)
				o.o_shape = SHAPE_COMPACT;
			else if (strcmp(optarg, "realistic") == 0)
				o.o_shape = SHAPE_REALISTIC;
			else
				usage();
			break;
		case 'u': o.o_url = optarg; break;
		case 's': o.o_stream = optarg; break;
		case 'q': o.o_quiet = 1; break;
		case 'o': o.o_stdout = 1; break;
		case 'n': if (parse_u64(optarg, &o.o_n)) usage(); break;
		case 'd':
			if (parse_u64(optarg, &o.o_devices) || o.o_devices == 0)
				usage();
			break;
		case 'S': if (parse_u64(optarg, &o.o_seed)) usage(); break;
		case 'p': if (parse_u64(optarg, &o.o_poison_every)) usage(); break;
		case 't':
			if (parse_u64(optarg, &v) || v > 253402300799999ULL)
				usage();
			o.o_base_ms = (long long)v;
			break;
		case 'D':
			if (parse_u64(optarg, &v) || v == 0 || v > 100)
				usage();
			o.o_passes = (unsigned)v;
			break;
		case 'B':
			if (parse_u64(optarg, &v) || v == 0 || v > 100000)
				usage();
			o.o_pipeline = (unsigned)v;
			break;
		case 'r':
			o.o_rate = strtod(optarg, NULL);
			if (!(o.o_rate > 0))
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if ((st.st_seen = calloc(o.o_devices, 1)) == NULL)
		die("out of memory");
	chunk = o.o_pipeline;
	if (o.o_rate > 0 && chunk > o.o_rate / 50 + 1)
		chunk = (uint64_t)(o.o_rate / 50) + 1;	/* ~50 paced sends a second */
	if (!o.o_stdout)
		c = connect_url(o.o_url);

	t0 = now_sec();
	for (pass = 0; pass < o.o_passes; pass++) {
		for (i = 0; i < o.o_n; i++) {
			kind = gen_record(&o, i, &b, &field, &ts);
			if (pass > 0 && kind >= 0)
				continue;	/* later passes repeat the valid set only */
			if (pass == 0) {
				if (kind >= 0) {
					st.st_poison++;
					st.st_kinds[kind]++;
				} else {
					st.st_valid++;
					if (!st.st_seen[i % o.o_devices]) {
						st.st_seen[i % o.o_devices] = 1;
						st.st_devices++;
					}
					if (st.st_first_ms < 0 || ts < st.st_first_ms)
						st.st_first_ms = ts;
					if (ts > st.st_last_ms)
						st.st_last_ms = ts;
				}
			}
			st.st_published++;
			if (o.o_stdout) {
				printf("%s %s\n", field, b.s_p);
				continue;
			}
			if (o.o_rate > 0 && inchunk == 0)
				sleep_until(t0 + (double)st.st_published / o.o_rate);
			argvv[0] = "XADD";
			argvv[1] = o.o_stream;
			argvv[2] = "*";
			argvv[3] = field;
			argvv[4] = b.s_p;
			argl[0] = 4;
			argl[1] = strlen(o.o_stream);
			argl[2] = 1;
			argl[3] = strlen(field);
			argl[4] = b.s_len;
			if (redisAppendCommandArgv(c, 5, argvv, argl) != REDIS_OK)
				die("XADD: %s", c->errstr);
			if (++inchunk == chunk) {
				drain(c, (unsigned)inchunk);
				inchunk = 0;
			}
		}
	}
	if (c) {
		drain(c, (unsigned)inchunk);
		redisFree(c);
	}
	dt = now_sec() - t0;

	iso_time(first, sizeof(first), st.st_first_ms < 0 ? o.o_base_ms : st.st_first_ms);
	iso_time(last, sizeof(last), st.st_first_ms < 0 ? o.o_base_ms : st.st_last_ms);
	fprintf(o.o_stdout ? stderr : stdout,
	    "{\"published\":%" PRIu64 ",\"valid\":%" PRIu64 ",\"poison\":%" PRIu64
	    ",\"devices\":%" PRIu64 ",\"duplicates\":%" PRIu64 ",\"passes\":%u"
	    ",\"seed\":%" PRIu64 ",\"shape\":\"%s\",\"stream\":\"%s\",\"first_ts\":\"%s\",\"last_ts\":\"%s\""
	    ",\"poison_kinds\":{",
	    st.st_published, st.st_valid, st.st_poison, st.st_devices,
	    st.st_valid * (o.o_passes - 1), o.o_passes, o.o_seed,
	    o.o_shape == SHAPE_REALISTIC ? "realistic" : "compact", o.o_stream, first, last);
	for (kind = 0; kind < P_NKINDS; kind++)
		fprintf(o.o_stdout ? stderr : stdout, "%s\"%s\":%" PRIu64, kind ? "," : "",
		    poison_names[kind], st.st_kinds[kind]);
	fprintf(o.o_stdout ? stderr : stdout, "},\"seconds\":%.3f,\"rate\":%.0f}\n",
	    dt, dt > 0 ? (double)st.st_published / dt : 0.0);
	if (!o.o_quiet)
		fprintf(stderr, "gen: published %" PRIu64 " records in %.3f s (%.0f/s)\n",
		    st.st_published, dt, dt > 0 ? (double)st.st_published / dt : 0.0);
	free(b.s_p);
	free(st.st_seen);
	return 0;
}
