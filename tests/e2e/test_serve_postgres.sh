# `joulestream serve --db postgresql://…` against a real PostgreSQL server started here
# (pg_lib.sh): the same NDJSON batches give the same runs, timelines and totals as the SQLite
# store (a run's raw events and the training metrics of its timeline included, from the log); a
# run streamed live with `run --sink` is stored with the run's own totals; a re-POST
# and an id repeated inside a batch count once; a rejected batch leaves no row in the log;
# `replay` on PostgreSQL rebuilds exactly the live aggregates.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
. "$(dirname "$0")/pg_lib.sh"
trap '[ -n "$SP" ] && kill "$SP" 2>/dev/null; stop_pg; rm -rf "$T"' EXIT
J=$JST_BIN
start_pg

# deterministic events: two runs, three zones, samples over three 1-minute windows, phases, and
# R0's training metrics in two 1-minute windows (from base - 20 s, base + 40 s)
python3 - "$T" <<'PY'
import json, sys
t = sys.argv[1]
base = 1700000000000000000
ev = []
for r, (user, model, zone) in enumerate([("ann", "llama", "FR"), ("bob", "mlp", "DE")]):
    run = f"R{r}"
    ev.append(dict(v=1, id=f"{run}-s", type="run_start", ts_ns=base, run=run, host=f"h{r}", user=user,
                   model=model, project="p", command=["x"], interval_s=1, zone=zone, pue=1.2, wue_l_per_kwh=1.8))
    ev.append(dict(v=1, id=f"{run}-p", type="phase", ts_ns=base + 1, run=run, host=f"h{r}", name="train", edge="begin"))
    for i in range(170):
        for z, (name, kind, src) in enumerate([("gpu0", "gpu", "nvml"), ("package-0", "package", "rapl"),
                                               ("dram-0", "dram", "rapl")]):
            e = 37.25 + (i * 7 + z * 13 + r * 5) % 91 / 3.0
            ev.append(dict(v=1, id=f"{run}-{i}-{z}", type="sample", ts_ns=base + (i + 1) * 1000000000, run=run,
                           host=f"h{r}", zone=name, zone_index=z, kind=kind, source=src, dt_s=1, energy_j=e,
                           share=0.5 + r * 0.25))
    if r == 0:
        for k, (s, vals) in enumerate([(10, {"loss": 1.0}), (20, {"loss": 0.5}),
                                       (90, {"loss": 0.25, "accuracy": 0.9})]):
            ev.append(dict(v=1, id=f"{run}-m-{k}", type="metric", ts_ns=base + s * 1000000000 + 5, run=run,
                           host=f"h{r}", step=k, values=vals))
    ev.append(dict(v=1, id=f"{run}-e", type="run_end", ts_ns=base + 171000000000, run=run, host=f"h{r}", exit=0,
                   signal=0, duration_s=171, samples=510, notes=[]))
ev.sort(key=lambda e: (e["ts_ns"], e["id"]))
for k in range(0, len(ev), 250): # several batches, as an agent sends them
    with open(f"{t}/batch{k // 250:02d}.ndjson", "w") as f:
        f.writelines(json.dumps(e) + "\n" for e in ev[k:k + 250])
PY
snap() {
	for p in /api/v1/runs?sort=energy /api/v1/runs/R0 /api/v1/runs/R1 /api/v1/runs/R0/timeline \
		/api/v1/runs/R1/timeline "/api/v1/aggregates?by=user" "/api/v1/aggregates?by=zone" \
		"/api/v1/aggregates?by=model" "/api/v1/aggregates?by=host" "/api/v1/aggregates?by=phase" \
		"/api/v1/runs/R0/events?type=metric" "/api/v1/runs/R0/events?limit=3" \
		"/api/v1/runs/R0/events?after=3&limit=2" "/api/v1/runs/R1/events?type=phase"; do
		printf 'GET\t%s\t%s\n' "$p" "$1"
	done | http_many
}
# same_snaps A B: the same answers, but for the clock-dependent last_event and stalled status
same_snaps() {
	python3 - "$1" "$2" <<'PY'
import json, sys
def norm(x):
    if isinstance(x, dict):
        return {k: ("running" if v == "stalled" else norm(v)) for k, v in x.items() if k != "last_event"}
    return [norm(v) for v in x] if isinstance(x, list) else x
a, b = ([norm(json.loads(l.split(" ", 1)[1])) for l in open(f) if l.strip()] for f in sys.argv[1:3])
assert len(a) == 14 and len(b) == 14, (len(a), len(b))
diff = [(x, y) for x, y in zip(a, b) if x != y]
assert not diff, diff[:1]
PY
}
post_all() {
	local f out
	for f in "$T"/batch*.ndjson; do printf 'POST\t/api/v1/events\t%s\t%s\n' "$1" "$f"; done | http_many >"$T/posted.txt"
	expect_eq "every batch posted" "$(grep -c '^200 ' "$T/posted.txt")" "$(ls "$T"/batch*.ndjson | wc -l)"
}

# the SQLite path first, then the same batches into PostgreSQL
SQ=$T/serve.db
SQ_AGENT=$("$J" token create --role agent --db "$SQ" 2>/dev/null)
SQ_ADMIN=$("$J" token create --role admin --db "$SQ" 2>/dev/null)
start_serve "$SQ"
post_all "$SQ_AGENT"
snap "$SQ_ADMIN" >"$T/sqlite.txt"
stop_serve
AGENT=$("$J" token create --role agent --db "$PGURL" 2>"$T/tok.err")
expect_eq "token create on postgresql" "$?${AGENT:0:4}" "0jst_"
ADMIN=$("$J" token create --role admin --db "$PGURL" 2>/dev/null)
expect_eq "tokens kept hashed in postgresql" "$(psql_val "SELECT count(*) FROM api_tokens WHERE length(hash)=32")" 2
start_serve "$PGURL" --batch-max 300
expect_in "serve on postgresql" "listening on" "$T/serve.out"
post_all "$AGENT"
expect_eq "events in the postgresql log" "$(psql_val 'SELECT count(*) FROM ev_log')" 1029
snap "$ADMIN" >"$T/pg.txt"
if same_snaps "$T/sqlite.txt" "$T/pg.txt"; then ok; else ko "postgresql answers differ from sqlite's"; fi
expect_py "the compared runs are the synthetic ones" "
import json
r=json.loads([l for l in open('$T/pg.txt') if l.strip()][1].split(' ',1)[1])['run']
assert r['samples']==510 and r['energy_j']>0 and r['status']=='finished', r"
grep -q '"windows":\[{' "$T/pg.txt"; expect_eq "timeline has windows" $? 0
expect_py "postgresql lists a run's raw events and their metrics" "
import json
a=[json.loads(l.split(' ',1)[1]) for l in open('$T/pg.txt') if l.strip()]
m=a[3]['metrics']
assert [(c['name'],c['count'],c['last']) for c in m]==[('loss',2,0.5),('accuracy',1,0.9),('loss',1,0.25)], m
ev=a[10]
assert [e['id'] for e in ev['events']]==['R0-m-0','R0-m-1','R0-m-2'] and not ev['more'], ev
assert ev['events'][1]['values']=={'loss':0.5} and ev['last']>0, ev
p1,p2=a[11],a[12]
assert len(p1['events'])==3 and p1['more'] and len(p2['events'])==2, (p1, p2)
assert all(e['run']=='R0' for e in p1['events']+p2['events']), (p1, p2)
assert [e['type'] for e in a[13]['events']]==['phase'] and a[13]['events'][0]['run']=='R1', a[13]"

# idempotent: a re-POST, and an id twice in one batch
expect_eq "re-post" "$(http POST /api/v1/events "$AGENT" "$T/batch00.ndjson")" '200 {"accepted":0,"duplicates":250}'
d='{"v":1,"id":"D-1","type":"run_start","ts_ns":1700000000000000000,"run":"D","host":"h","command":[],"interval_s":1}'
printf '%s\n%s\n' "$d" "$d" >"$T/dup.ndjson"
expect_eq "id twice in a batch" "$(http POST /api/v1/events "$AGENT" "$T/dup.ndjson")" '200 {"accepted":1,"duplicates":1}'
snap "$ADMIN" >"$T/pg2.txt"
expect_eq "re-post changed no total" "$(grep R0 "$T/pg.txt" | sed -n 2p)" "$(grep R0 "$T/pg2.txt" | sed -n 2p)"

# a rejected batch leaves nothing
before=$(psql_val 'SELECT count(*) FROM ev_log')
printf '%s\n{"v":1,"id":"B-2","type":"sample"\n' "${d//D/B}" >"$T/bad.ndjson"
out=$(http POST /api/v1/events "$AGENT" "$T/bad.ndjson")
expect_eq "bad batch refused" "${out%% *}" 400
expect_eq "nothing of the bad batch in the log" "$(psql_val 'SELECT count(*) FROM ev_log')" "$before"
expect_eq "nothing of the bad batch in the views" "$(http GET /api/v1/runs/B "$ADMIN" | cut -d' ' -f1)" 404

# a run streamed live into postgresql: the server's totals are the run's own
JOULESTREAM_TOKEN=$AGENT "$J" run --db "$T/local.db" --zone FR --model mlp --interval 50ms --json "$T/r.json" \
	--sink "$URL" --spool "$T/spool" --quiet -- "$BURN" 0.4
expect_eq "run exit" $? 0
RID=$(python3 -c "import json; print(json.load(open('$T/r.json'))['id'])")
out=$(http GET "/api/v1/runs/$RID" "$ADMIN")
expect_py "live run's totals in postgresql equal its record" "
import json
r=json.load(open('$T/r.json')); s=json.loads('''${out#* }''')['run']
assert s['status']=='finished' and s['model']=='mlp', s
want=r['totals']['energy_j']
assert abs(s['energy_j']-want) <= 1e-9*max(1,want), (s['energy_j'], want)
assert s['samples']==sum(z['samples'] for z in r['zones']), (s['samples'], r['zones'])"

# replay on postgresql rebuilds the same aggregates, bit for bit
snap "$ADMIN" >"$T/live.txt"
"$J" replay --store "$PGURL" >"$T/replay.out"; expect_eq "replay exit" $? 0
expect_in "replay counted events" "events replayed" "$T/replay.out"
snap "$ADMIN" >"$T/replayed.txt"
if same_snaps "$T/live.txt" "$T/replayed.txt"; then ok; else ko "replayed aggregates differ from live ones"; fi
stop_serve
# a run is its events in every store (issue 11): the served runs are listed like local ones
"$J" runs --db "$PGURL" >"$T/runs.txt" 2>"$T/runs.err"
expect_eq "runs on postgresql" $? 0
expect_in "the served runs listed" "R0 " "$T/runs.txt"
finish
