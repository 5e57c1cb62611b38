/* A round's statements: array parameters built as literals, and run. */
#include "autoconf.h"

#include <inttypes.h>
#include <stdio.h>

#include "util/buf.h"
#include "race/race_batch_int.h"
#include "race/race_pg.h"

int
race_batch_fail(struct batch *b, const char *what, PGresult *res)
{
	return race_pg_fail(res, b->bt_conn, what, b->bt_err, b->bt_errlen);
}

int
race_batch_oom(struct batch *b, const char *what)
{
	snprintf(b->bt_err, b->bt_errlen, "%s: out of memory", what);
	return -1;
}

void
race_batch_arr_init(struct batch_args *a, int n)
{
	int	i;

	a->ba_n = n;
	for (i = 0; i < n; i++) {
		buf_init(&a->ba_arr[i]);
		buf_putc(&a->ba_arr[i], '{');
	}
}

void
race_batch_arr_free(struct batch_args *a)
{
	int	i;

	for (i = 0; i < a->ba_n; i++)
		buf_free(&a->ba_arr[i]);
}

void
race_batch_arr_sep(struct buf *b)
{
	if (b->b_len > 1)
		buf_putc(b, ',');
}

/* An element quoted for an array literal (any text, NULL for none). */
void
race_batch_arr_text(struct batch_args *a, int k, const char *s)
{
	struct buf	*b = &a->ba_arr[k];

	race_batch_arr_sep(b);
	if (s == NULL) {
		buf_puts(b, "NULL");
		return;
	}
	buf_putc(b, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			buf_putc(b, '\\');
		buf_putc(b, *s);
	}
	buf_putc(b, '"');
}

void
race_batch_arr_int(struct batch_args *a, int k, int64_t v)
{
	race_batch_arr_sep(&a->ba_arr[k]);
	buf_printf(&a->ba_arr[k], "%" PRId64, v);
}

/*
 * Run sql with the arrays of a as $1.. and then last, if not NULL; the
 * result, or NULL on error.  a stays open for more elements.
 */
PGresult *
race_batch_exec(struct batch *b, const char *sql, struct batch_args *a,
    const char *last, ExecStatusType want, const char *what)
{
	const char	*params[BATCH_ARR_MAX + 1];
	PGresult	*res;
	int		 i;

	for (i = 0; i < a->ba_n; i++)
		if (buf_putc(&a->ba_arr[i], '}') == -1 ||
		    (params[i] = buf_cstr(&a->ba_arr[i])) == NULL) {
			race_batch_oom(b, what);
			return NULL;
		}
	params[a->ba_n] = last;
	res = PQexecParams(b->bt_conn, sql, a->ba_n + (last != NULL), NULL,
	    params, NULL, NULL, 0);
	for (i = 0; i < a->ba_n; i++)
		a->ba_arr[i].b_len--;	/* the '}': more elements may follow */
	if (PQresultStatus(res) != want) {
		race_batch_fail(b, what, res);
		return NULL;
	}
	return res;
}

/* A statement built in bt_sql, no parameters; NULL on error. */
PGresult *
race_batch_sql(struct batch *b, const char *what)
{
	return race_pg_exec(b->bt_conn, &b->bt_sql, what, b->bt_err,
	    b->bt_errlen);
}
