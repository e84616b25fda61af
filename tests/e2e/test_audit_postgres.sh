# The audit log on a PostgreSQL store (pg_lib.sh), the same columns and rows as SQLite's: token
# create/revoke from the command line, an ingest batch, a denied write, a run deletion (its raw
# events kept), paging and the admin-only read, no token secret in the log, verify on the audit
# chain (and naming an edited row); and the trust commands on PostgreSQL fail with a clear
# message instead of crashing: verify checks the event chain and the audit log (there is no
# record chain of earlier releases there), show --format attestation signs a run's event digest;
# calibrate, runs --flagged and reprocess work, a run being its events in every store and
# calibrations kept there too.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
. "$(dirname "$0")/pg_lib.sh"
trap '[ -n "$SP" ] && kill "$SP" 2>/dev/null; stop_pg; rm -rf "$T"' EXIT
J=$JST_BIN
ME=$(id -un)
start_pg
ADMIN=$("$J" token create --role admin --db "$PGURL" 2>/dev/null)
AGENT=$("$J" token create --role agent --db "$PGURL" 2>/dev/null)
READER=$("$J" token create --role reader --user ann --db "$PGURL" 2>/dev/null)
"$J" token revoke 3 --db "$PGURL" 2>/dev/null
pq() { psql_val "$1"; }
expect_eq "token rows" "$(pq "SELECT string_agg(concat_ws('|', id, actor, \"user\", action, object, outcome), ' ' ORDER BY id) FROM audit_log")" \
	"1|local:$ME|$ME|token.create|token:1|ok 2|local:$ME|$ME|token.create|token:2|ok 3|local:$ME|$ME|token.create|token:3|ok 4|local:$ME|$ME|token.revoke|token:3|ok"
READER=$("$J" token create --role reader --user ann --db "$PGURL" 2>/dev/null)

python3 - "$T" <<'PY'
import json, sys
base = 1700000000000000000
ev = []
for r, user in enumerate(["ann", "bob"]):
    run = f"R{r}"
    ev.append(dict(v=1, id=f"{run}-s", type="run_start", ts_ns=base, run=run, host="h", user=user, model="m",
                   command=["x"], interval_s=1, zone="FR"))
    for i in range(10):
        ev.append(dict(v=1, id=f"{run}-{i}", type="sample", ts_ns=base + (i + 1) * 10**9, run=run, host="h",
                       zone="gpu0", zone_index=0, kind="gpu", source="nvml", dt_s=1, energy_j=50, share=1))
open(f"{sys.argv[1]}/batch.ndjson", "w").writelines(json.dumps(e) + "\n" for e in ev)
PY
start_serve "$PGURL"
expect_in "serve on postgresql" "listening on" "$T/serve.out"
n0=$(pq "SELECT max(id) FROM audit_log")
expect_eq "ingest" "$(http POST /api/v1/events "$AGENT" "$T/batch.ndjson")" '200 {"accepted":22,"duplicates":0}'
expect_eq "reader cannot send" "$(http POST /api/v1/events "$READER" "$T/batch.ndjson" | cut -d' ' -f1)" 403
expect_eq "unknown token" "$(http POST /api/v1/events "jst_notatoken" "$T/batch.ndjson" | cut -d' ' -f1)" 401
expect_eq "agent cannot delete" "$(http DELETE /api/v1/runs/R1 "$AGENT" | cut -d' ' -f1)" 403
expect_eq "admin deletes" "$(http DELETE /api/v1/runs/R1 "$ADMIN")" '200 {"deleted":"R1","events_replayed":11,"raw_events_kept":true}'
expect_eq "deleted run: 404" "$(http GET /api/v1/runs/R1 "$ADMIN" | cut -d' ' -f1)" 404
expect_eq "the other run stays" "$(http GET /api/v1/runs/R0 "$ADMIN" | cut -d' ' -f1)" 200
expect_eq "raw events kept" "$(pq "SELECT count(*) FROM ev_log WHERE run='R1'")" 11
expect_eq "rows" "$(pq "SELECT string_agg(concat_ws('|', actor, role, action, outcome, client), ' ' ORDER BY id) FROM audit_log WHERE id > $n0")" \
	"token:2|agent|events.ingest|ok|127.0.0.1 token:4|reader|events.ingest|denied|127.0.0.1 anonymous||events.ingest|denied|127.0.0.1 token:2|agent|run.delete|denied|127.0.0.1 token:1|admin|run.delete|ok|127.0.0.1"
expect_eq "ingest detail" "$(pq "SELECT detail FROM audit_log WHERE id = $n0 + 1")" \
	"{\"status\":200,\"bytes\":$(wc -c <"$T/batch.ndjson"),\"events\":22,\"accepted\":22,\"duplicates\":0,\"runs\":[\"R0\",\"R1\"]}"

expect_eq "reader: 403" "$(http GET /api/v1/audit "$READER" | cut -d' ' -f1)" 403
expect_eq "agent: 403" "$(http GET /api/v1/audit "$AGENT" | cut -d' ' -f1)" 403
out=$(http GET "/api/v1/audit?limit=4" "$ADMIN")
expect_eq "admin reads" "${out%% *}" 200
nxt=$(json_get 'j["next"]' "${out#* }")
first=$(json_get '[e["id"] for e in j["entries"]]' "${out#* }")
out=$(http GET "/api/v1/audit?limit=4&cursor=$nxt" "$ADMIN")
second=$(json_get '[e["id"] for e in j["entries"]]' "${out#* }")
expect_py "two pages, newest first, no overlap" "
a, b = $first, $second
assert len(a) == 4 and len(b) == 4 and a == sorted(a, reverse=True) and b == sorted(b, reverse=True), (a, b)
assert a[-1] == b[0] + 1, (a, b)"
out=$(http GET "/api/v1/audit?action=token.&limit=100" "$ADMIN")
expect_eq "action prefix" "$(json_get 'len(j["entries"])' "${out#* }")" 5
stop_serve

python3 - "$ADMIN" "$AGENT" "$READER" <<PY && ok || ko "a token secret is in the postgresql audit log"
import hashlib, subprocess, sys
text = subprocess.run(["$PGBIN/psql", "-X", "-A", "-t", "-q", "-h", "127.0.0.1", "-p", "$PGPORT", "-U", "postgres",
                       "-d", "postgres", "-c", "SELECT * FROM audit_log"], capture_output=True, text=True).stdout
assert "token.create" in text
for tok in sys.argv[1:]:
    for s in (tok, tok[4:], tok[:12], hashlib.blake2b(tok.encode(), digest_size=32).hexdigest()):
        assert s not in text, s
PY

# verify on postgresql: the event chain, the audit chain, the deletion recorded
"$J" verify --db "$PGURL" >"$T/v.out" 2>&1
expect_eq "verify on postgresql: exit 0" $? 0
expect_in "the event chain checked" "event log: 22 events" "$T/v.out"
expect_eq "no record chain of an earlier release here" "$(grep -c 'record chain' "$T/v.out")" 0
expect_in "audit chain checked" "1 recorded run deletion" "$T/v.out"
expect_in "ok" "verify: ok" "$T/v.out"
expect_eq "the log refuses updates" "$(pq "UPDATE audit_log SET outcome='ok' WHERE id=1" 2>&1 | grep -c 'append-only')" 1
pq "ALTER TABLE audit_log DISABLE TRIGGER USER; UPDATE audit_log SET \"user\"='mallory' WHERE id=2" >/dev/null
"$J" verify --db "$PGURL" >"$T/v.out" 2>&1
expect_eq "edited row: exit 1" $? 1
expect_in "edited row named" "audit row 2 was edited after it was written" "$T/v.out"

"$J" key create >/dev/null 2>&1
"$J" show R0 --format attestation --db "$PGURL" >"$T/c.out" 2>"$T/c.err"
expect_eq "attestation on postgresql: exit 0" $? 0
expect_py "it signs R0's event digest" "
import json, base64
s = json.loads(base64.b64decode(json.load(open('$T/c.out'))['payload']))
assert s['subject'][0]['name'] == 'joulestream-run:R0' and len(s['subject'][0]['digest']['sha256']) == 64, s['subject']"
# runs are events in every store (issue 11): the run commands work on postgresql
"$J" runs --flagged --db "$PGURL" >"$T/c.out" 2>&1
expect_eq "runs --flagged on postgresql" $? 0
expect_in "runs --flagged: none flagged" "(no flagged run among 1)" "$T/c.out"
"$J" reprocess --db "$PGURL" >"$T/c.out" 2>&1
expect_eq "reprocess on postgresql" $? 0
expect_in "reprocess: the run" "1 run reprocessed" "$T/c.out"
# calibrations on postgresql (issue 11): stored per host, and a run there gets its idle floor
"$J" calibrate --db "$PGURL" --sensors estimate --duration 1s --load-duration 1s --threads 1 \
	--interval 100ms >"$T/c.out" 2>/dev/null
rc=$?
expect_eq "calibrate on postgresql: exit 0 or 1 (the estimate may not rise here)" "$([ $rc -le 1 ] && echo yes)" yes
expect_eq "the calibration stored" "$(psql_val "SELECT count(*) FROM host_reference WHERE host='$(uname -n)'")" 1
expect_eq "its zones stored" "$(psql_val "SELECT count(*) > 0 FROM host_calibration WHERE host='$(uname -n)'")" t
"$J" run --db "$PGURL" --sensors estimate --zone DE --interval 100ms --quiet --json "$T/fl.json" -- "$BURN" 0.2
FID=$(python3 -c "import json; print(json.load(open('$T/fl.json'))['id'])")
"$J" show "$FID" --db "$PGURL" --format json >"$T/fl.show.json"
expect_py "the run's idle floor from the postgresql calibration" "
import json
for p in ('$T/fl.json', '$T/fl.show.json'):
    f = json.load(open(p))['floor']
    assert f is not None and f['idle_power_w'] > 0 and not f['calibrated_after_run'], (p, f)"
"$J" audit --db "$PGURL" --action run.delete >"$T/a.out"
expect_eq "audit command on postgresql" "$(awk 'NR>1 {print $3, $5, $6}' "$T/a.out" | tr '\n' ' ')" \
	"token:1 run.delete ok token:2 run.delete denied "
finish
