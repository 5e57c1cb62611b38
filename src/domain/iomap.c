/* Teltonika IO decoding: per-family dictionaries (id -> key, type, multiplier, unit) and quality flags. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "domain/iomap.h"

#define IOMAP_FIELDS	8

static const char *const iomap_types[] = { NULL, "bool", "uint", "int", "enum",
    "raw" };

/* Splits a line on tabs in place; returns the field count. */
static int
iomap_split(char *line, char **f, int max)
{
	int	n = 0;

	f[n++] = line;
	for (; *line && n < max; line++)
		if (*line == '\t') {
			*line = '\0';
			f[n++] = line + 1;
		}
	return n;
}

static int
iomap_family_index(struct iomap *im, const char *name, int create)
{
	int	i;

	for (i = 0; i < im->im_nfam; i++)
		if (strcmp(im->im_fam[i].if_name, name) == 0)
			return i;
	if (!create || im->im_nfam == IOMAP_MAX_FAMILIES ||
	    strlen(name) >= IOMAP_NAME_MAX)
		return -1;
	snprintf(im->im_fam[im->im_nfam].if_name, IOMAP_NAME_MAX, "%s", name);
	return im->im_nfam++;
}

static int
iomap_type(const char *s)
{
	int	i;

	for (i = 1; i <= IOT_RAW; i++)
		if (strcmp(s, iomap_types[i]) == 0)
			return i;
	return -1;
}

/* One dictionary row; why says what is wrong with it. */
int
iomap_add(struct iomap *im, const char *family, long id, const char *key,
    const char *type, double mult, const char *unit, const char **why)
{
	struct iomap_family	*fam;
	struct iomap_entry	*e;
	const char		*p;
	int			 fi, t;

	if ((fi = iomap_family_index(im, family, 1)) == -1)
		return *why = "bad or too many families", -1;
	fam = &im->im_fam[fi];
	if (id < 0 || id > 65535)
		return *why = "bad IO id", -1;
	if ((t = iomap_type(type)) == -1)
		return *why = "bad type", -1;
	if (!(mult > 0) || !isfinite(mult))
		return *why = "bad multiplier", -1;
	if (*key == '\0' || strlen(key) >= IOMAP_KEY_MAX ||
	    strlen(unit) >= IOMAP_UNIT_MAX)
		return *why = "key or unit empty or too long", -1;
	for (p = key; *p; p++)
		if ((unsigned char)*p < 0x20)
			return *why = "control character in key", -1;
	for (p = unit; *p; p++)
		if ((unsigned char)*p < 0x20)
			return *why = "control character in unit", -1;
	if (fam->if_n == fam->if_cap) {
		size_t	cap = fam->if_cap ? fam->if_cap * 2 : 64;

		if ((e = reallocarray(fam->if_ent, cap, sizeof(*e))) == NULL)
			return *why = "out of memory", -1;
		fam->if_ent = e;
		fam->if_cap = cap;
	}
	e = &fam->if_ent[fam->if_n];
	memset(e, 0, sizeof(*e));
	e->ie_id = (uint16_t)id;
	e->ie_type = t;
	e->ie_mult = mult;
	snprintf(e->ie_key, sizeof(e->ie_key), "%s", key);
	snprintf(e->ie_unit, sizeof(e->ie_unit), "%s", unit);
	fam->if_n++;
	if (im->im_first == 0)
		im->im_first = fi + 1;
	return 0;
}

static int
iomap_add_io(struct iomap *im, char **f, int nf, const char **why)
{
	char	*end;
	long	 id;
	double	 mult;

	if (nf < 7)
		return *why = "io row needs 7 fields", -1;
	errno = 0;
	id = strtol(f[2], &end, 10);
	if (*end || errno || end == f[2])
		return *why = "bad IO id", -1;
	mult = strtod(f[5], &end);
	if (*end || end == f[5])
		return *why = "bad multiplier", -1;
	return iomap_add(im, f[1], id, f[3], f[4], mult,
	    strcmp(f[6], "-") ? f[6] : "", why);
}

static int
iomap_add_model(struct iomap *im, char **f, int nf, const char **why)
{
	struct iomap_model	*m;

	if (nf < 3 || im->im_nmodel == IOMAP_MAX_MODELS ||
	    strlen(f[1]) >= IOMAP_NAME_MAX)
		return *why = "bad model row", -1;
	m = &im->im_model[im->im_nmodel];
	if ((m->mm_family = iomap_family_index(im, f[2], 1)) == -1)
		return *why = "bad family", -1;
	snprintf(m->mm_prefix, sizeof(m->mm_prefix), "%s", f[1]);
	im->im_nmodel++;
	return 0;
}

static int
iomap_line(struct iomap *im, char *line, const char **why)
{
	char	*f[IOMAP_FIELDS];
	int	 nf;

	if (*line == '\0' || *line == '#')
		return 0;
	nf = iomap_split(line, f, IOMAP_FIELDS);
	if (strcmp(f[0], "io") == 0)
		return iomap_add_io(im, f, nf, why);
	if (strcmp(f[0], "model") == 0)
		return iomap_add_model(im, f, nf, why);
	if (strcmp(f[0], "version") == 0 && nf >= 2) {
		snprintf(im->im_version, sizeof(im->im_version), "%s", f[1]);
		return 0;
	}
	*why = "unknown row kind";
	return -1;
}

static int
iomap_entry_cmp(const void *a, const void *b)
{
	const struct iomap_entry	*x = a, *y = b;

	return (int)x->ie_id - (int)y->ie_id;
}

/* JSON string body of s (no control characters: iomap_add refused them). */
static size_t
iomap_quote(char *out, const char *s)
{
	size_t	n = 0;

	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			out[n++] = '\\';
		out[n++] = *s;
	}
	return n;
}

/* 10^k for a multiplier that is one (0.001, 1, 1000), else IOMAP_SCALE_NONE. */
static int
iomap_scale(double mult)
{
	double	p = 1e-9;
	int	k;

	for (k = -9; k <= 9; k++, p *= 10)
		if (fabs(mult / p - 1) < 1e-12)
			return k;
	return IOMAP_SCALE_NONE;
}

static void
iomap_prepare(struct iomap_entry *e)
{
	size_t	n = 0;

	e->ie_pre[n++] = '"';
	n += iomap_quote(e->ie_pre + n, e->ie_key);
	memcpy(e->ie_pre + n, "\":", 2);
	n += 2;
	if (*e->ie_unit != '\0') {
		memcpy(e->ie_pre + n, "{\"value\":", 9);
		n += 9;
		e->ie_postlen = 0;
		memcpy(e->ie_post, ",\"unit\":\"", 9);
		e->ie_postlen = 9 + iomap_quote(e->ie_post + 9, e->ie_unit);
		memcpy(e->ie_post + e->ie_postlen, "\"}", 2);
		e->ie_postlen += 2;
	} else
		e->ie_postlen = 0;
	e->ie_prelen = n;
	e->ie_scale = iomap_scale(e->ie_mult);
}

/*
 * Sorts each family, refuses an id listed twice in one family, and builds
 * what iomap_render needs: the id index and each entry's output text.
 */
int
iomap_finish(struct iomap *im, char *err, size_t errlen)
{
	struct iomap_family	*fam;
	size_t			 i;
	int			 k;

	for (k = 0; k < im->im_nfam; k++) {
		fam = &im->im_fam[k];
		qsort(fam->if_ent, fam->if_n, sizeof(*fam->if_ent),
		    iomap_entry_cmp);
		for (i = 1; i < fam->if_n; i++)
			if (fam->if_ent[i].ie_id == fam->if_ent[i - 1].ie_id) {
				snprintf(err, errlen, "family %s: IO %u listed twice",
				    fam->if_name, fam->if_ent[i].ie_id);
				return -1;
			}
		free(fam->if_byid);
		fam->if_byid = NULL;
		fam->if_nbyid = fam->if_n ? fam->if_ent[fam->if_n - 1].ie_id + 1u : 0;
		if (fam->if_nbyid > 0 &&
		    (fam->if_byid = calloc(fam->if_nbyid, sizeof(uint32_t))) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		for (i = 0; i < fam->if_n; i++) {
			iomap_prepare(&fam->if_ent[i]);
			fam->if_byid[fam->if_ent[i].ie_id] = (uint32_t)(i + 1);
		}
	}
	return 0;
}

/* Parses the dictionary text (the data/io/teltonika.tsv format); err names the line. */
int
iomap_parse(struct iomap *im, const char *text, size_t len, char *err,
    size_t errlen)
{
	char		*buf, *line, *next;
	const char	*why = NULL;
	int		 lineno = 0;

	memset(im, 0, sizeof(*im));
	if ((buf = malloc(len + 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(buf, text, len);
	buf[len] = '\0';
	for (line = buf; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		line[strcspn(line, "\r")] = '\0';
		lineno++;
		if (iomap_line(im, line, &why) == -1) {
			snprintf(err, errlen, "line %d: %s", lineno, why);
			free(buf);
			iomap_free(im);
			return -1;
		}
	}
	free(buf);
	if (iomap_finish(im, err, errlen) == -1) {
		iomap_free(im);
		return -1;
	}
	return 0;
}

void
iomap_free(struct iomap *im)
{
	int	k;

	for (k = 0; k < im->im_nfam; k++) {
		free(im->im_fam[k].if_ent);
		free(im->im_fam[k].if_byid);
	}
	memset(im, 0, sizeof(*im));
}

const struct iomap_family *
iomap_family(const struct iomap *im, const char *name)
{
	int	i;

	for (i = 0; i < im->im_nfam; i++)
		if (strcmp(im->im_fam[i].if_name, name) == 0)
			return &im->im_fam[i];
	return NULL;
}

/* The family of a device model ("FMC650"): the longest matching prefix wins. */
const struct iomap_family *
iomap_for_model(const struct iomap *im, const char *model)
{
	size_t	best = 0, n;
	int	i, fam = -1;

	for (i = 0; i < im->im_nmodel; i++) {
		n = strlen(im->im_model[i].mm_prefix);
		if (n > best && strncasecmp(model, im->im_model[i].mm_prefix, n) == 0) {
			best = n;
			fam = im->im_model[i].mm_family;
		}
	}
	return fam == -1 ? NULL : &im->im_fam[fam];
}

const struct iomap_entry *
iomap_lookup(const struct iomap_family *fam, uint16_t id)
{
	struct iomap_entry	key;

	key.ie_id = id;
	return bsearch(&key, fam->if_ent, fam->if_n, sizeof(key),
	    iomap_entry_cmp);
}

static double
iomap_number(const struct io_value *v)
{
	if (v->iv_kind == IOV_INT)
		return (double)v->iv_int;
	if (v->iv_kind == IOV_DOUBLE)
		return v->iv_num;
	return v->iv_raw ? strtod(v->iv_raw, NULL) : NAN;
}

static void
iomap_one(const struct iomap_entry *e, const struct io_value *v,
    struct io_decoded *d, struct io_report *ir)
{
	memset(d, 0, sizeof(*d));
	d->id_id = v->iv_id;
	d->id_raw = v->iv_kind == IOV_RAW ? v->iv_raw : NULL;
	if (e == NULL) {
		snprintf(d->id_keybuf, sizeof(d->id_keybuf), "io%u", v->iv_id);
		d->id_key = d->id_keybuf;
		d->id_type = IOT_RAW;
		d->id_value = iomap_number(v);
		d->id_unit = "";
		if (ir->ir_nunknown < IOMAP_MAX_UNKNOWN)
			ir->ir_unknown[ir->ir_nunknown++] = v->iv_id;
		return;
	}
	d->id_known = 1;
	d->id_key = e->ie_key;
	d->id_type = e->ie_type;
	d->id_unit = e->ie_unit;
	d->id_value = iomap_number(v);
	if (e->ie_type == IOT_BOOL)
		d->id_value = d->id_value != 0;
	else if (e->ie_type != IOT_RAW)
		d->id_value *= e->ie_mult;
}

/* Data-quality flags read from the decoded keys, so family differences (318) are respected. */
static void
iomap_quality(const struct io_decoded *d, size_t n, int sats, double max_hdop,
    struct io_report *ir)
{
	size_t	i;

	if (sats == 0)
		ir->ir_quality |= IOQ_NO_FIX;
	for (i = 0; i < n; i++) {
		if (!d[i].id_known)
			continue;
		if (strcmp(d[i].id_key, "gnss_status") == 0 && d[i].id_value != 1)
			ir->ir_quality |= IOQ_NO_FIX;
		else if (strcmp(d[i].id_key, "hdop") == 0) {
			ir->ir_hdop = d[i].id_value;
			if (d[i].id_value > max_hdop)
				ir->ir_quality |= IOQ_HIGH_HDOP;
		} else if ((strcmp(d[i].id_key, "gnss_jamming") == 0 ||
		    strcmp(d[i].id_key, "jamming") == 0) && d[i].id_value >= 1)
			ir->ir_quality |= IOQ_JAMMING;
	}
}

/*
 * Decodes a bag with the family's dictionary: units applied, unknown ids
 * kept raw (key "io<id>") and listed in the report.  sats < 0 means the
 * record had no satellite count.  Returns the number of decoded elements.
 */
int
iomap_decode(const struct iomap_family *fam, const struct io_value *in,
    size_t n, int sats, double max_hdop, struct io_decoded *out, size_t max,
    struct io_report *ir)
{
	size_t	i, k = 0;

	memset(ir, 0, sizeof(*ir));
	for (i = 0; i < n && k < max; i++)
		iomap_one(fam ? iomap_lookup(fam, in[i].iv_id) : NULL, &in[i],
		    &out[k++], ir);
	iomap_quality(out, k, sats, max_hdop, ir);
	ir->ir_ndecoded = k;
	return (int)k;
}

/* The default family when none is configured: the first one the rows name. */
const struct iomap_family *
iomap_first_family(const struct iomap *im)
{
	return im->im_first > 0 ? &im->im_fam[im->im_first - 1] : NULL;
}
