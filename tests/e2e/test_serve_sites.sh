# serve --config FILE: GET /api/v1/zones lists the configuration's [site NAME] sections with
# the figures of `joulestream sites rank` (the zone's yearly intensity, PUE and WUE from the
# site or else its cloud region, the zone's EWIF); a site with an unknown zone is listed with
# its error; JOULESTREAM_CONFIG is the same lookup; a missing --config file stops serve.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
J=$JST_BIN
DB=$T/serve.db
RD=$("$J" token create --role reader --all-users --db "$DB" 2>/dev/null)
cat >"$T/sites.conf" <<'CONF'
[site lab]
zone = DE
pue = 1.25
wue = 0.4
[site cloudy]
cloud = aws:eu-central-1
[site typo]
zone = XX
CONF

start_serve "$DB" --config "$T/sites.conf"
http GET /api/v1/zones "$RD" >"$T/zones.out"
stop_serve
"$J" sites rank --config "$T/sites.conf" --site lab --site cloudy --format json >"$T/rank.json" \
	|| ko "sites rank failed"
python3 - "$T/zones.out" "$T/rank.json" "$T/sites.conf" <<'PY' || ko "GET /api/v1/zones with --config"
import json, sys
status, body = open(sys.argv[1]).read().split(' ', 1)
assert status == '200', (status, body[:300])
j = json.loads(body)
rank = json.load(open(sys.argv[2]))
assert j['config'] == sys.argv[3], j['config']
sites = {s['name']: s for s in j['sites']}
assert list(sites) == ['lab', 'cloudy', 'typo'], list(sites)
lab, cloudy = sites['lab'], sites['cloudy']
assert lab['zone'] == 'DE' and lab['pue'] == 1.25 and lab['wue_l_per_kwh'] == 0.4, lab
assert 'site lab' in lab['pue_source'], lab
de = next(z for z in j['zones'] if z['code'] == 'DE')
assert lab['ci_g_per_kwh'] == de['ci_g_per_kwh'] and lab['year'] == de['year'], (lab, de)
assert lab['ewif_l_per_kwh'] == de['ewif_l_per_kwh'], (lab, de)
aws = next(c for c in j['cloud'] if c['provider'] == 'aws' and c['region'] == 'eu-central-1')
assert cloudy['cloud'] == 'aws:eu-central-1' and cloudy['zone'] == aws['zone'], cloudy
assert cloudy['pue'] == aws['pue'], (cloudy, aws)
# the same figures as `joulestream sites rank`
assert len(rank['sites']) == 2, rank
for r in rank['sites']:
    s = sites[r['name']]
    for k in ('zone', 'cloud', 'pue', 'pue_source', 'wue_l_per_kwh', 'ci_g_per_kwh', 'ci_source',
              'ewif_l_per_kwh'):
        same = abs(s[k] - r[k]) < 1e-6 if isinstance(r[k], float) else s[k] == r[k]
        assert same, (k, s, r)
assert 'XX' in sites['typo']['error'] and 'pue' not in sites['typo'], sites['typo']
PY
ok

# the default lookup: $JOULESTREAM_CONFIG
JOULESTREAM_CONFIG=$T/sites.conf start_serve "$DB"
http GET /api/v1/zones "$RD" >"$T/zones.out"
stop_serve
expect_py "JOULESTREAM_CONFIG is read" "import json; j = json.loads(open('$T/zones.out').read().split(' ', 1)[1])
assert [s['name'] for s in j['sites']] == ['lab', 'cloudy', 'typo'], j['sites']"

# without a configuration (none in the test's HOME): no sites
start_serve "$DB"
http GET /api/v1/zones "$RD" >"$T/zones.out"
stop_serve
expect_py "no sites without a configuration" "import json; j = json.loads(open('$T/zones.out').read().split(' ', 1)[1])
assert j['sites'] == [] and j['config'] == '' and j['zones'], j['sites']"

# a missing --config file is an error that names it
"$J" serve --listen 127.0.0.1:0 --db "$DB" --config "$T/nope.conf" >"$T/o" 2>"$T/e" </dev/null
expect_eq "serve with a missing --config file" $? 2
expect_in "the error names the file" "cannot read the configuration $T/nope.conf" "$T/e"
finish
