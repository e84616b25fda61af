/* A log source's bookkeeping in PostgreSQL (postgres.h), as sqlite_source.c does it in SQLite:
 * the next offset of each partition and the refused messages, written inside the ingest
 * transaction of their batch (which holds the ingest lock), so the stored offsets match the
 * stored events exactly. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "store/postgres/postgres.h"

#define REJECT_BODY_MAX 1024 /* bytes of a refused message kept for the admin */

static int write_offset(struct jst_store *s, const struct jst_source_offset *o, const char *now)
{
	char part[16], next[24];
	snprintf(part, sizeof(part), "%" PRId32, o->partition);
	snprintf(next, sizeof(next), "%" PRId64, o->next_offset);
	const char *p[5] = {o->group, o->topic, part, next, now};
	int r;
	PGresult *res = jst__pg_query(s, "INSERT INTO ev_source_offsets(grp,topic,part,next_offset,updated_ns)"
	                              " VALUES($1,$2,$3::integer,$4::bigint,$5::bigint) ON CONFLICT(grp,topic,part)"
	                              " DO UPDATE SET next_offset=excluded.next_offset, updated_ns=excluded.updated_ns"
	                              " WHERE excluded.next_offset > ev_source_offsets.next_offset",
	                              5, p, PGRES_COMMAND_OK, &r, "storing a source offset");
	jst__pq.PQclear(res);
	return r;
}

static int write_reject(struct jst_store *s, const struct jst_source_reject *j, const char *now)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = j->body_len < REJECT_BODY_MAX ? j->body_len : REJECT_BODY_MAX;
	char part[16], off[24], body[2 + 2 * REJECT_BODY_MAX + 1] = "\\x";
	for (size_t i = 0; i < n; i++) { /* bytea's hex input: the bytes as they came */
		body[2 + 2 * i] = hex[(unsigned char)j->body[i] >> 4];
		body[3 + 2 * i] = hex[(unsigned char)j->body[i] & 15];
	}
	body[2 + 2 * n] = '\0';
	snprintf(part, sizeof(part), "%" PRId32, j->partition);
	snprintf(off, sizeof(off), "%" PRId64, j->offset);
	const char *p[7] = {j->group, j->topic, part, off, now, j->error, body};
	int r;
	PGresult *res = jst__pg_query(s, "INSERT INTO ev_source_rejects(grp,topic,part,msg_offset,ts_ns,error,body)"
	                              " VALUES($1,$2,$3::integer,$4::bigint,$5::bigint,$6,$7::bytea)"
	                              " ON CONFLICT DO NOTHING", 7, p, PGRES_COMMAND_OK, &r,
	                              "storing a refused message");
	jst__pq.PQclear(res);
	return r;
}

int jst__pg_source_write(struct jst_store *s, const struct jst_source_batch *src)
{
	char now[24];
	snprintf(now, sizeof(now), "%" PRIu64, jst__wall_ns());
	int r = 0;
	for (size_t i = 0; r == 0 && i < src->noff; i++)
		r = write_offset(s, &src->off[i], now);
	for (size_t i = 0; r == 0 && i < src->nrej; i++)
		r = write_reject(s, &src->rej[i], now);
	return r;
}

int jst__pg_source_offsets(struct jst_store *s, const char *group, const char *topic,
                           int (*fn)(int32_t partition, int64_t next_offset, void *ud), void *ud)
{
	const char *p[2] = {group, topic};
	int r;
	PGresult *res = jst__pg_query(s, "SELECT part, next_offset FROM ev_source_offsets WHERE grp=$1 AND topic=$2"
	                              " ORDER BY part", 2, p, PGRES_TUPLES_OK, &r, "reading the source offsets");
	if (!res)
		return r;
	for (int i = 0; r == 0 && i < jst__pq.PQntuples(res); i++)
		r = fn((int32_t)jst__pg_i64(res, i, 0), jst__pg_i64(res, i, 1), ud);
	jst__pq.PQclear(res);
	return r;
}

int jst__pg_sources(struct jst_store *s, size_t limit, int (*on_offset)(const struct jst_source_state *, void *),
                    int (*on_refusal)(const struct jst_source_refusal *, void *), void *ud, int64_t *refused)
{
	int r;
	*refused = 0;
	PGresult *res = jst__pg_query(s, "SELECT grp,topic,part,next_offset,updated_ns FROM ev_source_offsets"
	                              " ORDER BY grp,topic,part", 0, NULL, PGRES_TUPLES_OK, &r, "reading the sources");
	for (int i = 0; res && r == 0 && i < jst__pq.PQntuples(res); i++) {
		struct jst_source_state o;
		jst__pg_text(res, i, 0, o.group, sizeof(o.group));
		jst__pg_text(res, i, 1, o.topic, sizeof(o.topic));
		o.partition = (int32_t)jst__pg_i64(res, i, 2);
		o.next_offset = jst__pg_i64(res, i, 3);
		o.updated_ns = (uint64_t)jst__pg_i64(res, i, 4);
		r = on_offset(&o, ud);
	}
	jst__pq.PQclear(res);
	if (r < 0)
		return r;
	char lim[24];
	snprintf(lim, sizeof(lim), "%zu", limit);
	const char *p[1] = {lim};
	res = jst__pg_query(s, "SELECT grp,topic,part,msg_offset,ts_ns,error,count(*) OVER () FROM ev_source_rejects"
	                    " ORDER BY seq DESC LIMIT $1::bigint", 1, p, PGRES_TUPLES_OK, &r, "reading the sources");
	for (int i = 0; res && r == 0 && i < jst__pq.PQntuples(res); i++) {
		struct jst_source_refusal j;
		jst__pg_text(res, i, 0, j.group, sizeof(j.group));
		jst__pg_text(res, i, 1, j.topic, sizeof(j.topic));
		j.partition = (int32_t)jst__pg_i64(res, i, 2);
		j.offset = jst__pg_i64(res, i, 3);
		j.ts_ns = (uint64_t)jst__pg_i64(res, i, 4);
		jst__pg_text(res, i, 5, j.error, sizeof(j.error));
		*refused = jst__pg_i64(res, i, 6);
		r = on_refusal(&j, ud);
	}
	jst__pq.PQclear(res);
	return r;
}
