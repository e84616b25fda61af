/* A run's raw events from the event log in SQLite (the `events` call of stream.h): the stored
 * bodies of one type, in log order after a sequence number, for the dashboard's power curves,
 * phases and training metrics at full resolution. The aggregates stay the API's source of
 * totals; this only hands back what was ingested, unchanged. A run's metrics or phases are
 * read through their own index, never by walking its samples. Also each host's newest
 * heartbeat (`hosts`), kept by the ingest in ev_hosts. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "store/sqlite/sqlite_stream.h"

int jst__sq_events(struct jst_store *s, const char *run, const char *type, int64_t after,
		   size_t limit, int (*fn)(int64_t seq, const char *body, size_t len, void *ud),
		   void *ud)
{
	sqlite3 *db = jst__sqlite_db(s);
	sqlite3_stmt *st = NULL;
	/* a type other than sample (metric, phase, run_start…) is read through the partial index
	 * (run, type) of migration 10: only the run's events of that type, already in seq order */
	const char *sql =
		type && strcmp(type, "sample") != 0 ?
		       "SELECT seq,body FROM ev_log INDEXED BY ev_log_run_type WHERE run=?1 AND type=?2"
		       " AND type<>'sample' AND seq>?3 ORDER BY seq LIMIT ?4" :
		type ? "SELECT seq,body FROM ev_log WHERE run=?1 AND type=?2 AND seq>?3 ORDER BY seq LIMIT ?4" :
		       "SELECT seq,body FROM ev_log WHERE run=?1 AND seq>?3 ORDER BY seq LIMIT ?4";
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return jst__sqlite_stream_fail(s, "reading a run's events");
	sqlite3_bind_text(st, 1, run, -1, SQLITE_STATIC);
	if (type)
		sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, after);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)limit);
	int rc, r = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *body = (const char *)sqlite3_column_text(st, 1);
		if ((r = fn(sqlite3_column_int64(st, 0), body ? body : "{}",
			    body ? (size_t)sqlite3_column_bytes(st, 1) : 2, ud)) != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		r = jst__sqlite_stream_fail(s, "reading a run's events");
	sqlite3_finalize(st);
	return r < 0 ? r : 0;
}

int jst__sq_hosts(struct jst_store *s, int (*fn)(const struct jst_host_summary *, void *), void *ud)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(jst__sqlite_db(s), "SELECT host,agent,last_ns,interval_s FROM ev_hosts"
			       " ORDER BY host", -1, &st, NULL) != SQLITE_OK)
		return jst__sqlite_stream_fail(s, "reading the hosts' heartbeats");
	int rc, r = 0, n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct jst_host_summary h;
		memset(&h, 0, sizeof(h));
		const char *t = (const char *)sqlite3_column_text(st, 0);
		snprintf(h.host, sizeof(h.host), "%s", t ? t : "");
		t = (const char *)sqlite3_column_text(st, 1);
		snprintf(h.agent, sizeof(h.agent), "%s", t ? t : "");
		h.last_ns = (uint64_t)sqlite3_column_int64(st, 2);
		h.interval_s = sqlite3_column_double(st, 3);
		n++;
		if ((r = fn(&h, ud)) != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		r = jst__sqlite_stream_fail(s, "reading the hosts' heartbeats");
	sqlite3_finalize(st);
	return r < 0 ? r : n;
}
