# A throwaway PostgreSQL server for the end-to-end tests (sourced after lib.sh): start_pg runs
# Debian's initdb and postgres from /usr/lib/postgresql/*/bin in $T/pg on a free loopback port
# (as the postgres user through setpriv when the test runs as root: postgres refuses root) and sets PGURL;
# stop_pg stops it; start_pg again restarts the same server on the same port (its data kept).
# When it cannot, start_pg prints why and the test exits 77 (skipped).
PGPID= PGBIN=
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# PGPID is the background subshell that runs as_pg; the server's own pid is in postmaster.pid
as_pg() { if [ "$(id -u)" -eq 0 ]; then setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; else "$@"; fi; }
skip() { echo "SKIP: $*"; exit 77; }
start_pg() {
	PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
	[ -x "$PGBIN/initdb" ] || skip "no PostgreSQL server here (apt-get install postgresql)"
	if [ "$(id -u)" -eq 0 ]; then
		id postgres >/dev/null 2>&1 || skip "running as root and there is no postgres user to run the server as"
		command -v setpriv >/dev/null || skip "running as root and setpriv (util-linux) is missing"
	fi
	if [ ! -d "$T/pg/data" ]; then
		mkdir -p "$T/pg"
		chmod 755 "$T" # mktemp's 0700 would keep the postgres user out
		[ "$(id -u)" -ne 0 ] || chown postgres "$T/pg"
		as_pg "$PGBIN/initdb" -D "$T/pg/data" -A trust -U postgres -E UTF8 --no-sync >"$T/pg/initdb.log" 2>&1 ||
			{ cat "$T/pg/initdb.log" >&2; skip "initdb failed (log above)"; }
		PGPORT=$(free_port)
	fi
	as_pg "$PGBIN/postgres" -D "$T/pg/data" -k "$T/pg" -p "$PGPORT" -c listen_addresses=127.0.0.1 \
		-c fsync=off >"$T/pg/server.log" 2>&1 &
	PGPID=$!
	for _ in $(seq 200); do # 20 s at most
		"$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PGPORT" && break
		sleep 0.1
	done
	"$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PGPORT" || { cat "$T/pg/server.log" >&2; ko "postgres did not start"; exit 1; }
	PGURL="postgresql://postgres@127.0.0.1:$PGPORT/postgres"
}
# psql_val SQL: one value from the test's database
psql_val() { "$PGBIN/psql" -X -A -t -q -h 127.0.0.1 -p "$PGPORT" -U postgres -d postgres -c "$1"; }
stop_pg() {
	[ -n "$PGPID" ] || return 0
	local server
	server=$(head -n1 "$T/pg/data/postmaster.pid" 2>/dev/null)
	[ -n "$server" ] || server=$PGPID
	kill -INT "$server" 2>/dev/null # fast shutdown
	for _ in $(seq 100); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$server" 2>/dev/null
	wait "$PGPID" 2>/dev/null
	PGPID=
}
