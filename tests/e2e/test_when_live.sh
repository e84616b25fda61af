# Green scheduling with live data from the loopback stand-in of Electricity Maps and WattTime
# (fake_carbon_api.py): `when --live` plans on the forecast endpoint's answer (every value
# 250 g/kWh, so every window ties and the earliest, now, wins with no saving), WattTime's
# forecast in lbs/MWh is converted, a dead service is a clear error; `sites rank --live`
# averages each site's history over the window and names it, and keeps the yearly average,
# with the reason, when the service refuses.
. "$(dirname "$0")/lib.sh"
J=$JST_BIN
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
python3 "$(dirname "$0")/fake_carbon_api.py" >"$T/port" &
api=$!
trap 'kill $api 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
URL=http://127.0.0.1:$(cat "$T/port")
C=$T/live.conf
cat >"$C" <<CFG
[electricitymaps]
url = $URL
[watttime]
url = $URL
user = ada
password = wt-pass
[http]
connect_timeout = 1
timeout = 2
[site de]
zone = DE
pue = 1.2
partition = p-de
[site fr]
zone = FR
pue = 1.4
partition = p-fr
CFG
export ELECTRICITYMAPS_TOKEN=em-secret

"$J" when --config "$C" --zone DE --duration 2h --live --json >"$T/w.json" 2>"$T/err"
expect_eq "when --live exit" $? 0
expect_py "live forecast: all equal, the earliest (now) wins" "
import json; r = json.load(open('$T/w.json')); f = r['forecast']
assert f['source'] == 'Electricity Maps forecast DE' and f['data_version'].startswith('electricitymaps:forecast:DE@sha256:'), f
assert f['step_s'] == 3600 and f['values'] == 24 and f['gaps'] == [], f
assert r['best']['start'] == r['now'] and r['best']['ci_g_per_kwh'] == 250, r
assert r['ties'] == r['candidates'] and r['candidates'] >= 20, r
assert r['saving']['percent'] == 0, r['saving']"
"$J" when --config "$C" --zone US-CAL-CISO --duration 15m --forecast live:watttime:CAISO_NORTH >"$T/out" 2>"$T/err"
expect_eq "when WattTime exit" $? 0
expect_in "WattTime forecast named" "WattTime v3 co2_moer CAISO_NORTH (marginal emissions)" "$T/out"
expect_in "lbs/MWh converted" "453.6 gCO2e/kWh on average" "$T/out"
XDG_CACHE_HOME=$T/c1 JOULESTREAM_ELECTRICITYMAPS_URL=http://127.0.0.1:1 "$J" when --config "$C" --zone DE --duration 2h --live 2>"$T/err"
expect_eq "dead service: an error" $? 1
expect_in "dead service said" "joulestream when: no forecast: " "$T/err"
XDG_CACHE_HOME=$T/c2 ELECTRICITYMAPS_TOKEN=wrong "$J" when --config "$C" --zone DE --duration 2h --live 2>"$T/err"
expect_in "refused token said" "HTTP 401" "$T/err"

# up to 23 h back, Electricity Maps' history (the last 24 hourly values) covers the window
"$J" sites rank --config "$C" --live --window 12h --format json >"$T/s.json" 2>"$T/err"
expect_eq "sites rank --live exit" $? 0
expect_py "each site: the history's mean over the window, named" "
import json; r = json.load(open('$T/s.json')); s = {x['name']: x for x in r['sites']}
assert r['intensity'] == 'live' and r['window']['seconds'] == 43200, r
for name, zone in (('de', 'DE'), ('fr', 'FR')):
    x = s[name]
    assert x['ci_window_mean'] and x['ci_g_per_kwh'] == 250 and x['ci_source'] == 'Electricity Maps history ' + zone, x
    assert x['data_version'].startswith('electricitymaps:history:' + zone), x
    assert x['window_coverage'] == 1, x
assert [x['name'] for x in r['sites']] == ['de', 'fr'], r['sites']"
"$J" sites rank --config "$C" --live --format json >"$T/s7.json" 2>"$T/err"
expect_py "7 days (the default): the past-range endpoint" "
import json; r = json.load(open('$T/s7.json'))
assert all(x['ci_source'].startswith('Electricity Maps past-range') for x in r['sites']), r['sites']"
XDG_CACHE_HOME=$T/nocache ELECTRICITYMAPS_TOKEN=wrong "$J" sites rank --config "$C" --live --window 12h >"$T/t" 2>"$T/err"
expect_eq "refused: still ranked" $? 0
expect_in "refused: yearly average, why" "HTTP 401" "$T/t"
expect_in "refused: yearly average used" "yearly average used" "$T/t"
# a service that never answers: every zone is asked at once, not one after another
sed "s|^url = $URL\$|url = $URL/hold|" "$C" >"$T/hold.conf"
cat >>"$T/hold.conf" <<CFG
[site pl]
zone = PL
[site es]
zone = ES
[site de2]
zone = DE
CFG
XDG_CACHE_HOME=$T/holdcache "$J" sites rank --config "$T/hold.conf" --live --window 12h >"$T/t" 2>"$T/err"
expect_eq "hanging service: still ranked" $? 0
expect_in "hanging service: yearly average used" "yearly average used" "$T/t"
python3 -c "import urllib.request; print(urllib.request.urlopen('$URL/_count').read().decode())" >"$T/count.json"
expect_py "the 4 zones of 5 sites asked at the same time, each once" "
import json; c = json.load(open('$T/count.json'))
assert c['max_held'] == 4, c
assert sum(v for k, v in c.items() if k.startswith('/v3/carbon-intensity/')) >= 4, c"
"$J" sites rank --config "$C" --intensity live:watttime 2>"$T/err"; expect_eq "WattTime refused for ranking" $? 2
expect_in "WattTime: why" "WattTime regions are not grid zones" "$T/err"
finish
