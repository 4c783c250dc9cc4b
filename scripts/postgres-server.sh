#!/usr/bin/env bash
# A throwaway PostgreSQL server from Debian's packages, on loopback, for tests and benchmarks.
#   scripts/postgres-server.sh start DIR   initdb in DIR/pg (as an unprivileged user), start on a free port, create the
#                                          database `mdp`, TLS offered with DIR/pg-ca.crt as its authority; prints
#                                          MDP_TEST_DATABASE_URL=postgres://… as its last line
#   scripts/postgres-server.sh stop DIR    stop it (the folder is the caller's to remove)
set -euo pipefail
action=${1:?start or stop}
dir=${2:?folder}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bin/pg_ctl" ] || { echo "PostgreSQL is not installed (Debian package postgresql; make test-deps)" >&2; exit 1; }
data="$dir/pg"
# initdb refuses to run as root: the server runs as the `postgres` account the package created, or as whoever runs us.
as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case "$action" in
start)
    mkdir -p "$data"
    if [ "$(id -u)" = 0 ]; then chown postgres "$data"; chmod o+x "$dir"; fi
    # The C collation orders text by code point, as SQLite does: one order for both databases.
    as_owner "$bin/initdb" -D "$data" -U mdp --auth=trust --encoding=UTF8 --locale=C >"$dir/pg-initdb.log" 2>&1 ||
        { cat "$dir/pg-initdb.log" >&2; exit 1; }
    # TLS offered (a self-signed certificate for 127.0.0.1, its own authority: tests pass it as sslrootcert).
    openssl req -x509 -newkey rsa:2048 -nodes -days 3 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" \
        -keyout "$data/server.key" -out "$data/server.crt" >/dev/null 2>&1
    chmod 600 "$data/server.key"
    cp "$data/server.crt" "$dir/pg-ca.crt"
    if [ "$(id -u)" = 0 ]; then chown postgres "$data/server.key" "$data/server.crt"; fi
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
    # Throwaway data: durability is not what the tests measure (the benchmark keeps fsync on).
    options="-p $port -k $data -c listen_addresses=127.0.0.1 -c max_connections=300 -c ssl=on ${MDP_PG_OPTIONS:--c fsync=off -c synchronous_commit=off -c full_page_writes=off}"
    as_owner "$bin/pg_ctl" -D "$data" -l "$data/server.log" -o "$options" -w -t 60 start >/dev/null ||
        { cat "$data/server.log" >&2; exit 1; }
    "$bin/psql" -h 127.0.0.1 -p "$port" -U mdp -d postgres -q -c "CREATE DATABASE mdp"
    echo "MDP_TEST_DATABASE_URL=postgres://mdp@127.0.0.1:$port/mdp?sslmode=disable"
    ;;
stop)
    [ -f "$data/postmaster.pid" ] && as_owner "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null || true
    ;;
*)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
