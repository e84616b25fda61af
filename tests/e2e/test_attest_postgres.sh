# Attestations over the event log on PostgreSQL (issue 11): one run written to a SQLite store
# and, through --sink, to a PostgreSQL started here (pg_lib.sh) has the same events in both, so
# `show --format attestation` signs the same event digest on both stores (recomputed here from
# each store's ev_log by its definition); `verify FILE --db postgresql://…` finds the statement
# matching the store, and after one of the run's events is edited in PostgreSQL it says the
# events differ and the store's verify names the event.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg_lib.sh"
trap 'stop_pg; rm -rf "$T"' EXIT
J=$JST_BIN
start_pg

"$J" run --db "$T/db" --sink "$PGURL" --zone DE --interval 50ms --quiet --json "$T/run.json" -- "$BURN" 0.3
expect_eq "a run in sqlite and postgresql" $? 0
RID=$(python3 -c "import json; print(json.load(open('$T/run.json'))['id'])")
"$J" key create >/dev/null
expect_eq "key create" $? 0

# digest DUMP: the definition over one body per line, in log order
digest() {
	python3 - "$1" <<'PY'
import hashlib, struct, sys
h = hashlib.sha256(b"joulestream.run-events/1\n")
for line in open(sys.argv[1], encoding="utf-8"):
    b = line.rstrip("\n").encode()
    h.update(struct.pack(">Q", len(b)) + b)
print(h.hexdigest())
PY
}
sqlite3 "$T/db" "SELECT body FROM ev_log WHERE run='$RID' ORDER BY seq" >"$T/sq.bodies"
psql_val "SELECT body FROM ev_log WHERE run='$RID' ORDER BY seq" >"$T/pg.bodies"
expect_eq "the same events in both stores" "$(cmp -s "$T/sq.bodies" "$T/pg.bodies"; echo $?)" 0
want=$(digest "$T/pg.bodies")

subject() { python3 -c "
import json, base64, sys
s = json.loads(base64.b64decode(json.load(open(sys.argv[1]))['payload']))
print(s['subject'][0]['digest']['sha256'], s['predicate']['run']['content_hash_of'], len(s['predicate']['run']['store_chain_head']))" "$1"; }
"$J" show "$RID" --db "$PGURL" --format attestation >"$T/pg.att"
expect_eq "attest on postgresql" $? 0
"$J" show "$RID" --db "$T/db" --format attestation >"$T/sq.att"
expect_eq "attest on sqlite" $? 0
expect_eq "postgresql signs the run's event digest" "$(subject "$T/pg.att")" "$want joulestream.run-events/1 64"
expect_eq "sqlite signs the same digest" "$(subject "$T/sq.att")" "$want joulestream.run-events/1 64"

"$J" verify "$T/pg.att" --db "$PGURL" >"$T/out"
expect_eq "verify against postgresql: exit 0" $? 0
expect_in "the statement matches the store" "content: matches the store (events sha256:$want, energy" "$T/out"
"$J" verify "$T/sq.att" --db "$PGURL" >"$T/out"
expect_eq "the sqlite attestation verifies against postgresql too" $? 0

sid=$(psql_val "SELECT id FROM ev_log WHERE run='$RID' AND type='sample' AND body NOT LIKE '%\"energy_j\":0,%' ORDER BY seq LIMIT 1")
psql_val "UPDATE ev_log SET body = replace(body, '\"energy_j\":', '\"energy_j\":9') WHERE id='$sid'" >/dev/null
"$J" verify "$T/pg.att" --db "$PGURL" >"$T/out"
expect_eq "an edited event: exit 1" $? 1
expect_in "the events differ" "content: DIFFERS: the events of run $RID" "$T/out"
"$J" verify --db "$PGURL" >"$T/out"
expect_eq "the store's verify fails" $? 1
expect_in "and names the event" "event $sid" "$T/out"
finish
