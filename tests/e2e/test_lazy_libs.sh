# libcurl, libpq and libmicrohttpd are loaded on first use (src/core/dl*.c), not at exec: the
# program does not link them, `run` never maps them (nor the TLS libraries they bring), `serve`
# maps libmicrohttpd once it listens, and a missing or wrong library is a clean error that names
# the Debian package to install (JOULESTREAM_{CURL,PQ,MHD}_LIB point the loaders elsewhere).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
J=$JST_BIN
FLEET='libcurl|libpq|libmicrohttpd|libssl|libcrypto|libgnutls|libldap|libkrb5'

if command -v readelf >/dev/null; then
	readelf -d "$J" | grep NEEDED >"$T/needed"
	expect_not_in "no fleet library among the program's NEEDED: libcurl" "libcurl" "$T/needed"
	expect_not_in "no fleet library among the program's NEEDED: libpq" "libpq" "$T/needed"
	expect_not_in "no fleet library among the program's NEEDED: libmicrohttpd" "libmicrohttpd" "$T/needed"
	expect_in "sqlite3 stays linked" "libsqlite3" "$T/needed"
else
	ko "readelf missing (binutils, from build-essential: scripts/install-deps)"
fi

# what `run` has mapped while its command runs: the command reads its parent's maps
"$J" run --no-store --quiet -- sh -c 'cat /proc/$PPID/maps' >"$T/run.maps"
expect_eq "run -- cat maps: exit" $? 0
expect_in "the maps are joulestream's" "libsqlite3" "$T/run.maps"
expect_eq "run maps no fleet or TLS library" "$(grep -cE "$FLEET" "$T/run.maps")" 0
# with a --sink file: and a store, still none
"$J" run --db "$T/r.db" --quiet --sink "file:$T/ev.ndjson" -- sh -c 'cat /proc/$PPID/maps' >"$T/run2.maps"
expect_eq "run --sink file: maps no fleet library" "$(grep -cE "$FLEET" "$T/run2.maps")" 0
# a broken override does not matter to a command that does not use the library
JOULESTREAM_CURL_LIB=$T/none.so JOULESTREAM_PQ_LIB=$T/none.so JOULESTREAM_MHD_LIB=$T/none.so \
	"$J" run --no-store --quiet -- true
expect_eq "run without a fleet library loadable: exit" $? 0

# serve loads libmicrohttpd when it starts listening
DB=$T/serve.db
"$J" token create --role admin --db "$DB" >/dev/null 2>&1
start_serve "$DB"
expect_py "serve maps libmicrohttpd once listening" "assert 'libmicrohttpd' in open('/proc/$SP/maps').read()"
expect_py "serve without a sink or postgres maps neither libcurl nor libpq" "
m=open('/proc/$SP/maps').read(); assert 'libcurl' not in m and 'libpq' not in m"
stop_serve

# a missing library: a message naming the package, a nonzero exit, no crash
JOULESTREAM_MHD_LIB=$T/missing/libmicrohttpd.so.12 timeout 60 "$J" serve --listen 127.0.0.1:0 --db "$DB" \
	>"$T/s.out" 2>"$T/s.err" </dev/null
expect_eq "serve without libmicrohttpd: exit 1" $? 1
expect_in "serve names the package" "from the Debian package libmicrohttpd12 (apt install libmicrohttpd12)" "$T/s.err"
expect_in "serve names the override" "named by JOULESTREAM_MHD_LIB" "$T/s.err"
expect_not_in "serve did not listen" "listening" "$T/s.out"
JOULESTREAM_MHD_LIB=$T/missing.so timeout 60 "$J" agent --listen 127.0.0.1:0 >"$T/a.out" 2>"$T/a.err" </dev/null
expect_eq "agent without libmicrohttpd: exit 1" $? 1
expect_in "agent names the package" "apt install libmicrohttpd12" "$T/a.err"
JOULESTREAM_CURL_LIB=$T/missing.so timeout 60 "$J" run --no-store --quiet --sink http://127.0.0.1:9 -- true 2>"$T/c.err"
expect_eq "run --sink http without libcurl: exit 2" $? 2
expect_in "run names libcurl's package" "from the Debian package libcurl4 (apt install libcurl4)" "$T/c.err"
JOULESTREAM_PQ_LIB=$T/missing.so timeout 60 "$J" replay --db postgresql://nobody@127.0.0.1:9/none 2>"$T/p.err"
expect_eq "replay on postgresql without libpq: exit 1" $? 1
expect_in "replay names libpq's package" "from the Debian package libpq5 (apt install libpq5)" "$T/p.err"
# a library that loads but is not the one wanted: the missing function is named
JOULESTREAM_MHD_LIB=libsqlite3.so.0 timeout 60 "$J" serve --listen 127.0.0.1:0 --db "$DB" >"$T/w.out" 2>"$T/w.err" </dev/null
expect_eq "serve with a wrong library: exit 1" $? 1
expect_in "the missing function is named" "libsqlite3.so.0 lacks MHD_start_daemon" "$T/w.err"
finish
