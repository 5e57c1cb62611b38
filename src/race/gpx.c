/* OpenRally GPX roadbooks: the expat parser and the waypoints-to-gates rules (processor-race(8)). */
#include "autoconf.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "domain/geo.h"
#include "race/gpx.h"

#define GPX_NS_SEP	' '
#define GPX_NS_OPENRALLY "http://www.openrally.org/xmlschemas/GpxExtensions/"
#define GPX_TEXT_MAX	256
#define GPX_YARD_M	0.9144
#define GPX_MILE_KM	1.609344

struct gpx_parser {
	XML_Parser	 p_xml;
	struct gpx_book	*p_book;
	int		 p_depth;
	int		 p_wpt_depth;	/* depth of the open <wpt>, 0: none */
	int		 p_meta_depth;	/* depth of the open <metadata> */
	int		 p_collect;	/* P_TEXT_* the current text goes to */
	char		 p_text[GPX_TEXT_MAX];
	size_t		 p_ntext;
	size_t		 p_cap;
	char		*p_err;
	size_t		 p_errlen;
	int		 p_failed;
};

#define P_TEXT_NONE	0
#define P_TEXT_WPTNAME	1
#define P_TEXT_BOOKNAME	2
#define P_TEXT_SPEED	3
#define P_TEXT_UNITS	4

static void
gpx_fail(struct gpx_parser *p, int line, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	if (p->p_failed)
		return;
	p->p_failed = 1;
	n = snprintf(p->p_err, p->p_errlen, "line %d: ", line);
	if (n < 0 || (size_t)n >= p->p_errlen)
		n = 0;
	va_start(ap, fmt);
	vsnprintf(p->p_err + n, p->p_errlen - (size_t)n, fmt, ap);
	va_end(ap);
	XML_StopParser(p->p_xml, XML_FALSE);
}

static int
gpx_line(const struct gpx_parser *p)
{
	return (int)XML_GetCurrentLineNumber(p->p_xml);
}

/* Split "URI local" (expat's namespace form); *openrally when the URI is ours. */
static const char *
gpx_local(const char *name, int *openrally)
{
	const char	*sp = strrchr(name, GPX_NS_SEP);

	*openrally = sp != NULL && strncmp(name, GPX_NS_OPENRALLY,
	    sizeof(GPX_NS_OPENRALLY) - 1) == 0;
	return sp != NULL ? sp + 1 : name;
}

static const char *
gpx_attr(const char **attr, const char *key)
{
	int	i, dummy;

	for (i = 0; attr[i] != NULL; i += 2)
		if (strcmp(gpx_local(attr[i], &dummy), key) == 0)
			return attr[i + 1];
	return NULL;
}

/* A whole-string decimal number; -1 when s is not one. */
static int
gpx_number(const char *s, double *v)
{
	char	*end;

	if (s == NULL)
		return -1;
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	if (*s == '\0')
		return -1;
	errno = 0;
	*v = strtod(s, &end);
	while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')
		end++;
	if (errno != 0 || *end != '\0' || !isfinite(*v))
		return -1;
	return 0;
}

static void
gpx_wpt_start(struct gpx_parser *p, const char **attr)
{
	struct gpx_book	*b = p->p_book;
	struct gpx_wpt	*w;
	const char	*lat = gpx_attr(attr, "lat"), *lon = gpx_attr(attr, "lon");

	if (lat == NULL || lon == NULL) {
		gpx_fail(p, gpx_line(p), "<wpt> without %s", lat == NULL &&
		    lon == NULL ? "lat and lon" : lat == NULL ? "lat" : "lon");
		return;
	}
	if (b->gb_nwpt == GPX_WPT_MAX) {
		gpx_fail(p, gpx_line(p), "more than %d waypoints", GPX_WPT_MAX);
		return;
	}
	if (b->gb_nwpt == p->p_cap) {
		size_t	 cap = p->p_cap ? p->p_cap * 2 : 64;
		void	*n = reallocarray(b->gb_wpt, cap, sizeof(*b->gb_wpt));

		if (n == NULL) {
			gpx_fail(p, gpx_line(p), "out of memory");
			return;
		}
		b->gb_wpt = n;
		p->p_cap = cap;
	}
	w = &b->gb_wpt[b->gb_nwpt];
	memset(w, 0, sizeof(*w));
	w->gw_line = gpx_line(p);
	if (gpx_number(lat, &w->gw_lat) == -1 || gpx_number(lon, &w->gw_lon) ==
	    -1 || fabs(w->gw_lat) > 90.0 || fabs(w->gw_lon) > 180.0) {
		gpx_fail(p, w->gw_line, "<wpt> lat=\"%s\" lon=\"%s\" is not a "
		    "position in degrees", lat, lon);
		return;
	}
	b->gb_nwpt++;
	p->p_wpt_depth = p->p_depth;
}

static void
gpx_openrally_start(struct gpx_parser *p, const char *name, const char **attr)
{
	static const char *const wptypes[] = { "wpm", "wps", "wpv", "wpc", "wpe" };
	static const struct { const char *n; unsigned f; } marks[] = {
		{ "dss", GW_DSS }, { "ass", GW_ASS }, { "dz", GW_DZ }, { "fz", GW_FZ }
	};
	struct gpx_wpt	*w;
	const char	*v;
	size_t		 i;

	if (strcmp(name, "units") == 0) {
		p->p_collect = P_TEXT_UNITS;
		return;
	}
	if (p->p_wpt_depth == 0)
		return;		/* other metadata: not ours to read */
	w = &p->p_book->gb_wpt[p->p_book->gb_nwpt - 1];
	for (i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
		if (strcmp(name, marks[i].n) == 0) {
			if (w->gw_flags & marks[i].f)
				gpx_fail(p, gpx_line(p), "a second <%s> in the "
				    "same <wpt>", name);
			w->gw_flags |= marks[i].f;
			return;
		}
	if (strcmp(name, "speed") == 0) {
		p->p_collect = P_TEXT_SPEED;
		return;
	}
	if (strncmp(name, "wp", 2) != 0)
		return;		/* distance, cap, danger, tulip, ...: ignored */
	for (i = 0; i < sizeof(wptypes) / sizeof(wptypes[0]); i++)
		if (strcmp(name, wptypes[i]) == 0)
			break;
	if (i == sizeof(wptypes) / sizeof(wptypes[0])) {
		gpx_fail(p, gpx_line(p), "unknown waypoint type <%s> (known: "
		    "wpm, wps, wpv, wpc, wpe)", name);
		return;
	}
	if (w->gw_wp[0] != '\0') {
		gpx_fail(p, gpx_line(p), "<%s> after <%s> in the same <wpt>: "
		    "one waypoint type per <wpt>", name, w->gw_wp);
		return;
	}
	snprintf(w->gw_wp, sizeof(w->gw_wp), "%s", name);
	w->gw_wp_line = gpx_line(p);
	if ((v = gpx_attr(attr, "clear")) == NULL ||
	    gpx_number(v, &w->gw_clear) == -1 || !(w->gw_clear > 0.0)) {
		gpx_fail(p, gpx_line(p), "<%s> needs a clear radius > 0 "
		    "(clear=\"%s\")", name, v ? v : "");
		return;
	}
	w->gw_open = w->gw_clear;
	if ((v = gpx_attr(attr, "open")) != NULL && (gpx_number(v,
	    &w->gw_open) == -1 || w->gw_open < w->gw_clear)) {
		gpx_fail(p, gpx_line(p), "<%s> open=\"%s\" is not a radius at "
		    "least the clear radius", name, v);
		return;
	}
	if ((v = gpx_attr(attr, "name")) != NULL)
		snprintf(w->gw_name, sizeof(w->gw_name), "%s", v);
}

static void XMLCALL
gpx_start(void *ud, const char *qname, const char **attr)
{
	struct gpx_parser	*p = ud;
	const char		*name;
	int			 openrally;

	if (p->p_failed)
		return;
	p->p_depth++;
	p->p_ntext = 0;
	p->p_collect = P_TEXT_NONE;
	name = gpx_local(qname, &openrally);
	if (p->p_depth == 1) {
		if (openrally || strcmp(name, "gpx") != 0)
			gpx_fail(p, gpx_line(p), "the root element is <%s>, "
			    "not <gpx>", name);
		return;
	}
	if (openrally) {
		gpx_openrally_start(p, name, attr);
		return;
	}
	if (p->p_depth == 2 && strcmp(name, "wpt") == 0)
		gpx_wpt_start(p, attr);
	else if (p->p_depth == 2 && strcmp(name, "metadata") == 0)
		p->p_meta_depth = 2;
	else if (strcmp(name, "name") == 0 && p->p_wpt_depth &&
	    p->p_depth == p->p_wpt_depth + 1)
		p->p_collect = P_TEXT_WPTNAME;
	else if (strcmp(name, "name") == 0 && p->p_meta_depth &&
	    p->p_depth == p->p_meta_depth + 1)
		p->p_collect = P_TEXT_BOOKNAME;
}

static void XMLCALL
gpx_text(void *ud, const char *s, int len)
{
	struct gpx_parser	*p = ud;
	size_t			 n;

	if (p->p_failed || p->p_collect == P_TEXT_NONE || len <= 0)
		return;
	n = (size_t)len;
	if (n > sizeof(p->p_text) - 1 - p->p_ntext)
		n = sizeof(p->p_text) - 1 - p->p_ntext;
	memcpy(p->p_text + p->p_ntext, s, n);
	p->p_ntext += n;
	p->p_text[p->p_ntext] = '\0';
}

/* The collected text without surrounding blanks. */
static char *
gpx_trimmed(struct gpx_parser *p)
{
	char	*s = p->p_text, *e;

	p->p_text[p->p_ntext] = '\0';
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' ||
	    e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static void
gpx_wpt_end(struct gpx_parser *p)
{
	struct gpx_wpt	*w = &p->p_book->gb_wpt[p->p_book->gb_nwpt - 1];

	p->p_wpt_depth = 0;
	if ((w->gw_flags & GW_DZ) && !(w->gw_flags & GW_SPEED))
		gpx_fail(p, w->gw_line, "a speed zone start <dz> without "
		    "<speed>");
}

static void XMLCALL
gpx_end(void *ud, const char *qname)
{
	struct gpx_parser	*p = ud;
	struct gpx_wpt		*w = NULL;
	const char		*name, *t;
	int			 openrally;

	if (p->p_failed)
		return;
	name = gpx_local(qname, &openrally);
	if (p->p_wpt_depth)
		w = &p->p_book->gb_wpt[p->p_book->gb_nwpt - 1];
	t = gpx_trimmed(p);
	switch (p->p_collect) {
	case P_TEXT_WPTNAME:
		if (w != NULL && w->gw_name[0] == '\0')
			snprintf(w->gw_name, sizeof(w->gw_name), "%s", t);
		break;
	case P_TEXT_BOOKNAME:
		snprintf(p->p_book->gb_name, sizeof(p->p_book->gb_name), "%s",
		    t);
		break;
	case P_TEXT_SPEED:
		if (w == NULL)
			break;
		if (gpx_number(t, &w->gw_speed) == -1 || !(w->gw_speed > 0)) {
			gpx_fail(p, gpx_line(p), "<speed>%s</speed> is not a "
			    "speed > 0", t);
			return;
		}
		w->gw_flags |= GW_SPEED;
		break;
	case P_TEXT_UNITS:
		if (strcmp(t, "metric") == 0)
			p->p_book->gb_statute = 0;
		else if (strcmp(t, "statute") == 0 || strcmp(t, "statue") == 0)
			p->p_book->gb_statute = 1;
		else
			gpx_fail(p, gpx_line(p), "<units>%s</units> is neither "
			    "metric nor statute", t);
		break;
	}
	p->p_collect = P_TEXT_NONE;
	p->p_ntext = 0;
	if (!openrally && p->p_wpt_depth == p->p_depth &&
	    strcmp(name, "wpt") == 0)
		gpx_wpt_end(p);
	if (p->p_meta_depth == p->p_depth)
		p->p_meta_depth = 0;
	p->p_depth--;
}

int
gpx_parse(const char *doc, size_t len, struct gpx_book *b, char *err,
    size_t errlen)
{
	struct gpx_parser	p;
	size_t			i;

	memset(b, 0, sizeof(*b));
	memset(&p, 0, sizeof(p));
	p.p_book = b;
	p.p_err = err;
	p.p_errlen = errlen;
	if ((p.p_xml = XML_ParserCreateNS(NULL, GPX_NS_SEP)) == NULL) {
		snprintf(err, errlen, "XML_ParserCreateNS failed");
		return -1;
	}
	XML_SetUserData(p.p_xml, &p);
	XML_SetElementHandler(p.p_xml, gpx_start, gpx_end);
	XML_SetCharacterDataHandler(p.p_xml, gpx_text);
	if (len > (size_t)INT32_MAX ||
	    XML_Parse(p.p_xml, doc, (int)len, XML_TRUE) != XML_STATUS_OK) {
		if (!p.p_failed && p.p_wpt_depth && XML_GetErrorCode(p.p_xml) ==
		    XML_ERROR_TAG_MISMATCH)
			snprintf(err, errlen, "line %lu: not a well-formed XML "
			    "document: %s (the <wpt> of line %d is not closed)",
			    XML_GetCurrentLineNumber(p.p_xml),
			    XML_ErrorString(XML_GetErrorCode(p.p_xml)),
			    b->gb_wpt[b->gb_nwpt - 1].gw_line);
		else if (!p.p_failed)
			snprintf(err, errlen, "line %lu: not a well-formed XML "
			    "document: %s", XML_GetCurrentLineNumber(p.p_xml),
			    XML_ErrorString(XML_GetErrorCode(p.p_xml)));
		XML_ParserFree(p.p_xml);
		gpx_book_free(b);
		return -1;
	}
	XML_ParserFree(p.p_xml);
	if (b->gb_statute)
		for (i = 0; i < b->gb_nwpt; i++) {
			b->gb_wpt[i].gw_open *= GPX_YARD_M;
			b->gb_wpt[i].gw_clear *= GPX_YARD_M;
			b->gb_wpt[i].gw_speed *= GPX_MILE_KM;
		}
	return 0;
}

void
gpx_book_free(struct gpx_book *b)
{
	free(b->gb_wpt);
	memset(b, 0, sizeof(*b));
}
