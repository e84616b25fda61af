# The event chain on a SQLite store (docs/integrity.md): two batches are ingested through serve
# and `joulestream verify` passes; then, each on a fresh copy, an event's energy_j is multiplied
# by 10, an event is inserted, one is deleted, and an entry of the chain is edited behind
# joulestream's back with sqlite3: verify names the event by id and seq (or the entry) and
# exits 1. A store from before the chain (ev_chain dropped, schema 9) is chained when opened,
# recorded as a migration, verifies, and keeps every aggregate figure; later batches chain on.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
J=$JST_BIN
command -v sqlite3 >/dev/null || { echo "SKIP: no sqlite3 program"; exit 77; }
DB=$T/db
python3 - "$T" <<'PY'
import json, sys
base = 1700000000000000000
def batch(name, runs, first):
    ev = []
    for r, user in runs:
        run = f"R{r}"
        if first:
            ev.append(dict(v=1, id=f"{run}-s", type="run_start", ts_ns=base, run=run, host="h", user=user, model="m",
                           command=["x"], interval_s=1, zone="FR"))
        for i in (range(10) if first else range(10, 15)):
            ev.append(dict(v=1, id=f"{run}-{i}", type="sample", ts_ns=base + (i + 1) * 10**9, run=run, host="h",
                           zone="gpu0", zone_index=0, kind="gpu", source="nvml", dt_s=1, energy_j=50, share=1))
    open(f"{sys.argv[1]}/{name}", "w").writelines(json.dumps(e) + "\n" for e in ev)
batch("b1.ndjson", [(0, "ann"), (1, "bob")], True)
batch("b2.ndjson", [(0, "ann")], False)
PY
TOK=$("$J" token create --role agent --db "$DB" 2>/dev/null)
start_serve "$DB"
expect_eq "first batch" "$(http POST /api/v1/events "$TOK" "$T/b1.ndjson")" '200 {"accepted":22,"duplicates":0}'
expect_eq "a retried batch adds nothing" "$(http POST /api/v1/events "$TOK" "$T/b1.ndjson")" '200 {"accepted":0,"duplicates":22}'
stop_serve
"$J" verify --db "$DB" >"$T/out" 2>&1
expect_eq "intact store: exit 0" $? 0
expect_in "events counted" "event log: 22 events, 1 chain entry" "$T/out"
expect_in "head printed" "event chain head: sha256:" "$T/out"
expect_in "ok" "verify: ok" "$T/out"

# tamper WHAT SQL WANT: on a fresh copy, verify must exit 1 and say WANT
tamper() {
	cp "$DB" "$T/t.db"
	sqlite3 "$T/t.db" "$2"
	"$J" verify --db "$T/t.db" >"$T/out" 2>&1
	expect_eq "$1: exit 1" $? 1
	expect_in "$1: named" "$3" "$T/out"
	expect_in "$1: broken" "the event log is BROKEN" "$T/out"
}
seq3=$(sqlite3 "$DB" "SELECT seq FROM ev_log WHERE id='R0-3'")
tamper "energy_j x10" "UPDATE ev_log SET body = replace(body, '\"energy_j\": 50', '\"energy_j\": 500') WHERE id='R0-3'" \
	"BROKEN: event R0-3 (seq $seq3) was edited after it was chained (entry 1)"
tamper "a column edited" "UPDATE ev_log SET ts_ns = ts_ns + 1 WHERE id='R0-3'" \
	"BROKEN: event R0-3 (seq $seq3) was edited after it was chained (entry 1)"
tamper "an event inserted" "INSERT INTO ev_log(id, batch, type, run, ts_ns, body) SELECT 'R1-99', batch, type, run, ts_ns + 1, body FROM ev_log WHERE id='R1-9'" \
	"BROKEN: event R1-99 (seq 23) is not in the event chain: it was inserted outside joulestream"
seq5=$(sqlite3 "$DB" "SELECT seq FROM ev_log WHERE id='R1-5'")
tamper "an event deleted" "DELETE FROM ev_log WHERE id='R1-5'" \
	"BROKEN: event R1-5 (seq $seq5, chained in entry 1) was deleted"
tamper "an entry edited" "DROP TRIGGER ev_chain_no_update; UPDATE ev_chain SET batch = 7 WHERE n = 1" \
	"entry 1 (batch 7): its hash does not match its content"
tamper "the chain deleted" "DROP TRIGGER ev_chain_no_delete; DELETE FROM ev_chain" \
	"chain entries 1 to 1 are missing: the newest entries were deleted"
cp "$DB" "$T/t.db"
sqlite3 "$T/t.db" "DELETE FROM ev_chain" 2>"$T/err"
expect_in "entries are append-only" "the event chain is append-only" "$T/err"

# a store written before the chain: chained once, in seq order, when first opened
figures() { sqlite3 "$1" "SELECT run, samples, energy_j, co2e_g, water_l FROM ev_runs ORDER BY run; SELECT * FROM ev_totals ORDER BY dim, win, key"; }
cp "$DB" "$T/old.db"
sqlite3 "$T/old.db" "DROP TRIGGER ev_chain_no_update; DROP TRIGGER ev_chain_no_delete; DROP TABLE ev_chain;
	DELETE FROM sqlite_sequence WHERE name='ev_chain'; ALTER TABLE api_tokens DROP COLUMN hosts;
	PRAGMA user_version=9;"
before=$(figures "$T/old.db")
"$J" verify --db "$T/old.db" >"$T/out" 2>&1
expect_eq "migrated store: exit 0" $? 0
expect_in "migration recorded" "event log: 22 events, 1 chain entry, 22 events chained when the chain was added" "$T/out"
expect_eq "origin" "$(sqlite3 "$T/old.db" "SELECT origin, events FROM ev_chain")" "migration|22"
expect_eq "the newest schema" "$(sqlite3 "$T/old.db" "PRAGMA user_version")" "$(sqlite3 "$DB" "PRAGMA user_version")"
expect_eq "same figures after the migration" "$(figures "$T/old.db")" "$before"
start_serve "$T/old.db"
expect_eq "a later batch" "$(http POST /api/v1/events "$TOK" "$T/b2.ndjson")" '200 {"accepted":5,"duplicates":0}'
stop_serve
"$J" verify --db "$T/old.db" >"$T/out" 2>&1
expect_eq "migrated then ingested: exit 0" $? 0
expect_in "two entries" "event log: 27 events, 2 chain entries, 22 events chained" "$T/out"
seq1=$(sqlite3 "$T/old.db" "SELECT seq FROM ev_log WHERE id='R0-1'")
sqlite3 "$T/old.db" "UPDATE ev_log SET body = replace(body, '\"energy_j\": 50', '\"energy_j\": 500') WHERE id='R0-1'"
"$J" verify --db "$T/old.db" >"$T/out" 2>&1
expect_eq "migrated event edited: exit 1" $? 1
expect_in "migrated event named" "BROKEN: event R0-1 (seq $seq1) was edited after it was chained (entry 1)" "$T/out"
finish
