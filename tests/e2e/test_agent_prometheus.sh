# A real Prometheus server (Debian's /usr/bin/prometheus) scrapes `joulestream agent`'s
# /metrics on loopback every second; its HTTP API then answers joulestream_zone_joules_total
# with the agent's zone, source and kind labels and a positive value, and up == 1 for the
# target. Waits are bounded (60 s) and only decide when to stop polling, never pass or fail.
. "$(dirname "$0")/lib.sh"
J=$JST_BIN
AP= PP=
trap '[ -n "$AP" ] && kill "$AP" 2>/dev/null; [ -n "$PP" ] && kill "$PP" 2>/dev/null; wait; rm -rf "$T"' EXIT
PROM=$(command -v prometheus || echo /usr/bin/prometheus)
[ -x "$PROM" ] || { echo "SKIP: no prometheus server here (apt-get install prometheus)"; exit 77; }

"$J" agent --listen 127.0.0.1:0 --interval 200ms --zone SE --sink "file:$T/ev.ndjson" \
	>"$T/agent.out" 2>"$T/agent.err" </dev/null &
AP=$!
for _ in $(seq 100); do grep -q metrics "$T/agent.out" && break; sleep 0.05; done
MURL=$(sed -n 's/.*metrics on \(http[^ ]*\)/\1/p' "$T/agent.out")
[ -n "$MURL" ] || { cat "$T/agent.err" >&2; ko "agent did not start"; finish; exit 1; }
TARGET=$(echo "$MURL" | sed 's|http://\([^/]*\)/.*|\1|')
PPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$T/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: joulestream
    metrics_path: /metrics
    static_configs:
      - targets: ['$TARGET']
YML
"$PROM" --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/tsdb" \
	--web.listen-address="127.0.0.1:$PPORT" --log.level=warn >"$T/prom.log" 2>&1 </dev/null &
PP=$!

# poll the query API until a positive zone counter has arrived (60 s at most)
query() {
	python3 - "http://127.0.0.1:$PPORT/api/v1/query" "$1" <<'PY'
import json, sys, urllib.parse, urllib.request
try:
    url = sys.argv[1] + "?" + urllib.parse.urlencode({"query": sys.argv[2]})
    print(urllib.request.urlopen(url, timeout=5).read().decode())
except Exception as e:
    print(json.dumps({"status": "unreachable", "error": repr(e)}))
PY
}
got=
for _ in $(seq 120); do
	got=$(query 'joulestream_zone_joules_total')
	python3 -c "import json,sys; r=json.loads(sys.argv[1]).get('data',{}).get('result',[]); sys.exit(0 if any(float(x['value'][1])>0 for x in r) else 1)" "$got" 2>/dev/null && break
	kill -0 "$PP" 2>/dev/null || break
	sleep 0.5
done
kill -0 "$PP" 2>/dev/null; expect_eq "prometheus still running" $? 0
expect_py "prometheus scraped joulestream_zone_joules_total (last answer: ${got:0:300})" "
import json
j=json.loads('''$got''')
assert j['status']=='success', j
r=j['data']['result']
assert r, 'no series yet'
assert any(float(x['value'][1])>0 for x in r), r
m=r[0]['metric']
assert m['job']=='joulestream' and m['instance']=='$TARGET', m
assert m['zone'] and m['source'] and m['kind'], m"
up=$(query 'up{job="joulestream"}')
expect_py "the agent target is up" "
import json
r=json.loads('''$up''')['data']['result']
assert len(r)==1 and r[0]['value'][1]=='1', r"
# every query of the Grafana dashboard in deploy/grafana/ parses and answers on this Prometheus
# (Grafana's variables given the values Grafana would put there), and each one that reads a
# counter of the agent has series: the dashboard names only metrics the agent exports
sleep 2 # a second scrape, so that rate() and increase() have two points
python3 - "http://127.0.0.1:$PPORT/api/v1/query" "$(dirname "$0")/../../deploy/grafana/joulestream-nodes.json" \
	>"$T/dash.out" 2>&1 <<'PY'
import json, sys, urllib.parse, urllib.request
api, path = sys.argv[1], sys.argv[2]
dash = json.load(open(path))
bad = 0
for p in dash["panels"]:
    for t in p["targets"]:
        q = (t["expr"].replace("$instance", ".*").replace("$__rate_interval", "1m")
             .replace("$__range", "5m"))
        j = json.loads(urllib.request.urlopen(api + "?" + urllib.parse.urlencode({"query": q}), timeout=10).read())
        n = len(j.get("data", {}).get("result", []))
        ok = j["status"] == "success" and n > 0
        bad += not ok
        print("ok " if ok else "BAD", n, "series:", p["title"], "|", q)
print("queries failing:", bad)
PY
expect_in "the Grafana dashboard's queries all answer" "queries failing: 0" "$T/dash.out"
grep BAD "$T/dash.out" >&2
if [ "$failed" -ne 0 ]; then
	sed 's/^/  prometheus: /' "$T/prom.log" >&2
	sed 's/^/  agent: /' "$T/agent.err" >&2
fi
kill -TERM $AP; wait $AP; expect_eq "agent exit" $? 0
AP=
finish
