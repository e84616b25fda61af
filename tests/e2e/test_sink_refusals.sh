# The http sink never discards events (issue "Fleet totals that add up, and a fleet that is
# safe to open", item 4):
#   - a 401 (a token the server does not know) keeps the run's events in the spool, and the
#     report says so; the next run with a good token and the same spool delivers them first;
#   - a batch the server refuses for good (here one malformed line among run 1's events) is
#     split until the bad line is alone: every other event is delivered, the bad line is kept
#     in the spool file + ".refused", which the report names.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
J=$JST_BIN
DB=$T/serve.db
AGENT=$("$J" token create --role agent --db "$DB" 2>/dev/null)
ADMIN=$("$J" token create --role admin --db "$DB" 2>/dev/null)
start_serve "$DB"

JOULESTREAM_TOKEN=jst_not_a_token_of_this_server "$J" run --db "$T/local1.db" --zone FR --interval 50ms \
	--json "$T/r1.json" --sink "$URL" --spool "$T/spool" --quiet -- "$BURN" 0.3
expect_eq "run 1 (unknown token): exit" $? 0
R1=$(python3 -c "import json; print(json.load(open('$T/r1.json'))['id'])")
expect_in "run 1: events kept in the spool" "not delivered yet, kept in $T/spool" "$T/r1.json"
expect_in "run 1: the reason is the 401" "answered 401" "$T/r1.json"
expect_not_in "run 1: nothing refused for good" "refused" "$T/r1.json"
expect_eq "run 1: not on the server yet" "$(http GET "/api/v1/runs/$R1" "$ADMIN" | cut -d' ' -f1)" 404

# one malformed event in the middle of the spooled ones
spool=$(ls "$T"/spool/* | grep -v '\.refused$' | head -1)
python3 - "$spool" <<'PY'
import sys
p = sys.argv[1]
lines = open(p, "rb").read().splitlines(keepends=True)
bad = b'{"v":1,"id":"bad-1","type":"sample","ts_ns":1732170000000000000,"host":"h","run":"X"}\n'
lines.insert(len(lines) // 2, bad)
open(p, "wb").write(b"".join(lines))
PY

JOULESTREAM_TOKEN=$AGENT "$J" run --db "$T/local2.db" --zone FR --interval 50ms --json "$T/r2.json" \
	--sink "$URL" --spool "$T/spool" --quiet -- "$BURN" 0.2
expect_eq "run 2: exit" $? 0
expect_eq "run 1 now on the server" "$(http GET "/api/v1/runs/$R1" "$ADMIN" | cut -d' ' -f1)" 200
local_n=$(sqlite3 "$T/local1.db" "SELECT count(*) FROM ev_log WHERE run='$R1'")
server_n=$(sqlite3 "$DB" "SELECT count(*) FROM ev_log WHERE run='$R1'")
expect_eq "every good event of run 1 delivered, once" "$server_n" "$local_n"
expect_in "run 2's report names the refused file" "refused 1 events for good" "$T/r2.json"
refused=$(ls "$T"/spool/*.refused 2>/dev/null | head -1) # next to run 2's spool file (it adopted run 1's)
expect_in "run 2's report: where" "kept in ${refused:-nowhere}" "$T/r2.json"
expect_eq "the refused file holds the bad line, alone" "$(cat "${refused:-/dev/null}")" \
	'{"v":1,"id":"bad-1","type":"sample","ts_ns":1732170000000000000,"host":"h","run":"X"}'
expect_eq "the bad event was not stored" "$(sqlite3 "$DB" "SELECT count(*) FROM ev_log WHERE id='bad-1'")" 0
stop_serve
finish
