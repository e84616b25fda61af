/* The run session (session.h). */
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "joulestream/trust.h"
#include "run/session.h"
#include "run/monitor.h"

#define STORE_SYNC_MS 10000u /* the store's events: the run's record */
#define SINK_CLOSE_MS 10000u

int jst__session_open(struct jst__session *s, const char *who, struct jst_run *run, const char *sink,
                      const char *spool, const char *ca)
{
	memset(s, 0, sizeof(*s));
	s->who = who;
	s->run = run;
	return jst__run_sink_open(&s->sink, who, sink, spool, ca);
}

void jst__session_store(struct jst__session *s, const char *db, const char *spool)
{
	char err[600];
	if (db) {
		jst__strlcpy(s->store_path, db, sizeof(s->store_path));
	} else {
		int r = jst_store_default_path(s->store_path, sizeof(s->store_path), true);
		if (r < 0) {
			jst_run_note(s->run, "not stored: no data directory (%s); give the database", jst_strerror(r));
			s->store_path[0] = '\0';
			s->store_failed = true;
			return;
		}
	}
	char target[1040];
	bool url = strncmp(s->store_path, "postgresql:", 11) == 0 || strncmp(s->store_path, "sqlite:", 7) == 0;
	snprintf(target, sizeof(target), "%s%s", url ? "" : "sqlite:", s->store_path);
	if (jst__run_sink_store(&s->sink, s->who, target, spool) != 0)
		jst_run_note(s->run, "not stored: cannot open a sink for the store %s", s->store_path);
	if (jst_store_open(&s->store, s->store_path, err, sizeof(err)) < 0) {
		jst_run_note(s->run, "store unavailable: %s", err);
		s->store = NULL;
		s->store_failed = true;
	}
}

void jst__session_check(struct jst__session *s, int r, const char *what)
{
	if (r >= 0 || s->store_failed)
		return;
	s->store_failed = true;
	jst_run_note(s->run, "store failed while %s: %s", what, jst_store_errmsg(s->store));
}

void jst__session_begin(struct jst__session *s, uint64_t start_mono, const char *model, int argc, char **argv)
{
	jst__run_sink_start(&s->sink, s->run, start_mono, model, argc, argv);
}

void jst__session_drain(struct jst__session *s, struct jst_monitor *mon)
{
	size_t n;
	const struct jst_sample *v = jst_monitor_pending(mon, &n);
	jst__run_sink_samples(&s->sink, s->run, v, n); /* the store's event log and --sink */
	jst__run_sink_flush(&s->sink, 0);
	jst_monitor_drained(mon); /* its pending metrics too: mark events carry them */
}

void jst__session_mark(struct jst__session *s, struct jst_monitor *mon, const struct jst_mark *mk, uint64_t mono_ns)
{
	struct jst_run *run;
	uint64_t start, last;
	jst__monitor_training(mon, &run, &start, &last);
	jst__run_sink_mark(&s->sink, s->run, mk, mono_ns, last);
}

void jst__session_sync(struct jst__session *s, unsigned wait_ms)
{
	jst__run_sink_flush(&s->sink, wait_ms ? wait_ms : STORE_SYNC_MS);
}

void jst__session_finish(struct jst__session *s)
{
	jst__run_sink_finish(&s->sink, s->run, s->close_ms ? s->close_ms : SINK_CLOSE_MS);
	if (!s->store || s->store_failed)
		return;
	jst__session_check(s, jst_store_run_end(s->store, s->run), "saving the run");
	if (!s->store_failed) { /* idle floor and event digest for the reports */
		jst_store_floor(s->store, s->run);
		jst_store_event_digest(s->store, s->run->id, s->run->prov.content_hash);
	}
}

void jst__session_close(struct jst__session *s)
{
	jst_sink_close(s->sink.sink, 0, NULL);
	jst_sink_close(s->sink.store, 0, NULL);
	s->sink.sink = s->sink.store = NULL;
	jst_store_close(s->store);
	s->store = NULL;
}

void jst__session_series(struct jst__session *s, const struct jst_series *series)
{
	jst__run_sink_series(&s->sink, s->run, series);
}
