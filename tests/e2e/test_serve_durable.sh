# Durability and delivery: an acknowledged batch survives kill -9 of serve; `run --sink http`
# against a server that is down finishes the job unharmed, keeps its events in the spool and
# says so; the next run with the same spool delivers them, and a second replay of the same
# spool adds nothing (ids), so the server's totals equal the run's own record exactly.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
J=$JST_BIN
DB=$T/serve.db
AGENT=$("$J" token create --role agent --db "$DB" 2>/dev/null)
ADMIN=$("$J" token create --role admin --db "$DB" 2>/dev/null)
export JOULESTREAM_TOKEN=$AGENT

# kill -9 right after the acknowledgement: the batch is there after a restart
start_serve "$DB"
python3 -c "
import json
ev=[{'v':1,'id':'K-b','type':'run_start','ts_ns':1700000000000000000,'run':'K','host':'h','command':['x'],'interval_s':1}]
for i in range(200):
    ev.append({'v':1,'id':'K-s-%d-0'%i,'type':'sample','ts_ns':1700000000000000000+(i+1)*10**9,'run':'K','host':'h',
               'zone':'package-0','zone_index':0,'kind':'package','source':'rapl','dt_s':1,'energy_j':1.25,'share':1})
open('$T/k.ndjson','w').write(''.join(json.dumps(e)+'\n' for e in ev))"
expect_eq "batch acknowledged" "$(http POST /api/v1/events "$AGENT" "$T/k.ndjson")" '200 {"accepted":201,"duplicates":0}'
kill -9 "$SP"; wait "$SP" 2>/dev/null
start_serve "$DB"
out=$(http GET /api/v1/runs/K "$ADMIN")
expect_eq "acknowledged events survive kill -9" "$(json_get 'j["run"]["samples"], j["run"]["energy_j"]' "${out#* }")" "200 250"

# the server goes away: the job is unharmed, its events wait in the spool
kill -9 "$SP"; wait "$SP" 2>/dev/null
"$J" run --db "$T/local.db" --interval 50ms --json "$T/r1.json" --sink "$URL" --spool "$T/spool" -- sh -c 'sleep 0.3; exit 7' 2>"$T/r1.err"
expect_eq "job's exit status with the server down" $? 7
expect_in "report says what was not delivered" "not delivered yet, kept in $T/spool/" "$T/r1.err"
expect_eq "one spool file kept" "$(find "$T/spool" -name '*.ndjson' -size +0 | wc -l)" 1
cp "$T"/spool/*.ndjson "$T/spool-copy"
R1=$(python3 -c "import json; print(json.load(open('$T/r1.json'))['id'])")

# server back (another port): the next run delivers the spooled events first
start_serve "$DB"
"$J" run --db "$T/local.db" --interval 50ms --sink "$URL" --spool "$T/spool" --quiet -- true
expect_eq "spool empty after delivery" "$(find "$T/spool" -name '*.ndjson' -size +0 | wc -l)" 0
check_r1() {
	out=$(http GET "/api/v1/runs/$R1" "$ADMIN")
	expect_py "$1" "
import json
r=json.load(open('$T/r1.json')); s=json.loads('''${out#* }''')['run']
assert s['status']=='finished' and s['exit']==7, s
assert s['samples']==sum(z['samples'] for z in r['zones']), (s['samples'], r['zones'])
want=r['totals']['energy_j']; assert abs(s['energy_j']-want) <= 1e-9*max(1,want), (s['energy_j'], want)"
}
check_r1 "spooled run delivered whole"
# the same spool replayed again (as after a crash before truncation): nothing counted twice
cp "$T/spool-copy" "$T/spool/0-deadbeef.ndjson"
"$J" run --db "$T/local.db" --interval 50ms --sink "$URL" --spool "$T/spool" --quiet -- true
check_r1 "replayed spool adds no duplicates"
stop_serve
finish
