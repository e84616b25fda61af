# Where to train: `joulestream sites rank` over a configuration of four sites (zone or cloud,
# PUE, WUE, capacity, accelerators, label, partition). The table and JSON rank by carbon
# (CI x PUE), water (WUE + PUE x EWIF) and a weighted, min-max normalised score; a series file
# gives each zone's mean over the window and says so; the Nomad stanzas are balanced HCL with
# one affinity per site weighted as GreenDirector does (100 for the best, linear down); the
# Kubernetes block loads as YAML with nodeAffinity's preferred terms; SLURM gets one
# --partition=a,b,c line in order of preference; filters and mistakes are said clearly.
. "$(dirname "$0")/lib.sh"
J=$JST_BIN
C=$T/sites.conf
cat >"$C" <<'CFG'
[site a]
zone = DE
pue = 1.2
wue = 0.5
partition = gpu-a
accelerators = H100, a100
capacity = 64
label = dc-a
[site b]
zone = FR
pue = 1.5
wue = 2.0
partition = gpu-b
accelerators = a100
[site c]
zone = PL
pue = 1.1
wue = 0
[site d]
cloud = aws:eu-central-1
partition = gpu-a
CFG
# constant means over 2024-03-01: DE (300 + 100) / 2 = 200, FR 40, PL 600; d keeps the yearly DE
cat >"$T/w.csv" <<'CSV'
datetime,zone,ci_g_per_kwh
2024-03-01T00:00:00Z,DE,300
2024-03-01T00:00:00Z,FR,40
2024-03-01T00:00:00Z,PL,600
2024-03-01T12:00:00Z,DE,100
2024-03-01T12:00:00Z,FR,40
2024-03-01T12:00:00Z,PL,600
CSV
W="--intensity $T/w.csv --window 24h --now 2024-03-02T00:00:00Z"

# the table, yearly data
"$J" sites rank --config "$C" >"$T/table" 2>"$T/err"; expect_eq "rank exit" $? 0
expect_in "table says how" "by carbon, gCO2e per IT kWh = CI x PUE; CI: yearly averages (bundled-2024.2)" "$T/table"
expect_in "table names sources" "a: Ember 2024 yearly average (bundled-2024.2); PUE and WUE site a ($C)" "$T/table"
expect_py "table rows in rank order" "
rows = [l.split() for l in open('$T/table') if l[:1].isdigit()]
assert [r[1] for r in rows] == ['b', 'd', 'a', 'c'] and [r[0] for r in rows] == ['1', '2', '3', '4'], rows"

# JSON with a series over a window: each figure names its source and window
"$J" sites rank --config "$C" $W --format json >"$T/c.json"; expect_eq "json exit" $? 0
expect_py "carbon ranking from the window's means" "
import json; r = json.load(open('$T/c.json')); s = {x['name']: x for x in r['sites']}
assert [x['name'] for x in r['sites']] == ['b', 'd', 'a', 'c'], [x['name'] for x in r['sites']]
assert [x['rank'] for x in r['sites']] == [1, 2, 3, 4]
assert r['by'] == 'carbon' and r['intensity'] == 'file', r
assert r['window'] == {'from': '2024-03-01T00:00:00Z', 'to': '2024-03-02T00:00:00Z', 'seconds': 86400, 'ahead': False}, r['window']
assert abs(s['a']['ci_g_per_kwh'] - 200) < 1e-9 and abs(s['a']['carbon_g_per_it_kwh'] - 240) < 1e-9, s['a']
assert s['a']['ci_window_mean'] and s['a']['window_coverage'] == 1 and s['a']['ci_source'] == 'file w.csv', s['a']
assert s['a']['data_version'].startswith('file:w.csv@sha256:'), s['a']
assert s['d']['ci_window_mean'] and abs(s['d']['carbon_g_per_it_kwh'] - 200 * 1.14) < 1e-9, s['d']
assert s['d']['pue_source'].startswith('AWS'), s['d']
for x in r['sites']:
    assert abs(x['carbon_g_per_it_kwh'] - x['ci_g_per_kwh'] * x['pue']) < 1e-7, x
    if x['ewif_l_per_kwh'] is not None:  # JSON numbers have 10 significant digits
        assert abs(x['water_l_per_it_kwh'] - (x['wue_l_per_kwh'] + x['pue'] * x['ewif_l_per_kwh'])) < 1e-8, x
# GreenDirector: best 100, worst 0, linear: round(100 - 100 (x - best) / (worst - best))
c = [x['carbon_g_per_it_kwh'] for x in r['sites']]
for x in r['sites']:
    want = int((100 - 100 * (x['carbon_g_per_it_kwh'] - c[0]) / (c[-1] - c[0])) + 0.5)
    assert x['nomad_weight'] == want, (x['name'], x['nomad_weight'], want)
assert s['a']['accelerators'] == 'h100,a100' and s['a']['capacity'] == 64 and s['a']['label'] == 'dc-a', s['a']
assert s['d']['label'] == 'eu-central-1' and s['c']['label'] == 'c' and s['c']['partition'] == ''"
# a zone missing from the file: the yearly average, said so
printf 'datetime,zone,ci_g_per_kwh\n2024-03-01T00:00:00Z,FR,40\n' >"$T/fr.csv"
"$J" sites rank --config "$C" --intensity "$T/fr.csv" --now 2024-03-01T12:00:00Z --window 24h >"$T/t2"
expect_in "missing zone: yearly, said" "no values for zone PL in the --intensity file: yearly average used" "$T/t2"
expect_in "covered zone: mean over the window" "b: file fr.csv, mean over the window" "$T/t2"
expect_in "partial coverage said" "4.2 % of the window covered" "$T/t2"
"$J" sites rank --config "$C" --intensity "$T/fr.csv" --now 2024-03-05T00:00:00Z --window 1h >"$T/t3"
expect_in "no overlap: yearly, said" "covers 2024-03-01T00:00:00Z to 2024-03-01T01:00:00Z, none of the window: yearly average used" "$T/t3"

# water, and both with weights (normalised), checked against the JSON's own figures
"$J" sites rank --config "$C" $W --by water --format json >"$T/w.json"
expect_py "water ranking" "
import json; r = json.load(open('$T/w.json')); w = [x['water_l_per_it_kwh'] for x in r['sites']]
assert r['by'] == 'water' and w == sorted(w), w"
"$J" sites rank --config "$C" $W --by both --weights 7,3 --format json >"$T/b.json"; expect_eq "both exit" $? 0
expect_py "both: 0.7 x carbon + 0.3 x water, min-max normalised" "
import json; r = json.load(open('$T/b.json')); xs = r['sites']
assert r['weights'] == {'carbon': 0.7, 'water': 0.3}, r['weights']
c = [x['carbon_g_per_it_kwh'] for x in xs]; w = [x['water_l_per_it_kwh'] for x in xs]
n = lambda v, lo, hi: (v - lo) / (hi - lo)
for x in xs:
    want = 0.7 * n(x['carbon_g_per_it_kwh'], min(c), max(c)) + 0.3 * n(x['water_l_per_it_kwh'], min(w), max(w))
    assert abs(x['score'] - want) < 1e-8, (x['name'], x['score'], want)
assert [x['score'] for x in xs] == sorted(x['score'] for x in xs)"
"$J" sites rank --config "$C" --by both >"$T/bt"; expect_in "default weights said" "0.50 x carbon + 0.50 x water, each min-max normalised" "$T/bt"

# Nomad: balanced, one affinity per site but the worst (weight 0 is refused by Nomad)
"$J" sites rank --config "$C" $W --format nomad >"$T/n.hcl"; expect_eq "nomad exit" $? 0
cat >"$T/hcl.py" <<'PY'
import re, sys
def stanzas(text):
    """A small HCL reader for what we emit: comments, blocks NAME { key = value }."""
    body = "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("#"))
    strings = r'"(?:[^"\\]|\\.)*"'
    bare = re.sub(strings, '""', body)  # braces inside strings ("${node.datacenter}") do not count
    depth = 0
    for ch in bare:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth in (0, 1), "nested or negative depth"
    assert depth == 0, "unbalanced braces"
    out = []
    for name, inner in re.findall(r"(\w+)\s*\{((?:" + strings + r"|[^{}\"])*)\}", body):
        kv = {}
        for line in inner.strip().splitlines():
            m = re.fullmatch(r'\s*(\w+)\s*=\s*("(?:[^"\\]|\\.)*"|-?\d+)\s*', line)
            assert m, "bad line %r" % line
            v = m.group(2)
            kv[m.group(1)] = v[1:-1] if v.startswith('"') else int(v)
        out.append((name, kv))
    return out
PY
expect_py "nomad stanzas parse, GreenDirector weights" "
import json, sys; sys.path.insert(0, '$T'); from hcl import stanzas
st = stanzas(open('$T/n.hcl').read()); r = json.load(open('$T/c.json'))
assert all(n == 'affinity' and set(kv) == {'attribute', 'value', 'weight'} for n, kv in st), st
assert [kv['value'] for n, kv in st] == ['b', 'd', 'a'], st
assert all(kv['attribute'] == '\${node.datacenter}' for n, kv in st)
assert [kv['weight'] for n, kv in st] == [x['nomad_weight'] for x in r['sites'][:3]] and st[0][1]['weight'] == 100, st
assert all(-100 <= kv['weight'] <= 100 and kv['weight'] != 0 for n, kv in st)"
expect_in "worst site: a comment" "# c: weight 0, no preference" "$T/n.hcl"
"$J" sites rank --config "$C" $W --format nomad --nomad-attribute meta.site --nomad-min -100 >"$T/n2.hcl"
expect_py "meta attribute, weights down to -100" "
import sys; sys.path.insert(0, '$T'); from hcl import stanzas
st = stanzas(open('$T/n2.hcl').read())
assert len(st) == 4 and all(kv['attribute'] == '\${meta.site}' for n, kv in st), st
assert st[0][1]['weight'] == 100 and st[-1][1]['weight'] == -100 and st[-1][1]['value'] == 'c', st"

# Kubernetes: YAML with the preferred node affinity terms
"$J" sites rank --config "$C" $W --format k8s >"$T/k.yaml"; expect_eq "k8s exit" $? 0
expect_py "k8s block loads as YAML" "
import yaml
terms = yaml.safe_load(open('$T/k.yaml'))['affinity']['nodeAffinity']['preferredDuringSchedulingIgnoredDuringExecution']
assert [t['weight'] for t in terms][0] == 100 and terms[-1]['weight'] == 1, terms
assert all(isinstance(t['weight'], int) and 1 <= t['weight'] <= 100 for t in terms)
ex = [t['preference']['matchExpressions'] for t in terms]
assert all(len(e) == 1 and e[0]['key'] == 'topology.kubernetes.io/region' and e[0]['operator'] == 'In' for e in ex)
assert [e[0]['values'] for e in ex] == [['b'], ['eu-central-1'], ['dc-a'], ['c']], ex
w = [t['weight'] for t in terms]; assert w == sorted(w, reverse=True), w"
"$J" sites rank --config "$C" --format k8s --label-key 'bad key' 2>"$T/err"; expect_eq "bad label key" $? 2

# SLURM: one line, partitions in order of preference, each once
"$J" sites rank --config "$C" $W --format slurm >"$T/s" 2>"$T/err"; expect_eq "slurm exit" $? 0
expect_eq "slurm line" "$(cat "$T/s")" "--partition=gpu-b,gpu-a"
expect_in "sites without a partition said" "1 site without a partition left out" "$T/err"
expect_py "slurm syntax" "
import re; lines = open('$T/s').read().splitlines()
assert len(lines) == 1 and re.fullmatch(r'--partition=[A-Za-z0-9._-]+(,[A-Za-z0-9._-]+)*', lines[0]), lines"
"$J" sites rank --config "$C" --site c --format slurm 2>"$T/err"; expect_eq "no partition at all" $? 1
expect_in "no partition: what to do" "add 'partition = NAME'" "$T/err"

# filters and --top
"$J" sites rank --config "$C" --accelerator h100 --format json >"$T/f.json"
expect_py "accelerator filter, the others said" "
import json; r = json.load(open('$T/f.json'))
assert [x['name'] for x in r['sites']] == ['a'], r['sites']
why = {x['name']: x['why'] for x in r['excluded']}
assert why['b'] == 'no h100 in its accelerators (a100)' and 'none listed' in why['c'], why"
"$J" sites rank --config "$C" --min-capacity 8 >"$T/t"; expect_in "capacity filter" "left out: b (capacity not given)" "$T/t"
"$J" sites rank --config "$C" $W --top 2 --format slurm >"$T/s2"; expect_eq "top 2" "$(cat "$T/s2")" "--partition=gpu-b,gpu-a"

# ties keep the configuration's order
printf '[site y]\nzone = DE\npue = 1.2\n[site x]\nzone = DE\npue = 1.2\n' >"$T/tie.conf"
"$J" sites rank --config "$T/tie.conf" --format json >"$T/tie.json"
expect_py "equal scores: configuration order" "
import json; r = json.load(open('$T/tie.json')); assert [x['name'] for x in r['sites']] == ['y', 'x']"

# mistakes
"$J" sites rank --config "$C" --by speed 2>"$T/err"; expect_eq "bad --by" $? 2
expect_in "bad --by said" "bad --by 'speed': carbon, water or both" "$T/err"
"$J" sites rank --config "$C" --by both --weights 0,0 2>"$T/err"; expect_eq "bad weights" $? 2
"$J" sites rank --config "$C" --by water --weights 0.7,0.3 2>"$T/err"; expect_eq "--weights with --by water refused" $? 2
expect_in "--weights: why" "--weights weighs carbon against water and needs --by both (the ranking is by water alone)" "$T/err"
"$J" sites rank --config "$C" --weights 0.7,0.3 2>"$T/err"; expect_eq "--weights with the default --by carbon refused" $? 2
printf '[default]\n' >"$T/empty.conf"
"$J" sites rank --config "$T/empty.conf" 2>"$T/err"; expect_eq "no sites" $? 1
expect_in "no sites said" "the configuration has no [site NAME] sections" "$T/err"
printf '[site z]\nzone = QQ\n' >"$T/bad.conf"
"$J" sites rank --config "$T/bad.conf" 2>"$T/err"; expect_eq "unknown zone" $? 2
expect_in "unknown zone named" "site z: unknown zone 'QQ'" "$T/err"
printf '[site z]\nzone = DE\nlabel = _x\n' >"$T/bad2.conf"
"$J" sites rank --config "$T/bad2.conf" 2>"$T/err"; expect_eq "bad label" $? 2
expect_in "bad label: file and line" "bad2.conf: line 3: bad label '_x'" "$T/err"
"$J" sites rank --config "$C" --site nope 2>"$T/err"; expect_eq "unknown --site" $? 2
"$J" sites 2>/dev/null; expect_eq "sites without rank" $? 2
finish
