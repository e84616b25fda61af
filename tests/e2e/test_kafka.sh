# Kafka through librdkafka's mock cluster (tests/kafka_mock.c, 4 partitions): four runs streamed
# with `run --sink kafka://…` are consumed by two `serve --source kafka://… --group g` sharing
# one SQLite store; one is killed with -9 mid-stream and the other takes its partitions over:
# every run's totals in the API equal its own record, each event stored once. A new store in
# the same group re-reads the topic from the start (the store's offsets count, not Kafka's); a
# restart on the old store reads nothing it stored again; `agent --sink kafka://` works too.
# The sink spools while no broker answers and delivers later; bad kafka:// URLs are refused
# with a reason; invalid messages are skipped, counted and kept in ev_source_rejects;
# librdkafka is loaded only for kafka://, and a missing one is named.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
J=$JST_BIN
[ -x "${JST_KAFKA_MOCK:-}" ] || { echo "skip: tests/kafka_mock was not built"; exit 77; }
command -v sqlite3 >/dev/null || { echo "skip: no sqlite3 program (scripts/install-deps)"; exit 77; }
MP= PA= PB= PC= AP=
trap 'for p in $PA $PB $PC $AP $MP $SP; do kill -9 $p 2>/dev/null; done; rm -rf "$T"' EXIT
DB=$T/serve.db
ADMIN=$("$J" token create --role admin --db "$DB" 2>/dev/null)
READER=$("$J" token create --role reader --user u --db "$DB" 2>/dev/null)

# wait_for SECONDS CMD…: polls CMD every 0.1 s until it succeeds; 1 when it never did
wait_for() {
	local n=$(($1 * 10))
	shift
	for _ in $(seq "$n"); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# ---- bad URLs: refused before anything starts, with what a good one looks like
for u in kafka://h:9092 kafka:///t kafka://h/t kafka://h:0/t kafka://h:1/ kafka://h:1,/t 'kafka://h:1/a b'; do
	"$J" run --no-store --quiet --sink "$u" -- true 2>"$T/bad.err"
	expect_eq "run --sink $u exit" $? 2
	expect_in "run --sink $u says how" "kafka://HOST:PORT" "$T/bad.err"
	"$J" serve --listen 127.0.0.1:0 --db "$DB" --source "$u" </dev/null >/dev/null 2>"$T/bad.err"
	expect_eq "serve --source $u exit" $? 1
	expect_in "serve --source $u says how" "kafka://HOST:PORT" "$T/bad.err"
done

# ---- client options: a secret in the URL (visible in ps) and unknown properties are refused
"$J" run --no-store --quiet --sink 'kafka://h:1/t?sasl.password=hunter2' -- true 2>"$T/bad.err"
expect_eq "a password in the URL: exit" $? 2
expect_in "a password in the URL: says where to put it" "give sasl.password.file=PATH" "$T/bad.err"
expect_not_in "the password is not echoed" "hunter2" "$T/bad.err"
"$J" serve --listen 127.0.0.1:0 --db "$DB" --source 'kafka://h:1/t?no.such=1' </dev/null >/dev/null 2>"$T/bad.err"
expect_eq "an unknown property: serve exit" $? 1
expect_in "an unknown property: librdkafka's reason" "librdkafka refused no.such=1" "$T/bad.err"
"$J" serve --listen 127.0.0.1:0 --db "$DB" --source 'kafka://h:1/t?group.id=x' </dev/null >/dev/null 2>"$T/bad.err"
expect_in "group.id is --group's" "group.id is set by joulestream" "$T/bad.err"

# ---- librdkafka is loaded only for kafka://, and a missing one is named
LD_DEBUG=libs "$J" run --no-store --quiet --sink "file:$T/ev.ndjson" -- true 2>"$T/ld.err"
expect_not_in "run without a kafka:// sink does not load librdkafka" "librdkafka" "$T/ld.err"
JOULESTREAM_RDKAFKA_LIB=$T/no-such-librdkafka.so "$J" run --no-store --quiet --sink kafka://127.0.0.1:1/t \
	-- true 2>"$T/nolib.err"
expect_eq "run with no librdkafka exits 2" $? 2
expect_in "the missing library is named" "cannot load JOULESTREAM_RDKAFKA_LIB=$T/no-such-librdkafka.so" "$T/nolib.err"

# ---- the sink spools while no broker answers (nothing listens on a freshly closed port)
DEAD=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$J" run --no-store --interval 50ms --json "$T/r0.json" --sink "kafka://127.0.0.1:$DEAD/jst" --spool "$T/spool" \
	-- "$BURN" 0.3 >"$T/r0.out" 2>&1
expect_eq "run with the broker down exits 0" $? 0
expect_in "the report says where the events wait" "not delivered yet, kept in $T/spool" "$T/r0.out"
expect_eq "one spool file with the run's events" "$(find "$T/spool" -name '*.ndjson' -size +0 | wc -l)" 1

# ---- the cluster and two consumers of group g on one store
"$JST_KAFKA_MOCK" 4 jst >"$T/mock.out" 2>"$T/mock.err" &
MP=$!
wait_for 20 grep -qs bootstrap "$T/mock.out" || { cat "$T/mock.err" >&2; exit 1; }
BOOT=$(awk '/bootstrap/ {print $2}' "$T/mock.out")
SRC=(--source "kafka://$BOOT/jst" --group g --source-session-timeout 6000 --source-linger 50)
serve_bg() { # serve_bg NAME DB: starts a consumer; its pid in $!
	"$J" serve --listen 127.0.0.1:0 --db "$2" "${SRC[@]}" >"$T/$1.out" 2>"$T/$1.err" </dev/null &
}
serve_bg a "$DB"
PA=$!
wait_for 30 grep -qs 'assigned jst partitions 0@' "$T/a.err" || { ko "a never got the partitions"; cat "$T/a.err" >&2; }
serve_bg b "$DB"
PB=$!
# once b has joined, the group holds two partitions each
wait_for 60 grep -qsE 'assigned jst partitions [0-9]+@[0-9]+ [0-9]+@[0-9]+ \(' "$T/b.err" ||
	{ ko "b never got its partitions"; cat "$T/a.err" "$T/b.err" >&2; }
PORT=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$T/a.out")
URL="http://127.0.0.1:$PORT"

# four runs at once, then the spooled one delivered by a later run through the same spool
RUNS=()
# (run 4 with client options in its URL: librdkafka's properties, percent-encoded)
for i in 1 2 3 4; do
	opts=
	[ $i = 4 ] && opts='?client.id=run%204&compression.type=lz4'
	"$J" run --no-store --quiet --interval 50ms --json "$T/r$i.json" --sink "kafka://$BOOT/jst$opts" \
		--spool "$T/spool$i" -- "$BURN" 2 &
	RUNS+=($!)
done
# a synthetic run S fed to the four partitions in turn while the runs run, so that b surely has
# messages of its own to store before it dies (runs' keys may all hash to a's partitions)
python3 -c '
import json, sys, time
ev = {"v": 1, "id": "S-b", "type": "run_start", "ts_ns": 1700000000000000000, "run": "S", "host": "h",
      "user": "u", "interval_s": 0.01, "command": ["s"]}
print(json.dumps(ev), flush=True)
for i in range(1, 400):
    print(json.dumps({"v": 1, "id": "S-s-%d-0" % i, "type": "sample", "ts_ns": 1700000000000000000 + i * 10000000,
                      "run": "S", "host": "h", "zone": "gpu0", "zone_index": 0, "kind": "gpu", "source": "nvml",
                      "dt_s": 0.01, "energy_j": 0.25, "share": 1}), flush=True)
    time.sleep(0.01)
' | "$JST_KAFKA_MOCK" produce "$BOOT" jst 4 &
FEED=$!
# b dies hard once it has stored something of its own
# the partitions of NAME's last assignment, as "2,3"
parts_of() { grep 'assigned jst' "$T/$1.err" | tail -1 | sed 's/.*partitions \(.*\) (offsets.*/\1/; s/@[0-9]*//g; s/ /,/g'; }
stored_by_b() {
	local p
	p=$(parts_of b)
	[ -n "$p" ] && [ "$(sqlite3 "$DB" "SELECT count(*) FROM ev_source_offsets WHERE part IN ($p)" 2>/dev/null)" -gt 0 ]
}
wait_for 60 stored_by_b || ko "b stored nothing of its own partitions while the runs ran"
kill -9 "$PB"
wait "$PB" 2>/dev/null
PB=
for p in "${RUNS[@]}"; do
	wait "$p"
	expect_eq "run $p exit" $? 0
done
wait "$FEED"
expect_eq "run S fed" $? 0
"$J" run --no-store --quiet --interval 50ms --json "$T/r5.json" --sink "kafka://$BOOT/jst" --spool "$T/spool" \
	-- "$BURN" 0.2
expect_eq "the spool was delivered and emptied" "$(find "$T/spool" -name '*.ndjson' -size +0 | wc -l)" 0

# invalid messages among valid ones: skipped, counted, kept; the valid one is stored
printf '%s\n' 'not json at all' '{"v":2,"id":"x","type":"sample"}' \
	'{"v":1,"id":"K-b","type":"run_start","ts_ns":1700000000000000000,"run":"K","host":"h","user":"u","interval_s":1,"command":["k"]}' |
	"$JST_KAFKA_MOCK" produce "$BOOT" jst
expect_eq "raw messages produced" $? 0

# a's totals per run equal each run's own record, every event stored once (b's partitions
# taken over after its session timed out)
check_runs() {
	python3 - "$URL" "$ADMIN" "$T" <<'PY'
import json, sys, urllib.request
url, tok, t = sys.argv[1:4]
def get(p):
    r = urllib.request.Request(url + p, headers={'Authorization': 'Bearer ' + tok})
    return json.load(urllib.request.urlopen(r, timeout=10))
for i in range(6):
    rec = json.load(open(f'{t}/r{i}.json'))
    try:
        s = get('/api/v1/runs/' + rec['id'])['run']
    except Exception:
        sys.exit(1)
    want = rec['totals']['energy_j']
    if s['status'] != 'finished' or abs(s['energy_j'] - want) > 1e-9 * max(1, want) \
            or s['samples'] != sum(z['samples'] for z in rec['zones']):
        sys.exit(1)
get('/api/v1/runs/K')
s = get('/api/v1/runs/S')['run']
if s['samples'] != 399 or abs(s['energy_j'] - 399 * 0.25) > 1e-9:
    sys.exit(1)
PY
}
wait_for 90 check_runs || ko "the API's totals never matched the runs' records"
python3 - "$URL" "$ADMIN" "$T" <<'PY' || ko "totals per run"
import json, sys, urllib.request
url, tok, t = sys.argv[1:4]
for i in range(6):
    rec = json.load(open(f'{t}/r{i}.json'))
    r = urllib.request.Request(url + '/api/v1/runs/' + rec['id'], headers={'Authorization': 'Bearer ' + tok})
    s = json.load(urllib.request.urlopen(r, timeout=10))['run']
    print(f"run {i}: api {s['energy_j']!r} J, {s['samples']} samples; record {rec['totals']['energy_j']!r} J,",
          sum(z['samples'] for z in rec['zones']), 'samples', s['status'])
PY
events=$(python3 -c "
import json
print(sum(sum(z['samples'] for z in json.load(open('$T/r%d.json' % i))['zones']) + 2 for i in range(6)) + 1 + 400)")
expect_eq "each event stored once (runs' events, K's run_start, S's 400)" "$(sqlite3 "$DB" 'SELECT count(*) FROM ev_log')" "$events"
offsets() { sqlite3 "$DB" "SELECT sum(next_offset) FROM ev_source_offsets WHERE grp='g' AND topic='jst'"; }
wait_for 20 eval '[ "$(offsets)" = $((events + 2)) ]' # the refused ones may sit in other partitions
expect_eq "the stored offsets cover every message (events + 2 refused)" \
	"$(sqlite3 "$DB" "SELECT sum(next_offset) FROM ev_source_offsets WHERE grp='g' AND topic='jst'")" "$((events + 2))"
expect_eq "two refused messages kept for the admin" "$(sqlite3 "$DB" 'SELECT count(*) FROM ev_source_rejects')" 2
expect_in "the refusal is logged with its position" "refused" "$T/a.err"
out=$(http GET /api/v1/sources "$ADMIN")
expect_py "GET /api/v1/sources: offsets and refusals for the admin" "
import json
code, body = '''$out'''.split(' ', 1)
j = json.loads(body)
assert code == '200', code
assert sum(o['next_offset'] for o in j['offsets'] if o['group'] == 'g') == $events + 2, j['offsets']
assert j['refused'] == 2 and len(j['refusals']) == 2, j
assert any('malformed JSON' in r['error'] for r in j['refusals']), j['refusals']
assert all(r['topic'] == 'jst' and r['offset'] >= 0 for r in j['refusals']), j['refusals']"
expect_eq "sources are for admins only" "$(http GET /api/v1/sources "$READER" | cut -d' ' -f1)" 403
wait_for 30 eval '[ "$(parts_of a)" = 0,1,2,3 ]'
expect_eq "b's partitions moved to a (all four, after a's two)" "$(parts_of a)" "0,1,2,3"
expect_py "a was assigned three times (alone, with b, after b's death)" "
import sys; sys.exit(open('$T/a.err').read().count('assigned jst') < 3)"

# the agent publishes the host's events to the same topic: its host run reaches the store
"$J" agent --listen 127.0.0.1:0 --interval 100ms --zone SE --sink "kafka://$BOOT/jst" --spool "$T/aspool" \
	>"$T/agent.out" 2>"$T/agent.err" </dev/null &
AP=$!
wait_for 20 grep -qs metrics "$T/agent.out" || ko "the agent did not start"
sleep 0.5 # a few intervals of host samples
kill -TERM "$AP"
wait "$AP"
expect_eq "agent exit" $? 0
AP=
agent_run() {
	python3 - "$URL" "$ADMIN" <<'PY'
import json, sys, urllib.request
url, tok = sys.argv[1:3]
r = urllib.request.Request(url + '/api/v1/runs?zone=SE&series=host', headers={'Authorization': 'Bearer ' + tok})
runs = json.load(urllib.request.urlopen(r, timeout=10))['runs']
sys.exit(not (len(runs) == 1 and runs[0]['samples'] > 0 and runs[0]['status'] == 'finished'))
PY
}
wait_for 30 agent_run || ko "the agent's host run did not arrive through Kafka"

# a stops cleanly: its counters; a restart on the same store reads nothing it stored again
# (messages a had not polled yet, the agent's last ones, may come)
kill "$PA"
wait "$PA"
expect_eq "a exits 0 on TERM (no leak, no crash)" $? 0
PA=
expect_in "a's counters" "messages refused" "$T/a.err"
serve_bg c "$DB"
PC=$!
wait_for 30 grep -qsE 'assigned jst partitions 0@[0-9]+ 1@' "$T/c.err" || ko "c never got the partitions"
sleep 0.5 # a chance to (wrongly) read again what a stored
kill "$PC"
wait "$PC"
expect_eq "c exits 0 on TERM" $? 0
PC=
expect_in "restart on the same store: nothing stored is read again" " 0 duplicates skipped" "$T/c.err"

# a new store in the same group: Kafka's committed offsets are at the end, the store has none:
# everything is read from the start (the store's offsets are the ones that count)
DB2=$T/fresh.db
ADMIN=$("$J" token create --role admin --db "$DB2" 2>/dev/null)
serve_bg d "$DB2"
PC=$!
wait_for 20 grep -qs listening "$T/d.out"
PORT=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$T/d.out")
URL="http://127.0.0.1:$PORT"
wait_for 60 check_runs || ko "a fresh store in group g did not get every run from the topic's start"
# the agent's heartbeats may sit in another partition than its run: wait for the whole topic
same_log() {
	local q="SELECT count(*) || '/' || (SELECT sum(next_offset) FROM ev_source_offsets) FROM ev_log"
	[ "$(sqlite3 "$DB2" "$q")" = "$(sqlite3 "$DB" "$q")" ]
}
wait_for 30 same_log
q="SELECT count(*) || '/' || (SELECT sum(next_offset) FROM ev_source_offsets) FROM ev_log"
expect_eq "fresh store: each event once, every offset, as the first store" "$(sqlite3 "$DB2" "$q")" \
	"$(sqlite3 "$DB" "$q")"
expect_py "the first store holds more than the runs' events (the agent's)" "
import sys; sys.exit(not $(sqlite3 "$DB" 'SELECT count(*) FROM ev_log') > $events)"
kill "$PC"
wait "$PC"
expect_eq "d exits 0 on TERM" $? 0
PC=
kill "$MP"
wait "$MP"
MP=
finish
