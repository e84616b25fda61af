/* The audit log in PostgreSQL (the same table and columns as sqlite_audit.h, created by
 * postgres.c): a row is appended inside the engine's transaction (its own, audit.c, or an
 * ingest's, ingest.c) under a transaction-scoped advisory lock, so the rows of every server
 * sharing the database form one chain. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "store/postgres/postgres.h"

#define COLS "id,ts_ns,actor,role,\"user\",action,object,detail,outcome,client,prev_hash,hash"
#define PG_AUDIT_LOCK "SELECT pg_advisory_xact_lock(7418153)"

/* Inside a transaction: takes the audit lock (until the transaction ends), links e to the
 * newest row and inserts it. */
int jst__pg_audit_append(struct jst_store *s, struct jst_audit_entry *e)
{
	int r = jst__pg_exec(s, PG_AUDIT_LOCK, "waiting for the audit lock");
	if (r < 0)
		return r;
	PGresult *res = jst__pg_query(s, "SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1",
				      0, NULL, PGRES_TUPLES_OK, &r, "reading the audit log");
	if (!res)
		return r;
	e->id = 1;
	e->prev_hash[0] = '\0';
	if (jst__pq.PQntuples(res) == 1) {
		e->id = jst__pg_i64(res, 0, 0) + 1;
		jst__pg_text(res, 0, 1, e->prev_hash, sizeof(e->prev_hash));
	}
	jst__pq.PQclear(res);
	jst_audit_hash(e, e->hash);
	char id[24], ts[24];
	snprintf(id, sizeof(id), "%" PRId64, e->id);
	snprintf(ts, sizeof(ts), "%" PRId64, (int64_t)e->ts_ns);
	const char *v[] = {id,        ts,        e->actor,   e->role,   e->user,      e->action,
			   e->object, e->detail, e->outcome, e->client, e->prev_hash, e->hash};
	res = jst__pg_query(
		s, "INSERT INTO audit_log(" COLS ") VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)",
		12, v, PGRES_COMMAND_OK, &r, "writing the audit log");
	jst__pq.PQclear(res);
	return r;
}

int jst__pg_audit_list(struct jst_store *s, const struct jst_audit_query *q, bool ascending,
		       int64_t after_id, int (*fn)(const struct jst_audit_entry *, void *),
		       void *ud)
{
	char sql[700] = "SELECT " COLS " FROM audit_log WHERE true", num[6][24], frag[64];
	const char *v[7];
	int n = 0;
	size_t prefix = q->action ? strlen(q->action) : 0;
	int64_t ints[] = {after_id, q->before_id, (int64_t)q->from_ns, (int64_t)q->to_ns};
	const char *conds[] = {"id >", "id <", "ts_ns >=", "ts_ns <"};
	for (int i = 0; i < 4; i++) {
		if (!ints[i])
			continue;
		snprintf(num[n], sizeof(num[n]), "%" PRId64, ints[i]);
		v[n] = num[n];
		n++;
		snprintf(frag, sizeof(frag), " AND %s $%d", conds[i], n);
		strcat(sql, frag);
	}
	if (q->actor) {
		v[n++] = q->actor;
		snprintf(frag, sizeof(frag), " AND actor = $%d", n);
		strcat(sql, frag);
	}
	if (q->action) {
		v[n++] = q->action;
		if (q->action[prefix - 1] == '.')
			snprintf(frag, sizeof(frag), " AND left(action, %zu) = $%d", prefix, n);
		else
			snprintf(frag, sizeof(frag), " AND action = $%d", n);
		strcat(sql, frag);
	}
	strcat(sql, ascending ? " ORDER BY id ASC" : " ORDER BY id DESC");
	if (q->limit) {
		snprintf(frag, sizeof(frag), " LIMIT %zu", q->limit);
		strcat(sql, frag);
	}
	int r;
	PGresult *res = jst__pg_query(s, sql, n, v, PGRES_TUPLES_OK, &r, "reading the audit log");
	if (!res)
		return r;
	struct jst_audit_entry e;
	int rows = jst__pq.PQntuples(res), k = 0;
	for (; k < rows; k++) {
		memset(&e, 0, sizeof(e));
		e.id = jst__pg_i64(res, k, 0);
		e.ts_ns = (uint64_t)jst__pg_i64(res, k, 1);
		char *t[] = {e.actor,  e.role,    e.user,   e.action,    e.object,
			     e.detail, e.outcome, e.client, e.prev_hash, e.hash};
		size_t sz[] = {sizeof(e.actor),   sizeof(e.role),   sizeof(e.user),
			       sizeof(e.action),  sizeof(e.object), sizeof(e.detail),
			       sizeof(e.outcome), sizeof(e.client), sizeof(e.prev_hash),
			       sizeof(e.hash)};
		for (int i = 0; i < 10; i++)
			jst__pg_text(res, k, 2 + i, t[i], sz[i]);
		if (fn(&e, ud)) {
			k++;
			break;
		}
	}
	jst__pq.PQclear(res);
	return k;
}
