# Every role against every endpoint of `serve` (issue "Fleet totals that add up, and a fleet
# that is safe to open", item 2: least privilege): the status each token gets, as docs/api.md
# "Tokens" says. An agent token only sends events; a reader reads its own user's runs (the
# others are 404, as if they did not exist), a reader --all-users every run; admin does
# everything. And the measured command of `run --sink` never sees the sink's token.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
J=$JST_BIN
DB=$T/serve.db
AGENT=$("$J" token create --role agent --db "$DB" 2>/dev/null)
ADMIN=$("$J" token create --role admin --db "$DB" 2>/dev/null)
ALICE=$("$J" token create --role reader --user alice --db "$DB" 2>/dev/null)
ALL=$("$J" token create --role reader --all-users --db "$DB" 2>/dev/null)
# bound agent tokens (used below), made before serve reads its token table
NODE=$("$J" token create --role agent --host n1,n1b --db "$DB" 2>/dev/null)
BOB=$("$J" token create --role agent --user bob --db "$DB" 2>/dev/null)
start_serve "$DB"

# two runs, alice's and bob's, and a heartbeat
ev() { # ev RUN USER
	printf '%s\n' \
		"{\"v\":1,\"id\":\"$1-s\",\"type\":\"run_start\",\"ts_ns\":1732170000000000000,\"run\":\"$1\",\"host\":\"n1\",\"user\":\"$2\",\"model\":\"m\",\"command\":[\"x\"],\"interval_s\":1,\"zone\":\"FR\"}" \
		"{\"v\":1,\"id\":\"$1-g-0\",\"type\":\"sample\",\"ts_ns\":1732170001000000000,\"run\":\"$1\",\"host\":\"n1\",\"zone\":\"gpu0\",\"zone_index\":0,\"kind\":\"gpu\",\"source\":\"nvml\",\"dt_s\":1,\"energy_j\":10,\"share\":1}" \
		"{\"v\":1,\"id\":\"$1-e\",\"type\":\"run_end\",\"ts_ns\":1732170002000000000,\"run\":\"$1\",\"host\":\"n1\",\"exit\":0,\"signal\":0,\"duration_s\":2,\"samples\":1}"
}
{ ev RA alice; ev RB bob; } >"$T/runs.ndjson"
printf '%s\n' '{"v":1,"id":"ag-h-0","type":"heartbeat","ts_ns":1732170000000000000,"host":"n1","uptime_s":1,"interval_s":30}' \
	>"$T/hb.ndjson"
expect_eq "runs posted" "$(http POST /api/v1/events "$AGENT" "$T/runs.ndjson" | cut -d' ' -f1)" 200

# the matrix: METHOD PATH, then the status for no token, a wrong one, agent, alice, all, admin;
# one python process asks them all and prints "METHOD PATH as ROLE: got G, want W" per cell
cat >"$T/matrix.txt" <<'EOF'
GET /api/v1/runs                    401 401 403 200 200 200
GET /api/v1/runs/RA                 401 401 403 200 200 200
GET /api/v1/runs/RB                 401 401 403 404 200 200
GET /api/v1/runs/RB/timeline        401 401 403 404 200 200
GET /api/v1/runs/RA/events          401 401 403 200 200 200
GET /api/v1/runs/RB/events          401 401 403 404 200 200
GET /api/v1/hosts                   401 401 403 403 200 200
GET /api/v1/zones                   401 401 403 200 200 200
GET /api/v1/aggregates?by=user      401 401 403 200 200 200
GET /api/v1/audit                   401 401 403 403 403 200
GET /api/v1/sources                 401 401 403 403 403 200
POST /api/v1/events                 401 401 200 403 403 200
DELETE /api/v1/runs/RB              401 401 403 403 403 200
GET /healthz                        200 200 200 200 200 200
EOF
python3 - "$URL" "$T/matrix.txt" "$T/hb.ndjson" "" jst_wrong "$AGENT" "$ALICE" "$ALL" "$ADMIN" <<'PY' >"$T/matrix.out"
import sys, urllib.request, urllib.error
url, matrix, hb, toks = sys.argv[1], sys.argv[2], open(sys.argv[3], "rb").read(), sys.argv[4:]
names = ["none", "bad", "agent", "alice", "all", "admin"]
for row in open(matrix):
    f = row.split()
    if not f:
        continue
    method, path, want = f[0], f[1], f[2:]
    for name, tok, w in zip(names, toks, want):
        req = urllib.request.Request(url + path, data=hb if method == "POST" else None, method=method)
        if tok:
            req.add_header("Authorization", "Bearer " + tok)
        try:
            with urllib.request.urlopen(req, timeout=20) as r:
                got = r.status
        except urllib.error.HTTPError as e:
            got = e.code
        print(f"{method} {path} as {name}: got {got}, want {w}")
PY
expect_eq "cells asked" "$(wc -l <"$T/matrix.out")" 84
while read -r line; do
	got=${line#*got }
	expect_eq "${line%%: got*}" "${got%%,*}" "${line##*want }"
done <"$T/matrix.out"

# bound identities: an agent token made for a host speaks only for it, one made for a user only
# for that user's runs; the rest is 403 with the line, nothing of the batch stored, audited
"$J" token list --db "$DB" >"$T/tokens.txt"
expect_in "token list shows the hosts" "n1,n1b" "$T/tokens.txt"
{ ev RC carol; } >"$T/rc.ndjson"
expect_eq "host-bound token, its host" "$(http POST /api/v1/events "$NODE" "$T/rc.ndjson" | cut -d' ' -f1)" 200
sed 's/"host":"n1"/"host":"n2"/' "$T/rc.ndjson" | sed 's/RC-/RX-/g; s/"RC"/"RX"/g' >"$T/rx.ndjson"
expect_eq "host-bound token, another host" "$(http POST /api/v1/events "$NODE" "$T/rx.ndjson")" \
	'403 {"error":"line 1: this token speaks for host n1,n1b, not n2; nothing of this batch was stored","line":1}'
{ ev RD dave; } >"$T/rd.ndjson"
expect_eq "user-bound token, another user's run" "$(http POST /api/v1/events "$BOB" "$T/rd.ndjson")" \
	'403 {"error":"line 1: this token speaks for user bob, not dave; nothing of this batch was stored","line":1}'
{ ev RE bob; } >"$T/re.ndjson"
expect_eq "user-bound token, its user's run" "$(http POST /api/v1/events "$BOB" "$T/re.ndjson" | cut -d' ' -f1)" 200
# every other event of a user-bound token must be of that user's run: a stored one, or one
# started earlier in the batch (RE above); a sample for alice's run, or for a run never started,
# is refused with its line
sample() { # sample RUN ID
	printf '{"v":1,"id":"%s","type":"sample","ts_ns":1732170005000000000,"run":"%s","host":"n1","zone":"gpu0","zone_index":0,"kind":"gpu","source":"nvml","dt_s":1,"energy_j":99,"share":1}\n' "$2" "$1"
}
{ sample RE RE-late-0; sample RA RA-by-bob; } >"$T/rf.ndjson"
expect_eq "user-bound token, a sample for another user's stored run" "$(http POST /api/v1/events "$BOB" "$T/rf.ndjson")" \
	'403 {"error":"line 2: this token speaks for user bob: run RA is not theirs (or its run_start was never stored); nothing of this batch was stored","line":2}'
sample RZ RZ-0 >"$T/rz.ndjson"
expect_eq "user-bound token, a sample for a run never started" "$(http POST /api/v1/events "$BOB" "$T/rz.ndjson" | cut -d' ' -f1)" 403
sample RE RE-late-1 >"$T/rg.ndjson"
expect_eq "user-bound token, a later sample of its user's stored run" "$(http POST /api/v1/events "$BOB" "$T/rg.ndjson" | cut -d' ' -f1)" 200
expect_eq "nothing of the refused batches stored" "$(http GET /api/v1/runs/RX "$ADMIN" | cut -d' ' -f1) $(http GET /api/v1/runs/RD "$ADMIN" | cut -d' ' -f1) $(sqlite3 "$DB" "SELECT count(*) FROM ev_log WHERE id IN ('RE-late-0','RA-by-bob','RZ-0')")" "404 404 0"
expect_eq "the refusals are audited" "$(sqlite3 "$DB" "SELECT count(*) FROM audit_log WHERE action='events.ingest' AND outcome='denied' AND detail LIKE '%speaks for%'")" 4
"$J" token create --role reader --user x --host n1 --db "$DB" >/dev/null 2>"$T/err"
expect_eq "--host only for agents: exit" $? 2
"$J" token create --role agent --db "$DB" >/dev/null 2>"$T/err"
expect_in "an unbound agent token: a note" "bind it with --host" "$T/err"

# a reader sees its own user's runs and totals only
r=$(http GET /api/v1/runs "$ALICE")
expect_eq "alice's list: her run only" "$(json_get '[x["id"] for x in j["runs"]]' "${r#* }")" "['RA']"
r=$(http GET "/api/v1/aggregates?by=user" "$ALICE")
expect_eq "alice's totals: hers only" "$(json_get '[x["key"] for x in j["groups"]]' "${r#* }")" "['alice']"
stop_serve

# the measured command's environment holds no token
JOULESTREAM_TOKEN=$AGENT "$J" run --db "$T/local.db" --zone FR --interval 50ms --sink "file:$T/ev.ndjson" \
	--quiet -- sh -c 'env >"$0"' "$T/child.env"
expect_eq "run exit" $? 0
expect_in "the command ran under run" "JOULESTREAM_RUN_ID=" "$T/child.env"
expect_not_in "no JOULESTREAM_TOKEN in the command's environment" "JOULESTREAM_TOKEN" "$T/child.env"
expect_not_in "nor the token itself" "$AGENT" "$T/child.env"
finish
