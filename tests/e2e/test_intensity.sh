# Time-varying intensity from files, end to end on a RAPL fixture whose counters the command
# advances (exact energy): a constant series gives E × PUE × CI exactly; a series that changes
# every second gives the same figure live and when reprocessed from the stored samples; another
# file or the bundled data add results next to their data versions, and `show` says which;
# a file with one bad line stops the run before the command starts, naming file and line.
. "$(dirname "$0")/lib.sh"
J=$JST_BIN
R=$T/root
cp -r "$JST_FIXTURES/sysfs-2socket" "$R"
export pkg0=$R/sys/class/powercap/intel-rapl:1/energy_uj
# runs the fixture with 5 J on package-0 (the other zones stay still)
measure() {
	"$J" run --sysfs-root "$R" --sensors rapl --scope host --interval 50ms --pue 1.5 --wue 0 "$@" \
		-- sh -c 'v=$(cat "$pkg0"); sleep 0.3; echo $((v + 5000000)) >"$pkg0"; sleep 0.4'
}
# CSV series around now: NAME ZONE STEP_S COUNT VALUE_EXPR(i)
series() {
	python3 - "$@" <<'PY'
import sys, time
from datetime import datetime, timezone
name, zone, step, count, expr = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
t0 = int(time.time()) // step * step - step * (count // 2)
with open(name, "w") as f:
    f.write("datetime,zone,ci_g_per_kwh\n")
    for i in range(count):
        t = datetime.fromtimestamp(t0 + i * step, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        f.write(f"{t},{zone},{eval(expr)}\n")
PY
}

# a constant series: E × PUE × CI, exactly
series "$T/flat.csv" DE 3600 6 250
measure --zone DE --intensity "$T/flat.csv" --json "$T/flat.json" 2>"$T/err"
expect_eq "run with a series" $? 0
expect_py "flat series: 5 J x 1.5 x 250 g/kWh" "
import json; r = json.load(open('$T/flat.json')); t = r['totals']; c = r['carbon']
assert abs(t['energy_j'] - 5) < 1e-9, t
assert abs(t['co2e_g'] - 5 / 3.6e6 * 1.5 * 250) < 1e-12, t
assert c['intensity'] == 'series' and c['data_version'].startswith('file:flat.csv@sha256:'), c
assert c['outside_series_kwh'] == 0 and c['ci_avg_g_per_kwh'] == 250, c
assert 'file flat.csv, 6 values' in c['series'], c"
expect_in "text names the series" "DE 250 gCO2e/kWh: file flat.csv" "$T/err"

# no energy at all: the yearly figure shown is said to be the yearly average, not the file's
"$J" run --sysfs-root "$R" --sensors rapl --scope host --interval 50ms --zone DE \
	--intensity "$T/flat.csv" --no-store -- sleep 0.2 2>"$T/err"
expect_eq "zero-energy run" $? 0
expect_in "zero energy: yearly average named" "DE 342 gCO2e/kWh, Ember 2024 yearly average (no energy measured, so no value of file flat.csv" "$T/err"
expect_not_in "zero energy: no yearly figure under the file's name" "342 gCO2e/kWh: file flat.csv" "$T/err"

# a series that changes every second: the live figure equals the replay of the samples
series "$T/steps.csv" DE 1 7200 '100 + (i % 7) * 50'
measure --zone DE --intensity "$T/steps.csv" --json "$T/live.json" 2>/dev/null
id=$(python3 -c "import json; print(json.load(open('$T/live.json'))['id'])")
"$J" reprocess "$id" --intensity "$T/steps.csv" --json >"$T/rep.json" 2>"$T/err"
expect_eq "reprocess exit" $? 0
expect_py "reprocessing with the same series gives the live figure" "
import json; live = json.load(open('$T/live.json')); rep = json.load(open('$T/rep.json'))[0]
a, b = live['totals']['co2e_g'], rep['co2e_g']
assert rep['data_version'] == live['carbon']['data_version'], (rep, live['carbon'])
assert abs(a - b) <= 1e-12 * a, (a, b)
assert live['carbon']['ci_min_g_per_kwh'] >= 100 and live['carbon']['ci_max_g_per_kwh'] <= 400"

# another file and the bundled data: new results, each with its version; show picks
series "$T/low.csv" DE 3600 6 100
"$J" reprocess "$id" --intensity "$T/low.csv" >"$T/out" 2>&1; expect_eq "reprocess low" $? 0
expect_in "reprocess line names the version" "file:low.csv@sha256:" "$T/out"
"$J" show "$id" --format json >"$T/show.json"
expect_py "show: newest result, all versions kept" "
import json; r = json.load(open('$T/show.json')); res = r['results']
vs = [x['data_version'].split('@')[0] for x in res]
assert vs == ['file:low.csv', 'file:steps.csv'], vs
assert [x['kind'] for x in res] == ['reprocess', 'reprocess'], res
assert abs(r['totals']['co2e_g'] - 5 / 3.6e6 * 1.5 * 100) < 1e-12 and r['carbon']['data_version'].startswith('file:low.csv')"
"$J" reprocess "$id" --data bundled-2024.2 >/dev/null 2>&1; expect_eq "reprocess bundled" $? 0
"$J" show "$id" >"$T/show.txt"
expect_in "text: data version shown" "data version                        bundled-2024.2" "$T/show.txt"
expect_in "text: results listed" "results kept" "$T/show.txt"
"$J" show "$id" --data file:steps --format json >"$T/steps-show.json"
expect_py "show --data picks a version" "
import json; a = json.load(open('$T/steps-show.json')); b = json.load(open('$T/live.json'))
assert a['carbon']['data_version'] == b['carbon']['data_version'] and abs(a['totals']['co2e_g'] - b['totals']['co2e_g']) < 1e-15"
"$J" show "$id" --data file:nope 2>"$T/err"; expect_eq "unknown version" $? 1
expect_in "unknown version lists them" "no result of run $id for data version 'file:nope'" "$T/err"
"$J" reprocess "$id" --data bundled-1999 2>"$T/err"; expect_eq "unknown bundled version" $? 2

# a zone correction stays: a later reprocess without --zone keeps FR (and the unit given)
"$J" reprocess "$id" --zone FR >/dev/null 2>&1; expect_eq "reprocess --zone FR" $? 0
"$J" reprocess "$id" --functional-unit 500 images --json >"$T/fu.json" 2>/dev/null
expect_eq "reprocess --functional-unit" $? 0
"$J" reprocess "$id" --data bundled --json >"$T/fu2.json" 2>/dev/null
expect_py "zone and unit kept by later reprocessing" "
import json; a = json.load(open('$T/fu.json'))[0]; b = json.load(open('$T/fu2.json'))[0]
assert a['zone'] == 'FR' and b['zone'] == 'FR', (a, b)
assert abs(a['co2e_g'] - b['co2e_g']) <= 1e-12 * a['co2e_g'] and abs(a['sci_g'] - b['sci_g']) <= 1e-12 * a['sci_g'], (a, b)"
"$J" show "$id" --format json >"$T/fu-show.json"
expect_py "show: FR, per 1 of 500 images" "
import json; r = json.load(open('$T/fu-show.json')); s = r['sci']; t = r['totals']
assert r['site']['zone'] == 'FR' and r['carbon']['data_version'] == 'bundled-2024.2', r['site']
assert s['functional_units'] == 500 and s['functional_unit'] == 'images', s
assert abs(t['co2e_g'] - t['it_kwh'] * 1.5 * r['site']['ci_g_per_kwh']) <= 1e-9 * t['co2e_g'], t
assert abs(s['sci_g_per_unit'] - (t['co2e_g'] + s['embodied_g']) / 500) <= 1e-9 * s['sci_g_per_unit'], s"

# one data version for two zones: --data alone is ambiguous, --zone picks
"$J" show "$id" --data bundled-2024.2 2>"$T/err" >/dev/null; expect_eq "one version, two zones: refused" $? 1
expect_in "ambiguity said" "more than one result of run $id for data version 'bundled-2024.2'" "$T/err"
expect_in "both results listed" "bundled-2024.2 (DE)" "$T/err"
"$J" show "$id" --data bundled-2024.2 --zone DE --format json >"$T/de.json"; expect_eq "--zone DE" $? 0
"$J" show "$id" --zone fr --format json >"$T/fr.json"; expect_eq "--zone fr" $? 0
expect_py "each zone's result reachable" "
import json; de = json.load(open('$T/de.json')); fr = json.load(open('$T/fr.json'))
assert de['site']['zone'] == 'DE' and fr['site']['zone'] == 'FR', (de['site'], fr['site'])
for r in (de, fr):
    t = r['totals']; assert abs(t['co2e_g'] - t['it_kwh'] * 1.5 * r['site']['ci_g_per_kwh']) <= 1e-9 * t['co2e_g'], t
assert de['totals']['co2e_g'] > fr['totals']['co2e_g']"
"$J" show "$id" --zone DE --format json >"$T/de-newest.json"; expect_eq "--zone alone: DE has 3 versions" $? 0
expect_py "--zone alone: that zone's newest result" "
import json; r = json.load(open('$T/de-newest.json'))
assert r['site']['zone'] == 'DE' and r['carbon']['data_version'] == 'bundled-2024.2', r['carbon']"
"$J" show "$id" --zone PL 2>"$T/err" >/dev/null; expect_eq "--zone without a result" $? 1
expect_in "no result said" "no result of run $id for zone PL" "$T/err"

# a bad line: nothing runs, the file and the line are named
printf 'datetime,zone,ci_g_per_kwh\n2024-03-01T00:00:00Z,DE,100\n2024-03-01 01:00,DE,200\n' >"$T/bad.csv"
"$J" run --zone DE --intensity "$T/bad.csv" -- touch "$T/ran" 2>"$T/err"
expect_eq "bad file exit" $? 2
[ ! -e "$T/ran" ]; expect_eq "command not started on a bad file" $? 0
expect_in "file and line named" "bad.csv: line 3: bad datetime '2024-03-01 01:00'" "$T/err"
"$J" reprocess "$id" --intensity "$T/bad.csv" 2>"$T/err"; expect_eq "reprocess bad file" $? 2
expect_in "reprocess names the line" "bad.csv: line 3" "$T/err"

# zones: another zone's file is refused; without a zone the file's zone is taken
series "$T/fr.csv" FR 3600 6 40
"$J" run --zone DE --intensity "$T/fr.csv" -- true 2>"$T/err"; expect_eq "wrong zone" $? 2
expect_in "wrong zone message" "has no values for zone DE (its zones: FR)" "$T/err"
measure --intensity "$T/fr.csv" --json "$T/fr.json" 2>"$T/err"
expect_py "the series' zone, said so" "
import json; r = json.load(open('$T/fr.json'))
assert r['site']['zone'] == 'FR' and r['site']['zone_origin'] == 'intensity series', r['site']
assert abs(r['totals']['co2e_g'] - 5 / 3.6e6 * 1.5 * 40) < 1e-12"
expect_not_in "no world average with a zoned series" "WORLD AVERAGE" "$T/err"

# a series that does not cover the run: the yearly average, and the report says how much
printf 'datetime,zone,ci_g_per_kwh\n2020-01-01T00:00:00Z,DE,100\n' >"$T/old.csv"
measure --zone DE --intensity "$T/old.csv" --json "$T/old.json" 2>"$T/err"
expect_in "outside energy reported" "100.0 % of the energy fell outside the series" "$T/err"
expect_py "outside: yearly average, both versions named" "
import json; r = json.load(open('$T/old.json')); c = r['carbon']; t = r['totals']
assert abs(c['outside_series_kwh'] - t['it_kwh']) < 1e-15 and c['data_version'].endswith('+bundled-2024.2'), c
assert abs(t['co2e_g'] - t['it_kwh'] * 1.5 * r['site']['ci_g_per_kwh']) < 1e-12"

# joulestream intensity
"$J" intensity DE --at 2024-03-01T12:00:00Z >"$T/i"; expect_eq "intensity exit" $? 0
expect_in "yearly figure" "342.1 gCO2e/kWh" "$T/i"
expect_in "source named" "Ember 2024 yearly average" "$T/i"
printf 'datetime,zone,ci_g_per_kwh\n2024-03-01T00:00:00Z,DE,120\n2024-03-01T01:00:00+00:00,DE,180\n' >"$T/two.csv"
"$J" intensity de --at 2024-03-01T01:30:00+01:00 --intensity "$T/two.csv" --json >"$T/i.json"
expect_py "intensity from a file at a time" "
import json; a = json.load(open('$T/i.json'))
assert a['ci_g_per_kwh'] == 120 and a['in_series'] and a['valid_to'] == '2024-03-01T01:00:00Z', a"
"$J" intensity DE --at 2030-01-01T00:00:00Z --intensity "$T/two.csv" >"$T/i" 2>"$T/err"
expect_in "outside the file: said so" "outside file two.csv" "$T/err"
expect_in "outside the file: yearly" "342.1 gCO2e/kWh" "$T/i"
"$J" intensity DE --at 2024-03-01T00:00:00 2>"$T/err"; expect_eq "naive time refused" $? 2
expect_in "naive time message" "no time zone offset" "$T/err"
"$J" intensity XX 2>/dev/null; expect_eq "unknown zone" $? 1
finish
