# Config and data digests per run, and `joulestream diff`: every run records in run_start's
# record the SHA-256 of its configuration (the sites file, the site it resolved to, the sensor
# selection and zone mapping) and of the bundled data tables it used; `show` prints them, and
# `diff` names what changed between two runs: a site's PUE in the file, a site the run did not
# use (the file's digest only), the sensor selection. Table digests are the files' own SHA-256.
# A run copied to another store through --sink is the same run there: diff finds no field
# that differs.
. "$(dirname "$0")/lib.sh"
J=$JST_BIN
R=$T/root
cp -r "$JST_FIXTURES/sysfs-2socket" "$R"
export pkg0=$R/sys/class/powercap/intel-rapl:1/energy_uj
DB=$T/j.db
# runs the fixture with 5 J on package-0; prints the run's id
measure() {
	"$J" run --db "$DB" --sysfs-root "$R" --interval 50ms --json "$T/last.json" --quiet "$@" \
		-- sh -c 'v=$(cat "$pkg0"); sleep 0.2; echo $((v + 5000000)) >"$pkg0"; sleep 0.2' >/dev/null
	python3 -c "import json; print(json.load(open('$T/last.json'))['id'])"
}
printf '[site lab]\nzone = DE\npue = 1.2\n' >"$T/a.cfg"
printf '[site lab]\nzone = DE\npue = 1.4\n' >"$T/b.cfg"
printf '[site lab]\nzone = DE\npue = 1.2\n[site other]\nzone = FR\n' >"$T/c.cfg"

A=$(measure --config "$T/a.cfg" --site lab --sensors rapl)
A2=$(measure --config "$T/a.cfg" --site lab --sensors rapl)
B=$(measure --config "$T/b.cfg" --site lab --sensors rapl)
C=$(measure --config "$T/c.cfg" --site lab --sensors rapl)
S=$(measure --config "$T/a.cfg" --site lab --sensors estimate)
"$J" show "$A" --db "$DB" --format json >"$T/a.json"
expect_py "the record: config digest in parts, the tables used with their files' SHA-256" "
import json, hashlib, os
p=json.load(open('$T/a.json'))['provenance']
assert len(p['config_sha256'])==64 and len(p['data_sha256'])==64, p
assert [k.split('=')[0] for k in p['config_parts'].split()]==['sites', 'site', 'sensors'], p
tables=dict(kv.split('=') for kv in p['data_tables'].split())
assert sorted(tables)==['embodied', 'generation_mix', 'grid_intensity', 'water_factors'], tables
for name, short in tables.items():
    f=os.path.join('$JST_SOURCE_DIR', 'data', name + '.csv')
    assert hashlib.sha256(open(f, 'rb').read()).hexdigest()[:12]==short, name"
"$J" show "$A" --db "$DB" >"$T/a.txt"
expect_in "text names the configuration digest" "configuration" "$T/a.txt"
expect_in "text lists the data tables" "grid_intensity=" "$T/a.txt"

# the same configuration: the same digests
"$J" diff "$A" "$A2" --db "$DB" --format json >"$T/same.json"
expect_py "same configuration: no digest differs" "
import json
d=[r['field'] for r in json.load(open('$T/same.json'))['rows'] if r['differ']]
assert not [f for f in d if f.startswith(('config', 'data'))], d"

# another PUE for the site used: the file's part and the site's part differ, and the figures
"$J" diff "$A" "$B" --db "$DB" >"$T/ab.txt"
expect_eq "diff exit when fields differ" $? 1
expect_in "diff: the PUE" "! pue" "$T/ab.txt"
expect_in "diff: the configuration digest" "! config_sha256" "$T/ab.txt"
expect_in "diff: the sites file" "! config.sites" "$T/ab.txt"
expect_in "diff: the site's resolution" "! config.site " "$T/ab.txt"
expect_not_in "diff: the sensors are the same" "! config.sensors" "$T/ab.txt"
expect_not_in "diff: the data is the same" "! data" "$T/ab.txt"

# a site the run did not use was added: only the file's digest differs
"$J" diff "$A" "$C" --db "$DB" --format json >"$T/ac.json"
expect_py "diff: another site in the file" "
import json
d=[r['field'] for r in json.load(open('$T/ac.json'))['rows'] if r['differ']]
assert 'config.sites' in d and 'config_sha256' in d, d
assert 'config.site' not in d and 'config.sensors' not in d and 'pue' not in d, d"

# the sensor selection changed (the estimate backend instead of RAPL): the sensors part, the
# zones, and the CPU TDP table that the estimate's zones use
"$J" diff "$A" "$S" --db "$DB" --format json >"$T/as.json"
expect_py "diff: the sensor selection and the TDP table" "
import json
rows={r['field']: r for r in json.load(open('$T/as.json'))['rows']}
d=[f for f, r in rows.items() if r['differ']]
assert 'config.sensors' in d and 'sensor_zones' in d, d
assert 'config.sites' not in d and 'config.site' not in d, d
assert 'data.cpu_tdp' in d and rows['data.cpu_tdp']['a']=='(not used)', rows.get('data.cpu_tdp')"

# every table: a cloud region (its PUE and WUE), a US zone, an estimated zone (the TDP table)
"$J" run --db "$DB" --cloud aws:us-east-1 --sensors estimate --json "$T/all.json" --quiet -- true
expect_py "a cloud run in the US on the estimate: all seven tables, each its file's digest" "
import json, hashlib, os
p=json.load(open('$T/all.json'))['provenance']
tables=dict(kv.split('=') for kv in p['data_tables'].split())
assert sorted(tables)==['cloud_regions', 'cpu_tdp', 'embodied', 'generation_mix', 'grid_intensity',
                        'us_states', 'water_factors'], tables
for name, short in tables.items():
    f=os.path.join('$JST_SOURCE_DIR', 'data', name + '.csv')
    assert hashlib.sha256(open(f, 'rb').read()).hexdigest()[:12]==short, name
text=''.join('%s %s\\n' % (n, hashlib.sha256(open(os.path.join('$JST_SOURCE_DIR', 'data', n + '.csv'), 'rb').read()).hexdigest()) for n in sorted(tables))
assert hashlib.sha256(text.encode()).hexdigest()==p['data_sha256'], 'data_sha256 is not over the tables used'"

# the digests travel with the run's events: its copy in another store is the same run
"$J" run --db "$DB" --sysfs-root "$R" --sensors rapl --interval 50ms --config "$T/a.cfg" --site lab \
	--json "$T/copy.json" --sink "sqlite:$T/copy.db" --quiet \
	-- sh -c 'v=$(cat "$pkg0"); sleep 0.2; echo $((v + 5000000)) >"$pkg0"; sleep 0.2'
K=$(python3 -c "import json; print(json.load(open('$T/copy.json'))['id'])")
"$J" diff "$K" "$K" --db "$DB" --db-b "$T/copy.db" --all >"$T/copy.txt"
expect_eq "diff: a run and its copy are the same" $? 0
expect_in "diff --all lists the digests" "  config_sha256" "$T/copy.txt"
"$J" diff "$A" nosuchrun --db "$DB" 2>"$T/err"
expect_eq "diff: an unknown run is trouble" $? 2
finish
