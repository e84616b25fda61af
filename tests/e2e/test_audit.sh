# The audit log on a SQLite store (docs/audit.md): token create/revoke, an accepted and a
# rejected ingest batch, denied writes (wrong role, bad token), a run deletion, a reprocess and a
# rebuild each leave exactly their row, with the token's id, role and user and the client's
# address; readers and agents get 403 on GET /api/v1/audit; pages are newest first and the
# cursor walks them without gaps or repeats; no token secret, hash or prefix is in the log; a
# deleted run leaves every view but its raw events stay; verify checks the chain and names an
# edited or deleted row; a flood of bad tokens is bounded by the limiter.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
J=$JST_BIN
DB=$T/serve.db
ME=$(id -un)
ADMIN=$("$J" token create --role admin --label ops --db "$DB" 2>/dev/null)
AGENT=$("$J" token create --role agent --db "$DB" 2>/dev/null)
READER=$("$J" token create --role reader --user ann --db "$DB" 2>/dev/null)
GONE=$("$J" token create --role agent --db "$DB" 2>/dev/null)
"$J" token revoke 4 --db "$DB" 2>/dev/null
"$J" token revoke "$GONE" --db "$DB" 2>/dev/null # a whole token by mistake: refused, not logged
q() { sqlite3 -separator '|' "$DB" "$1"; }
expect_eq "token rows" "$(q "SELECT id, actor, role, user, action, object, outcome, client FROM audit_log ORDER BY id")" \
"1|local:$ME||$ME|token.create|token:1|ok|
2|local:$ME||$ME|token.create|token:2|ok|
3|local:$ME||$ME|token.create|token:3|ok|
4|local:$ME||$ME|token.create|token:4|ok|
5|local:$ME||$ME|token.revoke|token:4|ok|
6|local:$ME||$ME|token.revoke|token|error|"
expect_eq "token.create detail" "$(q "SELECT detail FROM audit_log WHERE id=3")" \
	'{"role":"reader","user":"ann","all_users":false,"hosts":"","label":""}'
expect_eq "a pasted token is not logged" "$(q "SELECT detail FROM audit_log WHERE id=6")" \
	'{"given":"(a whole token: not logged)"}'

# two runs of two users, a few samples each
python3 - "$T" <<'PY'
import json, sys
base = 1700000000000000000
ev = []
for r, user in enumerate(["ann", "bob"]):
    run = f"R{r}"
    ev.append(dict(v=1, id=f"{run}-s", type="run_start", ts_ns=base, run=run, host="h", user=user, model="m",
                   command=["x"], interval_s=1, zone="FR"))
    for i in range(20):
        ev.append(dict(v=1, id=f"{run}-{i}", type="sample", ts_ns=base + (i + 1) * 10**9, run=run, host="h",
                       zone="gpu0", zone_index=0, kind="gpu", source="nvml", dt_s=1, energy_j=100 + r, share=1))
    ev.append(dict(v=1, id=f"{run}-e", type="run_end", ts_ns=base + 21 * 10**9, run=run, host="h", exit=0,
                   signal=0, duration_s=21, samples=20, notes=[]))
open(f"{sys.argv[1]}/batch.ndjson", "w").writelines(json.dumps(e) + "\n" for e in ev)
late = dict(v=1, id="R1-late", type="sample", ts_ns=base + 30 * 10**9, run="R1", host="h", zone="gpu0",
            zone_index=0, kind="gpu", source="nvml", dt_s=1, energy_j=5, share=1)
open(f"{sys.argv[1]}/late.ndjson", "w").write(json.dumps(late) + "\n")
PY
start_serve "$DB"
expect_eq "ingest" "$(http POST /api/v1/events "$AGENT" "$T/batch.ndjson")" '200 {"accepted":44,"duplicates":0}'
expect_eq "re-post" "$(http POST /api/v1/events "$AGENT" "$T/batch.ndjson")" '200 {"accepted":0,"duplicates":44}'
printf '{"v":1,"id":"B-1","type":"sample"\n' >"$T/bad.ndjson"
expect_eq "bad batch" "$(http POST /api/v1/events "$AGENT" "$T/bad.ndjson" | cut -d' ' -f1)" 400
expect_eq "ingest rows" "$(q "SELECT actor, role, action, outcome, client, object FROM audit_log WHERE id > 6 ORDER BY id")" \
"token:2|agent|events.ingest|ok|127.0.0.1|batch of 44 events: run R0, R1
token:2|agent|events.ingest|ok|127.0.0.1|batch of 44 events: run R0, R1
token:2|agent|events.ingest|error|127.0.0.1|batch of 0 events"
expect_py "ingest details: counts per batch, not per event" "
import json, sqlite3
d = [json.loads(r[0]) for r in sqlite3.connect('$DB').execute(\"SELECT detail FROM audit_log WHERE action='events.ingest' ORDER BY id\")]
assert d[0]['accepted'] == 44 and d[0]['duplicates'] == 0 and d[0]['runs'] == ['R0', 'R1'], d[0]
assert d[1]['accepted'] == 0 and d[1]['duplicates'] == 44, d[1]
assert d[2]['status'] == 400 and 'line 1' in d[2]['error'], d[2]"

# denied writes: wrong role, unknown token, no token; each one row, outcome denied
n0=$(q "SELECT max(id) FROM audit_log")
expect_eq "reader cannot send" "$(http POST /api/v1/events "$READER" "$T/batch.ndjson" | cut -d' ' -f1)" 403
expect_eq "unknown token" "$(http POST /api/v1/events "jst_notatoken" "$T/batch.ndjson" | cut -d' ' -f1)" 401
expect_eq "no token" "$(http POST /api/v1/events "" "$T/batch.ndjson" | cut -d' ' -f1)" 401
expect_eq "revoked token" "$(http POST /api/v1/events "$GONE" "$T/batch.ndjson" | cut -d' ' -f1)" 401
expect_eq "denied rows" "$(q "SELECT actor, role, user, action, outcome, json_extract(detail, '$.status') FROM audit_log WHERE id > $n0 ORDER BY id")" \
"token:3|reader|ann|events.ingest|denied|403
anonymous|||events.ingest|denied|401
anonymous|||events.ingest|denied|401
anonymous|||events.ingest|denied|401"

# the log is for admins: 403 for readers and agents (logged), 401 without a token
expect_eq "reader: 403" "$(http GET /api/v1/audit "$READER" | cut -d' ' -f1)" 403
expect_eq "agent: 403" "$(http GET /api/v1/audit "$AGENT" | cut -d' ' -f1)" 403
expect_eq "no token: 401" "$(http GET /api/v1/audit "" | cut -d' ' -f1)" 401
expect_eq "refused reads logged" "$(q "SELECT count(*) FROM audit_log WHERE action='audit.read' AND outcome='denied'")" 3

# deletion: admins only; the run leaves every view, its raw events stay, later events too
snap() { http GET /api/v1/runs/R0 "$ADMIN"; http GET "/api/v1/aggregates?by=user" "$ADMIN"; }
before=$(http GET /api/v1/runs/R0 "$ADMIN")
expect_eq "agent cannot delete" "$(http DELETE /api/v1/runs/R1 "$AGENT" | cut -d' ' -f1)" 403
out=$(http DELETE /api/v1/runs/R1 "$ADMIN")
expect_eq "admin deletes" "$out" '200 {"deleted":"R1","events_replayed":22,"raw_events_kept":true}'
expect_eq "deleted run: 404" "$(http GET /api/v1/runs/R1 "$ADMIN" | cut -d' ' -f1)" 404
expect_eq "its events: 404" "$(http GET /api/v1/runs/R1/events "$ADMIN" | cut -d' ' -f1)" 404
expect_eq "the other run untouched" "$(http GET /api/v1/runs/R0 "$ADMIN")" "$before"
out=$(http GET "/api/v1/aggregates?by=user" "$ADMIN")
expect_eq "totals without the deleted run" "$(json_get '[g["key"] for g in j["groups"]]' "${out#* }")" "['ann']"
expect_eq "raw events kept" "$(q "SELECT count(*) FROM ev_log WHERE run='R1'")" 22
expect_eq "delete again: 404" "$(http DELETE /api/v1/runs/R1 "$ADMIN" | cut -d' ' -f1)" 404
expect_eq "late event stored" "$(http POST /api/v1/events "$AGENT" "$T/late.ndjson")" '200 {"accepted":1,"duplicates":0}'
expect_eq "late event does not bring it back" "$(http GET /api/v1/runs/R1 "$ADMIN" | cut -d' ' -f1)" 404
expect_eq "deletion rows" "$(q "SELECT actor, role, action, object, outcome FROM audit_log WHERE action='run.delete' ORDER BY id")" \
"token:2|agent|run.delete|/api/v1/runs/R1|denied
token:1|admin|run.delete|R1|ok
token:1|admin|run.delete|R1|error"

# paging: newest first, the cursor walks every row once
out=$(http GET "/api/v1/audit?limit=1000" "$ADMIN")
expect_eq "audit read by admin" "${out%% *}" 200
echo "${out#* }" >"$T/all.json"
python3 - "$URL" "$ADMIN" "$T/all.json" <<'PY' && ok || ko "paging"
import json, sys, urllib.request
url, tok, allf = sys.argv[1:4]
def get(q):
    r = urllib.request.Request(url + "/api/v1/audit" + q, headers={"Authorization": "Bearer " + tok})
    return json.load(urllib.request.urlopen(r, timeout=20))
full = [e["id"] for e in json.load(open(allf))["entries"]]
assert full == sorted(full, reverse=True) and full[0] >= 20, full
seen, cur, pages = [], None, 0
while True:
    p = get("?limit=5" + ("&cursor=" + cur if cur else ""))
    pages += 1
    assert len(p["entries"]) <= 5
    seen += [e["id"] for e in p["entries"]]
    cur = p["next"]
    if cur is None:
        break
# the walk started after the full read, which added its own audit.read row (and each page one more)
assert seen == sorted(seen, reverse=True) and len(seen) == len(set(seen)), seen
assert [i for i in seen if i <= full[0]] == full, (seen, full)
assert pages >= 4, pages
PY
out=$(http GET "/api/v1/audit?action=events.ingest&actor=token:2&limit=2" "$ADMIN")
expect_py "filtered page" "
import json
j = json.loads('''${out#* }''')
assert [(e['action'], e['actor'], e['outcome']) for e in j['entries']] == [('events.ingest', 'token:2', 'ok'),
                                                                          ('events.ingest', 'token:2', 'error')], j
assert j['next'] and j['next'].startswith('a'), j
e = j['entries'][0]
want = {'status': 200, 'bytes': $(wc -c <"$T/late.ndjson"), 'events': 1, 'accepted': 1, 'duplicates': 0, 'runs': ['R1']}
assert e['detail'] == want, e
assert e['client'] == '127.0.0.1' and e['role'] == 'agent' and len(e['hash']) == 64, e"
out=$(http GET "/api/v1/audit?action=token.&limit=1000" "$ADMIN")
expect_eq "action prefix" "$(json_get 'len(j["entries"])' "${out#* }")" 6
out=$(http GET "/api/v1/audit?from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z" "$ADMIN")
expect_eq "time window with no rows" "${out#* }" '{"entries":[],"next":null}'
expect_eq "bad cursor" "$(http GET "/api/v1/audit?cursor=zz" "$ADMIN" | cut -d' ' -f1)" 400
expect_eq "bad limit" "$(http GET "/api/v1/audit?limit=0" "$ADMIN" | cut -d' ' -f1)" 400
stop_serve

# reprocess and rebuild, from the command line, by the local user
"$J" run --db "$DB" --zone DE --interval 50ms --quiet --json "$T/r.json" -- "$BURN" 0.3
RID=$(python3 -c "import json; print(json.load(open('$T/r.json'))['id'])")
"$J" reprocess "$RID" --zone FR --db "$DB" >/dev/null 2>&1
expect_eq "reprocess" $? 0
expect_py "one reprocess row, from DE to FR" "
import json, sqlite3
rows = sqlite3.connect('$DB').execute(\"SELECT actor, object, outcome, detail FROM audit_log WHERE action='run.reprocess'\").fetchall()
assert len(rows) == 1, rows
a, o, out, d = rows[0]; d = json.loads(d)
assert a == 'local:$ME' and o == '$RID' and out == 'ok', rows
assert d['zone'] == {'from': 'DE', 'to': 'FR'} and d['co2e_g']['from'] > d['co2e_g']['to'] > 0, d"
"$J" replay --db "$DB" >/dev/null
# the local run's events are in the same log as the served ones (one data model), R1's are not
# replayed since its deletion
live=$(q "SELECT count(*) FROM ev_log WHERE run IS NULL OR run NOT IN (SELECT run FROM ev_deleted)")
expect_eq "rebuild row" "$(q "SELECT actor, outcome, detail FROM audit_log WHERE action='aggregates.rebuild'")" \
	"local:$ME|ok|{\"events_replayed\":$live}"
"$J" audit --db "$DB" --action run. --limit 5 >"$T/cli.out"
expect_eq "audit command: reprocess and deletions" "$(awk 'NR>1 {print $5, $6}' "$T/cli.out" | tr '\n' ' ')" \
	"run.reprocess ok run.delete error run.delete ok run.delete denied "

# no secret anywhere in the log: tokens, their BLAKE2b hashes, their prefixes
python3 - "$DB" "$ADMIN" "$AGENT" "$READER" "$GONE" <<'PY' && ok || ko "a token secret is in the audit log"
import hashlib, sqlite3, sys
text = "\n".join("|".join(map(str, r)) for r in sqlite3.connect(sys.argv[1]).execute("SELECT * FROM audit_log"))
for tok in sys.argv[2:]:
    for s in (tok, tok[4:], tok[:12], hashlib.blake2b(tok.encode(), digest_size=32).hexdigest()):
        assert s not in text, s
PY

# verify: the chain holds, the deletion is a recorded one; an edited or deleted row is named
"$J" verify --db "$DB" >"$T/v.out"
expect_eq "verify: exit 0" $? 0
expect_in "deletion recorded" "1 recorded run deletion (deleted through the API, not tampering)" "$T/v.out"
expect_in "audit head printed" "audit head: sha256:$(q "SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1")" "$T/v.out"
q "UPDATE audit_log SET outcome='ok' WHERE id=1; DELETE FROM audit_log WHERE id=2" >"$T/upd.out" 2>&1
expect_in "the log refuses updates" "the audit log is append-only" "$T/upd.out"
expect_eq "nothing changed" "$(q "SELECT count(*) FROM audit_log WHERE id=2 OR (id=1 AND outcome='ok')")" 2
atamper() {
	cp "$DB" "$T/t.db"
	sqlite3 "$T/t.db" "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete; $2"
	"$J" verify --db "$T/t.db" >"$T/v.out" 2>&1
	expect_eq "$1: exit 1" $? 1
	expect_in "$1: named" "$3" "$T/v.out"
	expect_in "$1: broken" "the audit log is BROKEN" "$T/v.out"
}
atamper "an edited row" "UPDATE audit_log SET actor='token:1' WHERE id=8" "audit row 8 was edited after it was written"
atamper "a deleted row" "DELETE FROM audit_log WHERE id=9" "audit rows before row 10 are missing"
atamper "a hidden deletion" "DELETE FROM audit_log WHERE action='run.delete'" "are missing (deleted)"

# a flood of bad tokens: at most 60 rows a minute, the rest counted in one row at stop
start_serve "$DB"
n0=$(q "SELECT max(id) FROM audit_log")
python3 - "$URL" "$T/flood" <<'PY'
import sys, time, urllib.request, urllib.error
url, out = sys.argv[1:3]
t0 = time.monotonic()
for i in range(100):
    r = urllib.request.Request(url + "/api/v1/events", data=b"{}", method="POST",
                               headers={"Authorization": f"Bearer jst_bad{i}"})
    try:
        urllib.request.urlopen(r, timeout=20)
    except urllib.error.HTTPError as e:
        assert e.code == 401, e.code
open(out, "w").write(str(time.monotonic() - t0))
PY
stop_serve
python3 - "$DB" "$n0" "$T/flood" <<'PY' && ok || ko "the flood was not bounded as documented"
import json, sqlite3, sys
db, n0, secs = sqlite3.connect(sys.argv[1]), int(sys.argv[2]), float(open(sys.argv[3]).read())
rows = db.execute("SELECT action, outcome, detail FROM audit_log WHERE id > ?", (n0,)).fetchall()
denied = [r for r in rows if r[0] == "events.ingest" and r[1] == "denied"]
held = sum(json.loads(r[2])["suppressed"] for r in rows if r[0] == "audit.suppressed")
assert len(denied) + held == 100, (len(denied), held)
if secs < 60:  # one limiter window: exactly the documented bound
    assert len(denied) == 60 and held == 40, (len(denied), held)
PY
finish
