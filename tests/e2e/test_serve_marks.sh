# `joulestream run --sink` streams the training marks of a Python job (phases, epochs, a loss
# metric, through JOULESTREAM_SOCKET) as phase and metric events: the server's run shows the
# phases with energies that add up to the run's, and its timeline the metric per window. The
# file sink shows the events themselves (paths of nested phases, epoch and step of a metric).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
J=$JST_BIN
DB=$T/serve.db
export PYTHONPATH=$(cd "$(dirname "$0")/../../python" && pwd)
AGENT=$("$J" token create --role agent --db "$DB" 2>/dev/null)
ADMIN=$("$J" token create --role admin --db "$DB" 2>/dev/null)
start_serve "$DB"

# the job: two epochs of "train" (with a nested "forward") and "eval", each burning CPU, and a
# loss logged per epoch
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
            with t.phase("forward"):
                burn(0.3)
            burn(0.3)
        with t.phase("eval"):
            burn(0.3)
        t.log(loss=1.0 / epoch, acc=0.5 * epoch)
PY
JOULESTREAM_TOKEN=$AGENT "$J" run --no-store --zone FR --interval 50ms --json "$T/r.json" \
	--sink "$URL" --spool "$T/spool" --quiet -- python3 "$T/job.py"
expect_eq "run exit" $? 0
RID=$(python3 -c "import json; print(json.load(open('$T/r.json'))['id'])")
out=$(http GET "/api/v1/runs/$RID" "$ADMIN")
expect_eq "run found" "${out%% *}" 200
printf '%s\n' "${out#* }" >"$T/run.json"
expect_py "phases listed, energies adding up to the run's" "
import json
j=json.load(open('$T/run.json')); r=j['run']; ph={p['name']: p for p in j['phases']}
assert r['status']=='finished', r
for name in ('train', 'train/forward', 'eval'):
    assert name in ph and ph[name]['energy_j'] > 0 and ph[name]['samples'] > 0, (name, ph)
got=sum(p['energy_j'] for p in j['phases'])
assert abs(got-r['energy_j']) <= 1e-9*max(1, r['energy_j']), (got, r['energy_j'])
assert sum(p['samples'] for p in j['phases']) <= r['samples'], (j['phases'], r['samples'])"
out=$(http GET "/api/v1/runs/$RID/timeline" "$ADMIN")
expect_eq "timeline found" "${out%% *}" 200
printf '%s\n' "${out#* }" >"$T/tl.json"
expect_py "timeline has the loss per window" "
import json
j=json.load(open('$T/tl.json')); m=[x for x in j['metrics'] if x['name']=='loss']
assert j['metrics_truncated'] is False
assert sum(x['count'] for x in m)==2, m
assert min(x['min'] for x in m)==0.5 and max(x['max'] for x in m)==1.0, m
assert m[-1]['last']==0.5, m
w={x['start'] for x in j['windows']}
assert all(x['start'] in w for x in m), (m, w)"

# the events themselves, in a file: nested paths, edges paired, metric with epoch and step
"$J" run --no-store --zone FR --interval 50ms --sink "file:$T/ev.ndjson" --quiet -- python3 "$T/job.py"
expect_eq "file-sink run exit" $? 0
expect_py "phase and metric events in schema v1" "
import json
ev=[json.loads(l) for l in open('$T/ev.ndjson')]
ph=[(e['name'], e['edge']) for e in ev if e['type']=='phase']
want=[('train','begin'),('train/forward','begin'),('train/forward','end'),('train','end'),('eval','begin'),('eval','end')]*2
assert ph==want, ph
me=[e for e in ev if e['type']=='metric']
assert [(e['epoch'], e['step'], e['values']) for e in me]==[(1,1,{'loss':1.0,'acc':0.5}),(2,2,{'loss':0.5,'acc':1.0})], me
start=ev[0]['ts_ns']; end=ev[-1]['ts_ns']
assert all(start <= e['ts_ns'] <= end for e in ev if e['type'] in ('phase','metric')), (start, end)
assert len({e['id'] for e in ev})==len(ev)"
n=$(wc -l <"$T/ev.ndjson")
expect_eq "file events accepted" "$(http POST /api/v1/events "$AGENT" "$T/ev.ndjson")" "200 {\"accepted\":$n,\"duplicates\":0}"
stop_serve
finish
