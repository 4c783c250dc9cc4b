#!/usr/bin/env bash
# Runs a command with the servers the tests need, then stops them:
# - real WebDAV servers (wsgidav, Apache mod_dav): MDP_TEST_WEBDAV=name=url,… and MDP_REQUIRE_WEBDAV=1;
# - two proxies in front of wsgidav: one injecting faults (MDP_TEST_FAULTY_WEBDAV), one a test kills mid-run
#   (MDP_TEST_MORTAL_WEBDAV);
# - a live `mdp serve` on a fresh data folder, with an admin and a sync token: MDP_TEST_API, MDP_TEST_ADMIN
#   (email:password) and MDP_TEST_SYNC_TOKEN_FILE;
# - a throwaway PostgreSQL server (Debian's package) on loopback: MDP_TEST_POSTGRES_URL, which tests take as
#   MDP_TEST_DATABASE_URL to run on PostgreSQL (a schema of their own each);
# - three SMTP servers (aiosmtpd, scripts/smtp-sink.py) writing what they receive to a folder: a plain one
#   (MDP_TEST_SMTP, MDP_TEST_SMTP_DIR; it refuses absent@manufacture.fr for good) and one that offers STARTTLS with a self-signed certificate and requires a login
#   (MDP_TEST_SMTP_SECURE with its credentials, MDP_TEST_SMTP_SECURE_DIR, MDP_TEST_SMTP_CA), and one speaking TLS
#   from the first byte (MDP_TEST_SMTPS, MDP_TEST_SMTPS_DIR; same certificate);
# - a webhook receiver verifying signatures with the `standardwebhooks` package (scripts/webhook-receiver.py):
#   MDP_TEST_WEBHOOKS (its base URL) and MDP_TEST_WEBHOOKS_DIR (what it received).
set -euo pipefail
binary=${MDP_BINARY:-.build/debug/mdp}
dir=$(mktemp -d)
chmod 755 "$dir"  # Apache's worker user must reach its document root
api_pid=""
proxy_pid=""
mortal_pid=""
smtp_pids=""
cleanup() {
    for pid in $smtp_pids; do kill "$pid" 2>/dev/null || true; done
    [ -n "$api_pid" ] && kill "$api_pid" 2>/dev/null && wait "$api_pid" 2>/dev/null || true
    [ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null || true
    [ -n "$mortal_pid" ] && kill "$mortal_pid" 2>/dev/null || true
    scripts/webdav-servers.sh stop "$dir"
    scripts/postgres-server.sh stop "$dir" || true
    rm -rf "$dir"
}
trap cleanup EXIT
line=$(scripts/webdav-servers.sh start "$dir" | tail -1)
export "${line?}"
wsgidav_url=$(echo "$line" | sed 's/.*wsgidav=\([^,]*\).*/\1/')
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
# Starts scripts/fault-proxy.py in front of wsgidav on PORT (extra arguments passed on), logs to NAME.log, and waits
# until it answers; its pid in $started_pid.
start_proxy() {
    local name=$1 port=$2
    shift 2
    python3 scripts/fault-proxy.py "$port" "$wsgidav_url" "$@" >"$dir/$name.log" 2>&1 &
    started_pid=$!
    local deadline=$((SECONDS + 30))
    until curl -s -o /dev/null "http://127.0.0.1:$port/"; do
        if [ $SECONDS -ge $deadline ]; then cat "$dir/$name.log"; exit 1; fi
        sleep 0.1
    done
}
# A fault-injecting proxy in front of wsgidav, and a faithful one a test kills mid-run (GET /__die): a Drive that
# goes away.
proxy_port=$(free_port)
start_proxy proxy "$proxy_port"
proxy_pid=$started_pid
export MDP_TEST_FAULTY_WEBDAV="http://127.0.0.1:$proxy_port"
mortal_port=$(free_port)
start_proxy mortal "$mortal_port" --mortal
mortal_pid=$started_pid
export MDP_TEST_MORTAL_WEBDAV="http://127.0.0.1:$mortal_port"
export MDP_REQUIRE_WEBDAV=1
line=$(scripts/postgres-server.sh start "$dir" | tail -1)
export MDP_TEST_POSTGRES_URL=${line#MDP_TEST_DATABASE_URL=} MDP_TEST_POSTGRES_CA=$dir/pg-ca.crt

# Starts scripts/smtp-sink.py on a free port (arguments passed on), writing to $dir/NAME; waits until it answers.
start_smtp() {
    local name=$1
    shift
    local port
    port=$(free_port)
    python3 scripts/smtp-sink.py "$dir/$name" "$port" "$@" >"$dir/$name.log" 2>&1 &
    smtp_pids="$smtp_pids $!"
    local deadline=$((SECONDS + 30))
    until python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), 1).close()" 2>/dev/null; do
        if [ $SECONDS -ge $deadline ]; then cat "$dir/$name.log"; exit 1; fi
        sleep 0.1
    done
    started_port=$port
}
start_smtp smtp --reject absent@manufacture.fr
export MDP_TEST_SMTP="smtp://127.0.0.1:$started_port" MDP_TEST_SMTP_DIR="$dir/smtp"
openssl req -x509 -newkey rsa:2048 -nodes -days 3 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" \
    -keyout "$dir/smtp.key" -out "$dir/smtp.crt" 2>/dev/null
start_smtp smtp-secure --starttls "$dir/smtp.crt" "$dir/smtp.key" --auth "notices:un mot de passe"
export MDP_TEST_SMTP_SECURE="smtp://notices:un%20mot%20de%20passe@127.0.0.1:$started_port" \
    MDP_TEST_SMTP_SECURE_DIR="$dir/smtp-secure" MDP_TEST_SMTP_CA="$dir/smtp.crt"
start_smtp smtps --tls "$dir/smtp.crt" "$dir/smtp.key"
export MDP_TEST_SMTPS="smtps://127.0.0.1:$started_port" MDP_TEST_SMTPS_DIR="$dir/smtps"

webhook_port=$(free_port)
python3 scripts/webhook-receiver.py "$dir/webhooks" "$webhook_port" >"$dir/webhooks.log" 2>&1 &
smtp_pids="$smtp_pids $!"
deadline=$((SECONDS + 30))
until curl -s -o /dev/null -X POST "http://127.0.0.1:$webhook_port/__mode/probe" -d ok; do
    if [ $SECONDS -ge $deadline ]; then cat "$dir/webhooks.log"; exit 1; fi
    sleep 0.1
done
export MDP_TEST_WEBHOOKS="http://127.0.0.1:$webhook_port" MDP_TEST_WEBHOOKS_DIR="$dir/webhooks"

port=$(free_port)
printf 'a long test password\n' | "$binary" admin create --email admin@test.local --data-dir "$dir/api" >/dev/null
"$binary" admin token --role sync --data-dir "$dir/api" >"$dir/sync-token"
PROGRAMME_TODAY=2024-03-15 HTTP_PORT=$port "$binary" serve --data-dir "$dir/api" >"$dir/api.log" 2>&1 &
api_pid=$!
deadline=$((SECONDS + 60))
until curl -sf "http://127.0.0.1:$port/health" >/dev/null; do
    if [ $SECONDS -ge $deadline ] || ! kill -0 "$api_pid" 2>/dev/null; then cat "$dir/api.log"; exit 1; fi
    sleep 0.1
done
export MDP_TEST_API="http://127.0.0.1:$port"
export MDP_TEST_ADMIN="admin@test.local:a long test password"
export MDP_TEST_SYNC_TOKEN_FILE="$dir/sync-token"
export MDP_TEST_BINARY="$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")"
"$@"
