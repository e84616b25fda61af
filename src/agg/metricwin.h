/* Training metrics per 1-minute window of a run (the timeline of the query API): the metric
 * events' values folded per (window, name) into count, average, min, max and last value. Built
 * at read time from the run's raw metric events; bounded, so a run with very many distinct
 * names or windows is cut (truncated says so), never grows without limit. */
#ifndef JST_AGG_METRICWIN_H
#define JST_AGG_METRICWIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JST_METRIC_WINS_MAX 4096 /* (window, name) cells kept */

struct jst_metric_cell {
	uint64_t win;      /* window start, ns since the epoch */
	char name[64];
	int64_t count;
	double sum, min, max, last;
	uint64_t last_ts;  /* ts_ns of last */
};

struct jst_metric_wins {
	struct jst_metric_cell *cell;
	size_t n, cap;
	bool truncated;
};

/* Adds one stored metric event (a JSON object, p[0..n)). 0, -EINVAL for a body that is not a
 * metric event with a values object, -ENOMEM. */
int jst__metric_wins_add(struct jst_metric_wins *m, const char *p, size_t n);
/* Orders the cells by window, then name. */
void jst__metric_wins_sort(struct jst_metric_wins *m);
void jst__metric_wins_release(struct jst_metric_wins *m);

#endif
