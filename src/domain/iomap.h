/* Teltonika IO decoding: per-family dictionaries (id -> key, type, multiplier, unit) and quality flags. */
#ifndef PROCESSOR_DOMAIN_IOMAP_H
#define PROCESSOR_DOMAIN_IOMAP_H

#include <stddef.h>
#include <stdint.h>

#define IOMAP_KEY_MAX		32
#define IOMAP_UNIT_MAX		12
#define IOMAP_NAME_MAX		16
#define IOMAP_MAX_FAMILIES	8
#define IOMAP_MAX_MODELS	32
#define IOMAP_MAX_UNKNOWN	32

/* ie_type */
#define IOT_BOOL	1
#define IOT_UINT	2
#define IOT_INT		3
#define IOT_ENUM	4
#define IOT_RAW		5	/* identifiers: kept as given, never scaled */

/*
 * What iomap_render reads for every element comes first, so that one
 * element touches two or three cache lines, not four.
 */
struct iomap_entry {
	int		 ie_type;
	/* for iomap_render, set by iomap_finish */
	int		 ie_scale;	/* ie_mult is 10^ie_scale, or IOMAP_SCALE_NONE */
	size_t		 ie_prelen;
	size_t		 ie_postlen;
	char		 ie_pre[IOMAP_KEY_MAX * 2 + 16];	/* "key": or "key":{"value": */
	char		 ie_post[IOMAP_UNIT_MAX * 2 + 16];	/* "" or ,"unit":"V"} */
	double		 ie_mult;
	uint16_t	 ie_id;
	char		 ie_key[IOMAP_KEY_MAX];
	char		 ie_unit[IOMAP_UNIT_MAX];	/* "" for none */
};

#define IOMAP_SCALE_NONE	100

struct iomap_family {
	char		 if_name[IOMAP_NAME_MAX];
	struct iomap_entry *if_ent;	/* sorted by id */
	size_t		 if_n;
	size_t		 if_cap;
	uint32_t	*if_byid;	/* id -> index in if_ent + 1, 0 for none */
	size_t		 if_nbyid;	/* the largest id + 1 */
};

struct iomap_model {
	char		 mm_prefix[IOMAP_NAME_MAX];
	int		 mm_family;
};

struct iomap {
	char		 im_version[32];
	struct iomap_family im_fam[IOMAP_MAX_FAMILIES];
	int		 im_nfam;
	struct iomap_model im_model[IOMAP_MAX_MODELS];
	int		 im_nmodel;
	int		 im_first;	/* 1 + family of the first io row; 0 none */
};

/* One element of an attributes bag as the codec hands it over. */
#define IOV_INT		1
#define IOV_DOUBLE	2
#define IOV_RAW		3	/* big integers, byte strings: text kept as is */

struct io_value {
	uint16_t	 iv_id;
	int		 iv_kind;
	int64_t		 iv_int;
	double		 iv_num;
	const char	*iv_raw;
};

struct io_decoded {
	uint16_t	 id_id;
	const char	*id_key;	/* "io<id>" text in id_keybuf when unknown */
	int		 id_type;	/* IOT_*, IOT_RAW when unknown */
	double		 id_value;	/* raw x multiplier (numbers and bools) */
	const char	*id_unit;
	const char	*id_raw;	/* raw text, for IOT_RAW */
	int		 id_known;
	char		 id_keybuf[IOMAP_KEY_MAX];
};

/* ir_quality */
#define IOQ_NO_FIX	0x01	/* satellites 0 or GNSS status not "fix" */
#define IOQ_HIGH_HDOP	0x02
#define IOQ_JAMMING	0x04	/* GNSS jamming warning/critical, or a jamming event */

struct io_report {
	size_t		 ir_ndecoded;
	uint16_t	 ir_unknown[IOMAP_MAX_UNKNOWN];	/* ids with no entry */
	size_t		 ir_nunknown;
	unsigned	 ir_quality;
	double		 ir_hdop;	/* 0 when absent */
};

/*
 * Building a dictionary by hand (rows of the io_mappings table): start from
 * a zeroed struct iomap, iomap_add each row, then iomap_finish.
 */
int	iomap_add(struct iomap *, const char *family, long id, const char *key,
	    const char *type, double mult, const char *unit, const char **why);
int	iomap_finish(struct iomap *, char *, size_t);
int	iomap_parse(struct iomap *, const char *, size_t, char *, size_t);
int	iomap_load(struct iomap *, const char *, char *, size_t);
void	iomap_free(struct iomap *);
const struct iomap_family *iomap_family(const struct iomap *, const char *);
const struct iomap_family *iomap_for_model(const struct iomap *, const char *);
const struct iomap_entry *iomap_lookup(const struct iomap_family *, uint16_t);
int	iomap_decode(const struct iomap_family *, const struct io_value *, size_t,
	    int, double, struct io_decoded *, size_t, struct io_report *);

/*
 * The decoded column: reads an attributes bag as the codec writes it (a JSON
 * object keyed by decimal IO ids) and writes into out, at most cap bytes,
 * a JSON object keyed by the family's keys (processor-position(7)).  The ids
 * fam does not map (all of them when fam is NULL) are written as "io<id>"
 * with the value as given, and listed in unknown (at most maxunknown, each
 * once).  Returns the length written, -1 when cap is too small, -2 when attrs
 * is not a JSON object.
 */
int	iomap_render(const struct iomap_family *, const char *attrs, size_t len,
	    char *out, size_t cap, uint16_t *unknown, size_t *nunknown,
	    size_t maxunknown);
const struct iomap_family *iomap_first_family(const struct iomap *);

#endif
