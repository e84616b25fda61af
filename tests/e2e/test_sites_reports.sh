# Where a run is and how it is shared: the configuration file's default site and named sites
# (zone, PUE, WUE), its mistakes named by file and line before the command starts, the zone
# guessed from the time zone and marked so in text and JSON; SCI per functional unit; the
# Hugging Face model-card block parsed back as YAML, the BoAmps report as JSON with the
# schema's required fields, and the CodeCarbon row carrying the newest result.
. "$(dirname "$0")/lib.sh"
J=$JST_BIN
R=$T/root
cp -r "$JST_FIXTURES/sysfs-2socket" "$R"
export pkg0=$R/sys/class/powercap/intel-rapl:1/energy_uj
measure() {
	"$J" run --sysfs-root "$R" --sensors rapl --scope host --interval 50ms "$@" \
		-- sh -c 'v=$(cat "$pkg0"); sleep 0.2; echo $((v + 7200000)) >"$pkg0"; sleep 0.2'
}
mkdir -p "$HOME/.config/joulestream"
CFG=$HOME/.config/joulestream/config
cat >"$CFG" <<'C'
# test configuration
[default]
site = lab
[site lab]
zone = FR
pue = 1.25
wue = 0.1
[site eu]
cloud = azure:westeurope
C

measure --json "$T/lab.json" 2>"$T/err"; expect_eq "run at the default site" $? 0
expect_py "default site: zone, PUE, WUE and their sources" "
import json; s = json.load(open('$T/lab.json'))['site']; c = json.load(open('$T/lab.json'))['carbon']
assert s['zone'] == 'FR' and s['zone_origin'] == 'config site' and c['site'] == 'lab', (s, c)
assert s['pue'] == 1.25 and s['wue_l_per_kwh'] == 0.1 and 'site lab' in s['pue_source'], s"
expect_not_in "no world average at a site" "WORLD AVERAGE" "$T/err"
measure --site eu --json "$T/eu.json" 2>/dev/null
expect_py "a cloud site" "
import json; s = json.load(open('$T/eu.json'))['site']
assert s['zone'] == 'NL' and s['cloud'] == 'azure:westeurope' and s['pue'] == 1.18, s"
measure --zone DE --json "$T/opt.json" 2>/dev/null
expect_py "--zone wins over the default site" "
import json; s = json.load(open('$T/opt.json'))['site']; assert s['zone'] == 'DE' and s['zone_origin'] == 'option' and s['pue_source'] == 'default', s"
"$J" run --site nope -- touch "$T/ran" 2>"$T/err"; expect_eq "unknown site" $? 2
expect_in "unknown site lists the sites" "unknown site 'nope' in $CFG (its sites: lab, eu)" "$T/err"
# an empty --zone, --cloud or --site is refused, never read as "none given" (the world average)
for opt in --zone --cloud --site; do
	"$J" run $opt "" --no-store -- touch "$T/ran" 2>"$T/err"; expect_eq "run $opt '' refused" $? 2
	expect_in "run $opt '': why" "$opt is empty: give a value" "$T/err"
done
"$J" when --zone "" --duration 1h --forecast "$T/none.csv" 2>"$T/err"; expect_eq "when --zone '' refused" $? 2
expect_in "when --zone '': why" "--zone is empty" "$T/err"
"$J" reprocess --zone "" 2>"$T/err"; expect_eq "reprocess --zone '' refused" $? 2
"$J" show last --zone "" 2>"$T/err"; expect_eq "show --zone '' refused" $? 2
printf '[site lab]\nzone = FR\nwue = lots\n' >"$T/bad.conf"
"$J" run --config "$T/bad.conf" -- touch "$T/ran" 2>"$T/err"; expect_eq "bad configuration" $? 2
expect_in "bad configuration: file and line" "$T/bad.conf: line 3: 'wue' must be a number" "$T/err"
"$J" run --config "$T/missing.conf" -- touch "$T/ran" 2>"$T/err"; expect_eq "missing --config" $? 2
[ ! -e "$T/ran" ]; expect_eq "command never started" $? 0
rm "$CFG"

# the time-zone guess, marked in every report; UTC gives none
if [ -f /usr/share/zoneinfo/zone.tab ]; then
	TZ=Europe/Berlin measure --json "$T/tz.json" --csv "$T/tz.csv" 2>"$T/err"
	expect_in "text: guessed" "zone DE guessed from time zone Europe/Berlin" "$T/err"
	expect_py "json: guessed" "
import json; r = json.load(open('$T/tz.json'))
assert r['site']['zone'] == 'DE' and r['site']['zone_origin'] == 'guessed from time zone', r['site']
assert r['carbon']['tz_guess'] == 'Europe/Berlin'"
	TZ=America/New_York measure --json "$T/ny.json" 2>/dev/null
	expect_py "New York: US" "import json; assert json.load(open('$T/ny.json'))['site']['zone'] == 'US'"
	TZ=Asia/Kolkata "$J" run --no-store -- true 2>"$T/err"
	expect_in "Kolkata: IN, guessed" "zone IN guessed from time zone Asia/Kolkata" "$T/err"
else
	echo "skipped the time-zone guess: no /usr/share/zoneinfo/zone.tab (package tzdata)"
fi
measure --json "$T/utc.json" 2>"$T/err"
expect_in "UTC: world average, loudly" "WORLD AVERAGE" "$T/err"

# SCI per functional unit, and the reports for sharing
measure --zone DE --pue 1.5 --functional-unit 1000 samples --project demo --json "$T/r.json" 2>"$T/err"
expect_in "SCI per one unit in the text" "per 1 of 1000 samples: (operational" "$T/err"
expect_not_in "SCI not labelled per N units" "per 1000 samples" "$T/err"
expect_py "the text's SCI is the JSON's per-unit value" "
import json, re; s = json.load(open('$T/r.json'))['sci']
line = [l for l in open('$T/err') if l.strip().startswith('SCI')][0]
v, unit = re.search(r'SCI\s+([0-9.e+-]+) (mg|g|kg|t)CO2e', line).groups()
g = float(v) * {'g': 1, 'kg': 1e3, 'mg': 1e-3, 't': 1e6}[unit]
assert abs(g - s['sci_g_per_unit']) <= 0.01 * s['sci_g_per_unit'], (line, s)"
"$J" run --help >"$T/help"
expect_in "run --help: SCI per one unit" "SCI per one UNIT" "$T/help"
expect_py "SCI = (operational + embodied) / R" "
import json; r = json.load(open('$T/r.json')); s = r['sci']; t = r['totals']
assert s['functional_units'] == 1000 and s['functional_unit'] == 'samples', s
assert s['embodied_g'] > 0 and 'server' in s['embodied_source'], s
assert abs(s['sci_g_per_unit'] - (t['co2e_g'] + s['embodied_g']) / 1000) < 1e-15, s"
"$J" show last --format model-card --training-type fine-tuning >"$T/card.yaml"; expect_eq "model card" $? 0
expect_py "model-card YAML parses, with HF's keys" "
import json, yaml
card = yaml.safe_load(open('$T/card.yaml'))['co2_eq_emissions']; r = json.load(open('$T/r.json'))
assert set(card) == {'emissions', 'source', 'training_type', 'geographical_location', 'hardware_used'}, card
assert abs(card['emissions'] - r['totals']['co2e_g']) <= 1e-5 * r['totals']['co2e_g'], card
assert card['training_type'] == 'fine-tuning' and card['geographical_location'] == 'Germany (DE)', card
assert 'joulestream' in card['source'] and 'Ember 2024' in card['source'], card"
"$J" show last --format model-card >"$T/card2.yaml"
expect_py "no training type given: none invented" "
import yaml; card = yaml.safe_load(open('$T/card2.yaml'))['co2_eq_emissions']; assert 'training_type' not in card, card"
expect_in "how to give it" "# training_type:" "$T/card2.yaml"
"$J" show last --format boamps >"$T/boamps.json"; expect_eq "boamps" $? 0
expect_py "BoAmps JSON with the schema's required fields" "
import json; b = json.load(open('$T/boamps.json')); r = json.load(open('$T/r.json'))
assert b['header']['formatVersion'] == '1.1.0' and b['header']['reportDatetime'] and b['header']['publisher']['confidentialityLevel'] == 'public'
t = b['task']; assert t['taskStage'] == 'training' and t['taskFamily'] and len(t['algorithms']) >= 1 and t['dataset'][0]['dataUsage'] == 'input'
m = b['measures'][0]; assert m['measurementMethod'] == 'joulestream' and m['cpuTrackingMode'] == 'rapl'
assert abs(m['powerConsumption'] - r['totals']['it_kwh']) < 1e-15 and abs(m['measurementDuration'] - r['duration_s']) < 1e-9
assert b['system']['os'] == 'linux' and b['software']['language']
i = b['infrastructure']; assert i['infraType'] == 'onPremise' and all('componentType' in c and 'nbComponent' in c for c in i['components'])
assert b['environment']['country'] == 'Germany' and b['environment']['powerSourceCarbonIntensity'] == r['site']['ci_g_per_kwh']
assert b['quality'] in ('high', 'medium', 'low')"
# the CodeCarbon row carries the newest result (kg)
"$J" reprocess last --zone FR >/dev/null 2>&1; expect_eq "reprocess --zone" $? 0
"$J" show last --format csv >"$T/row.csv"
expect_py "csv row: the reprocessed figure, in kg, in France" "
import csv, json
row = list(csv.DictReader(open('$T/row.csv')))[0]; r = json.load(open('$T/r.json'))
fr = r['totals']['it_kwh'] * 1.5 * 44.18
assert abs(float(row['emissions']) * 1000 - fr) < 1e-9 * fr + 1e-15, row
assert (row['country_name'], row['country_iso_code'], row['region']) == ('France', 'FRA', ''), row
# energy_consumed is CodeCarbon's: with the PUE (emissions_tracker.py: energy *= pue)
kwh = r['totals']['it_kwh'] * 1.5
assert abs(float(row['energy_consumed']) - kwh) <= 1e-8 * kwh, row
parts = sum(float(row[k]) for k in ('cpu_energy', 'gpu_energy', 'ram_energy'))
assert abs(parts - kwh) <= 1e-8 * kwh and float(row['pue']) == 1.5, row"
# the country columns hold the country (alpha-3, like CodeCarbon), region the sub-national one
measure --zone US-TX --csv "$T/tx.csv" 2>/dev/null
measure --cloud aws:us-west-2 --csv "$T/aws.csv" 2>/dev/null
measure --cloud gcp:us-east4 --csv "$T/gcp.csv" 2>/dev/null
expect_py "csv: country, alpha-3, region" "
import csv
tx, aws, gcp = (list(csv.DictReader(open('$T/' + n + '.csv')))[0] for n in ('tx', 'aws', 'gcp'))
cols = ('country_name', 'country_iso_code', 'region', 'cloud_provider', 'cloud_region', 'on_cloud')
assert tuple(tx[c] for c in cols) == ('United States', 'USA', 'texas', '', '', 'N'), tx
assert tuple(aws[c] for c in cols) == ('United States', 'USA', 'Oregon', 'aws', 'us-west-2', 'Y'), aws
assert tuple(gcp[c] for c in cols) == ('United States', 'USA', 'Virginia', 'gcp', 'us-east4', 'Y'), gcp"
finish
