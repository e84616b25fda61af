# A live intensity source, the same figures everywhere: a training job measured with --live
# against a loopback Electricity Maps (fake_carbon_api.py, serving a value every second that
# cycles 40, 900, 300 g/kWh: hours made short) and streamed with `run --sink` to a `serve`
# started here. The values come after the command ended and reach the server after the
# samples they cover (intensity events flagged late), so the server charges the minutes it
# had counted at the yearly average again. Its API then shows the local --json record's
# figures (relative 1e-6): the run's energy, CO2e and water, the sum of its minutes, the
# by=user total, and each phase's energy, CO2e and water as the record splits them by the
# marks (not by sample arrival). A rebuild of the server's store gives the same figures.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
J=$JST_BIN
DB=$T/serve.db
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
export PYTHONPATH=$(cd "$(dirname "$0")/../../python" && pwd)
FAKE_EM_STEP_S=1 python3 "$(dirname "$0")/fake_carbon_api.py" >"$T/port" &
AP=$!
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
export JOULESTREAM_ELECTRICITYMAPS_URL=http://127.0.0.1:$(cat "$T/port") ELECTRICITYMAPS_TOKEN=em-secret
AGENT=$("$J" token create --role agent --db "$DB" 2>/dev/null)
ADMIN=$("$J" token create --role admin --db "$DB" 2>/dev/null)
start_serve "$DB"

cat >"$T/job.py" <<'PY'
import time
import joulestream

def burn(s):
    end = time.monotonic() + s
    while time.monotonic() < end:
        sum(i * i for i in range(1000))

with joulestream.Tracker(model="tiny", mode="socket") as t:
    for epoch in (1, 2):
        t.epoch(epoch, total=2)
        with t.phase("train"):
            t.step()
            burn(0.9)
        with t.phase("eval"):
            burn(0.45)
        t.log(loss=1.0 / epoch)
PY
JOULESTREAM_TOKEN=$AGENT "$J" run --db "$T/local.db" --zone FR --interval 50ms --live \
	--json "$T/r.json" --sink "$URL" --spool "$T/spool" --quiet -- python3 "$T/job.py"
expect_eq "run exit" $? 0
RID=$(python3 -c "import json; print(json.load(open('$T/r.json'))['id'])")
expect_py "the local record: the live series, its values differing by the second" "
import json
r=json.load(open('$T/r.json')); c=r['carbon']
assert c['intensity']=='series' and 'Electricity Maps history FR' in c['series'], c
assert c['ci_min_g_per_kwh']==40 and c['ci_max_g_per_kwh']==900 and c['outside_series_kwh']==0, c
assert [p['path'] for p in r['phases']]==['(none)', 'train', 'eval'] and len(r['epochs'])==2, r['phases']"

out=$(http GET "/api/v1/runs/$RID/events?type=intensity" "$ADMIN")
printf '%s\n' "${out#* }" >"$T/ev.json"
expect_py "the values reached the server as late intensity events" "
import json
ev=[e for e in json.load(open('$T/ev.json'))['events'] if e['type']=='intensity']
assert ev and all(e.get('late') is True for e in ev), ev"

# the API against the local record; then again after a rebuild of the server's aggregates
check_api() {
	out=$(http GET "/api/v1/runs/$RID" "$ADMIN")
	expect_eq "run found ($1)" "${out%% *}" 200
	printf '%s\n' "${out#* }" >"$T/api.json"
	out=$(http GET "/api/v1/runs/$RID/timeline" "$ADMIN")
	printf '%s\n' "${out#* }" >"$T/tl.json"
	out=$(http GET "/api/v1/aggregates?by=user" "$ADMIN")
	printf '%s\n' "${out#* }" >"$T/agg.json"
	expect_py "the server's run, minutes, user total and phases are the local record's ($1)" "
import json
rec=json.load(open('$T/r.json')); r=rec['totals']; api=json.load(open('$T/api.json')); s=api['run']
def near(x, y, what):
    assert abs(x-y) <= 1e-6*max(abs(y), 1e-12), (what, x, y)
assert s['status']=='finished', s
yearly=r['facility_kwh']*rec['site']['ci_g_per_kwh']
assert abs(r['co2e_g']-yearly) > 0.1*yearly, (r['co2e_g'], yearly)  # the values matter
for k in ('energy_j', 'co2e_g', 'water_l'):
    near(s[k], r[k], 'run '+k)
w=json.load(open('$T/tl.json'))['windows']
near(sum(x['co2e_g'] for x in w), r['co2e_g'], 'minutes co2e_g')
near(sum(x['energy_j'] for x in w), r['energy_j'], 'minutes energy_j')
g=[x for x in json.load(open('$T/agg.json'))['groups'] if x['key']==rec['meta']['user']]
assert len(g)==1, g
for k in ('energy_j', 'co2e_g', 'water_l'):
    near(g[0][k], r[k], 'by=user '+k)
got={p['name']: p for p in api['phases']}
assert sorted(got)==sorted(p['path'] for p in rec['phases']), (list(got), rec['phases'])
for p in rec['phases']:
    for k in ('energy_j', 'co2e_g', 'water_l'):
        near(got[p['path']][k], p[k], p['path']+' '+k)"
}
check_api "live ingest"
stop_serve
"$J" replay --db "$DB" >"$T/replay.out" 2>&1
expect_eq "replay" $? 0
start_serve "$DB"
check_api "rebuilt"

stop_serve
finish
