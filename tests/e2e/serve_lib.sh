# Helpers for the tests that drive `joulestream serve` on loopback (sourced after lib.sh):
# start_serve DB [ARGS…] starts it on a free port (SP = pid, PORT, URL); stop_serve; http
# METHOD PATH TOKEN [BODY-FILE] prints "CODE BODY" (python3's urllib: no curl needed); http_many
# asks many in one process.
# servers and agents still running when a test ends early are stopped with it
SP= AP=
trap '[ -n "$SP" ] && kill "$SP" 2>/dev/null; [ -n "$AP" ] && kill "$AP" 2>/dev/null; rm -rf "$T"' EXIT
start_serve() {
	local db=$1
	shift
	: >"$T/serve.out"
	"$JST_BIN" serve --listen 127.0.0.1:0 --db "$db" "$@" >"$T/serve.out" 2>>"$T/serve.err" </dev/null &
	SP=$!
	for _ in $(seq 100); do
		grep -q listening "$T/serve.out" && break
		sleep 0.05
	done
	PORT=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$T/serve.out")
	URL="http://127.0.0.1:$PORT"
	[ -n "$PORT" ] || { echo "serve did not start:" >&2; cat "$T/serve.err" >&2; }
}
stop_serve() {
	kill "$SP" 2>/dev/null
	wait "$SP" 2>/dev/null
}
http() {
	python3 - "$1" "$URL$2" "${3:-}" "${4:-}" <<'PY'
import sys, urllib.request, urllib.error
method, url, tok, body = sys.argv[1:5]
data = open(body, 'rb').read() if body else None
req = urllib.request.Request(url, data=data, method=method)
if tok:
    req.add_header('Authorization', 'Bearer ' + tok)
try:
    with urllib.request.urlopen(req, timeout=20) as r:
        print(r.status, r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode())
except Exception as e:
    print(0, repr(e))
PY
}
# http_many: the same for many requests in one python process (a python start costs seconds on a
# loaded machine): one request per stdin line, "METHOD PATH TOKEN [BODY-FILE]" separated by tabs;
# one "CODE BODY" per request, in order
http_many() { # the program on fd 3: stdin carries the requests
	python3 /dev/fd/3 "$URL" 3<<'PY'
import sys, urllib.request, urllib.error
for line in sys.stdin.read().splitlines():
    if not line.strip():
        continue
    method, path, tok, body = (line.split("\t") + ["", "", "", ""])[:4]
    data = open(body, 'rb').read() if body else None
    req = urllib.request.Request(sys.argv[1] + path, data=data, method=method)
    if tok:
        req.add_header('Authorization', 'Bearer ' + tok)
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            print(r.status, r.read().decode())
    except urllib.error.HTTPError as e:
        print(e.code, e.read().decode())
    except Exception as e:
        print(0, repr(e))
    sys.stdout.flush()
PY
}
# json_get 'PYTHON-EXPR on j' JSON-TEXT
json_get() { python3 -c "import json,sys; j=json.loads(sys.argv[1]); print($1)" "$2"; }
