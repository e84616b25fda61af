# A PostgreSQL server for the benchmarks (sourced by bench/ingest and bench/fleet, with $tmp
# set): start_pg sets pgurl, pgpid (the postmaster), pgver, or pg_why when it cannot start;
# stop_pg stops it.
pgpid=
stop_pg() {
	[ -n "$pgpid" ] || return 0
	kill -INT "$pgpid" 2>/dev/null # fast shutdown
	for _ in $(seq 100); do kill -0 "$pgpid" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$pgpid" 2>/dev/null || true
	pgpid=
}
# PostgreSQL as tests/e2e/pg_lib.sh starts it (Debian's server binaries, run as the postgres
# user when we are root, since postgres refuses root), but with fsync on, as a store would run;
# when it cannot start, pg_why says why and the section says so instead of failing the bench.
pg_why= pgurl=
start_pg() {
	local bin port as_pg=()
	bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true) # none: pipefail
	[ -x "$bin/initdb" ] || { pg_why="no PostgreSQL server here (scripts/install-deps installs it)"; return; }
	if [ "$(id -u)" -eq 0 ]; then
		id postgres >/dev/null 2>&1 || { pg_why="running as root and there is no postgres user"; return; }
		command -v setpriv >/dev/null || { pg_why="running as root and setpriv is missing"; return; }
		as_pg=(setpriv --reuid=postgres --regid=postgres --init-groups --)
	fi
	mkdir "$tmp/pg" && chmod 755 "$tmp" && { [ "$(id -u)" -ne 0 ] || chown postgres "$tmp/pg"; }
	"${as_pg[@]}" "$bin/initdb" -D "$tmp/pg/data" -A trust -U postgres -E UTF8 >"$tmp/pg/initdb.log" 2>&1 ||
		{ pg_why="initdb failed: $(tail -1 "$tmp/pg/initdb.log")"; return; }
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	# a plain command, not a function: $! is then setpriv, which execs postgres (the postmaster);
	# a backgrounded function would be a subshell that ignores SIGINT, with postgres its child
	"${as_pg[@]}" "$bin/postgres" -D "$tmp/pg/data" -k "$tmp/pg" -p "$port" -c listen_addresses=127.0.0.1 \
		>"$tmp/pg/server.log" 2>&1 &
	pgpid=$!
	for _ in $(seq 200); do # 20 s at most
		"$bin/pg_isready" -q -h 127.0.0.1 -p "$port" && break
		sleep 0.1
	done
	"$bin/pg_isready" -q -h 127.0.0.1 -p "$port" ||
		{ pg_why="postgres did not start: $(tail -1 "$tmp/pg/server.log")"; stop_pg; return; }
	# the CPU count starts from the postmaster: take its pid from the server itself
	pgpid=$(head -1 "$tmp/pg/data/postmaster.pid")
	pgurl="postgresql://postgres@127.0.0.1:$port/postgres"
	pgver=$("$bin/postgres" --version)
}
