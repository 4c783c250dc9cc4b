#!/usr/bin/env bash
# Two `mdp serve` instances over one throwaway PostgreSQL database, behind nginx running deploy/nginx/mdp.conf (its
# ports substituted), driven from outside by scripts/instances.py; then the audit chain is verified. Stops everything.
# Usage: scripts/instances-test.sh path/to/mdp
set -euo pipefail
binary=$(cd "$(dirname "${1:?usage: instances-test.sh path/to/mdp}")" && pwd)/$(basename "$1")
dir=$(mktemp -d)
chmod 755 "$dir"
pids=()
cleanup() {
    set +e
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
    scripts/nginx-site.sh stop "$dir"
    scripts/postgres-server.sh stop "$dir"
    rm -rf "$dir"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
wait_for() {  # wait_for URL PID LOG: polls with a deadline
    local deadline=$((SECONDS + 180))
    until curl -sf "$1" >/dev/null; do
        if [ $SECONDS -ge $deadline ] || ! kill -0 "$2" 2>/dev/null; then cat "$3"; exit 1; fi
        sleep 0.2
    done
}

line=$(scripts/postgres-server.sh start "$dir" | tail -1)
database_url=${line#MDP_TEST_DATABASE_URL=}
export DATABASE_URL=$database_url HTTP_TRUSTED_PROXIES=127.0.0.1 PROGRAMME_TODAY=2024-03-15
front=$(free_port) a=$(free_port) b=$(free_port)

# The first instance loads the demo into the database; the second finds it there.
HTTP_PORT=$a "$binary" serve --demo --data-dir "$dir/a" >"$dir/a.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$a/health" "${pids[0]}" "$dir/a.log"
HTTP_PORT=$b "$binary" serve --data-dir "$dir/b" >"$dir/b.log" 2>&1 &
pids+=($!)
disown "${pids[1]}"  # killed on purpose below: no job notice
wait_for "http://127.0.0.1:$b/health" "${pids[1]}" "$dir/b.log"

# nginx with the deploy site as shipped (TLS on loopback, a self-signed certificate), only its ports changed.
plain=$(free_port)
ca=$(scripts/nginx-site.sh start "$dir" "$front" "$plain" "$a" "$b")
export SSL_CERT_FILE=$ca CURL_CA_BUNDLE=$ca

python3 scripts/instances.py "https://127.0.0.1:$front" "http://127.0.0.1:$a" "http://127.0.0.1:$b" \
    "$dir/a/demo-logins.txt" "${pids[1]}"
"$binary" audit verify
echo "instances: nginx sent $(grep -c '" 502 ' "$dir/nginx/log/access.log" || true) answers 502 of $(wc -l <"$dir/nginx/log/access.log") requests"
