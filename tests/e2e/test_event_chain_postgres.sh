# The event chain on a PostgreSQL store (pg_lib.sh starts a real server on loopback): a batch
# ingested through serve verifies; an event's energy_j multiplied by 10, an event inserted and
# one deleted with psql are each named by id and seq, with exit 1; a store of schema 1 (before
# the chain) is chained when first opened, recorded as a migration, with the same figures.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
. "$(dirname "$0")/pg_lib.sh"
trap '[ -n "$SP" ] && kill "$SP" 2>/dev/null; stop_pg; rm -rf "$T"' EXIT
J=$JST_BIN
start_pg
python3 - "$T" <<'PY'
import json, sys
base = 1700000000000000000
ev = []
for r, user in enumerate(["ann", "bob"]):
    run = f"R{r}"
    ev.append(dict(v=1, id=f"{run}-s", type="run_start", ts_ns=base, run=run, host="h", user=user, model="m",
                   command=["x"], interval_s=1, zone="FR"))
    for i in range(10):
        ev.append(dict(v=1, id=f"{run}-{i}", type="sample", ts_ns=base + (i + 1) * 10**9, run=run, host="h",
                       zone="gpu0", zone_index=0, kind="gpu", source="nvml", dt_s=1, energy_j=50, share=1))
open(f"{sys.argv[1]}/b1.ndjson", "w").writelines(json.dumps(e) + "\n" for e in ev)
PY
TOK=$("$J" token create --role agent --db "$PGURL" 2>/dev/null)
start_serve "$PGURL"
expect_eq "ingest" "$(http POST /api/v1/events "$TOK" "$T/b1.ndjson")" '200 {"accepted":22,"duplicates":0}'
expect_eq "a retried batch adds nothing" "$(http POST /api/v1/events "$TOK" "$T/b1.ndjson")" '200 {"accepted":0,"duplicates":22}'
stop_serve
"$J" verify --db "$PGURL" >"$T/out" 2>&1
expect_eq "intact store: exit 0" $? 0
expect_in "events counted" "event log: 22 events, 1 chain entry" "$T/out"
expect_in "ok" "verify: ok" "$T/out"
expect_eq "chain entry" "$(psql_val "SELECT n, batch > 0, events, origin FROM ev_chain" | tr -d ' ')" "1|t|22|ingest"

# tamper WHAT SQL WANT UNDO: applied, verify must exit 1 and say WANT; undone, verify passes again
tamper() {
	psql_val "$2" >/dev/null
	"$J" verify --db "$PGURL" >"$T/out" 2>&1
	expect_eq "$1: exit 1" $? 1
	expect_in "$1: named" "$3" "$T/out"
	expect_in "$1: broken" "the event log is BROKEN" "$T/out"
	cp "$T/out" "$T/tampered"
	psql_val "$4" >/dev/null
	"$J" verify --db "$PGURL" >"$T/out" 2>&1
	expect_eq "$1: undone, exit 0" $? 0
}
seq3=$(psql_val "SELECT seq FROM ev_log WHERE id='R0-3'")
tamper "energy_j x10" "UPDATE ev_log SET body = replace(body, '\"energy_j\": 50', '\"energy_j\": 500') WHERE id='R0-3'" \
	"BROKEN: event R0-3 (seq $seq3) was edited after it was chained (entry 1)" \
	"UPDATE ev_log SET body = replace(body, '\"energy_j\": 500', '\"energy_j\": 50') WHERE id='R0-3'"
tamper "an event inserted" "INSERT INTO ev_log(id, batch, type, run, ts_ns, body) SELECT 'R1-99', batch, type, run, ts_ns + 1, body FROM ev_log WHERE id='R1-9'" \
	"BROKEN: event R1-99 (seq" "DELETE FROM ev_log WHERE id='R1-99'"
expect_in "inserted: said so" "is not in the event chain: it was inserted outside joulestream" "$T/tampered"
seq5=$(psql_val "SELECT seq FROM ev_log WHERE id='R1-5'")
psql_val "CREATE TABLE keep AS SELECT * FROM ev_log WHERE id='R1-5'" >/dev/null
tamper "an event deleted" "DELETE FROM ev_log WHERE id='R1-5'" \
	"BROKEN: event R1-5 (seq $seq5, chained in entry 1) was deleted" "INSERT INTO ev_log SELECT * FROM keep"
psql_val "DELETE FROM ev_chain" >"$T/err" 2>&1
expect_in "entries are append-only" "the event chain is append-only" "$T/err"

# a store of schema 1, written before the chain: chained once when first opened
figures() { psql_val "SELECT string_agg(concat_ws('|', run, samples, energy_j, co2e_g, water_l), ' ' ORDER BY run) FROM ev_runs"; }
before=$(figures)
newest=$(psql_val "SELECT version FROM jst_schema") # a store this release made
psql_val "DROP TABLE ev_chain; UPDATE jst_schema SET version = 1" >/dev/null
"$J" verify --db "$PGURL" >"$T/out" 2>&1
expect_eq "migrated store: exit 0" $? 0
expect_in "migration recorded" "event log: 22 events, 1 chain entry, 22 events chained when the chain was added" "$T/out"
expect_eq "origin" "$(psql_val "SELECT origin || '|' || events FROM ev_chain")" "migration|22"
expect_eq "schema: the newest, as a fresh store's" "$(psql_val "SELECT version FROM jst_schema")" "$newest"
expect_eq "same figures after the migration" "$(figures)" "$before"
finish
