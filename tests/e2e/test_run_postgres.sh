# One event log for every store (issue 11): `joulestream run --db postgresql://…` against a real
# PostgreSQL started here (pg_lib.sh) stores the run as events, and `show`, `runs` and
# `reprocess` read it back as the view of those events with the figures of the run's own JSON
# record (per zone, to rounding); the same run in a SQLite store gives the same record, and
# `serve` on that SQLite file shows the run's energy and CO2e without any --sink. With the
# database down the job is untouched, its events wait in the spool, and the next run delivers
# them: nothing is lost.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
. "$(dirname "$0")/pg_lib.sh"
trap '[ -n "$SP" ] && kill "$SP" 2>/dev/null; stop_pg; rm -rf "$T"' EXIT
J=$JST_BIN
start_pg

# compare RECORD SHOWN: the figures of a run's JSON record and of `show --format json`
same_record() {
	python3 - "$1" "$2" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
def close(x, y):
    return abs(x - y) <= 1e-9 * max(1.0, abs(x), abs(y))
assert a["id"] == b["id"], (a["id"], b["id"])
for k in ("exit_code", "samples", "status"):
    assert a[k] == b[k], (k, a[k], b[k])
assert [z["name"] for z in a["zones"]] == [z["name"] for z in b["zones"]]
for za, zb in zip(a["zones"], b["zones"]):
    for k in ("energy_j", "run_energy_j", "idle_energy_j", "peak_power_w", "samples", "failed_samples"):
        assert close(za[k], zb[k]), (za["name"], k, za[k], zb[k])
for k, v in a["totals"].items():
    if not isinstance(v, bool):
        assert close(v, b["totals"][k]), (k, v, b["totals"][k])
assert a["carbon"]["data_version"] == b["carbon"]["data_version"]
# what the sinks could not deliver is noted after run_end was sent: not in the log
assert [n for n in a["notes"] if "not delivered yet" not in n] == b["notes"], (a["notes"], b["notes"])
fa, fb = a["integrity"]["flags"], b["integrity"]["flags"]
assert [(f["kind"], f["zone"]) for f in fa] == [(f["kind"], f["zone"]) for f in fb], (fa, fb)
PY
}

# a run on PostgreSQL: the job's output and status untouched, no note about the store
"$J" run --db "$PGURL" --zone DE --interval 50ms --json "$T/pg.json" -- sh -c "$BURN 0.4; echo job-out; exit 3" \
	>"$T/pg.out" 2>"$T/pg.err"
expect_eq "exit status passed through" $? 3
expect_eq "the job's stdout" "$(cat "$T/pg.out")" "job-out"
expect_not_in "no store failure in the report" "store unavailable" "$T/pg.err"
expect_not_in "no event left behind" "not delivered" "$T/pg.err"
expect_in "the report says where it is stored" "stored as run" "$T/pg.err"
RID=$(python3 -c "import json; print(json.load(open('$T/pg.json'))['id'])")
expect_eq "the run's events are in the log" "$(psql_val "SELECT count(*) > 10 FROM ev_log WHERE run='$RID'")" "t"
expect_eq "a run_start and a run_end" \
	"$(psql_val "SELECT string_agg(type, ',' ORDER BY type) FROM ev_log WHERE run='$RID' AND type LIKE 'run_%'")" \
	"run_end,run_start"

"$J" show "$RID" --db "$PGURL" --format json >"$T/pg.show.json"
expect_eq "show on postgresql" $? 0
same_record "$T/pg.json" "$T/pg.show.json" && ok || ko "show on postgresql = the run's own record"
"$J" show "${RID:0:10}" --db "$PGURL" >"$T/pg.txt"
expect_in "a prefix finds it; text report" "exit 3" "$T/pg.txt"
"$J" show last --db "$PGURL" --format csv >"$T/pg.csv"
expect_eq "csv: header and one row" "$(wc -l <"$T/pg.csv")" 2
"$J" runs --db "$PGURL" >"$T/runs.txt"
expect_in "runs lists it" "$RID" "$T/runs.txt"
expect_in "runs: its exit" "exit 3" "$T/runs.txt"

# reprocess on postgresql: a result per data version, the run-time one kept
"$J" reprocess "$RID" --zone FR --db "$PGURL" >"$T/re.out" 2>&1
expect_eq "reprocess on postgresql" $? 0
"$J" show "$RID" --db "$PGURL" --format json >"$T/pg.re.json"
expect_py "two results: FR from reprocess, DE from the run" "
import json
r = json.load(open('$T/pg.re.json'))['results']
zones = sorted((x['zone'], x['kind']) for x in r)
assert zones == [('DE', 'run'), ('FR', 'reprocess')], r
fr = [x for x in r if x['zone'] == 'FR'][0]; de = [x for x in r if x['zone'] == 'DE'][0]
assert 0 < fr['co2e_g'] < de['co2e_g'], r"

# the training record is a view of the mark events too: phases, epochs, steps and metrics of a
# Python job's marks come back from postgresql as the run recorded them
export PYTHONPATH=$(cd "$(dirname "$0")/../../python" && pwd)
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
                burn(0.2)
            burn(0.1)
        with t.phase("eval"):
            burn(0.1)
        t.log(loss=1.0 / epoch)
PY
"$J" run --db "$PGURL" --zone FR --interval 50ms --json "$T/tr.json" --quiet -- python3 "$T/job.py"
expect_eq "the job with marks" $? 0
TID=$(python3 -c "import json; print(json.load(open('$T/tr.json'))['id'])")
"$J" show "$TID" --db "$PGURL" --format json >"$T/tr.show.json"
expect_py "the training record from postgresql = the run's own" "
import json
a, b = json.load(open('$T/tr.json')), json.load(open('$T/tr.show.json'))
def close(x, y): return abs(x - y) <= 1e-9 * max(1.0, abs(x), abs(y))
pa = {p['path']: p for p in a['phases']}; pb = {p['path']: p for p in b['phases']}
assert sorted(pa) == sorted(pb) and 'train/forward' in pa, (sorted(pa), sorted(pb))
for k in pa:
    assert close(pa[k]['energy_j'], pb[k]['energy_j']) and close(pa[k]['time_s'], pb[k]['time_s']), (k, pa[k], pb[k])
assert len(a['epochs']) == len(b['epochs']) == 2, (a['epochs'], b['epochs'])
for x, y in zip(a['epochs'], b['epochs']):
    assert close(x['energy_j'], y['energy_j']), (x, y)
assert a['training']['marks'] == b['training']['marks'] > 10, (a['training'], b['training'])
ma, mb = a['metrics']['points'], b['metrics']['points']
assert len(ma) == len(mb) == 2, (ma, mb)
for x, y in zip(ma, mb):
    assert x['values'] == y['values'] and x['step'] == y['step'] and x['epoch'] == y['epoch'], (x, y)
    assert close(x['energy_j'], y['energy_j']), (x, y)"
"$J" show "$TID" --db "$PGURL" >"$T/tr.txt"
expect_in "the text report has the phases" "train/forward" "$T/tr.txt"

# the same kind of run in SQLite: one data model, so serve on the file shows it as run wrote it
"$J" run --db "$T/local.db" --zone DE --interval 50ms --json "$T/sq.json" --quiet -- "$BURN" 0.4
SID=$(python3 -c "import json; print(json.load(open('$T/sq.json'))['id'])")
"$J" show "$SID" --db "$T/local.db" --format json >"$T/sq.show.json"
same_record "$T/sq.json" "$T/sq.show.json" && ok || ko "show on sqlite = the run's own record"
expect_eq "samples are events, not a second table" "$(sqlite3 "$T/local.db" 'SELECT count(*) FROM samples')" 0
"$J" token create --role reader --all-users --db "$T/local.db" >"$T/tok" 2>/dev/null
TOKEN=$(cat "$T/tok")
start_serve "$T/local.db"
body=$(http GET "/api/v1/runs/$SID" "$TOKEN")
expect_py "serve shows the local run's energy and CO2e" "
import json
rec = json.load(open('$T/sq.json')); api = json.loads('''${body#* }''')['run']
def close(x, y): return abs(x - y) <= 1e-9 * max(1.0, abs(x), abs(y))
assert close(api['energy_j'], rec['totals']['energy_j']), (api['energy_j'], rec['totals']['energy_j'])
assert close(api['co2e_g'], rec['totals']['co2e_g']), (api['co2e_g'], rec['totals']['co2e_g'])"
stop_serve

# the database is down: the job runs untouched, its events wait in the spool ...
stop_pg
"$J" run --db "$PGURL" --zone DE --interval 50ms --spool "$T/spool" --json "$T/down.json" -- sh -c "$BURN 0.2; exit 5" \
	>"$T/down.out" 2>"$T/down.err"
expect_eq "exit status with the database down" $? 5
expect_in "the report says where the events wait" "not delivered yet, kept in $T/spool/store-" "$T/down.err"
DID=$(python3 -c "import json; print(json.load(open('$T/down.json'))['id'])")
# ... until the next run to the same store: its sink delivers them first
start_pg
"$J" run --db "$PGURL" --zone DE --interval 50ms --spool "$T/spool" --quiet -- true
expect_eq "the spooled run is in the log now" "$(psql_val "SELECT count(*) > 0 FROM ev_log WHERE run='$DID' AND type='run_end'")" "t"
"$J" show "$DID" --db "$PGURL" --format json >"$T/down.show.json"
same_record "$T/down.json" "$T/down.show.json" && ok || ko "the spooled run's record, nothing lost"
finish
