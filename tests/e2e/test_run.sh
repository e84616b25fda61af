# `joulestream run` end to end on this machine's real sensors (whatever they are; the estimate
# on a VM): the command's streams, exit status and signals are untouched; the summary, --json,
# --csv and the store agree; bad options fail before the command starts.
. "$(dirname "$0")/lib.sh"
J=$JST_BIN

# exit status passes through; 128+N for a signal
"$J" run --quiet -- sh -c 'exit 3'; expect_eq "exit code" $? 3
"$J" run --quiet -- sh -c 'kill -TERM $$'; expect_eq "killed by TERM" $? 143
"$J" run --quiet -- /nonexistent/cmd 2>"$T/err"; expect_eq "missing command" $? 127
expect_in "missing command message" "cannot run '/nonexistent/cmd'" "$T/err"

# stdout, stderr and stdin are the command's own, byte for byte
printf 'line1\nline2 \001\n' >"$T/in"
"$J" run --quiet -- cat <"$T/in" >"$T/out" 2>"$T/err"
cmp -s "$T/in" "$T/out"; expect_eq "stdin to stdout unchanged" $? 0
expect_eq "quiet stderr empty" "$(cat "$T/err")" ""
"$J" run -- sh -c 'echo to-out; echo to-err >&2' >"$T/out" 2>"$T/err"
expect_eq "stdout is only the command's" "$(cat "$T/out")" "to-out"
expect_eq "command's stderr comes first" "$(head -n1 "$T/err")" "to-err"
expect_in "summary on stderr" "joulestream: run " "$T/err"

# no zone: the world average, said loudly
expect_in "world average is announced" "WORLD AVERAGE" "$T/err"

# bad options fail before the command runs
"$J" run --zone XX -- touch "$T/ran" 2>"$T/err"; expect_eq "unknown zone exit" $? 2
[ ! -e "$T/ran" ]; expect_eq "command not started on a bad zone" $? 0
expect_in "unknown zone message" "unknown zone 'XX'" "$T/err"
"$J" run --interval 0 -- true 2>/dev/null; expect_eq "bad interval" $? 2
"$J" run --pue 0.5 -- true 2>/dev/null; expect_eq "bad pue" $? 2
"$J" run --json /nonexistent-dir/x.json -- touch "$T/ran" 2>/dev/null; expect_eq "unwritable json" $? 2
[ ! -e "$T/ran" ]; expect_eq "command not started on a bad --json" $? 0

# a signal sent to joulestream reaches the command, and the report still comes
# (the command says when its trap is set: a signal before that would rightly kill it; at most
# 30 s of waiting, the loop being bounded, on however loaded a machine)
"$J" run --interval 50ms --json "$T/sig.json" -- sh -c "trap 'exit 42' TERM; touch '$T/trapped'; while :; do sleep 0.05; done" 2>"$T/err" &
jpid=$!
for _ in $(seq 600); do [ -e "$T/trapped" ] && break; sleep 0.05; done
kill -TERM $jpid
wait $jpid; expect_eq "TERM forwarded, command's own exit status" $? 42
expect_in "report after a forwarded signal" "exit 42" "$T/err"

# what a scheduler or a user sends (SLURM's --signal: USR1; QUIT, ALRM, WINCH; job control)
# goes on to the command, and joulestream survives each to write the record
mkdir "$T/sigs"
"$J" run --interval 50ms --json "$T/sigs.json" -- python3 -c '
import os, signal, sys, time
os.chdir(sys.argv[1])
def note(sig, frame):  # python sets its handlers even for a QUIT a background shell ignored
    with open("log", "a") as f:
        f.write(signal.Signals(sig).name[3:] + "\n")
for s in ("USR1", "USR2", "QUIT", "ALRM", "WINCH", "TSTP", "CONT"):
    signal.signal(getattr(signal, "SIG" + s), note)
open("ready", "w").close()
while not os.path.exists("done"):
    time.sleep(0.05)
sys.exit(3)' "$T/sigs" 2>"$T/sigs.err" &
jpid=$!
for _ in $(seq 600); do [ -e "$T/sigs/ready" ] && break; sleep 0.05; done
for s in USR1 USR2 QUIT ALRM WINCH; do
	kill -"$s" $jpid
	for _ in $(seq 600); do grep -qx "$s" "$T/sigs/log" 2>/dev/null && break; sleep 0.05; done
done
expect_eq "USR1 USR2 QUIT ALRM WINCH reached the command" "$(tr '\n' ' ' <"$T/sigs/log" 2>/dev/null)" \
	"USR1 USR2 QUIT ALRM WINCH "
# TSTP and CONT: the command catches them here (a stop by default would be discarded by the
# kernel when the test's process group is orphaned, as under make: POSIX job control)
for s in TSTP CONT; do
	kill -"$s" $jpid
	for _ in $(seq 600); do grep -qx "$s" "$T/sigs/log" 2>/dev/null && break; sleep 0.05; done
done
expect_eq "TSTP and CONT reached it too" "$(tail -n 2 "$T/sigs/log" | tr '\n' ' ')" "TSTP CONT "
state() { sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null; }
expect_eq "joulestream itself was not stopped" "$(state $jpid | tr S R)" R
touch "$T/sigs/done"
wait $jpid; expect_eq "the command's own exit status after all of them" $? 3
expect_py "the record is finished" "import json; assert json.load(open('$T/sigs.json'))['status'] == 'finished'"

# processes that outlive the command (setsid, as a daemon does): without --wait-descendants
# they are measured until the command exits and named in the report; with it, the run goes on
# until they exit (burn runs 1.5 s of wall time after it starts, so the run lasts at least that)
# and the report says it waited. The run's CPU time then includes theirs.
"$J" run --no-store --interval 100ms --json "$T/d0.json" -- sh -c "(setsid '$BURN' 1.5 &); exit 0" 2>"$T/d0.err"
expect_eq "descendants: the command's exit status" $? 0
expect_py "descendants: named in the report, not waited for" "
import json, re; r = json.load(open('$T/d0.json'))
n = [x for x in r['notes'] if 'still ran when it exited' in x]
assert len(n) == 1 and re.search(r'exited: [0-9]+ \\(', n[0]), r['notes']"
"$J" run --no-store --interval 100ms --wait-descendants --json "$T/d1.json" -- sh -c "(setsid '$BURN' 1.5 &); exit 0" 2>"$T/d1.err"
expect_eq "--wait-descendants: the command's exit status" $? 0
expect_py "--wait-descendants: measured until the descendant exited" "
import json; r = json.load(open('$T/d1.json'))
assert r['duration_s'] >= 1.5, r['duration_s']
assert any(x.startswith('waited ') and ' it started' in x for x in r['notes']), r['notes']
assert not any('still ran when it exited' in x for x in r['notes']), r['notes']
assert r['totals']['cpu_time_s'] > 0, r['totals']"

# outputs: JSON record, CodeCarbon CSV (header once), the store
"$J" run --zone DE --interval 100ms --json "$T/r.json" --csv "$T/e.csv" --project demo -- sleep 0.5 2>"$T/err"
expect_eq "run exit" $? 0
"$J" run --zone FR --interval 100ms --csv "$T/e.csv" -- true 2>/dev/null
expect_eq "csv rows (header + 2)" "$(wc -l <"$T/e.csv")" 3
expect_eq "csv header is CodeCarbon's" "$(head -n1 "$T/e.csv")" "timestamp,project_name,run_id,experiment_id,duration,emissions,emissions_rate,cpu_power,gpu_power,ram_power,cpu_energy,gpu_energy,ram_energy,energy_consumed,water_consumed,country_name,country_iso_code,region,cloud_provider,cloud_region,os,python_version,codecarbon_version,cpu_count,cpu_model,gpu_count,gpu_model,longitude,latitude,ram_total_size,tracking_mode,cpu_utilization_percent,gpu_utilization_percent,ram_utilization_percent,ram_used_gb,on_cloud,pue,wue"
expect_py "csv rows have 38 fields" "
import csv,sys
rows=list(csv.reader(open('$T/e.csv')))
sys.exit(0 if all(len(r)==38 for r in rows) and rows[1][1]=='demo' else 1)"
expect_py "json record is consistent" "
import json,sys
r=json.load(open('$T/r.json'))
z=r['zones']; t=r['totals']
assert r['status']=='finished' and r['exit_code']==0, r['status']
assert r['site']['zone']=='DE' and r['site']['ci_g_per_kwh']>0 and r['site']['ci_source'], r['site']
assert abs(sum(x['run_energy_j'] for x in z if x['counted'])-t['energy_j'])<1e-6*max(1,t['energy_j'])
assert all(x['run_energy_j']<=x['energy_j']+1e-9 for x in z), 'run share above host'
assert t['energy_j']<=t['host_energy_j']+1e-9
pts=r['timeline']['points']
assert abs(sum(sum(p['energy_j']) for p in pts)-sum(x['energy_j'] for x in z))<1e-6*max(1,t['host_energy_j'])
assert abs(t['co2e_g']-t['facility_kwh']*r['site']['ci_g_per_kwh'])<1e-9*max(1,t['co2e_g'])
assert r['meta']['command']=='sleep 0.5' and r['meta']['project']=='demo'
assert r['duration_s']>=0.5
if any(x['estimate'] for x in z if x['counted']): assert t['estimate'] is True
"
id=$(python3 -c "import json;print(json.load(open('$T/r.json'))['id'])")
expect_in "summary names the store" "stored as run $id" "$T/err"
"$J" runs >"$T/runs"; expect_eq "runs exit" $? 0
expect_in "runs lists the run" "$id" "$T/runs"
"$J" show "${id:0:12}" --format json >"$T/show.json"; expect_eq "show by prefix" $? 0
expect_py "show json equals the run's json totals" "
import json
a=json.load(open('$T/r.json')); b=json.load(open('$T/show.json'))
assert a['id']==b['id'] and a['totals']==b['totals'], (a['totals'],b['totals'])
assert abs(sum(sum(p['energy_j']) for p in b['timeline']['points'])-a['totals']['host_energy_j'])<1e-6*max(1,a['totals']['host_energy_j']) or any(not z['counted'] for z in a['zones'])
"
"$J" show last >"$T/show.txt"; expect_eq "show last" $? 0
expect_in "show last is the newest run" "true" "$T/show.txt"
"$J" show ZZZZ 2>"$T/err"; expect_eq "unknown run" $? 1
expect_in "unknown run message" "no run matches" "$T/err"
before=$("$J" runs | grep -c '^[0-9A-Z]\{26\}')
expect_eq "every started run stored" "$before" 8
"$J" run --no-store --quiet -- true
expect_eq "--no-store stores nothing" "$("$J" runs | grep -c '^[0-9A-Z]\{26\}')" "$before"

finish
