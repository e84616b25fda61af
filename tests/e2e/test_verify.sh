# The record chain: three runs are sealed as they end and `joulestream verify` passes; then, each
# on a fresh copy of the database, rows are edited and deleted behind joulestream's back with
# sqlite3 (a runs column, a sample event, a whole run, a chain entry in the middle and at the end, an
# entry's hash, a forged run) and verify names the run and what differs, with exit status 1.
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
ids=($(sqlite3 "$DB" "SELECT id FROM runs ORDER BY rowid"))
expect_eq "three runs" "${#ids[@]}" 3
"$J" verify --db "$DB" >"$T/out"
expect_eq "intact store: exit 0" $? 0
expect_in "three entries, three runs recomputed" "3 chain entries, 3 sealed runs recomputed" "$T/out"
expect_in "verify says ok" "verify: ok" "$T/out"
expect_in "the chain head is printed" "chain head: sha256:" "$T/out"
"$J" show "${ids[1]}" --db "$DB" >"$T/show"
expect_in "show prints the record hash" "record sha256:$(sqlite3 "$DB" "SELECT content_hash FROM run_chain WHERE run_id='${ids[1]}'")" "$T/show"

# tamper CASE SQL: a fresh copy, the SQL applied, then verify must fail and say WANT
tamper() {
	local what=$1 sql=$2 want=$3
	cp "$DB" "$T/t.db"
	sqlite3 "$T/t.db" "$sql"
	"$J" verify --db "$T/t.db" >"$T/out" 2>&1
	expect_eq "$what: exit 1" $? 1
	expect_in "$what: named" "$want" "$T/out"
	expect_in "$what: broken" "the chain is BROKEN" "$T/out"
}
rowid=$(sqlite3 "$DB" "SELECT rowid FROM runs WHERE id='${ids[1]}'")
tamper "an edited energy" "UPDATE runs SET co2e_g = co2e_g / 2 WHERE id='${ids[1]}'" \
	"run ${ids[1]} was edited after it was sealed (entry 2): column co2e_g edited"
tamper "an edited command" "UPDATE runs SET command = 'true' WHERE id='${ids[0]}'" \
	"run ${ids[0]} was edited after it was sealed (entry 1): column command edited"
# a run's samples are events of the log (issue 11): the record hash covers them
n=$(sqlite3 "$DB" "SELECT count(*) FROM ev_log WHERE run='${ids[1]}'")
expect_py "the run's samples are in the log" "assert $n > 3, $n"
tamper "an edited sample" "UPDATE ev_log SET body = replace(body, '\"energy_j\":', '\"energy_j\":1') WHERE seq = (SELECT min(seq) FROM ev_log WHERE run='${ids[1]}' AND type='sample')" \
	"events: $n rows when sealed, $n now"
tamper "a deleted sample" "DELETE FROM ev_log WHERE seq = (SELECT max(seq) FROM ev_log WHERE run='${ids[1]}' AND type='sample')" \
	"events: $n rows when sealed, $((n - 1)) now"
tamper "a deleted zone" "DELETE FROM run_zones WHERE run=$rowid AND idx=0" "run_zones: 4 rows when sealed, 3 now"
tamper "a deleted run" "DELETE FROM runs WHERE id='${ids[2]}'" "run ${ids[2]} (sealed in entry 3) was deleted"
tamper "a deleted middle entry" "DELETE FROM run_chain WHERE seq=2" "chain entries 2 to 2 are missing"
tamper "deleted newest entries" "DELETE FROM run_chain WHERE seq=3" "chain entries 3 to 3 are missing: the newest entries were deleted"
tamper "an entry's hash edited" "UPDATE run_chain SET content_hash = '$(printf '0%.0s' {1..64})' WHERE seq=1" \
	"entry 1: the sealed record description was edited"
tamper "a run and its entry deleted" "DELETE FROM runs WHERE id='${ids[1]}'; DELETE FROM run_chain WHERE run_id='${ids[1]}'" \
	"chain entries 2 to 2 are missing"
tamper "a forged run" "INSERT INTO runs(id, status, start_ns) SELECT '01ZZZZZZZZZZZZZZZZZZZZZZZZ', 'finished', start_ns + 1 FROM runs WHERE id='${ids[2]}'" \
	"run 01ZZZZZZZZZZZZZZZZZZZZZZZZ is finished but not in the chain"

# runs recorded before the store had a chain are legacy, not breaks; a run still running warns
cp "$DB" "$T/t.db"
sqlite3 "$T/t.db" "UPDATE chain_origin SET legacy_before_ns = (SELECT max(start_ns) FROM runs);
	DELETE FROM run_chain; DELETE FROM sqlite_sequence WHERE name='run_chain';
	INSERT INTO runs(id, status, start_ns) VALUES('01YYYYYYYYYYYYYYYYYYYYYYYY', 'running', (SELECT max(start_ns) + 1 FROM runs))"
"$J" verify --db "$T/t.db" >"$T/out"
expect_eq "legacy runs and a running one: exit 0" $? 0
expect_in "legacy runs counted" "3 runs from before the chain, 1 warning" "$T/out"
expect_in "the running run warned about" "warning: run 01YYYYYYYYYYYYYYYYYYYYYYYY is not sealed" "$T/out"

# reprocessing adds a result row: the record is untouched
"$J" reprocess "${ids[0]}" --db "$DB" --zone FR >/dev/null 2>&1
expect_eq "reprocess" $? 0
expect_eq "reprocess added a result" "$(sqlite3 "$DB" "SELECT count(*) FROM run_results WHERE zone_code='FR'")" 1
"$J" verify --db "$DB" >"$T/out"
expect_eq "after reprocess: still intact" $? 0
finish
