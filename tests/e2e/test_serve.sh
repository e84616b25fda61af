# `joulestream serve` on loopback: a run streamed live with `run --sink http` is stored with
# totals equal to the run's own record; bad input (malformed JSON, wrong types, NaN, negative
# energy, invalid UTF-8, unknown v, huge bodies, too many events, bad tokens) is answered with
# the right 4xx and nothing of the batch is stored, and the server keeps serving; a re-POST is
# idempotent; readers see only their user's runs; replay rebuilds exactly the live aggregates.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
J=$JST_BIN
DB=$T/serve.db
AGENT=$("$J" token create --role agent --db "$DB" 2>/dev/null)
ADMIN=$("$J" token create --role admin --db "$DB" 2>/dev/null)
ME=$(id -un)
MINE=$("$J" token create --role reader --user "$ME" --db "$DB" 2>/dev/null)
OTHER=$("$J" token create --role reader --user nobody-else --db "$DB" 2>/dev/null)
expect_eq "token format" "${AGENT:0:4}${#AGENT}" "jst_47"
start_serve "$DB" --body-max 65536 --batch-max 50

# a run streamed live: the server's totals are the run's own
JOULESTREAM_TOKEN=$AGENT "$J" run --db "$T/local.db" --zone FR --model mlp --interval 50ms --json "$T/r.json" \
	--sink "$URL" --spool "$T/spool" --quiet -- "$BURN" 0.4
expect_eq "run exit" $? 0
RID=$(python3 -c "import json; print(json.load(open('$T/r.json'))['id'])")
out=$(http GET "/api/v1/runs/$RID" "$ADMIN")
expect_eq "run found" "${out%% *}" 200
expect_py "server totals equal the run's record" "
import json
r=json.load(open('$T/r.json')); s=json.loads('''${out#* }''')['run']
assert s['status']=='finished' and s['model']=='mlp' and s['zone']=='FR', s
want=r['totals']['energy_j']; got=s['energy_j']
assert abs(got-want) <= 1e-9*max(1,want), (got, want)
assert s['samples']==sum(z['samples'] for z in r['zones']), (s['samples'], r['zones'])
assert s['co2e_g']>0 and s['water_l']>0 and s['health']==[], s"
expect_eq "spool emptied after delivery" "$(find "$T/spool" -name '*.ndjson' -size +0 | wc -l)" 0

# --sink file: writes NDJSON that the server takes as it is, ids unique
"$J" run --no-store --zone DE --interval 50ms --json "$T/f.json" --sink "file:$T/ev.ndjson" --quiet -- sleep 0.3
expect_py "file sink: run_start, samples, run_end, unique ids" "
import json
ev=[json.loads(l) for l in open('$T/ev.ndjson')]
assert ev[0]['type']=='run_start' and ev[-1]['type']=='run_end', (ev[0]['type'], ev[-1]['type'])
assert len({e['id'] for e in ev})==len(ev)
assert all(e['type']=='sample' for e in ev[1:-1]) and len(ev)>3"
n=$(wc -l <"$T/ev.ndjson")
expect_eq "file sink batch accepted whole" "$(http POST /api/v1/events "$AGENT" "$T/ev.ndjson")" "200 {\"accepted\":$n,\"duplicates\":0}"
FID=$(python3 -c "import json; print(json.load(open('$T/f.json'))['id'])")
out=$(http GET "/api/v1/runs/$FID" "$ADMIN")
expect_py "file-sink run totals equal the run's record" "
import json
r=json.load(open('$T/f.json')); s=json.loads('''${out#* }''')['run']
assert abs(s['energy_j']-r['totals']['energy_j']) <= 1e-9*max(1,r['totals']['energy_j']), (s, r['totals'])"

# bad input: each answered with a reason, nothing stored, still serving
good='{"v":1,"id":"B-1","type":"run_start","ts_ns":1700000000000000000,"run":"B","host":"h","command":[],"interval_s":1}'
bad_cases=(
	'400|line 2|{"v":1,"id":"B-2","type":"sample"'
	'400|must be a number|{"v":1,"id":"B-2","type":"sample","ts_ns":1,"run":"B","host":"h","zone":"z","zone_index":0,"kind":"gpu","source":"s","dt_s":1,"energy_j":"7","share":1}'
	'400|malformed JSON|{"v":1,"id":"B-2","type":"sample","ts_ns":1,"run":"B","host":"h","zone":"z","zone_index":0,"kind":"gpu","source":"s","dt_s":1,"energy_j":NaN,"share":1}'
	'400|is -5, outside|{"v":1,"id":"B-2","type":"sample","ts_ns":1,"run":"B","host":"h","zone":"z","zone_index":0,"kind":"gpu","source":"s","dt_s":1,"energy_j":-5,"share":1}'
	'422|unsupported schema version v=2|{"v":2,"id":"B-2","type":"sample"}'
)
for c in "${bad_cases[@]}"; do
	IFS='|' read -r code why line <<<"$c"
	printf '%s\n%s\n' "$good" "$line" >"$T/bad.ndjson"
	out=$(http POST /api/v1/events "$AGENT" "$T/bad.ndjson")
	expect_eq "bad batch code ($why)" "${out%% *}" "$code"
	case "$out" in *"$why"*'"line":2'*) ok ;; *) ko "reason '$why' at line 2 not in: $out" ;; esac
done
printf '%s\n{"v":1,"id":"B-2","type":"phase","ts_ns":1,"run":"B","host":"h\xff","name":"x","edge":"begin"}\n' "$good" >"$T/utf8.ndjson"
out=$(http POST /api/v1/events "$AGENT" "$T/utf8.ndjson")
expect_eq "invalid UTF-8 refused" "${out%% *}" 400
expect_in "invalid UTF-8 reason" "invalid UTF-8" <(echo "$out")
head -c 70000 /dev/zero | tr '\0' ' ' >"$T/huge"
out=$(http POST /api/v1/events "$AGENT" "$T/huge")
expect_eq "huge body refused" "${out%% *}" 413
for i in $(seq 51); do echo "{\"v\":1,\"id\":\"M-$i\",\"type\":\"phase\",\"ts_ns\":1,\"run\":\"M\",\"host\":\"h\",\"name\":\"x\",\"edge\":\"begin\"}"; done >"$T/many.ndjson"
out=$(http POST /api/v1/events "$AGENT" "$T/many.ndjson")
expect_eq "too many events refused" "${out%% *}" 413
printf '%s\n' "$good" >"$T/good.ndjson"
expect_eq "no token" "$(http POST /api/v1/events "" "$T/good.ndjson" | cut -d' ' -f1)" 401
expect_eq "unknown token" "$(http POST /api/v1/events "jst_notatoken" "$T/good.ndjson" | cut -d' ' -f1)" 401
expect_eq "reader cannot send" "$(http POST /api/v1/events "$MINE" "$T/good.ndjson" | cut -d' ' -f1)" 403
expect_eq "nothing of rejected batches stored" "$(http GET /api/v1/runs/B "$ADMIN" | cut -d' ' -f1)" 404
expect_eq "nothing of the oversized batch stored" "$(http GET /api/v1/runs/M "$ADMIN" | cut -d' ' -f1)" 404
expect_eq "still serving" "$(http GET /healthz "" | cut -d' ' -f1)" 200

# idempotent: the same batch twice is stored once
sed "s/\"id\":\"B-1\"/\"id\":\"C-1\"/; s/\"run\":\"B\"/\"run\":\"C\"/" "$T/good.ndjson" >"$T/c.ndjson"
echo '{"v":1,"id":"C-s-0-0","type":"sample","ts_ns":1700000001000000000,"run":"C","host":"h","zone":"gpu0","zone_index":0,"kind":"gpu","source":"nvml","dt_s":1,"energy_j":100,"share":0.5}' >>"$T/c.ndjson"
expect_eq "first post" "$(http POST /api/v1/events "$AGENT" "$T/c.ndjson")" '200 {"accepted":2,"duplicates":0}'
expect_eq "re-post" "$(http POST /api/v1/events "$AGENT" "$T/c.ndjson")" '200 {"accepted":0,"duplicates":2}'
out=$(http GET /api/v1/runs/C "$ADMIN")
expect_eq "counted once" "$(json_get 'j["run"]["energy_j"], j["run"]["samples"]' "${out#* }")" "50 1"

# readers: their own user's runs only
expect_eq "reader sees own run" "$(http GET "/api/v1/runs/$RID" "$MINE" | cut -d' ' -f1)" 200
expect_eq "other reader gets 404" "$(http GET "/api/v1/runs/$RID" "$OTHER" | cut -d' ' -f1)" 404
out=$(http GET "/api/v1/runs" "$OTHER")
expect_eq "other reader's list is empty" "$(json_get 'len(j["runs"])' "${out#* }")" 0
all=$(http GET "/api/v1/runs?sort=energy&limit=1000" "$ADMIN")
want=$(json_get '" ".join(r["id"] for r in j["runs"])' "${all#* }")
got= cur=
while :; do
	out=$(http GET "/api/v1/runs?sort=energy&limit=1${cur:+&cursor=$cur}" "$ADMIN")
	got="$got${got:+ }$(json_get 'j["runs"][0]["id"]' "${out#* }")"
	cur=$(json_get 'j["next"] or ""' "${out#* }")
	[ -n "$cur" ] || break
done
expect_eq "pages of one run walk the whole energy sort" "$got" "$want"
expect_eq "energy sort starts with the 50 J run" "${want%% *}" "C"
expect_eq "bad filter" "$(http GET "/api/v1/runs?sort=size" "$ADMIN" | cut -d' ' -f1)" 400

# replay rebuilds the same aggregates, bit for bit
snap() {
	for p in "/api/v1/runs/$RID" "/api/v1/runs/$RID/timeline" /api/v1/runs/C "/api/v1/aggregates?by=user" \
		"/api/v1/aggregates?by=zone" "/api/v1/aggregates?by=model" "/api/v1/aggregates?by=host"; do
		http GET "$p" "$ADMIN" | sed 's/"status":"stalled"/"status":"running"/; s/"last_event":"[^"]*"//'
	done
}
snap >"$T/live.txt"
"$J" replay --db "$DB" >"$T/replay.out"; expect_eq "replay exit" $? 0
expect_in "replay counted events" "events replayed" "$T/replay.out"
snap >"$T/replayed.txt"
cmp -s "$T/live.txt" "$T/replayed.txt"; expect_eq "replayed aggregates equal live ones" $? 0
grep -q '"windows":\[{' "$T/live.txt"; expect_eq "timeline has windows" $? 0
stop_serve
finish
