# serve survives its database (issue "Fleet totals that add up, and a fleet that is safe to
# open", item 4): PostgreSQL stopped in immediate mode under a running serve, then started
# again, with no restart of serve nor of the job:
#   - while it is down every request gets 503 + Retry-After, never 401 (a known token, an
#     unknown one, reads and writes alike), and /healthz says the store is unreachable (503);
#   - once it is back the same tokens read and write again, and /healthz says ok;
#   - a `run --sink` made while it is down keeps its events in its spool (503 is not a
#     refusal); the next run with the same spool delivers them: every event stored, once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg_lib.sh"
. "$(dirname "$0")/serve_lib.sh"
trap '[ -n "$SP" ] && kill "$SP" 2>/dev/null; stop_pg; rm -rf "$T"' EXIT
J=$JST_BIN
start_pg
AGENT=$("$J" token create --role agent --db "$PGURL" 2>/dev/null)
ADMIN=$("$J" token create --role admin --db "$PGURL" 2>/dev/null)
[ -n "$AGENT" ] && [ -n "$ADMIN" ] || { ko "no tokens made"; finish; exit 1; }
start_serve "$PGURL"
printf '%s\n' '{"v":1,"id":"hb-0","type":"heartbeat","ts_ns":1732170000000000000,"host":"n1","uptime_s":1,"interval_s":30}' \
	>"$T/hb0.ndjson"
expect_eq "up: POST" "$(http POST /api/v1/events "$AGENT" "$T/hb0.ndjson" | cut -d' ' -f1)" 200
expect_eq "up: GET" "$(http GET /api/v1/runs "$ADMIN" | cut -d' ' -f1)" 200
expect_eq "up: healthz" "$(http GET /healthz "")" '200 {"ok":true,"store":"ok"}'

# PostgreSQL stopped in immediate mode (SIGQUIT: no checkpoint, connections cut)
server=$(head -n1 "$T/pg/data/postmaster.pid")
kill -QUIT "$server"
for _ in $(seq 100); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
wait "$PGPID" 2>/dev/null
PGPID=
printf '%s\n' '{"v":1,"id":"hb-1","type":"heartbeat","ts_ns":1732170001000000000,"host":"n1","uptime_s":2,"interval_s":30}' \
	>"$T/hb1.ndjson"
codes=
for i in 1 2 3; do # three rounds, past the token cache's 1 s age
	codes="$codes $(http GET /api/v1/runs "$ADMIN" | cut -d' ' -f1)"
	codes="$codes $(http POST /api/v1/events "$AGENT" "$T/hb1.ndjson" | cut -d' ' -f1)"
	codes="$codes $(http GET /api/v1/runs jst_someone_new | cut -d' ' -f1)"
	sleep 1.1
done
expect_eq "down: every request 503, never 401" "$codes" " 503 503 503 503 503 503 503 503 503"
r=$(http GET /healthz "")
expect_eq "down: healthz 503" "${r%% *}" 503
expect_in "down: healthz says why" '"store":"unreachable"' <(echo "$r")

# a job streamed while the database is down: its events wait in its spool
JOULESTREAM_TOKEN=$AGENT "$J" run --db "$T/local1.db" --zone FR --interval 50ms --json "$T/r1.json" \
	--sink "$URL" --spool "$T/spool" --quiet -- "$BURN" 0.3 2>"$T/run1.err"
expect_eq "run 1 (database down): exit" $? 0
R1=$(python3 -c "import json; print(json.load(open('$T/r1.json'))['id'])")
expect_in "run 1: its events kept in the spool" "not delivered yet, kept in $T/spool" "$T/r1.json"
expect_not_in "run 1: nothing refused" "refused" "$T/r1.json"

start_pg # the same server, data and port
got=
for _ in $(seq 100); do # healed by the next statement of each connection, within seconds
	got="$(http GET /api/v1/runs "$ADMIN" | cut -d' ' -f1) $(http POST /api/v1/events "$AGENT" "$T/hb1.ndjson" | cut -d' ' -f1)"
	[ "$got" = "200 200" ] && break
	sleep 0.2
done
expect_eq "back: the same tokens read and write, serve not restarted" "$got" "200 200"
expect_eq "back: healthz" "$(http GET /healthz "")" '200 {"ok":true,"store":"ok"}'
expect_eq "serve never restarted" "$(kill -0 "$SP" 2>/dev/null && echo alive)" alive

# the next run with the same spool delivers run 1's events first: all of them, once
JOULESTREAM_TOKEN=$AGENT "$J" run --db "$T/local2.db" --zone FR --interval 50ms --json "$T/r2.json" \
	--sink "$URL" --spool "$T/spool" --quiet -- "$BURN" 0.2 2>"$T/run2.err"
expect_eq "run 2: exit" $? 0
expect_not_in "run 2: nothing left behind" "not delivered" "$T/r2.json"
local_n=$(sqlite3 "$T/local1.db" "SELECT count(*) FROM ev_log WHERE run='$R1'")
server_n=$(psql_val "SELECT count(*) FROM ev_log WHERE run='$R1'")
expect_eq "run 1's events on the server: every one, once" "$server_n" "$local_n"
expect_py "run 1 has samples" "import sys; sys.exit(0 if int('$local_n') > 3 else 1)"
finish
