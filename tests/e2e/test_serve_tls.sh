# HTTPS end to end with a self-signed certificate: `serve --tls-cert/--tls-key` stores a run
# streamed by `run --sink https://… --ca cert.pem` with the run's totals; without --ca the sink
# refuses the certificate, says so, keeps the events in its spool and delivers them once --ca
# is given; plain HTTP to the TLS port gets nothing; curl --cacert reads the API; bad, missing
# or mismatched certificate and key files fail before listening; the agent serves /metrics
# over HTTPS and its sink trusts --ca.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
J=$JST_BIN
command -v openssl >/dev/null || { echo "skip: openssl missing (scripts/install-deps)"; exit 77; }
command -v curl >/dev/null || { echo "skip: curl missing (scripts/install-deps)"; exit 77; }
selfsigned() { # selfsigned NAME CN [SAN]: NAME.pem and NAME.key
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=$2" \
		${3:+-addext "subjectAltName=$3"} -keyout "$T/$1.key" -out "$T/$1.pem" 2>"$T/openssl.err" ||
		{ cat "$T/openssl.err" >&2; exit 1; }
}
selfsigned srv 127.0.0.1 IP:127.0.0.1
selfsigned other other
DB=$T/serve.db
AGENT=$("$J" token create --role agent --db "$DB" 2>/dev/null)
ADMIN=$("$J" token create --role admin --db "$DB" 2>/dev/null)

# bad certificate and key files: an error naming the file, nonzero exit, never listening
echo "not a certificate" >"$T/junk.pem"
bad_cases=(
	"--tls-cert $T/missing.pem --tls-key $T/srv.key|cannot read --tls-cert $T/missing.pem"
	"--tls-cert $T/srv.pem|--tls-cert given without --tls-key"
	"--tls-key $T/srv.key|--tls-key given without --tls-cert"
	"--tls-cert $T/junk.pem --tls-key $T/srv.key|--tls-cert $T/junk.pem holds no PEM certificate"
	"--tls-cert $T/srv.pem --tls-key $T/junk.pem|--tls-key $T/junk.pem holds no PEM private key"
	"--tls-cert $T/srv.pem --tls-key $T/other.key|do not match"
)
for c in "${bad_cases[@]}"; do
	# shellcheck disable=SC2086 # the arguments are split on purpose
	timeout 60 "$J" serve --listen 127.0.0.1:0 --db "$DB" ${c%%|*} >"$T/bad.out" 2>"$T/bad.err" </dev/null
	rc=$?
	expect_eq "serve ${c%%|*}: exit" "$rc" 1
	expect_in "serve ${c%%|*}: reason" "${c#*|}" "$T/bad.err"
	expect_not_in "serve ${c%%|*}: never listened" "listening" "$T/bad.out"
done
chmod 000 "$T/other.key"
if ! head -c1 "$T/other.key" >/dev/null 2>&1; then # root reads anything: nothing to test then
	timeout 60 "$J" serve --listen 127.0.0.1:0 --db "$DB" --tls-cert "$T/srv.pem" --tls-key "$T/other.key" \
		>"$T/bad.out" 2>"$T/bad.err" </dev/null
	expect_eq "unreadable key: exit" $? 1
	expect_in "unreadable key: reason" "cannot read --tls-key $T/other.key: Permission denied" "$T/bad.err"
fi
chmod 600 "$T/other.key"

start_serve "$DB" --tls-cert "$T/srv.pem" --tls-key "$T/srv.key"
expect_in "serve says https" "listening on https://127.0.0.1:$PORT" "$T/serve.out"
URL=https://127.0.0.1:$PORT

# a run streamed over HTTPS, trusting the self-signed certificate: stored with its totals
JOULESTREAM_TOKEN=$AGENT "$J" run --db "$T/local.db" --zone FR --interval 50ms --json "$T/r.json" \
	--sink "$URL" --ca "$T/srv.pem" --spool "$T/spool" --quiet -- "$BURN" 0.3
expect_eq "run --ca exit" $? 0
RID=$(python3 -c "import json; print(json.load(open('$T/r.json'))['id'])")
curl -sS --max-time 20 --cacert "$T/srv.pem" -H "Authorization: Bearer $ADMIN" "$URL/api/v1/runs/$RID" \
	>"$T/run.json" 2>"$T/curl.err"
expect_eq "curl --cacert over HTTPS" $? 0
expect_py "server totals over HTTPS equal the run's record" "
import json
r=json.load(open('$T/r.json')); s=json.load(open('$T/run.json'))['run']
assert s['status']=='finished' and s['zone']=='FR', s
assert abs(s['energy_j']-r['totals']['energy_j']) <= 1e-9*max(1,r['totals']['energy_j']), (s, r['totals'])"
curl -sS --max-time 20 --cacert "$T/srv.pem" -H "Authorization: Bearer $ADMIN" "$URL/api/v1/runs" >"$T/runs.json"
expect_py "GET /api/v1/runs over HTTPS lists it" "
import json; assert '$RID' in [x['id'] for x in json.load(open('$T/runs.json'))['runs']]"

# plain HTTP to the TLS port: no answer; curl without the CA: refused
curl -sS --max-time 20 "http://127.0.0.1:$PORT/api/v1/runs" >"$T/plain.out" 2>&1
expect_eq "plain HTTP to the TLS port fails" "$([ $? -ne 0 ] && echo failed)" failed
expect_not_in "plain HTTP gets no API answer" '"runs"' "$T/plain.out"
curl -sS --max-time 20 "$URL/api/v1/runs" >"$T/noca.out" 2>&1
expect_eq "curl without --cacert: certificate refused" $? 60

# without --ca the sink does not trust the certificate: reported, spooled, nothing lost
JOULESTREAM_TOKEN=$AGENT "$J" run --no-store --zone FR --interval 50ms --json "$T/u.json" \
	--sink "$URL" --spool "$T/spool2" -- "$BURN" 0.2 2>"$T/u.err"
expect_eq "run without --ca still exits 0" $? 0
expect_in "certificate error reported" "SSL certificate problem" "$T/u.err"
expect_in "the report says how to trust it" "pass --ca FILE" "$T/u.err"
UID2=$(python3 -c "import json; print(json.load(open('$T/u.json'))['id'])")
spooled=$(cat "$T"/spool2/*.ndjson | wc -l)
expect_py "the untrusted run's events are in the spool" "assert $spooled >= 3, $spooled"
curl -sS --max-time 20 --cacert "$T/srv.pem" -H "Authorization: Bearer $ADMIN" -o /dev/null -w '%{http_code}' \
	"$URL/api/v1/runs/$UID2" >"$T/code"
expect_eq "nothing of it stored yet" "$(cat "$T/code")" 404

# a wrong --ca: still refused, and said so
JOULESTREAM_TOKEN=$AGENT "$J" run --no-store --interval 50ms --sink "$URL" --ca "$T/other.pem" \
	--spool "$T/spool3" -- true 2>"$T/w.err"
expect_in "wrong --ca reported" "the server's certificate is not signed by --ca" "$T/w.err"
"$J" run --no-store --quiet --sink "$URL" --ca "$T/missing.pem" -- true 2>"$T/m.err"
expect_eq "missing --ca file: exit 2" $? 2
expect_in "missing --ca file named" "cannot read --ca $T/missing.pem" "$T/m.err"

# the same spool with --ca: the spooled run is delivered first, then the new one
JOULESTREAM_TOKEN=$AGENT "$J" run --no-store --interval 50ms --sink "$URL" --ca "$T/srv.pem" \
	--spool "$T/spool2" --quiet -- true
expect_eq "replay run exit" $? 0
curl -sS --max-time 20 --cacert "$T/srv.pem" -H "Authorization: Bearer $ADMIN" "$URL/api/v1/runs/$UID2" \
	>"$T/u2.json"
expect_py "the spooled run arrived once trusted, with its totals" "
import json
r=json.load(open('$T/u.json')); s=json.load(open('$T/u2.json'))['run']
assert s['status']=='finished', s
assert abs(s['energy_j']-r['totals']['energy_j']) <= 1e-9*max(1,r['totals']['energy_j']), (s, r['totals'])"
expect_eq "spool emptied" "$(find "$T/spool2" -name '*.ndjson' -size +0 | wc -l)" 0

# the agent: /metrics over HTTPS, its host events to the HTTPS server
JOULESTREAM_TOKEN=$AGENT "$J" agent --listen 127.0.0.1:0 --interval 100ms --zone SE --sink "$URL" --ca "$T/srv.pem" \
	--spool "$T/aspool" --tls-cert "$T/srv.pem" --tls-key "$T/srv.key" >"$T/agent.out" 2>"$T/agent.err" </dev/null &
AP=$!
for _ in $(seq 200); do grep -q metrics "$T/agent.out" && break; sleep 0.05; done
MURL=$(sed -n 's/.*metrics on \(https[^ ]*\)/\1/p' "$T/agent.out")
expect_eq "agent says https" "${MURL:0:8}" "https://"
curl -sS --max-time 20 --cacert "$T/srv.pem" "$MURL" >"$T/m.txt" 2>"$T/curl.err"
expect_eq "curl --cacert /metrics" $? 0
expect_in "metrics over HTTPS" "joulestream_zone_joules_total" "$T/m.txt"
se_run() { # prints the agent's host run (zone SE) as the HTTPS server has it, or nothing
	curl -sS --max-time 20 --cacert "$T/srv.pem" -H "Authorization: Bearer $ADMIN" "$URL/api/v1/runs?series=host" |
		python3 -c "import json,sys; print(*[r for r in json.load(sys.stdin)['runs'] if r['zone']=='SE'])"
}
for _ in $(seq 300); do # its samples are sent every linger (0.5 s): wait for some, boundedly
	se_run | grep -q "'samples': [1-9]" && break
	sleep 0.1
done
kill -TERM $AP
wait $AP
expect_eq "agent exit" $? 0
AP=
curl -sS --max-time 20 --cacert "$T/srv.pem" -H "Authorization: Bearer $ADMIN" "$URL/api/v1/runs?series=host" >"$T/runs2.json"
expect_py "the agent's host run reached the HTTPS server" "
import json; runs=json.load(open('$T/runs2.json'))['runs']
a=[r for r in runs if r['zone']=='SE']
assert len(a)==1 and a[0]['samples']>0 and a[0]['status']=='finished', runs"
stop_serve
finish
