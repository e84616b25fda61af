# serve --source kafka://… into PostgreSQL (the fleet set-up): two instances of one group share
# the topic's partitions (mock cluster, tests/kafka_mock.c) and one PostgreSQL; runs streamed
# with `run --sink kafka://…` get totals equal to their records, each event once; the offsets
# and a refused message are in the database, written with the events.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg_lib.sh"
J=$JST_BIN
[ -x "${JST_KAFKA_MOCK:-}" ] || { echo "skip: tests/kafka_mock was not built"; exit 77; }
MP= PA= PB=
trap 'for p in $PA $PB $MP; do kill -9 $p 2>/dev/null; done; stop_pg; rm -rf "$T"' EXIT
start_pg
ADMIN=$("$J" token create --role admin --db "$PGURL" 2>/dev/null)
wait_for() {
	local n=$(($1 * 10))
	shift
	for _ in $(seq "$n"); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}
"$JST_KAFKA_MOCK" 4 jst >"$T/mock.out" 2>"$T/mock.err" &
MP=$!
wait_for 20 grep -qs bootstrap "$T/mock.out" || { cat "$T/mock.err" >&2; exit 1; }
BOOT=$(awk '/bootstrap/ {print $2}' "$T/mock.out")
for n in a b; do
	"$J" serve --listen 127.0.0.1:0 --db "$PGURL" --source "kafka://$BOOT/jst" --group pg \
		--source-session-timeout 6000 --source-linger 50 >"$T/$n.out" 2>"$T/$n.err" </dev/null &
	eval "P${n^^}=\$!"
	wait_for 30 grep -qs 'assigned jst partitions [0-9]' "$T/$n.err" || ko "$n never got partitions"
done
# the group has settled when b holds two partitions (a the other two)
wait_for 60 grep -qsE 'assigned jst partitions [0-9]+@[0-9]+ [0-9]+@[0-9]+ \(' "$T/b.err" || ko "b never got two partitions"
PORT=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$T/a.out")
RUNS=()
for i in 1 2 3; do
	"$J" run --no-store --quiet --interval 50ms --json "$T/r$i.json" --sink "kafka://$BOOT/jst" --spool "$T/sp$i" \
		-- "$BURN" 0.5 &
	RUNS+=($!)
done
for p in "${RUNS[@]}"; do
	wait "$p"
	expect_eq "run exit" $? 0
done
echo 'not an event' | "$JST_KAFKA_MOCK" produce "$BOOT" jst
check_runs() {
	python3 - "http://127.0.0.1:$PORT" "$ADMIN" "$T" <<'PY'
import json, sys, urllib.request
url, tok, t = sys.argv[1:4]
for i in (1, 2, 3):
    rec = json.load(open(f'{t}/r{i}.json'))
    r = urllib.request.Request(url + '/api/v1/runs/' + rec['id'], headers={'Authorization': 'Bearer ' + tok})
    try:
        s = json.load(urllib.request.urlopen(r, timeout=10))['run']
    except Exception:
        sys.exit(1)
    want = rec['totals']['energy_j']
    if s['status'] != 'finished' or abs(s['energy_j'] - want) > 1e-9 * max(1, want) \
            or s['samples'] != sum(z['samples'] for z in rec['zones']):
        sys.exit(1)
PY
}
wait_for 60 check_runs || ko "the API's totals never matched the runs' records"
events=$(python3 -c "
import json
print(sum(sum(z['samples'] for z in json.load(open('$T/r%d.json' % i))['zones']) + 2 for i in (1, 2, 3)))")
expect_eq "each event stored once" "$(psql_val 'SELECT count(*) FROM ev_log')" "$events"
wait_for 20 bash -c "[ \"\$(\"$PGBIN/psql\" -X -A -t -q -h 127.0.0.1 -p $PGPORT -U postgres -d postgres \
	-c 'SELECT count(*) FROM ev_source_rejects')\" = 1 ]" || ko "the refused message was not recorded"
expect_eq "offsets cover every message" \
	"$(psql_val "SELECT sum(next_offset) FROM ev_source_offsets WHERE grp='pg' AND topic='jst'")" "$((events + 1))"
expect_eq "the refused message's bytes are kept" "$(psql_val "SELECT convert_from(body,'UTF8') FROM ev_source_rejects")" \
	"not an event"
out=$(python3 - "http://127.0.0.1:$PORT/api/v1/sources" "$ADMIN" <<'PY'
import json, sys, urllib.request
r = urllib.request.Request(sys.argv[1], headers={'Authorization': 'Bearer ' + sys.argv[2]})
j = json.load(urllib.request.urlopen(r, timeout=10))
print(j['refused'], sum(o['next_offset'] for o in j['offsets']), j['refusals'][0]['error'].split(' near')[0])
PY
)
expect_eq "GET /api/v1/sources on PostgreSQL" "$out" "1 $((events + 1)) line 1: malformed JSON"
for n in A B; do
	eval "p=\$P$n"
	kill "$p"
	wait "$p"
	expect_eq "serve $n exits 0 on TERM" $? 0
	eval "P$n="
done
expect_py "the two instances together stored each event once" "
import re, sys
n = [int(re.search(r'(\d+) events stored', open('$T/%s.err' % x).read()).group(1)) for x in 'ab']
sys.exit(sum(n) != $events)"
kill "$MP"
wait "$MP"
MP=
finish
