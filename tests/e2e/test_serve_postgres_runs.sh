# Per-run reads on PostgreSQL (issue 11) against a real server started here (pg_lib.sh): runs
# whose ids prefix one another (R1, R10, R1-b), with and without phases and metrics, give the
# same summary (zones, phases), timeline (windows, metric windows) and metric and phase events
# as the SQLite store; a store of schema 1, from before the per-run read indexes, gets them when
# it is opened and answers the same, also after `replay`; and a run's phase totals and metric
# events can be read through those indexes (seq and bitmap scans off: these tables are too
# small for the planner to want an index).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
. "$(dirname "$0")/pg_lib.sh"
trap '[ -n "$SP" ] && kill "$SP" 2>/dev/null; stop_pg; rm -rf "$T"' EXIT
J=$JST_BIN
start_pg

python3 - "$T/ev.ndjson" <<'PY'
import json, sys
base = 1700000000000000000
ev = []
for r, (run, phases, metrics) in enumerate([("R1", True, True), ("R10", True, False), ("R1-b", False, False)]):
    ev.append(dict(v=1, id=f"{run}-s", type="run_start", ts_ns=base, run=run, host="h", user="u", model="m",
                   project="p", command=["x"], interval_s=1, zone="FR", pue=1.2))
    for i in range(150):
        ts = base + (i + 1) * 1000000000
        if phases and i in (0, 100):
            if i:
                ev.append(dict(v=1, id=f"{run}-pe", type="phase", ts_ns=ts - 2, run=run, host="h", name="train",
                               edge="end"))
            ev.append(dict(v=1, id=f"{run}-p{i}", type="phase", ts_ns=ts - 1, run=run, host="h",
                           name="eval" if i else "train", edge="begin"))
        for z, (name, kind, src) in enumerate([("gpu0", "gpu", "nvml"), ("package-0", "package", "rapl")]):
            ev.append(dict(v=1, id=f"{run}-{i}-{z}", type="sample", ts_ns=ts, run=run, host="h", zone=name,
                           zone_index=z, kind=kind, source=src, dt_s=1,
                           energy_j=37.25 + (i * 7 + z * 13 + r * 5) % 91 / 3.0, share=0.75))
        if metrics and i % 50 == 10:
            ev.append(dict(v=1, id=f"{run}-m{i}", type="metric", ts_ns=ts + 5, run=run, host="h", step=i,
                           values={"loss": 1.0 / (i + 1)}))
    ev.append(dict(v=1, id=f"{run}-e", type="run_end", ts_ns=base + 151000000000, run=run, host="h", exit=0,
                   signal=0, duration_s=151, samples=300, notes=[]))
open(sys.argv[1], "w").writelines(json.dumps(e) + "\n" for e in ev)
PY
snap() {
	for r in R1 R10 R1-b; do
		for p in "" /timeline "/events?type=metric" "/events?type=phase"; do
			http GET "/api/v1/runs/$r$p" "$1"
		done
	done
}
same() { # same answers, compared as JSON (PostgreSQL prints doubles its own way)
	python3 - "$1" "$2" <<'PY'
import json, sys
a, b = ([json.loads(l.split(" ", 1)[1]) for l in open(f) if l.strip()] for f in sys.argv[1:3])
assert len(a) == 12 and a == b, [(x, y) for x, y in zip(a, b) if x != y][:1]
PY
}

SQ=$T/serve.db
SQ_AGENT=$("$J" token create --role agent --db "$SQ" 2>/dev/null)
SQ_ADMIN=$("$J" token create --role admin --db "$SQ" 2>/dev/null)
start_serve "$SQ"
expect_eq "post to sqlite" "$(http POST /api/v1/events "$SQ_AGENT" "$T/ev.ndjson" | cut -d' ' -f1)" 200
snap "$SQ_ADMIN" >"$T/sqlite.txt"
stop_serve
expect_py "phases and metrics per run, ids that prefix one another kept apart" "
import json
a=[json.loads(l.split(' ',1)[1]) for l in open('$T/sqlite.txt') if l.strip()]
assert [p['name'] for p in a[0]['phases']]==['train','eval'], a[0]['phases']
assert [p['name'] for p in a[4]['phases']]==['train','eval'], a[4]['phases']
assert [p['name'] for p in a[8]['phases']]==['(none)'], a[8]['phases']
assert sum(p['samples'] for p in a[0]['phases'])==a[0]['run']['samples']==300, a[0]
assert [c['count'] for c in a[1]['metrics']]==[1,1,1] and a[5]['metrics']==[] and a[9]['metrics']==[], a[1]
assert len(a[2]['events'])==3 and a[6]['events']==[] and len(a[7]['events'])==3 and a[11]['events']==[]"

AGENT=$("$J" token create --role agent --db "$PGURL" 2>/dev/null)
ADMIN=$("$J" token create --role admin --db "$PGURL" 2>/dev/null)
start_serve "$PGURL"
expect_eq "post to postgresql" "$(http POST /api/v1/events "$AGENT" "$T/ev.ndjson" | cut -d' ' -f1)" 200
snap "$ADMIN" >"$T/pg.txt"
stop_serve
if same "$T/sqlite.txt" "$T/pg.txt"; then ok; else ko "postgresql's per-run answers differ from sqlite's"; fi

# back to schema 1: the indexes are created when the store is opened, the answers stay
newest=$(psql_val 'SELECT max(version) FROM jst_schema') # a store this release made
psql_val "DROP INDEX ev_log_run_type; DROP INDEX ev_totals_phase; UPDATE jst_schema SET version=1" >/dev/null
start_serve "$PGURL"
expect_eq "schema migrated to the newest, as a fresh store's" "$(psql_val 'SELECT max(version) FROM jst_schema')" "$newest"
expect_eq "per-run read indexes created" "$(psql_val "SELECT count(*) FROM pg_indexes WHERE indexname IN
	('ev_log_run_type', 'ev_totals_phase')")" 2
snap "$ADMIN" >"$T/migrated.txt"
if same "$T/pg.txt" "$T/migrated.txt"; then ok; else ko "answers differ after the migration"; fi
stop_serve
"$J" replay --store "$PGURL" >/dev/null; expect_eq "replay exit" $? 0
start_serve "$PGURL"
snap "$ADMIN" >"$T/replayed.txt"
stop_serve
if same "$T/pg.txt" "$T/replayed.txt"; then ok; else ko "answers differ after replay"; fi

psql_val "ANALYZE ev_log; ANALYZE ev_totals" >/dev/null
psql_val "SET enable_seqscan=off; SET enable_bitmapscan=off; EXPLAIN SELECT key, sum(samples) FROM ev_totals
	WHERE dim='phase' AND key COLLATE \"C\">='R1/' AND key COLLATE \"C\"<'R10' GROUP BY key" >"$T/plan-phases.txt"
expect_in "a run's phases through ev_totals_phase" "ev_totals_phase" "$T/plan-phases.txt"
psql_val "SET enable_seqscan=off; SET enable_bitmapscan=off; EXPLAIN SELECT seq,body FROM ev_log WHERE run='R1'
	AND seq>0 AND type='metric' AND type<>'sample' ORDER BY seq LIMIT 1000" >"$T/plan-metrics.txt"
expect_in "a run's metrics through ev_log_run_type" "ev_log_run_type" "$T/plan-metrics.txt"
finish
