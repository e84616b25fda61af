# Live intensity against a loopback stand-in of Electricity Maps and WattTime
# (fake_carbon_api.py): the run's hours are fetched after the command ends and integrated
# from the stored samples; the answer is cached on disk; a token refused, a server that stalls
# past the timeout or answers garbage leaves the yearly average, and the report says why;
# WattTime's lbs/MWh become g/kWh; `intensity` and `reprocess` use the same sources.
. "$(dirname "$0")/lib.sh"
J=$JST_BIN
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
python3 "$(dirname "$0")/fake_carbon_api.py" >"$T/port" &
api=$!
trap 'kill $api 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
URL=http://127.0.0.1:$(cat "$T/port")
R=$T/root
cp -r "$JST_FIXTURES/sysfs-2socket" "$R"
export pkg0=$R/sys/class/powercap/intel-rapl:1/energy_uj
measure() {
	"$J" run --sysfs-root "$R" --sensors rapl --scope host --interval 50ms --pue 1.2 --wue 0 "$@" \
		-- sh -c 'v=$(cat "$pkg0"); sleep 0.2; echo $((v + 3600000)) >"$pkg0"; sleep 0.2; exit 7'
}
mkdir -p "$HOME/.config/joulestream"
cat >"$HOME/.config/joulestream/config" <<CFG
[electricitymaps]
url = $URL
[watttime]
url = $URL
user = ada
password = wt-pass
[http]
connect_timeout = 1
timeout = 1
CFG
export ELECTRICITYMAPS_TOKEN=em-secret

# Electricity Maps history: 3.6 J x 1.2 x 250 g/kWh, named and versioned
measure --zone DE --intensity live:electricitymaps --json "$T/em.json" 2>"$T/err"
expect_eq "the command's exit status" $? 7
expect_py "history applied to the run" "
import json; r = json.load(open('$T/em.json')); c = r['carbon']; t = r['totals']
assert c['intensity'] == 'series' and 'Electricity Maps history DE' in c['series'], c
assert c['data_version'].startswith('electricitymaps:history:DE@sha256:') and c['fallback'] == '', c
assert abs(t['co2e_g'] - 3.6 / 3.6e6 * 1.2 * 250) < 1e-12, t"
expect_in "text names the source" "Electricity Maps history DE" "$T/err"

# the values fetched at the end go into the log before run_end, flagged late; a copy of the
# run's events in another store gives the run's own figures
measure --zone DE --intensity live:electricitymaps --db "$T/own.db" --sink "sqlite:$T/copy.db" \
	--json "$T/lv.json" 2>/dev/null
"$J" show last --db "$T/copy.db" --format json >"$T/lv-copy.json"
expect_py "live values in the log: late, after the samples, before run_end; the copy's figures" "
import json, sqlite3
ev = [json.loads(b) for (b,) in sqlite3.connect('$T/copy.db').execute('SELECT body FROM ev_log ORDER BY seq')]
types = [e['type'] for e in ev]
i = [k for k, t in enumerate(types) if t == 'intensity']
assert i and all(ev[k].get('late') is True for k in i), types
assert max(k for k, t in enumerate(types) if t == 'sample') < min(i) and max(i) < types.index('run_end'), types
a = json.load(open('$T/lv.json')); b = json.load(open('$T/lv-copy.json'))
assert b['carbon']['data_version'] == a['carbon']['data_version'], (a['carbon'], b['carbon'])
assert abs(b['totals']['co2e_g'] - a['totals']['co2e_g']) <= 1e-9 * a['totals']['co2e_g'], (a['totals'], b['totals'])"
ls "$T"/home/.cache/joulestream/electricitymaps-history-DE.json >/dev/null 2>&1
expect_eq "answer cached" $? 0
n1=$(curl -s "$URL/_count" | python3 -c "import json,sys; print(json.load(sys.stdin).get('/v3/carbon-intensity/history', 0))")
measure --zone DE --live --json "$T/em2.json" 2>/dev/null
n2=$(curl -s "$URL/_count" | python3 -c "import json,sys; print(json.load(sys.stdin).get('/v3/carbon-intensity/history', 0))")
expect_eq "second run served from the cache" "$n2" "$n1"
expect_py "--live is the same source" "
import json; a = json.load(open('$T/em.json')); b = json.load(open('$T/em2.json'))
assert a['carbon']['data_version'] == b['carbon']['data_version']"

measure --zone DE --live --no-store --json "$T/em3.json" 2>"$T/err"
expect_py "not stored: the in-memory timeline, same figure" "
import json; r = json.load(open('$T/em3.json')); t = r['totals']
assert abs(t['co2e_g'] - 3.6 / 3.6e6 * 1.2 * 250) < 1e-12 and r['carbon']['intensity'] == 'series', r['carbon']"
expect_in "and said so" "live intensity applied to the in-memory timeline" "$T/err"

# a US state asks for its balancing area
measure --zone US-TX --live --no-store --json "$T/tx.json" 2>/dev/null
expect_py "US-TX: the ERCOT series" "
import json; c = json.load(open('$T/tx.json'))['carbon']; assert 'Electricity Maps history US-TEX-ERCO' in c['series'], c"
TZ=UTC "$J" run --live --no-store -- true 2>"$T/err"
expect_in "no zone: not asked, said why" "the run has no zone to ask for" "$T/err"

# a refused token, a stall past the timeout, garbage, a server error: the yearly average, why
ELECTRICITYMAPS_TOKEN=wrong measure --zone FR --live --no-store --json "$T/401.json" 2>"$T/err"
expect_eq "exit status kept on a failed fetch" $? 7
expect_in "refused token reported" "HTTP 401" "$T/err"
expect_in "fallback said" "yearly average used" "$T/err"
expect_py "yearly figure after a refusal" "
import json; r = json.load(open('$T/401.json')); t = r['totals']
assert r['carbon']['intensity'] == 'yearly average' and 'HTTP 401' in r['carbon']['fallback']
assert abs(t['co2e_g'] - t['it_kwh'] * 1.2 * r['site']['ci_g_per_kwh']) < 1e-12"
JOULESTREAM_ELECTRICITYMAPS_URL=$URL/stall measure --zone FR --live --no-store --json "$T/stall.json" 2>"$T/err"
expect_eq "exit status kept on a stall" $? 7
expect_in "stall reported" "no answer within 1 s (timed out)" "$T/err"
expect_py "stall: yearly average" "
import json; r = json.load(open('$T/stall.json')); assert 'timed out' in r['carbon']['fallback'] and r['carbon']['intensity'] == 'yearly average'"
JOULESTREAM_ELECTRICITYMAPS_URL=$URL/garbage measure --zone FR --live --no-store 2>"$T/err"
expect_in "garbage reported" "electricitymaps: unexpected answer" "$T/err"
JOULESTREAM_ELECTRICITYMAPS_URL=$URL/status500 measure --zone FR --live --no-store 2>"$T/err"
expect_in "server error reported" "HTTP 500" "$T/err"
JOULESTREAM_ELECTRICITYMAPS_URL=http://127.0.0.1:1 measure --zone FR --live --no-store 2>"$T/err"
expect_in "nobody listening reported" "intensity series not used (electricitymaps" "$T/err"
env -u ELECTRICITYMAPS_TOKEN "$J" run --zone FR --live --no-store -- true 2>"$T/err"
expect_in "no token: said how to give one" "no token: set ELECTRICITYMAPS_TOKEN" "$T/err"

# WattTime: login, historical MOER in lbs/MWh; 1000 lbs/MWh = 453.59237 g/kWh
measure --zone US-CAL-CISO --intensity live:watttime:CAISO_NORTH --json "$T/wt.json" 2>"$T/err"
expect_py "WattTime applied, converted" "
import json; r = json.load(open('$T/wt.json')); c = r['carbon']; t = r['totals']
assert 'WattTime v3 co2_moer CAISO_NORTH (marginal emissions)' in c['series'], c
assert c['data_version'].startswith('watttime:historical:CAISO_NORTH@sha256:'), c
assert abs(t['co2e_g'] - 3.6 / 3.6e6 * 1.2 * 453.59237) < 1e-12, t"
WATTTIME_PASSWORD=nope "$J" run --zone US-CAL-CISO --intensity live:watttime:ERCOT --no-store -- true 2>"$T/err"
expect_in "WattTime login refused" "watttime login: HTTP 403" "$T/err"
"$J" run --zone DE --intensity live:watttime --no-store -- true 2>"$T/err"
expect_in "WattTime needs a region" "watttime: no region" "$T/err"
"$J" run --zone DE --intensity live:nowhere -- true 2>"$T/err"; expect_eq "unknown live source" $? 2

# intensity now, and reprocess with a live source
"$J" intensity DE --intensity live:electricitymaps >"$T/i"; expect_eq "intensity live exit" $? 0
expect_in "latest value" "250.0 gCO2e/kWh" "$T/i"
expect_in "latest source" "Electricity Maps latest DE, lifecycle" "$T/i"
"$J" intensity US-CAL-CISO --intensity live:watttime:CAISO_NORTH --json >"$T/i.json"
expect_py "WattTime forecast for now" "
import json; a = json.load(open('$T/i.json')); assert abs(a['ci_g_per_kwh'] - 453.59237) < 1e-9 and a['in_series'], a"
JOULESTREAM_ELECTRICITYMAPS_URL=$URL/stall "$J" intensity FR --intensity live:electricitymaps >"$T/i" 2>"$T/err"
expect_in "intensity: fallback said" "the yearly average is used" "$T/err"
expect_in "intensity: yearly figure" "FR (France)" "$T/i"
"$J" run --zone DE --interval 50ms -- sleep 0.2 2>/dev/null
"$J" reprocess last --intensity live:electricitymaps >"$T/out" 2>&1; expect_eq "reprocess live" $? 0
expect_in "reprocess live version" "electricitymaps:history:DE@sha256:" "$T/out"
XDG_CACHE_HOME=$T/empty-cache JOULESTREAM_ELECTRICITYMAPS_URL=$URL/garbage \
	"$J" reprocess last --intensity live:electricitymaps >"$T/out" 2>&1
expect_eq "reprocess with a failing source fails" $? 1
expect_in "and says why" "not reprocessed" "$T/out"
finish
