# Hourly carbon, the same figures everywhere: a training job measured with --intensity (a
# series whose values swing between 40 and 900 g/kWh every second, so the yearly average would
# be far off) and streamed with `run --sink` to a `serve` started here shows there the energy,
# CO2e and water of its local --json record (relative 1e-6): in the API's run, phases and timeline,
# and in the run's view of the server's log (`show --db`, `diff`), phases and epochs included. The
# values it used are in the log as intensity events. `reprocess` stays a replay of the run's
# events: the same file gives the live figure again, another file a result of its own, all
# kept by data version.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
J=$JST_BIN
DB=$T/serve.db
export PYTHONPATH=$(cd "$(dirname "$0")/../../python" && pwd)
AGENT=$("$J" token create --role agent --db "$DB" 2>/dev/null)
ADMIN=$("$J" token create --role admin --db "$DB" 2>/dev/null)
start_serve "$DB"

# CSV series around now: NAME STEP_S COUNT VALUE_EXPR(i)
series() {
	python3 - "$@" <<'PY'
import sys, time
from datetime import datetime, timezone
name, step, count, expr = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
t0 = int(time.time()) // step * step - step * (count // 2)
with open(name, "w") as f:
    f.write("datetime,zone,ci_g_per_kwh\n")
    for i in range(count):
        t = datetime.fromtimestamp(t0 + i * step, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        f.write(f"{t},FR,{eval(expr)}\n")
PY
}
series "$T/swing.csv" 1 1200 '(40, 900, 300)[i % 3]'

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
            burn(0.6)
        t.log(loss=1.0 / epoch)
PY
JOULESTREAM_TOKEN=$AGENT "$J" run --db "$T/local.db" --zone FR --interval 50ms --intensity "$T/swing.csv" \
	--json "$T/r.json" --sink "$URL" --spool "$T/spool" --quiet -- python3 "$T/job.py"
expect_eq "run exit" $? 0
RID=$(python3 -c "import json; print(json.load(open('$T/r.json'))['id'])")
expect_py "the local record: the series, far from the yearly figure" "
import json
r=json.load(open('$T/r.json')); c=r['carbon']; t=r['totals']
assert c['intensity']=='series' and c['data_version'].startswith('file:swing.csv@sha256:'), c
assert c['ci_min_g_per_kwh']==40 and c['ci_max_g_per_kwh']==900 and c['outside_series_kwh']==0, c
yearly=t['facility_kwh']*r['site']['ci_g_per_kwh']
assert t['co2e_g'] > 3*yearly, (t['co2e_g'], yearly)
assert [p['path'] for p in r['phases']]==['(none)', 'train', 'eval'] and len(r['epochs'])==2, (r['phases'], r['epochs'])"

# the API: the run's totals and its minutes
out=$(http GET "/api/v1/runs/$RID" "$ADMIN")
expect_eq "run found" "${out%% *}" 200
printf '%s\n' "${out#* }" >"$T/api.json"
out=$(http GET "/api/v1/runs/$RID/timeline" "$ADMIN")
expect_eq "timeline found" "${out%% *}" 200
printf '%s\n' "${out#* }" >"$T/tl.json"
expect_py "the server's run: energy, CO2e and water of the local record" "
import json
r=json.load(open('$T/r.json'))['totals']; s=json.load(open('$T/api.json'))['run']
assert s['status']=='finished', s
for k, want in (('energy_j', r['energy_j']), ('co2e_g', r['co2e_g']), ('water_l', r['water_l'])):
    assert abs(s[k]-want) <= 1e-6*want, (k, s[k], want)
w=json.load(open('$T/tl.json'))['windows']
got=sum(x['co2e_g'] for x in w)
assert abs(got-r['co2e_g']) <= 1e-6*r['co2e_g'], (got, r['co2e_g'])
ph={p['name']: p for p in json.load(open('$T/api.json'))['phases']}
for p in json.load(open('$T/r.json'))['phases']:  # the record's split by the marks
    for k in ('energy_j', 'co2e_g', 'water_l'):
        assert abs(ph[p['path']][k]-p[k]) <= 1e-6*max(p[k], 1e-12), (p['path'], k, ph[p['path']][k], p[k])"

# the run's view of the server's log: what `show` and a replay give
"$J" show "$RID" --db "$DB" --format json >"$T/srv.json"
expect_eq "show on the server's store" $? 0
expect_py "the server's view: totals, carbon, phases and epochs of the local record" "
import json
a=json.load(open('$T/r.json')); b=json.load(open('$T/srv.json'))
def near(x, y, what):
    assert abs(x-y) <= 1e-6*max(abs(y), 1e-12), (what, x, y)
for k in ('energy_j', 'co2e_g', 'water_l', 'it_kwh', 'facility_kwh'):
    near(b['totals'][k], a['totals'][k], k)
for k in ('data_version', 'ci_min_g_per_kwh', 'ci_max_g_per_kwh', 'series'):
    assert b['carbon'][k]==a['carbon'][k], (k, b['carbon'][k], a['carbon'][k])
near(b['carbon']['ci_avg_g_per_kwh'], a['carbon']['ci_avg_g_per_kwh'], 'ci_avg')
assert [p['path'] for p in b['phases']]==[p['path'] for p in a['phases']], b['phases']
for p, q in zip(b['phases'], a['phases']):
    for k in ('energy_j', 'co2e_g', 'water_l'):
        near(p[k], q[k], p['path']+' '+k)
assert [e['epoch'] for e in b['epochs']]==[1, 2], b['epochs']
for e, f in zip(b['epochs'], a['epochs']):
    for k in ('energy_j', 'co2e_g', 'water_l'):
        near(e[k], f[k], 'epoch %d %s' % (e['epoch'], k))"

# the same run, field by field (figures, inputs, digests): local store against the server's
"$J" diff "$RID" "$RID" --db "$T/local.db" --db-b "$DB" >"$T/diff.txt"
expect_eq "diff: the server's copy is the local run" $? 0

# the values the run used are in its events, and no more of them than the run covered
out=$(http GET "/api/v1/runs/$RID/events?type=intensity" "$ADMIN")
printf '%s\n' "${out#* }" >"$T/ev.json"
expect_py "intensity events: the values over the run, in order" "
import json
j=json.load(open('$T/ev.json')); ev=[e for e in j['events'] if e['type']=='intensity']
vals=sum(len(e['ci_g_per_kwh']) for e in ev)
d=json.load(open('$T/r.json'))['duration_s']
assert ev and all(e['step_s']==1 and e['data_version'].startswith('file:swing.csv') for e in ev), ev
assert d <= vals <= d + 3, (vals, d)
ts=[e['ts_ns'] for e in ev]
assert ts==sorted(ts), ts"

# reprocess: a replay of the run's events, results kept by data version
"$J" reprocess "$RID" --db "$T/local.db" --intensity "$T/swing.csv" --json >"$T/rep.json" 2>"$T/err"
expect_eq "reprocess with the same file" $? 0
series "$T/low.csv" 3600 6 10
"$J" reprocess "$RID" --db "$T/local.db" --intensity "$T/low.csv" --json >"$T/low.json" 2>"$T/err"
expect_eq "reprocess with another file" $? 0
"$J" show "$RID" --db "$T/local.db" --format json >"$T/after.json"
expect_py "reprocess: the same values give the live figure; each version kept" "
import json
live=json.load(open('$T/r.json'))['totals']; rep=json.load(open('$T/rep.json'))[0]; low=json.load(open('$T/low.json'))[0]
assert abs(rep['co2e_g']-live['co2e_g']) <= 1e-9*live['co2e_g'], (rep, live)
assert abs(low['co2e_g']-live['facility_kwh']*10) <= 1e-9*low['co2e_g'], (low, live)
r=json.load(open('$T/after.json'))
vs=sorted(x['data_version'].split('@')[0] for x in r['results'])
assert vs==['file:low.csv', 'file:swing.csv'], vs
assert r['carbon']['data_version'].startswith('file:low.csv'), r['carbon']"
"$J" show "$RID" --db "$T/local.db" --data file:swing --format json >"$T/swing.json"
expect_py "show --data: the run's own version, its figure unchanged" "
import json
a=json.load(open('$T/swing.json')); b=json.load(open('$T/r.json'))
assert abs(a['totals']['co2e_g']-b['totals']['co2e_g']) <= 1e-9*b['totals']['co2e_g']"

stop_serve
finish
