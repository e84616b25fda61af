/* The server side of the event log (`joulestream serve`, `joulestream replay`): batches of
 * events stored once per id with the real-time aggregates in the same transaction, the views
 * the query API reads, the rebuild of every aggregate from the raw log, and API tokens. These
 * calls go through the store's vtable (src/store/stream.h); SQLite implements them. */
#ifndef JOULESTREAM_INGEST_H
#define JOULESTREAM_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "joulestream/common.h"
#include "joulestream/event.h"
#include "joulestream/store.h"

struct jst_ingest_result {
	size_t accepted;   /* new events stored */
	size_t duplicates; /* ids already stored: skipped (idempotent retries and replays) */
};

/* Makes every commit durable before it returns (SQLite synchronous=FULL): what ingest
 * acknowledged survives a crash of the process and of the machine. */
JST_API int jst_store_durable(struct jst_store *s);

/* Stores a whole batch and its aggregates in one transaction, or nothing (negative errno,
 * jst_store_errmsg says why; -EBUSY when the database is locked: try again later). */
JST_API int jst_store_ingest(struct jst_store *s, const struct jst_event_batch *b,
                             struct jst_ingest_result *res);

/* Where a batch came from when a log feeds the store (serve --source kafka://…): the next
 * offset to read of each (group, topic, partition) the batch covers, and the messages that were
 * not valid events (skipped, kept for the admin). Both are written in the batch's own
 * transaction, so the stored offsets are exactly those of the stored events (docs/api.md). */
struct jst_source_offset {
	const char *group, *topic;
	int32_t partition;
	int64_t next_offset; /* the first offset not yet stored */
};
struct jst_source_reject {
	const char *group, *topic;
	int32_t partition;
	int64_t offset;
	const char *error;   /* why the message was refused */
	const char *body;    /* its first bytes (may hold anything; stored as text) */
	size_t body_len;
};
struct jst_source_batch {
	const struct jst_source_offset *off;
	size_t noff;
	const struct jst_source_reject *rej;
	size_t nrej;
};

/* jst_store_ingest() plus the source's offsets and rejects, in the same transaction. */
JST_API int jst_store_ingest_from(struct jst_store *s, const struct jst_event_batch *b,
                                  const struct jst_source_batch *src, struct jst_ingest_result *res);
/* The stored next offset of every partition of (group, topic): fn(partition, next_offset). */
JST_API int jst_store_source_offsets(struct jst_store *s, const char *group, const char *topic,
                                     int (*fn)(int32_t partition, int64_t next_offset, void *ud), void *ud);

/* What a log source did, for admins (GET /api/v1/sources): every stored offset, and the refused
 * messages, newest first, at most limit of them; *refused gets their total. */
struct jst_source_state {
	char group[256], topic[256];
	int32_t partition;
	int64_t next_offset;
	uint64_t updated_ns;
};
struct jst_source_refusal {
	char group[256], topic[256];
	int32_t partition;
	int64_t offset;
	uint64_t ts_ns;
	char error[320];
};
JST_API int jst_store_sources(struct jst_store *s, size_t limit,
                              int (*on_offset)(const struct jst_source_state *o, void *ud),
                              int (*on_refusal)(const struct jst_source_refusal *r, void *ud), void *ud,
                              int64_t *refused);

/* The event chain (docs/integrity.md): every batch's new events are hashed, each with its log
 * sequence number and every column of its row, into an entry of the table ev_chain that names
 * the previous entry's hash, in the batch's own transaction. Events stored before a store had
 * the chain are chained once, in seq order, when it is first opened (origin "migration"). */
struct jst_events_report {
	size_t entries;  /* chain entries read */
	size_t events;   /* rows of the event log read */
	size_t migrated; /* events chained by the migration, not at their ingest */
	size_t problems; /* events edited, inserted or deleted; entries edited, inserted or cut */
	char head[65];   /* the newest entry's hash, "" when empty: publish it to anchor the log */
};
/* A problem: the event's seq and id when it names one (0 and "" for an entry), in words. */
typedef void (*jst_events_verify_fn)(void *ud, int64_t seq, const char *id, const char *what);
/* Recomputes the chain and every event's digest in one consistent snapshot. 0 (see
 * out->problems) or a negative errno (-ENOTSUP: the store keeps no event log). */
JST_API int jst_store_events_verify(struct jst_store *s, jst_events_verify_fn fn, void *ud,
				    struct jst_events_report *out);

/* Deletes every aggregate and rebuilds them from the raw events, batch by batch in the order
 * they were accepted (the same computation as at ingest, so the same figures). */
JST_API int jst_store_rebuild(struct jst_store *s, uint64_t *events);

struct jst_run_summary {
	char run[JST_EVENT_ID_MAX + 1];
	char host[256], user[64], model[128], project[128], zone[32];
	char status[16];            /* "running", "finished" */
	uint64_t start_ns, end_ns, last_ns;
	double duration_s, interval_s, pue, ci_g_per_kwh;
	int exit_code;
	int64_t samples, gaps, failed;
	double energy_j, host_energy_j, co2e_g, water_l;
	bool has_start;
	bool host_series; /* an agent's whole-host series (listed with host_series only) */
};

enum jst_run_sort { JST_SORT_START, JST_SORT_ENERGY, JST_SORT_CO2E, JST_SORT_DURATION, JST_SORT_WATER };

struct jst_run_query {
	const char *user, *model, *host, *zone; /* NULL: any */
	const char *status;                     /* "running", "finished", "stalled" or NULL */
	uint64_t from_ns, to_ns;                /* runs that started in [from, to); 0: open */
	enum jst_run_sort sort;                 /* always descending */
	size_t limit;                           /* 1..1000 */
	const char *cursor;                     /* from the previous page, or NULL */
	const char *only_user;                  /* a reader's restriction, or NULL */
	bool host_series;                       /* the agents' host series instead of the runs */
	uint64_t now_ns;                        /* for "stalled" */
	double stall_intervals;                 /* a run is stalled after this many silent intervals */
};

/* Calls fn for each run of the page; next receives the cursor of the next page ("" at the
 * end). -EINVAL for a bad cursor. */
JST_API int jst_store_query_runs(struct jst_store *s, const struct jst_run_query *q,
                                 int (*fn)(const struct jst_run_summary *r, void *ud), void *ud,
                                 char *next, size_t nextlen);
/* -ENOENT when unknown. */
JST_API int jst_store_get_run(struct jst_store *s, const char *id, struct jst_run_summary *r);

struct jst_zone_summary {
	char zone[64], kind[8], source[32];
	int64_t samples, gaps;
	double energy_j, host_energy_j;
};
JST_API int jst_store_run_zones(struct jst_store *s, const char *id,
                                int (*fn)(const struct jst_zone_summary *z, void *ud), void *ud);

/* A host that sent heartbeats (an agent's): the newest one. */
struct jst_host_summary {
	char host[256];
	char agent[65];     /* the agent's id (its heartbeats' run), "" when none */
	uint64_t last_ns;   /* ts_ns of the newest heartbeat */
	double interval_s;  /* the period it announced; 0 when it did not say */
};
/* Hosts with heartbeats, by name; -ENOTSUP for a store that does not keep them. */
JST_API int jst_store_hosts(struct jst_store *s, int (*fn)(const struct jst_host_summary *h, void *ud),
                            void *ud);

struct jst_window {
	char zone[64];
	uint64_t win_ns; /* window start */
	int64_t samples;
	double energy_j, host_energy_j, co2e_g, water_l, avg_w, max_w, p50_w, p90_w, p99_w;
};
/* A run's windows, in time order, zone by zone within a window. */
JST_API int jst_store_run_windows(struct jst_store *s, const char *id,
                                  int (*fn)(const struct jst_window *w, void *ud), void *ud);

struct jst_aggregate {
	char key[336];
	int64_t samples;
	double energy_j, co2e_g, water_l;
	bool unattributed; /* the part of the hosts no run claims (key "(unattributed)") */
};
/* Totals by "user", "model", "project", "host", "zone" or "phase" over windows in [from, to)
 * (0: open), largest energy first. A host's energy is counted once (docs/methodology.md): host
 * its agent's series where it has one, else its runs'; user, model and project the runs' claims
 * plus one unattributed group, so that they add up to the hosts' total in every window; zone
 * the hosts' energy by grid zone. only_user restricts to one user's runs (readers: their runs'
 * own figures, no unattributed group). */
JST_API int jst_store_aggregates(struct jst_store *s, const char *by, uint64_t from_ns, uint64_t to_ns,
                                 const char *only_user,
                                 int (*fn)(const struct jst_aggregate *a, void *ud), void *ud);
/* One run's phase totals over all its windows: the "phase" aggregates whose key is "ID/PATH"
 * (PATH "(none)": energy outside any phase), largest energy first as jst_store_aggregates gives
 * them, read from that run's keys only (the cost does not grow with the other runs). */
JST_API int jst_store_run_phases(struct jst_store *s, const char *id,
                                 int (*fn)(const struct jst_aggregate *a, void *ud), void *ud);

/* A run's raw events of one type ("sample", "phase", "metric", "run_start"…; NULL: all) with a
 * log sequence number above after, in log order, at most limit: fn gets each stored body as
 * it was ingested (a JSON object) and its sequence number; a non-zero return stops. */
JST_API int jst_store_run_events(struct jst_store *s, const char *run, const char *type, int64_t after,
                                 size_t limit, int (*fn)(int64_t seq, const char *body, size_t len, void *ud),
                                 void *ud);

/* Deletes a run from every view (DELETE /api/v1/runs/{id}): its id is tombstoned, the
 * aggregates are rebuilt from the raw log without it, and later events of the run are kept in
 * the log but not aggregated. The raw events stay (the log is immutable). -ENOENT when the run
 * has no aggregates (unknown or already deleted). events: how many were replayed (may be NULL). */
JST_API int jst_store_run_delete(struct jst_store *s, const char *run, uint64_t now_ns, uint64_t *events);

/* API tokens: only the BLAKE2b-256 hash of a token is kept (src/server/auth.c). */
enum jst_role { JST_ROLE_READER, JST_ROLE_AGENT, JST_ROLE_ADMIN };
struct jst_token_info {
	int64_t id;
	char prefix[16];   /* the token's first characters, to recognise it */
	unsigned char hash[32];
	enum jst_role role;
	char user[64];
	bool all_users;    /* a reader granted every user's runs */
	char label[128];
	uint64_t created_ns, revoked_ns;
	/* what an agent token may speak for (serve refuses the rest with 403): the hosts its
	 * events may name, comma-separated ("": any), and the user its runs may name ("" in user:
	 * any) */
	char hosts[256];
};
JST_API int jst_store_token_add(struct jst_store *s, const struct jst_token_info *t, int64_t *id);
/* All tokens (revoked too), oldest first. */
JST_API int jst_store_tokens(struct jst_store *s, int (*fn)(const struct jst_token_info *t, void *ud),
                             void *ud);
/* Revokes by id or by prefix; -ENOENT when none matched. */
JST_API int jst_store_token_revoke(struct jst_store *s, const char *id_or_prefix, uint64_t now_ns);

JST_API const char *jst_role_name(enum jst_role r);
/* -1 when unknown */
JST_API int jst_role_parse(const char *name);

#endif
