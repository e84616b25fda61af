# Trust over the log (issue 11): three runs are recorded as events; `joulestream verify` walks
# the event chain and passes; `show` prints each run's event digest, which is sha256 over the
# run's stored events in log order (recomputed here from ev_log by its definition); an edited
# or deleted sample fails verify (naming the event) and changes the run's digest. On a store
# upgraded from the release before runs were events, the old record chain is an archive: verify
# walks it and compares its head with the one the upgrade recorded; an edited or cut archive
# fails. Reprocessing adds a result row and leaves the log and verify intact.
. "$(dirname "$0")/lib.sh"
J=$JST_BIN
command -v sqlite3 >/dev/null || { echo "skipped: no sqlite3"; exit 0; }
R=$T/root
cp -r "$JST_FIXTURES/sysfs-2socket" "$R"
export pkg0=$R/sys/class/powercap/intel-rapl:1/energy_uj
DB=$T/db
for i in 1 2 3; do
	v=$(cat "$pkg0")
	"$J" run --db "$DB" --sysfs-root "$R" --sensors rapl --scope host --interval 100ms --zone DE \
		--quiet -- sh -c "sleep 0.3; echo $((v + i * 1000000)) >\"\$pkg0\"; sleep 0.2"
done
ids=($(sqlite3 "$DB" "SELECT run FROM ev_runs ORDER BY start_ns"))
expect_eq "three runs" "${#ids[@]}" 3
expect_eq "no record rows: the runs table is only the results' key" \
	"$(sqlite3 "$DB" "SELECT count(*) FROM samples") $(sqlite3 "$DB" "SELECT count(*) FROM run_zones")" "0 0"
expect_eq "nothing sealed into the old record chain" "$(sqlite3 "$DB" "SELECT count(*) FROM run_chain")" 0
"$J" verify --db "$DB" >"$T/out"
expect_eq "intact store: exit 0" $? 0
expect_in "verify says ok" "verify: ok" "$T/out"
expect_in "the event chain head is printed" "event chain head: sha256:" "$T/out"

# the event digest: show prints it, and it is its definition over the stored events
digest() { # RUN DB: sha256("joulestream.run-events/1\n", per event: 8-byte big-endian length, body)
	python3 - "$2" "$1" <<'PY'
import hashlib, sqlite3, struct, sys
db = sqlite3.connect(sys.argv[1])
h = hashlib.sha256(b"joulestream.run-events/1\n")
for (body,) in db.execute("SELECT body FROM ev_log WHERE run=? ORDER BY seq", (sys.argv[2],)):
    b = body.encode()
    h.update(struct.pack(">Q", len(b)) + b)
print(h.hexdigest())
PY
}
d1=$(digest "${ids[1]}" "$DB")
"$J" show "${ids[1]}" --db "$DB" >"$T/show"
expect_in "show prints the event digest" "events sha256:$d1" "$T/show"
"$J" show "${ids[1]}" --db "$DB" --format json >"$T/show.json"
expect_py "show's JSON has the same digest" "
import json
assert json.load(open('$T/show.json'))['integrity']['content_hash'] == 'sha256:$d1'"

# tamper WHAT SQL WANT: a fresh copy, the SQL applied, then verify must fail and say WANT
tamper() {
	local what=$1 sql=$2 want=$3
	cp "$DB" "$T/t.db"
	sqlite3 "$T/t.db" "$sql"
	"$J" verify --db "$T/t.db" >"$T/out" 2>&1
	expect_eq "$what: exit 1" $? 1
	expect_in "$what: named" "$want" "$T/out"
	expect_in "$what: broken" "is BROKEN" "$T/out"
}
sid=$(sqlite3 "$DB" "SELECT id FROM ev_log WHERE run='${ids[1]}' AND type='sample' AND body NOT LIKE '%\"energy_j\":0,%' ORDER BY seq LIMIT 1")
expect_py "a sample with energy to edit" "assert '$sid'.startswith('${ids[1]}-s-'), '$sid'"
tamper "an edited sample" "UPDATE ev_log SET body = replace(body, '\"energy_j\":', '\"energy_j\":9') WHERE id='$sid'" \
	"event $sid"
expect_py "the edited run's digest changed" "assert '$(digest "${ids[1]}" "$T/t.db")' != '$d1'"
tamper "a deleted sample" "DELETE FROM ev_log WHERE id='$sid'" "event $sid"
tamper "a deleted run_end" "DELETE FROM ev_log WHERE id='${ids[2]}-e'" "event ${ids[2]}-e"

# an upgraded store: the old record chain is an archive with its head recorded
cp "$JST_FIXTURES/store-0efd03d/joulestream.db" "$T/old.db"
head=$(sqlite3 "$T/old.db" "SELECT hash FROM run_chain ORDER BY seq DESC LIMIT 1")
"$J" verify --db "$T/old.db" >"$T/out"
expect_eq "upgraded store: exit 0" $? 0
expect_in "the old chain's head recorded" "record chain of the earlier release: 2 entries, head sha256:$head; 2 runs turned into events" "$T/out"
expect_in "... and compared" "(head recorded then: sha256:$head)" "$T/out"
DB=$T/old.db
tamper "an archived entry edited" "UPDATE run_chain SET content_hash = '$(printf '0%.0s' {1..64})' WHERE seq=1" \
	"entry 1: the sealed record description was edited"
tamper "the newest archived entry cut" "DELETE FROM run_chain WHERE seq=2" \
	"chain entries 2 to 2 are missing: the newest entries were deleted"
tamper "the archive rebuilt shorter" "DELETE FROM run_chain WHERE seq=2; DELETE FROM sqlite_sequence WHERE name='run_chain'" \
	"the archived chain was changed since"

# reprocessing adds a result row: the log is untouched
DB=$T/db
"$J" reprocess "${ids[0]}" --db "$DB" --zone FR >/dev/null 2>&1
expect_eq "reprocess" $? 0
expect_eq "reprocess added a result" "$(sqlite3 "$DB" "SELECT count(*) FROM run_results WHERE zone_code='FR'")" 1
"$J" verify --db "$DB" >"$T/out"
expect_eq "after reprocess: still intact" $? 0
finish
