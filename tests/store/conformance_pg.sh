# Runs the store conformance suite (conformance.c, the program given as $1) on a PostgreSQL 15
# server started here on a free loopback port (tests/e2e/pg_lib.sh), one schema per case so that
# each case starts from an empty store, as on SQLite. Skipped (77) only when pg_lib.sh cannot
# start a server (no PostgreSQL binaries installed), with the reason.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/../e2e/pg_lib.sh"
trap 'stop_pg; rm -rf "$T"' EXIT
PROG=$1
start_pg
for c in $("$PROG" --list); do
	psql_val "CREATE SCHEMA case_$c" >/dev/null || { ko "creating schema case_$c"; }
done
"$PROG" "$PGURL"
rc=$?
[ "$failed" -eq 0 ] || rc=1
exit $rc
