# Silent hosts: heartbeats posted by hand with timestamps in the past. A host whose newest
# heartbeat is older than 3 of its announced periods (60 s when it announced none) is "silent"
# in /api/v1/hosts, and its runs still running are "stalled" with the "silent_host" flag; a
# late, older heartbeat does not hide a newer one; finished runs and hosts without agents are
# not flagged; a reader limited to its user cannot list hosts.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
J=$JST_BIN
DB=$T/serve.db
AGENT=$("$J" token create --role agent --db "$DB" 2>/dev/null)
ADMIN=$("$J" token create --role admin --db "$DB" 2>/dev/null)
MINE=$("$J" token create --role reader --user "$(id -un)" --db "$DB" 2>/dev/null)
start_serve "$DB"

python3 - "$T/ev.ndjson" <<'PY'
import json, sys, time
now = time.time_ns()
s = 1_000_000_000
ev = []
def hb(agent, seq, host, ago_s, interval=None):
    e = dict(v=1, id=f"{agent}-h-{seq}", type="heartbeat", ts_ns=now - ago_s * s, host=host,
             agent_version="t", uptime_s=1.0)
    if interval is not None:
        e["interval_s"] = interval
    ev.append(e)
hb("AGA", 0, "nodeA", 600, 60)      # 10 min ago, every minute: silent
hb("AGB", 1, "nodeB", 0, 60)        # now: alive
hb("AGB", 0, "nodeB", 3600, 60)     # older, posted after: changes nothing
hb("AGC", 0, "nodeC", 100)          # no period said: 60 s, 100 s ago is not 3 of them
hb("AGD", 0, "nodeD", 100, 10)      # every 10 s, 100 s ago: silent
def run(rid, host, finished=False):
    ev.append(dict(v=1, id=f"{rid}-b", type="run_start", ts_ns=now - 30 * s, run=rid, host=host,
                   command=[], interval_s=60, user="u"))  # a run silent for 10 of its own intervals is stalled: 10 min, never during this test
    ev.append(dict(v=1, id=f"{rid}-s-0-0", type="sample", ts_ns=now, run=rid, host=host, zone="package-0",
                   zone_index=0, kind="package", source="rapl", dt_s=1, energy_j=10, share=1))
    if finished:
        ev.append(dict(v=1, id=f"{rid}-e", type="run_end", ts_ns=now, run=rid, host=host, exit=0,
                       duration_s=30))
run("RA", "nodeA")
run("RAF", "nodeA", finished=True)
run("RB", "nodeB")
run("RX", "nodeX")                  # no agent on it
open(sys.argv[1], "w").write("".join(json.dumps(e) + "\n" for e in ev))
PY
out=$(http POST /api/v1/events "$AGENT" "$T/ev.ndjson")
expect_eq "events accepted" "${out%% *}" 200
out=$(http GET /api/v1/hosts "$ADMIN")
expect_eq "hosts listed" "${out%% *}" 200
printf '%s\n' "${out#* }" >"$T/hosts.json"
expect_py "silent hosts" "
import json
j=json.load(open('$T/hosts.json')); h={x['host']: x for x in j['hosts']}
assert j['silent_after_intervals']==3, j
assert sorted(h)==['nodeA','nodeB','nodeC','nodeD'], h
assert {k: v['silent'] for k, v in h.items()}=={'nodeA':True,'nodeB':False,'nodeC':False,'nodeD':True}, h
assert h['nodeB']['silent_for_s'] < 600 and h['nodeB']['agent']=='AGB', h['nodeB']
assert h['nodeC']['interval_s']==60 and h['nodeD']['interval_s']==10, h"
for r in RA RAF RB RX; do
	out=$(http GET "/api/v1/runs/$r" "$ADMIN")
	echo "$r $(json_get "j['run']['status'] + ' ' + ','.join(j['run']['health'])" "${out#* }")"
done >"$T/runs.txt"
expect_eq "runs on a silent host" "$(cat "$T/runs.txt")" "RA stalled silent_host
RAF finished 
RB running 
RX running "
out=$(http GET "/api/v1/runs?host=nodeA" "$ADMIN")
expect_py "the runs list flags them too" "
import json
j=json.loads('''${out#* }''')
assert {r['id']: r['health'] for r in j['runs']}=={'RA':['silent_host'],'RAF':[]}, j"
expect_eq "a reader of one user cannot list hosts" "$(http GET /api/v1/hosts "$MINE" | cut -d' ' -f1)" 403
stop_serve
finish
