# The README's fleet setup on one node, end to end: `joulestream agent --sink` and a
# `joulestream run --scope host --sink` job on the same host (a RAPL fixture tree whose counters
# a feeder advances) into a `serve` this test starts. The host's energy is counted once:
# by=host equals the agent's own series (not the agent's plus the job's), by=user (the job's
# user plus the unattributed group) equals it too, in energy, CO2e and water; the agent's series
# is not a job in the runs list, and is listed with series=host and read by its id. Then
# the store is put back to migration 13 (no hierarchy table or column) and opened again:
# migration 14 recomputes the same figures in place, and `verify` still passes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
J=$JST_BIN
DB=$T/serve.db
R=$T/root
cp -r "$JST_FIXTURES/sysfs-2socket" "$R"
AGENT=$("$J" token create --role agent --db "$DB" 2>/dev/null)
ADMIN=$("$J" token create --role admin --db "$DB" 2>/dev/null)
start_serve "$DB"
# the counters move at 20 W, 10 W and 5 W for as long as the test runs
python3 "$(dirname "$0")/rapl_feeder.py" "$R/sys/class/powercap" 20 "" "$T/stop" "$T/ready" &
FP=$!
for _ in $(seq 200); do [ -e "$T/ready" ] && break; sleep 0.05; done
export JOULESTREAM_NVML_LIB=$T/no-nvml.so
JOULESTREAM_TOKEN=$AGENT "$J" agent --listen 127.0.0.1:0 --interval 200ms --sensors rapl --sysfs-root "$R" \
	--zone FR --sink "$URL" --spool "$T/spool-agent" >"$T/agent.out" 2>"$T/agent.err" </dev/null &
AP=$!
for _ in $(seq 100); do grep -q metrics "$T/agent.out" && break; sleep 0.05; done
sleep 0.5
JOULESTREAM_TOKEN=$AGENT "$J" run --scope host --interval 200ms --sensors rapl --sysfs-root "$R" --zone FR \
	--no-store --sink "$URL" --spool "$T/spool-run" -- sleep 2 2>"$T/run.err"
expect_eq "run --scope host --sink: exit" $? 0
sleep 0.5
kill -TERM $AP; wait $AP; expect_eq "agent exit" $? 0
AP=
touch "$T/stop"; wait $FP

figures() {
	hosts=$(http GET "/api/v1/aggregates?by=host" "$ADMIN")
	users=$(http GET "/api/v1/aggregates?by=user" "$ADMIN")
	series=$(http GET "/api/v1/runs?series=host" "$ADMIN")
	runs=$(http GET "/api/v1/runs" "$ADMIN")
}
figures
check_once() { # $1: when
	expect_py "$1: by=host is the host once (the agent's series), by=user + unattributed equals it" "
import json
def body(s):
    code, _, b = s.partition(' ')
    assert code == '200', s
    return json.loads(b)
hosts = body('''$hosts''')['groups']; users = body('''$users''')['groups']
agents = body('''$series''')['runs']; runs = body('''$runs''')['runs']
assert len(agents) == 1 and agents[0]['series'] == 'host', agents
assert len(runs) == 1 and runs[0]['series'] == 'run' and runs[0]['id'] != agents[0]['id'], runs
a, r = agents[0], runs[0]
assert a['energy_j'] > 0 and r['energy_j'] > 0, (a, r)
assert len(hosts) == 1 and hosts[0]['key'] == a['host'], hosts
h = hosts[0]
for k in ('energy_j', 'co2e_g', 'water_l'):
    assert abs(h[k] - a[k]) <= 1e-9 * a[k], ('by=host is the agent once', k, h[k], a[k], r[k])
    s = sum(g[k] for g in users)
    assert abs(s - h[k]) <= 1e-9 * h[k], ('users + unattributed = host', k, s, h[k])
assert h['energy_j'] < a['energy_j'] + 0.5 * r['energy_j'], 'the job is not added to the host'
un = [g for g in users if g.get('unattributed')]
job = [g for g in users if not g.get('unattributed')]
assert len(un) == 1 and un[0]['key'] == '(unattributed)' and un[0]['energy_j'] > 0, users
assert len(job) == 1 and job[0]['key'] == r['user'], users
# the job claimed the whole host while it ran (scope host): at most its own energy
assert 0 < job[0]['energy_j'] <= r['energy_j'] * (1 + 1e-9), (job, r)
print('host %.3f J = job %.3f J + unattributed %.3f J; agent %.3f J, run %.3f J' %
      (h['energy_j'], job[0]['energy_j'], un[0]['energy_j'], a['energy_j'], r['energy_j']))
"
}
check_once "live ingest"
before="$hosts $users"
http GET "/api/v1/runs/$(json_get "j['runs'][0]['id']" "${series#* }")" "$ADMIN" >"$T/agent.json"
expect_in "the agent's series reads by its id" '"series":"host"' "$T/agent.json"
stop_serve

# back to migration 13: no ev_hier, no series_host; opening it again recomputes in place
sqlite3 "$DB" "DROP TABLE ev_hier; DROP INDEX ev_runs_host; ALTER TABLE ev_runs DROP COLUMN series_host;
	PRAGMA user_version=13;"
expect_eq "store set back to migration 13" $? 0
start_serve "$DB"
figures
check_once "after migration 14 in place"
expect_eq "migration 14 gives the same totals" "$hosts $users" "$before"
stop_serve
fresh=$T/fresh.db
"$J" token create --role admin --db "$fresh" >/dev/null 2>&1
expect_eq "user_version as a fresh store's" "$(sqlite3 "$DB" 'PRAGMA user_version')" \
	"$(sqlite3 "$fresh" 'PRAGMA user_version')"
"$J" verify --db "$DB" >"$T/verify.out" 2>&1
expect_eq "verify after the upgrade" $? 0
finish
