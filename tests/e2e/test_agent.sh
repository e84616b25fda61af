# `joulestream agent` end to end on loopback: /metrics passes Prometheus's own `promtool check
# metrics`; a `joulestream run` job started meanwhile shows up as workload="run:ID"; the sum over
# workloads never exceeds the host's measured energy; labels stay bounded (--top); the agent's
# host events reach `serve` (agent → serve → SQLite) and the host run ends when the agent stops.
# A GPU (the fake NVML) is split among the workloads of the processes on it: a run's process
# gets its part, a process of no workload (pid 1) leaves its part to the host.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
J=$JST_BIN
DB=$T/serve.db
AGENT=$("$J" token create --role agent --db "$DB" 2>/dev/null)
ADMIN=$("$J" token create --role admin --db "$DB" 2>/dev/null)
start_serve "$DB"
: "${JST_FAKE_NVML:?}"
export JOULESTREAM_NVML_LIB=$JST_FAKE_NVML FAKE_NVML_CONFIG=$T/nvml.conf
cat >"$FAKE_NVML_CONFIG" <<CONF
driver="550.54.15"
gpu 0 name="NVIDIA H100 80GB HBM3" uuid=GPU-0aaa energy=unsupported power_mw=300000 limit_mw=700000
proc 0 pid=1 mem=1000 sm=30
CONF
JOULESTREAM_TOKEN=$AGENT "$J" agent --listen 127.0.0.1:0 --interval 100ms --top 2 --zone SE --sink "$URL" \
	--spool "$T/spool" >"$T/agent.out" 2>"$T/agent.err" </dev/null &
AP=$!
for _ in $(seq 100); do grep -q metrics "$T/agent.out" && break; sleep 0.05; done
MURL=$(sed -n 's/.*metrics on \(http[^ ]*\)/\1/p' "$T/agent.out")
# the run's shell puts itself on the GPU, burns CPU, and stays until the agent has given its
# workload a part of the GPU (at most 30 s; the check below says if it never did)
cat >"$T/gpu_seen.py" <<'PY'
import os, sys, time, urllib.request
want = 'joulestream_workload_gpu_joules_total{workload="run:%s"} ' % os.environ["JOULESTREAM_RUN_ID"]
end = time.monotonic() + 30
while time.monotonic() < end:
    for line in urllib.request.urlopen(sys.argv[1], timeout=10).read().decode().splitlines():
        if line.startswith(want) and float(line.split()[-1]) > 0:
            sys.exit(0)
    time.sleep(0.05)
PY
"$J" run --no-store --quiet --json "$T/r.json" -- sh -c '
	sed "\$a proc 0 pid=$$ mem=1000 sm=90" "$FAKE_NVML_CONFIG" >"$FAKE_NVML_CONFIG.new"
	mv "$FAKE_NVML_CONFIG.new" "$FAKE_NVML_CONFIG"
	i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done
	python3 "$1" "$2"' sh "$T/gpu_seen.py" "$MURL"
RID=$(python3 -c "import json; print(json.load(open('$T/r.json'))['id'])")
sleep 0.3
python3 -c "import urllib.request; open('$T/m.txt','w').write(urllib.request.urlopen('$MURL', timeout=10).read().decode())"
if command -v promtool >/dev/null; then
	promtool check metrics <"$T/m.txt" >"$T/promtool.out" 2>&1; expect_eq "promtool check metrics" $? 0
	[ -s "$T/promtool.out" ] && sed 's/^/  promtool: /' "$T/promtool.out" >&2
else
	ko "promtool missing: scripts/install-deps installs the prometheus package"
fi
expect_in "the run is a workload" "joulestream_workload_joules_total{workload=\"run:$RID\"}" "$T/m.txt"
expect_py "workloads within the host, labels bounded" "
import re
zones=0; wl={}
for line in open('$T/m.txt'):
    m=re.match(r'joulestream_zone_joules_total\{zone=\"[^\"]*\",source=\"[^\"]*\",kind=\"(\w+)\"\} (\S+)', line)
    if m and m.group(1) not in ('core','uncore','psys'): zones+=float(m.group(2))
    m=re.match(r'joulestream_workload_joules_total\{workload=\"([^\"]*)\"\} (\S+)', line)
    if m: wl[m.group(1)]=float(m.group(2))
assert zones>0, zones
assert sum(wl.values()) <= zones*(1+1e-9), (wl, zones)
assert len(wl) <= 3, wl  # --top 2 plus other
assert wl['run:$RID'] > 0, wl"
expect_py "GPU split among workloads: the run's process gets a part, pid 1 none, all within the GPU" "
import re
gpu=0; g={}
for line in open('$T/m.txt'):
    m=re.match(r'joulestream_zone_joules_total\{zone=\"[^\"]*\",source=\"nvml\",kind=\"gpu\"\} (\S+)', line)
    if m: gpu+=float(m.group(1))
    m=re.match(r'joulestream_workload_gpu_joules_total\{workload=\"([^\"]*)\"\} (\S+)', line)
    if m: g[m.group(1)]=float(m.group(2))
assert gpu>0, gpu
assert g['run:$RID'] > 0, g
# the run's process held 90 of the 120 SM points whenever it was listed; pid 1's 30 stay the host's
assert sum(g.values()) <= gpu*0.75*(1+1e-9), (g, gpu)"
expect_py "CO2e and water counters: the host's counted joules and each workload's through one factor" "
import re
zones=0; co2=None; water=None; wl={}; wco2={}; wwat={}
for line in open('$T/m.txt'):
    m=re.match(r'joulestream_zone_joules_total\{zone=\"[^\"]*\",source=\"[^\"]*\",kind=\"(\w+)\"\} (\S+)', line)
    if m and m.group(1) not in ('core','uncore','psys'): zones+=float(m.group(2))
    m=re.match(r'joulestream_host_co2e_grams_total\{grid_zone=\"SE\",ci_year=\"\d+\",ci_source=\"[^\"]+\",pue=\"[0-9.]+\"\} (\S+)', line)
    if m: co2=float(m.group(1))
    m=re.match(r'joulestream_host_water_liters_total\{grid_zone=\"SE\",wue=\"[0-9.]+\"\} (\S+)', line)
    if m: water=float(m.group(1))
    for name, d in (('joules', wl), ('co2e_grams', wco2), ('water_liters', wwat)):
        m=re.match(r'joulestream_workload_%s_total\{workload=\"([^\"]*)\"\} (\S+)' % name, line)
        if m: d[m.group(1)]=float(m.group(2))
assert co2 and water and zones > 0, (co2, water, zones)
k = co2 / zones; w = water / zones
for key, j in wl.items():
    assert abs(wco2[key] - j * k) <= 1e-6 * max(wco2[key], 1e-12) + 1e-15, (key, wco2[key], j * k)
    assert abs(wwat[key] - j * w) <= 1e-6 * max(wwat[key], 1e-12) + 1e-15, (key, wwat[key], j * w)
assert set(wco2) == set(wl) == set(wwat), (wl, wco2, wwat)"
kill -TERM $AP; wait $AP; expect_eq "agent exit" $? 0
out=$(http GET "/api/v1/runs?host=$(hostname)" "$ADMIN")
expect_py "the agent's host series is not a job" "
import json
assert not [r for r in json.loads('''${out#* }''')['runs'] if r['zone']=='SE']"
out=$(http GET "/api/v1/runs?host=$(hostname)&series=host" "$ADMIN")
expect_py "agent's host series stored by serve" "
import json
runs=json.loads('''${out#* }''')['runs']
a=[r for r in runs if r['zone']=='SE']
assert len(a)==1 and a[0]['series']=='host' and a[0]['samples']>0 and a[0]['status']=='finished' and a[0]['energy_j']>0, runs"
stop_serve
finish
