/* Strict single-pass RFC 8259 scanner for the codec: validate, copy, reverse sentinels. */
#ifndef PROCESSOR_JSCAN_H
#define PROCESSOR_JSCAN_H

#include <stddef.h>
#include <stdint.h>

#include "codec/codec.h"

#define JSCAN_PATH_MAX		16	/* levels named in error messages */
#define JSCAN_NUM_MAX_DIGITS	1000	/* integer or fraction digits of one number */
#define JSCAN_NUM_MAX_EXP	1000	/* |exponent|; PostgreSQL numeric limits */

/* A string token: the raw bytes between the quotes, escapes not decoded. */
struct jscan_str {
	const unsigned char	*js_raw;
	size_t			 js_len;
	int			 js_esc;	/* contains a backslash escape */
};

/* A number token, checked against the RFC 8259 grammar. */
struct jscan_num {
	const char	*jn_p;
	size_t		 jn_len;
	int		 jn_neg;
	int		 jn_int;	/* no fraction, no exponent */
	size_t		 jn_idig;	/* digits before the point */
	size_t		 jn_fdig;	/* digits after the point */
	long		 jn_exp;	/* saturated at +-(JSCAN_NUM_MAX_EXP + 1) */
};

struct jscan_key {
	uint32_t	 jk_hash;
	uint32_t	 jk_off;	/* raw key bytes, offset from j_base */
	uint32_t	 jk_len;
	uint32_t	 jk_esc;
};

/* One level of the current path: an object key or an array index. */
struct jscan_seg {
	uint32_t	 jp_off;
	uint32_t	 jp_len;
	long		 jp_index;	/* -1 for an object member */
};

/*
 * Parser state.  Syntax-level faults (bad JSON, UTF-8, depth, NUL, duplicate
 * key) stop the scan at once and land in j_err.  Contract faults inside a
 * value (bad sentinel, huge exponent) are recorded once in j_sem, output is
 * switched off, and the scan goes on, so that a payload that is also
 * malformed is always reported as malformed, whatever it contains.
 */
struct jscan {
	const unsigned char	*j_base;
	const unsigned char	*j_p;
	const unsigned char	*j_end;
	char			*j_o;		/* output cursor, NULL: validate only */
	const unsigned char	*j_copy;	/* input not yet copied, NULL: none */
	int			 j_attrs;	/* apply contract rules to values */
	int			 j_rootdepth;	/* depth of the attributes object */
	int			 j_depth;
	int			 j_maxdepth;
	int			 j_failed;
	int			 j_poisoned;
	int			 j_nkeys;
	struct codec_error	*j_err;
	struct codec_error	 j_sem;
	struct jscan_seg		 j_path[JSCAN_PATH_MAX];
	struct jscan_key		 j_keys[CODEC_MAX_KEYS];
};

void	jscan_init(struct jscan *, const void *, size_t, int, struct codec_error *);
void	jscan_ws(struct jscan *);
void	jscan_flush(struct jscan *, const unsigned char *);
int	jscan_fail(struct jscan *, enum codec_reason, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
int	jscan_poison(struct jscan *, enum codec_reason, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
int	jscan_expect(struct jscan *, int);
int	jscan_value(struct jscan *);
int	jscan_string(struct jscan *, struct jscan_str *);
int	jscan_number(struct jscan *, struct jscan_num *);
int	jscan_literal(struct jscan *);
int	jscan_enter(struct jscan *);
int	jscan_key(struct jscan *, int, uint64_t *, struct jscan_str *);
int	jscan_leave(struct jscan *, int);
int	jscan_unescape(const struct jscan_str *, char *, size_t, size_t *);
void	jscan_path(const struct jscan *, int, char *, size_t);
void	jscan_excerpt(const void *, size_t, char *, size_t);
const char *jscan_type_name(int);
int	jscan_validate(const void *, size_t, int, struct codec_error *);

#endif
