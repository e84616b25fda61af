# serve against hostile or broken clients (issue "Fleet totals that add up, and a fleet that is
# safe to open", item 3), each case answered as docs/api.md "Limits" says and nothing stored:
#   - a client trickling its headers, or its body, a byte at a time is cut at its deadline
#     (--header-timeout, --body-timeout), which trickling does not stretch;
#   - one client address holds at most --per-client connections: 600 trickling connections
#     from 127.0.0.2 do not keep /healthz from 127.0.0.1 waiting;
#   - a body over --body-max gets 413 naming the size, announced or chunked;
#   - a request refused from its headers (here 401) has its body read before the answer, so a
#     client still sending reads the answer instead of a broken pipe (the same path as 429);
#   - TLS 1.0 and 1.1 handshakes fail, 1.2 and 1.3 succeed;
#   - listening beyond loopback without TLS warns at start;
#   - duplicate members, \u0000 in strings and times past 2099 or 2^63 are refused with the line.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
J=$JST_BIN
DB=$T/serve.db
py() { python3 - "$@"; } # py ARGS… <<'PY': a client in python's sockets, printing what it saw
AGENT=$("$J" token create --role agent --db "$DB" 2>/dev/null)
ADMIN=$("$J" token create --role admin --db "$DB" 2>/dev/null)
# the default deadlines (30 s, 120 s) and cap (64)
start_serve "$DB"
# 600 trickling connections from one address: the cap holds them to 64, /healthz still answers
py "$PORT" <<'PY' >"$T/flood.out"
import socket, sys, time, urllib.request
port = int(sys.argv[1])
socks, refused = [], 0
for i in range(600):
    s = socket.socket()
    s.bind(("127.0.0.2", 0))
    s.connect(("127.0.0.1", port))
    s.sendall(b"GET /healthz HTTP/1.1\r\n")
    socks.append(s)
time.sleep(0.5)
for s in socks: # the ones over the cap were closed by the server at once
    s.settimeout(0.05)
    try:
        s.sendall(b"X")
        if s.recv(1) == b"":
            refused += 1
    except socket.timeout:
        pass
    except OSError:
        refused += 1
with urllib.request.urlopen("http://127.0.0.1:%d/healthz" % port, timeout=20) as r:
    print("healthz", r.status)
print("refused", refused)
PY
expect_in "healthz answers during a flood from another address" "healthz 200" "$T/flood.out"
expect_in "connections over the per-client cap closed" "refused 536" "$T/flood.out"

# refused from its headers (a bad token) while the client sends 7.5 MiB (under the
# default --body-max, 8 MiB; past the socket buffers, so an early answer would break its pipe): it reads the 401
py "$PORT" <<'PY' >"$T/drain.out"
import http.client, sys
port = int(sys.argv[1])
body = b"x" * (7680 * 1024)
ok = 0
for i in range(5):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        c.request("POST", "/api/v1/events", body=body, headers={"Authorization": "Bearer nope"})
        r = c.getresponse()
        r.read()
        ok += r.status == 401
    except OSError as e:
        print("error", repr(e))
print("read 401", ok)
PY
expect_in "refused request: the client reads the answer" "read 401 5" "$T/drain.out"

stop_serve
start_serve "$DB" --header-timeout 2 --body-timeout 3 --body-max 1048576

cat >"$T/trickle.py" <<'PY'
import socket, sys, time
# trickle PORT MODE TOKEN: sends a request one byte every 0.2 s for up to 40 s; prints
# "cut N" when the server closed the connection after N bytes, "whole N" when it never did
port, mode, tok = int(sys.argv[1]), sys.argv[2], sys.argv[3]
body = b'{"v":1}' * 100
if mode == "headers":
    head, rest = b"GET /healthz HTTP/1.1\r\n", b"Host: x\r\n" + b"X-Slow: " + b"a" * 400 + b"\r\n\r\n"
else:
    head = (b"POST /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + tok.encode() +
            b"\r\nContent-Type: application/x-ndjson\r\nContent-Length: %d\r\n\r\n" % len(body))
    rest = body
s = socket.create_connection(("127.0.0.1", port))
s.sendall(head)
s.settimeout(0.2)
sent, t_end = 0, time.monotonic() + 40
try:
    for b in rest:
        if time.monotonic() > t_end:
            break
        s.sendall(bytes([b]))
        sent += 1
        try:
            if s.recv(4096) == b"":
                print("cut", sent); sys.exit(0)
        except socket.timeout:
            pass
except (BrokenPipeError, ConnectionResetError):
    print("cut", sent); sys.exit(0)
print("whole", sent)
PY
out=$(python3 "$T/trickle.py" "$PORT" headers "")
expect_eq "headers trickled a byte at a time: cut" "${out%% *}" cut
out=$(python3 "$T/trickle.py" "$PORT" body "$AGENT")
expect_eq "body trickled a byte at a time: cut" "${out%% *}" cut
r=$(http GET "/api/v1/runs" "$ADMIN")
expect_eq "nothing stored from the trickled body" "$r" '200 {"runs":[],"next":null}'

# over --body-max: 413 naming the size, whether announced (Content-Length, answered from the
# headers, as curl reads it while still sending) or chunked (counted as it comes)
py "$PORT" "$AGENT" <<'PY' >"$T/big.out"
import http.client, socket, sys
port, tok = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port), timeout=30)
s.sendall(b"POST /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + tok.encode() +
          b"\r\nContent-Length: 9437184\r\n\r\n")
print("announced", s.recv(4096).decode(errors="replace").replace("\r\n", " "))
line = b'{"v":1,"id":"big-%d","type":"heartbeat","ts_ns":1732170000000000000,"host":"h"}\n'
body = b"".join(line % i for i in range(40000))  # about 3 MiB, and more than 10000 events
c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
c.request("POST", "/api/v1/events", body=iter([body[i:i + 65536] for i in range(0, len(body), 65536)]),
          headers={"Authorization": "Bearer " + tok}, encode_chunked=True)
r = c.getresponse()
print("chunked", r.status, r.read().decode().strip())
PY
expect_in "announced oversized body: 413" "announced HTTP/1.1 413" "$T/big.out"
expect_in "announced oversized body: says the size" "body of 9437184 bytes is larger than 1048576" "$T/big.out"
expect_in "chunked oversized body: 413 with the size" "chunked 413 {\"error\":\"body larger than 1048576 bytes" "$T/big.out"

# bad events: refused with their line, nothing stored
printf '%s\n' '{"v":1,"id":"d1","type":"heartbeat","ts_ns":1732170000000000000,"host":"h"}' \
	'{"v":1,"id":"d2","type":"heartbeat","ts_ns":1732170000000000000,"host":"h","host":"g"}' >"$T/dup.ndjson"
r=$(http POST /api/v1/events "$AGENT" "$T/dup.ndjson")
expect_eq "duplicate member: 400 with the line" "$r" \
	'400 {"error":"line 2: duplicate member \"host\"; nothing of this batch was stored","line":2}'
printf '%s\n' '{"v":1,"id":"n1","type":"heartbeat","ts_ns":1732170000000000000,"host":"h\u0000x"}' >"$T/nul.ndjson"
r=$(http POST /api/v1/events "$AGENT" "$T/nul.ndjson")
expect_eq "NUL in a string: 400" "$r" \
	'400 {"error":"line 1: \\u0000 (NUL) in a string; nothing of this batch was stored","line":1}'
printf '%s\n' '{"v":1,"id":"t1","type":"heartbeat","ts_ns":9223372036854775809,"host":"h"}' >"$T/ts.ndjson"
r=$(http POST /api/v1/events "$AGENT" "$T/ts.ndjson")
expect_in "ts_ns past 2^63: 400" "not a plausible time" <(echo "$r")
r=$(http GET "/api/v1/hosts" "$ADMIN")
expect_eq "no bad event stored" "$(json_get 'len(j["hosts"])' "${r#* }")" 0
stop_serve

# beyond loopback without TLS: a warning at start
"$J" serve --listen 0.0.0.0:0 --db "$DB" >"$T/any.out" 2>"$T/any.err" </dev/null &
AP=$!
for _ in $(seq 100); do grep -q listening "$T/any.out" && break; sleep 0.05; done
kill "$AP" 2>/dev/null
wait "$AP" 2>/dev/null
AP=
expect_in "non-loopback without TLS warns" "listening on 0.0.0.0:0 without TLS" "$T/any.err"
expect_not_in "loopback does not warn" "without TLS" "$T/serve.err"

# TLS 1.2 or newer only
if command -v openssl >/dev/null; then
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=127.0.0.1" \
		-keyout "$T/srv.key" -out "$T/srv.pem" 2>/dev/null
	start_serve "$DB" --tls-cert "$T/srv.pem" --tls-key "$T/srv.key"
	py "$PORT" <<'PY' >"$T/tls.out"
import socket, ssl, sys, warnings
warnings.simplefilter("ignore", DeprecationWarning)  # the old versions are what is tried
port = int(sys.argv[1])
for name, ver in (("1.0", ssl.TLSVersion.TLSv1), ("1.1", ssl.TLSVersion.TLSv1_1),
                  ("1.2", ssl.TLSVersion.TLSv1_2), ("1.3", ssl.TLSVersion.TLSv1_3)):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")  # let this client offer the old versions at all
    ctx.minimum_version = ctx.maximum_version = ver
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s, ctx.wrap_socket(s) as t:
            print("TLS", name, "accepted", t.version())
    except (ssl.SSLError, OSError) as e:
        print("TLS", name, "refused", type(e).__name__)
PY
	expect_in "TLS 1.0 refused" "TLS 1.0 refused" "$T/tls.out"
	expect_in "TLS 1.1 refused" "TLS 1.1 refused" "$T/tls.out"
	expect_in "TLS 1.2 accepted" "TLS 1.2 accepted TLSv1.2" "$T/tls.out"
	expect_in "TLS 1.3 accepted" "TLS 1.3 accepted TLSv1.3" "$T/tls.out"
	stop_serve
fi
finish
