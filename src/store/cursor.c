/* The pages of run lists (cursor.h): one cursor parser and formatter, one sort table and one
 * page cut for every store. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "store/cursor.h"
#include "store/store.h"

int jst__cursor_parse(const char *c, double *v, char *run, size_t n)
{
	uint64_t bits = 0;
	for (int i = 0; i < 16; i++) {
		char h = c[i];
		int d = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : -1;
		if (d < 0)
			return -EINVAL;
		bits = bits << 4 | (uint64_t)d;
	}
	if (c[16] != '~' || !c[17] || !jst__strlcpy(run, c + 17, n))
		return -EINVAL;
	memcpy(v, &bits, sizeof(*v));
	return 0;
}

int jst__cursor_format(double v, const char *run, char *out, size_t n)
{
	uint64_t bits;
	memcpy(&bits, &v, sizeof(bits));
	return snprintf(out, n, "%016llx~%s", (unsigned long long)bits, run);
}

const char *jst__run_sort_col(enum jst_run_sort s)
{
	return s == JST_SORT_ENERGY ? "energy_j" : s == JST_SORT_CO2E ? "co2e_g" : s == JST_SORT_DURATION ? "duration_s"
	       : s == JST_SORT_WATER ? "water_l" : "start_ns";
}

double jst__run_sort_value(const struct jst_run_summary *r, enum jst_run_sort s)
{
	return s == JST_SORT_ENERGY ? r->energy_j : s == JST_SORT_CO2E ? r->co2e_g : s == JST_SORT_DURATION ? r->duration_s
	       : s == JST_SORT_WATER ? r->water_l : (double)r->start_ns;
}

int jst__run_cursor(struct jst_store *s, const struct jst_run_query *q, double *v, char *run, size_t n)
{
	if (!q->cursor || !*q->cursor)
		return 0;
	if (jst__cursor_parse(q->cursor, v, run, n) == 0)
		return 1;
	snprintf(s->errmsg, sizeof(s->errmsg), "bad cursor: pass the \"next\" of the previous page");
	return -EINVAL;
}

void jst__run_page_init(struct jst_run_page *p, const struct jst_run_query *q,
                        int (*fn)(const struct jst_run_summary *, void *), void *ud, char *next, size_t nextlen)
{
	memset(p, 0, sizeof(*p));
	p->q = q;
	p->fn = fn;
	p->ud = ud;
	p->next = next;
	p->nextlen = nextlen;
	next[0] = '\0';
}

int jst__run_page_add(struct jst_run_page *p, const struct jst_run_summary *r)
{
	if (p->n == p->q->limit) { /* the row after the page: there is a next one */
		jst__cursor_format(jst__run_sort_value(&p->last, p->q->sort), p->last.run, p->next, p->nextlen);
		return 1;
	}
	p->n++;
	p->last = *r;
	return p->fn(r, p->ud) != 0;
}
