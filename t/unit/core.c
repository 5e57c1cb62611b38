/* Unit tests of the pure parts of the data path: URLs, batches, COPY encoding, error classes, migration files. */
#include "autoconf.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "util/buf.h"
#include "util/backoff.h"
#include "core/batch.h"
#include "core/consume.h"
#include "core/readbudget.h"
#include "core/sink.h"
#include "util/redisurl.h"
#include "core/write.h"
#include "master/migrate_files.h"
#include "tap.h"

static void
test_redisurl(void)
{
	struct redis_addr	ra;
	char			err[128];

	ok(redisurl_parse("redis://127.0.0.1:6390/2", &ra, err, sizeof(err)) == 0 &&
	    strcmp(ra.ra_host, "127.0.0.1") == 0 && ra.ra_port == 6390 &&
	    ra.ra_db == 2, "redis url with host, port and db");
	ok(redisurl_parse("redis://localhost", &ra, err, sizeof(err)) == 0 &&
	    ra.ra_port == 6379 && ra.ra_db == 0, "redis url defaults");
	ok(redisurl_parse("redis://u:p%@h:1", &ra, err, sizeof(err)) == 0 &&
	    strcmp(ra.ra_user, "u") == 0 && strcmp(ra.ra_password, "p%") == 0,
	    "redis url user and password");
	ok(redisurl_parse("redis://secret@h", &ra, err, sizeof(err)) == 0 &&
	    strcmp(ra.ra_password, "secret") == 0 && ra.ra_user[0] == '\0',
	    "redis url password only");
	ok(redisurl_parse("unix:///run/redis.sock?db=3", &ra, err, sizeof(err)) == 0 &&
	    strcmp(ra.ra_path, "/run/redis.sock") == 0 && ra.ra_db == 3,
	    "unix socket url");
	ok(redisurl_parse("http://x", &ra, err, sizeof(err)) == -1 &&
	    strstr(err, "not a redis://") != NULL, "other schemes rejected: %s", err);
	ok(redisurl_parse("redis://h:99999", &ra, err, sizeof(err)) == -1,
	    "bad port rejected");
	ok(redisurl_parse("redis://h/x", &ra, err, sizeof(err)) == -1,
	    "bad db rejected");
	ok(redisurl_parse("redis://:6379", &ra, err, sizeof(err)) == -1,
	    "missing host rejected");
}

static void
test_classify(void)
{
	is_int(write_classify(NULL, 1), WRITE_TRANSIENT, "lost connection is transient");
	is_int(write_classify(NULL, 0), WRITE_TRANSIENT, "no SQLSTATE is transient");
	is_int(write_classify("57P01", 0), WRITE_TRANSIENT, "admin shutdown is transient");
	is_int(write_classify("40P01", 0), WRITE_TRANSIENT, "deadlock is transient");
	is_int(write_classify("53100", 0), WRITE_TRANSIENT, "disk full is transient");
	is_int(write_classify("55P03", 0), WRITE_TRANSIENT, "lock timeout is transient");
	is_int(write_classify("57014", 0), WRITE_TRANSIENT, "statement timeout is transient");
	is_int(write_classify("22021", 0), WRITE_DATA, "bad encoding is data");
	is_int(write_classify("22P02", 0), WRITE_DATA, "bad text representation is data");
	is_int(write_classify("23514", 0), WRITE_DATA, "CHECK violation is data");
	is_int(write_classify("54000", 0), WRITE_DATA, "program limit is data");
	is_int(write_classify("23505", 0), WRITE_TRANSIENT, "our key despite ON CONFLICT is retried");
	is_int(write_classify("42P01", 0), WRITE_FATAL, "missing table is fatal");
	is_int(write_classify("28P01", 0), WRITE_FATAL, "auth failure is fatal");
}

static void
add_valid(struct batch *b, const char *id, const char *dev, int64_t ts)
{
	struct batch_entry	*e;

	batch_add(b, id, strlen(id), "{}", 2);
	e = &b->b_entries[b->b_n - 1];
	e->be_status = ENTRY_VALID;
	snprintf(e->be_pos.p_device, sizeof(e->be_pos.p_device), "%s", dev);
	e->be_pos.p_ts_us = ts;
	e->be_attrs_off = b->b_attrs.b_len;
	buf_puts(&b->b_attrs, "{\"1\":2}");
	e->be_pos.p_attrs_len = 7;
}

static void
test_batch(void)
{
	struct batch	*b = batch_new();

	add_valid(b, "1700000000123-0", "b", 2);
	add_valid(b, "1700000000124-0", "a", 9);
	batch_add(b, "1700000000125-0", 15, NULL, 0);
	add_valid(b, "1700000000126-1", "a", 3);
	batch_poison(b, 0, DLQ_STAGE_WRITE, "rejected_by_postgres", "bad row");
	batch_fix_attrs(b);
	batch_sort_valid(b);
	is_int((long long)b->b_n, 4, "batch holds four entries");
	is_int(b->b_entries[2].be_status, ENTRY_TRIMMED, "nil payload marks a trimmed entry");
	is_int((long long)b->b_entries[0].be_id_ms, 1700000000123LL, "entry id millisecond part");
	is_string(batch_id(b, 3), "1700000000126-1", "entry id kept");
	is_string(batch_error(b, 0), "bad row", "poison message kept");
	is_string(dlq_stage_name(b->b_entries[0].be_stage), "write", "stage name");
	is_int((long long)b->b_nvalid, 2, "poison and trimmed entries are not written");
	ok(b->b_order[0] == 3 && b->b_order[1] == 1,
	    "valid entries sorted by device then time");
	ok(memcmp(b->b_entries[1].be_pos.p_attrs, "{\"1\":2}", 7) == 0,
	    "attrs re-pointed into the batch buffer");
	batch_reset(b);
	is_int((long long)b->b_n, 0, "reset empties the batch");
	batch_free(b);
}

static uint32_t
get32(const unsigned char *p)
{
	uint32_t	v;

	memcpy(&v, p, 4);
	return ntohl(v);
}

static int
test_decoder(void *arg, const struct position *p, char *out, size_t cap)
{
	(void)arg;
	if (cap < 300 || p->p_attrs_len != 7 || memcmp(p->p_attrs, "{\"1\":2}", 7))
		return cap < 300 ? -1 : 0;
	memcpy(out, "{\"a\":1.5}", 9);
	return 9;
}

static void
test_copy_encoding(void)
{
	struct batch	*b = batch_new();
	struct buf	 out;
	uint32_t	 idx[1] = { 0 };
	const unsigned char *p;
	struct position	*pos;

	buf_init(&out);
	add_valid(b, "1-0", "dev", 946684800000000LL + 1);
	pos = &b->b_entries[0].be_pos;
	pos->p_lat = 1.5;
	pos->p_has = POS_HAS_ANGLE;
	pos->p_angle = 270;
	batch_fix_attrs(b);
	ok(write_encode_copy(&out, b, idx, 1) == 0, "encode one row");
	p = (const unsigned char *)out.b_data;
	ok(memcmp(p, "PGCOPY\n\377\r\n\0", 11) == 0, "binary COPY signature");
	is_int(p[19] << 8 | p[20], 12, "twelve fields per row");
	is_int(get32(p + 21), 3, "device_id length");
	is_mem(p + 25, 3, "dev", 3, "device_id bytes");
	is_int(get32(p + 28), 8, "timestamptz is 8 bytes");
	is_int(get32(p + 36), 1, "timestamp relative to 2000-01-01 (low word)");
	is_int((long long)(p[out.b_len - 2] << 8 | p[out.b_len - 1]), 0xffff,
	    "trailer -1");
	/* fixed part: sig 11 + flags 4 + ext 4 + count 2 + dev 4+3 + ts 4+8 +
	 * lat 4+8 + lon 4+8 + alt 4 + angle 4+2 + sats 4 + speed 4 + prio 4 +
	 * event 4 + jsonb 4+1+7 + decoded 4 + trailer 2 */
	is_int((long long)out.b_len, 11 + 4 + 4 + 2 + 7 + 12 + 12 + 12 + 4 + 6 +
	    4 + 4 + 4 + 4 + 12 + 4 + 2, "row length with NULLs and jsonb version byte");
	is_int(get32(p + out.b_len - 6), 0xffffffff, "no decoder: decoded is NULL");

	/* a decoder that asks for more room once, then writes its text */
	sink_set_decoder(test_decoder, NULL);
	ok(batch_decode_io(b) == 0, "decoded with the sink decoder");
	sink_clear();
	buf_reset(&out);
	ok(write_encode_copy(&out, b, idx, 1) == 0, "encode with decoded");
	p = (const unsigned char *)out.b_data;
	is_int(get32(p + out.b_len - 2 - 14), 10, "decoded jsonb: 1 + 9 bytes");
	is_mem(p + out.b_len - 2 - 10, 10, "\001{\"a\":1.5}", 10,
	    "decoded: version byte, then the decoder's text of p_attrs");
	buf_free(&out);
	batch_free(b);
}

/* The fast path's race mark: each device once, its oldest and newest ts. */
static void
test_mark_encoding(void)
{
	struct batch	*b = batch_new();
	struct buf	 dev, lo, hi;
	uint32_t	 idx[5] = { 4, 0, 2, 1, 3 };

	buf_init(&dev);
	buf_init(&lo);
	buf_init(&hi);
	add_valid(b, "1-0", "a", 20);
	add_valid(b, "1-1", "b\"q", 7);
	add_valid(b, "1-2", "a", 30);
	add_valid(b, "1-3", "c\\", -5);
	add_valid(b, "1-4", "a", 10);
	ok(write_encode_marks(&dev, &lo, &hi, b, idx, 5) == 0, "marks encoded");
	is_string(dev.b_data, "{\"a\",\"b\\\"q\",\"c\\\\\"}",
	    "each device once, quoted and escaped for an array literal");
	is_string(lo.b_data, "{10,7,-5}", "oldest ts per device");
	is_string(hi.b_data, "{30,7,-5}", "newest ts per device");
	buf_reset(&dev);
	buf_reset(&lo);
	buf_reset(&hi);
	ok(write_encode_marks(&dev, &lo, &hi, b, idx, 0) == 0 &&
	    strcmp(dev.b_data, "{}") == 0 && strcmp(lo.b_data, "{}") == 0,
	    "no rows: empty arrays");
	buf_free(&dev);
	buf_free(&lo);
	buf_free(&hi);
	batch_free(b);
}

static void
test_migrate_files(void)
{
	char	 a[32], b[32], err[256], dir[] = "/tmp/processor-mig-XXXXXX";
	struct migrate_set set;
	FILE	*f;
	char	 path[512];

	is_int(migrate_file_version("0001_positions.sql"), 1, "version of 0001_positions.sql");
	is_int(migrate_file_version("0012_a_b2.sql"), 12, "version of 0012_a_b2.sql");
	is_int(migrate_file_version("1_x.sql"), -1, "short version rejected");
	is_int(migrate_file_version("0001_X.sql"), -1, "upper case rejected");
	is_int(migrate_file_version("0001_x.sql~"), -1, "backup file ignored");
	migrate_checksum("select 1;", 9, a);
	migrate_checksum("select 1;", 9, b);
	is_string(a, b, "checksum is stable");
	migrate_checksum("select 2;", 9, b);
	ok(strcmp(a, b) != 0, "checksum changes with the text");
	is_string(a, "fnv1a64:6be44a1ac7ee378b", "checksum value is fixed forever");

	if (mkdtemp(dir) == NULL)
		bail("mkdtemp");
	snprintf(path, sizeof(path), "%s/0002_b.sql", dir);
	f = fopen(path, "w"); fputs("select 2;", f); fclose(f);
	snprintf(path, sizeof(path), "%s/0001_a.sql", dir);
	f = fopen(path, "w"); fputs("select 1;", f); fclose(f);
	snprintf(path, sizeof(path), "%s/README", dir);
	f = fopen(path, "w"); fputs("x", f); fclose(f);
	ok(migrate_files_load(dir, &set, err, sizeof(err)) == 0, "load migrations");
	ok(set.ms_n == 2 && set.ms_files[0].mf_version == 1 &&
	    set.ms_files[1].mf_version == 2, "sorted by version, others ignored");
	is_string(set.ms_files[0].mf_checksum, a, "file checksum matches its text");
	migrate_files_free(&set);
	snprintf(path, sizeof(path), "%s/0001_dup.sql", dir);
	f = fopen(path, "w"); fputs("select 3;", f); fclose(f);
	ok(migrate_files_load(dir, &set, err, sizeof(err)) == -1 &&
	    strstr(err, "share version 0001") != NULL, "duplicate version refused: %s", err);
	ok(migrate_files_load("/nonexistent/dir", &set, err, sizeof(err)) == -1 &&
	    strstr(err, "/nonexistent/dir") != NULL, "missing directory named: %s", err);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if (system(path) != 0)
		diag("could not remove %s", dir);
}

static void
test_backoff(void)
{
	struct backoff	bo;
	double		d[6];
	int		i, ok_all = 1;

	backoff_init(&bo, 0.1, 0.5);
	ok(backoff_fresh(&bo), "a new backoff is fresh");
	for (i = 0; i < 6; i++)
		d[i] = backoff_next(&bo);
	ok(!backoff_fresh(&bo), "not fresh after a failure");
	for (i = 0; i < 6; i++) {
		double floor = i == 0 ? 0.1 : i == 1 ? 0.2 : i == 2 ? 0.4 : 0.5;

		if (d[i] < floor || d[i] >= floor + 0.1)
			ok_all = 0;
	}
	ok(ok_all, "delays double from the floor to the ceiling, jitter under 100 ms "
	    "(%.3f %.3f %.3f %.3f)", d[0], d[1], d[2], d[5]);
	backoff_reset(&bo);
	ok(backoff_fresh(&bo) && backoff_next(&bo) < 0.2, "reset starts from the floor");
}

/* XPENDING rows [id, owner, idle, count] built by hand, as hiredis would. */
static redisReply	 xp_str[8], xp_int[8], xp_row[8], *xp_el[8][4], *xp_rows[8];

static void
xp_set(size_t j, const char *id, long long count)
{
	static redisReply	owner = { .type = REDIS_REPLY_STRING, .str = (char *)"c" };
	static redisReply	idle = { .type = REDIS_REPLY_INTEGER, .integer = 5 };

	xp_str[j] = (redisReply){ .type = REDIS_REPLY_STRING, .str = (char *)id,
	    .len = strlen(id) };
	xp_int[j] = (redisReply){ .type = REDIS_REPLY_INTEGER, .integer = count };
	xp_el[j][0] = &xp_str[j];
	xp_el[j][1] = &owner;
	xp_el[j][2] = &idle;
	xp_el[j][3] = &xp_int[j];
	xp_row[j] = (redisReply){ .type = REDIS_REPLY_ARRAY, .elements = 4,
	    .element = xp_el[j] };
	xp_rows[j] = &xp_row[j];
}

static void
test_match_deliveries(void)
{
	const char	*ids[] = { "9-0", "10-0", "10-1", "11-0" };
	struct batch	*b = batch_new();
	redisReply	 r = { .type = REDIS_REPLY_ARRAY, .element = xp_rows };
	size_t		 i;

	for (i = 0; i < 4; i++)
		batch_add(b, ids[i], strlen(ids[i]), "{}", 2);
	/* "9-5" is pending but not in the batch (claimed or ACKed in between) */
	xp_set(0, "9-0", 2);
	xp_set(1, "9-5", 7);
	xp_set(2, "10-0", 3);
	xp_set(3, "10-1", 4);
	xp_set(4, "11-0", 6);
	r.elements = 5;
	consume_match_deliveries(b, &r);
	is_int(b->b_entries[0].be_deliveries, 2, "first entry counted");
	is_int(b->b_entries[1].be_deliveries, 3,
	    "a pending id missing from the batch does not stop the matching");
	is_int(b->b_entries[2].be_deliveries, 4, "same ms, later seq");
	is_int(b->b_entries[3].be_deliveries, 6, "last entry counted");

	batch_reset(b);
	for (i = 0; i < 4; i++)
		batch_add(b, ids[i], strlen(ids[i]), "{}", 2);
	/* the batch holds "10-0", XPENDING does not: the rest still match */
	xp_set(0, "9-0", 2);
	xp_set(1, "10-1", 4);
	xp_set(2, "11-0", 6);
	r.elements = 3;
	consume_match_deliveries(b, &r);
	is_int(b->b_entries[0].be_deliveries, 2, "first entry counted");
	is_int(b->b_entries[1].be_deliveries, 0, "an entry not pending stays unknown");
	is_int(b->b_entries[2].be_deliveries, 4, "the next entry still matches");
	is_int(b->b_entries[3].be_deliveries, 6, "and the last");
	batch_free(b);
}

#define MIB	(1024 * 1024)

/* COUNT from a 32 MiB budget: starts at budget / max_payload, shrinks, regrows by doubling. */
static void
test_readbudget(void)
{
	struct readbudget	rb;
	size_t			expect[] = { 8, 16, 32, 64, 128, 256, 500, 500 };
	size_t			i;

	readbudget_init(&rb, 32 * MIB, 500, 1 * MIB);
	is_int((long long)readbudget_count(&rb), 32,
	    "before any reply: budget / max_payload");
	readbudget_observe(&rb, 32, 8 * MIB + 100);
	is_int((long long)readbudget_count(&rb), 3,
	    "entries of 8 MiB: budget / largest, rounded down");
	readbudget_observe(&rb, 0, 0);
	is_int((long long)readbudget_count(&rb), 3, "an empty reply changes nothing");
	readbudget_observe(&rb, 3, 100 * MIB);
	is_int((long long)readbudget_count(&rb), 1,
	    "an entry over the budget: one entry per read, never 0");
	readbudget_observe(&rb, 1, 4 * MIB);
	is_int((long long)readbudget_count(&rb), 2,
	    "smaller entries: grows by doubling at most");
	readbudget_observe(&rb, 2, 16 * MIB);
	is_int((long long)readbudget_count(&rb), 2,
	    "entries that fit the count leave it as it is");
	readbudget_observe(&rb, 2, 4 * MIB);
	is_int((long long)readbudget_count(&rb), 4, "doubles again");
	readbudget_observe(&rb, 4, 200);
	for (i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
		is_int((long long)readbudget_count(&rb), (long long)expect[i],
		    "small entries, reply %zu: count %zu (capped by batch_size)",
		    i + 1, expect[i]);
		readbudget_observe(&rb, readbudget_count(&rb), 200);
	}
	readbudget_init(&rb, 1 * MIB, 500, 64 * MIB);
	is_int((long long)readbudget_count(&rb), 1,
	    "max_payload above the budget: one entry per read");
	readbudget_init(&rb, 64 * MIB, 10, 1024);
	is_int((long long)readbudget_count(&rb), 10, "never above batch_size");
}

/* An oversized payload keeps a prefix; recycling frees buffers over the cap. */
static void
test_batch_recycle(void)
{
	struct batch	*b = batch_new();
	char		*big = malloc(8 * MIB);

	if (b == NULL || big == NULL)
		bail("out of memory");
	memset(big, 'x', 8 * MIB);
	batch_add_truncated(b, "1-0", 3, big, 100, 8 * MIB);
	is_int((long long)b->b_entries[0].be_payload_len, 100, "prefix kept");
	is_int((long long)b->b_entries[0].be_orig_len, 8 * MIB,
	    "original length remembered");
	ok(b->b_arena.b_cap < 4096, "the arena holds the prefix only (cap %zu)",
	    b->b_arena.b_cap);
	batch_add(b, "2-0", 3, big, 8 * MIB);
	is_int((long long)b->b_entries[1].be_orig_len, 8 * MIB,
	    "batch_add: original length is the payload's");
	ok(batch_bytes(b) > 8 * MIB, "batch_bytes counts the arena");
	batch_recycle(b, 4 * MIB);
	is_int((long long)b->b_n, 0, "recycle empties the batch");
	is_int((long long)b->b_arena.b_cap, 0,
	    "an arena over the cap goes back to the allocator");
	ok(batch_bytes(b) < 1 * MIB, "batch_bytes after recycling: %zu",
	    batch_bytes(b));
	batch_add(b, "3-0", 3, big, 1000);
	batch_recycle(b, 4 * MIB);
	ok(b->b_arena.b_cap >= 1000, "an arena under the cap is kept");
	free(big);
	batch_free(b);
}

int
main(void)
{
	plan_lazy();
	test_backoff();
	test_redisurl();
	test_classify();
	test_batch();
	test_readbudget();
	test_batch_recycle();
	test_copy_encoding();
	test_mark_encoding();
	test_migrate_files();
	test_match_deliveries();
	return tap_done();
}
